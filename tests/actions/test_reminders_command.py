"""`manage.py send_reminders [--dry-run] [--weekly-digest]` and the Celery tasks (called
directly here; tests/actions/test_reminders_worker.py runs them in a real worker)."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO
from smtplib import SMTPException

import pytest
import time_machine
from celery.schedules import crontab
from django.conf import settings
from django.core import mail
from django.core.management import call_command

from actions import reminders, tasks
from actions.models import NotificationPreference, Occasion, Reminder
from tests.actions.cadence_helpers import (  # noqa: F401 (a fixture)
    at,
    make_session,
    reminders_any_day,
    travel,
    without_phase_announcements,
)

# The phase-start announcements are tested on their own (test_phase_announcements.py).
pytestmark = pytest.mark.usefixtures("lenses", "without_phase_announcements", "reminders_any_day")

DAY_BEFORE = date(2027, 3, 14)


@pytest.fixture
def session(cast):
    with travel(date(2027, 3, 1)):
        return make_session(cast, starts=at(date(2027, 3, 15), 10))


def run(*args) -> str:
    out = StringIO()
    call_command("send_reminders", *args, stdout=out)
    return out.getvalue()


def test_dry_run_prints_what_would_be_sent_and_records_nothing(session):
    with travel(DAY_BEFORE):
        output = run("--dry-run")
    assert output.count("would send") == 2
    assert "The review is tomorrow" in output and "alice@example.com" in output
    assert "2 reminder(s) would be sent. Nothing was recorded." in output
    assert not Reminder.objects.exists() and mail.outbox == []


def test_a_run_sends_what_is_due_and_prints_it(session):
    with travel(DAY_BEFORE):
        output = run()
    assert output.count("sent ") == 2
    assert "review_tomorrow:" in output
    assert "2 sent, 0 skipped" in output
    assert len(mail.outbox) == 2
    with travel(DAY_BEFORE, 9):
        again = run()
        dry = run("--dry-run")
    assert "0 sent" in again and len(mail.outbox) == 2
    assert "0 reminder(s) would be sent" in dry


def test_runs_during_a_mail_outage_use_no_attempt_before_the_backoff_has_passed(
    session, monkeypatch, settings
):
    """The mail server refuses: each run within the backoff leaves the reminders as they
    are, so however often cron runs the command, no attempt is wasted; once the server is
    back, the first run after the backoff sends them."""
    settings.JOB_BACKOFF_SECONDS = 30
    send_email = reminders.send_email
    monkeypatch.setattr(reminders, "send_email", _fail)
    with travel(DAY_BEFORE, 8):
        assert "2 to retry" in run()
    for second in (5, 10, 15, 20, 25):
        with time_machine.travel(at(DAY_BEFORE, 8) + timedelta(seconds=second), tick=False):
            assert "0 sent" in run()
    assert set(Reminder.objects.values_list("status", "attempts")) == {(Reminder.Status.PENDING, 1)}

    monkeypatch.setattr(reminders, "send_email", send_email)
    with time_machine.travel(at(DAY_BEFORE, 8) + timedelta(seconds=30), tick=False):
        output = run()
    assert "2 sent" in output and len(mail.outbox) == 2
    assert set(Reminder.objects.values_list("status", "attempts")) == {(Reminder.Status.SENT, 2)}


def test_the_weekly_digest_by_hand(cast, session):
    NotificationPreference.objects.create(
        user=cast.member, occasion=Occasion.REVIEW_TOMORROW, mode="weekly_digest"
    )
    with travel(DAY_BEFORE):
        run()
    with travel(DAY_BEFORE + timedelta(days=1), 7):
        output = run("--weekly-digest")
    assert "Weekly digest" in output and "bob@example.com" in output
    assert mail.outbox[-1].subject == "Your week in Pillarwise: 1 update"


def _fail(**kwargs):
    raise SMTPException("421 service not available")


# --- Tasks -----------------------------------------------------------------------------------


def test_the_send_task_sends_once(session):
    with travel(DAY_BEFORE):
        reminder_id = reminders.reminders_dispatch().queued[0]
        tasks.send_reminder(reminder_id)
        tasks.send_reminder(reminder_id)
    assert len(mail.outbox) == 1


def test_the_send_task_leaves_transient_mail_errors_to_the_row(session, monkeypatch):
    monkeypatch.setattr(reminders, "send_email", _fail)
    with travel(DAY_BEFORE):
        reminder_id = reminders.reminders_dispatch().queued[0]
        tasks.send_reminder(reminder_id)  # raises nothing: no Celery retry
    reminder = Reminder.objects.get(pk=reminder_id)
    assert (reminder.status, reminder.attempts) == (Reminder.Status.PENDING, 1)
    assert reminder.next_attempt_at > at(DAY_BEFORE)


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    ids: list[int] = []
    monkeypatch.setattr(tasks.send_reminder, "apply_async", lambda args: ids.extend(args))
    return ids


def test_the_dispatch_task_queues_one_send_per_reminder_on_commit(
    session, queued, django_capture_on_commit_callbacks
):
    with travel(DAY_BEFORE), django_capture_on_commit_callbacks(execute=True):
        assert tasks.dispatch_reminders() == 2
        assert tasks.dispatch_reminders() == 0
    assert sorted(queued) == sorted(Reminder.objects.values_list("pk", flat=True))


def test_the_weekly_digest_task_queues_the_digests(
    cast, session, queued, django_capture_on_commit_callbacks
):
    NotificationPreference.objects.create(
        user=cast.member, occasion=Occasion.REVIEW_TOMORROW, mode="weekly_digest"
    )
    with travel(DAY_BEFORE):
        run()
    with (
        travel(DAY_BEFORE + timedelta(days=1), 7),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert tasks.send_weekly_digests() == 1
    assert Reminder.objects.get(pk=queued[0]).occasion == Occasion.WEEKLY_DIGEST


def test_the_beat_schedule_runs_the_dispatcher_and_the_weekly_digest():
    dispatch = settings.CELERY_BEAT_SCHEDULE["dispatch-reminders"]
    assert dispatch["task"] == "actions.tasks.dispatch_reminders"
    assert dispatch["schedule"] == settings.REMINDER_DISPATCH_SECONDS
    assert dispatch["options"]["expires"] < dispatch["schedule"]
    digest = settings.CELERY_BEAT_SCHEDULE["weekly-digest"]
    assert digest["task"] == "actions.tasks.send_weekly_digests"
    assert digest["schedule"] == crontab(minute=0, hour=7, day_of_week="mon")


def test_the_send_task_claims_with_time_limits_below_the_lease():
    assert tasks.send_reminder.acks_late
    assert tasks.send_reminder.time_limit < Reminder.LEASE.total_seconds()
