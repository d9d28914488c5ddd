"""Live events in the browser: each kind refreshes the fragments the table says, on the other
person's page, and a page told to resync refreshes everything it shows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from reviews import events, sessions
from reviews.eventkinds import RESYNC
from reviews.models import (
    Answer,
    ParkingLotItem,
    Participant,
    ParticipantRole,
    Phase,
    PillarBudget,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def room(live, cast, lenses):
    """Alice facilitates, Bob (operations) takes part; both have the first question open."""
    review = sessions.session_create(
        workload=cast.workload, user=cast.admin, title="Live review", kind="periodic",
        review_starts_at=timezone.now() + timedelta(hours=1),
    )  # fmt: skip
    Participant.objects.create(session=review, user=cast.member, role=ParticipantRole.OPERATIONS)
    answer = Answer.objects.select_related("question").get(
        session=review, question__ident="priorities"
    )
    url = live.url + reverse("reviews:question", args=[review.uuid, answer.question.uuid])
    alice, bob = live.page(cast.admin), live.page(cast.member)
    for page in (alice, bob):
        page.goto(url)
        expect(page.locator("#live-status .ok")).to_have_text("● Live")
    return review, alice, bob


def test_phase_budgets_and_the_parking_lot_reach_the_other_page(room, cast):
    review, alice, bob = room
    alice.fill("#parking-text", "Who pays for the CDN?")
    alice.get_by_role("button", name="Park").click()
    expect(bob.locator("#parking")).to_contain_text("Who pays for the CDN?")

    budget = PillarBudget.objects.filter(session=review).first()
    sessions.budgets_update(session=review, minutes={budget.pillar_id: 77})
    expect(bob.locator("#facilitator")).to_contain_text("/ 77:00")

    sessions.session_move(session=review, user=cast.admin, to_phase=Phase.REVIEW)
    expect(bob.locator("#phase")).to_have_text("Review")


def resync_streams(review) -> None:
    """Tell every open stream of the session that it may have missed events, as a stream
    does after its Redis connection came back."""
    backend = events.backend()
    if isinstance(backend, events.RedisBackend):
        # A message its streams cannot read: the hub resyncs them.
        backend.client.publish(f"{events.PREFIX}{review.uuid}", b"not an event")
    else:
        with backend.lock:
            targets = list(backend.subscribers[str(review.uuid)])
        for loop, queue in targets:
            loop.call_soon_threadsafe(queue.put_nowait, RESYNC)


def test_a_page_told_to_resync_refreshes_what_it_shows(room, cast):
    review, alice, bob = room
    # Written behind the app's back: no event tells anyone.
    ParkingLotItem.objects.create(
        session=review, text="Raised off the record", created_by=cast.admin
    )
    resync_streams(review)
    for page in (alice, bob):
        expect(page.locator("#parking")).to_contain_text("Raised off the record")
        expect(page.locator("#live-status .ok")).to_have_text("● Live")


def test_the_session_page_told_to_resync_refreshes_what_it_shows(live, cast, lenses):
    review = sessions.session_create(
        workload=cast.workload, user=cast.admin, title="Live review", kind="periodic",
        review_starts_at=timezone.now() + timedelta(hours=1),
    )  # fmt: skip
    page = live.page(cast.admin)
    page.goto(live.url + reverse("reviews:session_detail", args=[review.uuid]))
    expect(page.locator("#participants tbody")).not_to_contain_text("Fay Finance")
    expect(page.locator("body[data-live=ok]")).to_have_count(1)  # the stream hears the session
    # Written behind the app's back: no event tells anyone.
    Participant.objects.create(session=review, user=cast.finance, role=ParticipantRole.FINANCE)
    resync_streams(review)
    expect(page.locator("#participants tbody")).to_contain_text("Fay Finance")
