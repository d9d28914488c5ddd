"""The plan table as a user meets it: a row saved inline with htmx (the row and the publish
card swapped back), the same as a plain form, several actions at once, the defaults, who may
do each, and a plan page whose queries do not grow with its actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from actions import items
from actions.models import ActionChange, ActionItem
from reviews.models import Phase
from tests.actions.analysis_helpers import analysed, move_to

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name, *args):
    return reverse(f"actions:{name}", args=args)


def add(cast, review, title, **fields):
    return items.action_create(
        workload=cast.workload, session=review, user=cast.admin, title=title, **fields
    )


@pytest.fixture
def planned(review, cast):
    first, second = analysed(review, cast)
    move_to(review, Phase.ACTION_PLAN)
    return review


@pytest.fixture
def bare(planned, cast):
    """An action with nothing the publish gate asks for."""
    return add(cast, planned, "Raise the quotas")


def row_data(cast, **fields):
    return {
        "owner": str(cast.member.pk),
        "due_on": (timezone.localdate() + timedelta(days=20)).isoformat(),
        "measurable_outcome": "No quota alarm for a month",
        "status": "open",
        **fields,
    }


def text(response) -> str:
    return response.content.decode()


def flashed(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- One row, with htmx -------------------------------------------------------------------------


def test_htmx_saves_the_row_and_swaps_it_back_with_the_publish_card(client, bare, cast):
    client.force_login(cast.admin)
    response = client.post(url("plan_row", bare.uuid), row_data(cast), **HTMX)
    assert response.status_code == 200
    bare.refresh_from_db()
    assert bare.owner == cast.member
    assert bare.measurable_outcome == "No quota alarm for a month"
    assert bare.due_on == timezone.localdate() + timedelta(days=20)
    body = text(response)
    assert body.lstrip().startswith(f'<tr id="action-{bare.uuid}"')
    assert 'role="status">Saved<' in body
    assert 'value="No quota alarm for a month"' in body
    # The only gap is filled: the publish card, swapped out of band, says so.
    assert 'id="publish" hx-swap-oob="true"' in body and "Ready" in body
    assert 'id="roadmap" aria-labelledby="roadmap-h" hx-swap-oob="true"' in body
    # The history has one row per field changed, by the person who saved.
    fields = set(ActionChange.objects.filter(action=bare, user=cast.admin).values_list("field"))
    assert fields == {("created",), ("owner",), ("due_on",), ("measurable_outcome",)}


def test_htmx_shows_errors_in_the_row_and_saves_nothing(client, bare, cast):
    client.force_login(cast.admin)
    response = client.post(url("plan_row", bare.uuid), row_data(cast, due_on="2026-13-45"), **HTMX)
    assert response.status_code == 200
    body = text(response)
    assert f'id="due-{bare.uuid}-error"' in body and "Enter a valid date." in body
    assert f'aria-describedby="due-{bare.uuid}-error"' in body
    # What was typed stays in the row; nothing was saved, not even the valid fields.
    assert 'value="No quota alarm for a month"' in body
    assert "Saved<" not in body
    bare.refresh_from_db()
    assert (bare.owner, bare.measurable_outcome, bare.due_on) == (None, "", None)
    assert not ActionChange.objects.exclude(field="created").exists()


def test_an_owner_outside_the_team_is_refused_next_to_the_owner(client, bare, cast):
    client.force_login(cast.admin)
    response = client.post(
        url("plan_row", bare.uuid), row_data(cast, owner=str(cast.outsider.pk)), **HTMX
    )
    assert f'id="owner-{bare.uuid}-error"' in text(response)
    bare.refresh_from_db()
    assert bare.owner is None and bare.measurable_outcome == ""


def test_the_rules_of_action_update_hold_in_the_row(client, bare, cast):
    """Done means complete: the row's status change goes through the same rules."""
    client.force_login(cast.member)
    client.post(url("plan_row", bare.uuid), row_data(cast, status="done"), **HTMX)
    bare.refresh_from_db()
    assert bare.status == "done" and bare.percent_complete == 100 and bare.completed_at


# --- One row, as a plain form -------------------------------------------------------------------


