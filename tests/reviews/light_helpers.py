"""A full review that a light review can follow: held (in analysis), with a high risk, a
medium one with an open action, a medium one whose action is done, and notes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from actions.items import action_create
from actions.models import ActionItem, Finding
from reviews import sessions
from reviews.models import Answer, ReviewSession
from tests.actions.analysis_helpers import analysed

HIGH = "manage-service-limits"  # a high risk in the full review
OPEN = "identities"  # a medium risk with an open action
DONE = "detect-investigate-events"  # a medium risk whose action is done


@dataclass
class Followed:
    review: ReviewSession
    open_action: ActionItem
    done_action: ActionItem


def hold_full_review(cast, review: ReviewSession) -> Followed:
    """The cast's review held, its findings synced and two actions made from them."""
    found = analysed(review, cast, {HIGH: "HIGH", OPEN: "MEDIUM", DONE: "MEDIUM"})
    by_ident = {f.question.ident: f for f in found}
    Answer.objects.filter(session=review, question__ident=HIGH).update(
        notes="Quotas are tracked by hand."
    )
    soon = timezone.localdate() + timedelta(days=20)
    open_action = action_create(
        workload=review.workload,
        user=cast.admin,
        session=review,
        finding=by_ident[OPEN],
        title="Single sign-on for the console",
        owner=cast.member,
        due_on=soon,
        status=ActionItem.Status.IN_PROGRESS,
    )
    done_action = action_create(
        workload=review.workload,
        user=cast.admin,
        session=review,
        finding=by_ident[DONE],
        title="Alert on root logins",
        owner=cast.member,
        due_on=soon,
        status=ActionItem.Status.DONE,
    )
    return Followed(review=review, open_action=open_action, done_action=done_action)


def plan_light(cast, **extra) -> ReviewSession:
    return sessions.session_create(
        workload=cast.workload,
        user=cast.admin,
        title="Checkout: monthly light review",
        kind="monthly_light",
        review_starts_at=timezone.now() + timedelta(days=40),
        review_duration_minutes=60,
        **extra,
    )


def finding_idents(review: ReviewSession) -> set[str]:
    return set(Finding.objects.filter(session=review).values_list("question__ident", flat=True))
