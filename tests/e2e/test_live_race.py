"""Two people answering one question at the same moment: every page ends showing both
changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from reviews import sessions
from reviews.models import Answer, Participant, ParticipantRole

pytestmark = pytest.mark.e2e

A_CHOICE = "ops_priorities_ext_cust_needs"
B_CHOICE = "ops_priorities_int_cust_needs"


def checkbox(page: Page, ident: str):
    return page.locator(f'#choices input[type=checkbox][value="{ident}"]')


@pytest.fixture
def room(live, cast, lenses):
    """Alice (facilitating) and Bob on the same question of a live review."""
    review = sessions.session_create(
        workload=cast.workload, user=cast.admin, title="Live review", kind="periodic",
        review_starts_at=timezone.now() + timedelta(hours=1),
    )  # fmt: skip
    sessions.session_move(session=review, user=cast.admin, to_phase="review")
    Participant.objects.create(session=review, user=cast.member, role=ParticipantRole.OPERATIONS)
    answer = Answer.objects.select_related("question").get(
        session=review, question__ident="priorities"
    )
    url = live.url + reverse("reviews:question", args=[review.uuid, answer.question.uuid])
    alice, bob = live.page(cast.admin), live.page(cast.member)
    for page in (alice, bob):
        page.goto(url)
        expect(page.locator("#live-status .ok")).to_have_text("● Live", timeout=20_000)
    return alice, bob


COUNT_CHOICES_EVENTS = """() => {
    window.choicesHeard = 0;
    document.addEventListener("htmx:sseBeforeMessage", (event) => {
        if (event.detail.type.startsWith("choices-")) window.choicesHeard += 1;
    }, true);
}"""


def test_a_click_pressed_as_another_change_arrives_still_counts(room):
    """Bob presses a box just as Alice's change arrives with the choices anew, and releases
    after: his click counts (the box under his pointer was not replaced between the press
    and the release), and both pages end showing both changes."""
    alice, bob = room
    checkbox(alice, A_CHOICE).check()
    expect(checkbox(bob, A_CHOICE)).to_be_checked()
    bob.evaluate(COUNT_CHOICES_EVENTS)
    box = checkbox(bob, B_CHOICE).bounding_box()
    assert box is not None
    bob.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    bob.mouse.down()
    checkbox(alice, A_CHOICE).uncheck()
    bob.wait_for_function("() => window.choicesHeard > 0")
    bob.mouse.up()
    for page in (alice, bob):
        expect(checkbox(page, A_CHOICE)).not_to_be_checked()
        expect(checkbox(page, B_CHOICE)).to_be_checked()


def fragment_requests(page: Page) -> list[str]:
    """The page's re-fetches of its choices, from now on."""
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/fragments/choices/" in r.url else None)
    return asked


def test_your_own_change_comes_back_with_its_event_and_is_not_fetched_again(room):
    """Bob ticks a box: his page shows the new risk from the HTML that came with the change's
    event, as Alice's does, and asks for nothing more."""
    alice, bob = room
    asked = fragment_requests(bob)
    checkbox(bob, A_CHOICE).check()
    for page in (alice, bob):
        expect(page.locator("#risk-badge")).not_to_have_text("Unanswered")
    expect(checkbox(alice, A_CHOICE)).to_be_checked()
    bob.wait_for_timeout(3_500)  # longer than the page waits for its event
    assert asked == []


def test_without_its_event_your_own_change_is_fetched_after_a_wait(room, monkeypatch):
    """Should the change's event not come while the page hears its session (nothing is
    published here), the page re-fetches what it changed, a few seconds later."""
    from reviews import events

    alice, bob = room
    monkeypatch.setattr(events, "_publish", lambda channel, kind, data: None)
    asked = fragment_requests(bob)
    checkbox(bob, A_CHOICE).check()
    expect(bob.locator("#risk-badge")).not_to_have_text("Unanswered", timeout=6_000)
    assert len(asked) == 1
    expect(alice.locator("#risk-badge")).to_have_text("Unanswered")
