"""Reminders: the dispatcher that works out who is due which reminder, and the sending of one.

The dispatcher (`reminders_dispatch`, run every few minutes by Celery beat, or by hand with
`manage.py send_reminders`) asks one set-based query per occasion for what is due now, as
(recipient, occasion, key, payload). The key is unique, so a reminder exists once. On
PostgreSQL one INSERT ... ON CONFLICT (key) DO NOTHING RETURNING id creates those that do not
exist yet (sent or not, existing ones stay as they are) and returns the ids it created. On
SQLite one query finds the keys that exist and one bulk insert creates the rest; should
another dispatcher create some of them in between, the insert meets the unique key and is made
again with `bulk_create(ignore_conflicts=True)`, keeping theirs. Either way, sweeping again or
two dispatchers at once create nothing twice. Last, one UPDATE ... RETURNING takes the
pending rows whose message was queued a while ago and never claimed (lost between dispatch
and worker) to queue them again. The number of queries does not depend on how much is due (on PostgreSQL; SQLite
splits big statements at 999 parameters).

Sending (`reminder_send`) claims the row with a conditional update (pending -> sending), so a
duplicate message or a second worker does nothing; builds the message from the current data
(and skips it when it no longer applies, e.g. the action was done meanwhile); leaves an in-app
notification; emails it unless the person chose otherwise. Transient mail errors put the row
back to pending for a retry with backoff.

Occasions and keys (the key says what makes a reminder recur):
- preparation: participants with an incomplete checklist, 7 days before the review (sent up
  to 3 days before if missed) and 2 days before;     preparation:<session>:<user>:<day>:<n>d
- review tomorrow: every participant, the day before;  review_tomorrow:<session>:<user>:<day>
- analysis / action plan due: the facilitator, on the due date (or up to a week later if
  missed), while the session has not moved past it;    analysis_due:<session>:<user>:<date>
- action due: the owner, 7 days before (down to 2) and 1 day before (or on the day);
                                                       action_due:<action>:<user>:<date>:<n>d
- action overdue: the owner, the day after the due date and then weekly while it stays open
  and untouched; a change to the action (status, percent, due date...) restarts the weekly
  clock from that day;         action_overdue:<action>:<user>:<due date>:<since>:w<n>
- follow-up digest: the workload owner, when a monthly follow-up falls due;
                                                       follow_up_digest:<follow-up>:<user>
- next review due: the workload owner and the last review's facilitator, 14 days before
  and on the day, unless a review is already planned;  next_review_due:<workload>:<user>:<date>:<when>
- risk acceptance expiring: who accepted it and the workload owner, 14 days before;
                                                       risk_expiring:<finding>:<user>:<date>
- follow-up summary: the participants, when a follow-up is finished (actions/followups.py).
- weekly digest: what people chose to receive weekly, each Monday (`digests_dispatch`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from smtplib import SMTPException

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone

from actions import followups, notifications
from actions.models import (
    ActionItem,
    Finding,
    FollowUp,
    FollowUpNote,
    NotificationPreference,
    Occasion,
    Reminder,
)
from reviews.cadence import cadence_for, next_review_due
from reviews.emails import absolute_url, send_email
from reviews.models import (
    Participant,
    ParticipantRole,
    Phase,
    ReviewSession,
    SessionKind,
    Workload,
)

logger = logging.getLogger("pillarwise.reminders")

PREPARATION_NOTICES = (7, 2)  # days before the review
ACTION_DUE_NOTICES = (7, 1)  # days before the due date
NEXT_REVIEW_NOTICE_DAYS = 14
RISK_NOTICE_DAYS = 14
# A due-date reminder missed (the dispatcher was down) is still sent this many days later.
CATCH_UP_DAYS = 7

REQUEUE_AFTER = timedelta(minutes=5)
# A claim older than this was abandoned by a worker that died: the row may be claimed again.
# Longer than the sending task's hard time limit, so a live worker never loses its claim.
CLAIM_LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 5
TRANSIENT_ERRORS = (SMTPException, OSError)

Mode = NotificationPreference.Mode
Status = Reminder.Status


def retry_delay(attempts: int) -> int:
    """Seconds before the next attempt: 1, 2, 4, 8 minutes..., at most an hour."""
    return min(60 * 2 ** max(attempts - 1, 0), 3600)


def day_start(day: date) -> datetime:
    """Midnight at the start of `day`, local time."""
    return timezone.make_aware(datetime.combine(day, time.min))


# --- What is due -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    recipient_id: int
    occasion: str
    key: str
    payload: dict


def _preparation(today: date) -> Iterator[Due]:
    early, late = PREPARATION_NOTICES
    rows = (
        Participant.objects.filter(
            session__phase=Phase.PREPARATION,
            session__review_starts_at__gte=day_start(today + timedelta(days=late)),
            session__review_starts_at__lt=day_start(today + timedelta(days=early + 1)),
        )
        .exclude(read_documentation=True, brought_metrics=True, confirmed_attendance=True)
        .values_list("user_id", "session_id", "session__review_starts_at")
    )
    for user_id, session_id, starts_at in rows:
        review_on = timezone.localdate(starts_at)
        notice = early if (review_on - today).days > late else late
        yield Due(
            user_id,
            Occasion.PREPARATION,
            f"preparation:{session_id}:{user_id}:{review_on}:{notice}d",
            {"session": session_id, "review_on": review_on.isoformat(), "notice": notice},
        )


def _review_tomorrow(today: date) -> Iterator[Due]:
    tomorrow = today + timedelta(days=1)
    rows = Participant.objects.filter(
        session__phase__in=[Phase.PREPARATION, Phase.REVIEW],
        session__review_starts_at__gte=day_start(tomorrow),
        session__review_starts_at__lt=day_start(tomorrow + timedelta(days=1)),
    ).values_list("user_id", "session_id")
    for user_id, session_id in rows:
        yield Due(
            user_id,
            Occasion.REVIEW_TOMORROW,
            f"review_tomorrow:{session_id}:{user_id}:{tomorrow}",
            {"session": session_id, "review_on": tomorrow.isoformat()},
        )


def _analysis_due(today: date) -> Iterator[Due]:
    rows = Participant.objects.filter(
        role=ParticipantRole.FACILITATOR,
        session__phase__in=[Phase.REVIEW, Phase.ANALYSIS],
        session__analysis_due_on__range=(today - timedelta(days=CATCH_UP_DAYS), today),
    ).values_list("user_id", "session_id", "session__analysis_due_on")
    for user_id, session_id, due_on in rows:
        yield Due(
            user_id,
            Occasion.ANALYSIS_DUE,
            f"analysis_due:{session_id}:{user_id}:{due_on}",
            {"session": session_id, "due_on": due_on.isoformat()},
        )


def _action_plan_due(today: date) -> Iterator[Due]:
    rows = Participant.objects.filter(
        role=ParticipantRole.FACILITATOR,
        session__phase__in=[Phase.REVIEW, Phase.ANALYSIS, Phase.ACTION_PLAN],
        session__plan_published_at__isnull=True,
        session__action_plan_due_on__range=(today - timedelta(days=CATCH_UP_DAYS), today),
    ).values_list("user_id", "session_id", "session__action_plan_due_on")
    for user_id, session_id, due_on in rows:
        yield Due(
            user_id,
            Occasion.ACTION_PLAN_DUE,
            f"action_plan_due:{session_id}:{user_id}:{due_on}",
            {"session": session_id, "due_on": due_on.isoformat()},
        )


def _action_due(today: date) -> Iterator[Due]:
    early, late = ACTION_DUE_NOTICES
    rows = (
        ActionItem.objects.open()
        .filter(owner__isnull=False, due_on__range=(today, today + timedelta(days=early)))
        .values_list("pk", "owner_id", "due_on")
    )
    for action_id, owner_id, due_on in rows:
        notice = early if (due_on - today).days > late else late
        yield Due(
            owner_id,
            Occasion.ACTION_DUE,
            f"action_due:{action_id}:{owner_id}:{due_on}:{notice}d",
            {"action": action_id, "due_on": due_on.isoformat(), "notice": notice},
        )


def _action_overdue(today: date) -> Iterator[Due]:
    rows = (
        ActionItem.objects.open()
        .filter(owner__isnull=False, due_on__lt=today)
        .annotate(changed_on=TruncDate("updated_at"))
        .values_list("pk", "owner_id", "due_on", "changed_on")
    )
    for action_id, owner_id, due_on, changed_on in rows:
        if changed_on > due_on:
            # Changed since it fell due: the weekly clock starts again from that day.
            anchor, week = changed_on, (today - changed_on).days // 7
            if week < 1:
                continue
        else:
            anchor, week = due_on, ((today - due_on).days - 1) // 7
        yield Due(
            owner_id,
            Occasion.ACTION_OVERDUE,
            f"action_overdue:{action_id}:{owner_id}:{due_on}:{anchor}:w{week}",
            {"action": action_id, "due_on": due_on.isoformat(), "week": week},
        )


def _follow_up_digest(today: date) -> Iterator[Due]:
    rows = FollowUp.objects.filter(
        held_at__isnull=True,
        due_on__range=(today - timedelta(days=CATCH_UP_DAYS), today),
        session__workload__owner__isnull=False,
    ).values_list("pk", "session__workload__owner_id")
    for follow_up_id, owner_id in rows:
        yield Due(
            owner_id,
            Occasion.FOLLOW_UP_DIGEST,
            f"follow_up_digest:{follow_up_id}:{owner_id}",
            {"follow_up": follow_up_id},
        )


def _next_review_due(today: date) -> Iterator[Due]:
    planned = ReviewSession.objects.filter(
        workload=OuterRef("pk"), phase__in=[Phase.PREPARATION, Phase.REVIEW]
    )
    last_facilitator = (
        Participant.objects.filter(
            session__workload=OuterRef("pk"),
            role=ParticipantRole.FACILITATOR,
            session__review_starts_at__isnull=False,
        )
        .order_by("-session__review_starts_at")
        .values("user_id")[:1]
    )
    rows = (
        Workload.objects.filter(
            next_review_due_on__lte=today + timedelta(days=NEXT_REVIEW_NOTICE_DAYS)
        )
        .exclude(Exists(planned))
        .annotate(facilitator_id=Subquery(last_facilitator))
        .values_list("pk", "owner_id", "facilitator_id", "next_review_due_on")
    )
    for workload_id, owner_id, facilitator_id, due_on in rows:
        when = "due" if due_on <= today else f"{NEXT_REVIEW_NOTICE_DAYS}d"
        for user_id in {owner_id, facilitator_id} - {None}:
            yield Due(
                user_id,
                Occasion.NEXT_REVIEW_DUE,
                f"next_review_due:{workload_id}:{user_id}:{due_on}:{when}",
                {"workload": workload_id, "due_on": due_on.isoformat()},
            )


def _risk_expiring(today: date) -> Iterator[Due]:
    rows = Finding.objects.filter(
        accepted_at__isnull=False,
        resolved_at__isnull=True,
        accepted_until__range=(today, today + timedelta(days=RISK_NOTICE_DAYS)),
    ).values_list("pk", "accepted_by_id", "session__workload__owner_id", "accepted_until")
    for finding_id, accepted_by_id, owner_id, until in rows:
        for user_id in {accepted_by_id, owner_id} - {None}:
            yield Due(
                user_id,
                Occasion.RISK_EXPIRING,
                f"risk_expiring:{finding_id}:{user_id}:{until}",
                {"finding": finding_id, "until": until.isoformat()},
            )


OCCASIONS: tuple[Callable[[date], Iterator[Due]], ...] = (
    _preparation,
    _review_tomorrow,
    _analysis_due,
    _action_plan_due,
    _action_due,
    _action_overdue,
    _follow_up_digest,
    _next_review_due,
    _risk_expiring,
)


def due_reminders(*, today: date) -> Iterator[Due]:
    """Everything due on `today`, whether or not it was sent already."""
    for occasion in OCCASIONS:
        yield from occasion(today)


# --- The dispatcher --------------------------------------------------------------------------


@dataclass
class Sweep:
    """What one dispatcher sweep did."""

    due: int = 0
    follow_ups_created: int = 0
    queued: list[int] = field(default_factory=list)


def _chunks(items: list, size: int | None = None):
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


def _create(dues: list[Due], now: datetime) -> list[int]:
    """Create the reminders that do not exist yet and return the ids of those this call
    created. PostgreSQL's insert passes over the existing keys by itself; elsewhere they are
    looked up first, as most of what a sweep finds was created by an earlier one."""
    if connection.vendor != "postgresql":
        dues = _not_created_yet(dues)
    return _insert(dues, now)


def _insert(dues: list[Due], now: datetime) -> list[int]:
    """Insert a reminder per due, marked queued now, and return the ids of those this call
    created (the caller queues them). When another dispatcher created some of the same
    reminders meanwhile, theirs stay and only the others are created, by the unique key."""

    def rows() -> list[Reminder]:
        return [
            Reminder(
                key=due.key,
                occasion=due.occasion,
                recipient_id=due.recipient_id,
                payload=due.payload,
                due_at=now,
                queued_at=now,
            )
            for due in dues
        ]

    if not dues:
        return []
    if connection.vendor == "postgresql":
        return _insert_on_conflict(dues, now)
    try:
        with transaction.atomic():
            return [reminder.pk for reminder in Reminder.objects.bulk_create(rows())]
    except IntegrityError:
        with transaction.atomic():
            Reminder.objects.bulk_create(rows(), ignore_conflicts=True)
        ours: list[int] = []
        for chunk in _chunks([due.key for due in dues]):
            ours += Reminder.objects.filter(key__in=chunk, queued_at=now).values_list(
                "pk", flat=True
            )
        return ours


def _insert_on_conflict(dues: list[Due], now: datetime) -> list[int]:
    """PostgreSQL: the same insert as one statement, INSERT ... SELECT FROM
    jsonb_to_recordset(...) ON CONFLICT (key) DO NOTHING RETURNING id. The rows travel as one
    JSON document instead of a model instance each (the first sweep over a large team
    inserts tens of thousands), and the rows another dispatcher created meanwhile are left
    alone by the unique key, so what comes back is exactly what this call created."""
    meta = Reminder._meta
    quote = connection.ops.quote_name

    def column(name: str) -> str:
        return quote(meta.get_field(name).column)

    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({column('key')}, {column('occasion')}, "
        f"{column('recipient')}, {column('payload')}, {column('status')}, "
        f"{column('attempts')}, {column('last_error')}, {column('delivered')}, "
        f"{column('due_at')}, {column('created_at')}, {column('queued_at')}) "
        "SELECT due.key, due.occasion, due.recipient, due.payload, %s, 0, '', '', %s, %s, %s "
        "FROM jsonb_to_recordset(%s::jsonb) "
        "AS due(key varchar, occasion varchar, recipient bigint, payload jsonb) "
        f"ON CONFLICT ({column('key')}) DO NOTHING RETURNING {column('id')}"
    )
    rows = json.dumps(
        [
            {"key": due.key, "occasion": due.occasion, "recipient": due.recipient_id}
            | {"payload": due.payload}
            for due in dues
        ]
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [Status.PENDING, now, now, now, rows])
        return [row[0] for row in cursor.fetchall()]


def reminders_take_for_queue(*, now: datetime) -> list[int]:
    """Take the pending rows that need a message (never queued, or queued more than
    REQUEUE_AFTER ago and still not claimed), mark them queued now, and return their ids:
    one UPDATE ... RETURNING. Rows another dispatcher is taking at this moment are skipped
    (PostgreSQL row locks; SQLite runs one writer at a time)."""
    table = connection.ops.quote_name(Reminder._meta.db_table)
    lock = (
        " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    )
    sql = (
        f"UPDATE {table} SET queued_at = %s WHERE id IN ("
        f"SELECT id FROM {table} WHERE status = %s AND (queued_at IS NULL OR queued_at < %s)"
        f"{lock}) RETURNING id"
    )
    adapt = connection.ops.adapt_datetimefield_value
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [adapt(now), Status.PENDING, adapt(now - REQUEUE_AFTER)])
        return sorted(row[0] for row in cursor.fetchall())


def reminders_dispatch(*, now: datetime | None = None) -> Sweep:
    """One sweep: schedule the monthly follow-ups that fall due, insert every reminder due
    now (those that exist already stay as they are), and return the ids to queue."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    sweep = Sweep(follow_ups_created=followups.followups_schedule(today=today))
    dues = list(due_reminders(today=today))
    sweep.due = len(dues)
    created = _create(dues, now)
    sweep.queued = sorted(created + reminders_take_for_queue(now=now))
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


