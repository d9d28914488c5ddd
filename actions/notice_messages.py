"""The messages of the notices (actions.notices): added to a review, invited to a review or a
team, assigned an action. None when the notice no longer applies."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from actions.messages import Message
from actions.models import ActionItem, Occasion, Reminder
from reviews.invitations import invitation_token
from reviews.models import Invitation, Participant, TeamInvitation
from reviews.team_invitations import team_invitation_token


def _by(reminder: Reminder) -> str:
    by = get_user_model().objects.filter(pk=reminder.payload.get("by")).first()
    return (by.get_full_name() or by.username) if by is not None else "Someone"


def _build_session_added(reminder: Reminder, today: date) -> Message | None:
    participant = (
        Participant.objects.select_related("session__workload")
        .filter(session_id=reminder.payload["session"], user_id=reminder.recipient_id)
        .first()
    )
    if participant is None:
        return None  # removed meanwhile
    session = participant.session
    by = _by(reminder)
    role = participant.get_role_display().lower()
    return Message(
        subject=f"You take part in the {session.workload.name} review",
        template="session_added",
        context={
            "session": session,
            "workload": session.workload,
            "participant": participant,
            "by": by,
            "role": role,
        },
        path=reverse("reviews:session_detail", args=[session.uuid]),
        summary=f"{by} added you to “{session.title}” as {role}.",
    )


def _build_session_invited(reminder: Reminder, today: date) -> Message | None:
    invitation = (
        Invitation.objects.pending()
        .select_related("session__workload")
        .filter(pk=reminder.payload["invitation"], expires_at__gt=timezone.now())
        .first()
    )
    if invitation is None or invitation.nonce != reminder.payload.get("nonce", invitation.nonce):
        return None  # used, withdrawn, expired, or sent again with a new link
    session = invitation.session
    return Message(
        subject=f"You are invited to the {session.workload.name} review",
        template="",
        # No workload: the invitee is not in its team yet (actions.recipients).
        context={},
        path=reverse("reviews:invitation_accept", args=[invitation_token(invitation)]),
        summary=f"{_by(reminder)} invited you to “{session.title}”. Open it to accept.",
        email=False,
    )


def _build_team_invited(reminder: Reminder, today: date) -> Message | None:
    invitation = (
        TeamInvitation.objects.pending()
        .select_related("team")
        .filter(pk=reminder.payload["invitation"], expires_at__gt=timezone.now())
        .first()
    )
    if invitation is None:
        return None
    return Message(
        subject=f"You are invited to join {invitation.team.name}",
        template="",
        context={},
        path=reverse("reviews:team_invitation_answer", args=[team_invitation_token(invitation)]),
        summary=f"{_by(reminder)} invited you to the team {invitation.team.name} as "
        f"{invitation.get_role_display().lower()}.",
        email=False,
    )


def _build_action_assigned(reminder: Reminder, today: date) -> Message | None:
    action = (
        ActionItem.objects.select_related("workload")
        .filter(pk=reminder.payload["action"], owner_id=reminder.recipient_id)
        .exclude(status__in=(ActionItem.Status.DONE, ActionItem.Status.CANCELLED))
        .first()
    )
    if action is None:
        return None  # someone else owns it now, or it is finished
    by = _by(reminder)
    return Message(
        subject=f"Assigned to you: {action.title}",
        template="action_assigned",
        context={"action": action, "workload": action.workload, "by": by},
        path=reverse("actions:action_detail", args=[action.uuid]),
        summary=f"{by} made you the owner of “{action.title}” on {action.workload.name}"
        + (f", due {action.due_on:%-d %B}." if action.due_on else "."),
    )


BUILDERS: dict[str, Callable[[Reminder, date], Message | None]] = {
    Occasion.SESSION_ADDED: _build_session_added,
    Occasion.SESSION_INVITED: _build_session_invited,
    Occasion.TEAM_INVITED: _build_team_invited,
    Occasion.ACTION_ASSIGNED: _build_action_assigned,
}
