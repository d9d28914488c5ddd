"""In the browser: a follow-up updated in place, the bell, the cadence page."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from actions.models import ActionItem, FollowUp, Notification
from tests.actions.cadence_helpers import make_action, make_session, publish

pytestmark = pytest.mark.e2e
SCREENSHOTS = os.environ.get("PILLARWISE_SCREENSHOTS", "")


def shot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


@pytest.fixture
def follow_up(cast, lenses):
    session = make_session(cast, starts=timezone.now() - timedelta(days=40))
    today = timezone.localdate()
    make_action(session, cast.member, title="Multi-AZ database", due_on=today - timedelta(days=3))
    make_action(session, cast.member, title="Budget alerts", due_on=today + timedelta(days=20))
    make_action(session, cast.admin, title="Tag every resource", status="blocked", percent=30)
    make_action(session, cast.member, title="Runbooks in the repository", status="done")
    publish(session, on=timezone.now() - timedelta(days=20))
    return FollowUp.objects.create(session=session, number=1, due_on=today)


def test_an_owner_updates_an_action_in_place(live, cast, follow_up):
    page = live.page(cast.member)
    page.goto(f"{live.url}/follow-ups/{follow_up.uuid}/")
    attention = page.locator("section[aria-labelledby=attention-h]")
    titles = attention.locator(".fu-info > a").all_inner_texts()
    assert titles == ["Multi-AZ database", "Tag every resource"]
    shot(page, "followup")
    action = ActionItem.objects.get(title="Multi-AZ database")
    row = page.locator(f"#action-{action.uuid}")
    page.get_by_label("Percent complete of Multi-AZ database").fill("70")
    page.get_by_label("Note on Multi-AZ database").fill("Replica running; failover drill on Friday")
    page.get_by_role("button", name="Save Multi-AZ database").click()
    row.locator("text=Saved").wait_for()
    assert page.url.endswith(f"/follow-ups/{follow_up.uuid}/")  # no reload
    action.refresh_from_db()
    assert action.percent_complete == 70
    assert row.get_by_role("progressbar").get_attribute("aria-valuenow") == "70"
    # The other actions' forms still work after the swap.
    other = ActionItem.objects.get(title="Budget alerts")
    other_row = page.locator(f"#action-{other.uuid}")
    page.get_by_label("Status of Budget alerts").select_option("done")
    page.get_by_role("button", name="Save Budget alerts").click()
    other_row.locator("text=Saved").wait_for()
    summary = page.locator("#followup-summary")
    assert summary.locator(".fu-stat").nth(3).inner_text().startswith("2")
    shot(page, "followup-saved")


def test_the_bell_counts_down_as_notifications_are_read(live, cast):
    for title in ("Due tomorrow: Multi-AZ database", "Tomorrow: the review of Checkout"):
        Notification.objects.create(
            user=cast.member, occasion="action_due", title=title, url="/workloads/"
        )
    page = live.page(cast.member)
    page.goto(f"{live.url}/workloads/")
    assert page.locator("#bell-count").inner_text().startswith("2")
    page.locator(".bell").click()
    page.wait_for_url(f"{live.url}/notifications/")
    shot(page, "notifications")
    page.get_by_role("button", name="Mark read: “Due tomorrow: Multi-AZ database”").click()
    page.wait_for_function("() => document.querySelector('#bell-count').innerText.startsWith('1')")
    # Opening a notification is a POST (a GET would write nothing): it is read on the way.
    page.get_by_role("button", name="Tomorrow: the review of Checkout", exact=True).click()
    page.wait_for_url(f"{live.url}/workloads/")
    assert page.locator("#bell-count").is_hidden()


def test_the_cadence_page_and_the_preferences(live, cast, lenses):
    page = live.page(cast.member)
    page.goto(f"{live.url}/workloads/{cast.workload.uuid}/")
    shot(page, "workload")
    page.get_by_role("link", name="See and edit the cadence").click()
    page.locator("h1", has_text="Review cadence").wait_for()
    shot(page, "cadence")
    page.get_by_label("Review every (months)").fill("4")
    page.get_by_role("button", name="Save the cadence").click()
    page.locator("text=Review at least every 6 months").wait_for()
    page.get_by_label("Review every (months)").fill("9")
    page.get_by_role("button", name="Save the cadence").click()
    page.locator("#cadence-settings >> text=Saved").wait_for()
    cast.workload.refresh_from_db()
    assert cast.workload.review_interval_months == 9
    page.goto(f"{live.url}/notifications/preferences/")
    page.get_by_label("Action overdue: In a weekly email digest").check()
    page.get_by_role("button", name="Save preferences").click()
    page.locator("text=Your notification preferences are saved.").wait_for()
    page.get_by_role("button", name="Create my calendar link").click()
    assert ".ics" in page.get_by_label("Private link").input_value()
    shot(page, "preferences")
