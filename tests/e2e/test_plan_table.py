"""The plan page as an editable table in a browser: an owner and an outcome set inline with
the keyboard (Enter saves the row, focus stays put, the publish card follows), three actions
given a due date at once, then the plan published; and on a phone the table is a list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from actions import items
from actions.models import ActionItem
from reviews.models import Phase
from tests.actions.analysis_helpers import analysed, move_to
from tests.e2e.test_phone import PHONE, fits

pytestmark = pytest.mark.e2e


def add(cast, review, title, **fields):
    return items.action_create(
        workload=cast.workload, session=review, user=cast.admin, title=title, **fields
    )


@pytest.fixture
def planned(review, cast):
    analysed(review, cast)
    move_to(review, Phase.ACTION_PLAN)
    return review


def test_edit_inline_with_the_keyboard_bulk_assign_and_publish(live, planned, cast):
    bare = add(cast, planned, "Raise the quotas")
    others = [
        add(cast, planned, title, measurable_outcome="Checked in the next game day")
        for title in ("Alarm on the quotas", "Rotate the keys")
    ]
    page = live.page(cast.admin)
    page.goto(live.url + reverse("actions:plan", args=[planned.uuid]))
    publish = page.locator("#publish")
    expect(publish).to_contain_text("3 actions still miss")
    expect(publish.get_by_role("button", name="Publish the plan")).to_be_disabled()

    # The owner by typing in the select, the outcome typed, Enter saves the row.
    page.get_by_label("Owner of “Raise the quotas”").focus()
    page.keyboard.type("Bob")
    outcome = page.get_by_label("Measurable outcome of “Raise the quotas”")
    outcome.focus()
    page.keyboard.type("No quota alarm for a month")
    page.keyboard.press("Enter")
    row = page.locator(f"#action-{bare.uuid}")
    expect(row.get_by_role("status")).to_have_text("Saved")
    assert page.evaluate("() => document.activeElement.id") == f"outcome-{bare.uuid}"
    bare.refresh_from_db()
    assert bare.owner == cast.member and bare.measurable_outcome == "No quota alarm for a month"
    # The publish card was swapped with the row: this action now lacks only a due date.
    expect(publish).to_contain_text("needs a due date")
    expect(publish).not_to_contain_text("needs an owner, a due date, a measurable outcome")

    # Three actions at once: a due date and an owner.
    due = timezone.localdate() + timedelta(days=40)
    for action in (bare, *others):
        page.get_by_label(f"Select “{action.title}”").check()
    page.select_option("#bulk-owner", label="Alice Admin")
    page.fill("#bulk-due", due.isoformat())
    page.get_by_role("button", name="Apply to the selected").click()
    expect(page.locator("body")).to_contain_text("3 actions changed.")
    for action in ActionItem.objects.filter(session=planned):
        assert action.due_on == due
    # The owner asked for in bulk replaces the one set inline, on all three.
    assert set(ActionItem.objects.values_list("owner__username", flat=True)) == {"alice"}

    expect(publish).to_contain_text("Ready")
    publish.get_by_role("button", name="Publish the plan").click()
    expect(page.locator("body")).to_contain_text("Plan published")
    planned.refresh_from_db()
    assert planned.plan_published_at is not None


def test_an_error_shows_in_the_row_and_a_gap_links_to_it(live, planned, cast):
    bare = add(cast, planned, "Raise the quotas")
    page = live.page(cast.admin)
    page.goto(live.url + reverse("actions:plan", args=[planned.uuid]))
    page.locator("#publish").get_by_role("link", name="Raise the quotas").click()
    assert page.url.endswith(f"#action-{bare.uuid}")
    # A due date the form refuses (typed where the browser's date picker would not allow it).
    page.evaluate(
        "(id) => { const el = document.getElementById(id); el.type = 'text';"
        " el.value = 'someday'; }",
        f"due-{bare.uuid}",
    )
    page.get_by_role("button", name="Save “Raise the quotas”").click()
    expect(page.locator(f"#due-{bare.uuid}-error")).to_have_text("Enter a valid date.")
    bare.refresh_from_db()
    assert bare.due_on is None


def test_the_table_is_a_list_on_a_phone(live, planned, cast):
    for n in range(3):
        add(cast, planned, f"Turn on multi-AZ for database {n}, then test the failover")
    page = live.page(cast.admin, viewport=PHONE)
    page.goto(live.url + reverse("actions:plan", args=[planned.uuid]))
    fits(page, "the plan")
    # Each control shows its label above it once the table is a list.
    label = page.locator("label.cell-label").first
    assert label.evaluate("(el) => getComputedStyle(el).position") == "static"
