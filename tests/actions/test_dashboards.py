"""Pages across workloads: the team dashboard (home), "My actions" and the finance view of
cost findings: what they show, their filters and sorting, and flat query counts."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from actions import dashboards, findings, items
from reviews import sessions
from reviews.models import Membership, Team, Workload, WorkloadType
from tests.actions.analysis_helpers import analysed, set_risk
from tests.conftest import HTMX

TODAY = timezone.localdate


def url(name):
    return reverse(f"actions:{name}")


def new_workload(team, name, owner, **extra):
    return Workload.objects.create(
        team=team, name=name, workload_type=WorkloadType.INTERNAL, owner=owner, **extra
    )


def new_session(workload, user, *, days=10, title="Review"):
    return sessions.session_create(
        workload=workload,
        user=user,
        title=title,
        kind="periodic",
        review_starts_at=timezone.now() + timedelta(days=days),
    )


def new_action(workload, user, *, session=None, **fields):
    fields.setdefault("title", "Do something")
    return items.action_create(workload=workload, session=session, user=user, **fields)


def make_overdue(action, user, days=3):
    items.action_update(
        action=action, user=user, changes={"due_on": TODAY() - timedelta(days=days)}
    )


# --- The dashboard -------------------------------------------------------------------------------


def test_the_home_page_is_the_dashboard(client, cast):
    client.force_login(cast.member)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert response.resolver_match.func.__name__ == "dashboard"
    assert 'aria-current="page">Dashboard' in response.content.decode()


def test_risk_counts_come_from_the_latest_answered_review(client, review, cast, lenses):
    set_risk(review, "priorities", "HIGH", cast.admin)
    set_risk(review, "ops-model", "HIGH", cast.admin)
    set_risk(review, "identities", "MEDIUM", cast.admin)
    later = new_session(cast.workload, cast.admin, days=40, title="Later")
    rows, _ = dashboards.dashboard_rows(cast.member)
    (row,) = rows
    assert (row.high_count, row.medium_count) == (2, 1), "the later review has no answers"
    set_risk(later, "priorities", "HIGH", cast.admin)
    (row,) = dashboards.dashboard_rows(cast.member)[0]
    assert (row.high_count, row.medium_count) == (1, 0)
    assert row.latest_session_uuid == later.uuid


def test_next_review_is_the_next_session_else_the_due_date(cast, lenses):
    cast.workload.next_review_due_on = TODAY() + timedelta(days=200)
    cast.workload.next_review_kind = "monthly_light"
    cast.workload.save(update_fields=["next_review_due_on", "next_review_kind"])
    (row,) = dashboards.dashboard_rows(cast.member)[0]
    assert row.next_review == cast.workload.next_review_due_on and not row.next_review_is_session
    assert row.next_review_label == "Monthly light review"
    session = new_session(cast.workload, cast.admin, days=20)
    (row,) = dashboards.dashboard_rows(cast.member)[0]
    assert row.next_review == timezone.localdate(session.review_starts_at)
    assert row.next_review_is_session
    assert row.next_review_label == session.get_kind_display()


def test_the_dashboard_shows_the_next_reviews_date_and_kind(client, cast, lenses):
    cast.workload.next_review_due_on = TODAY() + timedelta(days=30)
    cast.workload.next_review_kind = "critical_quarterly"
    cast.workload.save(update_fields=["next_review_due_on", "next_review_kind"])
    client.force_login(cast.member)
    body = client.get(reverse("actions:dashboard")).content.decode()
    assert f"{cast.workload.next_review_due_on:%-d %b %Y}" in body
    assert "Critical workload, quarterly · due" in body


def test_overdue_actions_are_open_and_past_due(cast):
    late = new_action(cast.workload, cast.admin)
    make_overdue(late, cast.admin)
    done = new_action(cast.workload, cast.admin)
    make_overdue(done, cast.admin)
    items.action_update(action=done, user=cast.admin, changes={"status": "done"})
    new_action(cast.workload, cast.admin, due_on=TODAY() + timedelta(days=2))
    (row,) = dashboards.dashboard_rows(cast.member)[0]
    assert row.overdue_count == 1


def test_the_dashboard_shows_only_my_teams_workloads(client, cast):
    client.force_login(cast.member)
    body = client.get(url("dashboard")).content.decode()
    assert "Checkout" in body and "Secret" not in body


@pytest.fixture
def three(cast, lenses):
    """Three workloads: Alpha-1 (2 high, 1 overdue), Beta (1 high, 3 medium, review soon),
    Checkout (nothing)."""
    a = new_workload(cast.team, "Alpha-1", cast.member)
    b = new_workload(cast.team, "Beta", cast.member)
    sa = new_session(a, cast.admin, days=90)
    sb = new_session(b, cast.admin, days=5)
    for ident in ("priorities", "ops-model"):
        set_risk(sa, ident, "HIGH", cast.admin)
    set_risk(sb, "priorities", "HIGH", cast.admin)
    for ident in ("ops-model", "identities", "securely-operate"):
        set_risk(sb, ident, "MEDIUM", cast.admin)
    make_overdue(new_action(a, cast.admin), cast.admin)
    return a, b


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("", ["Alpha-1", "Beta", "Checkout"]),  # default: most high risks first
        ("-high", ["Alpha-1", "Beta", "Checkout"]),
        ("high", ["Checkout", "Beta", "Alpha-1"]),
        ("-medium", ["Beta", "Alpha-1", "Checkout"]),
        ("name", ["Alpha-1", "Beta", "Checkout"]),
        ("-name", ["Checkout", "Beta", "Alpha-1"]),
        ("next_review", ["Beta", "Alpha-1", "Checkout"]),
        ("-next_review", ["Alpha-1", "Beta", "Checkout"]),  # undated last either way
        ("-overdue", ["Alpha-1", "Beta", "Checkout"]),
        ("nonsense", ["Alpha-1", "Beta", "Checkout"]),
    ],
)
def test_the_dashboard_sorts_by_each_column(client, cast, three, sort, order):
    client.force_login(cast.member)
    response = client.get(url("dashboard"), {"sort": sort} if sort else {})
    assert [w.name for w in response.context["rows"]] == order


def test_sort_links_toggle_and_mark_the_active_column(client, cast, three):
    client.force_login(cast.member)
    body = client.get(url("dashboard"), {"sort": "name"}).content.decode()
    assert 'aria-sort="ascending"><a href="?sort=-name">' in body
    assert '<a href="?sort=-high">High risks' in body


def test_the_dashboard_query_count_stays_flat(client, cast, lenses, django_assert_max_num_queries):
    client.force_login(cast.member)
    with django_assert_max_num_queries(9):
        client.get(url("dashboard"))
    for i in range(12):
        workload = new_workload(cast.team, f"W{i}", cast.member)
        session = new_session(workload, cast.admin, days=i + 1)
        set_risk(session, "priorities", "HIGH", cast.admin)
        make_overdue(new_action(workload, cast.admin, owner=cast.member), cast.admin)
    with django_assert_max_num_queries(9):
        response = client.get(url("dashboard"))
    assert len(response.context["rows"]) == 13
    assert response.context["totals"] == {"high": 12, "medium": 0, "overdue": 12}


def test_the_dashboard_empty_states(client, cast):
    Workload.objects.filter(team=cast.team).delete()
    client.force_login(cast.member)
    assert "No workloads yet." in client.get(url("dashboard")).content.decode()
    client.force_login(cast.outsider)
    cast.outsider.memberships.all().delete()
    assert "You are not in a team yet." in client.get(url("dashboard")).content.decode()


def test_dashboard_wrong_method(client, cast):
    client.force_login(cast.member)
    assert client.post(url("dashboard")).status_code == 405


# --- My actions ------------------------------------------------------------------------------------


@pytest.fixture
def mine(cast):
    """bob owns: an overdue open action, one due in 5 days, one in 20 days, an undated one
    and a done one; alice owns one. A second team's workload adds one more of bob's."""
    other = Team.objects.create(name="Charlie")
    Membership.objects.create(team=other, user=cast.member)
    elsewhere = new_workload(other, "Ledger", cast.member)
    w = cast.workload
    actions = {
        "overdue": new_action(w, cast.admin, title="Overdue one", owner=cast.member),
        "week": new_action(w, cast.admin, title="This week", owner=cast.member),
        "month": new_action(elsewhere, cast.member, title="This month", owner=cast.member),
        "undated": new_action(w, cast.admin, title="Undated", owner=cast.member),
        "done": new_action(w, cast.admin, title="Finished", owner=cast.member),
        "hers": new_action(w, cast.admin, title="Alice's", owner=cast.admin),
    }
    make_overdue(actions["overdue"], cast.admin)
    items.action_update(
        action=actions["week"], user=cast.admin, changes={"due_on": TODAY() + timedelta(days=5)}
    )
    items.action_update(
        action=actions["month"],
        user=cast.admin,
        changes={"due_on": TODAY() + timedelta(days=20), "status": "blocked"},
    )
    items.action_update(action=actions["done"], user=cast.admin, changes={"status": "done"})
    return actions


def titles(response):
    return [a.title for a in response.context["actions"]]


def test_my_actions_lists_my_open_actions_across_workloads_soonest_first(client, cast, mine):
    client.force_login(cast.member)
    response = client.get(url("my_actions"))
    assert titles(response) == ["Overdue one", "This week", "This month", "Undated"]
    body = response.content.decode()
    assert f'<tr id="action-{mine["overdue"].uuid}" class="overdue">' in body
    assert "1 overdue" in body and "Ledger" in body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": ["done"]}, ["Finished"]),
        ({"status": ["blocked", "done"]}, ["This month", "Finished"]),
        ({}, ["Overdue one", "This week", "This month", "Undated", "Finished"]),
        ({"due": "overdue"}, ["Overdue one"]),
        ({"due": "week"}, ["This week"]),
        ({"due": "month"}, ["This week", "This month"]),
        ({"due": "none"}, ["Undated", "Finished"]),
        ({"status": ["open"], "due": "none"}, ["Undated"]),
    ],
)
def test_my_actions_filters_by_status_and_due(client, cast, mine, query, expected):
    client.force_login(cast.member)
    response = client.get(url("my_actions"), {"filtered": "1", **query})
    assert titles(response) == expected


def test_my_actions_with_a_bad_filter_shows_everything_instead_of_failing(client, cast, mine):
    client.force_login(cast.member)
    response = client.get(url("my_actions"), {"filtered": "1", "status": "nope"})
    assert response.status_code == 200 and len(titles(response)) == 5


def test_my_actions_updates_status_and_percent_inline(client, cast, mine):
    client.force_login(cast.member)
    action = mine["week"]
    response = client.post(
        reverse("actions:action_progress", args=[action.uuid]),
        {"status": "in_progress", "percent_complete": 45, "next": url("my_actions")},
        **HTMX,
    )
    assert 'value="45"' in response.content.decode()
    action.refresh_from_db()
    assert (action.status, action.percent_complete) == ("in_progress", 45)


def test_my_actions_query_count_stays_flat(client, cast, mine, django_assert_max_num_queries):
    client.force_login(cast.member)
    with django_assert_max_num_queries(6):
        client.get(url("my_actions"), {"filtered": "1"})
    for i in range(20):
        new_action(cast.workload, cast.admin, title=f"More {i}", owner=cast.member)
    with django_assert_max_num_queries(6):
        response = client.get(url("my_actions"), {"filtered": "1"})
    assert len(titles(response)) == 25


def test_my_actions_empty_states(client, cast, mine):
    client.force_login(cast.finance)
    assert "You own no actions." in client.get(url("my_actions")).content.decode()
    client.force_login(cast.member)
    body = client.get(url("my_actions"), {"filtered": "1", "status": "cancelled"}).content
    assert "No action matches these filters." in body.decode()


def test_an_outsider_sees_none_of_my_actions(client, cast, mine):
    client.force_login(cast.outsider)
    assert titles(client.get(url("my_actions"), {"filtered": "1"})) == []


def test_my_actions_wrong_method(client, cast):
    client.force_login(cast.member)
    assert client.post(url("my_actions")).status_code == 405


# --- Cost findings -------------------------------------------------------------------------------


@pytest.fixture
def costs(review, cast):
    """Checkout's review analysed with a cost finding (govern-usage, high), a reliability
    one, and a resolved cost finding; cost actions in USD and EUR, one cancelled."""
    analysed(review, cast, {"govern-usage": "HIGH", "manage-service-limits": "HIGH"})
    set_risk(review, "cloud-financial-management", "MEDIUM", cast.admin)
    findings.findings_sync(session=review)
    set_risk(review, "cloud-financial-management", "NONE", cast.admin)
    findings.findings_sync(session=review)
    finding = findings.findings_ordered(review).get(question__ident="govern-usage")
    w = cast.workload
    new = {
        "rightsize": {"monthly_saving": Decimal("1200"), "currency": "USD", "owner": cast.finance},
        "reserved": {"monthly_saving": Decimal("300.50"), "currency": "USD"},
        "storage": {"monthly_saving": Decimal("90"), "currency": "EUR"},
        "dropped": {"monthly_saving": Decimal("5000"), "currency": "USD"},
        "=HYPERLINK(1)": {},
    }
    actions = {
        title: new_action(w, cast.admin, session=review, finding=finding, title=title, **fields)
        for title, fields in new.items()
    }
    items.action_update(action=actions["dropped"], user=cast.admin, changes={"status": "cancelled"})
    items.action_update(
        action=actions["reserved"], user=cast.admin, changes={"status": "in_progress"}
    )
    new_action(w, cast.admin, session=review, title="Not about cost")
    return review


def test_cost_view_lists_cost_findings_and_actions_only(client, cast, costs):
    client.force_login(cast.finance)
    response = client.get(url("cost_findings"))
    overview = response.context["overview"]
    assert [f.question.ident for f in overview.findings] == ["govern-usage"]
    assert overview.findings[0].action_count == 4
    assert {a.title for a in overview.actions} == {
        "rightsize",
        "reserved",
        "storage",
        "dropped",
        "=HYPERLINK(1)",
    }
    assert 'aria-current="page">Cost findings' in response.content.decode()


def test_cost_totals_are_per_currency_per_workload_and_status(client, cast, costs):
    other = new_workload(cast.team, "Batch", cast.member)
    new_action(other, cast.admin, title="Spot", monthly_saving=Decimal("10"), currency="USD")
    overview = dashboards.cost_overview(cast.finance)
    assert overview.totals == {"EUR": Decimal("90"), "USD": Decimal("1510.50")}
    assert overview.by_workload == [
        ("Batch", {"USD": Decimal("10")}),
        ("Checkout", {"USD": Decimal("1500.50"), "EUR": Decimal("90")}),
    ]
    assert overview.by_status == [
        ("Open", {"USD": Decimal("1210"), "EUR": Decimal("90")}),
        ("In progress", {"USD": Decimal("300.50")}),
    ]


def test_cost_csv_export(client, cast, costs):
    client.force_login(cast.viewer)
    response = client.get(url("cost_findings"), {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    kinds = [r["type"] for r in rows]
    assert kinds.count("finding") == 1 and kinds.count("action") == 5
    rightsize = next(r for r in rows if r["action"] == "rightsize")
    assert rightsize["monthly saving"] == "1200.00" and rightsize["currency"] == "USD"
    assert rightsize["owner"] == "Fay Finance" and rightsize["workload"] == "Checkout"
    assert any(r["action"] == "'=HYPERLINK(1)" for r in rows), "formulas are defused"


def test_cost_view_is_for_every_role_and_only_my_teams(client, cast, costs):
    for user in (cast.finance, cast.viewer, cast.member):
        client.force_login(user)
        assert client.get(url("cost_findings")).status_code == 200
    client.force_login(cast.outsider)
    overview = client.get(url("cost_findings")).context["overview"]
    assert overview.findings == [] and overview.actions == []


def test_cost_view_filters_by_team(client, cast, costs):
    other = Team.objects.create(name="Delta")
    Membership.objects.create(team=other, user=cast.finance, role=Membership.Role.FINANCE)
    client.force_login(cast.finance)
    response = client.get(url("cost_findings"), {"team": other.uuid})
    assert response.context["overview"].actions == []
    response = client.get(url("cost_findings"), {"team": "garbage"})
    assert len(response.context["overview"].actions) == 5


def test_cost_view_query_count_stays_flat(client, cast, costs, django_assert_max_num_queries):
    client.force_login(cast.finance)
    with django_assert_max_num_queries(8):
        client.get(url("cost_findings"))
    for i in range(6):
        workload = new_workload(cast.team, f"Cost {i}", cast.member)
        session = new_session(workload, cast.admin)
        analysed(session, cast, {"govern-usage": "HIGH"})
        finding = findings.findings_ordered(session).get()
        for j in range(3):
            new_action(
                workload,
                cast.admin,
                session=session,
                finding=finding,
                title=f"Save {i}.{j}",
                monthly_saving=Decimal(j),
                currency="EUR",
            )
    with django_assert_max_num_queries(8):
        response = client.get(url("cost_findings"))
    assert len(response.context["overview"].findings) == 7
    assert len(response.context["overview"].actions) == 23


def test_cost_view_empty_state(client, cast):
    client.force_login(cast.finance)
    body = client.get(url("cost_findings")).content.decode()
    assert "No open cost findings." in body and "No cost actions yet." in body


def test_cost_view_wrong_method(client, cast):
    client.force_login(cast.finance)
    assert client.post(url("cost_findings")).status_code == 405


def test_findings_of_an_earlier_review_give_way_to_the_latest(client, review, cast, lenses):
    analysed(review, cast, {"govern-usage": "HIGH"})
    later = new_session(cast.workload, cast.admin, days=30, title="Later")
    analysed(later, cast, {"cloud-financial-management": "HIGH"})
    overview = dashboards.cost_overview(cast.finance)
    assert [(f.session.title, f.question.ident) for f in overview.findings] == [
        ("Later", "cloud-financial-management")
    ]