def digests_dispatch(*, now: datetime | None = None) -> list[int]:
    """The weekly digest: one reminder per person with notifications they chose to receive
    weekly, once per ISO week. Returns the ids to queue."""
    now = now or timezone.now()
    year, week, _ = timezone.localdate(now).isocalendar()
    dues = [
        Due(
            user_id,
            Occasion.WEEKLY_DIGEST,
            f"weekly_digest:{user_id}:{year}-W{week:02d}",
            {"week": f"{year}-W{week:02d}"},
        )
        for user_id in notifications.users_awaiting_digest()
    ]
    created = _create(dues, now)
    return sorted(created + reminders_take_for_queue(now=now))


# --- Sending one reminder --------------------------------------------------------------------


class DeliveryDeferred(Exception):
    """A transient failure: the reminder is pending again; try again in `countdown` s."""

    def __init__(self, countdown: int):
        super().__init__(f"retry in {countdown} s")
        self.countdown = countdown


@dataclass
class Message:
    subject: str
    template: str  # emails/<template>.txt and .html
    context: dict
    path: str  # the page to act on
    summary: str  # one line for the in-app notification


def _days_in_words(days: int) -> str:
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    return f"in {days} days"


def _checklist(participant: Participant) -> list[tuple[str, bool]]:
    return [
        ("Read the workload's documentation", participant.read_documentation),
        ("Bring current metrics", participant.brought_metrics),
        ("Confirm that you will attend", participant.confirmed_attendance),
    ]


