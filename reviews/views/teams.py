from uuid import UUID

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from config.http import HtmxHttpRequest, SignedInRequest
from reviews import audit, team_invitations, teams
from reviews.access import team_for_user
from reviews.errors import ServiceError
from reviews.forms import (
    MemberRoleForm,
    NewAccountForm,
    TeamForm,
    TeamInvitationForm,
    TeamSettingsForm,
)
from reviews.models import Membership, Team, TeamInvitation

TeamInvitationError = team_invitations.TeamInvitationError


@require_http_methods(["GET", "POST"])
def team_list(request: SignedInRequest) -> HttpResponse:
    form = TeamForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        team = teams.team_create(name=form.cleaned_data["name"], user=request.user)
        messages.success(request, f"Team “{team.name}” created. You are its admin.")
        return redirect("reviews:team_detail", team.uuid)
    memberships = Membership.objects.for_user(request.user).select_related("team")
    invitations = [
        (invitation, team_invitations.team_invitation_token(invitation))
        for invitation in team_invitations.pending_for(request.user)
    ]
    return render(
        request,
        "reviews/team_list.html",
        {"memberships": memberships, "form": form, "invitations": invitations},
    )


@require_http_methods(["GET", "POST"])
def team_detail(request: SignedInRequest, team_uuid: UUID) -> HttpResponse:
    """The team's members; for its admins also the invitation form, the open invitations
    and the audit log (other members do not see those)."""
    team, membership = team_for_user(request.user, team_uuid)
    form = TeamInvitationForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        team_for_user(request.user, team_uuid, admin=True)
        if form.is_valid():
            try:
                invitation = team_invitations.team_invitation_create(
                    team=team, user=request.user, **form.cleaned_data
                )
            except ServiceError as exc:
                form.add_error("email", str(exc))
            else:
                # The same words whether or not an account has this address.
                messages.success(
                    request,
                    f"Invitation sent to {invitation.email}. They join {team.name} when they "
                    "accept it.",
                )
                return redirect("reviews:team_detail", team.uuid)
        status = 400
    return _team_page(request, team, membership, form=form, status=status)


def _team_page(
    request: SignedInRequest,
    team: Team,
    membership: Membership,
    *,
    form: TeamInvitationForm | None = None,
    settings_form: TeamSettingsForm | None = None,
    status: int = 200,
) -> HttpResponse:
    is_admin = membership.role == Membership.Role.ADMIN
    members = team.memberships.select_related("user").order_by("user__username")
    context = {
        "team": team,
        "membership": membership,
        "members": members,
        "form": form if form is not None else TeamInvitationForm(),
        "roles": Membership.Role.choices,
        "workload_count": team.workloads.count(),
        "is_admin": is_admin,
    }
    if is_admin:
        context["pending"] = team.invitations.pending().select_related("invited_by")
        context["audit"] = audit.audit_page(team=team, page=request.GET.get("page"))
        context["settings_form"] = (
            settings_form if settings_form is not None else TeamSettingsForm.for_team(team)
        )
    return render(request, "reviews/team_detail.html", context, status=status)


@require_POST
def team_settings(request: SignedInRequest, team_uuid: UUID) -> HttpResponse:
    """The team's reminder hour, working days and escalation: only its admins change them.
    An htmx request gets the settings card back; a plain form, a redirect (or the page with
    the errors)."""
    team, membership = team_for_user(request.user, team_uuid, admin=True)
    form = TeamSettingsForm.for_team(team, request.POST)
    if form.is_valid():
        try:
            team = teams.team_settings_update(team=team, actor=request.user, **form.cleaned_data)
        except ServiceError as exc:
            exc.add_to(form)
        else:
            if not request.htmx:
                messages.success(request, "Settings saved.")
                return redirect("reviews:team_detail", team.uuid)
            context = {"team": team, "settings_form": TeamSettingsForm.for_team(team)}
            return render(
                request, "reviews/team_detail.html#team-settings", context | {"saved": True}
            )
    if request.htmx:
        context = {"team": team, "settings_form": form}
        return render(request, "reviews/team_detail.html#team-settings", context, status=400)
    return _team_page(request, team, membership, settings_form=form, status=400)


