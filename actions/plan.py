"""The action plan of a review: what stops it from being published, the roadmap, publishing
(a milestone, the PDF, the recap email) and sending the recap."""

from __future__ import annotations

import calendar
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from smtplib import SMTPException
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone

from actions import notifications, sendtime
from actions.documents import plan_document_request
from actions.findings import analysis_findings
from actions.milestones import long_date, milestone_create
from actions.models import ActionItem, NotificationPreference, Occasion, PlanRecap
from questionnaires.risk import Risk
from reviews.cadence import cadence_plan_next
from reviews.emails import absolute_url, send_email
from reviews.errors import ServiceError
from reviews.jobs import error_text, job_claim, job_fail, job_finish, job_queue, job_wait
from reviews.models import Milestone, Participant, Phase, ReviewSession

Mode = NotificationPreference.Mode

logger = logging.getLogger("pillarwise.plan")


@dataclass
class PlanGap:
    """What one action lacks before the plan can be published (action None: the plan)."""

    action: ActionItem | None
    missing: list[str]


def plan_actions(session: ReviewSession) -> QuerySet[ActionItem]:
    return (
        ActionItem.objects.filter(session=session)
        .select_related("owner", "finding__question__pillar", "question")
        .order_by(F("due_on").asc(nulls_last=True), "created_at")
    )


def plan_gaps(actions: Iterable[ActionItem]) -> list[PlanGap]:
    """Everything that stops publishing: no action at all, or an action (not cancelled)
    without an owner, a due date or a measurable outcome. Empty: ready to publish."""
    live = [a for a in actions if a.status != ActionItem.Status.CANCELLED]
    if not live:
        return [PlanGap(action=None, missing=["at least one action"])]
    gaps = []
    for action in live:
        missing = []
        if action.owner_id is None:
            missing.append("an owner")
        if action.due_on is None:
            missing.append("a due date")
        if not action.measurable_outcome.strip():
            missing.append("a measurable outcome")
        if missing:
            gaps.append(PlanGap(action=action, missing=missing))
    return gaps


def roadmap(actions: Iterable[ActionItem]) -> list[tuple[date | None, list[ActionItem]]]:
    """Actions (not cancelled) grouped by due month, in order; undated ones last."""
    months: dict[date | None, list[ActionItem]] = defaultdict(list)
    for action in actions:
        if action.status == ActionItem.Status.CANCELLED:
            continue
        months[action.due_on.replace(day=1) if action.due_on else None].append(action)
    return sorted(months.items(), key=lambda kv: (kv[0] is None, kv[0] or date.min))


def next_follow_up_on(published: date) -> date:
    """A month after publication (the seeds: monthly progress reviews); 31 January gives
    the last day of February."""
    year, month = (
        (published.year + 1, 1) if published.month == 12 else (published.year, published.month + 1)
    )
    return date(year, month, min(published.day, calendar.monthrange(year, month)[1]))


def _person(user: User | None) -> str:
    return (user.get_full_name() or user.username) if user else ""


def recap_context(
    session: ReviewSession, *, published_on: date
) -> tuple[dict[str, Any], list[str]]:
    """The recap email's content (JSON, frozen at publication) and its recipients."""
    participants = list(
        Participant.objects.filter(session=session).select_related("user").order_by("role")
    )
    confirmed = [p for p in participants if p.confirmed_attendance]
    attended = confirmed or participants
    infos = [i for i in analysis_findings(session) if not i.is_accepted]
    actions = [a for a in plan_actions(session) if a.status != ActionItem.Status.CANCELLED]
    workload = session.workload
    steps = []
    if session.action_plan_due_on:
        steps.append(("Action plan due", long_date(session.action_plan_due_on)))
    steps.append(("Next follow-up", long_date(next_follow_up_on(published_on))))
    if workload.next_review_due_on:
        steps.append(("Next review due", long_date(workload.next_review_due_on)))
    context = {
        "workload": workload.name,
        "session": session.title,
        "published_on": long_date(published_on),
        "plan_url": absolute_url(reverse("actions:plan", args=[session.uuid])),
        "attendees": [{"name": _person(p.user), "role": p.get_role_display()} for p in attended],
        "attendance_confirmed": bool(confirmed),
        "key_findings": [
            {
                "title": i.finding.question.title,
                "pillar": i.finding.question.pillar.name,
                "risk": Risk(i.finding.risk).label,
                "quadrant": i.position.quadrant_label,
            }
            for i in infos[:5]
        ],
        "finding_count": len(infos),
        "actions": [
            {
                "title": a.title,
                "owner": _person(a.owner),
                "due_on": long_date(a.due_on),
                "status": a.get_status_display(),
                "outcome": a.measurable_outcome,
            }
            for a in actions
        ],
        "next_steps": [{"label": label, "date": when} for label, when in steps],
    }
    recipients = sorted({p.user.email for p in participants if p.user.email})
    return context, recipients


