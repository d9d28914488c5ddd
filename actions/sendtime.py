"""When a date-driven reminder goes out: at the team's hour (`Team.reminder_hour`, 09:00 by
default) in the recipient's own time zone, on the day it is meant for, or on the team's next
working day (`Team.working_days`, Monday to Friday by default) when that day is not one.

A reminder created after that hour has passed goes at once while the recipient's day lasts
(until DAY_ENDS local time) and on their next working day otherwise, so nothing is sent at
night or on a day off. The dispatcher (`actions.reminders`) stores the time as the row's
`next_attempt_at`; the job sweep (reviews.jobs) sends it then, not before.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from django.db import connection

from actions.models import UserPreferences
from actions.timezones import zone_from_name
from reviews.models import DEFAULT_REMINDER_HOUR, DEFAULT_WORKING_DAYS, Membership, Team

# After this local time a reminder waits for the next working day.
DAY_ENDS = time(21)


def weekdays_of(working_days: str) -> frozenset[int]:
    """ISO weekdays (1 = Monday ... 7 = Sunday) from a team's stored digits ("12345")."""
    return frozenset(int(day) for day in working_days if day in "1234567")


@dataclass(frozen=True)
class Schedule:
    """A team's sending hour and working days (ISO weekdays)."""

    hour: int = DEFAULT_REMINDER_HOUR
    weekdays: frozenset[int] = weekdays_of(DEFAULT_WORKING_DAYS)


DEFAULT_SCHEDULE = Schedule()


def send_time(
    day: date,
    *,
    zone: tzinfo,
    now: datetime,
    hour: int = DEFAULT_REMINDER_HOUR,
    weekdays: Collection[int] = DEFAULT_SCHEDULE.weekdays,
) -> datetime:
    """When a reminder meant for `day` goes out, in `zone`: `hour` o'clock that day, or on
    the next working day; `now` when that time has passed and the recipient's working day
    still lasts (a reminder found late, or one whose day has already begun in a zone east of
    the server's); never before `now`."""
    if not weekdays:
        raise ValueError("A team has at least one working day.")
    local_now = now.astimezone(zone)
    first = max(day, local_now.date())
    for offset in range(8):
        candidate = first + timedelta(days=offset)
        if candidate.isoweekday() not in weekdays:
            continue
        opens = datetime.combine(candidate, time(hour), tzinfo=zone)
        if now <= opens:
            return opens
        if now < datetime.combine(candidate, DAY_ENDS, tzinfo=zone):
            return now
    raise AssertionError("unreachable: a week holds every working day")


def schedules_for(team_ids: Iterable[int | None]) -> dict[int, Schedule]:
    """The teams' schedules, in one query."""
    ids = {team_id for team_id in team_ids if team_id is not None}
    if not ids:
        return {}
    rows = Team.objects.filter(pk__in=ids).values_list("pk", "reminder_hour", "working_days")
    return {pk: Schedule(hour, weekdays_of(days)) for pk, hour, days in rows}


def zones_for(user_ids: Iterable[int]) -> dict[int, tzinfo]:
    """The people's time zones (the server's for those without one), in one query (on
    SQLite, one per 999 people: its limit of parameters)."""
    ids = sorted(set(user_ids))
    size = connection.features.max_query_params or len(ids) or 1
    zones: dict[int, tzinfo] = {}
    for start in range(0, len(ids), size):
        rows = UserPreferences.objects.filter(user_id__in=ids[start : start + size]).values_list(
            "user_id", "time_zone"
        )
        zones.update((user_id, zone_from_name(name)) for user_id, name in rows)
    default = zone_from_name("")
    return {user_id: zones.get(user_id, default) for user_id in ids}


def first_teams(user_ids: Iterable[int]) -> dict[int, int]:
    """Each person's first team (the one they joined first), whose hour their weekly digest
    keeps, in one query."""
    rows = (
        Membership.objects.filter(user_id__in=list(user_ids))
        .order_by("-joined_at", "-pk")
        .values_list("user_id", "team_id")
    )
    return dict(rows)  # the earliest membership comes last and wins


def working_times(
    user_ids: Iterable[int],
    *,
    now: datetime,
    team_id: int | None = None,
    zones: dict[int, tzinfo] | None = None,
) -> dict[int, datetime]:
    """When a message that something just happened (a plan published, a follow-up held, an
    action given to someone) reaches each person: `now`, unless it is night or a day off
    where they are; then at their next working hour. The team's schedule, or without
    `team_id` each person's first team's (as the weekly digest). `zones`: the people's zones,
    when the caller has them already (`zones_for`)."""
    ids = sorted(set(user_ids))
    zones = zones if zones is not None else zones_for(ids)
    teams = dict.fromkeys(ids, team_id) if team_id else first_teams(ids)
    schedules = schedules_for(teams.values())
    times = {}
    for user_id in ids:
        schedule = schedules.get(teams.get(user_id) or 0, DEFAULT_SCHEDULE)
        zone = zones[user_id]
        times[user_id] = send_time(
            now.astimezone(zone).date(),
            zone=zone,
            now=now,
            hour=schedule.hour,
            weekdays=schedule.weekdays,
        )
    return times
