"""Action items: their fields and the rules on them, creating one (by hand, from a missing
best practice or from a parking-lot item), changing it with its history, and comments."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Prefetch, QuerySet
from django.utils import timezone

from actions import notices
from actions.findings import finding_changed, is_http_url
from actions.models import ActionChange, ActionComment, ActionItem, ActionItemQuerySet, Finding
from questionnaires.models import Choice, Question
from reviews.access import Right, team_rights, team_writes
from reviews.errors import ServiceError
from reviews.models import Membership, ParkingLotItem, ReviewSession, Workload

ACTION_FIELDS = (
    "title",
    "description",
    "measurable_outcome",
    "owner",
    "due_on",
    "status",
    "percent_complete",
    "effort",
    "monthly_saving",
    "currency",
    "external_key",
    "external_url",
)
OWNER_ROLES = (Membership.Role.ADMIN, Membership.Role.MEMBER, Membership.Role.FINANCE)
DUE_AFTER_PLAN_DAYS = 30
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


class ActionInvalid(ServiceError):
    """One field of an action item is not acceptable: `field` names it."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name


def owner_choices(workload: Workload) -> QuerySet[User]:
    """Who may own a workload's actions: its team's admins, members and finance people."""
    return (
        get_user_model()
        .objects.filter(memberships__team_id=workload.team_id, memberships__role__in=OWNER_ROLES)
        .order_by("first_name", "last_name", "username")
    )


def needing_new_owner(workload: Workload) -> ActionItemQuerySet:
    """The workload's open actions whose owner may no longer own them: they left the team
    (or now only view it). The workload page flags them for reassignment."""
    may_own = Membership.objects.filter(
        team_id=workload.team_id, user=OuterRef("owner"), role__in=OWNER_ROLES
    )
    return (
        ActionItem.objects.filter(workload=workload, owner__isnull=False)
        .open()
        .exclude(Exists(may_own))
        .select_related("owner")
        .order_by(F("due_on").asc(nulls_last=True), "created_at")
    )


def _clean_action_fields(
    workload: Workload, fields: dict[str, Any], *, creating: bool
) -> dict[str, Any]:
    unknown = set(fields) - set(ACTION_FIELDS)
    if unknown:
        raise ServiceError(f"Unknown action field(s): {', '.join(sorted(unknown))}.")
    cleaned = dict(fields)
    if "title" in cleaned:
        cleaned["title"] = (cleaned["title"] or "").strip()
        if not cleaned["title"]:
            raise ActionInvalid("title", "An action needs a title.")
        if len(cleaned["title"]) > 200:
            raise ActionInvalid("title", "Keep the title to 200 characters.")
    for name in ("description", "measurable_outcome", "external_key"):
        if name in cleaned:
            cleaned[name] = (cleaned[name] or "").strip()
    if len(cleaned.get("external_key", "")) > 64:
        raise ActionInvalid("external_key", "Keep the tracker key to 64 characters.")
    if "status" in cleaned and cleaned["status"] not in ActionItem.Status.values:
        raise ActionInvalid("status", f"“{cleaned['status']}” is not a status.")
    if "effort" in cleaned:
        cleaned["effort"] = cleaned["effort"] or ""
        if cleaned["effort"] and cleaned["effort"] not in ActionItem.Effort.values:
            raise ActionInvalid("effort", f"“{cleaned['effort']}” is not an effort size.")
    if "percent_complete" in cleaned:
        percent = cleaned["percent_complete"]
        if percent is None or isinstance(percent, bool) or not isinstance(percent, int):
            raise ActionInvalid("percent_complete", "Percent complete is a whole number.")
        if not 0 <= percent <= 100:
            raise ActionInvalid("percent_complete", "Percent complete is between 0 and 100.")
    if cleaned.get("monthly_saving") is not None:
        try:
            saving = Decimal(str(cleaned["monthly_saving"]))
        except InvalidOperation:
            raise ActionInvalid("monthly_saving", "The monthly saving is an amount.") from None
        if not saving.is_finite() or saving < 0:
            raise ActionInvalid("monthly_saving", "The monthly saving cannot be negative.")
        if saving >= Decimal("1e10"):
            raise ActionInvalid("monthly_saving", "The monthly saving is too large.")
        cleaned["monthly_saving"] = saving.quantize(Decimal("0.01"))
    if "currency" in cleaned:
        cleaned["currency"] = (cleaned["currency"] or "").strip().upper()
        if not CURRENCY_RE.match(cleaned["currency"]):
            raise ActionInvalid(
                "currency", "Not a three-letter code: use a three-letter currency code, e.g. EUR."
            )
    if cleaned.get("external_url"):
        if not is_http_url(cleaned["external_url"]):
            raise ActionInvalid("external_url", "The tracker link must start with http(s)://.")
    elif "external_url" in cleaned:
        cleaned["external_url"] = ""
    owner = cleaned.get("owner")
    if (
        owner is not None
        and not Membership.objects.filter(
            team_id=workload.team_id, user=owner, role__in=OWNER_ROLES
        ).exists()
    ):
        raise ActionInvalid(
            "owner", f"{owner} cannot own this action: owners are members of {workload.team}."
        )
    if creating and cleaned.get("due_on") and cleaned["due_on"] < timezone.localdate():
        raise ActionInvalid("due_on", "The due date cannot be in the past.")
    return cleaned