@transaction.atomic
def plan_publish(*, session: ReviewSession, user: User) -> Milestone:
    """Publish the action plan: only in the action-plan phase and only when every action
    has an owner, a due date and a measurable outcome. Records the publication time, saves
    a milestone, asks for the PDF and queues the recap email to the participants.
    Publishing again after changes gives a new milestone and a new PDF version."""
    session = (
        ReviewSession.objects.select_for_update(of=("self",))
        .select_related("workload__team")
        .get(pk=session.pk)
    )
    if session.phase != Phase.ACTION_PLAN:
        raise ServiceError("The plan is published in the action-plan phase.")
    gaps = plan_gaps(plan_actions(session))
    if gaps:
        if gaps[0].action is None:
            raise ServiceError("Add at least one action before publishing the plan.")
        raise ServiceError(
            f"{len(gaps)} action{'s' if len(gaps) != 1 else ''} still lack an owner, a due "
            "date or a measurable outcome."
        )
    now = timezone.now()
    session.plan_published_at = now
    session.save(update_fields=["plan_published_at"])
    # The next review is known from now on, not only once this one is closed.
    cadence_plan_next(workload=session.workload, after=timezone.localdate(now))
    published = Milestone.objects.filter(session=session, kind=Milestone.Kind.PUBLISHED).count()
    name = f"Action plan published {long_date(timezone.localdate(now))}"
    if published:
        name = f"Action plan v{published + 1} published {long_date(timezone.localdate(now))}"
    milestone = milestone_create(
        workload=session.workload,
        session=session,
        user=user,
        kind=Milestone.Kind.PUBLISHED,
        name=name,
    )
    plan_document_request(session=session, user=user)
    context, recipients = recap_context(session, published_on=timezone.localdate(now))
    if recipients:
        recap = PlanRecap.objects.create(
            session=session, milestone=milestone, context=context, recipients=recipients
        )
        plan_recap_queue(recap)
    return milestone


def plan_recap_queue(recap: PlanRecap) -> None:
    """Send the recap email's task once the transaction commits."""
    PlanRecap.objects.filter(pk=recap.pk).update(queued_at=timezone.now())
    job_queue(PlanRecap, [recap.pk])


def _recap_deliver(recap: PlanRecap, now: datetime) -> datetime | None:
    """One message per recipient, never a shared To:, each in the recipient's time zone, with
    its bell entry, as the recipient chose for "Action plan published" (off: nothing). Each
    recipient done is struck off the row, so a retry after a mail error sends only the rest.
    A recipient outside their working hours (the team's hour and working days, in their zone:
    `actions.sendtime`) waits: returns the earliest time one still waits for, or None."""
    context = recap.context
    subject = f"Action plan published: {context['workload']} ({context['session']})"
    path = reverse("actions:plan", args=[recap.session.uuid])
    users = {
        p.user.email: p.user
        for p in Participant.objects.filter(session_id=recap.session_id, user__is_active=True)
        .select_related("user")
        .order_by("pk")
    }
    zones = sendtime.zones_for(user.pk for user in users.values())
    team_id = recap.session.workload.team_id
    times = sendtime.working_times(zones, team_id=team_id, now=now, zones=zones)
    waiting: list[datetime] = []
    for email in list(recap.recipients):
        user = users.get(email)
        if user is not None and times[user.pk] > now:
            waiting.append(times[user.pk])
            continue
        mode = notifications.preference_mode(user.pk, Occasion.PLAN_PUBLISHED) if user else ""
        if user is not None and mode != Mode.OFF:
            notifications.notification_for_recap(
                user=user, title=subject, url=path, via_digest=mode == Mode.WEEKLY_DIGEST
            )
        if mode in ("", Mode.EMAIL_AND_APP):
            with timezone.override(zones[user.pk] if user else None):
                send_email(to=[email], template="plan_published", context=context, subject=subject)
        recap.recipients.remove(email)
        PlanRecap.objects.filter(pk=recap.pk).update(recipients=recap.recipients)
    return min(waiting, default=None)


def plan_recap_send(*, recap_id: int) -> bool:
    """Send one recap email, at most once per claim of its job row (reviews.jobs), so
    duplicate or late messages do no harm. Mail-server trouble fails this attempt only (the
    row is tried again after a backoff); anything else fails it for good with the error.
    Returns whether this call sent it."""
    recap = job_claim(PlanRecap, recap_id)
    if recap is None:
        return False
    now = timezone.now()
    try:
        waits_until = _recap_deliver(recap, now)
    except (SMTPException, OSError) as exc:
        job_fail(recap, error_text(exc), retry=True)
        return False
    except Exception as exc:
        logger.exception("The recap email %s could not be sent", recap_id)
        job_fail(recap, error_text(exc), retry=False)
        return False
    if waits_until is not None:
        job_wait(recap, until=waits_until)
        return True
    job_finish(recap, sent_at=timezone.now())
    return True
