"""Best practices that do not apply: one choice of an answer marked not applicable, with a
reason and a short note, as the AWS Well-Architected Tool records it per best practice.

A choice is selected, not applicable, or neither. Marking a selected choice not applicable
unselects it; selecting a not-applicable choice clears its mark (reviews.answers).
How a not-applicable best practice counts in the risk is decided in questionnaires.risk.
Each change is one transaction on the locked answer row, leaves a history entry and publishes
the same live event as the other answer changes.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from questionnaires.structure import ChoiceInfo, QuestionInfo, question_info
from reviews.answers import (
    BlindRoundOpen,
    answer_selection,
    lock_answer,
    not_applicable_marks,
    publish_answer,
    save_risk,
)
from reviews.errors import ServiceError
from reviews.models import (
    Answer,
    AnswerChange,
    AnswerChoice,
    ChoiceNotApplicable,
    NotApplicableReason,
)

NOTES_MAX_LENGTH = 250  # what AWS keeps per best practice


def _refuse(message: str, field: str | None = None) -> ServiceError:
    error = ServiceError(message)
    error.field = field
    return error


def _best_practice(info: QuestionInfo, choice_ident: str) -> ChoiceInfo:
    choice = info.by_ident.get(choice_ident)
    if choice is None:
        raise _refuse(f"“{choice_ident}” is not a choice of this question.")
    if choice.is_none_of_these:
        raise _refuse(
            f"“{choice.title}” is not a best practice: it cannot be marked not applicable."
        )
    return choice


def _detail(choice: ChoiceInfo, reason: str, notes: str) -> str:
    text = (
        f"{choice.title}: {NotApplicableReason(reason).label.lower()}" if reason else choice.title
    )
    return f"{text} ({notes})" if notes else text


@transaction.atomic
def choice_mark_not_applicable(
    *, answer: Answer, user: User, choice_ident: str, reason: str, notes: str = ""
) -> Answer:
    """Mark one best practice of an answer not applicable, with a reason and notes (marking
    it again changes the reason or the notes). A selected choice is unselected."""
    info = question_info(answer.question_id)
    choice = _best_practice(info, choice_ident)
    if reason not in NotApplicableReason.values:
        raise _refuse("Choose why this best practice does not apply.", "reason")
    notes = notes.replace("\r\n", "\n").strip()
    if len(notes) > NOTES_MAX_LENGTH:
        raise _refuse(f"Keep the note under {NOTES_MAX_LENGTH} characters ({len(notes)}).", "notes")
    answer = lock_answer(answer)
    if answer.blind_open:
        raise BlindRoundOpen()
    current = answer_selection(answer, info)
    excluded = not_applicable_marks(answer, info)
    if choice_ident in excluded:
        mark = ChoiceNotApplicable.objects.get(pk=excluded[choice_ident])
        if (mark.reason, mark.notes) == (reason, notes):
            return answer  # nothing changes, nothing is written
        mark.reason, mark.notes, mark.marked_by = reason, notes, user
        mark.save(update_fields=["reason", "notes", "marked_by", "marked_at"])
    else:
        ChoiceNotApplicable.objects.create(
            answer=answer, choice_id=choice.id, reason=reason, notes=notes, marked_by=user
        )
    if choice_ident in current:
        AnswerChoice.objects.filter(pk=current.pop(choice_ident)).delete()
    save_risk(answer, user, set(current), info, set(excluded) | {choice_ident})
    AnswerChange.objects.create(
        answer=answer,
        user=user,
        action=AnswerChange.Action.CHOICE_NOT_APPLICABLE,
        detail=_detail(choice, reason, notes),
        risk_after=answer.risk,
    )
    publish_answer(answer)
    return answer


@transaction.atomic
def choice_clear_not_applicable(*, answer: Answer, user: User, choice_ident: str) -> Answer:
    """The best practice applies after all: remove its mark (it is then neither selected nor
    not applicable). Clearing a choice that is not marked changes nothing."""
    info = question_info(answer.question_id)
    choice = _best_practice(info, choice_ident)
    answer = lock_answer(answer)
    if answer.blind_open:
        raise BlindRoundOpen()
    excluded = not_applicable_marks(answer, info)
    if choice_ident not in excluded:
        return answer
    ChoiceNotApplicable.objects.filter(pk=excluded.pop(choice_ident)).delete()
    save_risk(answer, user, set(answer_selection(answer, info)), info, set(excluded))
    AnswerChange.objects.create(
        answer=answer,
        user=user,
        action=AnswerChange.Action.CHOICE_APPLICABLE,
        detail=choice.title,
        risk_after=answer.risk,
    )
    publish_answer(answer)
    return answer


def choice_exclusions(answer: Answer) -> dict[str, ChoiceNotApplicable]:
    """The answer's not-applicable best practices, by choice ident (one query)."""
    rows = ChoiceNotApplicable.objects.filter(answer=answer).select_related("choice")
    return {row.choice.ident: row for row in rows}
