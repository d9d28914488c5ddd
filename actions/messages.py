"""The message a reminder becomes when it is sent, built from the data as it is then: None
when the reminder no longer applies (the action was done, the review moved, the row is
gone). Each occasion has its builder; the email templates are emails/<occasion>.txt/.html."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.urls import reverse
from django.utils import timezone

from actions import followups, notifications, recipients
from actions.models import ActionItem, Finding, FollowUp, FollowUpNote, Occasion, Reminder
from actions.occasions import ACTION_DUE_NOTICES, PREPARATION_NOTICES
from actions.templatetags.due import days_overdue
from reviews.cadence import cadence_for, next_review_due
from reviews.models import (
    Participant,
    ParticipantRole,
    Phase,
    ReviewSession,
    SessionKind,
    Workload,
)


@dataclass
class Message:
    subject: str
    template: str  # emails/<template>.txt and .html
    context: dict[str, Any]
    path: str  # the page to act on
    summary: str  # one line for the in-app notification


def _days_in_words(days: int) -> str:
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    return f"in {days} days"


def _checklist(participant: Participant) -> list[tuple[str, bool]]:
    return [
        ("Read the workload's documentation", participant.read_documentation),
        ("Bring current metrics", participant.brought_metrics),
        ("Confirm that you will attend", participant.confirmed_attendance),
    ]


def _participant(reminder: Reminder) -> Participant | None:
    return (
        Participant.objects.select_related("session__workload", "user")
        .filter(session_id=reminder.payload["session"], user_id=reminder.recipient_id)
        .first()
    )


def with_article(words: str) -> str:
    """ "a batch workload", "an internal application"."""
    return f"{'an' if words[:1].lower() in 'aeiou' else 'a'} {words}"


# What each phase asks of whom, for the phase-start announcement.
PHASE_ASKS = {
    Phase.PREPARATION: "Read the workload's documentation, bring current metrics and confirm "
    "that you will attend.",
    Phase.ANALYSIS: "Rate the findings: the workload owner and finance their business impact, "
    "the engineers their technical effort.",
    Phase.ACTION_PLAN: "Turn the prioritised findings into actions, each with an owner, a due "
    "date and a measurable outcome, then publish the plan.",
}


def _build_phase_start(reminder: Reminder, today: date) -> Message | None:
    participant = _participant(reminder)
    phase = reminder.payload["phase"]
    if participant is None or participant.role == ParticipantRole.OBSERVER:
        return None
    session = participant.session
    if session.phase != phase:
        return None  # moved on meanwhile: the next phase has its own announcement
    workload = session.workload
    if phase == Phase.PREPARATION:
        due_on = timezone.localdate(session.review_starts_at) if session.review_starts_at else None
        path = reverse("reviews:session_detail", args=[session.uuid])
        subject = f"Preparation starts for the {workload.name} review"
    elif phase == Phase.ANALYSIS:
        due_on = session.analysis_due_on
        path = reverse("actions:analysis", args=[session.uuid])
        subject = f"The analysis of the {workload.name} review starts: rate its findings"
    else:
        due_on = session.action_plan_due_on
        path = reverse("actions:plan", args=[session.uuid])
        subject = f"The action plan of the {workload.name} review starts"
    return Message(
        subject=subject,
        template="phase_start",
        context={
            "session": session,
            "workload": workload,
            "participant": participant,
            "phase": phase,
            "phase_label": Phase(phase).label,
            "ask": PHASE_ASKS[phase],
            "due_on": due_on,
        },
        path=path,
        summary=f"{Phase(phase).label} of the {workload.name} review: {PHASE_ASKS[phase]}",
    )


def _overtaken(reminder: Reminder, days: int, notices: tuple[int, int]) -> bool:
    """A notice that goes out later than its day (moved past a team's day off, or found
    late) and no longer says what it meant: the early one when the late one is due too,
    the late one once the date has passed (what comes next has its own reminder)."""
    early, late = notices
    return days < 0 or (reminder.payload.get("notice") == early and days <= late)


def _build_preparation(reminder: Reminder, today: date) -> Message | None:
    participant = _participant(reminder)
    if participant is None or participant.is_ready:
        return None
    session = participant.session
    if session.phase != Phase.PREPARATION or session.review_starts_at is None:
        return None
    review_on = timezone.localdate(session.review_starts_at)
    if review_on.isoformat() != reminder.payload["review_on"]:
        return None  # moved: the new date has reminders of its own
    days = (review_on - today).days
    if _overtaken(reminder, days, PREPARATION_NOTICES):
        return None
    checklist = _checklist(participant)
    left = sum(1 for _, done in checklist if not done)
    return Message(
        subject=f"Prepare for the {session.workload.name} review {_days_in_words(days)}",
        template="preparation",
        context={
            "session": session,
            "workload": session.workload,
            "participant": participant,
            "checklist": checklist,
            "days": days,
            "when": _days_in_words(days),
        },
        path=reverse("reviews:session_detail", args=[session.uuid]),
        summary=f"{left} preparation step{'s' if left != 1 else ''} left before the review of "
        f"{session.workload.name} {_days_in_words(days)}.",
    )


def _build_review_tomorrow(reminder: Reminder, today: date) -> Message | None:
    participant = _participant(reminder)
    if participant is None:
        return None
    session = participant.session
    if session.phase not in (Phase.PREPARATION, Phase.REVIEW) or not session.review_starts_at:
        return None
    if timezone.localdate(session.review_starts_at).isoformat() != reminder.payload["review_on"]:
        return None
    if timezone.localdate(session.review_starts_at) < today:
        return None  # moved past a day off beyond the review
    day = "Today" if timezone.localdate(session.review_starts_at) == today else "Tomorrow"
    return Message(
        subject=f"{day}: the Well-Architected review of {session.workload.name}",
        template="review_tomorrow",
        context={
            "session": session,
            "workload": session.workload,
            "participant": participant,
            "checklist": _checklist(participant),
            "live_path": reverse("reviews:session_live", args=[session.uuid]),
        },
        path=reverse("reviews:session_detail", args=[session.uuid]),
        summary=f"The review of {session.workload.name} starts {day.lower()} at "
        f"{timezone.localtime(session.review_starts_at):%H:%M}.",
    )


def _session(reminder: Reminder) -> ReviewSession | None:
    return (
        ReviewSession.objects.select_related("workload")
        .filter(pk=reminder.payload["session"])
        .first()
    )


def _session_due(
    reminder: Reminder, due_field: str, phases: tuple[str, ...]
) -> tuple[ReviewSession, date] | None:
    """The session whose `due_field` date the reminder was for, while it is still that date
    and the session is in one of `phases`; with that date."""
    session = _session(reminder)
    if session is None or session.phase not in phases:
        return None
    due_on = getattr(session, due_field)
    if due_on is None or due_on.isoformat() != reminder.payload["due_on"]:
        return None
    return session, due_on


def _due_subject(what: str, due_on: date, late: int) -> str:
    return f"{what} is due" + (" today" if late <= 0 else f" since {due_on:%-d %B}")


def _build_analysis_due(reminder: Reminder, today: date) -> Message | None:
    due = _session_due(reminder, "analysis_due_on", (Phase.REVIEW, Phase.ANALYSIS))
    if due is None:
        return None
    session, due_on = due
    late = (today - due_on).days
    return Message(
        subject=_due_subject(f"The analysis of {session.title}", due_on, late),
        template="analysis_due",
        context={
            "session": session,
            "workload": session.workload,
            "late": late,
            "workload_kind": with_article(session.workload.get_workload_type_display().lower()),
        },
        path=reverse("actions:analysis", args=[session.uuid]),
        summary=f"Prioritise the findings of {session.workload.name} by business impact and "
        "technical effort.",
    )


def _build_action_plan_due(reminder: Reminder, today: date) -> Message | None:
    due = _session_due(
        reminder, "action_plan_due_on", (Phase.REVIEW, Phase.ANALYSIS, Phase.ACTION_PLAN)
    )
    if due is None or due[0].plan_published_at is not None:
        return None
    session, due_on = due
    late = (today - due_on).days
    return Message(
        subject=_due_subject(f"The action plan of {session.title}", due_on, late),
        template="action_plan_due",
        context={"session": session, "workload": session.workload, "late": late},
        path=reverse("actions:plan", args=[session.uuid]),
        summary=f"Give each action of {session.workload.name} an owner and a due date, then "
        "publish the plan.",
    )


def _action(reminder: Reminder) -> ActionItem | None:
    action = (
        ActionItem.objects.select_related("workload", "session", "owner")
        .filter(pk=reminder.payload["action"])
        .first()
    )
    if action is None or not action.is_open or action.owner_id != reminder.recipient_id:
        return None
    if action.due_on is None or action.due_on.isoformat() != reminder.payload["due_on"]:
        return None
    return action


def _action_path(action: ActionItem) -> str:
    return reverse("actions:action_detail", args=[action.uuid])


def _build_action_due(reminder: Reminder, today: date) -> Message | None:
    action = _action(reminder)
    if action is None or action.due_on is None:
        return None
    days = (action.due_on - today).days
    if _overtaken(reminder, days, ACTION_DUE_NOTICES):
        return None
    return Message(
        subject=f"Due {_days_in_words(days)}: {action.title}",
        template="action_due",
        context={
            "action": action,
            "workload": action.workload,
            "days": days,
            "when": _days_in_words(days),
        },
        path=_action_path(action),
        summary=f"{action.title} ({action.workload.name}) is due {_days_in_words(days)}, "
        f"{action.percent_complete}% done.",
    )


def overdue_for(user_id: int, today: date) -> tuple[list[ActionItem], list[ActionItem]]:
    """What is overdue for a person now, blocked actions aside: their own actions, and the
    actions of plans they facilitate overdue for their team's escalation weeks."""
    overdue = (
        ActionItem.objects.overdue(today)
        .exclude(status=ActionItem.Status.BLOCKED)
        .select_related("workload__team", "owner")
        .order_by("due_on", "pk")
    )
    own = list(overdue.filter(owner_id=user_id))
    facilitated = overdue.filter(
        session__participants__user_id=user_id,
        session__participants__role=ParticipantRole.FACILITATOR,
    ).exclude(owner_id=user_id)
    escalated = [
        action
        for action in facilitated
        if (days_overdue(action, today) - 1) // 7 >= action.workload.team.overdue_escalation_weeks
    ]
    return own, escalated


