"""Joining a team: only by a team admin's invitation that the invitee accepts.

The admin gives an address and a role. Whether an account has that address or not, the
admin sees the same answer (no one learns who has an account here); the email tells its
reader what to do: sign in and accept, or set up an account and accept. The link is signed,
works once and expires after seven days; the invitee may also decline it. The email is a
job row (TeamInvitationEmail, reviews.jobs). Accepting makes the membership and writes the
audit log; so do declining and inviting."""

from __future__ import annotations

import logging
from datetime import timedelta
from smtplib import SMTPException

from django.contrib.auth import get_user_model
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from reviews import accounts, audit
from reviews.emails import absolute_url, build_email
from reviews.errors import ServiceError
from reviews.jobs import error_text, job_claim, job_fail, job_finish, job_queue
from reviews.models import Membership, Team, TeamInvitation, TeamInvitationEmail
from reviews.notices import NoticeKind, notify

logger = logging.getLogger("pillarwise.invitations")

SALT = "pillarwise.team-invitation"
VALID_FOR = timedelta(days=7)
Action = audit.Action


class TeamInvitationError(ServiceError):
    """The link cannot be used; `reason` is one of invalid, expired, used, wrong_user."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def team_invitation_token(invitation: TeamInvitation) -> str:
    return signing.dumps({"t": str(invitation.uuid)}, salt=SALT, compress=True)


def team_invitation_link(invitation: TeamInvitation) -> str:
    return absolute_url(f"/team-invitations/{team_invitation_token(invitation)}/")


@transaction.atomic
def team_invitation_create(*, team: Team, user, email: str, role: str) -> TeamInvitation:
    """Invite `email` to the team with `role`. The refusals name only what the admin can
    see anyway (the team's members and invitations), never whether an account exists."""
    email = accounts.normalized_email(email)
    if role not in Membership.Role.values:
        raise ServiceError("Choose one of the listed roles.")
    if Membership.objects.filter(team=team, user__email__iexact=email).exists():
        raise ServiceError(f"{email} is already a member of {team.name}.")
    if TeamInvitation.objects.pending().filter(team=team, email__iexact=email).exists():
        raise ServiceError(f"{email} has already been invited: withdraw that invitation first.")
    try:
        with transaction.atomic():
            invitation = TeamInvitation.objects.create(
                team=team,
                email=email,
                role=role,
                invited_by=user,
                expires_at=timezone.now() + VALID_FOR,
            )
    except IntegrityError:
        raise ServiceError(f"{email} has already been invited.") from None
    job = TeamInvitationEmail.objects.create(invitation=invitation, queued_at=timezone.now())
    job_queue(TeamInvitationEmail, [job.pk])
    audit.record(team=team, actor=user, action=Action.INVITED, subject=email, role=role)
    # The bell of an existing account with that verified address (the admin sees nothing of it).
    account = accounts.account_for_email(email)
    if account is not None:
        notify(NoticeKind.TEAM_INVITED, [account.pk], by_id=user.pk, invitation=invitation.pk)
    return invitation


@transaction.atomic
def team_invitation_revoke(*, invitation: TeamInvitation, user) -> None:
    updated = (
        TeamInvitation.objects.pending().filter(pk=invitation.pk).update(revoked_at=timezone.now())
    )
    if not updated:
        raise ServiceError("Only an invitation that is still open can be withdrawn.")


def team_invitation_from_token(token: str) -> TeamInvitation:
    try:
        data = signing.loads(token, salt=SALT)
        invitation = TeamInvitation.objects.select_related("team", "invited_by").get(uuid=data["t"])
    except (signing.BadSignature, KeyError, TypeError, ValueError, TeamInvitation.DoesNotExist):
        raise TeamInvitationError("invalid", "This invitation link is not valid.") from None
    if invitation.accepted_at or invitation.declined_at:
        raise TeamInvitationError("used", "This invitation has already been answered.")
    if invitation.revoked_at:
        raise TeamInvitationError("used", "This invitation was withdrawn.")
    if invitation.expires_at <= timezone.now():
        raise TeamInvitationError(
            "expired", "This invitation has expired: ask the team's admin to invite you again."
        )
    return invitation


def team_invitation_mode(*, invitation: TeamInvitation, user) -> str:
    """ "join" (signed in with the invited address), "new_account" (no account has it) or
    "sign_in" (an account has it); TeamInvitationError "wrong_user" for someone signed in
    with another address."""
    if user is not None:
        if (user.email or "").lower() != invitation.email.lower():
            raise TeamInvitationError(
                "wrong_user",
                f"This invitation is for {invitation.email}, but you are signed in as "
                f"{user.get_username()}. Sign out, then open the link again.",
            )
        return "join"
    if get_user_model().objects.filter(email__iexact=invitation.email).exists():
        return "sign_in"
    return "new_account"


def _claim(invitation: TeamInvitation, **values) -> None:
    claimed = (
        TeamInvitation.objects.pending()
        .filter(pk=invitation.pk, expires_at__gt=timezone.now())
        .update(**values)
    )
    if not claimed:
        raise TeamInvitationError("used", "This invitation can no longer be used.")


@transaction.atomic
def team_invitation_accept(
    *, invitation: TeamInvitation, user=None, new_user: dict | None = None
) -> Membership:
    """Accept for the signed-in `user` with the invited address, or for a new account
    described by `new_user` (username, first_name, last_name, password). Works once."""
    mode = team_invitation_mode(invitation=invitation, user=user)
    if mode == "sign_in":
        raise TeamInvitationError(
            "wrong_user", f"An account for {invitation.email} exists: sign in to accept."
        )
    _claim(invitation, accepted_at=timezone.now())
    if user is None:
        data = dict(new_user or {})
        password = data.pop("password")
        user = get_user_model()(email=invitation.email, **data)
        user.set_password(password)
        user.save()
    accounts.email_verified(user=user, email=invitation.email)
    TeamInvitation.objects.filter(pk=invitation.pk).update(accepted_by=user)
    membership, created = Membership.objects.get_or_create(
        team=invitation.team, user=user, defaults={"role": invitation.role}
    )
    if created:
        audit.record(
            team=invitation.team,
            actor=user,
            action=Action.JOINED,
            subject=user.get_username(),
            role=invitation.role,
            invited_by=invitation.invited_by.get_username() if invitation.invited_by else "",
        )
    return membership


@transaction.atomic
def team_invitation_decline(*, invitation: TeamInvitation, user=None) -> None:
    """Decline: the link was emailed to the invitee, so it is enough (signed in with
    another address, they are refused like on accepting)."""
    if user is not None:
        team_invitation_mode(invitation=invitation, user=user)
    _claim(invitation, declined_at=timezone.now())
    audit.record(
        team=invitation.team,
        actor=user,
        action=Action.INVITATION_DECLINED,
        subject=invitation.email,
        role=invitation.role,
    )


def pending_for(user) -> list[TeamInvitation]:
    """Open invitations to the signed-in user's address (shown on their teams page)."""
    if not user.email:
        return []
    return list(
        TeamInvitation.objects.pending()
        .filter(email__iexact=user.email, expires_at__gt=timezone.now())
        .select_related("team")
        .order_by("-created_at")
    )


def team_invitation_email_send(*, email_id: int) -> bool:
    """Send one team invitation's email (the task's service); a duplicate or late message
    sends nothing, an invitation no longer open is skipped, mail-server trouble is tried
    again after a backoff."""
    job = job_claim(TeamInvitationEmail, email_id, select_related=["invitation__team"])
    if job is None:
        return False
    invitation = job.invitation
    if invitation.status != "pending":
        job_finish(job, status=TeamInvitationEmail.Status.SKIPPED)
        return False
    try:
        _email(invitation)
    except (SMTPException, OSError) as exc:
        job_fail(job, error_text(exc), retry=True)
        return False
    except Exception as exc:
        logger.exception("Team invitation email %s could not be sent", email_id)
        job_fail(job, error_text(exc), retry=False)
        return False
    if job_finish(job, status=TeamInvitationEmail.Status.SENT):
        TeamInvitation.objects.filter(pk=invitation.pk).update(sent_at=job.finished_at)
    return True


def _email(invitation: TeamInvitation) -> None:
    has_account = get_user_model().objects.filter(email__iexact=invitation.email).exists()
    build_email(
        to=[invitation.email],
        template="team_invitation",
        subject=f"You are invited to join the team {invitation.team.name} on Pillarwise",
        context={
            "invitation": invitation,
            "team": invitation.team,
            "inviter": invitation.invited_by,
            "link": team_invitation_link(invitation),
            "has_account": has_account,
            "expires_at": invitation.expires_at,
        },
    ).send(fail_silently=False)