def _participant(reminder: Reminder) -> Participant | None:
    return (
        Participant.objects.select_related("session__workload", "user")
        .filter(session_id=reminder.payload["session"], user_id=reminder.recipient_id)
        .first()
    )


def _build_preparation(reminder: Reminder, today: date) -> Message | None:
    participant = _participant(reminder)
    if participant is None or participant.is_ready:
        return None
    session = participant.session
    if session.phase != Phase.PREPARATION or session.review_starts_at is None:
        return None
    review_on = timezone.localdate(session.review_starts_at)
    if review_on.isoformat() != reminder.payload["review_on"]:
        return None  # moved: the new date has reminders of its own
    days = (review_on - today).days
    checklist = _checklist(participant)
    left = sum(1 for _, done in checklist if not done)
    return Message(
        subject=f"Prepare for the {session.workload.name} review {_days_in_words(days)}",
        template="preparation",
        context={
            "session": session,
            "workload": session.workload,
            "participant": participant,
            "checklist": checklist,
            "days": days,
            "when": _days_in_words(days),
        },
        path=reverse("reviews:session_detail", args=[session.uuid]),
        summary=f"{left} preparation step{'s' if left != 1 else ''} left before the review of "
        f"{session.workload.name} {_days_in_words(days)}.",
    )


