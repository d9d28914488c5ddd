"""After the review phase, answers, blind rounds, focus and the parking lot are closed (409,
a clear message, nothing written); the facilitator or a team admin reopens the review with a
reason, recorded in the phase history."""

import pytest
from django.urls import reverse

from reviews import blind, sessions
from reviews.access import PhaseClosed
from reviews.models import (
    AnswerChange,
    AnswerChoice,
    BlindPick,
    BlindRound,
    ParkingLotItem,
    Participant,
    ParticipantRole,
    Phase,
    PhaseChange,
    ReviewSession,
)
from tests.conftest import HTMX

HIGH0 = "ops_priorities_ext_cust_needs"
CLOSED = "Answers are closed: the review has moved past the session."


@pytest.fixture
def room(cast, review, answer):
    """Bob answers (operations); the review went through its session and is in analysis."""
    Participant.objects.create(session=review, user=cast.member, role=ParticipantRole.OPERATIONS)
    sessions.session_move(session=review, user=cast.admin, to_phase=Phase.REVIEW)
    sessions.session_move(session=review, user=cast.admin, to_phase=Phase.ANALYSIS)
    review.refresh_from_db()
    return review


def q_url(name, review, answer, *extra):
    return reverse(f"reviews:{name}", args=[review.uuid, answer.question.uuid, *extra])


def writes(review):
    return (
        AnswerChange.objects.filter(answer__session=review).count(),
        AnswerChoice.objects.filter(answer__session=review).count(),
        BlindPick.objects.filter(round__session=review).count(),
        ParkingLotItem.objects.filter(session=review).count(),
    )


def test_answers_are_refused_after_the_review_with_a_clear_message(client, cast, room, answer):
    before = writes(room)
    client.force_login(cast.member)
    for url, data in (
        (q_url("choice_toggle", room, answer, HIGH0), {"select": "1"}),
        (q_url("answer_form", room, answer), {"selected": [HIGH0]}),
        (q_url("applicability", room, answer), {"not_applicable": "on", "reason": "other"}),
        (q_url("notes_save", room, answer), {"text": "late", "revision": "0"}),
    ):
        response = client.post(url, data, **HTMX)
        assert response.status_code == 409, url
        assert response.content.decode() == CLOSED
    assert writes(room) == before


def test_the_question_page_shows_answers_read_only(client, cast, room, answer):
    client.force_login(cast.member)
    body = client.get(q_url("question", room, answer)).content.decode()
    assert "Answers are closed" in body
    assert f'value="{HIGH0}" disabled' in body


def test_focus_is_refused_after_the_review(client, cast, room, answer):
    client.force_login(cast.admin)
    response = client.post(
        reverse("reviews:focus", args=[room.uuid]), {"question": answer.question.uuid}, **HTMX
    )
    assert response.status_code == 409 and response.content.decode() == CLOSED
    room.refresh_from_db()
    assert room.focus_question_id is None


def test_the_parking_lot_is_refused_after_the_review(client, cast, room, answer):
    client.force_login(cast.member)
    response = client.post(
        reverse("reviews:parking_add", args=[room.uuid]),
        {"question": answer.question.uuid, "text": "Later"},
        **HTMX,
    )
    assert response.status_code == 409
    assert not ParkingLotItem.objects.filter(session=room).exists()


def test_leaving_the_review_ends_an_open_blind_round(cast, review, answer):
    Participant.objects.create(session=review, user=cast.member, role=ParticipantRole.OPERATIONS)
    sessions.session_move(session=review, user=cast.admin, to_phase=Phase.REVIEW)
    round_ = blind.blind_open(session=review, user=cast.admin, question_id=answer.question_id)
    blind.blind_pick(round_=round_, user=cast.member, choice_ident=HIGH0, select=True)
    sessions.session_move(session=review, user=cast.admin, to_phase=Phase.ANALYSIS)
    round_.refresh_from_db()
    assert round_.closed_at is not None and round_.revealed_at is None


@pytest.mark.parametrize("step", ["pick", "reveal", "agree", "cancel", "open"])
def test_a_blind_round_left_open_cannot_be_played_after_the_review(
    client, cast, room, answer, step
):
    """Even a round somehow still open in analysis: nothing is picked, revealed or agreed."""
    round_ = BlindRound.objects.create(
        session=room, question_id=answer.question_id, opened_by=cast.admin
    )
    BlindPick.objects.create(round=round_, user=cast.member, choices=[HIGH0])
    before = writes(room)
    client.force_login(cast.member if step == "pick" else cast.admin)
    response = client.post(
        q_url("blind", room, answer, step),
        {"select": "1", "choice": HIGH0, "selected": [HIGH0]},
        **HTMX,
    )
    assert response.status_code == 409 and response.content.decode() == CLOSED
    assert writes(room) == before
    round_.refresh_from_db()
    assert round_.revealed_at is None and round_.closed_at is None
    answer.refresh_from_db()
    assert answer.risk == "UNANSWERED"


