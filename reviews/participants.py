"""Adding team members to a review directly, several at once, each with a session role.

Invitations by email (reviews.invitations) are for people outside the team; a member of the
workload's team is picked from the team and added at once. The picker offers the members who
do not take part yet, each with a session role proposed from their team role (the workload's
owner as workload owner). Adding is one transaction: every pick is checked first and any
refusal names who or what it is about, so nothing is added unless everything can be."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from reviews import events
from reviews.access import Right, session_rights
from reviews.errors import ServiceError
from reviews.eventkinds import EventKind
from reviews.models import Membership, Participant, ParticipantRole, ReviewSession
from reviews.notices import NoticeKind, notify

TeamRole = Membership.Role

# The session role the picker proposes for each team role.
DEFAULT_ROLES: dict[str, str] = {
    TeamRole.ADMIN: ParticipantRole.OPERATIONS,
    TeamRole.MEMBER: ParticipantRole.OPERATIONS,
    TeamRole.FINANCE: ParticipantRole.FINANCE,
    TeamRole.VIEWER: ParticipantRole.OBSERVER,
}


@dataclass(frozen=True)
class Candidate:
    """A team member who does not take part yet, and the role the picker proposes."""

    membership: Membership
    role: str

    @property
    def user(self) -> User:
        return self.membership.user


def default_role(session: ReviewSession, membership: Membership) -> str:
    if membership.user_id == session.workload.owner_id:
        return ParticipantRole.WORKLOAD_OWNER
    return DEFAULT_ROLES.get(membership.role, ParticipantRole.OBSERVER)


def candidates(session: ReviewSession) -> list[Candidate]:
    """The workload's team members who do not take part in the review (one query)."""
    members = (
        Membership.objects.filter(team_id=session.workload.team_id, user__is_active=True)
        .exclude(user__participations__session=session)
        .select_related("user")
        .order_by("user__username")
    )
    return [Candidate(m, default_role(session, m)) for m in members]


def _name(user: User) -> str:
    return user.get_full_name() or user.username


@transaction.atomic
def participants_add(
    *, session: ReviewSession, user: User, picks: list[tuple[str, str]]
) -> list[Participant]:
    """Add the picked team members, given as (user id, session role) pairs as the form
    sends them. The facilitator or a team admin only; all or nothing."""
    if not session_rights(session, user).has(Right.INVITE):
        raise ServiceError("Only the facilitator or a team admin can add participants.")
    if not picks:
        raise ServiceError("Pick at least one team member to add.", field="members")
    ids: dict[int, str] = {}
    problems: list[str] = []
    for raw_id, role in picks:
        try:
            ids[int(raw_id)] = role
        except (TypeError, ValueError):
            problems.append(f"“{raw_id}” is not a person of this team.")
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=ids)}
    members = set(
        Membership.objects.filter(
            team_id=session.workload.team_id, user_id__in=ids, user__is_active=True
        ).values_list("user_id", flat=True)
    )
    taking_part = set(
        Participant.objects.filter(session=session, user_id__in=ids).values_list(
            "user_id", flat=True
        )
    )
    for user_id, role in ids.items():
        person = users.get(user_id)
        if person is None or user_id not in members:
            who = _name(person) if person is not None else f"Person {user_id}"
            problems.append(f"{who} is not a member of {session.workload.team.name}.")
        elif user_id in taking_part:
            problems.append(f"{_name(person)} already takes part in this review.")
        elif role not in ParticipantRole.values:
            problems.append(f"“{role}” is not a role in a review (for {_name(person)}).")
    if problems:
        raise ServiceError(" ".join(problems), field="members")
    try:
        with transaction.atomic():
            added = Participant.objects.bulk_create(
                [Participant(session=session, user_id=uid, role=role) for uid, role in ids.items()]
            )
    except IntegrityError:
        raise ServiceError(
            "Someone was added meanwhile: look at the list again.", field="members"
        ) from None
    notify(NoticeKind.SESSION_ADDED, ids, by_id=user.pk, session=session.pk)
    events.publish_on_commit(session.uuid, EventKind.PARTICIPANTS)
    return added
