"""Teams and their members: creating a team, changing and removing members; a team always
keeps an admin. Every change of who is in a team, and with which role, is written to the
team's audit log in the same transaction.

Leaving a team ends access at once. The membership row is the key to everything of the
team, so it is deleted; with it go the person's Participant rows in the team's sessions
(and their presence there). A Participant row without a membership makes its person a
guest of that session, so keeping one would let a removed member keep seeing it: the audit
entry of the removal lists those sessions and roles instead, for the record. Answers,
history and blind picks name the user, not the Participant row, so they stay as they were.
What lives in `actions` (reminders, notifications, calendar feeds, "My actions") asks
`people_in_team` / `is_in_team` at the moment it sends or shows something."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet

from reviews import audit
from reviews.errors import ServiceError
from reviews.models import (
    Membership,
    Participant,
    Presence,
    Team,
)

Action = audit.Action


def people_in_team(team_id: int) -> QuerySet[Membership, dict[str, Any]]:
    """The ids of the users who belong to the team now: who may receive its reminders and
    notifications, own its actions and see its data."""
    return Membership.objects.filter(team_id=team_id).values("user_id")


def is_in_team(*, user_id: int | None, team_id: int | None) -> bool:
    if user_id is None or team_id is None:
        return False
    return Membership.objects.filter(team_id=team_id, user_id=user_id).exists()


@transaction.atomic
def team_create(*, name: str, user: User) -> Team:
    team = Team.objects.create(name=name)
    Membership.objects.create(team=team, user=user, role=Membership.Role.ADMIN)
    audit.record(
        team=team,
        actor=user,
        action=Action.JOINED,
        subject=user.get_username(),
        role=Membership.Role.ADMIN,
        how="created the team",
    )
    return team


@transaction.atomic
def membership_change_role(
    *, membership: Membership, role: str, actor: User | None = None
) -> Membership:
    if membership.role == Membership.Role.ADMIN and role != Membership.Role.ADMIN:
        _keep_an_admin(membership)
    before = membership.role
    if before == role:
        return membership
    membership.role = role
    membership.save(update_fields=["role"])
    audit.record(
        team=membership.team_id,
        actor=actor,
        action=Action.ROLE_CHANGED,
        subject=membership.user.get_username(),
        before=before,
        after=role,
    )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: User | None = None) -> None:
    """Remove someone from a team, and with it every way into the team's data."""
    if membership.role == Membership.Role.ADMIN:
        _keep_an_admin(membership)
    user_id, team_id = membership.user_id, membership.team_id
    participations = Participant.objects.filter(
        user_id=user_id, session__workload__team_id=team_id
    ).select_related("session")
    sessions = [
        {"session": str(p.session.uuid), "title": p.session.title, "role": p.role}
        for p in participations
    ]
    participations.delete()
    Presence.objects.filter(user_id=user_id, session__workload__team_id=team_id).delete()
    membership.delete()
    audit.record(
        team=team_id,
        actor=actor,
        action=Action.REMOVED,
        subject=membership.user.get_username(),
        role=membership.role,
        left_by_themselves=actor is not None and actor.pk == user_id,
        sessions=sessions,
    )


def _keep_an_admin(membership: Membership) -> None:
    admins = Membership.objects.select_for_update().filter(
        team_id=membership.team_id, role=Membership.Role.ADMIN
    )
    if not admins.exclude(pk=membership.pk).exists():
        raise ServiceError("A team needs at least one admin: make someone else admin first.")