def test_a_plain_post_saves_and_goes_back_to_the_row(client, bare, cast):
    client.force_login(cast.admin)
    response = client.post(url("plan_row", bare.uuid), row_data(cast))
    assert response.status_code == 302
    assert response["Location"] == f"{url('plan', bare.session.uuid)}#action-{bare.uuid}"
    assert flashed(response) == ["“Raise the quotas” saved."]
    bare.refresh_from_db()
    assert bare.owner == cast.member


def test_a_plain_post_with_an_error_shows_the_page_with_the_row_in_error(client, bare, cast):
    client.force_login(cast.admin)
    response = client.post(url("plan_row", bare.uuid), row_data(cast, status="later"))
    assert response.status_code == 400
    body = text(response)
    assert "<h1>Action plan</h1>" in body
    assert f'id="status-{bare.uuid}-error"' in body
    bare.refresh_from_db()
    assert bare.owner is None


# --- Who may edit a row ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["viewer", "finance"])
def test_viewers_and_finance_cannot_change_someone_elses_row(client, bare, cast, who):
    client.force_login(getattr(cast, who))
    assert client.post(url("plan_row", bare.uuid), row_data(cast), **HTMX).status_code == 403
    assert client.post(url("plan_row", bare.uuid), row_data(cast)).status_code == 403
    bare.refresh_from_db()
    assert bare.owner is None


def test_an_owner_in_finance_edits_their_own_row(client, planned, cast):
    mine = add(cast, planned, "Cut the idle instances", owner=cast.finance)
    client.force_login(cast.finance)
    data = row_data(cast, owner=str(cast.finance.pk))
    assert client.post(url("plan_row", mine.uuid), data, **HTMX).status_code == 200
    mine.refresh_from_db()
    assert mine.measurable_outcome == "No quota alarm for a month"


def test_outsider_gets_404_and_get_is_not_allowed(client, bare, cast):
    client.force_login(cast.outsider)
    assert client.post(url("plan_row", bare.uuid), row_data(cast)).status_code == 404
    client.force_login(cast.admin)
    assert client.get(url("plan_row", bare.uuid)).status_code == 405


def test_an_action_outside_any_review_has_no_plan_row(client, cast, planned):
    loose = items.action_create(workload=cast.workload, user=cast.admin, title="Loose")
    client.force_login(cast.admin)
    assert client.post(url("plan_row", loose.uuid), row_data(cast)).status_code == 404


def test_the_page_offers_controls_only_to_who_may_edit(client, bare, cast):
    client.force_login(cast.viewer)
    body = text(client.get(url("plan", bare.session.uuid)))
    assert url("plan_row", bare.uuid) not in body and 'id="plan-bulk"' not in body
    assert "Fill in defaults" not in body
    client.force_login(cast.member)
    body = text(client.get(url("plan", bare.session.uuid)))
    assert f'hx-post="{url("plan_row", bare.uuid)}"' in body
    assert f'<label class="cell-label" for="owner-{bare.uuid}">' in body
    assert 'id="plan-bulk"' in body and "Fill in defaults" in body
    assert "Quick wins: in 30 days" in body


# --- Several at once ------------------------------------------------------------------------------


