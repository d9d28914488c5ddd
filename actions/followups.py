"""Monthly follow-ups of a published action plan.

Once a session's plan is published, a follow-up falls due each month (on the day of the month
it was published, moved to the Monday after when that is a Saturday or a Sunday), until every
action of the plan is done, cancelled or accepted as a risk, whether or not the review has
been closed meanwhile. The dispatcher creates each one a week before it is due
(`followups_schedule`); the facilitator, the workload owner and the owners of the plan's open
actions get a digest of where the actions stand on the day (`follow_up_recipients`), and the
facilitator is nudged a week later when it has not been held; the follow-up page opens with the
actions that are overdue or blocked, lets owners and the facilitator update status and
percent in place with a short note each (`followup_record`), and finishing it saves a
milestone and emails a summary to the participants (`followup_finish`), at once where it is
working time for them, else at their next working hour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from actions import items, milestones, sendtime
from actions.models import ActionItem, FollowUp, FollowUpNote, Occasion, Reminder
from reviews.access import SessionAccess, team_writes
from reviews.cadence import add_months
from reviews.errors import ServiceError
from reviews.jobs import job_queue
from reviews.models import Milestone, Participant, ParticipantRole, ReviewSession

# A follow-up is created (and shows on the page) this many days before it is due.
LEAD_DAYS = 7
# Follow-ups missed for longer than this (nothing ran) are not created after the fact: the
# next one is the current month's.
MISSED_DAYS = 7
NOTE_MAX_LENGTH = 1000


def working_day_from(day: date) -> date:
    """`day`, or the Monday after when it is a Saturday or a Sunday."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def follow_up_due_on(published_on: date, number: int) -> date:
    return working_day_from(add_months(published_on, number))


def followups_schedule(*, today: date) -> int:
    """Create the follow-ups due within LEAD_DAYS for every published plan that still has
    open actions. One query finds the sessions whose next follow-up may be due (the last one
    is at least four weeks old); returns how many follow-ups were created."""
    horizon = today + timedelta(days=LEAD_DAYS)
    latest = FollowUp.objects.filter(session=OuterRef("pk")).order_by("-number")
    open_actions = ActionItem.objects.filter(
        session=OuterRef("pk"), status__in=ActionItem.OPEN_STATUSES
    )
    candidates = (
        ReviewSession.objects.filter(
            plan_published_at__date__lte=horizon - timedelta(days=28),
        )
        .annotate(
            last_number=Subquery(latest.values("number")[:1]),
            last_due_on=Subquery(latest.values("due_on")[:1]),
        )
        .filter(Q(last_due_on__isnull=True) | Q(last_due_on__lte=horizon - timedelta(days=28)))
        .filter(Exists(open_actions))
        .values_list("pk", "plan_published_at", "last_number")
    )
    created = []
    for session_id, published_at, last_number in candidates:
        published_on = timezone.localdate(published_at)
        number = (last_number or 0) + 1
        while follow_up_due_on(published_on, number) < today - timedelta(days=MISSED_DAYS):
            number += 1
        due_on = follow_up_due_on(published_on, number)
        if due_on <= horizon:
            created.append(FollowUp(session_id=session_id, number=number, due_on=due_on))
    with transaction.atomic():
        FollowUp.objects.bulk_create(created, ignore_conflicts=True)
    return len(created)


def next_follow_up_due_on(session: ReviewSession) -> date | None:
    """When the next follow-up not created yet will fall due (None: no published plan, or
    nothing left open)."""
    if session.plan_published_at is None:
        return None
    if not ActionItem.objects.filter(session=session).open().exists():
        return None
    last = FollowUp.objects.filter(session=session).order_by("-number").first()
    published_on = timezone.localdate(session.plan_published_at)
    return follow_up_due_on(published_on, (last.number if last else 0) + 1)


# --- Who hears about a follow-up -------------------------------------------------------------


def follow_up_recipients(session_ids: list[int]) -> dict[int, set[int]]:
    """Who is reminded of each session's follow-ups: its facilitator, the workload owner and
    the owners of its open actions, {session id: user ids}; two queries."""
    recipients: dict[int, set[int]] = {pk: set() for pk in session_ids}
    for session_id, owner_id in ReviewSession.objects.filter(pk__in=session_ids).values_list(
        "pk", "workload__owner_id"
    ):
        if owner_id:
            recipients[session_id].add(owner_id)
    facilitators = Participant.objects.filter(
        session_id__in=session_ids, role=ParticipantRole.FACILITATOR
    ).values_list("session_id", "user_id")
    action_owners = (
        ActionItem.objects.open()
        .filter(session_id__in=session_ids, owner__isnull=False)
        .values_list("session_id", "owner_id")
    )
    for session_id, user_id in [*facilitators, *action_owners]:
        recipients[session_id].add(user_id)
    return recipients


