"""The phase machine: every legal and illegal move, who may move, what is recorded."""

import itertools

import pytest
from django.urls import reverse
from django.utils import timezone

from reviews import sessions
from reviews.errors import ServiceError
from reviews.models import (
    PHASE_MOVES,
    Participant,
    ParticipantRole,
    Phase,
    PhaseChange,
    ReviewSession,
)

LEGAL = {(src, dst) for src, targets in PHASE_MOVES.items() for dst in targets}
ALL_PAIRS = [(a, b) for a, b in itertools.product(Phase.values, Phase.values) if a != b]


def put_in(review, phase):
    review.phase = phase
    review.plan_published_at = timezone.now()
    review.save(update_fields=["phase", "plan_published_at"])
    return review


def test_the_machine_goes_forward_one_step_and_back_one_step():
    order = Phase.values
    for src, dst in ALL_PAIRS:
        i, j = order.index(src), order.index(dst)
        expected = src != Phase.CLOSED and abs(i - j) == 1
        assert ((src, dst) in LEGAL) == expected, (src, dst)


# Going back from analysis to the review reopens it: a separate step with a reason
# (tests/reviews/test_phase_locks.py).
REOPENING = {(Phase.ANALYSIS, Phase.REVIEW)}


@pytest.mark.parametrize(("src", "dst"), sorted(LEGAL - REOPENING))
def test_every_legal_move_is_made_and_recorded(cast, review, src, dst):
    put_in(review, src)
    moved = sessions.session_move(session=review, user=cast.admin, to_phase=dst)
    assert moved.phase == dst
    change = PhaseChange.objects.filter(session=review).latest("at", "pk")
    assert (change.from_phase, change.to_phase, change.by) == (src, dst, cast.admin)


@pytest.mark.parametrize(("src", "dst"), sorted(set(ALL_PAIRS) - LEGAL))
def test_every_illegal_move_is_refused_with_a_clear_message(cast, review, src, dst):
    put_in(review, src)
    before = PhaseChange.objects.count()
    with pytest.raises(ServiceError) as refused:
        sessions.session_move(session=review, user=cast.admin, to_phase=dst)
    message = str(refused.value)
    if src == Phase.CLOSED:
        assert message == "This review is closed: it cannot move to another phase."
    else:
        assert message.startswith(
            f"A review in {Phase(src).label.lower()} cannot move to {Phase(dst).label.lower()}; it can move to "
        )
    review.refresh_from_db()
    assert review.phase == src and PhaseChange.objects.count() == before


def test_unknown_phase_is_refused(cast, review):
    with pytest.raises(ServiceError, match="“lunch” is not a phase"):
        sessions.session_move(session=review, user=cast.admin, to_phase="lunch")


@pytest.mark.parametrize(
    "role", [r for r in ParticipantRole.values if r != ParticipantRole.FACILITATOR]
)
def test_only_the_facilitator_moves_the_review(cast, review, role):
    Participant.objects.create(session=review, user=cast.member, role=role)
    with pytest.raises(ServiceError, match="Only the facilitator"):
        sessions.session_move(session=review, user=cast.member, to_phase=Phase.REVIEW)
    review.refresh_from_db()
    assert review.phase == Phase.PREPARATION


def test_team_admin_who_is_not_facilitator_can_move(cast, review):
    Participant.objects.filter(session=review, user=cast.admin).update(
        role=ParticipantRole.OBSERVER
    )
    moved = sessions.session_move(session=review, user=cast.admin, to_phase=Phase.REVIEW)
    assert moved.phase == Phase.REVIEW


def test_a_team_viewer_made_facilitator_cannot_move(cast, review):
    Participant.objects.create(session=review, user=cast.viewer, role=ParticipantRole.FACILITATOR)
    with pytest.raises(ServiceError, match="Only the facilitator or a team admin"):
        sessions.session_move(session=review, user=cast.viewer, to_phase=Phase.REVIEW)
    review.refresh_from_db()
    assert review.phase == Phase.PREPARATION


