"""Date-driven reminders go out at the team's hour in the recipient's time zone, on the team's
working days: the dispatcher creates them at the first sweep of the server's day, and the job
sweep sends them when their time comes, once (actions/sendtime.py, actions/reminders.py)."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from actions import reminders, tasks
from actions.models import NotificationPreference, Occasion, Reminder
from actions.sendtime import first_teams
from actions.timezones import time_zone_set
from reviews import jobs
from reviews.models import Membership, Team
from tests.actions.cadence_helpers import (  # noqa: F401 (a fixture)
    at,
    make_action,
    make_session,
    travel,
    without_phase_announcements,
)

pytestmark = pytest.mark.usefixtures("lenses", "without_phase_announcements")

THURSDAY = date(2027, 3, 11)
FRIDAY = date(2027, 3, 12)
SATURDAY = date(2027, 3, 13)
SUNDAY = date(2027, 3, 14)
MONDAY = date(2027, 3, 15)  # New York is on summer time (EDT, UTC-4) since Sunday


@pytest.fixture
def session(cast):
    with travel(date(2027, 3, 1)):
        return make_session(cast, starts=at(date(2027, 4, 20), 10))


@pytest.fixture
def worker(monkeypatch) -> list[int]:
    """What a worker does with each message the sweeps queue: send it, at once."""
    received: list[int] = []

    def apply_async(args):
        received.extend(args)
        tasks.send_reminder(*args)

    monkeypatch.setattr(tasks.send_reminder, "apply_async", apply_async)
    return received


@pytest.fixture
def tick(worker, django_capture_on_commit_callbacks):
    """What runs in production at a moment: the reminder dispatcher and the job sweep, the
    messages they queue on commit taken by the worker."""

    def run(day: date, hour: int, minute: int = 0) -> None:
        with travel(day, hour, minute), django_capture_on_commit_callbacks(execute=True):
            reminders.reminders_dispatch()
            jobs.jobs_sweep()

    return run


def emails() -> list[tuple[str, str]]:
    return [(m.to[0].split("@")[0], m.subject) for m in mail.outbox]


def test_a_reminder_created_at_midnight_utc_goes_at_nine_in_new_york_and_once(
    cast, session, worker, tick
):
    time_zone_set(user=cast.member, name="America/New_York")
    make_action(session, cast.member, due_on=FRIDAY, title="Rotate the keys")
    with travel(THURSDAY, 0, 5):
        swept = reminders.reminders_dispatch()
    assert (swept.queued, swept.waiting) == ([], 1)
    [reminder] = Reminder.objects.all()
    # Thursday 09:00 in New York (EST), not Wednesday evening.
    assert reminder.next_attempt_at == at(THURSDAY, 14)
    assert reminder.queued_at is None
    for hour, minute in ((0, 6), (8, 0), (13, 0), (13, 59)):
        tick(THURSDAY, hour, minute)
        with travel(THURSDAY, hour, minute):
            assert reminders.reminders_send_pending() == []  # send_reminders neither
    assert mail.outbox == [] and worker == []
    tick(THURSDAY, 14)
    assert emails() == [("bob", "Due tomorrow: Rotate the keys")]
    for hour in (14, 15, 18, 23):
        tick(THURSDAY, hour, 30)
    assert worker == [reminder.pk]
    assert len(mail.outbox) == 1
    reminder.refresh_from_db()
    assert (reminder.status, reminder.sent_at) == (Reminder.Status.SENT, at(THURSDAY, 14))


def test_overdue_by_a_day_is_not_sent_on_the_due_day_nor_at_the_weekend(
    cast, session, worker, tick
):
    time_zone_set(user=cast.member, name="America/New_York")
    make_action(session, cast.member, due_on=FRIDAY, title="Rotate the keys")
    tick(FRIDAY, 14)  # "due today" is not a notice: nothing
    mail.outbox.clear()
    # Saturday 00:05 UTC is still Friday, the due day, in New York.
    tick(SATURDAY, 0, 5)
    overdue = Reminder.objects.get(occasion=Occasion.ACTION_OVERDUE)
    assert overdue.next_attempt_at == at(MONDAY, 13)  # Monday 09:00 EDT
    for day in (SATURDAY, SUNDAY):
        for hour in (9, 13, 14, 20):
            tick(day, hour)
    tick(MONDAY, 12, 59)
    assert mail.outbox == []
    tick(MONDAY, 13)
    assert emails() == [("bob", "Overdue by 3 days: Rotate the keys")]


def test_east_of_utc_the_day_has_begun_so_it_goes_at_once(cast, session, worker, tick):
    time_zone_set(user=cast.member, name="Asia/Tokyo")
    make_action(session, cast.member, due_on=FRIDAY, title="Rotate the keys")
    tick(THURSDAY, 0, 5)  # 09:05 in Tokyo
    assert emails() == [("bob", "Due tomorrow: Rotate the keys")]
    assert Reminder.objects.get().sent_at == at(THURSDAY, 0, 5)


def test_the_teams_hour_and_working_days(cast, session, worker, tick):
    Team.objects.filter(pk=cast.team.pk).update(reminder_hour=7, working_days="71234")
    time_zone_set(user=cast.member, name="Europe/Berlin")
    make_action(session, cast.member, due_on=date(2027, 3, 15), title="Rotate the keys")
    # "Due tomorrow" is found on Sunday 14 March, a working day of this team: 07:00 in
    # Berlin (CET) is 06:00 UTC.
    tick(SUNDAY, 0, 5)
    tick(SUNDAY, 5, 59)
    assert mail.outbox == []
    tick(SUNDAY, 6)
    assert emails() == [("bob", "Due tomorrow: Rotate the keys")]


def test_a_weekend_for_the_team_waits_for_its_next_working_day(cast, session, worker, tick):
    Team.objects.filter(pk=cast.team.pk).update(working_days="71234")
    make_action(session, cast.member, due_on=SUNDAY, title="Rotate the keys")
    # Due in 2 days on Friday, due tomorrow on Saturday: the team works Sunday to Thursday,
    # so both wait for Sunday 09:00, when only what still holds goes out, once.
    tick(FRIDAY, 0, 5)
    tick(SATURDAY, 0, 5)
    assert set(Reminder.objects.values_list("next_attempt_at", flat=True)) == {at(SUNDAY, 9)}
    tick(FRIDAY, 9)
    tick(SATURDAY, 9)
    assert mail.outbox == []
    tick(SUNDAY, 9)
    assert emails() == [("bob", "Due today: Rotate the keys")]
    assert sorted(Reminder.objects.values_list("key", "status")) == [
        (f"action_due:{session.actions.get().pk}:{cast.member.pk}:2027-03-14:1d", "sent"),
        (f"action_due:{session.actions.get().pk}:{cast.member.pk}:2027-03-14:7d", "skipped"),
    ]


def test_a_due_date_passed_meanwhile_leaves_the_overdue_reminder_alone(cast, session, worker, tick):
    Team.objects.filter(pk=cast.team.pk).update(working_days="71234")
    make_action(session, cast.member, due_on=SATURDAY, title="Rotate the keys")
    tick(FRIDAY, 0, 5)  # due tomorrow, but Friday is a day off
    tick(SUNDAY, 0, 5)  # overdue by a day
    tick(SUNDAY, 9)
    assert emails() == [("bob", "Overdue by 1 day: Rotate the keys")]


def test_the_dispatcher_reads_zones_and_teams_in_bulk(cast, session):
    make_action(session, cast.member, due_on=date(2027, 3, 18))
    with travel(THURSDAY, 0, 5), CaptureQueriesContext(connection) as one:
        assert reminders.reminders_dispatch(queue=False).waiting == 1
    for user, zone in ((cast.admin, "Asia/Tokyo"), (cast.finance, "America/New_York")):
        time_zone_set(user=user, name=zone)
        make_action(session, user, due_on=date(2027, 3, 19))
        make_action(session, user, due_on=date(2027, 3, 19), title="Second")
    make_action(session, cast.viewer, due_on=date(2027, 3, 19))
    with travel(FRIDAY, 0, 5), CaptureQueriesContext(connection) as many:
        swept = reminders.reminders_dispatch(queue=False)
    assert len(swept.queued) + swept.waiting == 5  # Tokyo's at once, the others at 09:00
    assert len(many) == len(one)


def test_send_reminders_by_hand_does_not_send_early(cast, session):
    time_zone_set(user=cast.member, name="America/New_York")
    make_action(session, cast.member, due_on=FRIDAY, title="Rotate the keys")
    out = StringIO()
    with travel(THURSDAY, 0, 5):
        call_command("send_reminders", stdout=out)
    assert mail.outbox == []
    assert "1 waiting for its hour" in out.getvalue()
    with travel(THURSDAY, 14):
        call_command("send_reminders", stdout=StringIO())
    assert emails() == [("bob", "Due tomorrow: Rotate the keys")]


def test_the_weekly_digest_goes_at_the_hour_of_the_first_working_day(cast, session, worker, tick):
    time_zone_set(user=cast.member, name="America/New_York")
    NotificationPreference.objects.create(
        user=cast.member, occasion=Occasion.ACTION_DUE, mode="weekly_digest"
    )
    make_action(session, cast.member, due_on=date(2027, 3, 12))
    tick(date(2027, 3, 5), 14)  # due in 7 days: into the digest
    assert mail.outbox == []
    # The team's week starts on Tuesday: the digest waits for Tuesday 09:00 in New York.
    Team.objects.filter(pk=cast.team.pk).update(working_days="23456")
    with travel(date(2027, 3, 8), 0, 5):
        assert reminders.digests_dispatch() == []
    digest = Reminder.objects.get(occasion=Occasion.WEEKLY_DIGEST)
    assert digest.next_attempt_at == at(date(2027, 3, 9), 14)
    tick(date(2027, 3, 8), 14)
    assert mail.outbox == []
    tick(date(2027, 3, 9), 14)
    assert [subject for _, subject in emails()] == ["Your week in Pillarwise: 1 update"]


def test_the_digest_keeps_the_hour_of_the_first_team_joined(cast):
    Membership.objects.create(team=cast.other_team, user=cast.member)
    Membership.objects.create(team=cast.team, user=cast.outsider)
    assert first_teams([cast.member.pk, cast.outsider.pk]) == {
        cast.member.pk: cast.team.pk,
        cast.outsider.pk: cast.other_team.pk,
    }
