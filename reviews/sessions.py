"""Review sessions: planning one (its phase dates from the seeds' cadence, lenses, answers,
pillar budgets), moving it through its phases (closing one proposes the next review), a
post-incident review, its schedule, participants, the preparation checklist and the progress
shown on its page. One transaction each."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from questionnaires.models import BUILTIN_LIBRARY, Lens, Question
from questionnaires.risk import Risk
from reviews import audit, events
from reviews.access import OPEN_PHASES, Right, session_rights
from reviews.cadence import (
    ACTION_PLAN_DAYS,
    ANALYSIS_DAYS,
    PREPARATION_DAYS,
    cadence_plan_next,
    post_incident_start,
)
from reviews.errors import ServiceError
from reviews.eventkinds import EventKind
from reviews.lenslibrary import team_library
from reviews.lightreview import light_plan, light_prefill
from reviews.models import (
    PHASE_MOVES,
    PHASE_ORDER,
    Answer,
    AuditEntry,
    BlindRound,
    Participant,
    ParticipantRole,
    Phase,
    PhaseChange,
    PillarBudget,
    ReviewSession,
    ReviewTemplate,
    SessionKind,
    SessionLens,
    Workload,
)
from reviews.reviewtemplates import template_lens_for, template_prefill


def plan_dates(
    review_starts_at: datetime, *, preparation_days: int = PREPARATION_DAYS
) -> dict[str, date]:
    """Each phase's planned dates around the review itself, from the seeds' cadence."""
    review_day = timezone.localdate(review_starts_at)
    analysis = review_day + timedelta(days=ANALYSIS_DAYS)
    return {
        "preparation_starts_on": review_day - timedelta(days=preparation_days),
        "analysis_due_on": analysis,
        "action_plan_due_on": analysis + timedelta(days=ACTION_PLAN_DAYS),
    }


@transaction.atomic
def session_create(
    *,
    workload: Workload,
    user: User,
    title: str,
    kind: str,
    review_starts_at: datetime,
    lenses: Iterable[Lens] = (),
    review_duration_minutes: int = 300,
    template: ReviewTemplate | None = None,
    **dates: date | None,
) -> ReviewSession:
    """Create a review session in preparation, with the framework lens first and the chosen
    lenses after it (each pinned to its current version), an empty answer for every
    question, a time budget per pillar and the creator as facilitator. With a `template`
    (the team's), its lens is part of the review and its answers are pre-filled.

    A light review (SessionKind.MONTHLY_LIGHT) has a short questionnaire instead, pre-filled
    from the last full review (see reviews.lightreview); `lenses` do not apply to it."""
    light = None
    if kind == SessionKind.MONTHLY_LIGHT:
        if template is not None:
            raise ServiceError(
                "A light review starts from the last review's answers, not from a template.",
                field="template",
            )
        light = light_plan(workload)
        chosen = light.lenses
    else:
        framework = Lens.objects.filter(is_framework=True).order_by("-version").first()
        chosen = [framework] if framework else []
        chosen += [lens for lens in lenses if lens not in chosen]
    if template is not None:
        lens = template_lens_for(template, chosen)
        if lens is not None and lens not in chosen:
            chosen.append(lens)
    own = team_library(workload.team)
    foreign = [lens.name for lens in chosen if lens.library not in (BUILTIN_LIBRARY, own)]
    if foreign:
        raise ServiceError(f"“{foreign[0]}” is not in this team's lens library.")
    if not chosen:
        raise ServiceError("No lens is loaded: run `python manage.py load_lenses` first.")
    planned = plan_dates(review_starts_at)
    planned.update({key: value for key, value in dates.items() if value})
    session = ReviewSession.objects.create(
        workload=workload,
        title=title,
        kind=kind,
        review_starts_at=review_starts_at,
        review_duration_minutes=review_duration_minutes,
        created_by=user,
        follows=light.follows if light else None,
        **planned,
    )
    SessionLens.objects.bulk_create(
        SessionLens(session=session, lens=lens, order=i) for i, lens in enumerate(chosen)
    )
    rows = Question.objects.filter(pillar__lens__in=chosen)
    if light is not None:
        rows = rows.filter(pk__in=light.question_ids)
    questions = list(
        rows.select_related("pillar").order_by("pillar__lens_id", "pillar__order", "order")
    )
    Answer.objects.bulk_create(Answer(session=session, question=q) for q in questions)
    per_pillar: dict[int, int] = {}
    for q in questions:
        per_pillar[q.pillar_id] = per_pillar.get(q.pillar_id, 0) + 1
    minutes_per_question = review_duration_minutes / max(len(questions), 1)
    PillarBudget.objects.bulk_create(
        PillarBudget(
            session=session,
            pillar_id=pillar_id,
            minutes=max(1, round(count * minutes_per_question)),
        )
        for pillar_id, count in per_pillar.items()
    )
    Participant.objects.create(session=session, user=user, role=ParticipantRole.FACILITATOR)
    PhaseChange.objects.create(session=session, from_phase="", to_phase=Phase.PREPARATION, by=user)
    if template is not None:
        template_prefill(session=session, template=template, user=user)
    if light is not None:
        light_prefill(session=session, follows=light.follows, user=user)
    return session


@transaction.atomic
def session_move(*, session: ReviewSession, user: User, to_phase: str) -> ReviewSession:
    """Move a review to another phase. Only its facilitator may, only along PHASE_MOVES, and
    follow-up needs a published action plan. Each move is recorded with who and when."""
    session = (
        ReviewSession.objects.select_for_update(of=("self",))
        .select_related("workload")
        .get(pk=session.pk)
    )
    if not session_rights(session, user).has(Right.RUN_SESSION):
        raise ServiceError(
            "Only the facilitator or a team admin can move the review to another phase."
        )
    if to_phase not in Phase.values:
        raise ServiceError(f"“{to_phase}” is not a phase.")
    current, target = Phase(session.phase), Phase(to_phase)
    allowed = PHASE_MOVES[session.phase]
    if to_phase not in allowed:
        if not allowed:
            raise ServiceError("This review is closed: it cannot move to another phase.")
        options = " or ".join(Phase(p).label.lower() for p in allowed)
        raise ServiceError(
            f"A review in {current.label.lower()} cannot move to {target.label.lower()}; "
            f"it can move to {options}."
        )
    if target in OPEN_PHASES and current not in OPEN_PHASES:
        raise ServiceError("Answers are closed: reopen the review, with a reason, to change them.")
    if target == Phase.FOLLOW_UP and session.plan_published_at is None:
        raise ServiceError("Publish the action plan before moving the review to follow-up.")
    now = timezone.now()
    fields = ["phase"]
    if current == Phase.REVIEW and session.focus_question_id:
        session.stop_focus_clock(now)
        fields += ["focus_question", "focus_since"]
    if current in OPEN_PHASES and target not in OPEN_PHASES:
        # Answers close: a blind round left open ends unrevealed, its picks kept.
        BlindRound.objects.filter(session=session, closed_at__isnull=True).update(closed_at=now)
    if current == Phase.PREPARATION and target == Phase.REVIEW:
        fields += _started_early(session, now)
    if target == Phase.CLOSED:
        session.closed_at = now
        fields.append("closed_at")
        _propose_next_review(session.workload, after=timezone.localdate(now))
    session.phase = to_phase
    session.save(update_fields=fields)
    PhaseChange.objects.create(session=session, from_phase=current, to_phase=target, by=user)
    _phase_entered(session, current)
    events.publish_on_commit(session.uuid, EventKind.PHASE, phase=to_phase)
    return session


def _started_early(session: ReviewSession, now: datetime) -> list[str]:
    """A review that starts before its planned day starts now: its date moves to the real
    start, and the planned one is kept (the first plan, should it start early twice). The
    fields changed."""
    planned = session.review_starts_at
    if planned is None or timezone.localdate(now) >= timezone.localdate(planned):
        return []
    if session.review_planned_at is None:
        session.review_planned_at = planned
    session.review_starts_at = now.replace(microsecond=0)
    return ["review_starts_at", "review_planned_at"]


# Called (in the move's transaction) with the session and the phase it left, after every phase
# change. The findings of the analysis register here (actions uses reviews, never the reverse).
PHASE_HOOKS: list[Callable[..., None]] = []


def _phase_entered(session: ReviewSession, left: str) -> None:
    for hook in PHASE_HOOKS:
        hook(session=session, left=left)


REOPEN_REASON_MAX_LENGTH = 500


@transaction.atomic
def session_reopen(*, session: ReviewSession, user: User, reason: str) -> ReviewSession:
    """Reopen the review: the phase goes back to review, so answers, blind rounds, focus and
    the parking lot open again. The facilitator or a team admin, with a reason, recorded in the
    phase history and the audit log."""
    session = (
        ReviewSession.objects.select_for_update(of=("self",))
        .select_related("workload")
        .get(pk=session.pk)
    )
    if not session_rights(session, user).has(Right.RUN_SESSION):
        raise ServiceError("Only the facilitator or a team admin can reopen the review.")
    reason = " ".join(reason.split())
    if not reason:
        raise ServiceError("Say why the review is reopened.", field="reason")
    if len(reason) > REOPEN_REASON_MAX_LENGTH:
        raise ServiceError(
            f"Keep the reason to {REOPEN_REASON_MAX_LENGTH} characters ({len(reason)}).",
            field="reason",
        )
    current = Phase(session.phase)
    if current in OPEN_PHASES:
        raise ServiceError("The review is open: there is nothing to reopen.")
    if current == Phase.CLOSED:
        raise ServiceError("This review is closed: plan a new review instead.")
    session.phase = Phase.REVIEW
    session.save(update_fields=["phase"])
    PhaseChange.objects.create(
        session=session, from_phase=current, to_phase=Phase.REVIEW, by=user, reason=reason
    )
    audit_reopen(session=session, user=user, from_phase=current, reason=reason)
    _phase_entered(session, current)
    events.publish_on_commit(session.uuid, EventKind.PHASE, phase=Phase.REVIEW)
    return session


def audit_reopen(*, session: ReviewSession, user: User, from_phase: str, reason: str) -> None:
    """Record a reopening in the team's audit log, in the reopening's transaction."""
    audit.record(
        team=session.workload.team_id,
        actor=user,
        action=AuditEntry.Action.SESSION_REOPENED,
        subject=session.title,
        session=str(session.uuid),
        from_phase=from_phase,
        reason=reason,
    )


def plain_moves(session: ReviewSession) -> tuple[str, ...]:
    """The moves the phase buttons offer: going back to answering is a reopening instead."""
    return tuple(
        p for p in session.allowed_moves() if session.phase in OPEN_PHASES or p not in OPEN_PHASES
    )


def can_reopen(session: ReviewSession) -> bool:
    """Whether the phase allows reopening the review (who may: access.Right.RUN_SESSION)."""
    return session.phase not in OPEN_PHASES and session.phase != Phase.CLOSED


def _propose_next_review(workload: Workload, *, after: date) -> None:
    cadence_plan_next(workload=workload, after=after)


# --- Post-incident reviews ------------------------------------------------------------------

INCIDENT_SUMMARY_MAX_LENGTH = 100


@transaction.atomic
def incident_record(
    *, workload: Workload, user: User, occurred_on: date, summary: str
) -> ReviewSession:
    """Record a major incident: schedule a post-incident review within two weeks (see
    post_incident_start), facilitated by `user`, with the workload owner taking part.
    Preparation starts today."""
    summary = " ".join(summary.split())
    today = timezone.localdate()
    if not summary:
        raise ServiceError("Say in a sentence what happened.")
    if len(summary) > INCIDENT_SUMMARY_MAX_LENGTH:
        raise ServiceError(
            f"Keep the summary to {INCIDENT_SUMMARY_MAX_LENGTH} characters ({len(summary)})."
        )
    if occurred_on > today:
        raise ServiceError("The incident date cannot be in the future.")
    title = f"Post-incident review ({occurred_on.day} {occurred_on:%b %Y}): {summary}"
    session = session_create(
        workload=workload,
        user=user,
        title=title[:150],
        kind=SessionKind.POST_INCIDENT,
        review_starts_at=post_incident_start(occurred_on, today=today),
        preparation_starts_on=today,
    )
    if workload.owner_id and workload.owner_id != user.pk:
        Participant.objects.create(
            session=session, user_id=workload.owner_id, role=ParticipantRole.WORKLOAD_OWNER
        )
    return session


# --- Plan, participants, preparation ----------------------------------------------------------


@transaction.atomic
def session_update_plan(*, session: ReviewSession, user: User, **fields: Any) -> ReviewSession:
    """Change the title and the planned dates of a session."""
    allowed = {
        "title",
        "kind",
        "preparation_starts_on",
        "review_starts_at",
        "review_duration_minutes",
        "analysis_due_on",
        "action_plan_due_on",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ServiceError(f"Cannot change {', '.join(sorted(unknown))} here.")
    light = SessionKind.MONTHLY_LIGHT
    if "kind" in fields and (fields["kind"] == light) != (session.kind == light):
        # A light review's questionnaire is made when it is planned (reviews.lightreview).
        raise ServiceError(
            "A review cannot become a light review or stop being one: plan a new review.",
            field="kind",
        )
    for name, value in fields.items():
        setattr(session, name, value)
    session.save(update_fields=list(fields))
    return session


@transaction.atomic
def budgets_update(*, session: ReviewSession, minutes: dict[int, int]) -> None:
    """Set the time budget (minutes) of each pillar, keyed by pillar id."""
    for budget in PillarBudget.objects.select_for_update().filter(session=session):
        if budget.pillar_id in minutes and minutes[budget.pillar_id] != budget.minutes:
            budget.minutes = minutes[budget.pillar_id]
            budget.save(update_fields=["minutes"])
    events.publish_on_commit(session.uuid, EventKind.BUDGETS)


@transaction.atomic
def checklist_update(
    *,
    participant: Participant,
    read_documentation: bool,
    brought_metrics: bool,
    confirmed_attendance: bool,
) -> Participant:
    participant.read_documentation = read_documentation
    participant.brought_metrics = brought_metrics
    participant.confirmed_attendance = confirmed_attendance
    participant.save(
        update_fields=["read_documentation", "brought_metrics", "confirmed_attendance"]
    )
    events.publish_on_commit(participant.session.uuid, EventKind.PARTICIPANTS)
    return participant


@transaction.atomic
def participant_change_role(*, participant: Participant, role: str) -> Participant:
    if role not in ParticipantRole.values:
        raise ServiceError("Choose one of the listed roles.")
    if participant.role == ParticipantRole.FACILITATOR and role != ParticipantRole.FACILITATOR:
        others = Participant.objects.filter(
            session_id=participant.session_id, role=ParticipantRole.FACILITATOR
        ).exclude(pk=participant.pk)
        if not others.exists():
            raise ServiceError("A review needs a facilitator: make someone else facilitator first.")
    participant.role = role
    participant.save(update_fields=["role"])
    return participant


ATTENDANCE_CHOICES = {"yes": True, "no": False, "presence": None}


def participant_set_attended(*, participant: Participant, attended: str) -> Participant:
    """Record whether someone attended the review ("yes", "no"), or go back to what presence
    showed ("presence")."""
    if attended not in ATTENDANCE_CHOICES:
        raise ServiceError("Say yes, no, or as presence shows.", field="attended")
    if participant.session.phase_index < PHASE_ORDER.index(Phase.REVIEW):
        raise ServiceError("Attendance is recorded once the review has started.", field="attended")
    participant.attended = ATTENDANCE_CHOICES[attended]
    participant.save(update_fields=["attended"])
    return participant


@transaction.atomic
def participant_remove(*, participant: Participant) -> None:
    if (
        participant.role == ParticipantRole.FACILITATOR
        and not Participant.objects.filter(
            session_id=participant.session_id, role=ParticipantRole.FACILITATOR
        )
        .exclude(pk=participant.pk)
        .exists()
    ):
        raise ServiceError("A review needs a facilitator: make someone else facilitator first.")
    participant.delete()


def require_facilitator(session: ReviewSession, user: User) -> None:
    """Only who runs the session (its facilitator, or a team admin) gets past."""
    if not session_rights(session, user).has(Right.RUN_SESSION):
        raise ServiceError("Only the facilitator can do this.")


# --- Progress for the session page ---------------------------------------------------------


def risk_counts(session: ReviewSession) -> dict[str, int]:
    counts = dict(
        Answer.objects.filter(session=session)
        .values_list("risk")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {risk: counts.get(risk, 0) for risk in Risk.values}


def readiness(session: ReviewSession) -> dict[str, Any]:
    """Who is ready for the review. Observers only read: they do not prepare, so they are
    not counted."""
    participants = list(Participant.objects.filter(session=session).select_related("user"))
    preparing = [p for p in participants if p.role != ParticipantRole.OBSERVER]
    ready = [p for p in preparing if p.is_ready]
    return {"participants": participants, "ready": len(ready), "total": len(preparing)}
