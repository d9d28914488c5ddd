"""Findings and action items over the API: read them; move an action's status and percent
through actions/items.py with the app's rights."""

from __future__ import annotations

import pytest

from actions.models import ActionChange, ActionItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def action(cast, review):
    return ActionItem.objects.create(
        workload=cast.workload, session=review, title="Raise the limits", owner=cast.finance
    )


def test_findings_of_a_session(cast, review, finding, api_as):
    api = api_as(cast.viewer, "read")
    body = api.get(f"/api/sessions/{review.uuid}/findings").json()
    assert body["next"] is None
    risks = sorted(f["risk"] for f in body["results"])
    assert risks == ["HIGH", "MEDIUM"]
    one = api.get(f"/api/findings/{finding.uuid}").json()
    assert one["uuid"] == str(finding.uuid)
    assert one["session_uuid"] == str(review.uuid)
    assert one["pillar"] == "Reliability" and one["accepted"] is False


def test_actions_of_a_workload(cast, review, action, api_as, django_assert_max_num_queries):
    api = api_as(cast.viewer, "read")
    with django_assert_max_num_queries(6):
        body = api.get(f"/api/workloads/{cast.workload.uuid}/actions").json()
    assert [a["title"] for a in body["results"]] == ["Raise the limits"]
    one = api.get(f"/api/actions/{action.uuid}").json()
    assert one["owner"] == "fay" and one["status"] == "open"
    assert one["session_uuid"] == str(review.uuid) and one["finding_uuid"] is None


def test_status_and_percent_go_through_the_action_service(cast, action, api_as):
    api = api_as(cast.member, "write")
    response = api.patch(f"/api/actions/{action.uuid}", {"status": "in_progress"})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "in_progress"
    body = api.patch(f"/api/actions/{action.uuid}", {"percent_complete": 40}).json()
    assert body["percent_complete"] == 40
    body = api.patch(f"/api/actions/{action.uuid}", {"status": "done"}).json()
    # The service's rule: done means complete.
    assert body["percent_complete"] == 100 and body["completed_at"] is not None
    fields = list(ActionChange.objects.filter(action=action).values_list("field", flat=True))
    assert sorted(fields) == ["percent_complete", "percent_complete", "status", "status"]


def test_an_owner_moves_their_own_action_a_viewer_cannot(cast, action, api_as):
    # Finance people own actions and update their own, as on "My actions".
    response = api_as(cast.finance, "write").patch(
        f"/api/actions/{action.uuid}", {"percent_complete": 10}
    )
    assert response.status_code == 200
    response = api_as(cast.viewer, "write").patch(
        f"/api/actions/{action.uuid}", {"percent_complete": 50}
    )
    assert response.status_code == 403
    action.refresh_from_db()
    assert action.percent_complete != 50


def test_the_app_s_rule_decides_who_moves_an_action(cast, action, api_as):
    from actions.items import can_edit_action
    from reviews.models import Membership

    for user in (cast.admin, cast.member, cast.finance, cast.viewer):
        membership = Membership.objects.get(team=cast.team, user=user)
        allowed = can_edit_action(action, membership, user)
        response = api_as(user, "write").patch(
            f"/api/actions/{action.uuid}", {"percent_complete": 30}
        )
        assert response.status_code == (200 if allowed else 403), user


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"percent_complete": 101}, "percent_complete"),
        ({"percent_complete": -1}, "percent_complete"),
        ({"percent_complete": "half"}, "percent_complete"),
        ({"status": "finished"}, "status"),
        ({}, "body"),
    ],
)
def test_a_bad_change_is_400_naming_the_field(cast, action, api_as, payload, field):
    response = api_as(cast.member, "write").patch(f"/api/actions/{action.uuid}", payload)
    assert response.status_code == 400
    assert field in [e["field"] for e in response.json()["errors"]]
    action.refresh_from_db()
    assert (action.status, action.percent_complete) == ("open", 0)


def test_a_read_token_cannot_move_an_action(cast, action, api_as):
    response = api_as(cast.member, "read").patch(f"/api/actions/{action.uuid}", {"status": "done"})
    assert response.status_code == 403
    action.refresh_from_db()
    assert action.status == "open"


def test_the_outsider_meets_404(cast, review, finding, action, api_as):
    api = api_as(cast.outsider, "write")
    for path in (
        f"/api/sessions/{review.uuid}/findings",
        f"/api/findings/{finding.uuid}",
        f"/api/workloads/{cast.workload.uuid}/actions",
        f"/api/actions/{action.uuid}",
    ):
        assert api.get(path).status_code == 404, path
    assert api.patch(f"/api/actions/{action.uuid}", {"status": "done"}).status_code == 404
    action.refresh_from_db()
    assert action.status == "open"
