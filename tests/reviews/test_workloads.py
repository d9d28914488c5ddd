"""Workload pages: list, create, edit, detail, with the team access rules."""

from datetime import UTC

import pytest
from django.urls import reverse

from reviews.models import Workload, WorkloadType


def form_data(cast, **overrides):
    data = {
        "team": cast.team.pk,
        "name": "Payments API",
        "description": "Takes card payments.",
        "workload_type": WorkloadType.PUBLIC_API,
        "environment": "production",
        "owner": cast.member.pk,
        "regions": "eu-west-1, us-east-1, eu-west-1",
        "architecture_url": "https://example.com/arch",
        "tags": "payments,  tier-1",
    }
    data.update(overrides)
    return data


def test_list_shows_only_my_teams_workloads(client, cast):
    client.force_login(cast.member)
    body = client.get(reverse("reviews:workload_list")).content.decode()
    assert "Checkout" in body and "Secret" not in body


def test_list_filters_by_type(client, cast):
    Workload.objects.create(
        team=cast.team, name="Nightly ETL", workload_type=WorkloadType.BATCH, owner=cast.member
    )
    client.force_login(cast.member)
    body = client.get(
        reverse("reviews:workload_list"), {"type": WorkloadType.BATCH}
    ).content.decode()
    assert "Nightly ETL" in body and "Checkout" not in body


def test_list_with_unknown_team_filter_is_empty_not_an_error(client, cast):
    client.force_login(cast.member)
    response = client.get(reverse("reviews:workload_list"), {"team": "not-a-uuid"})
    assert response.status_code == 200
    assert "No workload matches these filters" in response.content.decode()


def test_list_query_count_is_flat(client, cast, django_assert_max_num_queries):
    for i in range(30):
        Workload.objects.create(
            team=cast.team, name=f"W{i}", workload_type=WorkloadType.INTERNAL, owner=cast.member
        )
    client.force_login(cast.member)
    with django_assert_max_num_queries(8):
        client.get(reverse("reviews:workload_list"))


def test_empty_state_for_a_user_without_team(client, cast):
    client.force_login(cast.outsider)
    cast.outsider.memberships.all().delete()
    body = client.get(reverse("reviews:workload_list")).content.decode()
    assert "You are not in a team yet" in body


def test_create_workload(client, cast):
    client.force_login(cast.member)
    response = client.post(reverse("reviews:workload_create"), form_data(cast))
    workload = Workload.objects.get(name="Payments API")
    assert response.status_code == 302
    assert response["Location"] == reverse("reviews:workload_detail", args=[workload.uuid])
    assert workload.regions == ["eu-west-1", "us-east-1"]
    assert workload.tags == ["payments", "tier-1"]
    assert workload.team == cast.team and workload.owner == cast.member


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": "checkout"}, "name", "Alpha already has a workload called “checkout”."),
        ({"name": ""}, "name", "This field is required."),
        ({"workload_type": "mainframe"}, "workload_type", "Select a valid choice."),
        ({"architecture_url": "not a url"}, "architecture_url", "Enter a valid URL."),
        ({"owner": ""}, "owner", "This field is required."),
    ],
)
def test_create_workload_validation(client, cast, overrides, field, message):
    client.force_login(cast.member)
    response = client.post(reverse("reviews:workload_create"), form_data(cast, **overrides))
    assert response.status_code == 200
    assert message in response.context["form"].errors[field][0]
    assert not Workload.objects.filter(name="Payments API").exists()


def test_owner_must_belong_to_the_team(client, cast):
    client.force_login(cast.member)
    response = client.post(
        reverse("reviews:workload_create"), form_data(cast, owner=cast.outsider.pk)
    )
    assert response.status_code == 200
    assert "owner" in response.context["form"].errors


