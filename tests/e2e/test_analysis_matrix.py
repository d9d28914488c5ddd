"""The analysis page in a browser: rating by choosing a value (htmx, no reload), dragging a
finding on the impact × effort matrix, and updating progress inline on "My actions"."""

from __future__ import annotations

import pytest

from actions import items
from actions.models import ActionItem, Rating
from tests.actions.analysis_helpers import analysed, join

pytestmark = pytest.mark.e2e


def test_rating_and_dragging_on_the_matrix(live, review, cast):
    join(review, cast.member, "workload_owner")
    high, _ = analysed(review, cast)
    page = live.page(cast.admin)
    page.goto(f"{live.url}/sessions/{review.uuid}/analysis/")
    page.evaluate("window.notReloaded = true")

    # Choosing a rating saves it at once and redraws the matrix.
    page.select_option(f"#rate-impact-{high.uuid}", "5")
    page.wait_for_function(
        f"() => document.querySelector('#finding-{high.uuid}').innerText.includes('median 5')"
    )
    page.select_option(f"#rate-effort-{high.uuid}", "1")
    point = page.locator(f'.matrix-point[data-key="{high.uuid}"]')
    point.wait_for()
    assert point.get_attribute("data-impact") == "5"
    assert page.evaluate("window.notReloaded") is True
    assert Rating.objects.filter(finding=high).count() == 2

    # Dragging the point to the bottom-right corner places it at low impact, high effort.
    box = point.bounding_box()
    plot = page.locator("svg.matrix-chart rect[data-quadrant='thankless']").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(plot["x"] + plot["width"] - 8, plot["y"] + plot["height"] - 8, steps=10)
    page.mouse.up()
    page.wait_for_function(
        f"() => document.querySelector('#finding-{high.uuid}').innerText.includes('placed by hand')"
    )
    high.refresh_from_db()
    assert (high.impact_override, high.effort_override) == (1, 5)
    assert (
        page.locator(f'.matrix-point[data-key="{high.uuid}"]').get_attribute("data-effort") == "5"
    )
    assert page.evaluate("window.notReloaded") is True


def test_progress_is_updated_inline_on_my_actions(live, review, cast):
    analysed(review, cast)
    action = items.action_create(
        workload=cast.workload,
        session=review,
        user=cast.admin,
        title="Alarm on quotas",
        owner=cast.member,
    )
    page = live.page(cast.member)
    page.goto(f"{live.url}/actions/mine/")
    page.select_option(f"#status-{action.uuid}", "done")
    page.click(f"#action-{action.uuid} button[type=submit]")
    page.wait_for_selector(f"#action-{action.uuid} .saved")
    assert page.input_value(f"#percent-{action.uuid}") == "100"
    action.refresh_from_db()
    assert action.status == ActionItem.Status.DONE and action.percent_complete == 100
