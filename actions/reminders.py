"""Reminders: the dispatcher that works out who is due which reminder, and the sending of one.

The dispatcher (`reminders_dispatch`, run every few minutes by Celery beat or, on the
embedded setup, by the web process itself; by hand with `manage.py send_reminders`) asks one set-based query per occasion for what is due now, as
(recipient, occasion, key, payload). The key is unique, so a reminder exists once. On
PostgreSQL one INSERT ... ON CONFLICT (key) DO NOTHING RETURNING id creates those that do not
exist yet (sent or not, existing ones stay as they are) and returns the ids it created. On
SQLite one query finds the keys that exist and one bulk insert creates the rest; should
another dispatcher create some of them in between, the insert meets the unique key and is made
again with `bulk_create(ignore_conflicts=True)`, keeping theirs. Either way, sweeping again or
two dispatchers at once create nothing twice. Each reminder is meant for the day it is found
on and goes out at its team's hour in its recipient's time zone, on a working day of the team
(`actions.sendtime`): its row's next_attempt_at. The dispatcher queues the sending of what it
created that is due already; the job sweep (reviews.jobs) sends the others when their time
comes, and again what a lost message, a retry's backoff or a dead worker left behind. The
recipients' zones and their teams' hours come with two queries per sweep. The number of queries does not depend on how much is due
(on PostgreSQL; SQLite splits big statements at 999 parameters).

Sending (`reminder_send`) claims the job row, so a duplicate message or a second worker
does nothing; builds the message from the current data (and skips it when it no longer
applies, e.g. the action was done meanwhile); leaves an in-app notification; emails it
unless the person chose otherwise. A transient mail error fails the attempt only: the row is
claimed again once its backoff has passed, and not before, however often a sweep or
`send_reminders` runs meanwhile.

What is due comes from `actions.occasions`, the messages from `actions.messages`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from smtplib import SMTPException
from typing import TypeVar

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, models, transaction
from django.urls import reverse
from django.utils import timezone

from actions import followups, notifications, recipients, sendtime, timezones
from actions.messages import Message, build_message
from actions.models import NotificationPreference, Occasion, Reminder
from actions.occasions import Due, due_reminders
from reviews.emails import absolute_url, send_email
from reviews.jobs import error_text, job_claim, job_fail, job_finish, job_queue

logger = logging.getLogger("pillarwise.reminders")

TRANSIENT_ERRORS = (SMTPException, OSError)

Mode = NotificationPreference.Mode
Status = Reminder.Status


# --- The dispatcher --------------------------------------------------------------------------


@dataclass
class Sweep:
    """What one dispatcher sweep did."""

    due: int = 0
    follow_ups_created: int = 0
    # The reminders created and due now, queued; and those created to go out later.
    queued: list[int] = field(default_factory=list)
    waiting: int = 0


T = TypeVar("T")


def _chunks(items: list[T], size: int | None = None) -> Iterator[list[T]]:
    """The list in pieces small enough for one statement's parameters (SQLite: 999)."""
    size = size or connection.features.max_query_params or len(items) or 1
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _not_created_yet(dues: list[Due]) -> list[Due]:
    """The dues without a reminder yet: most of what a sweep finds was sent by an earlier
    sweep, and looking the keys up costs far less than inserting them again."""
    keys = [due.key for due in dues]
    existing: set[str] = set()
    for chunk in _chunks(keys):
        existing.update(Reminder.objects.filter(key__in=chunk).values_list("key", flat=True))
    return [due for due in dues if due.key not in existing]


def _send_times(dues: list[Due], day: date, now: datetime) -> list[datetime]:
    """When each reminder, meant for `day`, goes out (`actions.sendtime`): the zones and the
    teams' schedules are read in one query each, whatever the number of reminders."""
    if not dues:
        return []
    zones = sendtime.zones_for(due.recipient_id for due in dues)
    schedules = sendtime.schedules_for(due.team_id for due in dues)
    times = []
    for due in dues:
        schedule = schedules.get(due.team_id or 0, sendtime.DEFAULT_SCHEDULE)
        times.append(
            sendtime.send_time(
                day,
                zone=zones[due.recipient_id],
                now=now,
                hour=schedule.hour,
                weekdays=schedule.weekdays,
            )
        )
    return times


def _create(dues: list[Due], day: date, now: datetime) -> Created:
    """Create the reminders that do not exist yet, each due at its send time. PostgreSQL's
    insert passes over the existing keys by itself; elsewhere they are looked up first, as
    most of what a sweep finds was created by an earlier one."""
    if connection.vendor != "postgresql":
        dues = _not_created_yet(dues)
    return _insert(dues, _send_times(dues, day, now), now)


@dataclass
class Created:
    """What one insert created: the ids due now (marked queued now, for the caller to
    queue) and how many wait for their time (the job sweep sends those)."""

    due_now: list[int] = field(default_factory=list)
    waiting: int = 0


