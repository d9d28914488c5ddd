"""Inviting people to a review session by email.

The email carries a signed link. It works once, expires seven days after it was sent, and
stops working when the facilitator revokes the invitation or resends it (each resend signs a
new link). Each link's email is a job row (InvitationEmail, reviews.jobs): sent once, tried
again after mail-server trouble, sent again by the sweep when a message was lost or the
worker died. Invitations are for people outside the workload's team (members are added
directly: reviews.participants). Accepting makes the person a participant with the invited
role, a guest of this one review; a new user sets a password on accept.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from smtplib import SMTPException
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from reviews import accounts, events
from reviews.emails import absolute_url, build_email
from reviews.errors import ServiceError
from reviews.eventkinds import EventKind
from reviews.ical import session_invitation_ics
from reviews.jobs import error_text, job_claim, job_fail, job_finish, job_queue
from reviews.models import (
    Invitation,
    InvitationEmail,
    Membership,
    Participant,
    ParticipantRole,
    ReviewSession,
)
from reviews.notices import NoticeKind, notify

logger = logging.getLogger("pillarwise.invitations")

SALT = "pillarwise.invitation"
VALID_FOR = timedelta(days=7)


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps(
        {"i": str(invitation.uuid), "n": invitation.nonce}, salt=SALT, compress=True
    )


class InvitationError(ServiceError):
    """The link cannot be used; `reason` is one of invalid, expired, used, revoked, wrong_user."""

    def __init__(self, reason: str, message: str, invitation: Invitation | None = None):
        super().__init__(message)
        self.reason = reason
        self.invitation = invitation


def invitation_from_token(token: str) -> Invitation:
    """The invitation a link stands for, if the link can still be used."""
    try:
        data = signing.loads(token, salt=SALT)
        invitation: Invitation = Invitation.objects.select_related("session__workload__team").get(
            uuid=data["i"]
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError, Invitation.DoesNotExist):
        raise InvitationError("invalid", "This invitation link is not valid.") from None
    if invitation.accepted_at:
        raise InvitationError("used", "This invitation has already been used.", invitation)
    if invitation.revoked_at:
        raise InvitationError("revoked", "This invitation was withdrawn.", invitation)
    if data.get("n") != invitation.nonce:
        raise InvitationError(
            "invalid", "A newer invitation was sent: use the link in the latest email.", invitation
        )
    if invitation.expires_at <= timezone.now():
        raise InvitationError(
            "expired",
            "This invitation has expired: ask the facilitator to send it again.",
            invitation,
        )
    return invitation


def _queue_email(invitation: Invitation) -> None:
    """A job row for the email of the invitation's current link, sent once this commits."""
    email = InvitationEmail.objects.create(
        invitation=invitation, nonce=invitation.nonce, queued_at=timezone.now()
    )
    job_queue(InvitationEmail, [email.pk])


@transaction.atomic
def invitation_create(*, session: ReviewSession, user: User, email: str, role: str) -> Invitation:
    email = accounts.normalized_email(email)
    if role not in ParticipantRole.values:
        raise ServiceError("Choose one of the listed roles.")
    if Participant.objects.filter(session=session, user__email__iexact=email).exists():
        raise ServiceError(f"{email} already takes part in this review.")
    if Invitation.objects.pending().filter(session=session, email__iexact=email).exists():
        raise ServiceError(f"{email} has already been invited: resend that invitation instead.")
    if Membership.objects.filter(
        team_id=session.workload.team_id, user__email__iexact=email
    ).exists():
        raise ServiceError(
            f"{email} is a member of the team: add them under Participants, "
            "with “Add team members”, instead of inviting them.",
            field="email",
        )
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                session=session,
                email=email,
                role=role,
                invited_by=user,
                expires_at=timezone.now() + VALID_FOR,
            )
    except IntegrityError:
        raise ServiceError(f"{email} has already been invited.") from None
    _queue_email(invitation)
    _notify_account(invitation, by_id=user.pk)
    return invitation


def _notify_account(invitation: Invitation, *, by_id: int | None) -> None:
    """A bell entry for the account that verified the invited address, if there is one: one
    per link (a resent link has its own, the old one stops working)."""
    account = accounts.account_for_email(invitation.email)
    if account is not None:
        notify(
            NoticeKind.SESSION_INVITED,
            [account.pk],
            by_id=by_id,
            invitation=invitation.pk,
            nonce=invitation.nonce,
        )


