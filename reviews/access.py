"""Who may see and do what: the role model, written once.

Two axes cross: the team role (Membership.Role, or none) and the session role
(ParticipantRole, or none), and the phase opens or closes what changes answers. Someone with
a session role but no team role is a guest of that one session; someone with neither is an
outsider, who gets a 404, never a 403, so that nothing outside their teams is known to exist.
Every page, fragment, stream, feed, email link and command asks this module; no other module
decides a role question on its own. README.md shows the same table ("Roles")."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING
from uuid import UUID

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from reviews.models import (
    Membership,
    Participant,
    ParticipantRole,
    Phase,
    ReviewSession,
    Team,
    Workload,
)

if TYPE_CHECKING:
    from questionnaires.structure import QuestionInfo

TeamRole = Membership.Role
SessionRole = ParticipantRole


class Right(StrEnum):
    SEE_TEAM = "see the team's workloads, sessions, findings, plans, milestones, dashboards"
    SEE_SESSION = "see one session (live page, findings, plan and PDF)"
    ANSWER = "answer (choices, notes, not applicable, blind picks)"
    RATE_IMPACT = "rate business impact"
    RATE_EFFORT = "rate technical effort"
    RUN_SESSION = "run the session (phases, focus, blind rounds, publish, reopen, milestones)"
    INVITE = "invite to the session"
    ADD_TO_TEAM = "add to the team"
    OWN_ACTIONS = "own action items"
    EDIT_WORK = "create and edit workloads and sessions, import lenses, make templates"
    MANAGE_TEAM = "manage the team (roles, removals, audit log)"
    PARK = "add to the parking lot"


ALL_TEAM_ROLES = frozenset(TeamRole.values)
ALL_SESSION_ROLES = frozenset(SessionRole.values)
ANSWERING_SESSION_ROLES = frozenset(
    {
        SessionRole.FACILITATOR,
        SessionRole.WORKLOAD_OWNER,
        SessionRole.OPERATIONS,
        SessionRole.SECURITY,
        SessionRole.NOTE_TAKER,
        SessionRole.FINANCE,
    }
)
# Session roles that answer only the cost optimisation pillar.
COST_ONLY_SESSION_ROLES = frozenset({SessionRole.FINANCE})
# The phases in which answers, blind rounds, focus and the parking lot are open.
OPEN_PHASES = frozenset({Phase.PREPARATION, Phase.REVIEW})


@dataclass(frozen=True)
class Rule:
    """Who holds a right: a team role in `team`, or a session role in `session`, or, when
    `both` is set, a session role in `session` together with a team role that is not in
    `never` (None: a guest, no team role). `by_team_admin`: a team admin holds it too."""

    team: frozenset[str] = frozenset()
    session: frozenset[str] = frozenset()
    never: frozenset[str] = frozenset({TeamRole.VIEWER})
    by_team_admin: bool = False
    guests: bool = False


# The role table (README.md, "Roles"). Team viewers and session observers write nothing.
RULES: dict[Right, Rule] = {
    Right.SEE_TEAM: Rule(team=ALL_TEAM_ROLES),
    Right.SEE_SESSION: Rule(
        team=ALL_TEAM_ROLES, session=ALL_SESSION_ROLES, never=frozenset(), guests=True
    ),
    Right.ANSWER: Rule(session=ANSWERING_SESSION_ROLES, guests=True),
    Right.RATE_IMPACT: Rule(
        session=frozenset(
            {SessionRole.FACILITATOR, SessionRole.WORKLOAD_OWNER, SessionRole.FINANCE}
        ),
        guests=True,
    ),
    Right.RATE_EFFORT: Rule(
        session=frozenset(
            {
                SessionRole.FACILITATOR,
                SessionRole.OPERATIONS,
                SessionRole.SECURITY,
                SessionRole.NOTE_TAKER,
            }
        ),
        guests=True,
    ),
    Right.RUN_SESSION: Rule(
        session=frozenset({SessionRole.FACILITATOR}), by_team_admin=True, guests=True
    ),
    Right.INVITE: Rule(
        session=frozenset({SessionRole.FACILITATOR}), by_team_admin=True, guests=True
    ),
    Right.ADD_TO_TEAM: Rule(team=frozenset({TeamRole.ADMIN})),
    Right.OWN_ACTIONS: Rule(team=frozenset({TeamRole.ADMIN, TeamRole.MEMBER, TeamRole.FINANCE})),
    Right.EDIT_WORK: Rule(team=frozenset({TeamRole.ADMIN, TeamRole.MEMBER})),
    Right.MANAGE_TEAM: Rule(team=frozenset({TeamRole.ADMIN})),
    Right.PARK: Rule(session=ANSWERING_SESSION_ROLES, guests=True),
}

# Rights that also need the phase to be open (preparation or review).
PHASE_BOUND = frozenset({Right.ANSWER, Right.PARK})


def holds(right: Right, *, team_role: str | None, session_role: str | None) -> bool:
    """Whether this pair of roles holds the right (phase and pillar aside)."""
    rule = RULES[right]
    if team_role is not None and team_role in rule.team:
        return True
    if rule.by_team_admin and team_role == TeamRole.ADMIN:
        return True
    if session_role is None or session_role not in rule.session:
        return False
    if team_role is None:
        return rule.guests
    return team_role not in rule.never


def is_cost_pillar(*, ident: str, name: str) -> bool:
    """The cost optimisation pillar of any lens: its id ends in costOptimization, or it is
    named Cost Optimization."""
    return ident.lower().endswith("costoptimization") or name.strip().casefold() == (
        "cost optimization"
    )


class PhaseClosed(PermissionDenied):
    """A change the phase no longer allows (answered with 409 Conflict)."""


ANSWERS_CLOSED = "Answers are closed: the review has moved past the session."


def require_open(session: ReviewSession) -> None:
    """Answers, blind rounds, focus and the parking lot: preparation and review only."""
    if session.phase not in OPEN_PHASES:
        raise PhaseClosed(ANSWERS_CLOSED)


@dataclass(frozen=True)
class Rights:
    """What one person may do in one review session, from their two roles and its phase."""

    team_role: str | None
    session_role: str | None
    phase: str

    def has(self, right: Right) -> bool:
        if right in PHASE_BOUND and self.phase not in OPEN_PHASES:
            return False
        return holds(right, team_role=self.team_role, session_role=self.session_role)

    @property
    def is_guest(self) -> bool:
        return self.team_role is None and self.session_role is not None

    @property
    def answers_open(self) -> bool:
        return self.phase in OPEN_PHASES

    def answers_pillar(self, *, ident: str, name: str) -> bool:
        """Whether their session role answers this pillar (phase aside)."""
        if not holds(Right.ANSWER, team_role=self.team_role, session_role=self.session_role):
            return False
        return self.session_role not in COST_ONLY_SESSION_ROLES or is_cost_pillar(
            ident=ident, name=name
        )

    def may_answer(self, question: QuestionInfo | None = None) -> bool:
        """Change answers (of `question`, a QuestionInfo, when given) now."""
        if not self.has(Right.ANSWER):
            return False
        if question is None or self.session_role not in COST_ONLY_SESSION_ROLES:
            return True
        return is_cost_pillar(ident=question.pillar_ident, name=question.pillar_name)

    def answer_refusal(self, question: QuestionInfo | None = None) -> str:
        """Why they may not change this answer ("" when they may)."""
        if self.may_answer(question):
            return ""
        if self.session_role is None:
            return "Only participants of this review can change answers."
        if self.session_role not in ANSWERING_SESSION_ROLES:
            label = SessionRole(self.session_role).label.lower()
            return f"As {label} you follow the answers but do not change them."
        if self.team_role == TeamRole.VIEWER:
            return "You are a viewer in this team: you follow the answers but do not change them."
        if not self.answers_open:
            return ANSWERS_CLOSED
        return "As finance you answer the cost optimisation questions only."

    def require_answer(self, question: QuestionInfo | None = None) -> None:
        """Raise PhaseClosed (409) or PermissionDenied (403) unless they may answer."""
        reason = self.answer_refusal(question)
        if reason == ANSWERS_CLOSED:
            raise PhaseClosed(reason)
        if reason:
            raise PermissionDenied(reason)


def rights_for(
    *, membership: Membership | None, participant: Participant | None, phase: str
) -> Rights:
    return Rights(
        team_role=membership.role if membership else None,
        session_role=participant.role if participant else None,
        phase=phase,
    )


def session_rights(session: ReviewSession, user: User) -> Rights:
    """A person's rights in a session, for services that check again (two queries)."""
    membership = (
        Membership.objects.filter(user=user, team__workloads=session.workload_id).order_by().first()
    )
    participant = Participant.objects.filter(session=session, user=user).order_by().first()
    if membership is None and participant is not None and not participant.is_guest:
        participant = None  # a former member's participation no longer counts
    return rights_for(membership=membership, participant=participant, phase=session.phase)


