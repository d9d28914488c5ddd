"""Workloads, sessions, milestones and risk counts over the API: what the user's teams hold,
a cursor through long lists, and nothing of another team's."""

from __future__ import annotations

import pytest

from actions.milestones import milestone_create
from reviews.models import Workload, WorkloadType

pytestmark = pytest.mark.django_db


def test_workloads_lists_those_of_the_user_s_teams(cast, api_as):
    response = api_as(cast.viewer, "read").get("/api/workloads")
    assert response.status_code == 200
    body = response.json()
    assert [w["name"] for w in body["results"]] == ["Checkout"]
    assert body["next"] is None
    first = body["results"][0]
    assert first["uuid"] == str(cast.workload.uuid)
    assert first["team"] == "Alpha" and first["owner"] == "bob"


def test_the_cursor_walks_every_workload_once(cast, api_as, django_assert_max_num_queries):
    for i in range(6):
        Workload.objects.create(
            team=cast.team, name=f"W{i}", workload_type=WorkloadType.INTERNAL, owner=cast.member
        )
    api = api_as(cast.admin, "read")
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        with django_assert_max_num_queries(6):
            body = api.get("/api/workloads", **params).json()
        assert len(body["results"]) <= 3
        seen += [w["name"] for w in body["results"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert seen == ["Checkout", "W0", "W1", "W2", "W3", "W4", "W5"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1000}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"cursor": "not-a-uuid"}, "cursor"),
        ({"cursor": "00000000-0000-0000-0000-000000000000"}, "cursor"),
    ],
)
def test_a_bad_page_request_is_400_naming_the_parameter(cast, api_as, params, field):
    response = api_as(cast.admin, "read").get("/api/workloads", **params)
    assert response.status_code == 400
    assert field in [e["field"] for e in response.json()["errors"]]


def test_another_team_s_workload_cannot_be_a_cursor(cast, api_as):
    response = api_as(cast.admin, "read").get("/api/workloads", cursor=cast.other_workload.uuid)
    assert response.status_code == 400


def test_a_workload_and_its_sessions(cast, review, api_as):
    api = api_as(cast.viewer, "read")
    workload = api.get(f"/api/workloads/{cast.workload.uuid}").json()
    assert workload["name"] == "Checkout" and workload["is_critical"] is True
    sessions = api.get(f"/api/workloads/{cast.workload.uuid}/sessions").json()["results"]
    assert [s["uuid"] for s in sessions] == [str(review.uuid)]
    session = api.get(f"/api/sessions/{review.uuid}").json()
    assert session["title"] == "Checkout review"
    assert session["phase"] == "preparation"
    assert session["workload_uuid"] == str(cast.workload.uuid)


def test_a_malformed_uuid_in_the_path_is_400(cast, api_as):
    response = api_as(cast.admin, "read").get("/api/workloads/nope")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "workload_uuid"


def test_risk_counts_in_all_and_per_pillar(cast, review, api_as):
    from tests.actions.analysis_helpers import set_risk

    set_risk(review, "manage-service-limits", "HIGH", cast.admin)
    body = api_as(cast.viewer, "read").get(f"/api/sessions/{review.uuid}/risk-counts").json()
    assert body["session_uuid"] == str(review.uuid)
    assert body["total"]["HIGH"] == 1
    assert sum(body["total"].values()) == review.answers.count()
    reliability = next(p for p in body["pillars"] if p["pillar"] == "Reliability")
    assert reliability["counts"]["HIGH"] == 1


def test_milestones_list_and_detail(cast, review, api_as):
    milestone = milestone_create(
        workload=cast.workload, user=cast.admin, kind="manual", name="Baseline"
    )
    api = api_as(cast.viewer, "read")
    listed = api.get(f"/api/workloads/{cast.workload.uuid}/milestones").json()["results"]
    assert [m["name"] for m in listed] == ["Baseline"]
    assert "snapshot" not in listed[0]
    detail = api.get(f"/api/milestones/{milestone.uuid}").json()
    assert detail["uuid"] == str(milestone.uuid)
    assert isinstance(detail["snapshot"], dict)


def test_the_outsider_meets_404_everywhere(cast, review, api_as):
    milestone = milestone_create(
        workload=cast.workload, user=cast.admin, kind="manual", name="Baseline"
    )
    api = api_as(cast.outsider, "write")
    assert api.get("/api/workloads").json()["results"][0]["name"] == "Secret"
    for path in (
        f"/api/workloads/{cast.workload.uuid}",
        f"/api/workloads/{cast.workload.uuid}/sessions",
        f"/api/workloads/{cast.workload.uuid}/milestones",
        f"/api/sessions/{review.uuid}",
        f"/api/sessions/{review.uuid}/risk-counts",
        f"/api/milestones/{milestone.uuid}",
    ):
        response = api.get(path)
        assert response.status_code == 404, path
        assert "detail" in response.json()