def follow_up_series(session_ids: list[int]) -> dict[int, set[int]]:
    """Who hears of each session's follow-ups, once per workload: when a workload has
    several plans in follow-up (a post-incident review's beside the periodic one's), each
    person follows the newest plan that names them, so nobody gets two monthly series for
    the same workload. {session id: user ids}."""
    sessions = list(
        ReviewSession.objects.filter(pk__in=session_ids).values_list("pk", "workload_id")
    )
    workload_ids = {workload_id for _, workload_id in sessions}
    open_actions = ActionItem.objects.filter(
        session=OuterRef("pk"), status__in=ActionItem.OPEN_STATUSES
    )
    active = list(
        ReviewSession.objects.filter(workload_id__in=workload_ids, plan_published_at__isnull=False)
        .filter(Exists(open_actions))
        .order_by("-plan_published_at")
        .values_list("pk", "workload_id", "plan_published_at")
    )
    everyone = follow_up_recipients(list({pk for pk, _ in sessions} | {pk for pk, _, _ in active}))
    published = {pk: at for pk, _, at in active}
    result = {}
    for session_id, workload_id in sessions:
        mine = set(everyone.get(session_id, set()))
        since = published.get(session_id)
        for other_id, other_workload_id, other_published in active:
            newer = since is None or other_published > since
            if other_workload_id == workload_id and other_id != session_id and newer:
                mine -= everyone[other_id]
        result[session_id] = mine
    return result


# --- Where the actions stand -----------------------------------------------------------------


@dataclass
class Digest:
    """A plan's actions as they stand, and what moved since the previous follow-up."""

    overdue: list[ActionItem]
    blocked: list[ActionItem]
    open: list[ActionItem]
    closed: list[ActionItem]
    done_since: list[ActionItem]
    # (action, percent then, percent now) for open actions whose percent changed.
    moved: list[tuple[ActionItem, int, int]]
    since: date | None
    # True: `since` is the previous follow-up's due date; False: the plan's publication.
    since_previous: bool = False
    snapshot: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def attention(self) -> list[ActionItem]:
        """Overdue or blocked: what a follow-up starts with."""
        return self.overdue + self.blocked

    @property
    def open_count(self) -> int:
        return len(self.overdue) + len(self.blocked) + len(self.open)

    @property
    def headline(self) -> str:
        parts = [f"{self.open_count} open"]
        if self.overdue:
            parts.append(f"{len(self.overdue)} overdue")
        if self.blocked:
            parts.append(f"{len(self.blocked)} blocked")
        if self.done_since:
            parts.append(f"{len(self.done_since)} done since last month")
        return ", ".join(parts)


def plan_actions(session: ReviewSession) -> list[ActionItem]:
    return list(
        ActionItem.objects.filter(session=session)
        .select_related("owner", "workload")
        .order_by("due_on", "created_at", "pk")
    )


def _previous(follow_up: FollowUp) -> FollowUp | None:
    """The latest earlier follow-up of the same plan that recorded where actions stood."""
    for earlier in FollowUp.objects.filter(
        session_id=follow_up.session_id, number__lt=follow_up.number
    ).order_by("-number"):
        if earlier.snapshot:
            return earlier
    return None


def digest(follow_up: FollowUp, *, today: date, actions: list[ActionItem] | None = None) -> Digest:
    """Where the plan's actions stand, grouped for a follow-up, with what changed since the
    previous follow-up's snapshot (or, for the first, since the plan was published)."""
    session = follow_up.session
    actions = plan_actions(session) if actions is None else actions
    previous = _previous(follow_up)
    before = previous.snapshot if previous else {}
    if previous:
        since = previous.due_on
    elif session.plan_published_at:
        since = timezone.localdate(session.plan_published_at)
    else:
        since = None
    result = Digest([], [], [], [], [], [], since, since_previous=previous is not None)
    for action in actions:
        result.snapshot[str(action.pk)] = [action.status, action.percent_complete]
        then = before.get(str(action.pk))
        if not action.is_open:
            result.closed.append(action)
            if then is not None:
                if then[0] in ActionItem.OPEN_STATUSES:
                    result.done_since.append(action)
            elif action.completed_at and since and timezone.localdate(action.completed_at) >= since:
                result.done_since.append(action)
            continue
        if action.is_overdue(today):
            result.overdue.append(action)
        elif action.status == ActionItem.Status.BLOCKED:
            result.blocked.append(action)
        else:
            result.open.append(action)
        if then is not None and then[1] != action.percent_complete:
            result.moved.append((action, then[1], action.percent_complete))
    return result


