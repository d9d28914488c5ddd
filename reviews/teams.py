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
    ESCALATION_WEEKS,
    REMINDER_HOURS,
    WEEKDAY_NAMES,
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


@transaction.atomic
def team_settings_update(
    *,
    team: Team,
    actor: User,
    reminder_hour: int,
    working_days: list[int],
    overdue_escalation_weeks: int,
) -> Team:
    """Change when the team's reminders go out (the hour, in each recipient's time zone, and
    the working days, as ISO weekdays) and after how many weeks overdue actions escalate.
    Written to the audit log with what changed."""
    if reminder_hour not in REMINDER_HOURS:
        raise ServiceError(
            f"Choose an hour from {REMINDER_HOURS[0]:02d}:00 to {REMINDER_HOURS[-1]:02d}:00: "
            "reminders are not sent at night.",
            field="reminder_hour",
        )
    days = sorted(set(working_days))
    if not days:
        raise ServiceError("Choose at least one working day.", field="working_days")
    if any(day not in range(1, 8) for day in days):
        raise ServiceError("Choose days of the week.", field="working_days")
    if overdue_escalation_weeks not in ESCALATION_WEEKS:
        raise ServiceError(
            f"Choose from {ESCALATION_WEEKS[0]} to {ESCALATION_WEEKS[-1]} weeks.",
            field="overdue_escalation_weeks",
        )
    team = Team.objects.select_for_update().get(pk=team.pk)
    after: dict[str, int | str] = {
        "reminder_hour": reminder_hour,
        "working_days": "".join(str(day) for day in days),
        "overdue_escalation_weeks": overdue_escalation_weeks,
    }
    changed = {name: value for name, value in after.items() if getattr(team, name) != value}
    if not changed:
        return team
    before = {name: getattr(team, name) for name in changed}
    for name, value in changed.items():
        setattr(team, name, value)
    team.save(update_fields=list(changed))
    audit.record(
        team=team,
        actor=actor,
        action=Action.SETTINGS_CHANGED,
        subject=team.name,
        **{
            name: f"{_describe(name, before[name])} -> {_describe(name, value)}"
            for name, value in changed.items()
        },
    )
    return team


def _describe(name: str, value: int | str) -> str:
    if name == "reminder_hour":
        return f"{value:02d}:00"
    if name == "working_days":
        return ", ".join(WEEKDAY_NAMES[int(day) - 1][:3] for day in str(value))
    return str(value)


def _keep_an_admin(membership: Membership) -> None:
    admins = Membership.objects.select_for_update().filter(
        team_id=membership.team_id, role=Membership.Role.ADMIN
    )
    if not admins.exclude(pk=membership.pk).exists():
        raise ServiceError("A team needs at least one admin: make someone else admin first.")
