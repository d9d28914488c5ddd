"""On a phone (390 px wide), every page that an email links to fits the screen: no sideways
scrolling, the navigation folds into a menu, and the live page shows the question under
discussion first, with the outline folded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from actions.models import FollowUp
from reviews import invitations
from reviews.models import Answer
from tests.actions.analysis_helpers import analysed
from tests.actions.cadence_helpers import make_action

pytestmark = pytest.mark.e2e

PHONE = (390, 844)


def fits(page: Page, where: str) -> None:
    page.wait_for_load_state("networkidle")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE[0], f"{where}: {width} px wide, scrolls sideways"
    # Nor does any part of the page (a table in a scrolling box, say).
    wide = page.evaluate(
        """() => [...document.querySelectorAll("main *")]
            .filter((el) => el.scrollWidth > el.clientWidth + 1
                && ["auto", "scroll"].includes(getComputedStyle(el).overflowX))
            .map((el) => el.tagName + "." + el.className)"""
    )
    assert wide == [], f"{where}: these scroll sideways: {wide}"


def test_pages_from_emails_fit_a_phone(live, review, cast):
    analysed(review, cast)
    action = make_action(
        review, cast.admin, title="Turn on multi-AZ for the orders database, then test failover",
        due_on=timezone.localdate() + timedelta(days=9),
    )  # fmt: skip
    follow_up = FollowUp.objects.create(
        session=review, number=1, due_on=timezone.localdate() + timedelta(days=30)
    )
    answer = Answer.objects.select_related("question").filter(session=review).first()
    assert answer is not None
    page = live.page(cast.admin, viewport=PHONE)
    for where, path in [
        ("my actions", reverse("actions:my_actions")),
        ("an action", reverse("actions:action_detail", args=[action.uuid])),
        ("a follow-up", reverse("actions:followup", args=[follow_up.uuid])),
        ("the live question", reverse("reviews:question", args=[review.uuid, answer.question.uuid])),
        ("the dashboard", reverse("actions:dashboard")),
    ]:  # fmt: skip
        page.goto(live.url + path)
        fits(page, where)


def test_the_invitation_page_fits_a_phone(live, browser, review, cast):
    invitation = invitations.invitation_create(
        session=review, user=cast.admin, email="new.person@example.com", role="operations"
    )
    context = browser.new_context(viewport={"width": PHONE[0], "height": PHONE[1]})
    try:
        page = context.new_page()
        page.goto(live.url + f"/invitations/{invitations.invitation_token(invitation)}/")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        fits(page, "invitation")
    finally:
        context.close()


def test_the_navigation_folds_into_a_menu_on_a_phone(live, cast):
    page = live.page(cast.admin, viewport=PHONE)
    page.goto(live.url + reverse("actions:dashboard"))
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_be_visible()
    link = page.locator("#main-nav").get_by_role("link", name="My actions")
    expect(link).to_be_hidden()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(link).to_be_visible()
    fits(page, "open menu")
    # On a laptop there is no menu button: the links are all there.
    wide = live.page(cast.admin)
    wide.goto(live.url + reverse("actions:dashboard"))
    expect(wide.get_by_role("button", name="Menu")).to_be_hidden()
    expect(wide.locator("#main-nav").get_by_role("link", name="My actions")).to_be_visible()


def test_the_live_page_shows_the_question_first_on_a_phone(live, review, cast):
    answer = Answer.objects.select_related("question").filter(session=review).first()
    assert answer is not None
    page = live.page(cast.admin, viewport=PHONE)
    page.goto(live.url + reverse("reviews:question", args=[review.uuid, answer.question.uuid]))
    title = page.get_by_role("heading", name=answer.question.title, level=1)
    expect(title).to_be_in_viewport()
    outline = page.locator(".live-outline")
    assert outline.evaluate("(el) => el.tagName") == "DETAILS"
    expect(outline).not_to_have_attribute("open", "")
    question_top = title.bounding_box()["y"]
    outline_top = outline.bounding_box()["y"]
    assert question_top < outline_top, "the question comes before the outline"
