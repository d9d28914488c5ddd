"""The plan table's writes: one row saved inline, several actions at once, and the defaults
filled in. Each works with htmx (the row) and as a plain form with a redirect back."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from actions import findings, items, plantable
from actions.forms import PlanBulkForm, PlanDefaultsForm, PlanRowForm
from actions.models import ActionItem
from actions.views.items import _require_edit, action_for_user
from actions.views.plan import PlanRow, gate_context, plan_context
from config.http import SignedInRequest
from reviews.access import SessionAccess, session_for_user
from reviews.errors import ServiceError


def _plan_url(session_uuid: UUID, anchor: str) -> str:
    return f"{reverse('actions:plan', args=[session_uuid])}#{anchor}"


@require_POST
def plan_row(request: SignedInRequest, action_uuid: UUID) -> HttpResponse:
    """Save one row of the plan table (owner, due date, measurable outcome, status)."""
    action, membership = action_for_user(request.user, action_uuid)
    if action.session is None:
        raise Http404("This action is in no review's plan.")
    _require_edit(action, membership, request.user)
    form = PlanRowForm(request.POST, workload=action.workload)
    if form.is_valid():
        try:
            plantable.plan_row_save(action=action, user=request.user, changes=form.cleaned_data)
        except ServiceError as exc:
            exc.add_to(form)
    access = session_for_user(request.user, action.session.uuid)
    if not request.htmx and not form.errors:
        messages.success(request, f"“{action.title}” saved.")
        return redirect(_plan_url(access.session.uuid, f"action-{action.uuid}"))
    if not request.htmx:
        row = PlanRow(action, editable=True, form=form)
        context = plan_context(request, access, rows=[row])
        return render(request, "actions/plan.html", context, status=400)
    actions = list(plantable.plan_table_actions(access.session))
    action = next(a for a in actions if a.pk == action.pk)
    rights = findings.analysis_rights(access, user=request.user)
    context = {
        "session": access.session,
        "access": access,
        "rights": rights,
        "row": PlanRow(
            action, editable=True, form=form if form.errors else None, saved=not form.errors
        ),
        "owners": list(items.owner_choices(action.workload)),
        "statuses": ActionItem.Status.choices,
        "can_plan": rights.can_create_actions,
        "oob": True,
        **gate_context(access, rights, actions),
    }
    return render(request, "actions/plan.html#row_saved", context)


def _planner(request: SignedInRequest, session_uuid: UUID) -> SessionAccess:
    """The review, for someone who may build its plan (team admins and members, in the
    phases the plan is open): else 403."""
    access = session_for_user(request.user, session_uuid)
    rights = findings.analysis_rights(access, user=request.user)
    if not rights.can_create_actions:
        raise PermissionDenied(
            rights.read_only_reason or "Team admins and members change the plan's actions."
        )
    return access


@require_POST
def plan_bulk(request: SignedInRequest, session_uuid: UUID) -> HttpResponse:
    """Set the owner, due date and/or status of the selected actions: all or none."""
    access = _planner(request, session_uuid)
    session = access.session
    uuids = plantable.plan_table_actions(session).values_list("uuid", flat=True)
    form = PlanBulkForm(request.POST, workload=session.workload, action_uuids=list(uuids))
    if form.is_valid():
        try:
            changed = plantable.plan_bulk_update(
                session=session,
                user=request.user,
                action_uuids=[UUID(u) for u in form.cleaned_data["actions"]],
                changes=form.changes(),
            )
        except ServiceError as exc:
            exc.add_to(form)
        else:
            count = len(changed)
            messages.success(request, f"{count} action{'s' if count != 1 else ''} changed.")
            return redirect(_plan_url(session.uuid, "table-h"))
    selected = set(request.POST.getlist("actions"))
    context = plan_context(request, access, bulk_form=form, bulk_selected=selected)
    return render(request, "actions/plan.html", context, status=400)


@require_POST
def plan_defaults(request: SignedInRequest, session_uuid: UUID) -> HttpResponse:
    """Fill in an owner per pillar and the due dates by quadrant where an action has none."""
    access = _planner(request, session_uuid)
    session = access.session
    groups = plantable.pillar_groups(plantable.plan_table_actions(session))
    form = PlanDefaultsForm(
        request.POST, workload=session.workload, pillars=[g.name for g in groups]
    )
    if form.is_valid():
        owners, due_dates = form.owners(), form.cleaned_data["due_dates"]
        if not owners and not due_dates:
            form.add_error(None, "Choose an owner for a pillar, or the due dates, to fill in.")
        else:
            try:
                filled = plantable.plan_defaults_fill(
                    session=session, user=request.user, owners=owners, due_dates=due_dates
                )
            except ServiceError as exc:
                exc.add_to(form)
            else:
                messages.success(request, _filled_message(filled))
                return redirect(_plan_url(session.uuid, "table-h"))
    context = plan_context(request, access, defaults_form=form)
    return render(request, "actions/plan.html", context, status=400)


def _filled_message(filled: plantable.Filled) -> str:
    if not filled.owners and not filled.due_dates:
        return "Nothing to fill in: those actions already have an owner and a due date."
    parts = []
    if filled.owners:
        parts.append(f"{filled.owners} owner{'s' if filled.owners != 1 else ''}")
    if filled.due_dates:
        parts.append(f"{filled.due_dates} due date{'s' if filled.due_dates != 1 else ''}")
    return f"Filled in {' and '.join(parts)}; what was already set is unchanged."
