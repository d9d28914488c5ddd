"""The world the URL × role sweep runs in: one team with a workload and two review sessions
(one in the review phase, one in analysis), every kind of object a URL can name, and the 41
people of the role model (roles-spec: anonymous, an outsider, every team role × every session
role, and the guests of the session)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from actions import findings, milestones
from actions.api.tokens import token_create
from actions.calendar import new_token
from actions.models import (
    ActionItem,
    CalendarFeed,
    Finding,
    FollowUp,
    Notification,
    PlanDocument,
)
from questionnaires.models import Lens
from reviews import blind, invitations, sessions, team_invitations
from reviews.models import (
    Answer,
    Invitation,
    Membership,
    Milestone,
    ParkingLotItem,
    Participant,
    ParticipantRole,
    Phase,
    ReviewSession,
    ReviewTemplate,
    Team,
    Workload,
    WorkloadType,
)
from tests.actions.analysis_helpers import set_risk

TEAM_ROLES = ("admin", "member", "finance", "viewer", None)
SESSION_ROLES = (
    "facilitator",
    "workload_owner",
    "operations",
    "security",
    "finance",
    "note_taker",
    "observer",
    None,
)
COST_PILLAR = "costOptimization"


@dataclass(frozen=True)
class Person:
    """One kind of user: a team role (None: not in the team) and a session role in both
    review sessions (None: not a participant). Anonymous has neither and no account."""

    team_role: str | None
    session_role: str | None
    anonymous: bool = False

    @property
    def key(self) -> str:
        if self.anonymous:
            return "anonymous"
        if self.team_role is None and self.session_role is None:
            return "outsider"
        return f"{self.team_role or 'none'}/{self.session_role or 'none'}"

    @property
    def is_outsider(self) -> bool:
        return not self.anonymous and self.team_role is None and self.session_role is None

    @property
    def is_guest(self) -> bool:
        return self.team_role is None and self.session_role is not None

    @property
    def in_team(self) -> bool:
        return self.team_role is not None


def all_people() -> list[Person]:
    people = [Person(None, None, anonymous=True)]
    for team_role in TEAM_ROLES:
        for session_role in SESSION_ROLES:
            people.append(Person(team_role, session_role))
    return people


PEOPLE = all_people()
assert len(PEOPLE) == 41, len(PEOPLE)


@dataclass
class World:
    team: Team
    workload: Workload
    review: ReviewSession  # in the review phase
    closed: ReviewSession  # in analysis: answers, blind rounds, focus, parking are closed
    other_workload: Workload  # of another team
    other_session: ReviewSession
    users: dict[str, Any]  # person key -> user (no entry for anonymous)
    spare: Any  # a team member and observer who is nobody in the sweep: the object of changes
    question: Answer  # not cost, in the review session
    cost_question: Answer
    blind_question: Answer  # not cost, a blind round open
    blind_cost_question: Answer  # cost, a blind round open
    closed_question: Answer  # not cost, in the closed session
    closed_cost_question: Answer
    closed_blind_question: Answer  # a blind round left open in analysis
    spare_participant: Participant
    spare_membership: Membership
    invitation: Invitation
    invitation_token: str
    team_invitation: Any
    team_invitation_token: str
    parking_item: ParkingLotItem
    closed_parking_item: ParkingLotItem
    finding: Finding
    action: ActionItem
    milestone: Milestone
    document: PlanDocument
    follow_up: FollowUp
    notifications: dict[str, Notification]  # person key (and "spare") -> their notification
    feed: CalendarFeed
    lens: Lens
    extra: dict[str, Any] = field(default_factory=dict)

    def user(self, person: Person) -> Any:
        return self.users.get(person.key)


def _user(username: str) -> Any:
    # No password: the sweep signs people in with force_login (and hashing 40 passwords is slow).
    return get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password=None
    )


def _username(person: Person) -> str:
    return "sweep-" + person.key.replace("/", "-").replace("_", "-")


def _answer(session: ReviewSession, *, cost: bool, skip: int = 0) -> Answer:
    answers = session.answers.select_related("question__pillar").filter(
        question__pillar__lens__is_framework=True
    )
    answers = (
        answers.filter(question__pillar__ident=COST_PILLAR)
        if cost
        else answers.exclude(question__pillar__ident=COST_PILLAR)
    )
    return answers.order_by("question__pillar__order", "question__order")[skip]


def build_world() -> World:
    users = {p.key: _user(_username(p)) for p in PEOPLE if not p.anonymous}
    team = Team.objects.create(name="Sweep team")
    other_team = Team.objects.create(name="Other team")
    spare = _user("sweep-spare")
    stranger = _user("sweep-other-admin")
    Membership.objects.create(team=other_team, user=stranger, role=Membership.Role.ADMIN)
    for person in PEOPLE:
        if person.team_role:
            Membership.objects.create(team=team, user=users[person.key], role=person.team_role)
    spare_membership = Membership.objects.create(team=team, user=spare, role="member")
    workload = Workload.objects.create(
        team=team, name="Checkout", workload_type=WorkloadType.CRITICAL_ECOMMERCE, owner=spare
    )
    other_workload = Workload.objects.create(
        team=other_team, name="Secret", workload_type=WorkloadType.INTERNAL, owner=stranger
    )
    facilitator = users["admin/facilitator"]
    starts = timezone.now() + timedelta(days=10)

    def new_session(title: str, on: Workload, by: Any) -> ReviewSession:
        return sessions.session_create(
            workload=on, user=by, title=title, kind="periodic", review_starts_at=starts
        )

    review = new_session("Checkout review", workload, facilitator)
    closed = new_session("Last review", workload, facilitator)
    other_session = new_session("Secret review", other_workload, stranger)
    for session in (review, closed):
        for person in PEOPLE:
            if person.session_role:
                # A guest's place, as accepting a session invitation from outside the team
                # makes it.
                Participant.objects.update_or_create(
                    session=session,
                    user=users[person.key],
                    defaults={"role": person.session_role, "is_guest": person.is_guest},
                )
    spare_participant = Participant.objects.create(
        session=review, user=spare, role=ParticipantRole.OBSERVER
    )
    Participant.objects.create(session=closed, user=spare, role=ParticipantRole.OBSERVER)

    # The closed session: answers with risks, a blind round left open, then analysis and
    # its findings; an action item, a milestone, a follow-up.
    ReviewSession.objects.filter(pk__in=[review.pk, closed.pk]).update(phase=Phase.REVIEW)
    review.refresh_from_db()
    closed.refresh_from_db()
    set_risk(closed, "manage-service-limits", "HIGH", facilitator)
    set_risk(closed, "identities", "MEDIUM", facilitator)
    closed_blind = _answer(closed, cost=False, skip=2)
    blind.blind_open(session=closed, user=facilitator, question_id=closed_blind.question_id)
    ReviewSession.objects.filter(pk=closed.pk).update(phase=Phase.ANALYSIS)
    closed.refresh_from_db()
    findings.findings_sync(session=closed)
    finding = findings.findings_ordered(closed)[0]

    # The open session: two blind rounds open (one on a cost question).
    blind_question = _answer(review, cost=False, skip=1)
    blind_cost_question = _answer(review, cost=True, skip=1)
    for answer in (blind_question, blind_cost_question):
        blind.blind_open(session=review, user=facilitator, question_id=answer.question_id)

    invitation = invitations.invitation_create(
        session=review, user=facilitator, email="newcomer@example.com", role="observer"
    )
    team_invitation = team_invitations.team_invitation_create(
        team=team, user=facilitator, email="joiner@example.com", role="member"
    )
    parking_item = ParkingLotItem.objects.create(
        session=review, text="Talk about DR", created_by=spare
    )
    closed_parking_item = ParkingLotItem.objects.create(
        session=closed, text="Talk about costs", created_by=spare
    )
    action = ActionItem.objects.create(
        workload=workload,
        session=closed,
        finding=finding,
        title="Raise the service limits",
        owner=spare,
        due_on=date.today() + timedelta(days=30),
        created_by=spare,
    )
    milestone = milestones.milestone_create(
        workload=workload, session=closed, user=spare, kind="manual", name="After the review"
    )
    name = f"plans/sweep-{review.uuid}.pdf"
    stored = default_storage.save(name, ContentFile(b"%PDF-1.4\n%%EOF\n"))
    document = PlanDocument.objects.create(
        session=review, version=1, status="done", file=stored, requested_by=facilitator
    )
    follow_up = FollowUp.objects.create(
        session=closed, number=1, due_on=date.today() + timedelta(days=20)
    )
    notifications = {
        key: Notification.objects.create(
            user=user, occasion="action_due", title="Due soon", url="/actions/mine/"
        )
        for key, user in [*users.items(), ("spare", spare)]
    }
    feed = CalendarFeed.objects.create(user=facilitator, token=new_token())
    framework = Lens.objects.latest_versions().get(is_framework=True)
    extra = {
        # A review template of the team, and an API token of the spare member (so that
        # everyone in the sweep meets someone else's token).
        "template": ReviewTemplate.objects.create(
            team=team, name="Platform answers", lens=framework, created_by=facilitator
        ),
        "token": token_create(user=spare, name="sweep", scope="read")[0],
    }
    return World(
        team=team,
        workload=workload,
        review=review,
        closed=closed,
        other_workload=other_workload,
        other_session=other_session,
        users=users,
        spare=spare,
        question=_answer(review, cost=False),
        cost_question=_answer(review, cost=True),
        blind_question=blind_question,
        blind_cost_question=blind_cost_question,
        closed_question=_answer(closed, cost=False),
        closed_cost_question=_answer(closed, cost=True),
        closed_blind_question=closed_blind,
        spare_participant=spare_participant,
        spare_membership=spare_membership,
        invitation=invitation,
        invitation_token=invitations.invitation_token(invitation),
        team_invitation=team_invitation,
        team_invitation_token=team_invitations.team_invitation_token(team_invitation),
        parking_item=parking_item,
        closed_parking_item=closed_parking_item,
        finding=finding,
        action=action,
        milestone=milestone,
        document=document,
        follow_up=follow_up,
        notifications=notifications,
        feed=feed,
        lens=framework,
        extra=extra,
    )
