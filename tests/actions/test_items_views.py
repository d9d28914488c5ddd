"""Action item pages: create (one click or the form), detail with comments and history,
edit, inline progress; access rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from actions import items
from actions.models import ActionChange, ActionComment, ActionItem
from questionnaires.models import Choice
from reviews.models import Phase
from tests.actions.analysis_helpers import move_to
from tests.conftest import HTMX


def url(name, *args):
    return reverse(f"actions:{name}", args=args)


@pytest.fixture
def action(review, cast, finding):
    return items.action_create(
        workload=cast.workload,
        session=review,
        finding=finding,
        user=cast.admin,
        title="Raise the quotas",
        owner=cast.member,
    )


def form_data(cast, **overrides):
    data = {
        "title": "Add a canary deployment",
        "description": "Deploy to 5% first.",
        "measurable_outcome": "Every deploy goes through a canary",
        "owner": cast.member.pk,
        "due_on": (timezone.localdate() + timedelta(days=30)).isoformat(),
        "status": "open",
        "percent_complete": 0,
        "effort": "m",
        "monthly_saving": "",
        "currency": "usd",
        "external_key": "OPS-12",
        "external_url": "https://tracker.example.com/OPS-12",
    }
    data.update(overrides)
    return data


# --- Creating -------------------------------------------------------------------------------------


def test_create_from_a_practice_with_htmx_shows_the_action_on_the_card(client, finding, cast):
    choice = Choice.objects.filter(question=finding.question, is_none_of_these=False).first()
    client.force_login(cast.member)
    response = client.post(
        url("action_from_practice", finding.uuid), {"choice": choice.ident}, **HTMX
    )
    action = ActionItem.objects.get()
    body = response.content.decode()
    assert url("action_detail", action.uuid) in body
    assert "Action: open" in body


def test_create_from_a_practice_without_js_redirects_to_the_finding(client, finding, cast):
    choice = Choice.objects.filter(question=finding.question, is_none_of_these=False).first()
    client.force_login(cast.member)
    response = client.post(url("action_from_practice", finding.uuid), {"choice": choice.ident})
    assert response.status_code == 302
    assert response["Location"].endswith(f"#finding-{finding.uuid}")
    assert ActionItem.objects.get().choice == choice


def test_an_unknown_practice_is_refused_with_a_message(client, finding, cast):
    client.force_login(cast.member)
    response = client.post(url("action_from_practice", finding.uuid), {"choice": "nope"}, **HTMX)
    assert "Choose one of this finding" in response.content.decode()
    assert not ActionItem.objects.exists()


@pytest.mark.parametrize("who", ["finance", "viewer"])
def test_finance_and_viewers_do_not_create_actions(client, finding, cast, who):
    choice = Choice.objects.filter(question=finding.question, is_none_of_these=False).first()
    client.force_login(getattr(cast, who))
    response = client.post(url("action_from_practice", finding.uuid), {"choice": choice.ident})
    assert response.status_code == 403
    assert client.get(url("action_create", finding.session.uuid)).status_code == 403


def test_create_by_hand(client, review, cast, finding):
    client.force_login(cast.member)
    page = client.get(url("action_create", review.uuid), {"finding": finding.uuid})
    assert finding.question.title in page.content.decode()
    response = client.post(
        url("action_create", review.uuid) + f"?finding={finding.uuid}", form_data(cast)
    )
    action = ActionItem.objects.get()
    assert response["Location"] == url("action_detail", action.uuid)
    assert (action.finding, action.question, action.session) == (
        finding,
        finding.question,
        review,
    )
    assert action.currency == "USD" and action.effort == "m" and action.owner == cast.member


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"percent_complete": 120}, "percent_complete", "less than or equal to 100"),
        ({"monthly_saving": "-3"}, "monthly_saving", "greater than or equal to 0"),
        ({"currency": "dollars"}, "currency", "at most 3 characters"),
        ({"currency": "U5D"}, "currency", "three-letter currency code"),
        ({"external_url": "ftp://x.example.com"}, "external_url", "Enter a valid URL"),
        ({"due_on": "2001-01-01"}, "due_on", "cannot be in the past"),
        ({"title": ""}, "title", "This field is required"),
    ],
)
def test_create_form_names_the_bad_field(client, review, finding, cast, overrides, field, message):
    client.force_login(cast.member)
    response = client.post(url("action_create", review.uuid), form_data(cast, **overrides))
    assert response.status_code == 200
    assert message in str(response.context["form"].errors[field])
    assert not ActionItem.objects.exists()


def test_the_owner_must_be_a_team_member(client, review, finding, cast):
    client.force_login(cast.member)
    response = client.post(
        url("action_create", review.uuid), form_data(cast, owner=cast.outsider.pk)
    )
    assert "owner" in response.context["form"].errors
    assert not ActionItem.objects.exists()


def test_actions_are_not_created_before_the_analysis(client, review, cast):
    move_to(review, Phase.REVIEW)
    client.force_login(cast.member)
    assert client.get(url("action_create", review.uuid)).status_code == 403


def test_a_finding_of_another_review_is_a_404(client, review, cast, finding):
    client.force_login(cast.member)
    response = client.get(url("action_create", review.uuid), {"finding": "not-a-uuid"})
    assert response.status_code == 404


# --- Reading, editing, commenting ---------------------------------------------------------------


def test_detail_shows_the_action_its_finding_comments_and_history(client, action, cast):
    items.action_comment_add(action=action, user=cast.member, body="Started on this.")
    items.action_update(action=action, user=cast.member, changes={"status": "in_progress"})
    client.force_login(cast.viewer)
    body = client.get(url("action_detail", action.uuid)).content.decode()
    assert "Raise the quotas" in body and action.finding.question.title in body
    assert "Started on this." in body
    assert "changed the <strong>status</strong>" in body and "In progress" in body
    assert "created the action" in body
    assert url("action_edit", action.uuid) not in body, "viewers do not edit"
    assert 'name="body"' not in body, "viewers do not comment"


def test_edit_records_the_history(client, action, cast):
    client.force_login(cast.member)
    data = form_data(cast, title="Raise the quotas", due_on="2001-01-01", status="blocked")
    response = client.post(url("action_edit", action.uuid), data)
    assert response["Location"] == url("action_detail", action.uuid)
    action.refresh_from_db()
    assert action.status == "blocked" and str(action.due_on) == "2001-01-01"
    fields = set(ActionChange.objects.filter(action=action).values_list("field", flat=True))
    assert {"status", "due_on", "measurable_outcome", "external_key"} <= fields
    assert "title" not in fields


def test_edit_form_shows_current_values(client, action, cast):
    client.force_login(cast.member)
    body = client.get(url("action_edit", action.uuid)).content.decode()
    assert 'value="Raise the quotas"' in body


def test_comment_with_htmx_returns_the_comments(client, action, cast):
    client.force_login(cast.finance)
    response = client.post(url("action_comment", action.uuid), {"body": "Budget approved"}, **HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card" id="comments"')
    assert "Budget approved" in body
    assert ActionComment.objects.get().author == cast.finance


def test_comment_without_js_redirects(client, action, cast):
    client.force_login(cast.member)
    response = client.post(url("action_comment", action.uuid), {"body": "Hello"})
    assert response["Location"].endswith("#comments")


def test_an_empty_comment_is_refused(client, action, cast):
    client.force_login(cast.member)
    response = client.post(url("action_comment", action.uuid), {"body": "  "}, **HTMX)
    assert "This field is required" in response.content.decode()
    assert not ActionComment.objects.exists()


@pytest.mark.parametrize("who", ["viewer"])
def test_viewers_cannot_edit_comment_or_progress(client, action, cast, who):
    client.force_login(getattr(cast, who))
    assert client.get(url("action_edit", action.uuid)).status_code == 403
    assert client.post(url("action_comment", action.uuid), {"body": "x"}).status_code == 403
    progress = {"status": "done", "percent_complete": 100}
    assert client.post(url("action_progress", action.uuid), progress).status_code == 403


def test_finance_edits_only_actions_it_owns(client, action, cast):
    client.force_login(cast.finance)
    progress = {"status": "in_progress", "percent_complete": 10}
    assert client.post(url("action_progress", action.uuid), progress).status_code == 403
    items.action_update(action=action, user=cast.admin, changes={"owner": cast.finance})
    assert client.post(url("action_progress", action.uuid), progress).status_code == 302
    action.refresh_from_db()
    assert action.status == "in_progress"


# --- Progress inline ---------------------------------------------------------------------------


def test_progress_with_htmx_returns_the_row(client, action, cast):
    client.force_login(cast.member)
    response = client.post(
        url("action_progress", action.uuid), {"status": "done", "percent_complete": 20}, **HTMX
    )
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tr id="action-{action.uuid}"')
    assert "Saved" in body
    action.refresh_from_db()
    assert action.status == "done" and action.percent_complete == 100 and action.completed_at


def test_progress_errors_are_shown_in_the_row(client, action, cast):
    client.force_login(cast.member)
    response = client.post(
        url("action_progress", action.uuid), {"status": "open", "percent_complete": 300}, **HTMX
    )
    assert (
        "Percent complete: Ensure this value is less than or equal to 100"
        in response.content.decode()
    )
    action.refresh_from_db()
    assert action.percent_complete == 0


def test_progress_without_js_goes_back_to_a_safe_next(client, action, cast):
    client.force_login(cast.member)
    data = {"status": "in_progress", "percent_complete": 30}
    mine = url("my_actions") + "?filtered=1&due=week"
    response = client.post(url("action_progress", action.uuid), {**data, "next": mine})
    assert response["Location"] == mine
    response = client.post(
        url("action_progress", action.uuid), {**data, "next": "https://evil.example.com/"}
    )
    assert response["Location"] == url("action_detail", action.uuid)


# --- Access -------------------------------------------------------------------------------------


def test_outsider_gets_404(client, action, finding, cast, review):
    client.force_login(cast.outsider)
    assert client.get(url("action_detail", action.uuid)).status_code == 404
    assert client.get(url("action_edit", action.uuid)).status_code == 404
    assert client.post(url("action_comment", action.uuid), {"body": "x"}).status_code == 404
    assert client.post(url("action_progress", action.uuid), {}).status_code == 404
    assert client.get(url("action_create", review.uuid)).status_code == 404
    assert client.post(url("action_from_practice", finding.uuid), {}).status_code == 404


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("action_detail", "post"),
        ("action_comment", "get"),
        ("action_progress", "get"),
        ("action_edit", "put"),
    ],
)
def test_wrong_method_is_refused(client, action, cast, name, method):
    client.force_login(cast.member)
    assert getattr(client, method)(url(name, action.uuid)).status_code == 405


def test_wrong_method_on_create_views(client, finding, cast, review):
    client.force_login(cast.member)
    assert client.get(url("action_from_practice", finding.uuid)).status_code == 405
    assert client.put(url("action_create", review.uuid)).status_code == 405
