"""The reminder dispatcher and the sending of one reminder: who gets which reminder when,
that nothing is sent twice, retries, the lost-message sweep, preferences."""

from __future__ import annotations

from datetime import date, timedelta
from smtplib import SMTPException

import pytest
import time_machine
from django.core import mail

from actions import occasions, reminders
from actions.models import (
    ActionItem,
    Notification,
    NotificationPreference,
    Occasion,
    Reminder,
)
from reviews import jobs
from reviews.cadence import next_review_due
from reviews.jobs import job_claim, job_sweep
from reviews.models import Phase, ReviewSession
from tests.actions.cadence_helpers import (
    accepted_finding,
    at,
    make_action,
    make_session,
    publish,
    ready,
    reminders_any_day,  # noqa: F401 (a fixture)
    sent,
    sweep,
    travel,
    without_phase_announcements,  # noqa: F401 (a fixture)
)

MONDAY = date(2027, 3, 1)

# The phase-start announcements are tested on their own (test_phase_announcements.py).
pytestmark = pytest.mark.usefixtures("lenses", "without_phase_announcements", "reminders_any_day")


@pytest.fixture
def session(cast):
    """A review on Monday 15 March 2027 at 10:00, planned on 1 March."""
    with travel(MONDAY):
        return make_session(cast, starts=at(MONDAY + timedelta(days=14), 10))


def on(day: date, hour: int = 8) -> list[tuple[str, str]]:
    before = len(mail.outbox)
    with travel(day, hour):
        sweep()
    return sent(before)


# --- Who gets what, when ---------------------------------------------------------------------


def test_preparation_reminds_unprepared_participants_7_and_2_days_before(cast, session):
    ready(session, cast.member)
    assert on(date(2027, 3, 7)) == []
    assert on(date(2027, 3, 8)) == [("alice", "preparation")]
    assert on(date(2027, 3, 9)) == []
    assert on(date(2027, 3, 13)) == [("alice", "preparation")]
    assert "in 2 days" in mail.outbox[-1].subject


def test_preparation_reminder_not_sent_once_the_checklist_is_done(cast, session):
    ready(session, cast.member)
    ready(session, cast.admin)
    assert on(date(2027, 3, 8)) == []


def test_a_session_planned_late_still_gets_its_preparation_reminders(cast):
    with travel(date(2027, 3, 10)):
        make_session(cast, starts=at(date(2027, 3, 15), 10))
    # Five days before: the "a week before" reminder, then the 2-day one.
    assert sorted(on(date(2027, 3, 10), 9)) == [("alice", "preparation"), ("bob", "preparation")]
    assert on(date(2027, 3, 11)) == []
    assert sorted(on(date(2027, 3, 13))) == [("alice", "preparation"), ("bob", "preparation")]


def test_review_tomorrow_goes_to_every_participant(cast, session):
    ready(session, cast.member)
    assert sorted(on(date(2027, 3, 14))) == [
        ("alice", "review_tomorrow"),
        ("bob", "review_tomorrow"),
    ]
    assert on(date(2027, 3, 14), 18) == []
    assert on(date(2027, 3, 15)) == []


def test_a_moved_review_reminds_for_the_new_date_and_not_the_old(cast, session):
    ready(session, cast.member)
    assert on(date(2027, 3, 8)) == [("alice", "preparation")]
    ReviewSession.objects.filter(pk=session.pk).update(review_starts_at=at(date(2027, 3, 22), 10))
    assert on(date(2027, 3, 14)) == []
    assert on(date(2027, 3, 15)) == [("alice", "preparation")]  # 7 days before the new date
    assert sorted(on(date(2027, 3, 21))) == [
        ("alice", "review_tomorrow"),
        ("bob", "review_tomorrow"),
    ]


