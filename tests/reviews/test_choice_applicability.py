"""Best practices that do not apply: the per-choice "not applicable" service, its risk rule,
history and live event, and the control on the live question page (htmx and plain form)."""

import pytest
from django.urls import reverse

from reviews import answers, blind, choices, errors
from reviews.eventkinds import EventKind
from reviews.models import AnswerChange, ChoiceNotApplicable, Participant, ParticipantRole, Phase
from tests.reviews.test_answers import HIGH, MEDIUM, selected, toggle

HX = {"HTTP_HX_REQUEST": "true"}
NONE_OF_THESE = "ops_priorities_no"


@pytest.fixture
def answer(review):
    return review.answers.select_related("question").get(question__ident="priorities")


@pytest.fixture
def answering(cast, review):
    """Bob answers (operations), Vic observes; Alice facilitates."""
    Participant.objects.create(session=review, user=cast.member, role=ParticipantRole.OPERATIONS)
    Participant.objects.create(session=review, user=cast.viewer, role=ParticipantRole.OBSERVER)
    return cast


def mark(answer, user, ident, reason="out_of_scope", notes=""):
    return choices.choice_mark_not_applicable(
        answer=answer, user=user, choice_ident=ident, reason=reason, notes=notes
    )


def marks(answer):
    return dict(
        ChoiceNotApplicable.objects.filter(answer=answer).values_list("choice__ident", "reason")
    )


# --- The service and the risk rule ------------------------------------------------------------


def test_a_not_applicable_best_practice_counts_as_in_place(answer, cast):
    for ident in HIGH[:3]:
        toggle(answer, cast.member, ident)
    answer.refresh_from_db()
    assert answer.risk == "HIGH"
    mark(answer, cast.member, HIGH[3], reason="architecture_constraints", notes="No tenants")
    answer.refresh_from_db()
    assert answer.risk == "MEDIUM"
    mark(answer, cast.member, MEDIUM[0])
    mark(answer, cast.member, MEDIUM[1], reason="business_priorities")
    answer.refresh_from_db()
    assert answer.risk == "NONE"
    assert marks(answer) == {
        HIGH[3]: "architecture_constraints",
        MEDIUM[0]: "out_of_scope",
        MEDIUM[1]: "business_priorities",
    }
    assert ChoiceNotApplicable.objects.get(answer=answer, choice__ident=HIGH[3]).notes == (
        "No tenants"
    )


def test_marking_alone_answers_the_question(answer, cast):
    mark(answer, cast.member, MEDIUM[0])
    answer.refresh_from_db()
    assert answer.risk == "HIGH"  # answered: the high-risk practices are still missing
    choices.choice_clear_not_applicable(answer=answer, user=cast.member, choice_ident=MEDIUM[0])
    answer.refresh_from_db()
    assert answer.risk == "UNANSWERED" and marks(answer) == {}


def test_a_choice_is_never_selected_and_not_applicable_at_once(answer, cast):
    toggle(answer, cast.member, HIGH[0])
    mark(answer, cast.member, HIGH[0])
    assert selected(answer) == set() and set(marks(answer)) == {HIGH[0]}
    toggle(answer, cast.member, HIGH[0])
    assert selected(answer) == {HIGH[0]} and marks(answer) == {}
    # The whole-form fallback (no JavaScript) clears the mark the same way.
    mark(answer, cast.member, HIGH[0])
    answers.answer_update(answer=answer, user=cast.member, selected={HIGH[0]}, shown=set())
    assert selected(answer) == {HIGH[0]} and marks(answer) == {}


def test_none_of_these_keeps_the_not_applicable_marks(answer, cast):
    mark(answer, cast.member, MEDIUM[0])
    toggle(answer, cast.member, NONE_OF_THESE)
    assert selected(answer) == {NONE_OF_THESE} and set(marks(answer)) == {MEDIUM[0]}


def test_marking_again_changes_the_reason_and_the_notes(answer, cast):
    mark(answer, cast.member, HIGH[0], notes="first")
    mark(answer, cast.admin, HIGH[0], reason="other", notes="second")
    row = ChoiceNotApplicable.objects.get(answer=answer)
    assert (row.reason, row.notes, row.marked_by) == ("other", "second", cast.admin)
    assert AnswerChange.objects.filter(answer=answer, action="choice_na").count() == 2


def test_marking_the_same_way_twice_writes_nothing(answer, cast, django_assert_max_num_queries):
    mark(answer, cast.member, HIGH[0], notes="why")
    with django_assert_max_num_queries(6):
        mark(answer, cast.member, HIGH[0], notes="why")
    choices.choice_clear_not_applicable(answer=answer, user=cast.member, choice_ident=HIGH[1])
    assert AnswerChange.objects.filter(answer=answer).count() == 1


def test_the_history_says_what_was_marked_why_and_the_risk_after(answer, cast):
    mark(answer, cast.member, HIGH[0], reason="business_priorities", notes="Later")
    choices.choice_clear_not_applicable(answer=answer, user=cast.admin, choice_ident=HIGH[0])
    cleared, marked = AnswerChange.objects.filter(answer=answer)[:2]
    assert (marked.user, marked.action, marked.risk_after) == (cast.member, "choice_na", "HIGH")
    assert marked.detail == (
        "Understand what external customers depend on: business priorities (Later)"
    )
    assert (cleared.user, cleared.action, cleared.risk_after) == (
        cast.admin,
        "choice_applies",
        "UNANSWERED",
    )