def _build_review_tomorrow(reminder: Reminder, today: date) -> Message | None:
    participant = _participant(reminder)
    if participant is None:
        return None
    session = participant.session
    if session.phase not in (Phase.PREPARATION, Phase.REVIEW) or not session.review_starts_at:
        return None
    if timezone.localdate(session.review_starts_at).isoformat() != reminder.payload["review_on"]:
        return None
    return Message(
        subject=f"Tomorrow: the Well-Architected review of {session.workload.name}",
        template="review_tomorrow",
        context={
            "session": session,
            "workload": session.workload,
            "participant": participant,
            "checklist": _checklist(participant),
            "live_path": reverse("reviews:session_live", args=[session.uuid]),
        },
        path=reverse("reviews:session_detail", args=[session.uuid]),
        summary=f"The review of {session.workload.name} starts tomorrow at "
        f"{timezone.localtime(session.review_starts_at):%H:%M}.",
    )


def _session(reminder: Reminder) -> ReviewSession | None:
    return (
        ReviewSession.objects.select_related("workload")
        .filter(pk=reminder.payload["session"])
        .first()
    )


def _session_due(
    reminder: Reminder, due_field: str, phases: tuple[str, ...]
) -> tuple[ReviewSession, date] | None:
    """The session whose `due_field` date the reminder was for, while it is still that date
    and the session is in one of `phases`; with that date."""
    session = _session(reminder)
    if session is None or session.phase not in phases:
        return None
    due_on = getattr(session, due_field)
    if due_on is None or due_on.isoformat() != reminder.payload["due_on"]:
        return None
    return session, due_on


