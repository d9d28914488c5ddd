"""A live session in two browsers writes nothing to the browser console: answering, notes,
the parking lot, following the facilitator and a phase move, without an error logged or an
exception thrown on either page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from reviews import sessions
from reviews.models import Answer, Participant, ParticipantRole
from tests.e2e.conftest import click_in_page

pytestmark = pytest.mark.e2e

A_CHOICE = "ops_priorities_ext_cust_needs"
B_CHOICE = "ops_priorities_int_cust_needs"


def listen(page: Page, name: str, errors: list[str]) -> None:
    page.on(
        "console",
        lambda message: message.type == "error" and errors.append(f"{name}: {message.text}"),
    )
    page.on("pageerror", lambda error: errors.append(f"{name}: {error}"))


def checkbox(page: Page, ident: str):
    return page.locator(f'#choices input[type=checkbox][value="{ident}"]')


def test_a_live_session_logs_no_console_error(live, cast, lenses):
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
    errors: list[str] = []
    alice, bob = live.page(cast.admin), live.page(cast.member)
    for name, page in (("facilitator", alice), ("member", bob)):
        listen(page, name, errors)
        page.goto(url)
        expect(page.locator("#live-status .ok")).to_have_text("● Live", timeout=20_000)

    # Answering, each seeing the other's choice.
    checkbox(alice, A_CHOICE).check()
    expect(checkbox(bob, A_CHOICE)).to_be_checked()
    checkbox(bob, B_CHOICE).check()
    expect(checkbox(alice, B_CHOICE)).to_be_checked()
    # Both at once.
    for page, choice in ((alice, A_CHOICE), (bob, B_CHOICE)):
        click_in_page(page, f'#choices input[type=checkbox][value="{choice}"]')
    for page in (alice, bob):
        expect(checkbox(page, A_CHOICE)).not_to_be_checked()
        expect(checkbox(page, B_CHOICE)).not_to_be_checked()

    # Notes.
    bob.get_by_role("link", name="Edit notes").click()
    bob.fill("form#notes textarea", "DR drills are quarterly.")
    bob.get_by_role("button", name="Save notes").click()
    expect(alice.locator("#notes .notes-rendered")).to_contain_text("DR drills are quarterly")

    # The parking lot.
    bob.fill("#parking-text", "Talk about backups")
    bob.get_by_role("button", name="Park").click()
    expect(alice.locator("#parking")).to_contain_text("Talk about backups")

    # The facilitator's focus: Bob follows her to the next question.
    alice.get_by_role("link", name="Next →").click()
    expect(alice.locator("#q-title")).not_to_have_text(answer.question.title)
    alice.get_by_role("button", name="Bring everyone here").click()
    expect(bob.locator("h1")).to_have_text(alice.locator("h1").inner_text())
    expect(bob.locator("#presence")).to_contain_text("on this question")
    bob.locator("#follow-toggle").uncheck()
    expect(bob.locator("#live-status .ok")).to_have_text("● Live")

    # The phase moves on while Bob is on the live page: his page says answers are closed.
    alice.goto(live.url + reverse("reviews:session_detail", args=[review.uuid]))
    alice.get_by_role("button", name="Move to analysis").click()
    expect(alice.locator(".messages")).to_contain_text("analysis phase")
    expect(bob.locator("#live")).to_contain_text("Answers are closed", timeout=15_000)
    expect(bob.locator("#live-status .ok")).to_have_text("● Live")

    assert errors == [], "\n".join(errors)
