"""The plan page as an editable table: the actions of a review by row, changed several at once
(bulk assign), and the defaults that fill in what a plan still lacks (an owner per pillar, a
due date by quadrant). Every change goes through items.action_update, which checks the rules
and records the history."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from actions import items
from actions.findings import finding_position
from actions.models import ActionItem, Finding, Rating
from actions.plan import plan_actions
from reviews.errors import ServiceError
from reviews.models import ReviewSession

Quadrant = Finding.Quadrant

# The due date a plan proposes, in days from the day the defaults are filled in: quick wins
# first, fill-ins next, major projects (and the thankless tasks still kept) last; an action
# on no rated finding (added by hand, say) gets the fill-ins' date.
DUE_DAYS_BY_QUADRANT: dict[str, int] = {
    Quadrant.QUICK_WIN: 30,
    Quadrant.FILL_IN: 60,
    Quadrant.MAJOR_PROJECT: 90,
    Quadrant.THANKLESS: 90,
    Quadrant.UNRATED: 60,
}
BULK_FIELDS = ("owner", "due_on", "status")
NO_PILLAR = "Without a pillar"


def plan_table_actions(session: ReviewSession) -> QuerySet[ActionItem]:
    """The plan's actions as the table shows them: with owner and pillar in the same query."""
    return plan_actions(session).select_related("question__pillar")


def action_pillar(action: ActionItem) -> str:
    """The name of the pillar an action serves (its finding's, else its question's)."""
    question = action.finding.question if action.finding else action.question
    return question.pillar.name if question else NO_PILLAR


@dataclass
class PillarGroup:
    """The live actions of one pillar, and how many of them have no owner yet."""

    name: str
    count: int
    without_owner: int


def pillar_groups(actions: Iterable[ActionItem]) -> list[PillarGroup]:
    """One group per pillar of the plan's live actions, in the order they first appear."""
    groups: dict[str, PillarGroup] = {}
    for action in actions:
        if action.status == ActionItem.Status.CANCELLED:
            continue
        group = groups.setdefault(
            action_pillar(action), PillarGroup(name=action_pillar(action), count=0, without_owner=0)
        )
        group.count += 1
        group.without_owner += action.owner_id is None
    return list(groups.values())


def due_defaults(today: date) -> list[tuple[str, int, date]]:
    """(quadrant label, days, date) of each default due date, as the page shows them."""
    return [
        (Quadrant(quadrant).label, days, today + timedelta(days=days))
        for quadrant, days in DUE_DAYS_BY_QUADRANT.items()
    ]


def _quadrant(action: ActionItem) -> str:
    if action.finding is None:
        return Quadrant.UNRATED
    return finding_position(action.finding).quadrant


def plan_row_save(*, action: ActionItem, user: User, changes: dict[str, Any]) -> ActionItem:
    """Save one row of the table. The row's outcome is a one-line box, which drops the line
    breaks of an outcome written on the action's page: that outcome, sent back unchanged but
    for its line breaks, is kept as it was."""
    changes = dict(changes)
    sent = changes.get("measurable_outcome")
    if sent is not None and _one_line(action.measurable_outcome) == _one_line(sent):
        del changes["measurable_outcome"]
    return items.action_update(action=action, user=user, changes=changes)


def _one_line(text: str) -> str:
    return text.replace("\r", "").replace("\n", "").strip()


@transaction.atomic
def plan_bulk_update(
    *, session: ReviewSession, user: User, action_uuids: Sequence[UUID], changes: dict[str, Any]
) -> list[ActionItem]:
    """Give several of the plan's actions the same owner, due date and/or status: all of them
    or none. A refusal names the action it came from (and the field, for the form)."""
    unknown = set(changes) - set(BULK_FIELDS)
    if unknown:
        raise ServiceError(f"Bulk changes set the owner, due date or status, not {unknown}.")
    if not changes:
        raise ServiceError("Choose an owner, a due date or a status to set.", field="owner")
    wanted = list(dict.fromkeys(action_uuids))
    if not wanted:
        raise ServiceError("Select the actions to change.", field="actions")
    actions = list(plan_actions(session).filter(uuid__in=wanted).select_for_update(of=("self",)))
    if len(actions) != len(wanted):
        raise ServiceError("Some selected actions are not in this plan.", field="actions")
    updated = []
    for action in actions:
        try:
            updated.append(items.action_update(action=action, user=user, changes=dict(changes)))
        except ServiceError as exc:
            raise ServiceError(
                f"Nothing was changed: “{action.title}” was refused: {exc}",
                field=exc.field or "actions",
            ) from exc
    return updated


@dataclass
class Filled:
    """What plan_defaults_fill did: how many owners and due dates it set."""

    owners: int = 0
    due_dates: int = 0


@transaction.atomic
def plan_defaults_fill(
    *,
    session: ReviewSession,
    user: User,
    owners: dict[str, User],
    due_dates: bool,
    today: date | None = None,
) -> Filled:
    """Fill in what the live actions still lack, never what someone set: the owner chosen
    for the action's pillar (owners: pillar name -> person) where it has none, and, if
    due_dates, the due date of its quadrant (DUE_DAYS_BY_QUADRANT) where it has none."""
    today = today or timezone.localdate()
    ratings = Rating.objects.select_related("user")
    actions = (
        plan_table_actions(session)
        .exclude(status=ActionItem.Status.CANCELLED)
        .select_for_update(of=("self",))
        .prefetch_related(Prefetch("finding__ratings", ratings))
    )
    filled = Filled()
    for action in actions:
        changes: dict[str, Any] = {}
        owner = owners.get(action_pillar(action))
        if owner is not None and action.owner_id is None:
            changes["owner"] = owner
        if due_dates and action.due_on is None:
            changes["due_on"] = today + timedelta(days=DUE_DAYS_BY_QUADRANT[_quadrant(action)])
        if not changes:
            continue
        try:
            items.action_update(action=action, user=user, changes=changes)
        except ServiceError as exc:
            raise ServiceError(
                f"Nothing was filled in: “{action.title}” was refused: {exc}"
            ) from exc
        filled.owners += "owner" in changes
        filled.due_dates += "due_on" in changes
    return filled