def _member_for_admin(request: SignedInRequest, team_uuid: UUID, member_id: int) -> Membership:
    team, _ = team_for_user(request.user, team_uuid, admin=True)
    return get_object_or_404(Membership.objects.select_related("user"), team=team, pk=member_id)


@require_POST
def member_role(request: SignedInRequest, team_uuid: UUID, member_id: int) -> HttpResponse:
    member = _member_for_admin(request, team_uuid, member_id)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the listed roles.")
    else:
        try:
            teams.membership_change_role(
                membership=member, role=form.cleaned_data["role"], actor=request.user
            )
            messages.success(request, f"{member.user.username} is now {member.get_role_display()}.")
        except ServiceError as exc:
            messages.error(request, str(exc))
    return redirect("reviews:team_detail", team_uuid)


@require_POST
def member_remove(request: SignedInRequest, team_uuid: UUID, member_id: int) -> HttpResponse:
    member = _member_for_admin(request, team_uuid, member_id)
    try:
        teams.membership_remove(membership=member, actor=request.user)
        messages.success(request, f"{member.user.username} removed from the team.")
    except ServiceError as exc:
        messages.error(request, str(exc))
    if member.user_id == request.user.id:
        return redirect("reviews:team_list")
    return redirect("reviews:team_detail", team_uuid)


@require_POST
def team_invitation_revoke(
    request: SignedInRequest, team_uuid: UUID, invitation_uuid: UUID
) -> HttpResponse:
    team, _ = team_for_user(request.user, team_uuid, admin=True)
    invitation = get_object_or_404(TeamInvitation, team=team, uuid=invitation_uuid)
    try:
        team_invitations.team_invitation_revoke(invitation=invitation, user=request.user)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"The invitation to {invitation.email} was withdrawn.")
    return redirect("reviews:team_detail", team.uuid)


@login_not_required
@require_http_methods(["GET", "POST"])
def team_invitation_answer(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """The link in the email: accept (signing in or setting up an account first) or
    decline."""
    template = "reviews/team_invitation.html"
    try:
        invitation = team_invitations.team_invitation_from_token(token)
    except TeamInvitationError as exc:
        status = 410 if exc.reason in ("expired", "used") else 404
        return render(request, template, {"error": str(exc)}, status=status)
    user = request.user if request.user.is_authenticated else None
    context = {"invitation": invitation, "team": invitation.team}
    try:
        mode = team_invitations.team_invitation_mode(invitation=invitation, user=user)
    except TeamInvitationError as exc:
        return render(request, template, {**context, "error": str(exc)}, status=403)
    answer = request.POST.get("answer") if request.method == "POST" else None
    if answer == "decline":
        try:
            team_invitations.team_invitation_decline(invitation=invitation, user=user)
        except TeamInvitationError as exc:
            return render(request, template, {"error": str(exc)}, status=410)
        return render(request, template, {**context, "declined": True})
    if mode == "sign_in":
        login_url = reverse("login") + "?" + urlencode({"next": request.get_full_path()})
        return render(request, template, {**context, "mode": mode, "login_url": login_url})
    form = (
        NewAccountForm(
            request.POST if answer == "accept" else None,
            email=invitation.email,
            initial={"username": invitation.email.split("@")[0]},
        )
        if mode == "new_account"
        else None
    )
    if answer == "accept" and (form is None or form.is_valid()):
        new_user = None
        if form is not None:
            new_user = {
                "username": form.cleaned_data["username"],
                "first_name": form.cleaned_data["first_name"],
                "last_name": form.cleaned_data["last_name"],
                "password": form.cleaned_data["password1"],
            }
        try:
            membership = team_invitations.team_invitation_accept(
                invitation=invitation, user=user, new_user=new_user
            )
        except TeamInvitationError as exc:
            return render(request, template, {"error": str(exc)}, status=410)
        if user is None:
            login(request, membership.user, backend="reviews.backends.UsernameOrEmailBackend")
        messages.success(
            request,
            f"You joined {invitation.team.name} as {membership.get_role_display().lower()}.",
        )
        return redirect("reviews:team_detail", invitation.team.uuid)
    status = 400 if answer == "accept" or (request.method == "POST" and not answer) else 200
    return render(request, template, {**context, "mode": mode, "form": form}, status=status)