def _build_action_overdue(reminder: Reminder, today: date) -> Message | None:
    """The bundle, computed when it is sent: what is overdue for the person then."""
    own, escalated = overdue_for(reminder.recipient_id, today)
    if not own and not escalated:
        return None
    if len(own) == 1 and not escalated:
        action = own[0]
        days = days_overdue(action, today)
        subject = f"Overdue by {days} day{'s' if days != 1 else ''}: {action.title}"
        path = _action_path(action)
    else:
        count = len(own) + len(escalated)
        subject = f"{count} overdue action{'s' if count != 1 else ''}"
        mine = reverse("actions:my_actions") + "?filtered=1&due=overdue"
        path = mine if own else _action_path(escalated[0])
    titles = ", ".join(a.title for a in own + escalated)
    return Message(
        subject=subject,
        template="action_overdue",
        context={"own": own, "escalated": escalated, "today": today},
        path=path,
        summary=f"Overdue: {titles}. Finish, mark blocked and say why, or move the due date.",
    )


def _build_actions_blocked(reminder: Reminder, today: date) -> Message | None:
    year, week, _ = today.isocalendar()
    if reminder.payload.get("week", "") < f"{year}-W{week:02d}":
        return None  # moved past a day off into the next week, which has its own
    blocked = list(
        ActionItem.objects.filter(
            status=ActionItem.Status.BLOCKED,
            session__participants__user_id=reminder.recipient_id,
            session__participants__role=ParticipantRole.FACILITATOR,
        )
        .select_related("workload", "owner")
        .order_by("due_on", "pk")
        .distinct()
    )
    if not blocked:
        return None
    count = len(blocked)
    return Message(
        subject=f"{count} action{'s' if count != 1 else ''} blocked on the plans you facilitate",
        template="actions_blocked",
        context={"blocked": blocked},
        path=_action_path(blocked[0]) if count == 1 else reverse("actions:dashboard"),
        summary="Blocked: " + ", ".join(f"{a.title} ({a.workload.name})" for a in blocked) + ".",
    )


