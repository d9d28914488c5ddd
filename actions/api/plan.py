"""Findings of a session, and action items: read them, and move an action's status and
percent complete through the same service and rights as the app (actions/items.py)."""

from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import Router
from ninja.pagination import paginate

from actions import items
from actions.api.auth import require_write
from actions.api.pagination import CursorPagination
from actions.api.schemas import ERRORS, ActionOut, ActionPatch, FindingOut
from actions.models import ActionItem, Finding
from config.http import SignedInRequest
from reviews.access import session_for_user, workload_for_user
from reviews.models import Membership

router = Router()

ACTION_RELATED = ("workload", "session", "finding", "owner")


def _action_for_user(user, action_uuid: UUID) -> tuple[ActionItem, Membership]:
    action = ActionItem.objects.select_related(*ACTION_RELATED).filter(uuid=action_uuid).first()
    if action is None:
        raise Http404("No such action.")
    try:
        _, membership = workload_for_user(user, action.workload.uuid)
    except Http404:
        raise Http404("No such action.") from None
    return action, membership


@router.get(
    "/sessions/{session_uuid}/findings",
    response={200: list[FindingOut], **ERRORS},
    tags=["findings"],
)
@paginate(CursorPagination)
def finding_list(request: SignedInRequest, session_uuid: UUID):
    """The session's findings: questions answered with a high or medium risk."""
    session = session_for_user(request.user, session_uuid).session
    return Finding.objects.filter(session=session).select_related("session", "question__pillar")


@router.get("/findings/{finding_uuid}", response={200: FindingOut, **ERRORS}, tags=["findings"])
def finding_detail(request: SignedInRequest, finding_uuid: UUID):
    finding = (
        Finding.objects.select_related("session", "question__pillar")
        .filter(uuid=finding_uuid)
        .first()
    )
    if finding is None:
        raise Http404("No such finding.")
    try:
        session_for_user(request.user, finding.session.uuid)
    except Http404:
        raise Http404("No such finding.") from None
    return finding


@router.get(
    "/workloads/{workload_uuid}/actions",
    response={200: list[ActionOut], **ERRORS},
    tags=["actions"],
)
@paginate(CursorPagination)
def action_list(request: SignedInRequest, workload_uuid: UUID):
    """The workload's action items, oldest first."""
    workload, _ = workload_for_user(request.user, workload_uuid)
    return ActionItem.objects.filter(workload=workload).select_related(*ACTION_RELATED)


@router.get("/actions/{action_uuid}", response={200: ActionOut, **ERRORS}, tags=["actions"])
def action_detail(request: SignedInRequest, action_uuid: UUID):
    action, _ = _action_for_user(request.user, action_uuid)
    return action


@router.patch("/actions/{action_uuid}", response={200: ActionOut, **ERRORS}, tags=["actions"])
def action_update(request: SignedInRequest, action_uuid: UUID, payload: ActionPatch):
    """Status and percent complete (done means 100%). Needs a write token, and the rights
    the app gives: team admins and members, and an action's owner for their own."""
    require_write(request)
    action, membership = _action_for_user(request.user, action_uuid)
    if not items.can_edit_action(action, membership, request.user):
        raise PermissionDenied("Team admins and members change actions; owners change their own.")
    changes = payload.model_dump(exclude_none=True, mode="json")
    items.action_update(action=action, user=request.user, changes=changes)
    return _action_for_user(request.user, action_uuid)[0]