def test_going_back_from_analysis_to_the_review_is_a_reopening(cast, review):
    put_in(review, Phase.ANALYSIS)
    with pytest.raises(ServiceError, match="reopen the review, with a reason"):
        sessions.session_move(session=review, user=cast.admin, to_phase=Phase.REVIEW)


def test_follow_up_needs_a_published_plan(cast, review):
    review.phase = Phase.ACTION_PLAN
    review.save(update_fields=["phase"])
    with pytest.raises(ServiceError, match="Publish the action plan before"):
        sessions.session_move(session=review, user=cast.admin, to_phase=Phase.FOLLOW_UP)


def test_closing_records_the_time_and_proposes_the_next_review(cast, review):
    put_in(review, Phase.FOLLOW_UP)
    sessions.session_move(session=review, user=cast.admin, to_phase=Phase.CLOSED)
    review.refresh_from_db()
    cast.workload.refresh_from_db()
    assert review.closed_at is not None
    assert cast.workload.next_review_due_on is not None
    assert cast.workload.next_review_due_on > timezone.localdate()


def test_leaving_the_review_stops_the_pillar_clock(cast, review):
    from reviews import focus

    put_in(review, Phase.REVIEW)
    question = review.answers.select_related("question__pillar").first().question
    focus.focus_set(session=review, user=cast.admin, question_id=question.pk)
    review.refresh_from_db()
    review.focus_since = timezone.now() - timezone.timedelta(minutes=3)
    review.save(update_fields=["focus_since"])
    sessions.session_move(session=review, user=cast.admin, to_phase=Phase.ANALYSIS)
    review.refresh_from_db()
    budget = review.budgets.get(pillar=question.pillar)
    assert review.focus_question is None and 179 <= budget.spent_seconds <= 200


# --- The view ---------------------------------------------------------------------------------


def test_phase_view_moves_and_reports(client, cast, review):
    client.force_login(cast.admin)
    response = client.post(
        reverse("reviews:session_phase", args=[review.uuid]), {"to": "review"}, follow=True
    )
    page = response.content.decode()
    assert "The review is now in its review phase." in page
    assert "The review is in its <strong>review</strong> phase." in page
    assert "in review." not in page  # the phase named as a phase, never "in review."
    review.refresh_from_db()
    assert review.phase == "review"


@pytest.mark.parametrize(
    "phase, says",
    [
        ("preparation", "The review is in its <strong>preparation</strong> phase."),
        ("follow_up", "The review is in its <strong>follow-up</strong> phase."),
        ("closed", "The review is <strong>closed</strong>."),
    ],
)
def test_the_session_page_names_the_phase_as_a_phase(client, cast, review, phase, says):
    ReviewSession.objects.filter(pk=review.pk).update(phase=phase)
    client.force_login(cast.admin)
    page = client.get(reverse("reviews:session_detail", args=[review.uuid])).content.decode()
    assert says in page
    assert f"is in {phase}" not in page and "is in <strong>" not in page


def test_phase_view_shows_the_refusal(client, cast, review):
    client.force_login(cast.admin)
    response = client.post(
        reverse("reviews:session_phase", args=[review.uuid]), {"to": "closed"}, follow=True
    )
    assert "cannot move to closed; it can move to review" in response.content.decode()


def test_phase_view_for_a_non_facilitator_member(client, cast, review):
    client.force_login(cast.member)
    url = reverse("reviews:session_phase", args=[review.uuid])
    assert client.post(url, {"to": "review"}).status_code == 403
    response = client.post(url, {"to": "review"}, HTTP_HX_REQUEST="true")  # the toast's reason
    assert response.status_code == 403
    assert "Only the facilitator or a team admin can move the review" in response.content.decode()
    review.refresh_from_db()
    assert review.phase == "preparation"


def test_phase_view_wrong_method(client, cast, review):
    client.force_login(cast.admin)
    assert client.get(reverse("reviews:session_phase", args=[review.uuid])).status_code == 405