def test_cannot_create_in_another_team(client, cast):
    client.force_login(cast.member)
    response = client.post(
        reverse("reviews:workload_create"), form_data(cast, team=cast.other_team.pk)
    )
    assert response.status_code == 200
    assert "team" in response.context["form"].errors


@pytest.mark.parametrize("who", ["finance", "viewer"])
def test_finance_and_viewers_cannot_create_or_edit(client, cast, who):
    client.force_login(getattr(cast, who))
    response = client.get(reverse("reviews:workload_create"))
    assert response.status_code == 302  # sent to teams: no team where they can create
    assert (
        client.get(reverse("reviews:workload_edit", args=[cast.workload.uuid])).status_code == 403
    )
    assert (
        client.post(
            reverse("reviews:workload_edit", args=[cast.workload.uuid]), form_data(cast)
        ).status_code
        == 403
    )


def test_edit_workload(client, cast):
    client.force_login(cast.admin)
    url = reverse("reviews:workload_edit", args=[cast.workload.uuid])
    assert client.get(url).status_code == 200
    response = client.post(url, form_data(cast, name="Checkout v2", team=cast.other_team.pk))
    assert response.status_code == 302
    cast.workload.refresh_from_db()
    assert cast.workload.name == "Checkout v2"
    assert cast.workload.team == cast.team  # the team cannot be changed by editing


def test_detail_shows_pillar_priority(client, cast):
    client.force_login(cast.viewer)
    response = client.get(reverse("reviews:workload_detail", args=[cast.workload.uuid]))
    body = response.content.decode()
    assert response.status_code == 200
    assert (
        body.index("1. Reliability")
        < body.index("2. Security")
        < body.index("3. Performance efficiency")
    )
    assert "Downtime is direct revenue loss".lower() in body.lower()


@pytest.mark.parametrize(
    ("kind", "order"),
    [
        (WorkloadType.STARTUP_MVP, ["costOptimization", "performance", "reliability"]),
        (WorkloadType.CRITICAL_ECOMMERCE, ["reliability", "security", "performance"]),
        (WorkloadType.FINANCIAL, ["security", "reliability", "operationalExcellence"]),
        (WorkloadType.BATCH, ["costOptimization", "sustainability", "performance"]),
        (WorkloadType.PUBLIC_API, ["performance", "reliability", "security"]),
        (WorkloadType.INTERNAL, ["operationalExcellence", "costOptimization", "performance"]),
    ],
)
def test_pillar_priority_follows_the_decision_table(kind, order):
    ranked = Workload(workload_type=kind).pillar_priority()
    assert [p for p, _, _ in ranked[:3]] == order
    assert [rank for _, _, rank in ranked] == [
        "primary",
        "primary",
        "secondary",
        "other",
        "other",
        "other",
    ]
    assert len({p for p, _, _ in ranked}) == 6


@pytest.mark.parametrize("name", ["reviews:workload_detail", "reviews:workload_edit"])
def test_outsider_gets_404(client, cast, name):
    client.force_login(cast.outsider)
    assert client.get(reverse(name, args=[cast.workload.uuid])).status_code == 404


def test_wrong_method(client, cast):
    client.force_login(cast.member)
    assert client.delete(reverse("reviews:workload_create")).status_code == 405
    assert (
        client.put(reverse("reviews:workload_edit", args=[cast.workload.uuid])).status_code == 405
    )


def test_list_shows_last_and_next_review(client, cast, lenses):
    from datetime import datetime

    from reviews import sessions

    for title, when in (
        ("Past", datetime(2020, 3, 4, 9, tzinfo=UTC)),
        ("Next", datetime(2099, 5, 6, 9, tzinfo=UTC)),
    ):
        sessions.session_create(
            workload=cast.workload,
            user=cast.admin,
            title=title,
            kind="periodic",
            review_starts_at=when,
        )
    client.force_login(cast.member)
    body = client.get(reverse("reviews:workload_list")).content.decode()
    assert "4 Mar 2020" in body and "6 May 2099" in body
