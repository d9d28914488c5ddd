"""Inviting people to a review, and accepting an invitation."""

from uuid import UUID

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from reviews import invitations
from reviews.access import Right, session_for_user
from reviews.errors import ServiceError
from reviews.forms import InvitationForm, NewAccountForm
from reviews.models import Invitation


def _manager(request: HttpRequest, session_uuid: UUID):
    access = session_for_user(request.user, session_uuid, guests=True)
    if not access.has(Right.INVITE):
        raise PermissionDenied("Only the facilitator or a team admin can manage invitations.")
    return access


@require_POST
def invitation_create(request: HttpRequest, session_uuid: UUID) -> HttpResponse:
    access = _manager(request, session_uuid)
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            invitation = invitations.invitation_create(
                session=access.session, user=request.user, **form.cleaned_data
            )
        except ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
    else:
        for field, errors in form.errors.items():
            messages.error(
                request, f"{form.fields[field].label or field.capitalize()}: {errors[0]}"
            )
    return redirect(reverse("reviews:session_detail", args=[access.session.uuid]) + "#invitations")


def _invitation_for_manager(request: HttpRequest, session_uuid: UUID, invitation_uuid: UUID):
    access = _manager(request, session_uuid)
    return access, get_object_or_404(Invitation, session=access.session, uuid=invitation_uuid)


@require_POST
def invitation_resend(
    request: HttpRequest, session_uuid: UUID, invitation_uuid: UUID
) -> HttpResponse:
    access, invitation = _invitation_for_manager(request, session_uuid, invitation_uuid)
    try:
        invitations.invitation_resend(invitation=invitation)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, f"A new link was sent to {invitation.email}; the old one no longer works."
        )
    return redirect(reverse("reviews:session_detail", args=[access.session.uuid]) + "#invitations")


@require_POST
def invitation_revoke(
    request: HttpRequest, session_uuid: UUID, invitation_uuid: UUID
) -> HttpResponse:
    access, invitation = _invitation_for_manager(request, session_uuid, invitation_uuid)
    try:
        invitations.invitation_revoke(invitation=invitation)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"The invitation to {invitation.email} was withdrawn.")
    return redirect(reverse("reviews:session_detail", args=[access.session.uuid]) + "#invitations")


@login_not_required
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the email. Signed in as the invited address: join with one click. Not
    signed in: sign in (an account exists) or set up an account (a new user)."""
    try:
        invitation = invitations.invitation_from_token(token)
    except invitations.InvitationError as exc:
        return render(
            request,
            "reviews/invitation_accept.html",
            {"error": str(exc), "reason": exc.reason},
            status=410 if exc.reason in ("expired", "used", "revoked") else 404,
        )
    user = request.user if request.user.is_authenticated else None
    context = {"invitation": invitation, "session": invitation.session, "token": token}
    try:
        mode = invitations.invitation_mode(invitation=invitation, user=user)
    except invitations.InvitationError as exc:
        context.update(mode=exc.reason, error=str(exc))
        return render(request, "reviews/invitation_accept.html", context, status=403)
    if mode == "sign_in":
        login_url = reverse("login") + "?" + urlencode({"next": request.get_full_path()})
        context.update(mode=mode, login_url=login_url)
        return render(request, "reviews/invitation_accept.html", context)
    form = (
        NewAccountForm(
            request.POST if request.method == "POST" else None,
            email=invitation.email,
            initial={"username": invitation.email.split("@")[0]},
        )
        if mode == "new_account"
        else None
    )
    if request.method == "POST" and (form is None or form.is_valid()):
        new_user = None
        if form is not None:
            new_user = {
                "username": form.cleaned_data["username"],
                "first_name": form.cleaned_data["first_name"],
                "last_name": form.cleaned_data["last_name"],
                "password": form.cleaned_data["password1"],
            }
        try:
            accepted = invitations.invitation_accept(
                invitation=invitation, user=user, new_user=new_user
            )
        except invitations.InvitationError as exc:
            return render(
                request,
                "reviews/invitation_accept.html",
                {"error": str(exc), "reason": exc.reason},
                status=410,
            )
        if accepted.created_user:
            login(
                request,
                accepted.participant.user,
                backend="reviews.backends.UsernameOrEmailBackend",
            )
        messages.success(
            request,
            f"You have joined {invitation.session.title} as {accepted.participant.get_role_display().lower()}.",
        )
        return redirect("reviews:session_detail", invitation.session.uuid)
    context.update(mode=mode, form=form)
    return render(request, "reviews/invitation_accept.html", context)
