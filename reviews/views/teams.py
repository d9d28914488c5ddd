from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from config.http import SignedInRequest
from reviews import teams
from reviews.access import team_for_user
from reviews.errors import ServiceError
from reviews.forms import MemberAddForm, MemberRoleForm, TeamForm
from reviews.models import Membership


@require_http_methods(["GET", "POST"])
def team_list(request: SignedInRequest) -> HttpResponse:
    form = TeamForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        team = teams.team_create(name=form.cleaned_data["name"], user=request.user)
        messages.success(request, f"Team “{team.name}” created. You are its admin.")
        return redirect("reviews:team_detail", team.uuid)
    memberships = Membership.objects.for_user(request.user).select_related("team")
    return render(request, "reviews/team_list.html", {"memberships": memberships, "form": form})


@require_http_methods(["GET", "POST"])
def team_detail(request: SignedInRequest, team_uuid: UUID) -> HttpResponse:
    team, membership = team_for_user(request.user, team_uuid)
    form = MemberAddForm(request.POST if request.method == "POST" else None, team=team)
    if request.method == "POST":
        team_for_user(request.user, team_uuid, admin=True)
        if form.is_valid():
            user = form.cleaned_data["who"]
            Membership.objects.create(team=team, user=user, role=form.cleaned_data["role"])
            messages.success(request, f"{user.username} added to {team.name}.")
            return redirect("reviews:team_detail", team.uuid)
    members = team.memberships.select_related("user").order_by("user__username")
    return render(
        request,
        "reviews/team_detail.html",
        {
            "team": team,
            "membership": membership,
            "members": members,
            "form": form,
            "roles": Membership.Role.choices,
            "workload_count": team.workloads.count(),
        },
    )


def _member_for_admin(request: SignedInRequest, team_uuid: UUID, member_id: int) -> Membership:
    team, _ = team_for_user(request.user, team_uuid, admin=True)
    return get_object_or_404(Membership, team=team, pk=member_id)


@require_POST
def member_role(request: SignedInRequest, team_uuid: UUID, member_id: int) -> HttpResponse:
    member = _member_for_admin(request, team_uuid, member_id)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the listed roles.")
    else:
        try:
            teams.membership_change_role(membership=member, role=form.cleaned_data["role"])
            messages.success(request, f"{member.user.username} is now {member.get_role_display()}.")
        except ServiceError as exc:
            messages.error(request, str(exc))
    return redirect("reviews:team_detail", team_uuid)


@require_POST
def member_remove(request: SignedInRequest, team_uuid: UUID, member_id: int) -> HttpResponse:
    member = _member_for_admin(request, team_uuid, member_id)
    try:
        teams.membership_remove(membership=member)
        messages.success(request, f"{member.user.username} removed from the team.")
    except ServiceError as exc:
        messages.error(request, str(exc))
    if member.user_id == request.user.id:
        return redirect("reviews:team_list")
    return redirect("reviews:team_detail", team_uuid)