def team_rights(membership: Membership | None, right: Right) -> bool:
    """A team-level right (see, own actions, edit work, manage the team) of a membership."""
    return membership is not None and holds(right, team_role=membership.role, session_role=None)


def team_writes(membership: Membership | None) -> bool:
    """Whether a team role writes at all: team viewers write nothing (beyond their own
    presence, preferences and notifications)."""
    return membership is not None and membership.role != TeamRole.VIEWER


def team_for_user(user: User, team_uuid: UUID, *, admin: bool = False) -> tuple[Team, Membership]:
    membership = (
        Membership.objects.select_related("team").filter(user=user, team__uuid=team_uuid).first()
    )
    if membership is None:
        raise Http404("No such team.")
    if admin and not team_rights(membership, Right.MANAGE_TEAM):
        raise PermissionDenied("Only a team admin can do this.")
    return membership.team, membership


def workload_for_user(
    user: User, workload_uuid: UUID, *, edit: bool = False
) -> tuple[Workload, Membership]:
    workload = Workload.objects.select_related("team", "owner").filter(uuid=workload_uuid).first()
    membership = (
        Membership.objects.filter(user=user, team_id=workload.team_id).first() if workload else None
    )
    if workload is None or membership is None:
        raise Http404("No such workload.")
    if edit and not team_rights(membership, Right.EDIT_WORK):
        raise PermissionDenied("Your role in this team cannot change workloads.")
    return workload, membership


