"""Time travel through a whole review: preparation, the review, analysis, the action plan
and three monthly follow-ups, then the next review coming due. Each day the dispatcher
sweeps in the morning and again in the evening (what the worker sends right away is sent
too); the team sends at 09:00 (UTC here) from Monday to Friday. The test asserts exactly
which emails go out each day, that none goes out twice and none before 09:00 or at a
weekend."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from django.core import mail

from actions import followups, items, reminders
from actions import plan as action_plan
from actions.models import ActionItem, FollowUp, Reminder
from reviews import sessions
from reviews.models import Participant, ParticipantRole, Phase, ReviewSession
from tests.actions.cadence_helpers import accepted_finding, at, days, ready, sweep, travel

pytestmark = pytest.mark.usefixtures("lenses")


def reminder_emails(since: int) -> list[tuple[str, str]]:
    return sorted(
        (m.to[0].split("@")[0], m.extra_headers["X-Pillarwise-Reminder"].split(":")[0])
        for m in mail.outbox[since:]
    )


def walk(start: date, end: date, events: dict) -> dict[date, list[tuple[str, str]]]:
    """Each day: sweep at 08:00 (the reminders it finds wait for the team's hour, 09:00),
    again at 10:00, the day's events at 12:00 (and the worker sending what they queued),
    sweep again at 18:00. Returns the emails sent per day (days with any)."""
    log = {}
    for day in days(start, end):
        before = len(mail.outbox)
        with travel(day, 8):
            assert sweep() == [], "sent before the team's hour"
        with travel(day, 10):
            sweep()
        if day in events:
            with travel(day, 12):
                events[day]()
                reminders.reminders_send_pending()
        with travel(day, 18):
            sweep()
        if len(mail.outbox) > before:
            log[day] = reminder_emails(before)
    return log


def test_a_review_from_planning_to_its_third_follow_up(cast):
    alice, bob, fay = cast.admin, cast.member, cast.finance
    workload = cast.workload
    workload.is_critical = False
    workload.review_interval_months = 6
    workload.save(update_fields=["is_critical", "review_interval_months"])
    state = {}

    def session() -> ReviewSession:
        return ReviewSession.objects.get(pk=state["session"].pk)

    def action(name) -> ActionItem:
        return ActionItem.objects.get(pk=state[name].pk)

    def plan():
        state["session"] = sessions.session_create(
            workload=workload,
            user=alice,
            title="Checkout: spring review",
            kind="periodic",
            review_starts_at=at(date(2027, 3, 15), 10),
        )
        Participant.objects.create(
            session=state["session"], user=bob, role=ParticipantRole.WORKLOAD_OWNER
        )
        Participant.objects.create(session=state["session"], user=fay, role=ParticipantRole.FINANCE)
        ready(state["session"], bob)

    def hold_review():
        sessions.session_move(session=session(), user=alice, to_phase=Phase.REVIEW)
        sessions.session_move(session=session(), user=alice, to_phase=Phase.ANALYSIS)

    def make_plan():
        sessions.session_move(session=session(), user=alice, to_phase=Phase.ACTION_PLAN)
        for name, owner, due in (
            ("A1", bob, date(2027, 4, 30)),
            ("A2", fay, date(2027, 5, 20)),
            ("A3", bob, date(2027, 6, 10)),
        ):
            state[name] = items.action_create(
                workload=workload,
                session=session(),
                user=alice,
                title=f"{name}: make checkout resilient",
                owner=owner,
                due_on=due,
                measurable_outcome="Failover drill passes",
            )
        accepted_finding(session(), alice, until=date(2027, 6, 20))

    def publish_plan():
        action_plan.plan_publish(session=session(), user=alice)
        sessions.session_move(session=session(), user=alice, to_phase=Phase.FOLLOW_UP)

    def change(name, user, **changes):
        return lambda: items.action_update(action=action(name), user=user, changes=changes)

    def finish(number):
        def run():
            follow_up = FollowUp.objects.get(session=session(), number=number)
            followups.followup_finish(follow_up=follow_up, user=alice, note="On track.")

        return run

    def both(*steps):
        return lambda: [step() for step in steps]

    events = {
        date(2027, 3, 1): plan,
        date(2027, 3, 10): lambda: ready(session(), fay),
        date(2027, 3, 15): hold_review,
        date(2027, 3, 23): make_plan,
        date(2027, 4, 6): publish_plan,
        date(2027, 4, 28): change("A1", bob, status="done"),
        date(2027, 5, 7): finish(1),
        date(2027, 6, 5): both(
            change("A2", fay, status="blocked"), change("A3", bob, percent_complete=90)
        ),
        date(2027, 6, 7): finish(2),
        date(2027, 6, 10): change("A3", bob, status="done"),
        date(2027, 7, 7): finish(3),
        date(2027, 7, 10): change("A2", fay, status="done"),
        date(2027, 7, 12): lambda: sessions.session_move(
            session=session(), user=alice, to_phase=Phase.CLOSED
        ),
    }
    log = walk(date(2027, 3, 1), date(2027, 9, 20), events)

    summary = [("alice", "follow_up_summary"), ("bob", "follow_up_summary"), ("fay", "follow_up_summary")]  # fmt: skip
    digest = [("alice", "follow_up_digest"), ("bob", "follow_up_digest"), ("fay", "follow_up_digest")]  # fmt: skip
    assert log == {
        # Planned on the day preparation starts: everyone taking part hears it that evening.
        date(2027, 3, 1): [
            ("alice", "phase_start"),
            ("bob", "phase_start"),
            ("fay", "phase_start"),
        ],
        # Preparation: a week before, then two days before (fay is ready by then), then all.
        # Two days before and the day before are Saturday and Sunday: both wait for Monday
        # 09:00, the review's day ("today"). Held and moved to the analysis at noon: the
        # raters (owner and finance) are asked.
        date(2027, 3, 8): [("alice", "preparation"), ("fay", "preparation")],
        date(2027, 3, 15): [
            ("alice", "preparation"),
            ("alice", "review_tomorrow"),
            ("bob", "phase_start"),
            ("bob", "review_tomorrow"),
            ("fay", "phase_start"),
            ("fay", "review_tomorrow"),
        ],
        # The analysis is due a week after the review, the plan two weeks after that.
        date(2027, 3, 22): [("alice", "analysis_due")],
        # The action plan starts: the facilitator and the workload owner.
        date(2027, 3, 23): [("alice", "phase_start"), ("bob", "phase_start")],
        date(2027, 4, 5): [("alice", "action_plan_due")],
        # A1 is done before it would be "due tomorrow".
        date(2027, 4, 23): [("bob", "action_due")],
        # Follow-up 1: the digest to the facilitator, the workload owner and the owners of
        # open actions when due, the summary when finished.
        date(2027, 5, 6): digest,
        date(2027, 5, 7): summary,
        # A2 slips: due in 7 days, tomorrow, then overdue weekly...
        date(2027, 5, 13): [("fay", "action_due")],
        date(2027, 5, 19): [("fay", "action_due")],
        date(2027, 5, 21): [("fay", "action_overdue")],
        date(2027, 5, 28): [("fay", "action_overdue")],
        date(2027, 6, 3): [("bob", "action_due")],
        date(2027, 6, 4): [("fay", "action_overdue")],
        # Follow-up 2: 6 June is a Sunday, so it falls on Monday 7 June. The accepted risk
        # expires in 14 days on Sunday 6 June: told on Monday.
        date(2027, 6, 7): sorted(
            [
                *digest,
                *summary,
                ("alice", "actions_blocked"),
                ("alice", "risk_expiring"),
                ("bob", "risk_expiring"),
            ]
        ),
        date(2027, 6, 9): [("bob", "action_due")],
        # ...marked blocked on Saturday 5 June: its overdue reminders wait; the facilitator
        # hears of it on Monday, once (that week's), and then each week until it is done.
        date(2027, 6, 14): [("alice", "actions_blocked")],
        date(2027, 6, 21): [("alice", "actions_blocked")],
        date(2027, 6, 28): [("alice", "actions_blocked")],
        date(2027, 7, 5): [("alice", "actions_blocked")],
        # Follow-up 3; A2 is done on 10 July.
        date(2027, 7, 6): digest,
        date(2027, 7, 7): summary,
        # Closed on 12 July: the next review is due six months after this one.
        date(2027, 9, 1): [("alice", "next_review_due"), ("bob", "next_review_due")],
        date(2027, 9, 15): [("alice", "next_review_due"), ("bob", "next_review_due")],
    }
    keys = Counter(m.extra_headers["X-Pillarwise-Reminder"] for m in mail.outbox)
    assert keys.most_common(1)[0][1] == 1, "a reminder went out twice"
    # No fourth follow-up: every action of the plan is closed.
    assert list(FollowUp.objects.values_list("number", "due_on")) == [
        (1, date(2027, 5, 6)),
        (2, date(2027, 6, 7)),
        (3, date(2027, 7, 6)),
    ]
    assert all(f.is_held and f.milestone_id for f in FollowUp.objects.all())
    workload.refresh_from_db()
    assert workload.next_review_due_on == date(2027, 9, 15)
    # The June digest tells what moved since May's.
    june = next(
        m for m in mail.outbox if m.extra_headers["X-Pillarwise-Reminder"].startswith("follow_up_digest")
        and "Follow-up 2" in m.body
    )  # fmt: skip
    assert "A3: make checkout resilient: 0% -> 90%" in june.body
    assert "2 open, 1 overdue" in june.body
    # Sent, but for Saturday's "actions blocked", overtaken by Monday's of the new week.
    assert list(Reminder.objects.exclude(status=Reminder.Status.SENT).values_list("key")) == [
        (f"actions_blocked:{alice.pk}:2027-W22",)
    ]


def test_an_action_that_slips_overdue_then_gets_a_new_date(cast, lenses):
    with travel(date(2027, 3, 1)):
        session = sessions.session_create(
            workload=cast.workload,
            user=cast.admin,
            title="Checkout review",
            kind="periodic",
            review_starts_at=at(date(2027, 1, 11), 10),
        )
        ReviewSession.objects.filter(pk=session.pk).update(phase=Phase.ACTION_PLAN)
        action = items.action_create(
            workload=cast.workload,
            session=session,
            user=cast.admin,
            title="Rotate the database credentials",
            owner=cast.member,
            due_on=date(2027, 3, 12),
        )

    def move_due_date():
        items.action_update(
            action=ActionItem.objects.get(pk=action.pk),
            user=cast.member,
            changes={"due_on": date(2027, 4, 9)},
        )

    log = walk(date(2027, 3, 1), date(2027, 4, 20), {date(2027, 3, 30): move_due_date})
    bob = lambda occasion: [("bob", occasion)]  # noqa: E731
    assert log == {
        # The session is in its action-plan phase: its facilitator hears it.
        date(2027, 3, 1): [("alice", "phase_start")],
        date(2027, 3, 5): bob("action_due"),  # due in 7 days
        date(2027, 3, 11): bob("action_due"),  # due tomorrow
        # Overdue by 1 day on Saturday 13 March, weekly after: each on the Monday after.
        date(2027, 3, 15): bob("action_overdue"),
        date(2027, 3, 22): bob("action_overdue"),
        date(2027, 3, 29): bob("action_overdue"),
        # 30 March: the owner gives it a new date; its reminders start over from it.
        date(2027, 4, 2): bob("action_due"),
        date(2027, 4, 8): bob("action_due"),
        date(2027, 4, 12): bob("action_overdue"),
        date(2027, 4, 19): bob("action_overdue"),
    }
    subjects = [m.subject for m in mail.outbox if m.to == [cast.member.email]]
    assert subjects[:3] == [
        "Due in 7 days: Rotate the database credentials",
        "Due tomorrow: Rotate the database credentials",
        # Written when it is sent, on Monday.
        "Overdue by 3 days: Rotate the database credentials",
    ]
    assert subjects[3] == "Overdue by 10 days: Rotate the database credentials"
