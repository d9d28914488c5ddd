"""Answer services: choices as operations, "None of these", not applicable, notes with
revisions, the history."""

import threading

import pytest
from django.db import connection

from reviews import answers, sessions
from reviews.errors import ServiceError
from reviews.models import Answer, AnswerChange
from tests.conftest import require_postgres, selected

HIGH = [
    "ops_priorities_ext_cust_needs",
    "ops_priorities_int_cust_needs",
    "ops_priorities_governance_reqs",
    "ops_priorities_compliance_reqs",
]
MEDIUM = ["ops_priorities_eval_threat_landscape", "ops_priorities_eval_tradeoffs"]


def toggle(answer, user, ident, select=True):
    return answers.answer_toggle(answer=answer, user=user, choice_ident=ident, select=select)


def test_toggling_updates_selection_risk_and_history(answer, cast):
    for ident in HIGH:
        toggle(answer, cast.member, ident)
    answer.refresh_from_db()
    assert answer.risk == "MEDIUM" and selected(answer) == set(HIGH)
    for ident in MEDIUM:
        toggle(answer, cast.member, ident)
    answer.refresh_from_db()
    assert answer.risk == "NONE"
    toggle(answer, cast.admin, HIGH[0], select=False)
    answer.refresh_from_db()
    assert answer.risk == "HIGH"
    last = AnswerChange.objects.filter(answer=answer).first()
    assert (last.user, last.action, last.risk_after) == (cast.admin, "unselect", "HIGH")
    assert last.detail == "Understand what external customers depend on"
    assert AnswerChange.objects.filter(answer=answer).count() == 7


def test_unselecting_everything_is_unanswered(answer, cast):
    toggle(answer, cast.member, HIGH[0])
    toggle(answer, cast.member, HIGH[0], select=False)
    answer.refresh_from_db()
    assert answer.risk == "UNANSWERED"


def test_none_of_these_clears_the_others_and_is_cleared_by_them(answer, cast):
    toggle(answer, cast.member, HIGH[0])
    toggle(answer, cast.member, HIGH[1])
    toggle(answer, cast.member, "ops_priorities_no")
    assert selected(answer) == {"ops_priorities_no"}
    answer.refresh_from_db()
    assert answer.risk == "HIGH"
    toggle(answer, cast.member, MEDIUM[0])
    assert selected(answer) == {MEDIUM[0]}


def test_selecting_twice_or_unselecting_absent_is_harmless(
    answer, cast, django_assert_max_num_queries
):
    toggle(answer, cast.member, HIGH[0])
    before = Answer.objects.values_list("updated_by", "updated_at").get(pk=answer.pk)
    # Nothing changes, so nothing is written: the savepoint, the locked read and the
    # selection only; and the answer keeps who changed it last.
    with django_assert_max_num_queries(4):
        toggle(answer, cast.member, HIGH[0])
    toggle(answer, cast.admin, HIGH[2], select=False)
    assert selected(answer) == {HIGH[0]}
    assert AnswerChange.objects.filter(answer=answer).count() == 1
    assert Answer.objects.values_list("updated_by", "updated_at").get(pk=answer.pk) == before


def test_unknown_choice_is_refused(answer, cast):
    with pytest.raises(ServiceError, match="is not a choice of this question"):
        toggle(answer, cast.member, "sec_securely_operate_multi_accounts")


def test_whole_form_update_only_applies_what_the_person_changed(answer, cast):
    toggle(answer, cast.member, HIGH[0])
    # Someone else's page showed nothing selected; they tick HIGH[1] and submit the form.
    answers.answer_update(answer=answer, user=cast.admin, selected={HIGH[1]}, shown=set())
    assert selected(answer) == {HIGH[0], HIGH[1]}
    # A page that showed HIGH[0] selected and unticks it removes only that one.
    answers.answer_update(answer=answer, user=cast.admin, selected=set(), shown={HIGH[0]})
    assert selected(answer) == {HIGH[1]}


