"""Who may see what. Everything a user sees belongs to one of their teams; anything else is a
404, never a 403, so that nothing outside a user's teams is known to exist."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import Http404

from reviews.models import Membership, Participant, ReviewSession, Team, Workload


def team_for_user(user, team_uuid: UUID, *, admin: bool = False) -> tuple[Team, Membership]:
    membership = (
        Membership.objects.select_related("team").filter(user=user, team__uuid=team_uuid).first()
    )
    if membership is None:
        raise Http404("No such team.")
    if admin and membership.role != Membership.Role.ADMIN:
        raise PermissionDenied("Only a team admin can do this.")
    return membership.team, membership


def workload_for_user(
    user, workload_uuid: UUID, *, edit: bool = False
) -> tuple[Workload, Membership]:
    workload = Workload.objects.select_related("team", "owner").filter(uuid=workload_uuid).first()
    membership = (
        Membership.objects.filter(user=user, team_id=workload.team_id).first() if workload else None
    )
    if membership is None:
        raise Http404("No such workload.")
    if edit and not membership.can_edit:
        raise PermissionDenied("Your role in this team cannot change workloads.")
    return workload, membership


def editable_teams(user):
    return Team.objects.filter(
        memberships__user=user,
        memberships__role__in=[Membership.Role.ADMIN, Membership.Role.MEMBER],
    )


@dataclass
class SessionAccess:
    """What the signed-in user may do in one review session."""

    session: ReviewSession
    membership: Membership
    participant: Participant | None

    @property
    def is_facilitator(self) -> bool:
        return self.participant is not None and self.participant.is_facilitator

    @property
    def can_answer(self) -> bool:
        """Change answers: participants in an answering role, while answers are open."""
        return self.participant is not None and self.participant.can_answer and self.session.is_live

    @property
    def can_manage(self) -> bool:
        """Invite, plan and steer: the facilitator, or a team admin standing in."""
        return self.is_facilitator or self.membership.role == Membership.Role.ADMIN


def session_for_user(user, session_uuid: UUID) -> SessionAccess:
    """The session, the user's membership of its team, and their participation. Three
    simple queries: the live page calls this on every click, and simple queries are the
    cheapest to build."""
    session = ReviewSession.objects.select_related("workload").filter(uuid=session_uuid).first()
    membership = (
        Membership.objects.filter(user=user, team_id=session.workload.team_id).order_by().first()
        if session
        else None
    )
    if membership is None:
        raise Http404("No such review session.")
    participant = Participant.objects.filter(session=session, user=user).order_by().first()
    if participant is not None:
        participant.session = session
    return SessionAccess(session=session, membership=membership, participant=participant)
