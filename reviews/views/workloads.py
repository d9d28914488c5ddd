from uuid import UUID

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from reviews.access import editable_teams, workload_for_user
from reviews.forms import WorkloadForm
from reviews.models import Membership, Workload, WorkloadType


@require_safe
def workload_list(request: HttpRequest) -> HttpResponse:
    workloads = (
        Workload.objects.for_user(request.user)
        .with_review_dates()
        .select_related("team", "owner")
        .order_by("team__name", "name")
    )
    team = request.GET.get("team", "")
    if team:
        workloads = workloads.filter(team__uuid=team) if _is_uuid(team) else workloads.none()
    kind = request.GET.get("type", "")
    if kind in WorkloadType.values:
        workloads = workloads.filter(workload_type=kind)
    memberships = Membership.objects.for_user(request.user).select_related("team")
    return render(
        request,
        "reviews/workload_list.html",
        {
            "workloads": workloads,
            "memberships": memberships,
            "can_create": editable_teams(request.user).exists(),
            "selected_team": team,
            "selected_type": kind,
            "workload_types": WorkloadType.choices,
        },
    )


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True


@require_http_methods(["GET", "POST"])
def workload_create(request: HttpRequest) -> HttpResponse:
    if not editable_teams(request.user).exists():
        messages.info(request, "Create a team first: workloads belong to a team.")
        return redirect("reviews:team_list")
    form = WorkloadForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            workload = form.save()
        messages.success(request, f"Workload “{workload.name}” created.")
        return redirect("reviews:workload_detail", workload.uuid)
    return render(request, "reviews/workload_form.html", {"form": form, "workload": None})


@require_http_methods(["GET", "POST"])
def workload_edit(request: HttpRequest, workload_uuid: UUID) -> HttpResponse:
    workload, _ = workload_for_user(request.user, workload_uuid, edit=True)
    form = WorkloadForm(
        request.POST if request.method == "POST" else None, instance=workload, user=request.user
    )
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
        messages.success(request, "Workload saved.")
        return redirect("reviews:workload_detail", workload.uuid)
    return render(request, "reviews/workload_form.html", {"form": form, "workload": workload})


@require_safe
def workload_detail(request: HttpRequest, workload_uuid: UUID) -> HttpResponse:
    workload, membership = workload_for_user(request.user, workload_uuid)
    sessions = workload.sessions.with_risk_counts().order_by("-review_starts_at", "-created_at")
    return render(
        request,
        "reviews/workload_detail.html",
        {"workload": workload, "membership": membership, "sessions": sessions},
    )
