"""The role table, as the README states it, checked against reviews.access. The expected
values are written out here by hand, not computed by the module under test."""

from types import SimpleNamespace

import pytest

from reviews.access import Right, Rights, holds, is_cost_pillar
from reviews.models import Phase

TEAM = ["admin", "member", "finance", "viewer", None]
SESSION = [
    "facilitator",
    "workload_owner",
    "operations",
    "security",
    "finance",
    "note_taker",
    "observer",
    None,
]

# right -> the (team role, session role) pairs that hold it, written out from the README.
ANSWERERS = {"facilitator", "workload_owner", "operations", "security", "note_taker", "finance"}
NOT_VIEWER = {"admin", "member", "finance", None}


def pairs(team_roles, session_roles):
    return {(t, s) for t in team_roles for s in session_roles}


EXPECTED = {
    Right.SEE_TEAM: pairs({"admin", "member", "finance", "viewer"}, SESSION),
    Right.SEE_SESSION: pairs({"admin", "member", "finance", "viewer"}, SESSION)
    | pairs({None}, set(SESSION) - {None}),
    Right.ANSWER: pairs(NOT_VIEWER, ANSWERERS),
    Right.PARK: pairs(NOT_VIEWER, ANSWERERS),
    Right.RATE_IMPACT: pairs(NOT_VIEWER, {"facilitator", "workload_owner", "finance"}),
    Right.RATE_EFFORT: pairs(NOT_VIEWER, {"facilitator", "operations", "security", "note_taker"}),
    Right.RUN_SESSION: pairs(NOT_VIEWER, {"facilitator"}) | pairs({"admin"}, SESSION),
    Right.INVITE: pairs(NOT_VIEWER, {"facilitator"}) | pairs({"admin"}, SESSION),
    Right.ADD_TO_TEAM: pairs({"admin"}, SESSION),
    Right.MANAGE_TEAM: pairs({"admin"}, SESSION),
    Right.OWN_ACTIONS: pairs({"admin", "member", "finance"}, SESSION),
    Right.EDIT_WORK: pairs({"admin", "member"}, SESSION),
}


def test_every_right_is_in_the_table():
    assert set(EXPECTED) == set(Right)


@pytest.mark.parametrize("right", list(Right), ids=lambda r: r.name)
@pytest.mark.parametrize("team_role", TEAM)
@pytest.mark.parametrize("session_role", SESSION)
def test_the_role_table(right, team_role, session_role):
    expected = (team_role, session_role) in EXPECTED[right]
    assert holds(right, team_role=team_role, session_role=session_role) is expected


@pytest.mark.parametrize("session_role", ["facilitator", "workload_owner", "operations"])
def test_team_viewers_never_answer_whatever_their_session_role(session_role):
    rights = Rights(team_role="viewer", session_role=session_role, phase=Phase.REVIEW)
    assert not rights.may_answer()
    assert rights.answer_refusal() == (
        "You are a viewer in this team: you follow the answers but do not change them."
    )


def question(pillar_ident, pillar_name):
    return SimpleNamespace(pillar_ident=pillar_ident, pillar_name=pillar_name)


COST = question("costOptimization", "Cost optimization")
OPS = question("operationalExcellence", "Operational excellence")


def test_finance_answers_the_cost_pillar_only():
    rights = Rights(team_role="finance", session_role="finance", phase=Phase.REVIEW)
    assert rights.may_answer(COST)
    assert not rights.may_answer(OPS)
    assert rights.answer_refusal(OPS) == (
        "As finance you answer the cost optimisation questions only."
    )
    assert Rights(team_role="member", session_role="operations", phase=Phase.REVIEW).may_answer(
        COST
    )


@pytest.mark.parametrize(
    ("ident", "name", "cost"),
    [
        ("costOptimization", "Cost optimization", True),
        ("saasCostOptimization", "SaaS cost", True),
        ("costs", "Cost Optimization", True),
        ("cost", "Costs and budgets", False),
        ("performance", "Performance efficiency", False),
    ],
)
def test_the_cost_pillar_of_any_lens(ident, name, cost):
    assert is_cost_pillar(ident=ident, name=name) is cost


@pytest.mark.parametrize("phase", Phase.values)
def test_answers_and_the_parking_lot_are_open_in_preparation_and_review_only(phase):
    rights = Rights(team_role="member", session_role="operations", phase=phase)
    is_open = phase in (Phase.PREPARATION, Phase.REVIEW)
    assert rights.may_answer() is is_open
    assert rights.has(Right.PARK) is is_open
    assert rights.has(Right.RATE_EFFORT)  # not bound to the answering phases


def test_a_guest_answers_by_their_session_role_and_sees_only_their_session():
    guest = Rights(team_role=None, session_role="security", phase=Phase.REVIEW)
    assert guest.is_guest and guest.may_answer() and guest.has(Right.SEE_SESSION)
    assert not guest.has(Right.SEE_TEAM) and not guest.has(Right.OWN_ACTIONS)
    outsider = Rights(team_role=None, session_role=None, phase=Phase.REVIEW)
    assert not any(outsider.has(right) for right in Right)