def test_the_blind_services_refuse_after_the_review(cast, room, answer):
    round_ = BlindRound.objects.create(
        session=room, question_id=answer.question_id, opened_by=cast.admin
    )
    with pytest.raises(PhaseClosed, match="Answers are closed"):
        blind.blind_reveal(round_=round_, user=cast.admin)
    round_.refresh_from_db()
    assert round_.revealed_at is None


# --- Reopening ---------------------------------------------------------------------------------


def reopen(client, review, reason):
    return client.post(
        reverse("reviews:session_reopen", args=[review.uuid]), {"reason": reason}, follow=True
    )


def test_the_facilitator_reopens_with_a_reason_and_answers_open_again(client, cast, room, answer):
    client.force_login(cast.admin)
    page = client.get(reverse("reviews:session_detail", args=[room.uuid])).content.decode()
    assert "Reopen the review" in page and 'name="reason"' in page
    response = reopen(client, room, "The security lead missed the session")
    assert "The review is open again" in response.content.decode()
    room.refresh_from_db()
    assert room.phase == Phase.REVIEW
    change = PhaseChange.objects.filter(session=room).latest("at", "pk")
    assert (change.from_phase, change.to_phase, change.by, change.reason) == (
        Phase.ANALYSIS,
        Phase.REVIEW,
        cast.admin,
        "The security lead missed the session",
    )
    assert "reopened: The security lead missed the session" in response.content.decode()
    client.force_login(cast.member)
    toggled = client.post(q_url("choice_toggle", room, answer, HIGH0), {"select": "1"}, **HTMX)
    assert toggled.status_code == 204


def test_reopening_needs_a_reason(client, cast, room):
    client.force_login(cast.admin)
    response = reopen(client, room, "   ")
    assert "Say why the review is reopened." in response.content.decode()
    room.refresh_from_db()
    assert room.phase == Phase.ANALYSIS
    assert not PhaseChange.objects.filter(session=room).exclude(reason="").exists()


def test_reopening_is_sent_to_the_audit_hook(cast, room, monkeypatch):
    seen = []
    monkeypatch.setattr(sessions, "audit_reopen", lambda **kw: seen.append(kw))
    sessions.session_reopen(session=room, user=cast.admin, reason="Missed a pillar")
    assert seen == [
        {
            "session": seen[0]["session"],
            "user": cast.admin,
            "from_phase": Phase.ANALYSIS,
            "reason": "Missed a pillar",
        }
    ]


def test_a_team_admin_who_does_not_facilitate_may_reopen(client, cast, room):
    Participant.objects.filter(session=room, user=cast.admin).update(role=ParticipantRole.OBSERVER)
    Participant.objects.filter(session=room, user=cast.member).update(
        role=ParticipantRole.FACILITATOR
    )
    client.force_login(cast.admin)
    reopen(client, room, "Numbers were wrong")
    assert ReviewSession.objects.get(pk=room.pk).phase == Phase.REVIEW


@pytest.mark.parametrize("who", ["member", "viewer", "finance"])
def test_others_cannot_reopen_nor_see_the_control(client, cast, room, who):
    user = getattr(cast, who)
    if who == "viewer":  # a viewer made facilitator still cannot run the session
        Participant.objects.create(session=room, user=user, role=ParticipantRole.FACILITATOR)
    client.force_login(user)
    page = client.get(reverse("reviews:session_detail", args=[room.uuid])).content.decode()
    assert "Reopen the review" not in page
    response = client.post(
        reverse("reviews:session_reopen", args=[room.uuid]), {"reason": "Because"}
    )
    assert response.status_code == 403
    assert ReviewSession.objects.get(pk=room.pk).phase == Phase.ANALYSIS


def test_reopen_is_post_only_and_a_closed_review_stays_closed(client, cast, room):
    client.force_login(cast.admin)
    assert client.get(reverse("reviews:session_reopen", args=[room.uuid])).status_code == 405
    ReviewSession.objects.filter(pk=room.pk).update(phase=Phase.CLOSED)
    response = reopen(client, room, "Too late")
    assert "This review is closed" in response.content.decode()
    assert ReviewSession.objects.get(pk=room.pk).phase == Phase.CLOSED
