"""The open actions of a review's plan, for the pages of a light review that follows it
(reviews.lightreview lists them through the function registered here, see actions.apps)."""

from __future__ import annotations

from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from actions.models import ActionItem
from reviews.lightreview import OpenAction
from reviews.models import ReviewSession


def open_actions_of(review: ReviewSession) -> list[OpenAction]:
    """The review's actions still open (open, in progress or blocked), by due date; an
    action's question is its finding's, else the question it was made for."""
    today = timezone.localdate()
    rows = (
        ActionItem.objects.open()
        .filter(Q(session=review) | Q(finding__session=review))
        .select_related("owner", "finding")
        .order_by(F("due_on").asc(nulls_last=True), "created_at", "pk")
    )
    return [
        OpenAction(
            title=action.title,
            owner=(action.owner.get_full_name() or action.owner.username) if action.owner else "",
            due_on=action.due_on,
            status=action.get_status_display(),
            url=reverse("actions:action_detail", args=[action.uuid]),
            question_id=action.finding.question_id if action.finding else action.question_id,
            overdue=action.is_overdue(today),
        )
        for action in rows
    ]
