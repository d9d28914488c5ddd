"""153 days of the cadence, 1 March to 31 July 2027, an hour at a time: two workloads of one
team, Checkout (critical, owned by bob) and Intranet (not critical, reviewed every 6 months,
owned by olga), each through a review (preparation, the review, analysis, the action plan),
a published plan (8 and 4 actions: one done early, one slipping overdue, one blocked),
monthly follow-ups (one not held), a member leaving the team mid-way, and an incident with
its post-incident review; Checkout's light reviews and its quarterly review come due.

Each hour the dispatcher and the job sweep run as in production, and every email is
captured. The table at the end is written by hand from the cadence (README, "The cadence";
actions/occasions.py): on which day, in their own time zone, each person hears what.

The people and their time zones: alice (Berlin) is the team admin and facilitates
Checkout's reviews, bob (New York) owns Checkout and facilitates Intranet's, olga (Tokyo)
owns Intranet and runs Checkout's operations, sam (New York) is security and leaves the
team on 10 May, fay (Berlin) is finance, vic (Tokyo) observes, otto (Berlin) is in another
team. Events happen at 14:00 UTC: the afternoon in Berlin, the morning in New York, the
night in Tokyo."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from actions import followups, items, pdf, timezones
from actions import plan as action_plan
from actions.models import ActionItem, FollowUp
from config.celery import app
from questionnaires.risk import Risk
from reviews import sessions
from reviews.cadence import cadence_plan_next
from reviews.models import (
    Answer,
    Membership,
    Participant,
    ParticipantRole,
    Phase,
    ReviewSession,
    SessionKind,
    Workload,
    WorkloadType,
)
from reviews.teams import membership_remove
from tests.actions import timetravel_helpers
from tests.actions.cadence_helpers import at, ready
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("lenses")

START, END = date(2027, 3, 1), date(2027, 7, 31)
EVENT_HOUR = 14  # UTC

ZONES = {
    "alice": "Europe/Berlin",
    "bob": "America/New_York",
    "olga": "Asia/Tokyo",
    "sam": "America/New_York",
    "fay": "Europe/Berlin",
    "vic": "Asia/Tokyo",
    "otto": "Europe/Berlin",
}


def d(month: int, day: int) -> date:
    return date(2027, month, day)


class Story:
    """The people, the workloads and the reviews, and what happens to them."""

    def __init__(self, cast) -> None:
        self.cast = cast
        self.alice, self.bob, self.fay = cast.admin, cast.member, cast.finance
        self.vic, self.otto = cast.viewer, cast.outsider
        self.olga, self.sam = make_user("olga"), make_user("sam")
        for user in (self.olga, self.sam):
            Membership.objects.create(team=cast.team, user=user, role=Membership.Role.MEMBER)
        self.people = {u.username: u for u in (self.alice, self.bob, self.fay, self.vic)}
        self.people |= {"otto": self.otto, "olga": self.olga, "sam": self.sam}
        for name, zone in ZONES.items():
            timezones.time_zone_set(user=self.people[name], name=zone)
        self.checkout = cast.workload  # critical, owned by bob
        self.intranet = Workload.objects.create(
            team=cast.team,
            name="Intranet",
            workload_type=WorkloadType.INTERNAL,
            is_critical=False,
            review_interval_months=6,
            owner=self.olga,
        )
        self.sessions: dict[str, ReviewSession] = {}
        self.actions: dict[str, ActionItem] = {}

    # --- Helpers -------------------------------------------------------------------------

    def session(self, name: str) -> ReviewSession:
        return ReviewSession.objects.get(pk=self.sessions[name].pk)

    def plan_review(self, name, workload, facilitator, starts, kind, others) -> None:
        session = sessions.session_create(
            workload=workload,
            user=facilitator,
            title=f"{workload.name}: {name}",
            kind=kind,
            review_starts_at=at(starts, 10),
        )
        for user, role in others:
            Participant.objects.create(session=session, user=user, role=role)
        self.sessions[name] = session

    def move(self, name: str, *phases: str) -> None:
        facilitator = Participant.objects.get(
            session=self.sessions[name], role=ParticipantRole.FACILITATOR
        ).user
        for phase in phases:
            sessions.session_move(session=self.session(name), user=facilitator, to_phase=phase)

    def add_actions(self, name: str, rows) -> None:
        session = self.session(name)
        facilitator = Participant.objects.get(session=session, role=ParticipantRole.FACILITATOR)
        for key, owner, due_on in rows:
            self.actions[key] = items.action_create(
                workload=session.workload,
                session=session,
                user=facilitator.user,
                title=f"{key}: make {session.workload.name} resilient",
                owner=owner,
                due_on=due_on,
                measurable_outcome="The drill passes",
            )

    def change(self, key: str, user, **changes) -> None:
        action = ActionItem.objects.get(pk=self.actions[key].pk)
        items.action_update(action=action, user=user, changes=changes)

    def publish(self, name: str) -> None:
        session = self.session(name)
        facilitator = Participant.objects.get(session=session, role=ParticipantRole.FACILITATOR)
        action_plan.plan_publish(session=session, user=facilitator.user)
        self.move(name, Phase.FOLLOW_UP)

    def hold_follow_up(self, name: str, number: int) -> None:
        follow_up = FollowUp.objects.get(session=self.sessions[name], number=number)
        facilitator = Participant.objects.get(
            session=self.sessions[name], role=ParticipantRole.FACILITATOR
        )
        followups.followup_finish(follow_up=follow_up, user=facilitator.user, note="On track.")

    def light_review(self, name: str, starts: date) -> None:
        """A monthly light review of Checkout, planned a week ahead: alice and bob, both
        ready at once."""
        self.plan_review(
            name,
            self.checkout,
            self.alice,
            starts,
            SessionKind.MONTHLY_LIGHT,
            [(self.bob, ParticipantRole.WORKLOAD_OWNER)],
        )
        for user in (self.alice, self.bob):
            ready(self.sessions[name], user)

    def hold_light_review(self, name: str) -> None:
        """Held in one sitting: its one action is done there and then, so the plan has no
        follow-ups; published and closed."""
        self.move(name, Phase.REVIEW, Phase.ANALYSIS, Phase.ACTION_PLAN)
        self.add_actions(name, [(f"{name}-1", self.bob, d(9, 30))])
        self.change(f"{name}-1", self.bob, status="done")
        self.publish(name)
        self.move(name, Phase.CLOSED)

    # --- What happens --------------------------------------------------------------------

    def setup(self) -> None:
        """1 March: both workloads know their next review (as when they were created), and
        both reviews are planned: Checkout's quarterly review on 17 March, Intranet's periodic
        one on 24 March. olga is ready for hers from the start."""
        for workload in (self.checkout, self.intranet):
            cadence_plan_next(workload=workload, after=START)
        self.plan_review(
            "S1",
            self.checkout,
            self.alice,
            d(3, 17),
            SessionKind.CRITICAL_QUARTERLY,
            [
                (self.bob, ParticipantRole.WORKLOAD_OWNER),
                (self.olga, ParticipantRole.OPERATIONS),
                (self.sam, ParticipantRole.SECURITY),
                (self.fay, ParticipantRole.FINANCE),
                (self.vic, ParticipantRole.OBSERVER),
            ],
        )
        self.plan_review(
            "S2",
            self.intranet,
            self.bob,
            d(3, 24),
            SessionKind.PERIODIC,
            [
                (self.olga, ParticipantRole.WORKLOAD_OWNER),
                (self.fay, ParticipantRole.FINANCE),
                (self.vic, ParticipantRole.OBSERVER),
            ],
        )
        ready(self.sessions["S2"], self.olga)

    def s1_plan(self) -> None:
        # The review left two high risks: Checkout's light reviews walk through them.
        answers = Answer.objects.filter(session=self.sessions["S1"]).order_by("pk")[:2]
        Answer.objects.filter(pk__in=list(answers.values_list("pk", flat=True))).update(
            risk=Risk.HIGH
        )
        self.move("S1", Phase.ACTION_PLAN)
        self.add_actions(
            "S1",
            [
                ("A1", self.bob, d(5, 14)),  # done early, on 20 April
                ("A2", self.olga, d(4, 27)),  # slips overdue until 10 June
                ("A3", self.fay, d(5, 26)),  # blocked from 21 May to 30 June
                ("A4", self.sam, d(9, 30)),  # sam leaves the team with it open
                ("A5", self.bob, d(6, 16)),  # done two days before its date
                ("A6", self.olga, d(9, 30)),
                ("A7", self.fay, d(9, 30)),
                ("A8", self.bob, d(9, 30)),
            ],
        )

    def s2_plan(self) -> None:
        self.move("S2", Phase.ACTION_PLAN)
        self.add_actions(
            "S2",
            [
                ("B1", self.olga, d(6, 30)),  # done early, on 3 May
                ("B2", self.fay, d(5, 12)),  # overdue, then a new date, then done
                ("B3", self.bob, d(6, 2)),  # blocked from 28 May on
                ("B4", self.olga, d(9, 30)),
            ],
        )

    def record_incident(self) -> None:
        self.sessions["PIR"] = sessions.incident_record(
            workload=self.intranet,
            user=self.bob,
            occurred_on=d(6, 20),
            summary="The intranet was down for six hours",
        )

    def events(self, checkpoint) -> timetravel_helpers.Events:
        s = self
        steps = {
            d(3, 1): s.setup,
            d(3, 12): lambda: [ready(s.sessions["S1"], u) for u in (s.bob, s.fay)],
            d(3, 17): lambda: s.move("S1", Phase.REVIEW, Phase.ANALYSIS),
            d(3, 19): lambda: ready(s.sessions["S2"], s.fay),
            d(3, 24): lambda: s.move("S2", Phase.REVIEW, Phase.ANALYSIS),
            d(3, 25): s.s1_plan,
            d(4, 1): s.s2_plan,
            d(4, 6): lambda: s.publish("S1"),
            d(4, 12): lambda: s.light_review("L1", d(4, 20)),
            d(4, 15): lambda: s.publish("S2"),
            d(4, 20): lambda: [s.hold_light_review("L1"), s.change("A1", s.bob, status="done")],
            d(5, 3): lambda: [s.change("B1", s.olga, status="done"), checkpoint(d(5, 3))],
            d(5, 6): lambda: s.hold_follow_up("S1", 1),
            d(5, 10): lambda: membership_remove(
                membership=Membership.objects.get(team=s.cast.team, user=s.sam), actor=s.alice
            ),
            d(5, 17): lambda: s.hold_follow_up("S2", 1),
            d(5, 18): lambda: s.light_review("L2", d(5, 25)),
            d(5, 20): lambda: s.move("S2", Phase.CLOSED),
            d(5, 21): lambda: s.change("A3", s.fay, status="blocked"),
            d(5, 25): lambda: s.hold_light_review("L2"),
            d(5, 28): lambda: s.change("B3", s.bob, status="blocked"),
            # Follow-up 1 of Checkout's plan falls due on 7 June: it is not held.
            d(6, 10): lambda: [s.change("A2", s.olga, status="done"), checkpoint(d(6, 10))],
            d(6, 14): lambda: [
                s.change("A5", s.bob, status="done"),
                s.change("B2", s.fay, due_on=d(7, 16)),
            ],
            d(6, 16): lambda: s.hold_follow_up("S2", 2),
            d(6, 21): s.record_incident,
            d(6, 25): lambda: checkpoint(d(6, 25)),
            d(6, 28): lambda: ready(s.sessions["PIR"], s.olga),
            d(6, 30): lambda: s.change("A3", s.fay, status="done"),
            d(7, 2): lambda: s.move("PIR", Phase.REVIEW, Phase.ANALYSIS),
            d(7, 6): lambda: s.hold_follow_up("S1", 3),
            d(7, 12): lambda: s.move("PIR", Phase.ACTION_PLAN),
            d(7, 14): lambda: s.change("B2", s.fay, status="done"),
            # Intranet's follow-up 3 falls due on 15 July: it is not held.
        }
        events: timetravel_helpers.Events = {(day, EVENT_HOUR): step for day, step in steps.items()}
        events[(START, 0)] = events.pop((START, EVENT_HOUR))  # before the first sweep
        return events


# --- What each person hears, and when (their own date) ---------------------------------------
# Date-driven reminders go out on their day at the team's hour (09:00) in the recipient's
# time zone, or on the next working day; what an event starts (a phase, a publication, a
# finished follow-up) goes out at the next working hour: the same day in Berlin and New York,
# the next working day in Tokyo, where 14:00 UTC is night.

EXPECTED = [
    # Checkout's quarterly review on 17 March, Intranet's periodic one on 24 March.
    (d(3, 3), "alice bob olga sam fay", "phase_start"),  # preparation starts, not vic
    (d(3, 10), "alice bob olga sam fay", "preparation"),  # a week before, nobody ready
    (d(3, 10), "bob olga fay", "phase_start"),  # Intranet's preparation
    (d(3, 15), "alice olga sam", "preparation"),  # two days before: bob and fay are ready
    (d(3, 16), "alice bob olga sam fay", "review_tomorrow"),
    (d(3, 17), "bob fay sam", "phase_start"),  # the analysis, to the raters
    (d(3, 18), "olga", "phase_start"),
    (d(3, 17), "bob fay", "preparation"),  # Intranet, a week before (olga is ready)
    (d(3, 22), "bob", "preparation"),  # two days before: fay is ready
    (d(3, 23), "bob olga fay", "review_tomorrow"),
    (d(3, 24), "alice", "analysis_due"),
    (d(3, 24), "fay", "phase_start"),  # Intranet's analysis, to its raters
    (d(3, 25), "olga", "phase_start"),
    (d(3, 25), "alice bob", "phase_start"),  # Checkout's action plan
    # Its eight actions, each given to its owner by alice: in Tokyo, the next morning.
    (d(3, 25), "bob bob bob fay fay sam", "action_assigned"),
    (d(3, 26), "olga olga", "action_assigned"),
    (d(3, 31), "bob", "analysis_due"),
    (d(4, 1), "bob", "phase_start"),  # Intranet's action plan
    # Its four actions, given by bob: his own tells nobody.
    (d(4, 1), "fay", "action_assigned"),
    (d(4, 2), "olga olga", "action_assigned"),
    (d(4, 2), "olga", "phase_start"),
    # Checkout's plan is published on 6 April, a day before it is due: everyone, vic too.
    (d(4, 6), "alice bob sam fay", "plan_published"),
    (d(4, 7), "olga vic", "plan_published"),  # 23:00 in Tokyo: the next morning
    # From then on the next review is known: the light review of 17 April, in 11 days.
    (d(4, 6), "alice bob", "next_review_due"),
    (d(4, 12), "alice bob", "phase_start"),  # the light review is planned for 20 April
    (d(4, 14), "bob", "action_plan_due"),  # Intranet's plan, published the day after
    (d(4, 15), "bob fay", "plan_published"),
    (d(4, 16), "olga vic", "plan_published"),
    (d(4, 19), "alice bob", "review_tomorrow"),
    (d(4, 20), "alice bob", "plan_published"),  # the light review, held and published
    # A2 (olga, due Tuesday 27 April) slips; alice hears of it from its fourth week.
    (d(4, 20), "olga", "action_due"),
    (d(4, 26), "olga", "action_due"),
    (d(4, 28), "olga", "action_overdue"),
    (d(5, 5), "olga", "action_overdue"),
    (d(5, 12), "olga", "action_overdue"),
    (d(5, 19), "olga alice", "action_overdue"),
    (d(5, 26), "olga alice", "action_overdue"),
    (d(6, 2), "olga alice", "action_overdue"),
    (d(6, 9), "olga alice", "action_overdue"),  # done on 10 June
    # The May light review (17 May), 14 days before and on the day: it is planned late.
    (d(5, 3), "alice bob", "next_review_due"),
    (d(5, 17), "alice bob", "next_review_due"),
    (d(5, 18), "alice bob", "phase_start"),
    (d(5, 24), "alice bob", "review_tomorrow"),
    (d(5, 25), "alice bob", "plan_published"),
    # Then the quarterly review, on 17 June.
    (d(6, 3), "alice bob", "next_review_due"),
    (d(6, 17), "alice bob", "next_review_due"),
    # Checkout's follow-ups: 6 May (held), 7 June (6 June is a Sunday; not held), 6 July.
    (d(5, 6), "alice bob olga sam fay", "follow_up_digest"),
    (d(5, 6), "alice bob sam fay", "follow_up_summary"),
    (d(5, 7), "olga vic", "follow_up_summary"),
    # sam leaves the team on 10 May: nothing more for him, though he owns A4.
    (d(6, 7), "alice bob olga fay", "follow_up_digest"),
    (d(6, 14), "alice", "follow_up_nudge"),
    (d(7, 6), "alice bob olga fay", "follow_up_digest"),
    (d(7, 6), "alice bob fay", "follow_up_summary"),
    (d(7, 7), "olga vic", "follow_up_summary"),
    # A3 (fay, due 26 May) is blocked on 21 May: no overdue reminders, alice hears weekly.
    (d(5, 19), "fay", "action_due"),
    (d(5, 25), "fay", "action_due"),
    (d(5, 21), "alice", "actions_blocked"),
    (d(5, 24), "alice", "actions_blocked"),
    (d(5, 31), "alice", "actions_blocked"),
    (d(6, 7), "alice", "actions_blocked"),
    (d(6, 14), "alice", "actions_blocked"),
    (d(6, 21), "alice", "actions_blocked"),
    (d(6, 28), "alice", "actions_blocked"),  # done on 30 June
    (d(6, 9), "bob", "action_due"),  # A5, done on 14 June before "due tomorrow"
    # Intranet's follow-ups: 17 May (15 May is a Saturday), 15 June (held the day after),
    # 15 July (not held); the review is closed on 20 May and they go on.
    (d(5, 17), "bob olga fay", "follow_up_digest"),
    (d(5, 17), "bob fay", "follow_up_summary"),
    (d(5, 18), "olga vic", "follow_up_summary"),
    (d(6, 15), "bob olga fay", "follow_up_digest"),
    (d(6, 16), "bob fay", "follow_up_summary"),
    (d(6, 17), "olga vic", "follow_up_summary"),
    (d(7, 15), "bob olga", "follow_up_digest"),  # fay's B2 is done
    (d(7, 22), "bob", "follow_up_nudge"),
    # B2 (fay, due 12 May) slips; bob hears of it from its fourth week; on 14 June it gets a
    # new date, 16 July, and is done on 14 July.
    (d(5, 5), "fay", "action_due"),
    (d(5, 11), "fay", "action_due"),
    (d(5, 13), "fay", "action_overdue"),
    (d(5, 20), "fay", "action_overdue"),
    (d(5, 27), "fay", "action_overdue"),
    (d(6, 3), "fay bob", "action_overdue"),
    (d(6, 10), "fay bob", "action_overdue"),
    (d(7, 9), "fay", "action_due"),
    # B3 (bob, due 2 June) is blocked from 28 May: bob facilitates, he hears weekly.
    (d(5, 26), "bob", "action_due"),
    (d(6, 1), "bob", "action_due"),
    (d(5, 28), "bob", "actions_blocked"),
    (d(5, 31), "bob", "actions_blocked"),
    (d(6, 7), "bob", "actions_blocked"),
    (d(6, 14), "bob", "actions_blocked"),
    (d(6, 21), "bob", "actions_blocked"),
    (d(6, 28), "bob", "actions_blocked"),
    (d(7, 5), "bob", "actions_blocked"),
    (d(7, 12), "bob", "actions_blocked"),
    (d(7, 19), "bob", "actions_blocked"),
    (d(7, 26), "bob", "actions_blocked"),
    # The Intranet is down on Sunday 20 June; on Monday bob records it. The post-incident
    # review is on Friday 2 July (14 days on is a Sunday), preparation from that Monday.
    (d(6, 21), "bob", "phase_start"),
    (d(6, 22), "olga", "phase_start"),
    (d(6, 25), "bob olga", "preparation"),
    (d(6, 30), "bob", "preparation"),  # olga is ready
    (d(7, 1), "bob olga", "review_tomorrow"),
    (d(7, 5), "olga", "phase_start"),  # the analysis, from Friday night in Tokyo
    (d(7, 9), "bob", "analysis_due"),
    (d(7, 12), "bob", "phase_start"),  # the action plan
    (d(7, 13), "olga", "phase_start"),
    (d(7, 23), "bob", "action_plan_due"),
]


# At a few checkpoints the workload page shows the next review's date and kind, and the
# dashboard the next review planned, else the one due: {day: {workload: (date, kind,
# what the dashboard says)}}.
LIGHT, QUARTERLY = "Monthly light review", "Critical workload, quarterly"
PERIODIC = "Periodic review (every 6–12 months)"
NEXT_REVIEW = {
    # Checkout in follow-up, its April light review held: May's comes next.
    d(5, 3): {
        "checkout": (d(5, 17), LIGHT, f"17 May 2027|{LIGHT} · due"),
        "intranet": (d(9, 24), PERIODIC, f"24 Sep 2027|{PERIODIC} · due"),
    },
    # Both light reviews held: the quarterly review; Intranet's review is closed.
    d(6, 10): {
        "checkout": (d(6, 17), QUARTERLY, f"17 Jun 2027|{QUARTERLY} · due"),
        "intranet": (d(9, 24), PERIODIC, f"24 Sep 2027|{PERIODIC} · due"),
    },
    # The post-incident review is planned: the dashboard shows it, the periodic clock stays.
    d(6, 25): {
        "checkout": (d(6, 17), QUARTERLY, f"17 Jun 2027|{QUARTERLY} · due"),
        "intranet": (d(9, 24), PERIODIC, "2 Jul 2027|Post-incident review · scheduled"),
    },
}


def shows_next_review(story, workload, due_on: date, kind: str, dashboard: str) -> None:
    client = Client()
    client.force_login(story.alice)
    page = client.get(reverse("reviews:workload_detail", args=[workload.uuid]))
    assert page.status_code == 200
    body = page.content.decode()
    assert f"<strong>{due_on:%-d %b %Y}</strong>" in body, workload.name
    assert f'<div class="small muted">{kind}</div>' in body, workload.name
    board = client.get(reverse("actions:dashboard")).content.decode()
    row = board[board.index(f">{workload.name}<") :]
    when, label = dashboard.split("|")
    assert row.index(f'{when}<div class="small muted">{label}') < row.index("</tr>")


def expected_rows() -> Counter[tuple[date, str, str]]:
    return Counter(
        (day, person, occasion) for day, people, occasion in EXPECTED for person in people.split()
    )


@pytest.fixture
def worker_here(monkeypatch):
    """Tasks run in this process (with Redis too), and the plan's PDF is done at once."""
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    monkeypatch.setattr(pdf, "plan_document_generate", timetravel_helpers.pdf_stub)
    yield
    app.conf.task_always_eager = eager