def test_set_exact_replaces_the_selection(answer, cast):
    toggle(answer, cast.member, HIGH[0])
    answers.answer_set_exact(answer=answer, user=cast.admin, selected=set(MEDIUM))
    assert selected(answer) == set(MEDIUM)
    assert AnswerChange.objects.filter(answer=answer, action="agreed").count() == 1
    with pytest.raises(ServiceError, match="cannot be agreed together"):
        answers.answer_set_exact(
            answer=answer, user=cast.admin, selected={"ops_priorities_no", HIGH[0]}
        )


def test_not_applicable_keeps_choices_and_comes_back(answer, cast):
    toggle(answer, cast.member, HIGH[0])
    answers.answer_set_applicability(
        answer=answer, user=cast.member, not_applicable=True, reason="out_of_scope"
    )
    answer.refresh_from_db()
    assert (answer.risk, answer.not_applicable_reason) == ("NOT_APPLICABLE", "out_of_scope")
    assert selected(answer) == {HIGH[0]}
    answers.answer_set_applicability(answer=answer, user=cast.member, not_applicable=False)
    answer.refresh_from_db()
    assert answer.risk == "HIGH" and not answer.not_applicable
    with pytest.raises(ServiceError, match="Choose why"):
        answers.answer_set_applicability(
            answer=answer, user=cast.member, not_applicable=True, reason="lunch"
        )


def test_selecting_a_choice_makes_the_question_apply_again(answer, cast):
    answers.answer_set_applicability(
        answer=answer, user=cast.member, not_applicable=True, reason="other"
    )
    toggle(answer, cast.member, HIGH[0])
    answer.refresh_from_db()
    assert not answer.not_applicable and answer.risk == "HIGH"


def test_notes_carry_a_revision_and_a_stale_save_is_a_conflict(answer, cast):
    answer = answers.answer_save_notes(
        answer=answer, user=cast.member, text="First", base_revision=0
    )
    assert (answer.notes, answer.notes_revision) == ("First", 1)
    answer = answers.answer_save_notes(
        answer=answer, user=cast.admin, text="Second", base_revision=1
    )
    with pytest.raises(answers.NotesConflict) as conflict:
        answers.answer_save_notes(
            answer=answer, user=cast.member, text="Mine, from revision 1", base_revision=1
        )
    assert conflict.value.yours == "Mine, from revision 1"
    assert conflict.value.answer.notes == "Second" and conflict.value.answer.notes_revision == 2
    answer.refresh_from_db()
    assert answer.notes == "Second"


def test_saving_the_same_text_is_not_a_conflict_and_changes_nothing(answer, cast):
    answers.answer_save_notes(answer=answer, user=cast.member, text="Same", base_revision=0)
    answers.answer_save_notes(answer=answer, user=cast.admin, text="Same", base_revision=0)
    answer.refresh_from_db()
    assert answer.notes_revision == 1


def test_notes_length_is_limited(answer, cast):
    with pytest.raises(ServiceError, match="limited to 10,000 characters"):
        answers.answer_save_notes(
            answer=answer, user=cast.member, text="x" * 10_001, base_revision=0
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_people_toggling_different_choices_at_once_both_win(cast, lenses):
    """Many concurrent toggles on one question, each in its own connection: all persist."""
    require_postgres()
    from datetime import timedelta

    from django.utils import timezone

    review = sessions.session_create(
        workload=cast.workload,
        user=cast.admin,
        title="R",
        kind="periodic",
        review_starts_at=timezone.now() + timedelta(days=1),
    )
    answer = review.answers.get(question__ident="priorities")
    barrier = threading.Barrier(len(HIGH + MEDIUM))
    errors = []

    def worker(ident):
        try:
            barrier.wait(timeout=10)
            answers.answer_toggle(answer=answer, user=cast.member, choice_ident=ident, select=True)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(ident,)) for ident in HIGH + MEDIUM]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    answer.refresh_from_db()
    assert selected(answer) == set(HIGH + MEDIUM)
    assert answer.risk == "NONE"