def test_a_stale_reminder_is_skipped_when_the_review_moved_before_sending(cast, session):
    with travel(date(2027, 3, 14)):
        queued = reminders.reminders_dispatch().queued
        ReviewSession.objects.filter(pk=session.pk).update(review_starts_at=at(date(2027, 4, 1)))
        for reminder_id in queued:
            reminders.reminder_send(reminder_id=reminder_id)
    assert mail.outbox == []
    assert set(Reminder.objects.values_list("status", flat=True)) == {Reminder.Status.SKIPPED}


def test_analysis_due_goes_to_the_facilitator_on_the_day(cast, session):
    ReviewSession.objects.filter(pk=session.pk).update(phase=Phase.ANALYSIS)
    assert session.analysis_due_on == date(2027, 3, 22)
    assert on(date(2027, 3, 21)) == []
    assert on(date(2027, 3, 22)) == [("alice", "analysis_due")]
    assert on(date(2027, 3, 23)) == []


def test_analysis_due_is_not_sent_once_the_review_moved_on(cast, session):
    ReviewSession.objects.filter(pk=session.pk).update(phase=Phase.ACTION_PLAN)
    assert on(date(2027, 3, 22)) == []


def test_action_plan_due_goes_to_the_facilitator_until_published(cast, session):
    ReviewSession.objects.filter(pk=session.pk).update(phase=Phase.ACTION_PLAN)
    assert session.action_plan_due_on == date(2027, 4, 5)
    assert on(date(2027, 4, 5)) == [("alice", "action_plan_due")]
    other = make_session(cast, starts=at(date(2027, 3, 15), 10), title="Another")
    publish(other, on=at(date(2027, 4, 1)))
    assert on(date(2027, 4, 6)) == []


def test_action_due_7_days_and_1_day_before_to_its_owner(cast, session):
    make_action(session, cast.member, due_on=date(2027, 5, 20))
    make_action(session, cast.member, title="No due date")
    make_action(session, None, title="No owner", due_on=date(2027, 5, 20))
    make_action(session, cast.member, title="Done", due_on=date(2027, 5, 20), status="done")
    assert on(date(2027, 5, 12)) == []
    assert on(date(2027, 5, 13)) == [("bob", "action_due")]
    assert "in 7 days" in mail.outbox[-1].subject
    assert [on(date(2027, 5, d)) for d in range(14, 19)] == [[]] * 5
    assert on(date(2027, 5, 19)) == [("bob", "action_due")]
    assert mail.outbox[-1].subject == "Due tomorrow: Enable multi-AZ"
    assert on(date(2027, 5, 20)) == []


def test_overdue_weekly_while_untouched_and_paused_while_blocked(cast, session):
    with travel(date(2027, 5, 1)):
        action = make_action(session, cast.member, due_on=date(2027, 5, 20))
    ReviewSession.objects.filter(pk=session.pk).update(phase=Phase.ACTION_PLAN)
    overdue = {}
    for day in [date(2027, 5, 20) + timedelta(days=n) for n in range(1, 31)]:
        if day == date(2027, 6, 5):
            with travel(day, 12):
                ActionItem.objects.filter(pk=action.pk).update(status="blocked")
                action.refresh_from_db()
                action.save(update_fields=["updated_at"])
        got = [occasion for _, occasion in on(day)]
        if "action_overdue" in got:
            overdue[day] = got.count("action_overdue")
    # The day after the due date, then weekly; blocked on 5 June pauses it.
    assert overdue == {date(2027, 5, 21): 1, date(2027, 5, 28): 1, date(2027, 6, 4): 1}
    assert "Overdue by 1 day:" in mail.outbox[0].subject


