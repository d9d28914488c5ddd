"""Which live event each change publishes, with what data, and when: once its transaction
commits, never when it rolls back or is refused; presence, outside a transaction, at once."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from reviews import answers, blind, focus, invitations, parking, presence, sessions
from reviews.errors import ServiceError
from reviews.eventkinds import EventKind
from reviews.models import Answer, Participant, ParticipantRole, Phase, PillarBudget
from tests.reviews.test_answers import HIGH


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """A block whose writes commit when it ends, as a request's do."""

    @contextmanager
    def block():
        with django_capture_on_commit_callbacks(execute=True):
            yield

    return block


@pytest.fixture
def on_question(answer):
    """The answer's question, as its events name it."""
    return {"question": str(answer.question.uuid)}


def test_answer_changes_publish_the_answer_of_their_question(
    answer, cast, review, published, committed, on_question
):
    with committed():
        answers.answer_toggle(answer=answer, user=cast.member, choice_ident=HIGH[0], select=True)
    with committed():
        answers.answer_set_applicability(
            answer=answer, user=cast.member, not_applicable=True, reason="out_of_scope"
        )
    assert published(review) == [(EventKind.ANSWER, on_question)] * 2


def test_selecting_what_is_selected_publishes_nothing(answer, cast, review, published, committed):
    answers.answer_toggle(answer=answer, user=cast.member, choice_ident=HIGH[0], select=True)
    with committed():
        answers.answer_toggle(answer=answer, user=cast.member, choice_ident=HIGH[0], select=True)
    assert published(review) == []


def test_notes_publish_the_notes_of_their_question(
    answer, cast, review, published, committed, on_question
):
    with committed():
        answers.answer_save_notes(answer=answer, user=cast.member, text="Drills", base_revision=0)
    assert published(review) == [(EventKind.NOTES, on_question)]


def test_each_step_of_a_blind_round_publishes_the_answer(
    answer, cast, review, published, committed, on_question
):
    Participant.objects.create(session=review, user=cast.member, role=ParticipantRole.OPERATIONS)
    steps = [
        lambda: blind.blind_open(session=review, user=cast.admin, question_id=answer.question_id),
        lambda: blind.blind_pick(
            round_=blind.open_round(review, answer.question_id),
            user=cast.member,
            choice_ident=HIGH[0],
            select=True,
        ),
        lambda: blind.blind_reveal(
            round_=blind.open_round(review, answer.question_id), user=cast.admin
        ),
        lambda: blind.blind_agree(
            round_=blind.open_round(review, answer.question_id),
            user=cast.admin,
            selected={HIGH[0]},
        ),
    ]
    for step in steps:
        before = len(published(review))
        with committed():
            step()
        assert published(review)[before:], step
    assert all(event == (EventKind.ANSWER, on_question) for event in published(review))


def test_a_phase_move_publishes_the_new_phase(cast, review, published, committed):
    with committed():
        sessions.session_move(session=review, user=cast.admin, to_phase=Phase.REVIEW)
    assert published(review) == [(EventKind.PHASE, {"phase": "review"})]


def test_the_focus_publishes_the_question_and_its_page_then_nothing_when_it_stops(
    answer, cast, review, published, committed, on_question
):
    with committed():
        focus.focus_set(session=review, user=cast.admin, question_id=answer.question_id)
    with committed():
        focus.focus_set(session=review, user=cast.admin, question_id=None)
    page = reverse("reviews:question", args=[review.uuid, answer.question.uuid])
    assert published(review) == [
        (EventKind.FOCUS, {**on_question, "url": page}),
        (EventKind.FOCUS, {"question": "", "url": ""}),
    ]


def test_budgets_publish_budgets(review, published, committed):
    budget = PillarBudget.objects.filter(session=review).first()
    with committed():
        sessions.budgets_update(session=review, minutes={budget.pillar_id: budget.minutes + 5})
    assert published(review) == [(EventKind.BUDGETS, {})]


def test_joining_and_the_checklist_publish_participants(
    cast, review, published, committed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):  # the invitation email
        invitation = invitations.invitation_create(
            session=review, user=cast.admin, email=cast.outsider.email, role="operations"
        )
    with committed():
        accepted = invitations.invitation_accept(invitation=invitation, user=cast.outsider)
    with committed():
        sessions.checklist_update(
            participant=accepted.participant,
            read_documentation=True,
            brought_metrics=False,
            confirmed_attendance=True,
        )
    assert published(review) == [(EventKind.PARTICIPANTS, {})] * 2


def test_the_parking_lot_publishes_parking(cast, review, published, committed):
    with committed():
        item = parking.parking_add(session=review, user=cast.admin, text="Cost of the CDN")
    with committed():
        parking.parking_dismiss(item=item)
    assert published(review) == [(EventKind.PARKING, {})] * 2


def test_nothing_is_published_when_the_change_rolls_back(
    answer, cast, review, published, committed
):
    with committed(), pytest.raises(RuntimeError), transaction.atomic():
        answers.answer_toggle(answer=answer, user=cast.member, choice_ident=HIGH[0], select=True)
        raise RuntimeError("the request failed after the change")
    assert published(review) == []
    assert not Answer.objects.get(pk=answer.pk).selections.exists()


def test_nothing_is_published_when_the_service_refuses(cast, review, published, committed):
    with committed(), pytest.raises(ServiceError):
        sessions.session_move(session=review, user=cast.admin, to_phase=Phase.CLOSED)
    with committed(), pytest.raises(ServiceError):
        parking.parking_add(session=review, user=cast.admin, text="   ")
    assert published(review) == []


@pytest.mark.django_db(transaction=True)
def test_presence_is_published_at_once_outside_a_transaction(cast, lenses, published):
    """The event stream records presence outside any transaction: the same function
    publishes at once there. Looking at the same question again tells nobody."""
    review = sessions.session_create(
        workload=cast.workload,
        user=cast.admin,
        title="R",
        kind="periodic",
        review_starts_at=timezone.now() + timedelta(days=1),
    )
    question_id = Answer.objects.filter(session=review).values_list("question_id", flat=True)[0]
    presence.presence_connect(session=review, user=cast.admin)
    assert published(review) == [(EventKind.PRESENCE, {})]
    presence.presence_viewing(session=review, user=cast.admin, question_id=question_id)
    presence.presence_viewing(session=review, user=cast.admin, question_id=question_id)
    presence.presence_disconnect(session=review, user=cast.admin)
    assert published(review) == [(EventKind.PRESENCE, {})] * 3
