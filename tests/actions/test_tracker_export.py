"""Action items for an issue tracker: a CSV that Jira's CSV importer maps by its column
names, and the same as JSON, from the plan page."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.urls import reverse

from actions.items import action_create, action_update
from actions.models import ActionItem
from actions.transfer.tracker import COLUMNS, label
from reviews.models import ReviewSession
from tests.actions.transfer_helpers import full_workload


@pytest.fixture
def planned(cast, lenses) -> ReviewSession:
    return full_workload(cast)


def csv_rows(response) -> list[dict[str, list[str]]]:
    """Each row as column name -> values (Labels comes twice)."""
    reader = csv.reader(io.StringIO(response.content.decode()))
    header = next(reader)
    assert header == COLUMNS
    rows = []
    for values in reader:
        row: dict[str, list[str]] = {}
        for name, value in zip(header, values, strict=True):
            row.setdefault(name, []).append(value)
        rows.append(row)
    return rows


def test_the_plan_page_offers_both_downloads(client, cast, planned):
    client.force_login(cast.viewer)
    page = client.get(reverse("actions:plan", args=[planned.uuid])).content.decode()
    assert reverse("actions:tracker_csv", args=[planned.uuid]) in page
    assert reverse("actions:tracker_json", args=[planned.uuid]) in page


def test_the_csv_has_what_jira_maps(client, cast, planned):
    client.force_login(cast.member)
    response = client.get(reverse("actions:tracker_csv", args=[planned.uuid]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="checkout-actions.csv"'
    quotas, backfills = csv_rows(response)
    quota_action = ActionItem.objects.get(title="Raise the service quotas")
    assert quotas["Summary"] == ["Raise the service quotas"]
    assert quotas["Issue Type"] == ["Task"]
    assert quotas["Assignee"] == ["bob@example.com"]
    assert quotas["Due date"] == ["2030-03-31"]
    # Rated high impact (5) and low effort (2): a quick win.
    assert quotas["Priority"] == ["Highest"]
    assert quotas["Labels"] == ["reliability", "checkout"]
    assert quotas["External issue ID"] == [f"pillarwise-{quota_action.uuid}"]
    assert quotas["Issue key"] == [""]
    description = quotas["Description"][0]
    assert description.startswith("Ask for the quotas before the sale.")
    assert "Measurable outcome: Quotas at twice the peak" in description
    assert (
        "Finding: High risk in Reliability: How do you stay ahead of service quotas and "
        "platform limits?" in description
    )
    assert "\n\nImprovement links:\n- " in description
    assert f"/actions/{quota_action.uuid}/" in description
    # Only an impact rating: not placed on the matrix yet.
    assert backfills["Priority"] == ["Medium"]
    assert backfills["Labels"] == ["data-operations", "checkout"]
    assert "Best practice to put in place: Backfills are throttled" in backfills["Description"][0]
    assert (
        "- Improvement guidance: https://example.com/idempotent" not in backfills["Description"][0]
    )


def test_the_external_id_stays_so_importing_again_updates(client, cast, planned):
    client.force_login(cast.admin)
    url = reverse("actions:tracker_csv", args=[planned.uuid])
    first = csv_rows(client.get(url))
    action = ActionItem.objects.get(title="Raise the service quotas")
    action_update(
        action=action,
        user=cast.admin,
        changes={"title": "Raise the quotas", "external_key": "OPS-12"},
    )
    second = csv_rows(client.get(url))
    assert [r["External issue ID"] for r in first] == [r["External issue ID"] for r in second]
    assert second[0]["Summary"] == ["Raise the quotas"] and second[0]["Issue key"] == ["OPS-12"]


def test_cancelled_actions_are_left_out_and_formulas_are_defused(client, cast, planned):
    action_update(
        action=ActionItem.objects.get(title="Throttle the backfills"),
        user=cast.admin,
        changes={"status": "cancelled"},
    )
    action_create(workload=cast.workload, user=cast.admin, session=planned, title="=HYPERLINK(1)")
    client.force_login(cast.admin)
    rows = csv_rows(client.get(reverse("actions:tracker_csv", args=[planned.uuid])))
    assert [r["Summary"][0] for r in rows] == ["Raise the service quotas", "'=HYPERLINK(1)"]
    assert rows[1]["Labels"] == ["checkout", ""]


def test_the_json_gives_the_same_rows(client, cast, planned):
    client.force_login(cast.finance)
    response = client.get(reverse("actions:tracker_json", args=[planned.uuid]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    quotas, backfills = json.loads(response.content)["actions"]
    assert quotas["summary"] == "Raise the service quotas"
    assert quotas["assignee"] == "bob@example.com"
    assert quotas["priority"] == "Highest" and quotas["quadrant"] == "quick_win"
    assert quotas["labels"] == ["reliability", "checkout"]
    assert quotas["externalId"].startswith("pillarwise-")
    assert quotas["status"] == "in_progress" and quotas["percentComplete"] == 40
    assert backfills["priority"] == "Medium"


@pytest.mark.parametrize("name", ["actions:tracker_csv", "actions:tracker_json"])
def test_the_downloads_take_get_only(client, cast, review, name):
    client.force_login(cast.admin)
    assert client.post(reverse(name, args=[review.uuid])).status_code == 405


def test_an_empty_plan_gives_the_header_alone(client, cast, review):
    client.force_login(cast.admin)
    response = client.get(reverse("actions:tracker_csv", args=[review.uuid]))
    assert csv_rows(response) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Operational excellence", "operational-excellence"),
        ("  Cost / Optimisation ", "cost-optimisation"),
        ("Ünïcode pillar", "ünïcode-pillar"),
        ("", "none"),
    ],
)
def test_labels_have_no_spaces(text, expected):
    assert label(text) == expected


def test_a_best_practice_brings_its_improvement_link(client, cast, planned):
    finding = ActionItem.objects.get(title="Throttle the backfills").finding
    practice = finding.question.choices.get(ident="bf_idempotent")
    action_create(
        workload=cast.workload,
        user=cast.admin,
        session=planned,
        finding=finding,
        question=finding.question,
        choice=practice,
        title="Make backfills idempotent",
    )
    client.force_login(cast.admin)
    rows = json.loads(client.get(reverse("actions:tracker_json", args=[planned.uuid])).content)
    row = next(r for r in rows["actions"] if r["summary"] == "Make backfills idempotent")
    assert "Best practice to put in place: Backfills are idempotent" in row["description"]
    assert "- Improvement guidance: https://example.com/idempotent" in row["description"]
    assert row["labels"] == ["data-operations", "checkout"]