def test_overdue_actions_come_in_one_email_per_person(cast, session):
    make_action(session, cast.member, title="Multi-AZ", due_on=date(2027, 5, 20))
    make_action(session, cast.member, title="Backups", due_on=date(2027, 5, 20))
    make_action(session, cast.finance, title="Budget alerts", due_on=date(2027, 5, 20))
    ReviewSession.objects.filter(pk=session.pk).update(phase=Phase.ACTION_PLAN)
    assert sorted(on(date(2027, 5, 21))) == [("bob", "action_overdue"), ("fay", "action_overdue")]
    bob = next(m for m in mail.outbox if m.to == [cast.member.email])
    assert bob.subject == "2 overdue actions"
    assert "- Multi-AZ (Checkout): due 20 May, 1 day overdue" in bob.body
    assert "- Backups (Checkout): due 20 May, 1 day overdue" in bob.body
    # A second action falling overdue later brings one email listing both.
    make_action(session, cast.finance, title="Tags", due_on=date(2027, 5, 24))
    assert on(date(2027, 5, 25)) == [("fay", "action_overdue")]
    assert "- Budget alerts (Checkout): due 20 May, 5 days overdue" in mail.outbox[-1].body
    assert "- Tags (Checkout): due 24 May, 1 day overdue" in mail.outbox[-1].body
    assert on(date(2027, 5, 27)) == []
    # A week after the first: one each again.
    assert sorted(on(date(2027, 5, 28))) == [("bob", "action_overdue"), ("fay", "action_overdue")]


def test_overdue_escalates_to_the_facilitator_after_the_teams_weeks(cast, session):
    cast.team.overdue_escalation_weeks = 2
    cast.team.save(update_fields=["overdue_escalation_weeks"])
    make_action(session, cast.member, title="Multi-AZ", due_on=date(2027, 5, 20))
    ReviewSession.objects.filter(pk=session.pk).update(phase=Phase.ACTION_PLAN)
    assert on(date(2027, 5, 21)) == [("bob", "action_overdue")]
    assert on(date(2027, 5, 28)) == [("bob", "action_overdue")]
    assert sorted(on(date(2027, 6, 4))) == [("alice", "action_overdue"), ("bob", "action_overdue")]
    alice = next(m for m in reversed(mail.outbox) if m.to == [cast.admin.email])
    assert alice.subject == "1 overdue action"
    assert "Overdue for weeks on the plans you facilitate:" in alice.body
    assert "- Multi-AZ (Checkout), Bob Member: due 20 May, 15 days overdue" in alice.body


def test_blocked_actions_are_told_to_the_facilitator_weekly(cast, session):
    action = make_action(session, cast.member, title="Multi-AZ", due_on=date(2027, 5, 20))
    ReviewSession.objects.filter(pk=session.pk).update(phase=Phase.ACTION_PLAN)
    on(date(2027, 5, 21))
    ActionItem.objects.filter(pk=action.pk).update(status="blocked")
    assert on(date(2027, 5, 26)) == [("alice", "actions_blocked")]  # a Wednesday
    assert "- Multi-AZ (Checkout), Bob Member: due 20 May" in mail.outbox[-1].body
    assert on(date(2027, 5, 28)) == []  # bob's overdue reminder waits
    assert on(date(2027, 5, 31)) == [("alice", "actions_blocked")]  # the next week
    ActionItem.objects.filter(pk=action.pk).update(status="in_progress")
    assert on(date(2027, 6, 7)) == [("bob", "action_overdue")]


def test_an_action_done_after_dispatch_is_not_reminded(cast, session):
    action = make_action(session, cast.member, due_on=date(2027, 5, 20))
    with travel(date(2027, 5, 13)):
        queued = reminders.reminders_dispatch().queued
        ActionItem.objects.filter(pk=action.pk).update(status="done")
        for reminder_id in queued:
            reminders.reminder_send(reminder_id=reminder_id)
    assert mail.outbox == []
    assert Reminder.objects.get().status == Reminder.Status.SKIPPED