def _due_subject(what: str, due_on: date, late: int) -> str:
    return f"{what} is due" + (" today" if late <= 0 else f" since {due_on:%-d %B}")


def _build_analysis_due(reminder: Reminder, today: date) -> Message | None:
    due = _session_due(reminder, "analysis_due_on", (Phase.REVIEW, Phase.ANALYSIS))
    if due is None:
        return None
    session, due_on = due
    late = (today - due_on).days
    return Message(
        subject=_due_subject(f"The analysis of {session.title}", due_on, late),
        template="analysis_due",
        context={"session": session, "workload": session.workload, "late": late},
        path=reverse("actions:analysis", args=[session.uuid]),
        summary=f"Prioritise the findings of {session.workload.name} by business impact and "
        "technical effort.",
    )


def _build_action_plan_due(reminder: Reminder, today: date) -> Message | None:
    due = _session_due(
        reminder, "action_plan_due_on", (Phase.REVIEW, Phase.ANALYSIS, Phase.ACTION_PLAN)
    )
    if due is None or due[0].plan_published_at is not None:
        return None
    session, due_on = due
    late = (today - due_on).days
    return Message(
        subject=_due_subject(f"The action plan of {session.title}", due_on, late),
        template="action_plan_due",
        context={"session": session, "workload": session.workload, "late": late},
        path=reverse("actions:plan", args=[session.uuid]),
        summary=f"Give each action of {session.workload.name} an owner and a due date, then "
        "publish the plan.",
    )


