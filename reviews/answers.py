"""Answers: choices selected and unselected as operations (two people never overwrite each
other), not applicable with a reason, notes with a revision (a stale save is a conflict,
never lost), and the agreed answer after a blind round. Each change is recorded in the
answer's history and published to the live pages once it commits."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from questionnaires.risk import next_selection
from questionnaires.structure import QuestionInfo, question_info
from reviews import events
from reviews.access import require_open
from reviews.errors import ServiceError
from reviews.eventkinds import EventKind
from reviews.models import (
    Answer,
    AnswerChange,
    AnswerChoice,
    ChoiceNotApplicable,
    NotApplicableReason,
    ReviewSession,
    SessionKind,
)


class NotesConflict(ServiceError):
    """The notes changed since the editor loaded them: both texts go back to the person."""

    def __init__(self, *, answer: Answer, yours: str):
        super().__init__("Someone else changed these notes while you were editing.")
        self.answer = answer
        self.yours = yours


def lock_answer(answer: Answer) -> Answer:
    """The answer row, locked for this transaction (annotated like every answer the live
    page works with)."""
    require_open(answer.session)
    locked: Answer = (
        Answer.objects.select_for_update(of=("self",)).with_blind_open().get(pk=answer.pk)
    )
    locked.session = answer.session
    return locked


class BlindRoundOpen(ServiceError):
    """The question is being answered blind: the shared answer waits for the agreed one."""

    def __init__(self) -> None:
        super().__init__("A blind round is open on this question: pick in the round instead.")


def answer_selection(answer: Answer, info: QuestionInfo) -> dict[str, int]:
    """The selected choices: ident -> AnswerChoice id."""
    idents = {c.id: c.ident for c in info.choices}
    rows = AnswerChoice.objects.filter(answer=answer).values_list("choice_id", "pk")
    return {idents[choice_id]: pk for choice_id, pk in rows}


def publish_answer(answer: Answer, kind: EventKind = EventKind.ANSWER) -> None:
    """Tell the live pages that the answer (or, with EventKind.NOTES, its notes) changed."""
    question_uuid = question_info(answer.question_id).uuid
    events.publish_on_commit(answer.session.uuid, kind, question=question_uuid)


def not_applicable_marks(answer: Answer, info: QuestionInfo) -> dict[str, int]:
    """The best practices marked not applicable: ident -> ChoiceNotApplicable id."""
    idents = {c.id: c.ident for c in info.choices}
    rows = ChoiceNotApplicable.objects.filter(answer=answer).values_list("choice_id", "pk")
    return {idents[choice_id]: pk for choice_id, pk in rows if choice_id in idents}


def save_risk(
    answer: Answer,
    user: User,
    selected: set[str],
    info: QuestionInfo,
    excluded: set[str] | None = None,
) -> None:
    """Recompute and save the risk; `excluded` (the not-applicable best practices) is read
    when not given."""
    if excluded is None:
        excluded = set(not_applicable_marks(answer, info))
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


def prefill(
    answer: Answer,
    user: User,
    info: QuestionInfo,
    *,
    choice_ids: list[int],
    not_applicable: bool,
    not_applicable_reason: str,
    notes: str,
    excluded: set[str],
) -> None:
    """Pre-fill a new review's answer (from a template or the last review), in the caller's
    transaction: its selected choices, not applicable with its reason and its notes, marked
    as pre-filled until someone confirms it; its risk from those (`excluded`: the best
    practices already marked not applicable)."""
    AnswerChoice.objects.bulk_create(
        AnswerChoice(answer=answer, choice_id=choice_id, selected_by=user)
        for choice_id in choice_ids
    )
    answer.not_applicable = not_applicable
    answer.not_applicable_reason = not_applicable_reason if not_applicable else ""
    answer.notes = notes
    answer.from_template = True
    answer.save(update_fields=["notes", "from_template"])
    idents = {c.id: c.ident for c in info.choices}
    save_risk(answer, user, {idents[choice_id] for choice_id in choice_ids}, info, excluded)


def _apply(
    answer: Answer, user: User, target: set[str], current: dict[str, int], info: QuestionInfo
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
    excluded = not_applicable_marks(answer, info)
    cleared = [excluded.pop(i) for i in added if i in excluded]
    if cleared:
        ChoiceNotApplicable.objects.filter(pk__in=cleared).delete()
    selected = (set(current) - set(removed)) | set(added)
    if added:
        answer.not_applicable = False
        answer.not_applicable_reason = ""
    save_risk(answer, user, selected, info, set(excluded))
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
    publish_answer(answer)


def answer_toggle(*, answer: Answer, user: User, choice_ident: str, select: bool) -> Answer:
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
    *, session: ReviewSession, question_id: int, user: User, choice_ident: str, select: bool
) -> Answer:
    """Select or unselect one choice of a session's answer to a question. Two people
    toggling different choices of one question at the same moment both win: each operation
    changes only its own choice (and "None of these" clears the others, and is cleared by
    them). The live page calls this on every click, so the answer is found, locked and
    checked for a blind round in one query. Raises Answer.DoesNotExist, BlindRoundOpen."""
    require_open(session)
    info = question_info(question_id)
    if choice_ident not in info.by_ident:
        raise ServiceError(f"“{choice_ident}” is not a choice of this question.")
    answer: Answer = (
        Answer.objects.select_for_update(of=("self",))
        .with_blind_open()
        .get(session=session, question_id=question_id)
    )
    if answer.blind_open:
        raise BlindRoundOpen()
    answer.session = session
    current = answer_selection(answer, info)
    target = next_selection(current, choice_ident, select=select, none_of_these=info.none_idents)
    _apply(answer, user, target, current, info)
    return answer


@transaction.atomic
def answer_update(*, answer: Answer, user: User, selected: set[str], shown: set[str]) -> Answer:
    """Apply a whole-form answer (the no-JavaScript form) as operations: only the choices
    the person changed from what their form showed are selected or unselected, so changes
    others made meanwhile to other choices stay."""
    info = question_info(answer.question_id)
    answer = lock_answer(answer)
    current = answer_selection(answer, info)
    target = set(current)
    for ident in sorted(shown - selected):
        target = next_selection(target, ident, select=False, none_of_these=info.none_idents)
    for ident in sorted(selected - shown):
        target = next_selection(target, ident, select=True, none_of_these=info.none_idents)
    _apply(answer, user, target, current, info)
    return answer


@transaction.atomic
def answer_set_exact(*, answer: Answer, user: User, selected: set[str]) -> Answer:
    """Set the selection to exactly `selected` (the agreed answer after a blind round)."""
    info = question_info(answer.question_id)
    nones = info.none_idents
    if selected & nones and selected - nones:
        raise ServiceError("“None of these” cannot be agreed together with other choices.")
    answer = lock_answer(answer)
    _apply(answer, user, set(selected), answer_selection(answer, info), info)
    AnswerChange.objects.create(
        answer=answer, user=user, action=AnswerChange.Action.AGREED, risk_after=answer.risk
    )
    return answer


@transaction.atomic
def answer_set_applicability(
    *, answer: Answer, user: User, not_applicable: bool, reason: str = ""
) -> Answer:
    """Mark a question as not applicable (with a reason) or applicable again. The choices
    stay stored either way; the risk is NOT_APPLICABLE while it does not apply."""
    answer = lock_answer(answer)
    if not_applicable and reason not in NotApplicableReason.values:
        raise ServiceError("Choose why this question does not apply.")
    if answer.not_applicable == not_applicable and answer.not_applicable_reason == reason:
        return answer
    info = question_info(answer.question_id)
    answer.not_applicable = not_applicable
    answer.not_applicable_reason = reason if not_applicable else ""
    save_risk(answer, user, set(answer_selection(answer, info)), info)
    AnswerChange.objects.create(
        answer=answer,
        user=user,
        action=AnswerChange.Action.NOT_APPLICABLE
        if not_applicable
        else AnswerChange.Action.APPLICABLE,
        detail=NotApplicableReason(reason).label if not_applicable else "",
        risk_after=answer.risk,
    )
    publish_answer(answer)
    return answer


NOTES_MAX_LENGTH = 10_000


@transaction.atomic
def answer_save_notes(*, answer: Answer, user: User, text: str, base_revision: int) -> Answer:
    """Save the notes if they have not changed since `base_revision` was loaded; otherwise
    raise NotesConflict carrying both texts. Nothing is ever dropped silently."""
    answer = lock_answer(answer)
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
    publish_answer(answer, kind=EventKind.NOTES)
    return answer


def selected_idents(answer: Answer) -> set[str]:
    return set(AnswerChoice.objects.filter(answer=answer).values_list("choice__ident", flat=True))


@transaction.atomic
def answer_confirm(*, answer: Answer, user: User) -> Answer:
    """Confirm an answer as it stands: it was carried over to a newer lens version whose
    choices changed ("look again"), or pre-filled from a review template. Clears both marks
    and records who confirmed it; confirming an unmarked answer changes nothing."""
    answer = lock_answer(answer)
    if not answer.look_again and not answer.from_template:
        return answer
    what = [
        text
        for text, marked in (
            ("looked again after the lens upgrade", answer.look_again),
            (
                "kept the answer from the last review"
                if answer.session.kind == SessionKind.MONTHLY_LIGHT
                else "kept the answer from the template",
                answer.from_template,
            ),
        )
        if marked
    ]
    answer.look_again = answer.from_template = False
    answer.updated_by = user
    answer.save(update_fields=["look_again", "from_template", "updated_by", "updated_at"])
    AnswerChange.objects.create(
        answer=answer,
        user=user,
        action=AnswerChange.Action.CONFIRMED,
        detail="; ".join(what),
        risk_after=answer.risk,
    )
    publish_answer(answer)
    return answer