def _build_follow_up_digest(reminder: Reminder, today: date) -> Message | None:
    follow_up = (
        FollowUp.objects.select_related("session__workload__owner")
        .filter(pk=reminder.payload["follow_up"])
        .first()
    )
    if follow_up is None or follow_up.is_held:
        return None
    session, workload = follow_up.session, follow_up.session.workload
    if reminder.recipient_id not in followups.follow_up_series([session.pk])[session.pk]:
        return None
    digest = followups.digest(follow_up, today=today)
    # Keep where each action stands, so next month's digest can tell what moved.
    followups.digest_snapshot(follow_up=follow_up, snapshot=digest.snapshot)
    return Message(
        subject=f"Monthly follow-up of {workload.name}: {digest.headline}",
        template="follow_up_digest",
        context={
            "follow_up": follow_up,
            "session": session,
            "workload": workload,
            "digest": digest,
        },
        path=reverse("actions:followup", args=[follow_up.uuid]),
        summary=f"Follow-up {follow_up.number} of {workload.name} is due: {digest.headline}.",
    )


def _build_follow_up_nudge(reminder: Reminder, today: date) -> Message | None:
    follow_up = (
        FollowUp.objects.select_related("session__workload")
        .filter(pk=reminder.payload["follow_up"])
        .first()
    )
    if follow_up is None or follow_up.is_held:
        return None
    session, workload = follow_up.session, follow_up.session.workload
    late = (today - follow_up.due_on).days
    return Message(
        subject=f"Follow-up {follow_up.number} of {workload.name} has not been held",
        template="follow_up_nudge",
        context={"follow_up": follow_up, "session": session, "workload": workload, "late": late},
        path=reverse("actions:followup", args=[follow_up.uuid]),
        summary=f"Follow-up {follow_up.number} of {workload.name} was due on "
        f"{follow_up.due_on:%-d %B}: hold it, or finish it with a note.",
    )