def editable_teams(user: User) -> QuerySet[Team]:
    return Team.objects.filter(
        memberships__user=user, memberships__role__in=sorted(RULES[Right.EDIT_WORK].team)
    )


@dataclass
class SessionAccess:
    """What the signed-in user may do in one review session. `membership` is None for a
    guest of the session."""

    session: ReviewSession
    membership: Membership | None
    participant: Participant | None

    @property
    def rights(self) -> Rights:
        return rights_for(
            membership=self.membership, participant=self.participant, phase=self.session.phase
        )

    def has(self, right: Right) -> bool:
        return self.rights.has(right)

    @property
    def is_guest(self) -> bool:
        return self.membership is None

    @property
    def is_facilitator(self) -> bool:
        """Runs the session as its facilitator (a team viewer made facilitator does not)."""
        return (
            self.participant is not None
            and self.participant.role == SessionRole.FACILITATOR
            and holds(
                Right.RUN_SESSION, team_role=self.team_role, session_role=SessionRole.FACILITATOR
            )
        )

    @property
    def team_role(self) -> str | None:
        return self.membership.role if self.membership else None

    @property
    def can_answer(self) -> bool:
        """Change some answers now (which pillars: may_answer)."""
        return self.rights.may_answer()

    def may_answer(self, question: QuestionInfo | None = None) -> bool:
        return self.rights.may_answer(question)

    @property
    def can_manage(self) -> bool:
        """Invite, plan and steer: the facilitator, or a team admin standing in."""
        return self.has(Right.RUN_SESSION)

    @property
    def can_edit(self) -> bool:
        """Create and edit the team's work (admins and members; never a guest)."""
        return team_rights(self.membership, Right.EDIT_WORK)

    @property
    def can_park(self) -> bool:
        return self.has(Right.PARK)

    def require_run(self, what: str = "do this") -> None:
        if not self.can_manage:
            raise PermissionDenied(f"Only the facilitator or a team admin can {what}.")

    def require_open(self) -> None:
        if not self.rights.answers_open:
            raise PhaseClosed(ANSWERS_CLOSED)


def session_for_user(user: User, session_uuid: UUID, *, guests: bool = False) -> SessionAccess:
    """The session, the user's membership of its team, and their participation. Three
    simple queries: the live page calls this on every click, and simple queries are the
    cheapest to build. A guest of the session (a participant without a membership) gets in
    only where `guests` is set (the session's own pages); anyone else outside the team, a 404."""
    session = ReviewSession.objects.select_related("workload").filter(uuid=session_uuid).first()
    membership = (
        Membership.objects.filter(user=user, team_id=session.workload.team_id).order_by().first()
        if session
        else None
    )
    if session is None or (membership is None and not guests):
        raise Http404("No such review session.")
    participant = Participant.objects.filter(session=session, user=user).order_by().first()
    if membership is None and (participant is None or not participant.is_guest):
        raise Http404("No such review session.")
    if participant is not None:
        participant.session = session
    return SessionAccess(session=session, membership=membership, participant=participant)
