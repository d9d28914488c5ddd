"""Work on teams, workloads and reviews that spans several rows: one transaction each."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from questionnaires.models import Choice, Lens, Question
from questionnaires.risk import next_selection
from reviews import events
from reviews.models import (
    Answer,
    AnswerChange,
    AnswerChoice,
    Membership,
    NotApplicableReason,
    Participant,
    ParticipantRole,
    Phase,
    PhaseChange,
    PillarBudget,
    ReviewSession,
    SessionLens,
    Team,
    Workload,
)


class ServiceError(ValueError):
    """A request that the rules refuse; the message says why, for the person who asked."""


@transaction.atomic
def team_create(*, name: str, user) -> Team:
    team = Team.objects.create(name=name)
    Membership.objects.create(team=team, user=user, role=Membership.Role.ADMIN)
    return team


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str) -> Membership:
    if membership.role == Membership.Role.ADMIN and role != Membership.Role.ADMIN:
        _keep_an_admin(membership)
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    if membership.role == Membership.Role.ADMIN:
        _keep_an_admin(membership)
    membership.delete()


def _keep_an_admin(membership: Membership) -> None:
    admins = Membership.objects.select_for_update().filter(
        team_id=membership.team_id, role=Membership.Role.ADMIN
    )
    if not admins.exclude(pk=membership.pk).exists():
        raise ServiceError("A team needs at least one admin: make someone else admin first.")


# --- Review sessions -------------------------------------------------------------------------

PREPARATION_DAYS = 14  # the seeds: preparation takes one to two weeks
ANALYSIS_DAYS = 7  # analysis within a week of the review
ACTION_PLAN_DAYS = 14  # the action plan within two weeks after the analysis


def plan_dates(review_starts_at: datetime, *, preparation_days: int = PREPARATION_DAYS) -> dict:
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
    user,
    title: str,
    kind: str,
    review_starts_at: datetime,
    lenses: Iterable[Lens] = (),
    review_duration_minutes: int = 300,
    **dates,
) -> ReviewSession:
    """Create a review session in preparation, with the framework lens first and the chosen
    lenses after it (each pinned to its current version), an empty answer for every
    question, a time budget per pillar and the creator as facilitator."""
    framework = Lens.objects.filter(is_framework=True).order_by("-version").first()
    chosen = [framework] if framework else []
    chosen += [lens for lens in lenses if lens not in chosen]
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
        **planned,
    )
    SessionLens.objects.bulk_create(
        SessionLens(session=session, lens=lens, order=i) for i, lens in enumerate(chosen)
    )
    questions = list(
        Question.objects.filter(pillar__lens__in=chosen)
        .select_related("pillar")
        .order_by("pillar__lens_id", "pillar__order", "order")
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
    return session


# --- Answers ---------------------------------------------------------------------------------


class NotesConflict(ServiceError):
    """The notes changed since the editor loaded them: both texts go back to the person."""

    def __init__(self, *, answer: Answer, yours: str):
        super().__init__("Someone else changed these notes while you were editing.")
        self.answer = answer
        self.yours = yours


def _lock_answer(answer: Answer) -> Answer:
    return (
        Answer.objects.select_for_update(of=("self",))
        .select_related("session", "question")
        .get(pk=answer.pk)
    )


def _selection(answer: Answer) -> dict[str, AnswerChoice]:
    rows = AnswerChoice.objects.filter(answer=answer).select_related("choice")
    return {row.choice.ident: row for row in rows}


def _publish_answer(answer: Answer, kind: str = "answer") -> None:
    session_uuid, question_uuid = answer.session.uuid, answer.question.uuid
    transaction.on_commit(lambda: events.publish(session_uuid, kind, question=str(question_uuid)))


def _apply(answer: Answer, user, target: set[str], action_detail: str = "") -> list[AnswerChange]:
    """Make the stored selection equal `target` (the answer row is locked), recompute the
    risk and record one history row per choice added or removed."""
    question = Question.objects.prefetch_related("choices", "risk_rules").get(pk=answer.question_id)
    choices = {c.ident: c for c in question.choices.all()}
    current = _selection(answer)
    added = [ident for ident in choices if ident in target and ident not in current]
    removed = [ident for ident in current if ident not in target]
    if removed:
        AnswerChoice.objects.filter(pk__in=[current[i].pk for i in removed]).delete()
    if added:
        AnswerChoice.objects.bulk_create(
            AnswerChoice(answer=answer, choice=choices[i], selected_by=user) for i in added
        )
    selected = (set(current) - set(removed)) | set(added)
    if added:
        answer.not_applicable = False
        answer.not_applicable_reason = ""
    answer.risk = question.evaluate(selected, not_applicable=answer.not_applicable)
    answer.updated_by = user
    answer.save(
        update_fields=[
            "risk",
            "not_applicable",
            "not_applicable_reason",
            "updated_by",
            "updated_at",
        ]
    )
    changes = [
        AnswerChange(
            answer=answer,
            user=user,
            action=AnswerChange.Action.SELECT,
            detail=choices[i].title,
            risk_after=answer.risk,
        )
        for i in added
    ] + [
        AnswerChange(
            answer=answer,
            user=user,
            action=AnswerChange.Action.UNSELECT,
            detail=choices[i].title if i in choices else i,
            risk_after=answer.risk,
        )
        for i in removed
    ]
    AnswerChange.objects.bulk_create(changes)
    if added or removed:
        _publish_answer(answer)
    return changes


@transaction.atomic
def answer_toggle(*, answer: Answer, user, choice_ident: str, select: bool) -> Answer:
    """Select or unselect one choice. Two people toggling different choices of one question
    at the same moment both win: each operation changes only its own choice (and "None of
    these" clears the others, and is cleared by them)."""
    answer = _lock_answer(answer)
    choices = {
        c.ident: c.is_none_of_these
        for c in Choice.objects.filter(question_id=answer.question_id).only(
            "ident", "is_none_of_these"
        )
    }
    if choice_ident not in choices:
        raise ServiceError(f"“{choice_ident}” is not a choice of this question.")
    nones = {ident for ident, is_none in choices.items() if is_none}
    target = next_selection(_selection(answer), choice_ident, select=select, none_of_these=nones)
    _apply(answer, user, target)
    return answer


@transaction.atomic
def answer_update(*, answer: Answer, user, selected: set[str], shown: set[str]) -> Answer:
    """Apply a whole-form answer (the no-JavaScript form) as operations: only the choices
    the person changed from what their form showed are selected or unselected, so changes
    others made meanwhile to other choices stay."""
    answer = _lock_answer(answer)
    current = set(_selection(answer))
    nones = set(
        Choice.objects.filter(question_id=answer.question_id, is_none_of_these=True).values_list(
            "ident", flat=True
        )
    )
    target = set(current)
    for ident in sorted(shown - selected):
        target = next_selection(target, ident, select=False, none_of_these=nones)
    for ident in sorted(selected - shown):
        target = next_selection(target, ident, select=True, none_of_these=nones)
    _apply(answer, user, target)
    return answer


@transaction.atomic
def answer_set_exact(*, answer: Answer, user, selected: set[str]) -> Answer:
    """Set the selection to exactly `selected` (the agreed answer after a blind round)."""
    answer = _lock_answer(answer)
    nones = set(
        Choice.objects.filter(question_id=answer.question_id, is_none_of_these=True).values_list(
            "ident", flat=True
        )
    )
    if selected & nones and selected - nones:
        raise ServiceError("“None of these” cannot be agreed together with other choices.")
    _apply(answer, user, set(selected))
    AnswerChange.objects.create(
        answer=answer, user=user, action=AnswerChange.Action.AGREED, risk_after=answer.risk
    )
    return answer


@transaction.atomic
def answer_set_applicability(
    *, answer: Answer, user, not_applicable: bool, reason: str = ""
) -> Answer:
    """Mark a question as not applicable (with a reason) or applicable again. The choices
    stay stored either way; the risk is NOT_APPLICABLE while it does not apply."""
    answer = _lock_answer(answer)
    if not_applicable and reason not in NotApplicableReason.values:
        raise ServiceError("Choose why this question does not apply.")
    if answer.not_applicable == not_applicable and answer.not_applicable_reason == reason:
        return answer
    question = Question.objects.prefetch_related("risk_rules").get(pk=answer.question_id)
    answer.not_applicable = not_applicable
    answer.not_applicable_reason = reason if not_applicable else ""
    answer.risk = question.evaluate(set(_selection(answer)), not_applicable=not_applicable)
    answer.updated_by = user
    answer.save(
        update_fields=[
            "risk",
            "not_applicable",
            "not_applicable_reason",
            "updated_by",
            "updated_at",
        ]
    )
    AnswerChange.objects.create(
        answer=answer,
        user=user,
        action=AnswerChange.Action.NOT_APPLICABLE
        if not_applicable
        else AnswerChange.Action.APPLICABLE,
        detail=NotApplicableReason(reason).label if not_applicable else "",
        risk_after=answer.risk,
    )
    _publish_answer(answer)
    return answer


NOTES_MAX_LENGTH = 10_000


@transaction.atomic
def answer_save_notes(*, answer: Answer, user, text: str, base_revision: int) -> Answer:
    """Save the notes if they have not changed since `base_revision` was loaded; otherwise
    raise NotesConflict carrying both texts. Nothing is ever dropped silently."""
    answer = _lock_answer(answer)
    text = text.replace("\r\n", "\n")
    if len(text) > NOTES_MAX_LENGTH:
        raise ServiceError(f"Notes are limited to {NOTES_MAX_LENGTH:,} characters ({len(text):,}).")
    if text == answer.notes:
        return answer
    if answer.notes_revision != base_revision:
        raise NotesConflict(answer=answer, yours=text)
    answer.notes = text
    answer.notes_revision += 1
    answer.updated_by = user
    answer.save(update_fields=["notes", "notes_revision", "updated_by", "updated_at"])
    AnswerChange.objects.create(
        answer=answer,
        user=user,
        action=AnswerChange.Action.NOTES,
        detail=text[:200],
        risk_after=answer.risk,
    )
    _publish_answer(answer, kind="notes")
    return answer