def _insert(dues: list[Due], times: list[datetime], now: datetime) -> Created:
    """Insert a reminder per due, due at its time. When another dispatcher created some of
    the same reminders meanwhile, theirs stay and only the others are created, by the
    unique key."""

    def rows() -> list[Reminder]:
        return [
            Reminder(
                key=due.key,
                occasion=due.occasion,
                recipient_id=due.recipient_id,
                payload=due.payload,
                due_at=when,
                next_attempt_at=when,
                queued_at=now if when <= now else None,
            )
            for due, when in zip(dues, times, strict=True)
        ]

    if not dues:
        return Created()
    if connection.vendor == "postgresql":
        return _insert_on_conflict(dues, times, now)
    try:
        with transaction.atomic():
            created = Reminder.objects.bulk_create(rows())
        return Created(
            due_now=[r.pk for r in created if r.queued_at is not None],
            waiting=sum(1 for r in created if r.queued_at is None),
        )
    except IntegrityError:
        with transaction.atomic():
            Reminder.objects.bulk_create(rows(), ignore_conflicts=True)
        ours: list[int] = []
        for chunk in _chunks([due.key for due in dues]):
            ours += Reminder.objects.filter(key__in=chunk, queued_at=now).values_list(
                "pk", flat=True
            )
        return Created(due_now=ours)


def _insert_on_conflict(dues: list[Due], times: list[datetime], now: datetime) -> Created:
    """PostgreSQL: the same insert as one statement, INSERT ... SELECT FROM
    jsonb_to_recordset(...) ON CONFLICT (key) DO NOTHING RETURNING id. The rows travel as one
    JSON document instead of a model instance each (the first sweep over a large team
    inserts tens of thousands), and the rows another dispatcher created meanwhile are left
    alone by the unique key, so what comes back is exactly what this call created."""
    meta = Reminder._meta
    quote = connection.ops.quote_name

    def column(name: str) -> str:
        field = meta.get_field(name)
        assert isinstance(field, models.Field) and field.column, name
        return quote(field.column)

    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({column('key')}, {column('occasion')}, "
        f"{column('recipient')}, {column('payload')}, {column('status')}, "
        f"{column('attempts')}, {column('max_attempts')}, {column('next_attempt_at')}, "
        f"{column('last_error')}, {column('delivered')}, "
        f"{column('due_at')}, {column('created_at')}, {column('queued_at')}) "
        "SELECT due.key, due.occasion, due.recipient, due.payload, %s, 0, %s, due.at, '', '', "
        "due.at, %s, CASE WHEN due.at <= %s THEN %s::timestamptz END "
        "FROM jsonb_to_recordset(%s::jsonb) "
        "AS due(key varchar, occasion varchar, recipient bigint, payload jsonb, at timestamptz) "
        f"ON CONFLICT ({column('key')}) DO NOTHING "
        f"RETURNING {column('id')}, {column('queued_at')} IS NOT NULL"
    )
    rows = json.dumps(
        [
            {"key": due.key, "occasion": due.occasion, "recipient": due.recipient_id}
            | {"payload": due.payload, "at": when.isoformat()}
            for due, when in zip(dues, times, strict=True)
        ]
    )
    with transaction.atomic(), connection.cursor() as cursor:
        max_attempts = meta.get_field("max_attempts").get_default()
        cursor.execute(sql, [Status.PENDING, max_attempts, now, now, now, rows])
        created = cursor.fetchall()
    return Created(
        due_now=[pk for pk, queued in created if queued],
        waiting=sum(1 for _, queued in created if not queued),
    )


def reminders_dispatch(*, now: datetime | None = None, queue: bool = True) -> Sweep:
    """One sweep: schedule the monthly follow-ups that fall due, insert every reminder due
    now (those that exist already stay as they are) and, with `queue`, queue the sending of
    those created once the transaction commits (`send_reminders` sends them itself)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    sweep = Sweep(follow_ups_created=followups.followups_schedule(today=today))
    dues = list(due_reminders(today=today))
    sweep.due = len(dues)
    created = _create(dues, today, now)
    sweep.queued = sorted(created.due_now)
    sweep.waiting = created.waiting
    if queue:
        job_queue(Reminder, sweep.queued)
    return sweep


def reminders_preview(*, now: datetime | None = None) -> list[Due]:
    """What a sweep would send now and has not sent: for `send_reminders --dry-run`."""
    now = now or timezone.now()
    dues = list(due_reminders(today=timezone.localdate(now)))
    done: set[str] = set()
    for chunk in _chunks([due.key for due in dues]):
        done.update(
            Reminder.objects.filter(key__in=chunk)
            .exclude(status=Status.PENDING)
            .values_list("key", flat=True)
        )
    return [due for due in dues if due.key not in done]


def digests_dispatch(*, now: datetime | None = None, queue: bool = True) -> list[int]:
    """The weekly digest: one reminder per person with notifications they chose to receive
    weekly, once per ISO week, at the hour of their first team on its first working day of
    the week, in their time zone. Returns the ids created and due now, queued with `queue`
    (the job sweep sends the others when their time comes)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    year, week, weekday = today.isocalendar()
    users = notifications.users_awaiting_digest()
    teams = sendtime.first_teams(users)
    dues = [
        Due(
            user_id,
            Occasion.WEEKLY_DIGEST,
            f"weekly_digest:{user_id}:{year}-W{week:02d}",
            {"week": f"{year}-W{week:02d}"},
            team_id=teams.get(user_id),
        )
        for user_id in users
    ]
    created = sorted(_create(dues, today - timedelta(days=weekday - 1), now).due_now)
    if queue:
        job_queue(Reminder, created)
    return created


