"""The action plan of a session: roadmap, table, the publish gate and publishing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from actions import findings, items, plantable
from actions import plan as action_plan
from actions.forms import PlanBulkForm, PlanDefaultsForm, PlanRowForm
from actions.models import ActionItem
from config.http import SignedInRequest
from reviews.access import SessionAccess, session_for_user
from reviews.errors import ServiceError
from reviews.models import Milestone, Phase


@require_safe
def plan(request: SignedInRequest, session_uuid: UUID) -> HttpResponse:
    access = session_for_user(request.user, session_uuid, guests=True)
    return render(request, "actions/plan.html", plan_context(request, access))


def plan_context(request: SignedInRequest, access: SessionAccess, **extra: Any) -> dict[str, Any]:
    """Everything the plan page shows; `extra` (a row being edited, a bulk form with its
    errors) replaces the defaults."""
    session = access.session
    rights = findings.analysis_rights(access, user=request.user)
    actions = list(plantable.plan_table_actions(session))
    live = [a for a in actions if a.status != ActionItem.Status.CANCELLED]
    publications = Milestone.objects.filter(
        session=session, kind=Milestone.Kind.PUBLISHED
    ).select_related("created_by")
    published_on = (
        timezone.localdate(session.plan_published_at) if session.plan_published_at else None
    )
    editing = {row.action.pk: row for row in extra.pop("rows", [])}
    can_plan = rights.can_create_actions and bool(actions)
    context = {
        "nav": "session",
        "session": session,
        "workload": session.workload,
        "access": access,
        "rights": rights,
        "actions": actions,
        "rows": [
            editing.get(a.pk) or PlanRow(a, editable=_may_edit(access, a, request.user))
            for a in actions
        ],
        "live_count": len(live),
        "cancelled_count": len(actions) - len(live),
        **gate_context(access, rights, actions),
        "publications": publications,
        "next_follow_up": action_plan.next_follow_up_on(published_on) if published_on else None,
        "today": timezone.localdate(),
        "can_plan": can_plan,
    }
    if any(row.editable for row in context["rows"]):
        context["owners"] = list(items.owner_choices(session.workload))
        context["statuses"] = ActionItem.Status.choices
    if can_plan:
        groups = plantable.pillar_groups(actions)
        context["bulk_form"] = PlanBulkForm(
            workload=session.workload, action_uuids=[a.uuid for a in actions]
        )
        context["defaults_form"] = PlanDefaultsForm(
            workload=session.workload,
            pillars=[g.name for g in groups],
            initial={"due_dates": True},
        )
        context["pillar_groups"] = groups
        context["due_defaults"] = plantable.due_defaults(timezone.localdate())
    context.update(extra)
    return context


def gate_context(access: SessionAccess, rights, actions: list[ActionItem]) -> dict[str, Any]:
    """The publish card and the roadmap (the row response swaps them out of band)."""
    gaps = action_plan.plan_gaps(actions)
    return {
        "roadmap": action_plan.roadmap(actions),
        "gaps": gaps,
        "no_actions": bool(gaps) and gaps[0].action is None,
        "ready": not gaps,
        "publish_blocker": _publish_blocker(access, rights),
    }


def _may_edit(access: SessionAccess, action: ActionItem, user) -> bool:
    return access.membership is not None and items.can_edit_action(action, access.membership, user)


@dataclass
class PlanRow:
    """One row of the plan table: its action, whether the person may edit it, and, after a
    refused save, the values sent with the errors (nothing saved)."""

    action: ActionItem
    editable: bool = False
    form: PlanRowForm | None = None
    saved: bool = False

    def _sent(self, name: str) -> str | None:
        return self.form.data.get(name, "") if self.form is not None else None

    @property
    def owner(self) -> str:
        sent = self._sent("owner")
        return sent if sent is not None else str(self.action.owner_id or "")

    @property
    def due_on(self) -> str:
        sent = self._sent("due_on")
        due_on = self.action.due_on
        return sent if sent is not None else (due_on.isoformat() if due_on else "")

    @property
    def outcome(self) -> str:
        sent = self._sent("measurable_outcome")
        return sent if sent is not None else self.action.measurable_outcome

    @property
    def status(self) -> str:
        sent = self._sent("status")
        return sent if sent is not None else self.action.status

    @property
    def errors(self) -> dict[str, str]:
        if self.form is None:
            return {}
        return {
            ("row" if name == "__all__" else name): str(errors[0])
            for name, errors in self.form.errors.items()
        }


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
def plan_publish(request: SignedInRequest, session_uuid: UUID) -> HttpResponse:
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