def _display(name: str, value: Any) -> str:
    """How a value reads in an action's history."""
    if value is None or value == "":
        return ""
    if name == "owner":
        owner: User = value
        return owner.get_full_name() or owner.username
    if name == "status":
        return ActionItem.Status(value).label
    if name == "effort":
        return ActionItem.Effort(value).label
    if name == "due_on":
        due_on: date = value
        return due_on.isoformat()
    if name == "percent_complete":
        return f"{value}%"
    return str(value)


def _apply_done_rules(action: ActionItem, changes: dict[str, Any]) -> dict[str, Any]:
    """Done means complete: percent 100 and a completion time; any other status clears it."""
    status = changes.get("status", action.status)
    if status == ActionItem.Status.DONE:
        changes["percent_complete"] = 100
    return changes


@transaction.atomic
def action_create(
    *,
    workload: Workload,
    user: User,
    session: ReviewSession | None = None,
    finding: Finding | None = None,
    question: Question | None = None,
    choice: Choice | None = None,
    parking_item: ParkingLotItem | None = None,
    **fields: Any,
) -> ActionItem:
    """Create an action item on a workload, optionally from a session, a finding, one of
    its missing best practices, or a parking-lot item. Fields as on ActionItem."""
    if session is not None and session.workload_id != workload.pk:
        raise ServiceError("That review belongs to another workload.")
    if finding is not None:
        if session is None or finding.session_id != session.pk:
            raise ServiceError("That finding belongs to another review.")
        question = question or finding.question
    if choice is not None and question is not None and choice.question_id != question.pk:
        raise ServiceError("That best practice belongs to another question.")
    if parking_item is not None and (session is None or parking_item.session_id != session.pk):
        raise ServiceError("That parking-lot item belongs to another review.")
    fields.setdefault("title", "")
    cleaned = _clean_action_fields(workload, fields, creating=True)
    cleaned = _apply_done_rules(ActionItem(), cleaned)
    action = ActionItem(
        workload=workload,
        session=session,
        finding=finding,
        question=question,
        choice=choice,
        parking_item=parking_item,
        created_by=user,
        **cleaned,
    )
    if action.status == ActionItem.Status.DONE:
        action.completed_at = timezone.now()
    action.save()
    ActionChange.objects.create(action=action, user=user, field="created", new_value=action.title)
    notices.action_assigned(action=action, by_id=user.pk)
    if finding is not None and session is not None:
        finding_changed(finding, session)
    return action


def default_due_on(session: ReviewSession | None) -> date | None:
    """A new action's proposed due date: a month after the action plan is due, if set."""
    if session is None or session.action_plan_due_on is None:
        return None
    return max(
        session.action_plan_due_on + timedelta(days=DUE_AFTER_PLAN_DAYS), timezone.localdate()
    )


@transaction.atomic
def action_create_from_practice(
    *, finding: Finding, choice: Choice, user: User
) -> tuple[ActionItem, bool]:
    """One click per missing best practice: an action titled after the practice, described
    by its improvement text, linked to the finding, question and choice. Clicking again
    gives back the action already made for that practice (created is False)."""
    if choice.question_id != finding.question_id or choice.is_none_of_these:
        raise ServiceError("That is not a best practice of this finding's question.")
    finding = (
        Finding.objects.select_for_update(of=("self",))
        .select_related("session__workload")
        .get(pk=finding.pk)
    )
    existing = (
        ActionItem.objects.filter(finding=finding, choice=choice)
        .exclude(status=ActionItem.Status.CANCELLED)
        .first()
    )
    if existing:
        return existing, False
    description = choice.improvement_text
    if choice.improvement_url:
        description = f"{description}\n\nGuidance: {choice.improvement_url}".strip()
    action = action_create(
        workload=finding.session.workload,
        session=finding.session,
        finding=finding,
        choice=choice,
        user=user,
        title=choice.title[:200],
        description=description,
        due_on=default_due_on(finding.session),
    )
    return action, True