@transaction.atomic
def invitation_resend(*, invitation: Invitation) -> Invitation:
    """Send a fresh link, valid seven days from now; earlier links stop working."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at or invitation.revoked_at:
        raise ServiceError("Only an invitation that is still open can be sent again.")
    invitation.nonce += 1
    invitation.expires_at = timezone.now() + VALID_FOR
    invitation.sent_at = None
    invitation.save(update_fields=["nonce", "expires_at", "sent_at"])
    _queue_email(invitation)
    _notify_account(invitation, by_id=invitation.invited_by_id)
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> Invitation:
    updated = Invitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    if not updated:
        raise ServiceError("Only an invitation that is still open can be withdrawn.")
    invitation.refresh_from_db()
    return invitation


@dataclass
class Accepted:
    participant: Participant
    created_user: bool


def invitation_mode(*, invitation: Invitation, user: User | None) -> str:
    """How `user` (None: not signed in) accepts the invitation: "join" (signed in with the
    invited address), "new_account" (no account has that address: one is set up on
    accepting) or "sign_in" (an account has it: sign in first). Raises InvitationError
    ("wrong_user") for someone signed in with another address."""
    if user is not None:
        if user.email.lower() != invitation.email.lower():
            raise InvitationError(
                "wrong_user",
                f"This invitation is for {invitation.email}, but you are signed in as "
                f"{user.get_username()}. Sign out, then open the link again.",
                invitation,
            )
        return "join"
    if get_user_model().objects.filter(email__iexact=invitation.email).exists():
        return "sign_in"
    return "new_account"


@transaction.atomic
def invitation_accept(
    *, invitation: Invitation, user: User | None = None, new_user: dict[str, Any] | None = None
) -> Accepted:
    """Accept for a signed-in `user` (whose email must be the invited one) or for a new
    account described by `new_user` (username, first_name, last_name, password). Works once:
    the invitation is claimed with a conditional update."""
    mode = invitation_mode(invitation=invitation, user=user)
    if mode == "sign_in":
        raise InvitationError(
            "wrong_user",
            f"An account for {invitation.email} exists: sign in to accept.",
            invitation,
        )
    claimed = Invitation.objects.filter(
        pk=invitation.pk,
        nonce=invitation.nonce,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).update(accepted_at=timezone.now())
    if not claimed:
        raise InvitationError("used", "This invitation can no longer be used.", invitation)
    created = False
    if user is None:
        data = dict(new_user or {})
        password = data.pop("password")
        user = get_user_model()(email=invitation.email, **data)
        user.set_password(password)
        user.save()
        created = True
    accounts.email_verified(user=user, email=invitation.email)
    session = invitation.session
    # Only a team admin makes someone a member: an invitation to a review brings someone from
    # outside the team in as a guest of this one review.
    guest = not Membership.objects.filter(team_id=session.workload.team_id, user=user).exists()
    participant, made = Participant.objects.get_or_create(
        session=session, user=user, defaults={"role": invitation.role, "is_guest": guest}
    )
    if not made and participant.is_guest != guest:
        participant.is_guest = guest
        participant.save(update_fields=["is_guest"])
    Invitation.objects.filter(pk=invitation.pk).update(accepted_by=user)
    events.publish_on_commit(session.uuid, EventKind.PARTICIPANTS)
    return Accepted(participant=participant, created_user=created)


def invitation_email_send(*, email_id: int) -> bool:
    """Send one invitation email (the task's service). The job row is claimed, so a
    duplicate or late message sends nothing; a link that no longer works (accepted,
    withdrawn, sent again, expired) is skipped. Mail-server trouble fails the attempt only:
    the row is tried again after a backoff. Returns whether this call sent it."""
    email = job_claim(InvitationEmail, email_id, select_related=["invitation"])
    if email is None:
        return False
    invitation = email.invitation
    if (
        invitation.nonce != email.nonce
        or invitation.accepted_at
        or invitation.revoked_at
        or invitation.expires_at <= timezone.now()
    ):
        job_finish(email, status=InvitationEmail.Status.SKIPPED)
        return False
    try:
        _email(invitation)
    except (SMTPException, OSError) as exc:
        job_fail(email, error_text(exc), retry=True)
        return False
    except Exception as exc:
        logger.exception("Invitation email %s could not be sent", email_id)
        job_fail(email, error_text(exc), retry=False)
        return False
    if job_finish(email, status=InvitationEmail.Status.SENT):
        Invitation.objects.filter(pk=invitation.pk, nonce=email.nonce).update(
            sent_at=email.finished_at
        )
    return True


def _email(invitation: Invitation) -> None:
    session = ReviewSession.objects.select_related("workload").get(pk=invitation.session_id)
    inviter = invitation.invited_by
    link = absolute_url(f"/invitations/{invitation_token(invitation)}/")
    attachments = (
        [("review.ics", session_invitation_ics(session, attendee_email=invitation.email), "text/calendar; method=REQUEST")]
        if session.review_starts_at
        else []
    )  # fmt: skip
    build_email(
        to=[invitation.email],
        template="invitation",
        subject=f"You are invited to the {session.workload.name} Well-Architected review",
        context={
            "invitation": invitation,
            "session": session,
            "workload": session.workload,
            "link": link,
            "inviter": inviter,
            "expires_at": invitation.expires_at,
            # A preparation that began before the invitation is under way, not "starting".
            "preparation_under_way": bool(
                session.preparation_starts_on
                and session.preparation_starts_on <= timezone.localdate()
            ),
        },
        attachments=attachments,
    ).send(fail_silently=False)