@pytest.mark.parametrize(
    ("ident", "reason", "notes", "message"),
    [
        ("nope", "out_of_scope", "", "is not a choice of this question"),
        (NONE_OF_THESE, "out_of_scope", "", "is not a best practice"),
        (HIGH[0], "", "", "Choose why"),
        (HIGH[0], "because", "", "Choose why"),
        (HIGH[0], "other", "x" * 251, "under 250 characters"),
    ],
)
def test_refusals_write_nothing(answer, cast, ident, reason, notes, message):
    with pytest.raises(errors.ServiceError, match=message):
        mark(answer, cast.member, ident, reason=reason, notes=notes)
    assert marks(answer) == {} and not AnswerChange.objects.filter(answer=answer).exists()


def test_a_blind_round_holds_the_shared_answer(answer, cast, review):
    blind.blind_open(session=review, user=cast.admin, question_id=answer.question_id)
    with pytest.raises(answers.BlindRoundOpen):
        mark(answer, cast.member, HIGH[0])


def test_a_question_not_applicable_wins_over_its_best_practices(answer, cast):
    mark(answer, cast.member, HIGH[0])
    answers.answer_set_applicability(
        answer=answer, user=cast.member, not_applicable=True, reason="out_of_scope"
    )
    answer.refresh_from_db()
    assert answer.risk == "NOT_APPLICABLE"
    answers.answer_set_applicability(answer=answer, user=cast.member, not_applicable=False)
    answer.refresh_from_db()
    assert answer.risk == "HIGH" and set(marks(answer)) == {HIGH[0]}


def test_each_change_publishes_the_answer_event(
    answer, cast, review, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        mark(answer, cast.member, HIGH[0])
    with django_capture_on_commit_callbacks(execute=True):
        choices.choice_clear_not_applicable(answer=answer, user=cast.member, choice_ident=HIGH[0])
    question = str(answer.question.uuid)
    assert published(review) == [(EventKind.ANSWER, {"question": question})] * 2


# --- The control on the live page -----------------------------------------------------------


def url(review, answer, ident=HIGH[0]):
    return reverse("reviews:choice_applicability", args=[review.uuid, answer.question.uuid, ident])


def page(review, answer):
    return reverse("reviews:question", args=[review.uuid, answer.question.uuid])


def test_htmx_marks_and_the_choices_fragment_shows_it(client, answering, review, answer):
    client.force_login(answering.member)
    data = {"status": "not_applicable", "reason": "out_of_scope", "notes": "Batch only"}
    response = client.post(url(review, answer), data, **HX)
    assert response.status_code == 204
    fragment = reverse(
        "reviews:question_fragment", args=[review.uuid, answer.question.uuid, "choices"]
    )
    html = client.get(fragment).content.decode()
    assert "Not applicable: out of scope" in html and "Batch only" in html
    assert "It applies after all" in html
    response = client.post(url(review, answer), {"status": "applicable"}, **HX)
    assert response.status_code == 204 and marks(answer) == {}


def test_the_plain_form_redirects_back_to_the_question(client, answering, review, answer):
    client.force_login(answering.member)
    response = client.post(url(review, answer), {"status": "not_applicable", "reason": "other"})
    assert response.status_code == 302 and response["Location"] == page(review, answer)
    assert marks(answer) == {HIGH[0]: "other"}


def test_a_missing_reason_is_a_clear_400_or_a_message(client, answering, review, answer):
    client.force_login(answering.member)
    response = client.post(url(review, answer), {"status": "not_applicable"}, **HX)
    assert response.status_code == 400
    assert "does not apply" in response.content.decode()
    response = client.post(url(review, answer), {"status": "not_applicable"}, follow=True)
    assert "Say why this best practice does not apply." in response.content.decode()
    response = client.post(url(review, answer), {"status": "maybe"}, **HX)
    assert response.status_code == 400
    response = client.post(
        url(review, answer, NONE_OF_THESE), {"status": "not_applicable", "reason": "other"}, **HX
    )
    assert response.status_code == 400 and "not a best practice" in response.content.decode()
    assert marks(answer) == {}


def test_an_observer_reads_the_marks_but_gets_no_control(client, answering, review, answer):
    mark(answer, answering.member, HIGH[0], notes="Not here")
    client.force_login(answering.viewer)
    html = client.get(page(review, answer)).content.decode()
    assert "Not applicable: out of scope" in html and "Not here" in html
    assert "Mark not applicable" not in html and "It applies after all" not in html
    response = client.post(url(review, answer, HIGH[1]), {"status": "not_applicable"})
    assert response.status_code == 403


def test_answers_are_closed_after_the_review(client, answering, review, answer):
    review.phase = Phase.ANALYSIS
    review.save(update_fields=["phase"])
    client.force_login(answering.member)
    response = client.post(url(review, answer), {"status": "not_applicable", "reason": "other"})
    assert response.status_code == 409 and marks(answer) == {}


def test_an_answering_participant_gets_the_control(client, answering, review, answer):
    client.force_login(answering.member)
    html = client.get(page(review, answer)).content.decode()
    assert html.count("Mark not applicable") == len(HIGH) + len(MEDIUM)
    assert f'action="{url(review, answer)}"' in html


def test_outsider_gets_404(client, cast, review, answer):
    client.force_login(cast.outsider)
    response = client.post(url(review, answer), {"status": "not_applicable", "reason": "other"})
    assert response.status_code == 404


def test_wrong_method_is_refused(client, answering, review, answer):
    client.force_login(answering.member)
    assert client.get(url(review, answer)).status_code == 405


def test_the_history_page_shows_the_marks(client, answering, review, answer):
    mark(answer, answering.member, HIGH[0], reason="other", notes="Elsewhere")
    client.force_login(answering.viewer)
    history = reverse("reviews:question_history", args=[review.uuid, answer.question.uuid])
    html = client.get(history).content.decode()
    assert "marked a best practice not applicable" in html
    assert "Understand what external customers depend on: other (Elsewhere)" in html