@transaction.atomic
def action_update(*, action: ActionItem, user: User, changes: dict[str, Any]) -> ActionItem:
    """Change an action item's fields, recording one history row per field that changed
    (who, when, old -> new). Becoming done sets percent complete to 100 and the completion
    time; any other status clears the completion time. Unchanged fields record nothing."""
    action = (
        ActionItem.objects.select_for_update(of=("self",))
        .select_related("workload", "owner")
        .get(pk=action.pk)
    )
    cleaned = _clean_action_fields(action.workload, changes, creating=False)
    cleaned = _apply_done_rules(action, cleaned)
    history, updated = [], []
    for name, value in cleaned.items():
        old = getattr(action, name)
        if name == "owner":
            if (old.pk if old else None) == (value.pk if value else None):
                continue
        elif old == value:
            continue
        history.append(
            ActionChange(
                action=action,
                user=user,
                field=name,
                old_value=_display(name, old),
                new_value=_display(name, value),
            )
        )
        setattr(action, name, value)
        updated.append(name)
    if action.status == ActionItem.Status.DONE and action.completed_at is None:
        action.completed_at = timezone.now()
        updated.append("completed_at")
    elif action.status != ActionItem.Status.DONE and action.completed_at is not None:
        action.completed_at = None
        updated.append("completed_at")
    if updated:
        action.save(update_fields=[*updated, "updated_at"])
        ActionChange.objects.bulk_create(history)
    if "owner" in updated:
        notices.action_assigned(action=action, by_id=user.pk)
    return action


COMMENT_MAX_LENGTH = 5000


@transaction.atomic
def action_comment_add(*, action: ActionItem, user: User, body: str) -> ActionComment:
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise ActionInvalid("body", "Write something to comment.")
    if len(body) > COMMENT_MAX_LENGTH:
        raise ActionInvalid("body", f"Comments are limited to {COMMENT_MAX_LENGTH:,} characters.")
    return ActionComment.objects.create(action=action, author=user, body=body)


def action_history(action: ActionItem) -> list[ActionChange]:
    """The action's changes, newest first (each names its field as `.label`)."""
    return list(action.changes.select_related("user").order_by("-at", "-pk"))


def can_edit_action(action: ActionItem, membership: Membership | None, user: User) -> bool:
    """Team admins and members edit a workload's actions; an owner edits their own."""
    if not team_writes(membership):
        return False
    return team_rights(membership, Right.EDIT_WORK) or action.owner_id == user.pk


# --- The parking lot ---------------------------------------------------------------------------------


def parking_candidates(session: ReviewSession) -> list[ParkingLotItem]:
    """Parking-lot items not dismissed, each with `live_actions`: the action made from it
    (not cancelled), if any, prefetched."""
    return list(
        ParkingLotItem.objects.filter(session=session, dismissed_at__isnull=True)
        .select_related("question", "created_by")
        .prefetch_related(
            Prefetch(
                "actions",
                ActionItem.objects.exclude(status=ActionItem.Status.CANCELLED),
                to_attr="live_actions",
            )
        )
    )


@transaction.atomic
def parking_item_to_action(*, item: ParkingLotItem, user: User) -> tuple[ActionItem, bool]:
    """Turn a parking-lot item into an action (once: again gives back the same action)."""
    item = (
        ParkingLotItem.objects.select_for_update(of=("self",))
        .select_related("session__workload")
        .get(pk=item.pk)
    )
    if item.dismissed_at is not None:
        raise ServiceError("This parking-lot item was dismissed.")
    existing = item.actions.exclude(status=ActionItem.Status.CANCELLED).first()
    if existing:
        return existing, False
    text = item.text.strip()
    title = text if len(text) <= 200 else text[:199].rstrip() + "…"
    action = action_create(
        workload=item.session.workload,
        session=item.session,
        question=item.question,
        parking_item=item,
        user=user,
        title=title,
        description=text if len(text) > 200 else "",
        due_on=default_due_on(item.session),
    )
    return action, True


@transaction.atomic
def parking_item_dismiss(*, item: ParkingLotItem, user: User) -> ParkingLotItem:
    if item.dismissed_at is None:
        item.dismissed_at = timezone.now()
        item.save(update_fields=["dismissed_at"])
    return item
