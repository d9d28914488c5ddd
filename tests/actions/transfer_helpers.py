"""A workload with something of everything an export carries: two lenses (the framework and
a custom one), participants, selections, per-choice and whole-question "not applicable",
notes, findings with ratings, an accepted risk, actions with comments and history, a parking
lot item and a milestone."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from actions import findings
from actions.items import action_comment_add, action_create, action_update
from actions.milestones import milestone_create
from actions.models import Finding
from questionnaires.services import lens_import
from reviews import sessions
from reviews.answers import answer_save_notes, answer_set_applicability, answer_set_exact
from reviews.choices import choice_mark_not_applicable
from reviews.invitations import invitation_create
from reviews.lenslibrary import team_library
from reviews.models import Answer, ParkingLotItem, ReviewSession
from tests.actions.analysis_helpers import join, move_to, set_risk

CUSTOM_LENS = {
    "schemaVersion": "2021-11-01",
    "name": "Data platform",
    "description": "Our own questions about the data platform.",
    "pillars": [
        {
            "id": "dataops",
            "name": "Data operations",
            "questions": [
                {
                    "id": "backfills",
                    "title": "How do you run backfills?",
                    "choices": [
                        {
                            "id": "bf_idempotent",
                            "title": "Backfills are idempotent",
                            "improvementPlan": {
                                "displayText": "Make each run replaceable.",
                                "url": "https://example.com/idempotent",
                            },
                        },
                        {"id": "bf_throttled", "title": "Backfills are throttled"},
                        {"id": "bf_no", "title": "None of these"},
                    ],
                    "riskRules": [
                        {"condition": "bf_idempotent && bf_throttled", "risk": "NO_RISK"},
                        {"condition": "bf_idempotent", "risk": "MEDIUM_RISK"},
                        {"condition": "default", "risk": "HIGH_RISK"},
                    ],
                }
            ],
        }
    ],
}


def custom_lens(team):
    """The team's own lens (uploads go into the team's library)."""
    return lens_import(
        raw=json.dumps(CUSTOM_LENS), source_name="data.json", library=team_library(team)
    ).lens


def full_workload(cast: Any) -> ReviewSession:
    """The cast's workload, fully reviewed: returns its session."""
    lens = custom_lens(cast.team)
    review = sessions.session_create(
        workload=cast.workload,
        user=cast.admin,
        title="Checkout review",
        kind="periodic",
        review_starts_at=timezone.now() - timedelta(days=3),
        lenses=[lens],
    )
    join(review, cast.member, "workload_owner", read_documentation=True)
    join(review, cast.finance, "finance")
    invitation_create(
        session=review, user=cast.admin, email="newcomer@example.com", role="security"
    )
    move_to(review, "review")
    set_risk(review, "manage-service-limits", "HIGH", cast.admin)
    set_risk(review, "identities", "MEDIUM", cast.member)
    priorities = review.answers.get(question__ident="priorities")
    choice_mark_not_applicable(
        answer=priorities,
        user=cast.admin,
        choice_ident="ops_priorities_ext_cust_needs",
        reason="out_of_scope",
        notes="No external customers.",
    )
    answer_save_notes(
        answer=priorities, user=cast.member, text="Agreed, with caveats.", base_revision=0
    )
    custom = Answer.objects.get(session=review, question__ident="backfills")
    answer_set_exact(answer=custom, user=cast.member, selected={"bf_idempotent"})
    not_applicable = review.answers.filter(question__pillar__lens__is_framework=True).last()
    answer_set_applicability(
        answer=not_applicable, user=cast.admin, not_applicable=True, reason="business_priorities"
    )
    ParkingLotItem.objects.create(
        session=review, text="Look at the CDN later", created_by=cast.member
    )
    move_to(review, "analysis")
    findings.findings_sync(session=review)
    high, medium, data = (
        Finding.objects.get(session=review, question__ident=ident)
        for ident in ("manage-service-limits", "identities", "backfills")
    )
    findings.rating_set(finding=high, user=cast.member, kind="impact", value=5)
    findings.rating_set(finding=high, user=cast.admin, kind="effort", value=2)
    findings.rating_set(finding=data, user=cast.finance, kind="impact", value=2)
    findings.finding_accept(
        finding=medium,
        user=cast.admin,
        reason="Covered by the SSO project.",
        until=timezone.localdate() + timedelta(days=200),
    )
    practice = data.question.choices.get(ident="bf_throttled")
    action = action_create(
        workload=cast.workload,
        user=cast.admin,
        session=review,
        finding=high,
        question=high.question,
        title="Raise the service quotas",
        description="Ask for the quotas before the sale.",
        measurable_outcome="Quotas at twice the peak",
        owner=cast.member,
        due_on=date(2030, 3, 31),
        monthly_saving="120.50",
    )
    action_update(
        action=action, user=cast.member, changes={"status": "in_progress", "percent_complete": 40}
    )
    action_comment_add(action=action, user=cast.member, body="Ticket opened with support.")
    action_create(
        workload=cast.workload,
        user=cast.admin,
        session=review,
        finding=data,
        question=data.question,
        choice=practice,
        title="Throttle the backfills",
        owner=cast.admin,
        due_on=date(2030, 6, 30),
    )
    milestone_create(
        workload=cast.workload, session=review, user=cast.admin, kind="manual", name="Baseline"
    )
    return review