# --- Sending one reminder --------------------------------------------------------------------


def _email(reminder: Reminder, message: Message) -> None:
    user = reminder.recipient
    send_email(
        to=[user.email],
        template=message.template,
        subject=message.subject,
        context={
            **message.context,
            "recipient": user,
            "link": absolute_url(message.path),
            "preferences_link": absolute_url(reverse("actions:notification_preferences")),
            "occasion": Occasion(reminder.occasion).label,
            "subject": message.subject,
            "today": timezone.localdate(),
        },
        headers={"X-Pillarwise-Reminder": reminder.key[:200]},
    )


def _deliver(reminder: Reminder) -> tuple[str, str]:
    """Deliver a claimed reminder, written in the recipient's time zone (its dates, its
    "today", "tomorrow"): (status, delivered)."""
    with timezone.override(timezones.zone_for(reminder.recipient_id)):
        return _deliver_here(reminder)


def _deliver_here(reminder: Reminder) -> tuple[str, str]:
    user = reminder.recipient
    message = build_message(reminder)
    if message is None or not user.is_active:
        return Status.SKIPPED, ""
    if reminder.occasion == Occasion.WEEKLY_DIGEST:
        if not user.email:
            return Status.SKIPPED, ""
        _email(reminder, message)
        notifications.digest_mark_sent(user_id=user.pk, until=reminder.created_at)
        return Status.SENT, "email"
    mode = notifications.preference_mode(user.pk, reminder.occasion)
    if mode == Mode.OFF:
        return Status.SKIPPED, ""
    notifications.notification_for_reminder(
        reminder=reminder,
        title=message.subject,
        body=message.summary,
        url=message.path,
        via_digest=mode == Mode.WEEKLY_DIGEST,
        team_id=recipients.message_team_id(message),
    )
    if mode == Mode.EMAIL_AND_APP and user.email:
        _email(reminder, message)
        return Status.SENT, "email"
    return Status.SENT, "digest" if mode == Mode.WEEKLY_DIGEST else "app"


def reminder_send(*, reminder_id: int) -> Reminder | None:
    """Send one reminder if it is still to be sent; None when there is nothing to claim
    (sent already, someone else has it, or its next attempt is not due yet). A transient
    mail error leaves it pending until the backoff has passed, and failed after its last
    attempt; any other error fails it at once."""
    reminder = job_claim(Reminder, reminder_id, select_related=["recipient"])
    if reminder is None:
        return None
    try:
        status, delivered = _deliver(reminder)
    except TRANSIENT_ERRORS as exc:
        job_fail(reminder, error_text(exc), retry=True)
        return reminder
    except Exception as exc:
        logger.exception("Reminder %s could not be sent", reminder.pk)
        job_fail(reminder, error_text(exc), retry=False)
        return reminder
    job_finish(
        reminder,
        status=status,
        delivered=delivered,
        sent_at=timezone.now() if status == Status.SENT else None,
    )
    return reminder


def reminders_send_pending(*, ids: list[int] | None = None) -> list[Reminder]:
    """Send reminders in this process (`send_reminders`): the given ids, or every pending
    one that is due. Those whose next attempt is not due yet are left alone, so running
    this during a mail outage does not use up their attempts."""
    if ids is None:
        ids = list(
            Reminder.objects.filter(status=Status.PENDING, next_attempt_at__lte=timezone.now())
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    done = []
    for reminder_id in ids:
        reminder = reminder_send(reminder_id=reminder_id)
        if reminder is not None:
            done.append(reminder)
    return done


def describe(reminder: Reminder | Due, recipient: User | None = None) -> str:
    """One line for the command's output."""
    occasion = Occasion(reminder.occasion).label
    who = recipient or getattr(reminder, "recipient", None)
    name = (
        getattr(who, "email", "") or getattr(who, "username", "") or f"user {reminder.recipient_id}"
    )
    return f"{occasion:<26} to {name:<32} {reminder.key}"