def test_next_review_due_14_days_before_and_on_the_day(cast, session):
    ReviewSession.objects.filter(pk=session.pk).update(phase=Phase.CLOSED)
    cast.workload.next_review_due_on = date(2027, 9, 15)
    cast.workload.save(update_fields=["next_review_due_on"])
    assert on(date(2027, 8, 31)) == []
    assert sorted(on(date(2027, 9, 1))) == [
        ("alice", "next_review_due"),
        ("bob", "next_review_due"),
    ]
    # The link opens the form with the kind of review the cadence proposes.
    _, kind = next_review_due(cast.workload, after=date(2027, 9, 1))
    assert f"/sessions/new/?kind={kind}" in mail.outbox[-1].body
    assert on(date(2027, 9, 2)) == []
    assert sorted(on(date(2027, 9, 15))) == [
        ("alice", "next_review_due"),
        ("bob", "next_review_due"),
    ]
    assert on(date(2027, 9, 16)) == []


def test_next_review_due_is_quiet_when_a_review_is_planned(cast, session):
    ready(session, cast.admin)
    ready(session, cast.member)
    cast.workload.next_review_due_on = date(2027, 3, 20)
    cast.workload.save(update_fields=["next_review_due_on"])
    assert session.phase == Phase.PREPARATION
    assert on(date(2027, 3, 10)) == []


def test_next_review_due_is_quiet_while_the_last_review_is_not_published(cast, session):
    """Held, in analysis or planning its actions: the date the workload had before is the
    one this review meets; publishing its plan sets the next."""
    cast.workload.next_review_due_on = date(2027, 3, 1)
    cast.workload.save(update_fields=["next_review_due_on"])
    for phase in (Phase.ANALYSIS, Phase.ACTION_PLAN):
        ReviewSession.objects.filter(pk=session.pk).update(phase=phase)
        assert on(date(2027, 3, 16)) == []
    ReviewSession.objects.filter(pk=session.pk).update(
        phase=Phase.FOLLOW_UP, plan_published_at=at(date(2027, 3, 16))
    )
    assert sorted(on(date(2027, 3, 17))) == [
        ("alice", "next_review_due"),
        ("bob", "next_review_due"),
    ]


def test_risk_acceptance_expiring_goes_to_who_accepted_it_and_the_owner(cast, session):
    accepted_finding(session, cast.admin, until=date(2027, 6, 20))
    assert on(date(2027, 6, 5)) == []
    assert sorted(on(date(2027, 6, 6))) == [("alice", "risk_expiring"), ("bob", "risk_expiring")]
    assert on(date(2027, 6, 7)) == []


def test_follow_up_digest_goes_to_the_facilitator_and_the_owners_when_due(cast, session):
    make_action(session, cast.finance, due_on=date(2027, 9, 1))
    make_action(session, cast.admin, title="Done already", status=ActionItem.Status.DONE)
    publish(session, on=at(date(2027, 4, 6), 15))
    assert on(date(2027, 5, 5)) == []
    # alice facilitates, bob owns the workload, fay owns the open action.
    assert sorted(on(date(2027, 5, 6))) == [
        ("alice", "follow_up_digest"),
        ("bob", "follow_up_digest"),
        ("fay", "follow_up_digest"),
    ]
    body = mail.outbox[-1].body
    assert "Follow-up 1 of the Checkout action plan is due today" in body
    assert "1 open" in body


def test_follow_up_digests_go_on_once_the_review_is_closed(cast, session):
    make_action(session, cast.admin, due_on=date(2027, 9, 1))
    publish(session, on=at(date(2027, 4, 6), 15))
    ReviewSession.objects.filter(pk=session.pk).update(phase=Phase.CLOSED)
    assert sorted(on(date(2027, 5, 6))) == [
        ("alice", "follow_up_digest"),
        ("bob", "follow_up_digest"),
    ]


def test_a_follow_up_not_held_nudges_the_facilitator_a_week_later(cast, session):
    make_action(session, cast.admin, due_on=date(2027, 9, 1))
    publish(session, on=at(date(2027, 4, 6), 15))
    on(date(2027, 5, 6))
    assert on(date(2027, 5, 12)) == []
    assert on(date(2027, 5, 13)) == [("alice", "follow_up_nudge")]
    assert mail.outbox[-1].subject == "Follow-up 1 of Checkout has not been held"
    assert on(date(2027, 5, 14)) == []