def test_bulk_assigns_the_selected_actions(client, planned, cast):
    chosen = [add(cast, planned, f"Action {n}") for n in range(3)]
    other = add(cast, planned, "Not chosen")
    due = timezone.localdate() + timedelta(days=45)
    client.force_login(cast.member)
    response = client.post(
        url("plan_bulk", planned.uuid),
        {
            "actions": [str(a.uuid) for a in chosen],
            "owner": str(cast.admin.pk),
            "due_on": due.isoformat(),
            "status": "",
        },
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#table-h")
    assert flashed(response) == ["3 actions changed."]
    for action in chosen:
        action.refresh_from_db()
        assert (action.owner, action.due_on, action.status) == (cast.admin, due, "open")
    other.refresh_from_db()
    assert other.owner is None


def test_bulk_without_a_selection_or_a_change_says_so(client, bare, cast):
    client.force_login(cast.admin)
    response = client.post(url("plan_bulk", bare.session.uuid), {"status": "done"})
    assert response.status_code == 400
    assert "Select the actions to change." in text(response)
    response = client.post(url("plan_bulk", bare.session.uuid), {"actions": [str(bare.uuid)]})
    assert response.status_code == 400
    body = text(response)
    assert "Choose an owner, a due date or a status to set." in body
    # The selection is kept for the next try.
    assert f'value="{bare.uuid}" form="plan-bulk" checked' in body


def test_a_bulk_refusal_names_the_action_and_changes_none(client, planned, cast, monkeypatch):
    first, second = add(cast, planned, "First"), add(cast, planned, "Second")
    real_update = items.action_update

    def refuse_second(*, action, user, changes):
        if action.pk == second.pk:
            raise items.ActionInvalid("owner", "Second may not change hands now.")
        return real_update(action=action, user=user, changes=changes)

    monkeypatch.setattr(items, "action_update", refuse_second)
    client.force_login(cast.admin)
    response = client.post(
        url("plan_bulk", planned.uuid),
        {"actions": [str(first.uuid), str(second.uuid)], "owner": str(cast.member.pk)},
    )
    assert response.status_code == 400
    assert "“Second” was refused: Second may not change hands now." in text(response)
    first.refresh_from_db()
    assert first.owner is None


@pytest.mark.parametrize("who, status", [("viewer", 403), ("outsider", 404)])
def test_bulk_and_defaults_are_refused_to_readers_and_outsiders(client, bare, cast, who, status):
    client.force_login(getattr(cast, who))
    data = {"actions": [str(bare.uuid)], "owner": str(cast.member.pk), "due_dates": "on"}
    assert client.post(url("plan_bulk", bare.session.uuid), data).status_code == status
    assert client.post(url("plan_defaults", bare.session.uuid), data).status_code == status
    bare.refresh_from_db()
    assert bare.owner is None and bare.due_on is None


def test_bulk_and_defaults_are_refused_once_the_review_is_closed(client, bare, cast):
    move_to(bare.session, Phase.CLOSED)
    client.force_login(cast.admin)
    data = {"actions": [str(bare.uuid)], "status": "done", "due_dates": "on"}
    assert client.post(url("plan_bulk", bare.session.uuid), data).status_code == 403
    assert client.post(url("plan_defaults", bare.session.uuid), data).status_code == 403


# --- Defaults -------------------------------------------------------------------------------------


def test_fill_in_defaults_sets_only_what_is_missing(client, planned, cast):
    first = planned.findings.get(question__pillar__name="Reliability")
    dated = add(cast, planned, "Dated", finding=first, due_on=timezone.localdate())
    bare = add(cast, planned, "Bare", finding=first, owner=cast.admin)
    client.force_login(cast.admin)
    response = client.post(
        url("plan_defaults", planned.uuid), {"owner-reliability": cast.member.pk, "due_dates": "on"}
    )
    assert response.status_code == 302
    assert flashed(response) == [
        "Filled in 1 owner and 1 due date; what was already set is unchanged."
    ]
    dated.refresh_from_db()
    bare.refresh_from_db()
    assert (dated.owner, dated.due_on) == (cast.member, timezone.localdate())
    assert bare.owner == cast.admin and bare.due_on is not None


def test_fill_in_defaults_asks_for_something_to_fill(client, bare, cast):
    client.force_login(cast.admin)
    response = client.post(url("plan_defaults", bare.session.uuid), {})
    assert response.status_code == 400
    assert "Choose an owner for a pillar, or the due dates, to fill in." in text(response)


# --- The page's cost ------------------------------------------------------------------------------


def test_the_plan_page_queries_do_not_grow_with_its_actions(
    client, planned, cast, django_assert_max_num_queries
):
    finding = planned.findings.first()
    add(cast, planned, "One", finding=finding, owner=cast.member)
    client.force_login(cast.admin)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url("plan", planned.uuid)).status_code == 200
    for n in range(29):
        add(cast, planned, f"Action {n}", finding=finding if n % 2 else None, owner=cast.member)
    assert ActionItem.objects.filter(session=planned).count() == 30
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url("plan", planned.uuid))
    assert text(response).count('<tr id="action-') == 30
