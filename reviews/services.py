"""Work on teams, workloads and reviews that spans several rows: one transaction each."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from questionnaires.models import Lens, Question
from questionnaires.risk import next_selection
from questionnaires.structure import QuestionInfo, question_info
from reviews import events
from reviews.models import (
    PHASE_MOVES,
    Answer,
    AnswerChange,
    AnswerChoice,
    ChoiceNotApplicable,
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
    """A request that the rules refuse; the message says why, for the person who asked.
    `field`, when set, names the form field the message belongs to."""

    field: str | None = None

    def add_to(self, form) -> None:
        """Show the message on the form: on its field when the form has it, else on top."""
        form.add_error(self.field if self.field in form.fields else None, str(self))


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
    """The answer row, locked for this transaction (annotated like every answer the live
    page works with)."""
    locked = Answer.objects.select_for_update(of=("self",)).with_blind_open().get(pk=answer.pk)
    locked.session = answer.session
    return locked


class BlindRoundOpen(ServiceError):
    """The question is being answered blind: the shared answer waits for the agreed one."""

    def __init__(self):
        super().__init__("A blind round is open on this question: pick in the round instead.")


def _selection(answer: Answer, info: QuestionInfo) -> dict[str, int]:
    """The selected choices: ident -> AnswerChoice id."""
    idents = {c.id: c.ident for c in info.choices}
    rows = AnswerChoice.objects.filter(answer=answer).values_list("choice_id", "pk")
    return {idents[choice_id]: pk for choice_id, pk in rows}


def _publish_answer(answer: Answer, kind: str = "answer") -> None:
    session_uuid, question_uuid = answer.session.uuid, question_info(answer.question_id).uuid
    transaction.on_commit(lambda: events.publish(session_uuid, kind, question=question_uuid))


def _not_applicable(answer: Answer, info: QuestionInfo) -> dict[str, int]:
    """The best practices marked not applicable: ident -> ChoiceNotApplicable id."""
    idents = {c.id: c.ident for c in info.choices}
    rows = ChoiceNotApplicable.objects.filter(answer=answer).values_list("choice_id", "pk")
    return {idents[choice_id]: pk for choice_id, pk in rows if choice_id in idents}


def _save_risk(
    answer: Answer, user, selected: set[str], info: QuestionInfo, excluded: set[str] | None = None
) -> None:
    """Recompute and save the risk; `excluded` (the not-applicable best practices) is read
    when not given."""
    if excluded is None:
        excluded = set(_not_applicable(answer, info))
    answer.risk = info.evaluate(
        selected, not_applicable=answer.not_applicable, not_applicable_choices=excluded
    )
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


def _apply(
    answer: Answer, user, target: set[str], current: dict[str, int], info: QuestionInfo
) -> None:
    """Make the stored selection (`current`, read under the answer's row lock) equal
    `target`, recompute the risk and record one history row per choice added or removed."""
    choices = info.by_ident
    added = [c.ident for c in info.choices if c.ident in target and c.ident not in current]
    removed = [ident for ident in current if ident not in target]
    if not added and not removed:
        return  # selecting what is selected, or unselecting what is not: nothing to write
    if removed:
        AnswerChoice.objects.filter(pk__in=[current[i] for i in removed]).delete()
    if added:
        AnswerChoice.objects.bulk_create(
            AnswerChoice(answer=answer, choice_id=choices[i].id, selected_by=user) for i in added
        )
    # A choice is selected or not applicable, never both: selecting one clears its mark.
    excluded = _not_applicable(answer, info)
    cleared = [excluded.pop(i) for i in added if i in excluded]
    if cleared:
        ChoiceNotApplicable.objects.filter(pk__in=cleared).delete()
    selected = (set(current) - set(removed)) | set(added)
    if added:
        answer.not_applicable = False
        answer.not_applicable_reason = ""
    _save_risk(answer, user, selected, info, set(excluded))
    AnswerChange.objects.bulk_create(
        [
            AnswerChange(
                answer=answer,
                user=user,
                action=AnswerChange.Action.SELECT,
                detail=choices[i].title,
                risk_after=answer.risk,
            )
            for i in added
        ]
        + [
            AnswerChange(
                answer=answer,
                user=user,
                action=AnswerChange.Action.UNSELECT,
                detail=choices[i].title if i in choices else i,
                risk_after=answer.risk,
            )
            for i in removed
        ]
    )
    _publish_answer(answer)


def answer_toggle(*, answer: Answer, user, choice_ident: str, select: bool) -> Answer:
    """Select or unselect one choice of an answer (see answer_toggle_at)."""
    return answer_toggle_at(
        session=answer.session,
        question_id=answer.question_id,
        user=user,
        choice_ident=choice_ident,
        select=select,
    )


@transaction.atomic
def answer_toggle_at(
    *, session: ReviewSession, question_id: int, user, choice_ident: str, select: bool
) -> Answer:
    """Select or unselect one choice of a session's answer to a question. Two people
    toggling different choices of one question at the same moment both win: each operation
    changes only its own choice (and "None of these" clears the others, and is cleared by
    them). The live page calls this on every click, so the answer is found, locked and
    checked for a blind round in one query. Raises Answer.DoesNotExist, BlindRoundOpen."""
    info = question_info(question_id)
    if choice_ident not in info.by_ident:
        raise ServiceError(f"“{choice_ident}” is not a choice of this question.")
    answer = (
        Answer.objects.select_for_update(of=("self",))
        .with_blind_open()
        .get(session=session, question_id=question_id)
    )
    if answer.blind_open:
        raise BlindRoundOpen()
    answer.session = session
    current = _selection(answer, info)
    target = next_selection(current, choice_ident, select=select, none_of_these=info.none_idents)
    _apply(answer, user, target, current, info)
    return answer


@transaction.atomic
def answer_update(*, answer: Answer, user, selected: set[str], shown: set[str]) -> Answer:
    """Apply a whole-form answer (the no-JavaScript form) as operations: only the choices
    the person changed from what their form showed are selected or unselected, so changes
    others made meanwhile to other choices stay."""
    info = question_info(answer.question_id)
    answer = _lock_answer(answer)
    current = _selection(answer, info)
    target = set(current)
    for ident in sorted(shown - selected):
        target = next_selection(target, ident, select=False, none_of_these=info.none_idents)
    for ident in sorted(selected - shown):
        target = next_selection(target, ident, select=True, none_of_these=info.none_idents)
    _apply(answer, user, target, current, info)
    return answer


@transaction.atomic
def answer_set_exact(*, answer: Answer, user, selected: set[str]) -> Answer:
    """Set the selection to exactly `selected` (the agreed answer after a blind round)."""
    info = question_info(answer.question_id)
    nones = info.none_idents
    if selected & nones and selected - nones:
        raise ServiceError("“None of these” cannot be agreed together with other choices.")
    answer = _lock_answer(answer)
    _apply(answer, user, set(selected), _selection(answer, info), info)
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
    info = question_info(answer.question_id)
    answer.not_applicable = not_applicable
    answer.not_applicable_reason = reason if not_applicable else ""
    _save_risk(answer, user, set(_selection(answer, info)), info)
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


# --- Phases ----------------------------------------------------------------------------------


@transaction.atomic
def session_move(*, session: ReviewSession, user, to_phase: str) -> ReviewSession:
    """Move a review to another phase. Only its facilitator may, only along PHASE_MOVES, and
    follow-up needs a published action plan. Each move is recorded with who and when."""
    session = (
        ReviewSession.objects.select_for_update(of=("self",))
        .select_related("workload")
        .get(pk=session.pk)
    )
    if not Participant.objects.filter(
        session=session, user=user, role=ParticipantRole.FACILITATOR
    ).exists():
        raise ServiceError("Only the facilitator can move the review to another phase.")
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
    if target == Phase.FOLLOW_UP and session.plan_published_at is None:
        raise ServiceError("Publish the action plan before moving the review to follow-up.")
    now = timezone.now()
    fields = ["phase"]
    if current == Phase.REVIEW and session.focus_question_id:
        _stop_focus_clock(session, now)
        fields += ["focus_question", "focus_since"]
    if target == Phase.CLOSED:
        session.closed_at = now
        fields.append("closed_at")
        _propose_next_review(session.workload, after=timezone.localdate(now))
    session.phase = to_phase
    session.save(update_fields=fields)
    PhaseChange.objects.create(session=session, from_phase=current, to_phase=target, by=user)
    session_uuid = session.uuid
    transaction.on_commit(lambda: events.publish(session_uuid, "phase", phase=to_phase))
    return session


def _propose_next_review(workload: Workload, *, after) -> None:
    from reviews.cadence import next_review_due

    due_on, _kind = next_review_due(workload, after=after)
    workload.next_review_due_on = due_on
    workload.save(update_fields=["next_review_due_on", "updated_at"])


def _stop_focus_clock(session: ReviewSession, now) -> None:
    """Add the time spent on the focused question's pillar to its budget, and clear focus."""
    if session.focus_question_id and session.focus_since and session.phase == Phase.REVIEW:
        elapsed = max(0, int((now - session.focus_since).total_seconds()))
        PillarBudget.objects.filter(
            session=session, pillar_id=question_info(session.focus_question_id).pillar_id
        ).update(spent_seconds=F("spent_seconds") + elapsed)
    session.focus_question = None
    session.focus_since = None


# --- Plan, participants, preparation ----------------------------------------------------------


@transaction.atomic
def session_update_plan(*, session: ReviewSession, user, **fields) -> ReviewSession:
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
    session_uuid = session.uuid
    transaction.on_commit(lambda: events.publish(session_uuid, "focus"))


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
    session_uuid = participant.session.uuid
    transaction.on_commit(lambda: events.publish(session_uuid, "participants"))
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