def test_one_digest_series_per_workload_and_person(cast, session):
    """A post-incident plan beside the periodic one: each person follows the newest plan
    that names them, not both."""
    make_action(session, cast.admin, due_on=date(2027, 9, 1))
    make_action(session, cast.finance, due_on=date(2027, 9, 1))
    publish(session, on=at(date(2027, 4, 6), 15))
    with travel(date(2027, 4, 7)):
        later = make_session(cast, starts=at(date(2027, 4, 12), 10), title="Post-incident")
    make_action(later, cast.member, due_on=date(2027, 9, 1))
    publish(later, on=at(date(2027, 4, 20), 15))
    # The first plan's follow-up: only fay is not named by the newer plan.
    assert on(date(2027, 5, 6)) == [("fay", "follow_up_digest")]
    # (The first plan's follow-up is not held: its facilitator is nudged two weeks on.)
    assert sorted(on(date(2027, 5, 20))) == [
        ("alice", "follow_up_digest"),
        ("alice", "follow_up_nudge"),
        ("bob", "follow_up_digest"),
    ]


# --- Sending exactly once --------------------------------------------------------------------


def test_sweeping_again_creates_and_sends_nothing_twice(cast, session):
    with travel(date(2027, 3, 14)):
        first = reminders.reminders_dispatch()
        second = reminders.reminders_dispatch()
    assert len(first.queued) == 2 and second.queued == []
    assert first.due == second.due == 2
    assert Reminder.objects.count() == 2


def test_a_reminder_is_sent_once_however_often_its_message_arrives(cast, session):
    with travel(date(2027, 3, 14)):
        [reminder_id, _] = reminders.reminders_dispatch().queued
        assert reminders.reminder_send(reminder_id=reminder_id).status == Reminder.Status.SENT
        assert reminders.reminder_send(reminder_id=reminder_id) is None
    assert len(mail.outbox) == 1
    assert Notification.objects.count() == 1


def test_a_message_lost_between_dispatch_and_worker_is_queued_again(cast, session):
    with travel(date(2027, 3, 14), 8):
        queued = reminders.reminders_dispatch().queued
    with travel(date(2027, 3, 14), 8, 4):
        assert reminders.reminders_dispatch().queued == []
        assert job_sweep(Reminder).requeued == []  # still in flight
    with travel(date(2027, 3, 14), 8, 6):
        assert job_sweep(Reminder).requeued == queued  # lost: queued again
    with travel(date(2027, 3, 14), 8, 7):
        for reminder_id in queued:
            reminders.reminder_send(reminder_id=reminder_id)
    with travel(date(2027, 3, 14), 9):
        assert job_sweep(Reminder).requeued == []
    assert len(mail.outbox) == 2


def test_a_claim_abandoned_by_a_dead_worker_is_taken_again_after_the_lease(cast, session):
    with travel(date(2027, 3, 14), 8):
        reminder_id = reminders.reminders_dispatch().queued[0]
        assert job_claim(Reminder, reminder_id)
    with travel(date(2027, 3, 14), 8, 1):
        assert reminders.reminder_send(reminder_id=reminder_id) is None  # still claimed
    with travel(date(2027, 3, 14), 8, 2):
        assert reminders.reminder_send(reminder_id=reminder_id).status == Reminder.Status.SENT
    assert Reminder.objects.get(pk=reminder_id).attempts == 2