def _build_next_review_due(reminder: Reminder, today: date) -> Message | None:
    workload = Workload.objects.filter(pk=reminder.payload["workload"]).first()
    if workload is None or workload.next_review_due_on is None:
        return None
    if workload.next_review_due_on.isoformat() != reminder.payload["due_on"]:
        return None
    if workload.sessions.filter(phase__in=[Phase.PREPARATION, Phase.REVIEW]).exists():
        return None  # planned meanwhile
    days = (workload.next_review_due_on - today).days
    _, kind = next_review_due(workload, after=today)
    return Message(
        subject=f"The next review of {workload.name} is due"
        + (f" in {days} days" if days > 0 else " now"),
        template="next_review_due",
        context={
            "workload": workload,
            "days": days,
            "cadence": cadence_for(workload),
            "kind": SessionKind(kind).label,
            "cadence_path": reverse("reviews:workload_cadence", args=[workload.uuid]),
        },
        path=reverse("reviews:session_create", args=[workload.uuid]),
        summary=f"Schedule the next review of {workload.name}: due on "
        f"{workload.next_review_due_on:%-d %B %Y}.",
    )


def _build_risk_expiring(reminder: Reminder, today: date) -> Message | None:
    finding = (
        Finding.objects.select_related("session__workload", "question", "accepted_by")
        .filter(pk=reminder.payload["finding"])
        .first()
    )
    if finding is None or finding.accepted_at is None or finding.resolved_at is not None:
        return None
    if (
        finding.accepted_until is None
        or finding.accepted_until.isoformat() != (reminder.payload["until"])
    ):
        return None
    session = finding.session
    days = (finding.accepted_until - today).days
    return Message(
        subject=f"A risk accepted on {session.workload.name} expires {_days_in_words(days)}",
        template="risk_expiring",
        context={
            "finding": finding,
            "session": session,
            "workload": session.workload,
            "days": days,
            "when": _days_in_words(days),
        },
        path=reverse("actions:analysis", args=[session.uuid]),
        summary=f"“{finding.question.title}” was accepted as a risk until "
        f"{finding.accepted_until:%-d %B}: review it again or act on it.",
    )