def _action(reminder: Reminder) -> ActionItem | None:
    action = (
        ActionItem.objects.select_related("workload", "session", "owner")
        .filter(pk=reminder.payload["action"])
        .first()
    )
    if action is None or not action.is_open or action.owner_id != reminder.recipient_id:
        return None
    if action.due_on is None or action.due_on.isoformat() != reminder.payload["due_on"]:
        return None
    return action


def _action_path(action: ActionItem) -> str:
    return reverse("actions:action_detail", args=[action.uuid])


def _build_action_due(reminder: Reminder, today: date) -> Message | None:
    action = _action(reminder)
    if action is None:
        return None
    days = (action.due_on - today).days
    return Message(
        subject=f"Due {_days_in_words(days)}: {action.title}",
        template="action_due",
        context={
            "action": action,
            "workload": action.workload,
            "days": days,
            "when": _days_in_words(days),
        },
        path=_action_path(action),
        summary=f"{action.title} ({action.workload.name}) is due {_days_in_words(days)}, "
        f"{action.percent_complete}% done.",
    )


def _build_action_overdue(reminder: Reminder, today: date) -> Message | None:
    action = _action(reminder)
    if action is None or action.due_on >= today:
        return None
    days = (today - action.due_on).days
    return Message(
        subject=f"Overdue by {days} day{'s' if days != 1 else ''}: {action.title}",
        template="action_overdue",
        context={"action": action, "workload": action.workload, "days": days},
        path=_action_path(action),
        summary=f"{action.title} ({action.workload.name}) was due on "
        f"{action.due_on:%-d %B}: finish it, or move its due date.",
    )


def _build_follow_up_digest(reminder: Reminder, today: date) -> Message | None:
    follow_up = (
        FollowUp.objects.select_related("session__workload__owner")
        .filter(pk=reminder.payload["follow_up"])
        .first()
    )
    if follow_up is None or follow_up.is_held:
        return None
    session, workload = follow_up.session, follow_up.session.workload
    if workload.owner_id != reminder.recipient_id:
        return None
    digest = followups.digest(follow_up, today=today)
    # Keep where each action stands, so next month's digest can tell what moved.
    followups.digest_snapshot(follow_up=follow_up, snapshot=digest.snapshot)
    return Message(
        subject=f"Monthly follow-up of {workload.name}: {digest.headline}",
        template="follow_up_digest",
        context={
            "follow_up": follow_up,
            "session": session,
            "workload": workload,
            "digest": digest,
        },
        path=reverse("actions:followup", args=[follow_up.uuid]),
        summary=f"Follow-up {follow_up.number} of {workload.name} is due: {digest.headline}.",
    )