def test_transient_mail_errors_are_retried_after_each_backoff_then_fail(cast, session, monkeypatch):
    def broken(**kwargs):
        raise SMTPException("451 try again later")

    monkeypatch.setattr(reminders, "send_email", broken)
    with travel(date(2027, 3, 14)):
        reminder_id = reminders.reminders_dispatch().queued[0]
    reminder = Reminder.objects.get(pk=reminder_id)
    moment = at(date(2027, 3, 14))
    for attempt in range(1, reminder.max_attempts + 1):
        with time_machine.travel(moment, tick=False):
            reminder = reminders.reminder_send(reminder_id=reminder_id)
        assert reminder.attempts == attempt
        assert reminder.last_error == "SMTPException: 451 try again later"
        if attempt < reminder.max_attempts:
            assert reminder.status == Reminder.Status.PENDING
            assert reminder.next_attempt_at == moment + jobs.backoff(attempt)
            with time_machine.travel(reminder.next_attempt_at - timedelta(seconds=1)):
                assert reminders.reminder_send(reminder_id=reminder_id) is None, "too early"
            moment = reminder.next_attempt_at
    assert reminder.status == Reminder.Status.FAILED and reminder.is_exhausted
    # The in-app notification was left once, not once per attempt.
    assert Notification.objects.filter(reminder_id=reminder_id).count() == 1


def test_a_retry_waiting_for_its_backoff_is_not_queued_again_early(cast, session, monkeypatch):
    monkeypatch.setattr(reminders, "send_email", lambda **k: (_ for _ in ()).throw(OSError("down")))
    with travel(date(2027, 3, 14), 8):
        reminder_id = reminders.reminders_dispatch().queued[0]
        reminders.reminder_send(reminder_id=reminder_id)  # next attempt in 30 s
    due = Reminder.objects.get(pk=reminder_id).next_attempt_at
    with time_machine.travel(due - timedelta(seconds=1), tick=False):
        assert reminder_id not in job_sweep(Reminder).requeued
    with time_machine.travel(due, tick=False):
        assert reminder_id in job_sweep(Reminder).requeued


def test_an_unexpected_error_marks_the_reminder_failed_without_retry(cast, session, monkeypatch):
    def broken(reminder, *, today=None):
        raise KeyError("session")

    monkeypatch.setattr(reminders, "build_message", broken)
    with travel(date(2027, 3, 14)):
        reminder_id = reminders.reminders_dispatch().queued[0]
        reminder = reminders.reminder_send(reminder_id=reminder_id)
    assert reminder.status == Reminder.Status.FAILED
    assert "KeyError" in reminder.last_error


# --- Preferences and notifications -----------------------------------------------------------


def prefer(user, occasion, mode):
    NotificationPreference.objects.update_or_create(
        user=user, occasion=occasion, defaults={"mode": mode}
    )


def test_an_occasion_turned_off_sends_nothing(cast, session):
    prefer(cast.member, Occasion.REVIEW_TOMORROW, "off")
    assert on(date(2027, 3, 14)) == [("alice", "review_tomorrow")]
    assert not Notification.objects.filter(user=cast.member).exists()
    skipped = Reminder.objects.get(recipient=cast.member)
    assert (skipped.status, skipped.delivered) == (Reminder.Status.SKIPPED, "")


def test_app_only_leaves_a_notification_and_sends_no_email(cast, session):
    prefer(cast.member, Occasion.REVIEW_TOMORROW, "app_only")
    assert on(date(2027, 3, 14)) == [("alice", "review_tomorrow")]
    notification = Notification.objects.get(user=cast.member)
    assert notification.title == "Tomorrow: the Well-Architected review of Checkout"
    assert notification.url == f"/sessions/{session.uuid}/"
    assert notification.read_at is None
    assert Reminder.objects.get(recipient=cast.member).delivered == "app"


