"""The analysis page: who rates what, the medians and quadrants, moving a finding,
accepting a risk, the parking lot; htmx partials and plain forms; access rules."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from actions import findings
from actions.models import ActionItem, Finding, Rating
from reviews.models import Membership, ParkingLotItem, Phase
from tests.actions.analysis_helpers import (
    analysed,
    join,
    move_to,
    operations_engineer,
    set_risk,
)
from tests.conftest import HTMX, make_user


@pytest.fixture
def room(review, cast):
    """The review in analysis with two findings and a participant in each role: the admin
    facilitates, bob owns the workload, fay is finance, omar operations, olive observes."""
    ops = operations_engineer(cast)
    observer = make_user("olive")
    Membership.objects.create(team=cast.team, user=observer, role=Membership.Role.MEMBER)
    join(review, cast.member, "workload_owner")
    join(review, cast.finance, "finance")
    join(review, ops, "operations")
    join(review, observer, "observer")
    findings = analysed(review, cast)
    return SimpleNamespace(review=review, ops=ops, observer=observer, findings=findings)


def url(name, *args):
    return reverse(f"actions:{name}", args=args)


def rate(client, finding, kind, value, **extra):
    return client.post(url("finding_rate", finding.uuid), {"kind": kind, "value": value}, **extra)


# --- Positions and quadrants -----------------------------------------------------------------


def rating(value: int) -> Rating:
    return Rating(value=value)


@pytest.mark.parametrize(
    ("impacts", "efforts", "expected"),
    [
        ([4, 5, 2], [1, 2], (4, 1.5, "do_first")),
        ([3, 2], [4], (2.5, 4, "defer")),
        ([2, 4], [3, 2], (3, 2.5, "do_first")),
        ([1], [1, 2, 3, 5], (1, 2.5, "quick_win")),
        ([3], [3], (3, 3, "plan")),
        ([], [4], (None, 4, "unrated")),
    ],
)
def test_position_is_the_median_of_each_kind(impacts, efforts, expected):
    position = findings.Position(
        impact_ratings=[rating(v) for v in impacts], effort_ratings=[rating(v) for v in efforts]
    )
    assert (position.impact, position.effort, position.quadrant) == expected


def test_the_facilitators_placement_overrides_the_medians_per_axis():
    position = findings.Position(
        impact_ratings=[rating(1), rating(2)], effort_ratings=[rating(5)], impact_override=5
    )
    assert (position.impact, position.effort) == (5, 5)
    assert position.impact_median == 1.5
    assert position.quadrant == "plan" and position.moved
    unrated = findings.Position(impact_ratings=[], effort_ratings=[], effort_override=1)
    assert unrated.quadrant == "unrated"


# --- Who may do what ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "kinds", "move", "accept", "create"),
    [
        ("admin", {"impact", "effort"}, True, True, True),  # the facilitator
        ("member", {"impact"}, False, True, True),  # workload owner (and owns the workload)
        ("finance", {"impact"}, False, False, False),
        ("ops", {"effort"}, False, False, True),
        ("observer", set(), False, False, False),
        ("viewer", set(), False, False, False),
    ],
)
def test_rights_by_role(room, cast, client, who, kinds, move, accept, create):
    user = getattr(room, who, None) or getattr(cast, who)
    from reviews.access import session_for_user

    rights = findings.analysis_rights(session_for_user(user, room.review.uuid), user=user)
    assert set(rights.rate_kinds) == kinds
    assert (rights.can_move, rights.can_accept, rights.can_create_actions) == (
        move,
        accept,
        create,
    )


def test_a_team_admin_who_is_not_a_participant_can_steer_but_not_rate(room, cast):
    from reviews.access import session_for_user
    from reviews.models import Participant

    Participant.objects.filter(session=room.review, user=cast.admin).update(role="note_taker")
    admin2 = make_user("ada")
    Membership.objects.create(team=cast.team, user=admin2, role=Membership.Role.ADMIN)
    rights = findings.analysis_rights(session_for_user(admin2, room.review.uuid), user=admin2)
    assert not rights.can_rate and rights.can_move and rights.can_accept


# --- The page ------------------------------------------------------------------------------------


def test_page_lists_findings_in_priority_order_with_the_matrix(client, room, cast):
    client.force_login(cast.member)
    body = client.get(url("analysis", room.review.uuid)).content.decode()
    high, medium = room.findings
    assert body.index(high.question.title) < body.index(medium.question.title)
    assert 'class="matrix-chart"' in body and "Impact × effort" in body
    assert "best practices not in place" in body
    assert 'id="move-' not in body, "only the facilitator places findings"


def test_opening_the_page_does_not_compute_findings(client, review, cast):
    set_risk(review, "priorities", "HIGH", cast.admin)
    move_to(review, Phase.ANALYSIS)
    client.force_login(cast.viewer)
    assert client.get(url("analysis", review.uuid)).status_code == 200
    assert not Finding.objects.filter(session=review).exists()


def test_moving_the_review_to_analysis_computes_the_findings(client, review, cast):
    set_risk(review, "priorities", "HIGH", cast.admin)
    move_to(review, Phase.REVIEW)
    client.force_login(cast.admin)
    client.post(reverse("reviews:session_phase", args=[review.uuid]), {"to": Phase.ANALYSIS})
    assert Finding.objects.filter(session=review).count() == 1


def test_before_analysis_the_page_previews_read_only(client, review, cast):
    set_risk(review, "priorities", "HIGH", cast.admin)
    client.force_login(cast.admin)
    body = client.get(url("analysis", review.uuid)).content.decode()
    assert "Findings are computed when the review moves to analysis" in body
    assert "How do you decide what your operations work should focus on first?" in body
    assert "finding_rate" not in body and 'name="value"' not in body
    assert not Finding.objects.exists()


def test_before_analysis_without_risky_answers_shows_an_empty_state(client, review, cast):
    client.force_login(cast.admin)
    body = client.get(url("analysis", review.uuid)).content.decode()
    assert "No high or medium risks in the answers so far" in body


def test_a_closed_review_is_read_only(client, room, cast):
    move_to(room.review, Phase.CLOSED)
    client.force_login(cast.admin)
    body = client.get(url("analysis", room.review.uuid)).content.decode()
    assert "This review is closed" in body
    assert rate(client, room.findings[0], "impact", 3).status_code == 403


def test_the_page_query_count_does_not_grow_with_findings(
    client, review, cast, django_assert_max_num_queries
):
    analysed(review, cast)
    client.force_login(cast.admin)
    with django_assert_max_num_queries(18):
        client.get(url("analysis", review.uuid))
    idents = ["priorities", "ops-model", "securely-operate", "planning-network-topology"]
    idents += ["performing-architecture", "compute-hardware", "govern-usage", "sus_user"]
    for ident in idents:
        set_risk(review, ident, "HIGH" if ident != "sus_user" else "MEDIUM", cast.admin)
    findings.findings_sync(session=review)
    for finding in findings.findings_ordered(review):
        findings.rating_set(finding=finding, user=cast.admin, kind="impact", value=3)
    with django_assert_max_num_queries(18):
        client.get(url("analysis", review.uuid))


def test_outsider_gets_404(client, room, cast):
    client.force_login(cast.outsider)
    assert client.get(url("analysis", room.review.uuid)).status_code == 404
    assert rate(client, room.findings[0], "impact", 3).status_code == 404


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("analysis", "post"),
        ("findings_sync", "get"),
        ("finding_rate", "get"),
        ("finding_move", "get"),
        ("finding_accept", "get"),
        ("finding_revoke", "get"),
    ],
)
def test_wrong_method_is_refused(client, room, cast, name, method):
    client.force_login(cast.admin)
    arg = room.review.uuid if name in ("analysis", "findings_sync") else room.findings[0].uuid
    assert getattr(client, method)(url(name, arg)).status_code == 405


# --- Rating ----------------------------------------------------------------------------------------


def test_workload_owner_rates_impact_and_sees_the_median(client, room, cast):
    finding = room.findings[0]
    findings.rating_set(finding=finding, user=cast.finance, kind="impact", value=2)
    client.force_login(cast.member)
    response = rate(client, finding, "impact", 5)
    assert response.status_code == 302
    assert response["Location"].endswith(f"#finding-{finding.uuid}")
    assert Rating.objects.get(finding=finding, user=cast.member).value == 5
    body = client.get(url("analysis", room.review.uuid)).content.decode()
    assert "median <strong>3.5</strong>" in body


def test_rating_again_replaces_and_empty_removes(client, room, cast):
    finding = room.findings[0]
    client.force_login(room.ops)
    rate(client, finding, "effort", 2)
    rate(client, finding, "effort", 4)
    assert list(Rating.objects.values_list("kind", "value")) == [("effort", 4)]
    rate(client, finding, "effort", "")
    assert not Rating.objects.exists()


def test_finance_rates_impact_not_effort(client, room, cast):
    client.force_login(cast.finance)
    assert rate(client, room.findings[0], "impact", 4).status_code == 302
    response = rate(client, room.findings[0], "effort", 4)
    assert response.status_code == 403
    assert not Rating.objects.filter(kind="effort").exists()


def test_operations_rates_effort_not_impact(client, room):
    client.force_login(room.ops)
    assert rate(client, room.findings[0], "effort", 4).status_code == 302
    assert rate(client, room.findings[0], "impact", 4).status_code == 403


def test_facilitator_rates_both(client, room, cast):
    client.force_login(cast.admin)
    assert rate(client, room.findings[0], "impact", 4).status_code == 302
    assert rate(client, room.findings[0], "effort", 2).status_code == 302
    assert Rating.objects.count() == 2


@pytest.mark.parametrize("who", ["viewer", "observer"])
def test_viewers_and_observers_cannot_rate(client, room, cast, who):
    client.force_login(getattr(room, who, None) or getattr(cast, who))
    assert rate(client, room.findings[0], "impact", 4).status_code == 403
    assert not Rating.objects.exists()


def test_a_rating_outside_one_to_five_is_refused_with_a_message(client, room, cast):
    client.force_login(cast.admin)
    response = rate(client, room.findings[0], "impact", 9, **HTMX)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Rating.objects.exists()


def test_rating_with_htmx_returns_the_card_and_the_matrix_out_of_band(client, room, cast):
    client.force_login(cast.admin)
    finding = room.findings[0]
    rate(client, finding, "effort", 1)
    response = rate(client, finding, "impact", 5, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<article class="card finding" id="finding-{finding.uuid}"')
    assert '<div id="matrix" class="matrix" hx-swap-oob="true"' in body
    assert 'id="quadrant-summary"' in body and "hx-swap-oob" in body
    assert "Do first" in body
    assert "<html" not in body


# --- Moving on the matrix -------------------------------------------------------------------


def test_facilitator_moves_a_finding_and_can_hand_it_back_to_the_ratings(client, room, cast):
    finding = room.findings[0]
    client.force_login(cast.admin)
    response = client.post(url("finding_move", finding.uuid), {"impact": 5, "effort": 1})
    assert response.status_code == 302
    finding.refresh_from_db()
    assert (finding.impact_override, finding.effort_override) == (5, 1)
    (info, _) = findings.analysis_findings(room.review)
    assert info.position.quadrant == "do_first" and info.position.moved
    client.post(url("finding_move", finding.uuid), {"impact": "", "effort": ""})
    finding.refresh_from_db()
    assert (finding.impact_override, finding.effort_override) == (None, None)


def test_only_the_facilitator_moves(client, room, cast):
    client.force_login(cast.member)
    response = client.post(url("finding_move", room.findings[0].uuid), {"impact": 5, "effort": 1})
    assert response.status_code == 403


def test_a_move_outside_the_scale_is_refused(client, room, cast):
    client.force_login(cast.admin)
    client.post(url("finding_move", room.findings[0].uuid), {"impact": 6, "effort": 0})
    room.findings[0].refresh_from_db()
    assert room.findings[0].impact_override is None


def test_the_facilitator_sees_a_place_form_per_finding_and_a_draggable_matrix(client, room, cast):
    client.force_login(cast.admin)
    body = client.get(url("analysis", room.review.uuid)).content.decode()
    for finding in room.findings:
        assert f'id="move-{finding.uuid}"' in body
    assert 'data-movable="true"' in body and "data-plot=" in body
    assert "js/matrix.js" in body


# --- Accepting a risk -------------------------------------------------------------------------


def accept(client, finding, **data):
    payload = {"reason": "The vendor fixes it in Q3.", "until": "", **data}
    return client.post(url("finding_accept", finding.uuid), payload)


def test_accepting_a_risk_records_who_why_and_until_when(client, room, cast):
    finding = room.findings[0]
    until = timezone.localdate() + timedelta(days=90)
    client.force_login(cast.member)  # the workload's owner
    response = accept(client, finding, until=until.isoformat())
    assert response.status_code == 302
    finding.refresh_from_db()
    assert finding.accepted_by == cast.member and finding.accepted_until == until
    assert finding.accepted_reason == "The vendor fixes it in Q3." and finding.accepted_at
    body = client.get(url("analysis", room.review.uuid)).content.decode()
    assert "Accepted as a risk" in body and "Revoke the acceptance" in body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"until": "2000-01-01"}, "Choose a date after today."),
        ({"reason": "   "}, "This field is required."),
        ({"until": ""}, "This field is required."),
    ],
)
def test_accepting_needs_a_reason_and_a_future_date(client, room, cast, data, message):
    client.force_login(cast.admin)
    data.setdefault("until", (timezone.localdate() + timedelta(days=30)).isoformat())
    response = client.post(
        url("finding_accept", room.findings[0].uuid),
        {"reason": "because", **data},
        **HTMX,
    )
    assert message in response.content.decode()
    room.findings[0].refresh_from_db()
    assert room.findings[0].accepted_at is None


def test_revoking_puts_the_finding_back(client, room, cast):
    finding = room.findings[0]
    client.force_login(cast.admin)
    accept(client, finding, until=(timezone.localdate() + timedelta(days=9)).isoformat())
    client.post(url("finding_revoke", finding.uuid))
    finding.refresh_from_db()
    assert finding.accepted_at is None and finding.accepted_by is None


@pytest.mark.parametrize("who", ["finance", "viewer", "ops"])
def test_others_cannot_accept_risks(client, room, cast, who):
    client.force_login(getattr(room, who, None) or getattr(cast, who))
    until = (timezone.localdate() + timedelta(days=9)).isoformat()
    assert accept(client, room.findings[0], until=until).status_code == 403


# --- The parking lot -----------------------------------------------------------------------------


@pytest.fixture
def parked(room, cast):
    return ParkingLotItem.objects.create(
        session=room.review, text="Look at the CDN contract", created_by=cast.member
    )


def test_parking_lot_items_are_candidate_actions(client, room, cast, parked):
    ParkingLotItem.objects.create(
        session=room.review, text="Dismissed one", dismissed_at=timezone.now()
    )
    client.force_login(cast.member)
    body = client.get(url("analysis", room.review.uuid)).content.decode()
    assert "Look at the CDN contract" in body and "Dismissed one" not in body
    response = client.post(url("parking_to_action", parked.uuid))
    action = ActionItem.objects.get(parking_item=parked)
    assert response["Location"] == url("action_detail", action.uuid)
    assert action.title == "Look at the CDN contract" and action.session == room.review
    client.post(url("parking_to_action", parked.uuid))
    assert ActionItem.objects.count() == 1, "a second click gives back the same action"


def test_dismissing_a_parking_lot_item_with_htmx(client, room, cast, parked):
    client.force_login(cast.member)
    response = client.post(url("parking_dismiss", parked.uuid), **HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card" id="parking"')
    assert "Nothing was parked" in body
    parked.refresh_from_db()
    assert parked.dismissed_at is not None


def test_viewers_cannot_touch_the_parking_lot(client, room, cast, parked):
    client.force_login(cast.viewer)
    assert client.post(url("parking_dismiss", parked.uuid)).status_code == 403
    assert client.post(url("parking_to_action", parked.uuid)).status_code == 403


def test_parking_lot_outsider_gets_404(client, room, cast, parked):
    client.force_login(cast.outsider)
    assert client.post(url("parking_dismiss", parked.uuid)).status_code == 404


# --- Recomputing -----------------------------------------------------------------------------------


def test_the_facilitator_recomputes_findings_on_demand(client, room, cast):
    set_risk(room.review, "priorities", "HIGH", cast.admin)
    client.force_login(cast.admin)
    response = client.post(url("findings_sync", room.review.uuid), follow=True)
    assert "1 new" in response.content.decode()
    assert Finding.objects.filter(session=room.review).count() == 3


def test_others_cannot_recompute(client, room, cast):
    client.force_login(cast.member)
    assert client.post(url("findings_sync", room.review.uuid)).status_code == 403
