"""The workload panel (risks, trend, milestones, actions) and milestone comparison."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from actions import charts, items, milestones
from actions.forms import CompareForm, MilestoneForm
from actions.models import ActionItem
from questionnaires.risk import Risk
from reviews.access import workload_for_user
from reviews.errors import ServiceError
from reviews.models import Milestone

PANEL_ACTIONS = 5


@require_safe
def workload_panel(request: HttpRequest, workload_uuid: UUID) -> HttpResponse:
    """A fragment of the workload page (htmx); a page of its own without JavaScript."""
    workload, membership = workload_for_user(request.user, workload_uuid)
    saved = list(workload.milestones.select_related("created_by", "session"))
    session = milestones.latest_answered_session(workload)
    open_actions = ActionItem.objects.filter(workload=workload).open()
    upcoming = list(
        open_actions.select_related("owner").order_by("due_on", "created_at")[:PANEL_ACTIONS]
    )
    context = {
        "nav": "workload",
        "workload": workload,
        "membership": membership,
        "session": session,
        "risk_chart": charts.risk_bars_svg(milestones.risk_counts_by_pillar(session), width=420)
        if session
        else "",
        "milestones": list(reversed(saved)),
        "trend_chart": charts.trend_svg(milestones.milestone_trend(saved)) if saved else "",
        "compare_form": CompareForm(
            milestones=list(reversed(saved)),
            initial={
                "a": str(saved[-2].uuid) if len(saved) > 1 else "",
                "b": str(saved[-1].uuid) if saved else "",
            },
        ),
        "milestone_form": MilestoneForm(),
        "open_count": open_actions.count(),
        "overdue_count": open_actions.overdue().count(),
        "upcoming": upcoming,
        "orphaned": list(items.needing_new_owner(workload)),
        "owners": list(items.owner_choices(workload)) if membership.can_edit else [],
        "latest_plan_session": workload.sessions.filter(actions__isnull=False)
        .order_by("-created_at")
        .first(),
    }
    template = "actions/workload_panel.html"
    return render(request, f"{template}#panel" if request.htmx else template, context)


@require_POST
def milestone_create(request: HttpRequest, workload_uuid: UUID) -> HttpResponse:
    workload, _ = workload_for_user(request.user, workload_uuid, edit=True)
    form = MilestoneForm(request.POST)
    if form.is_valid():
        try:
            milestone = milestones.milestone_create(
                workload=workload,
                user=request.user,
                kind=Milestone.Kind.MANUAL,
                name=form.cleaned_data["name"],
            )
        except ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Milestone “{milestone.name}” saved.")
    else:
        messages.error(request, "The milestone name is limited to 150 characters.")
    return redirect("reviews:workload_detail", workload.uuid)


@require_safe
def milestone_compare(request: HttpRequest, workload_uuid: UUID) -> HttpResponse:
    workload, _ = workload_for_user(request.user, workload_uuid)
    saved = list(reversed(workload.milestones.select_related("created_by")))
    form = CompareForm(request.GET or None, milestones=saved)
    comparison = None
    if form.is_valid():
        by_uuid = {str(m.uuid): m for m in saved}
        comparison = milestones.milestone_compare(
            by_uuid[form.cleaned_data["a"]], by_uuid[form.cleaned_data["b"]]
        )
    return render(
        request,
        "actions/milestone_compare.html",
        {
            "nav": "workload",
            "workload": workload,
            "milestones": saved,
            "form": form,
            "comparison": comparison,
            "risk_columns": [(risk, Risk(risk).short_label) for risk in milestones.COMPARE_RISKS],
        },
    )
