"""When a date-driven reminder goes out: the team's hour in the recipient's time zone, on a
working day of the team (actions/sendtime.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from actions.sendtime import schedules_for, send_time, zones_for
from actions.timezones import time_zone_set
from reviews.models import Team
from tests.conftest import at

NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
AUCKLAND = ZoneInfo("Pacific/Auckland")
BERLIN = ZoneInfo("Europe/Berlin")
SUNDAY_TO_THURSDAY = {7, 1, 2, 3, 4}

THURSDAY = date(2027, 3, 11)
FRIDAY = date(2027, 3, 12)
SATURDAY = date(2027, 3, 13)
SUNDAY_DST = date(2027, 3, 14)  # New York moves to summer time at 02:00
MONDAY = date(2027, 3, 15)


def test_west_of_utc_waits_for_the_local_hour_of_that_day():
    # The server's Thursday begins on Wednesday evening in New York: a "due tomorrow" for a
    # Friday goes on Thursday at 09:00 there, not on Wednesday evening.
    assert send_time(THURSDAY, zone=NEW_YORK, now=at(THURSDAY, 0, 5)) == at(THURSDAY, 14)


def test_east_of_utc_the_hour_may_have_passed_when_the_day_begins_on_the_server():
    # 00:05 UTC is 09:05 in Tokyo: the hour has just passed, so at once.
    assert send_time(THURSDAY, zone=TOKYO, now=at(THURSDAY, 0, 5)) == at(THURSDAY, 0, 5)
    # A later hour is waited for.
    assert send_time(THURSDAY, zone=TOKYO, now=at(THURSDAY, 0, 5), hour=11) == at(THURSDAY, 2)
    # 13:05 in Auckland, still Thursday there: at once.
    assert send_time(THURSDAY, zone=AUCKLAND, now=at(THURSDAY, 0, 5)) == at(THURSDAY, 0, 5)


def test_a_day_after_the_due_day_does_not_arrive_on_the_due_day():
    # "Overdue by 1 day" for an action due Friday is found at 00:05 UTC on Saturday, still
    # Friday evening in New York: it waits for the next working day, Monday.
    sent = send_time(SATURDAY, zone=NEW_YORK, now=at(SATURDAY, 0, 5))
    assert sent.astimezone(NEW_YORK) == datetime(2027, 3, 15, 9, tzinfo=NEW_YORK)


def test_a_saturday_moves_to_monday():
    assert send_time(SATURDAY, zone=BERLIN, now=at(FRIDAY, 23)) == at(MONDAY, 8)


def test_the_hour_is_local_across_a_summer_time_change():
    # Thursday 09:00 EST is 14:00 UTC; Monday 09:00 EDT, after the change, is 13:00 UTC.
    assert send_time(THURSDAY, zone=NEW_YORK, now=at(THURSDAY)) == at(THURSDAY, 14)
    assert send_time(MONDAY, zone=NEW_YORK, now=at(MONDAY)) == at(MONDAY, 13)
    # On the change day itself (a working day for a Sunday-to-Thursday team).
    sent = send_time(SUNDAY_DST, zone=NEW_YORK, now=at(SUNDAY_DST), weekdays=SUNDAY_TO_THURSDAY)
    assert sent == at(SUNDAY_DST, 13)
    assert sent.astimezone(NEW_YORK).hour == 9


def test_a_sunday_to_thursday_week():
    # Friday and Saturday are days off: both move to Sunday.
    for day in (FRIDAY, SATURDAY):
        sent = send_time(day, zone=BERLIN, now=at(THURSDAY, 22), weekdays=SUNDAY_TO_THURSDAY)
        assert sent == at(SUNDAY_DST, 8)
    # Sunday is a working day: it stays.
    assert send_time(
        SUNDAY_DST, zone=BERLIN, now=at(SATURDAY, 22), weekdays=SUNDAY_TO_THURSDAY
    ) == at(SUNDAY_DST, 8)


def test_the_teams_hour():
    assert send_time(THURSDAY, zone=BERLIN, now=at(THURSDAY, 0, 5), hour=7) == at(THURSDAY, 6)
    assert send_time(THURSDAY, zone=BERLIN, now=at(THURSDAY, 0, 5), hour=20) == at(THURSDAY, 19)


def test_found_late_it_goes_at_once_while_the_day_lasts_and_never_at_night():
    # Found at 15:00 Berlin time on the day: at once.
    assert send_time(THURSDAY, zone=BERLIN, now=at(THURSDAY, 14)) == at(THURSDAY, 14)
    # Found at 22:00 Berlin time: the next morning.
    assert send_time(THURSDAY, zone=BERLIN, now=at(THURSDAY, 21)) == at(FRIDAY, 8)
    # Found at 22:00 on Friday: Monday morning.
    assert send_time(FRIDAY, zone=BERLIN, now=at(FRIDAY, 21)) == at(MONDAY, 8)
    # Found days after its day (the dispatcher was down): at once, on a working day.
    assert send_time(MONDAY, zone=BERLIN, now=at(date(2027, 3, 17), 10)) == at(
        date(2027, 3, 17), 10
    )


def test_never_before_now_and_always_in_a_working_hour():
    for zone in (NEW_YORK, TOKYO, AUCKLAND, BERLIN, ZoneInfo("Pacific/Honolulu")):
        for hour_utc in range(24):
            now = datetime(2027, 3, 11, hour_utc, 5, tzinfo=UTC)
            for day in (THURSDAY, FRIDAY, SATURDAY):
                sent = send_time(day, zone=zone, now=now)
                local = sent.astimezone(zone)
                assert sent >= now
                assert local.isoweekday() <= 5
                assert 9 <= local.hour < 21
                assert local.date() >= day or sent == now


def test_a_week_without_working_days_is_refused():
    with pytest.raises(ValueError):
        send_time(THURSDAY, zone=BERLIN, now=at(THURSDAY), weekdays=set())


def test_schedules_and_zones_come_in_one_query_each(cast, django_assert_num_queries):
    Team.objects.filter(pk=cast.team.pk).update(reminder_hour=7, working_days="71234")
    time_zone_set(user=cast.admin, name="Asia/Tokyo")
    with django_assert_num_queries(1):
        schedules = schedules_for([cast.team.pk, cast.other_team.pk, None])
    assert schedules[cast.team.pk].hour == 7
    assert schedules[cast.team.pk].weekdays == SUNDAY_TO_THURSDAY
    assert schedules[cast.other_team.pk].weekdays == {1, 2, 3, 4, 5}
    with django_assert_num_queries(1):
        zones = zones_for([cast.admin.pk, cast.member.pk])
    assert zones[cast.admin.pk] == TOKYO
    assert zones[cast.member.pk] == ZoneInfo("UTC")  # the server's, none stored yet