def _build_next_review_due(reminder: Reminder, today: date) -> Message | None:
    workload = Workload.objects.filter(pk=reminder.payload["workload"]).first()
    if workload is None or workload.next_review_due_on is None:
        return None
    if workload.next_review_due_on.isoformat() != reminder.payload["due_on"]:
        return None
    if workload.sessions.filter(phase__in=[Phase.PREPARATION, Phase.REVIEW]).exists():
        return None  # planned meanwhile
    days = (workload.next_review_due_on - today).days
    _, kind = next_review_due(workload, after=today)
    return Message(
        subject=f"The next review of {workload.name} is due"
        + (f" in {days} days" if days > 0 else " now"),
        template="next_review_due",
        context={
            "workload": workload,
            "days": days,
            "cadence": cadence_for(workload),
            "kind": SessionKind(kind).label,
            "cadence_path": reverse("reviews:workload_cadence", args=[workload.uuid]),
        },
        path=reverse("reviews:session_create", args=[workload.uuid]),
        summary=f"Schedule the next review of {workload.name}: due on "
        f"{workload.next_review_due_on:%-d %B %Y}.",
    )


def _build_risk_expiring(reminder: Reminder, today: date) -> Message | None:
    finding = (
        Finding.objects.select_related("session__workload", "question", "accepted_by")
        .filter(pk=reminder.payload["finding"])
        .first()
    )
    if finding is None or finding.accepted_at is None or finding.resolved_at is not None:
        return None
    if (
        finding.accepted_until is None
        or finding.accepted_until.isoformat() != (reminder.payload["until"])
    ):
        return None
    session = finding.session
    days = (finding.accepted_until - today).days
    return Message(
        subject=f"A risk accepted on {session.workload.name} expires {_days_in_words(days)}",
        template="risk_expiring",
        context={
            "finding": finding,
            "session": session,
            "workload": session.workload,
            "days": days,
            "when": _days_in_words(days),
        },
        path=reverse("actions:analysis", args=[session.uuid]),
        summary=f"“{finding.question.title}” was accepted as a risk until "
        f"{finding.accepted_until:%-d %B}: review it again or act on it.",
    )


def _build_follow_up_summary(reminder: Reminder, today: date) -> Message | None:
    follow_up = (
        FollowUp.objects.select_related("session__workload", "held_by")
        .filter(pk=reminder.payload["follow_up"])
        .first()
    )
    if follow_up is None or not follow_up.is_held:
        return None
    session = follow_up.session
    notes = list(
        FollowUpNote.objects.filter(follow_up=follow_up)
        .select_related("action__owner")
        .order_by("action__due_on", "action__created_at")
    )
    digest = followups.digest(follow_up, today=today)
    return Message(
        subject=f"Follow-up {follow_up.number} of {session.workload.name}: {digest.headline}",
        template="follow_up_summary",
        context={
            "follow_up": follow_up,
            "session": session,
            "workload": session.workload,
            "notes": notes,
            "digest": digest,
        },
        path=reverse("actions:followup", args=[follow_up.uuid]),
        summary=f"Follow-up {follow_up.number} of {session.workload.name} was held: "
        f"{digest.headline}.",
    )


def _build_weekly_digest(reminder: Reminder, today: date) -> Message | None:
    items = list(
        notifications.awaiting_digest(user_id=reminder.recipient_id, until=reminder.created_at)
    )
    if not items:
        return None
    return Message(
        subject=f"Your week in Pillarwise: {len(items)} update{'s' if len(items) != 1 else ''}",
        template="weekly_digest",
        context={"items": items, "week": reminder.payload.get("week", "")},
        path=reverse("actions:notifications"),
        summary="",
    )