def test_150_days_of_the_cadence_for_two_workloads(cast, worker_here):
    story = Story(cast)
    seen_pages: list[date] = []

    def checkpoint(day: date) -> None:
        for workload, (due_on, kind, dashboard) in NEXT_REVIEW[day].items():
            shows_next_review(story, getattr(story, workload), due_on, kind, dashboard)
        seen_pages.append(day)

    emails = timetravel_helpers.run(START, END, story.events(checkpoint))

    got = Counter((e.local(ZONES).date(), e.to, e.occasion) for e in emails)
    want = expected_rows()
    missing = sorted((want - got).elements())
    extra = sorted((got - want).elements())
    assert not missing and not extra, "\n".join(
        ["missing:", *map(str, missing), "not expected:", *map(str, extra)]
    )
    keys = Counter((e.key, e.to) for e in emails)
    assert [key for key, n in keys.items() if n > 1] == [], "an email went out twice"
    # The team's hour (09:00) until the evening (21:00), Monday to Friday, in each one's zone.
    outside = [
        f"{e.local(ZONES):%a %d %b %H:%M} {e.to} {e.occasion}"
        for e in emails
        if (e.local(ZONES).weekday() >= 5 or not 9 <= e.local(ZONES).hour < 21)
    ]
    assert outside == [], "\n".join(["outside working hours:", *outside])
    # sam hears nothing once he has left; otto, of another team, never hears anything.
    left = datetime.combine(d(5, 10), datetime.min.time(), tzinfo=UTC) + timedelta(hours=14)
    assert [e for e in emails if e.to == "sam" and e.sent_at >= left] == []
    assert [e for e in emails if e.to == "otto"] == []
    # The post-incident review was set within 14 days of the incident.
    incident = story.session("PIR")
    assert incident.review_starts_at.date() - d(6, 20) <= timedelta(days=14)
    assert seen_pages == sorted(NEXT_REVIEW)