def _build_follow_up_summary(reminder: Reminder, today: date) -> Message | None:
    follow_up = (
        FollowUp.objects.select_related("session__workload", "held_by")
        .filter(pk=reminder.payload["follow_up"])
        .first()
    )
    if follow_up is None or not follow_up.is_held:
        return None
    session = follow_up.session
    notes = list(
        FollowUpNote.objects.filter(follow_up=follow_up)
        .select_related("action__owner")
        .order_by("action__due_on", "action__created_at")
    )
    digest = followups.digest(follow_up, today=today)
    return Message(
        subject=f"Follow-up {follow_up.number} of {session.workload.name}: {digest.headline}",
        template="follow_up_summary",
        context={
            "follow_up": follow_up,
            "session": session,
            "workload": session.workload,
            "notes": notes,
            "digest": digest,
        },
        path=reverse("actions:followup", args=[follow_up.uuid]),
        summary=f"Follow-up {follow_up.number} of {session.workload.name} was held: "
        f"{digest.headline}.",
    )


# Occasions whose wording depends on the day ("Due in 7 days"): the weekly digest words
# them again on the day it is sent.
DATED_OCCASIONS = {
    Occasion.PREPARATION,
    Occasion.REVIEW_TOMORROW,
    Occasion.ANALYSIS_DUE,
    Occasion.ACTION_PLAN_DUE,
    Occasion.ACTION_DUE,
    Occasion.ACTION_OVERDUE,
    Occasion.NEXT_REVIEW_DUE,
    Occasion.RISK_EXPIRING,
}


def _build_weekly_digest(reminder: Reminder, today: date) -> Message | None:
    items = list(
        notifications.awaiting_digest(
            user_id=reminder.recipient_id, until=reminder.created_at
        ).select_related("reminder")
    )
    if not items:
        return None
    for item in items:
        if item.reminder is not None and item.occasion in DATED_OCCASIONS:
            fresh = BUILDERS[item.occasion](item.reminder, today)
            if fresh is None:
                item.title = f"{item.title} (no longer applies)"
            else:
                item.title, item.body = fresh.subject, fresh.summary
    return Message(
        subject=f"Your week in Pillarwise: {len(items)} update{'s' if len(items) != 1 else ''}",
        template="weekly_digest",
        context={"items": items, "week": reminder.payload.get("week", "")},
        path=reverse("actions:notifications"),
        summary="",
    )


BUILDERS: dict[str, Callable[[Reminder, date], Message | None]] = {
    Occasion.PHASE_START: _build_phase_start,
    Occasion.PREPARATION: _build_preparation,
    Occasion.REVIEW_TOMORROW: _build_review_tomorrow,
    Occasion.ANALYSIS_DUE: _build_analysis_due,
    Occasion.ACTION_PLAN_DUE: _build_action_plan_due,
    Occasion.ACTION_DUE: _build_action_due,
    Occasion.ACTION_OVERDUE: _build_action_overdue,
    Occasion.ACTIONS_BLOCKED: _build_actions_blocked,
    Occasion.FOLLOW_UP_DIGEST: _build_follow_up_digest,
    Occasion.FOLLOW_UP_SUMMARY: _build_follow_up_summary,
    Occasion.FOLLOW_UP_NUDGE: _build_follow_up_nudge,
    Occasion.NEXT_REVIEW_DUE: _build_next_review_due,
    Occasion.RISK_EXPIRING: _build_risk_expiring,
    Occasion.WEEKLY_DIGEST: _build_weekly_digest,
}


def build_message(reminder: Reminder, *, today: date | None = None) -> Message | None:
    """The message for a reminder from the data as it is now; None when it no longer
    applies (done meanwhile, moved, deleted) or when its recipient may no longer receive it
    (they left the team: actions.recipients)."""
    message = BUILDERS[reminder.occasion](reminder, today or timezone.localdate())
    if message is not None and not recipients.may_receive(reminder.recipient_id, message):
        return None
    return message