BUILDERS: dict[str, Callable[[Reminder, date], Message | None]] = {
    Occasion.PREPARATION: _build_preparation,
    Occasion.REVIEW_TOMORROW: _build_review_tomorrow,
    Occasion.ANALYSIS_DUE: _build_analysis_due,
    Occasion.ACTION_PLAN_DUE: _build_action_plan_due,
    Occasion.ACTION_DUE: _build_action_due,
    Occasion.ACTION_OVERDUE: _build_action_overdue,
    Occasion.FOLLOW_UP_DIGEST: _build_follow_up_digest,
    Occasion.FOLLOW_UP_SUMMARY: _build_follow_up_summary,
    Occasion.NEXT_REVIEW_DUE: _build_next_review_due,
    Occasion.RISK_EXPIRING: _build_risk_expiring,
    Occasion.WEEKLY_DIGEST: _build_weekly_digest,
}


def build_message(reminder: Reminder, *, today: date | None = None) -> Message | None:
    """The message for a reminder from the data as it is now; None when it no longer
    applies (done meanwhile, moved, deleted)."""
    return BUILDERS[reminder.occasion](reminder, today or timezone.localdate())


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
    """Deliver a claimed reminder: (status, delivered)."""
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
    )
    if mode == Mode.EMAIL_AND_APP and user.email:
        _email(reminder, message)
        return Status.SENT, "email"
    return Status.SENT, "digest" if mode == Mode.WEEKLY_DIGEST else "app"


def reminder_claim(*, reminder_id: int, now: datetime) -> Reminder | None:
    """Claim a reminder for sending: pending, or sending but abandoned past the lease."""
    claimed = (
        Reminder.objects.filter(pk=reminder_id)
        .filter(
            Q(status=Status.PENDING) | Q(status=Status.SENDING, claimed_at__lt=now - CLAIM_LEASE)
        )
        .update(status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return None
    return Reminder.objects.select_related("recipient").get(pk=reminder_id)


def _finish(reminder: Reminder, **fields) -> None:
    for name, value in fields.items():
        setattr(reminder, name, value)
    reminder.save(update_fields=list(fields))


def reminder_send(*, reminder_id: int) -> Reminder | None:
    """Send one reminder if it is still to be sent; None when someone else has it or it
    was sent already. Raises DeliveryDeferred after a transient mail error (the row is
    pending again), until MAX_ATTEMPTS, when it is marked failed."""
    now = timezone.now()
    reminder = reminder_claim(reminder_id=reminder_id, now=now)
    if reminder is None:
        return None
    try:
        status, delivered = _deliver(reminder)
    except TRANSIENT_ERRORS as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if reminder.attempts >= MAX_ATTEMPTS:
            logger.error(
                "Reminder %s failed after %s attempts: %s", reminder.pk, reminder.attempts, error
            )
            _finish(reminder, status=Status.FAILED, last_error=error)
            return reminder
        countdown = retry_delay(reminder.attempts)
        _finish(
            reminder,
            status=Status.PENDING,
            last_error=error,
            queued_at=now + timedelta(seconds=countdown),
        )
        raise DeliveryDeferred(countdown) from exc
    except Exception as exc:
        logger.exception("Reminder %s could not be sent", reminder.pk)
        _finish(reminder, status=Status.FAILED, last_error=f"{type(exc).__name__}: {exc}"[:2000])
        return reminder
    _finish(
        reminder,
        status=status,
        delivered=delivered,
        sent_at=timezone.now() if status == Status.SENT else None,
        last_error="",
    )
    return reminder


def reminders_send_pending(*, ids: list[int] | None = None) -> list[Reminder]:
    """Send pending reminders in this process (the embedded setup without a worker, and
    `send_reminders`): the given ids, or every pending one. Transient failures stay pending
    for the next run."""
    if ids is None:
        ids = list(
            Reminder.objects.filter(status=Status.PENDING)
            .filter(Q(queued_at__isnull=True) | Q(queued_at__lte=timezone.now()))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    done = []
    for reminder_id in ids:
        try:
            reminder = reminder_send(reminder_id=reminder_id)
        except DeliveryDeferred:
            reminder = Reminder.objects.get(pk=reminder_id)
        if reminder is not None:
            done.append(reminder)
    return done


def describe(reminder: Reminder | Due, recipient=None) -> str:
    """One line for the command's output."""
    occasion = Occasion(reminder.occasion).label
    who = recipient or getattr(reminder, "recipient", None)
    name = (
        getattr(who, "email", "") or getattr(who, "username", "") or f"user {reminder.recipient_id}"
    )
    return f"{occasion:<26} to {name:<32} {reminder.key}"
