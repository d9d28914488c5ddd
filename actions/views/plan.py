"""The action plan of a session: roadmap, table, the publish gate and publishing."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from actions import findings
from actions import plan as action_plan
from actions.models import ActionItem
from reviews.access import session_for_user
from reviews.errors import ServiceError
from reviews.models import Milestone, Phase


@require_safe
def plan(request: HttpRequest, session_uuid: UUID) -> HttpResponse:
    access = session_for_user(request.user, session_uuid, guests=True)
    session = access.session
    rights = findings.analysis_rights(access, user=request.user)
    actions = list(action_plan.plan_actions(session))
    gaps = action_plan.plan_gaps(actions)
    live = [a for a in actions if a.status != ActionItem.Status.CANCELLED]
    publications = Milestone.objects.filter(
        session=session, kind=Milestone.Kind.PUBLISHED
    ).select_related("created_by")
    published_on = (
        timezone.localdate(session.plan_published_at) if session.plan_published_at else None
    )
    return render(
        request,
        "actions/plan.html",
        {
            "nav": "session",
            "session": session,
            "workload": session.workload,
            "access": access,
            "rights": rights,
            "actions": actions,
            "live_count": len(live),
            "cancelled_count": len(actions) - len(live),
            "roadmap": action_plan.roadmap(actions),
            "gaps": gaps,
            "no_actions": bool(gaps) and gaps[0].action is None,
            "ready": not gaps,
            "publish_blocker": _publish_blocker(access, rights),
            "publications": publications,
            "next_follow_up": action_plan.next_follow_up_on(published_on) if published_on else None,
            "today": timezone.localdate(),
        },
    )


def _publish_blocker(access, rights) -> str:
    """Why this person cannot publish now ("" when they can)."""
    if rights.can_publish:
        return ""
    if not access.can_manage:
        return "The facilitator or a team admin publishes the plan."
    if access.session.phase != Phase.ACTION_PLAN:
        return (
            "The plan is published in the action-plan phase; this review is in "
            f"{access.session.get_phase_display().lower()}."
        )
    return rights.read_only_reason


@require_POST
def plan_publish(request: HttpRequest, session_uuid: UUID) -> HttpResponse:
    access = session_for_user(request.user, session_uuid, guests=True)
    rights = findings.analysis_rights(access, user=request.user)
    if not access.can_manage or rights.read_only_reason:
        raise PermissionDenied(_publish_blocker(access, rights) or "You cannot publish this plan.")
    try:
        milestone = action_plan.plan_publish(session=access.session, user=request.user)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"Plan published: milestone “{milestone.name}” saved, the PDF is being generated "
            "and the participants receive a recap by email.",
        )
    return redirect("actions:plan", access.session.uuid)