@transaction.atomic
def digest_snapshot(*, follow_up: FollowUp, snapshot: dict[str, list[Any]]) -> None:
    """Record where the actions stood when the follow-up's digest went out (once)."""
    if not follow_up.snapshot:
        follow_up.snapshot = snapshot
        follow_up.save(update_fields=["snapshot"])


# --- Holding a follow-up ---------------------------------------------------------------------


def can_update(access: SessionAccess, action: ActionItem, user: User) -> bool:
    """The action's owner, the facilitator (or a team admin), and whoever may edit actions."""
    if not team_writes(access.membership) and not access.can_manage:
        return False  # team viewers and guests read
    return (
        access.can_manage
        or action.owner_id == user.pk
        or items.can_edit_action(action, access.membership, user)
    )


@transaction.atomic
def followup_record(
    *,
    follow_up: FollowUp,
    action: ActionItem,
    user: User,
    status: str,
    percent_complete: int,
    note: str = "",
) -> FollowUpNote:
    """Update an action's status and percent during a follow-up (through the action
    service, so the action's history records it) and keep a short note about it."""
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    if follow_up.is_held:
        raise ServiceError("This follow-up is finished: record changes in the next one.")
    if action.session_id != follow_up.session_id:
        raise ServiceError("That action belongs to another plan.")
    note = (note or "").replace("\r\n", "\n").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise items.ActionInvalid(
            "note", f"Keep the note to {NOTE_MAX_LENGTH:,} characters ({len(note):,})."
        )
    changes: dict[str, Any] = {}
    if status != action.status:
        changes["status"] = status
    if percent_complete != action.percent_complete:
        changes["percent_complete"] = percent_complete
    if changes:
        action = items.action_update(action=action, user=user, changes=changes)
    row, _ = FollowUpNote.objects.update_or_create(
        follow_up=follow_up,
        action=action,
        defaults={
            "note": note,
            "status_after": action.status,
            "percent_after": action.percent_complete,
            "by": user,
        },
    )
    return row


@transaction.atomic
def followup_finish(*, follow_up: FollowUp, user: User, note: str = "") -> FollowUp:
    """Finish a follow-up: save a milestone of the workload as it is now, and email a
    summary to the session's participants (queued once the transaction commits)."""
    follow_up = (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("session__workload")
        .get(pk=follow_up.pk)
    )
    if follow_up.is_held:
        raise ServiceError("This follow-up is already finished.")
    note = (note or "").replace("\r\n", "\n").strip()
    if len(note) > NOTE_MAX_LENGTH * 5:
        raise items.ActionInvalid(
            "note", f"Keep the summary to {NOTE_MAX_LENGTH * 5:,} characters ({len(note):,})."
        )
    session = follow_up.session
    today = timezone.localdate()
    milestone = milestones.milestone_create(
        workload=session.workload,
        session=session,
        user=user,
        kind=Milestone.Kind.FOLLOW_UP,
        name=f"Follow-up {follow_up.number} · {today.day} {today:%b %Y}",
    )
    follow_up.held_at = timezone.now()
    follow_up.held_by = user
    follow_up.note = note
    follow_up.milestone = milestone
    fields = ["held_at", "held_by", "note", "milestone"]
    if not follow_up.snapshot:
        follow_up.snapshot = digest(follow_up, today=today).snapshot
        fields.append("snapshot")
    follow_up.save(update_fields=fields)
    recipients = list(
        Participant.objects.filter(session=session, user__is_active=True)
        .values_list("user_id", flat=True)
        .order_by("user_id")
    )
    now = follow_up.held_at
    times = sendtime.working_times(recipients, team_id=session.workload.team_id, now=now)
    summaries = Reminder.objects.bulk_create(
        Reminder(
            key=f"follow_up_summary:{follow_up.pk}:{user_id}",
            occasion=Occasion.FOLLOW_UP_SUMMARY,
            recipient_id=user_id,
            payload={"follow_up": follow_up.pk},
            due_at=times[user_id],
            next_attempt_at=times[user_id],
            queued_at=now if times[user_id] <= now else None,
        )
        for user_id in recipients
    )
    # Those whose working day has ended (or not begun) get it at their next working hour:
    # the job sweep sends it then.
    job_queue(Reminder, [reminder.pk for reminder in summaries if reminder.queued_at])
    return follow_up