def test_weekly_digest_collects_the_occasions_chosen_for_it(cast, session):
    prefer(cast.member, Occasion.REVIEW_TOMORROW, "weekly_digest")
    prefer(cast.member, Occasion.ACTION_DUE, "weekly_digest")
    make_action(session, cast.member, due_on=date(2027, 3, 21), title="Add a read replica")
    assert on(date(2027, 3, 14)) == [("alice", "review_tomorrow")]
    assert Notification.objects.filter(user=cast.member, via_digest=True).count() == 2
    with travel(date(2027, 3, 15), 7):
        queued = reminders.digests_dispatch()
        assert reminders.digests_dispatch() == []  # once a week
        for reminder_id in queued:
            reminders.reminder_send(reminder_id=reminder_id)
    [digest] = mail.outbox[1:]
    assert digest.to == ["bob@example.com"]
    assert digest.subject == "Your week in Pillarwise: 2 updates"
    # Worded on the day it is sent: the review is today, the action due in 6 days.
    assert "Due in 6 days: Add a read replica" in digest.body
    assert "Today: the Well-Architected" in digest.body and "Tomorrow" not in digest.body
    assert not Notification.objects.filter(via_digest=True, digested_at__isnull=True).exists()
    with travel(date(2027, 3, 22), 7):
        assert reminders.digests_dispatch() == []  # nothing new to digest


def test_a_user_without_email_gets_the_notification_only(cast, session):
    cast.member.email = ""
    cast.member.save(update_fields=["email"])
    assert on(date(2027, 3, 14)) == [("alice", "review_tomorrow")]
    assert Notification.objects.filter(user=cast.member).count() == 1


def test_emails_have_text_and_html_with_the_workload_and_a_link_to_act(cast, session):
    make_action(session, cast.member, due_on=date(2027, 5, 20))
    on(date(2027, 5, 19))
    [message] = mail.outbox
    action = ActionItem.objects.get()
    link = f"http://127.0.0.1:8000/actions/{action.uuid}/"
    html = message.alternatives[0][0]
    assert message.alternatives[0][1] == "text/html"
    for body in (message.body, html):
        assert "Checkout" in body and link in body
        assert "/notifications/preferences/" in body
    assert "Due tomorrow" in message.subject


def test_due_reminders_query_count_does_not_grow_with_the_data(
    cast, session, django_assert_max_num_queries
):
    for n in range(40):
        make_action(session, cast.member, title=f"A{n}", due_on=date(2027, 3, 2 + n % 20))
    with travel(date(2027, 3, 12)), django_assert_max_num_queries(12):
        dues = list(occasions.due_reminders(today=date(2027, 3, 12)))
    assert len([d for d in dues if d.occasion == Occasion.ACTION_DUE]) == 16
    # 20 overdue actions, all bob's: one bundle.
    assert [d.key for d in dues if d.occasion == Occasion.ACTION_OVERDUE] == [
        f"action_overdue:{cast.member.pk}:2027-03-12"
    ]


def test_a_dispatcher_that_loses_the_race_creates_and_queues_only_the_rest(
    cast, session, monkeypatch
):
    ready(session, cast.member)
    with travel(date(2027, 3, 8)):
        first = reminders.reminders_dispatch().queued  # alice's preparation reminder
    ready(session, cast.admin)
    Reminder.objects.filter(pk__in=first).update(status=Reminder.Status.SENT)
    # Between this dispatcher's look-up and its insert, another one created alice's
    # reminder: the look-up saw nothing, so the insert meets the unique key.
    monkeypatch.setattr(reminders, "_not_created_yet", lambda dues: dues)
    with travel(date(2027, 3, 14)):
        dues = list(occasions.due_reminders(today=date(2027, 3, 14)))
        dues += [occasions.Due(cast.admin.pk, "preparation", Reminder.objects.get().key, {})]
        now = at(date(2027, 3, 14))
        taken = reminders._insert(dues, [now] * len(dues), now).due_now
    assert sorted(Reminder.objects.get(pk=pk).recipient.username for pk in taken) == [
        "alice",
        "bob",
    ]
    assert Reminder.objects.count() == 3
    assert Reminder.objects.get(pk=first[0]).status == Reminder.Status.SENT
