"""What is due: one set-based query per occasion finds who is due which reminder today,
as (recipient, occasion, key, payload). `actions.reminders` inserts them and sends them.

Occasions and keys (the key says what makes a reminder recur):
- phase start: the people who act in a phase, once, from the day it starts while it lasts
  (so whoever joins later hears too): preparation (from its start date until the review) to
  every participant but observers; analysis to the raters (workload owner and finance rate
  business impact, operations and security technical effort); the action plan (until it is
  published) to the facilitator and the workload owner. Observers get only the invitation
  and the recap.                                       phase_start:<session>:<phase>:<user>
- preparation: participants (not observers) with an incomplete checklist, 7 days before the review (sent up
  to 3 days before if missed) and 2 days before;     preparation:<session>:<user>:<day>:<n>d
- review tomorrow: every participant but observers, the day before;  review_tomorrow:<session>:<user>:<day>
- analysis / action plan due: the facilitator, on the due date (or up to a week later if
  missed), while the session has not moved past it;    analysis_due:<session>:<user>:<date>
- action due: the owner, 7 days before (down to 2) and 1 day before (or on the day);
                                                       action_due:<action>:<user>:<date>:<n>d
- action overdue: one email per person bundling their overdue actions, the day after a due
  date and then weekly while it stays open, untouched and not blocked; a change to the action
  (status, percent, due date...) restarts its weekly clock from that day; once overdue for the
  team's `overdue_escalation_weeks`, its review's facilitator gets it in their bundle too;
                                                       action_overdue:<user>:<latest week start>
- actions blocked: the facilitators of plans with blocked actions, once a week (a blocked
  action pauses its owner's overdue reminders);      actions_blocked:<user>:<ISO week>
- follow-up digest: the facilitator, the workload owner and the owners of the plan's open
  actions, when a monthly follow-up falls due (one series per workload per person, see
  `followups.follow_up_series`);                      follow_up_digest:<follow-up>:<user>
- follow-up not held: the facilitator, a week after a follow-up fell due while it is not
  held;                                                 follow_up_nudge:<follow-up>:<user>
- next review due: the workload owner and the last review's facilitator, 14 days before
  and on the day, unless a review is planned or under way (held, its plan not published:
  publishing sets the next date);  next_review_due:<workload>:<user>:<date>:<when>
- risk acceptance expiring: who accepted it and the workload owner, 14 days before;
                                                       risk_expiring:<finding>:<user>:<date>
- follow-up summary: the participants, when a follow-up is finished (actions/followups.py).
- weekly digest: what people chose to receive weekly, each Monday (`digests_dispatch`).

The queries leave the models' default ordering out (`order_by()`): nothing here depends on
it, and its joins cost every sweep (and made a DISTINCT keep one row per ordering column).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone

from actions.followups import follow_up_series
from actions.models import ActionItem, Finding, FollowUp, Occasion
from reviews.models import Participant, ParticipantRole, Phase, ReviewSession, Workload

PREPARATION_NOTICES = (7, 2)  # days before the review
ACTION_DUE_NOTICES = (7, 1)  # days before the due date
NEXT_REVIEW_NOTICE_DAYS = 14
RISK_NOTICE_DAYS = 14
# A due-date reminder missed (the dispatcher was down) is still sent this many days later.
CATCH_UP_DAYS = 7
# A follow-up not held this many days after it fell due: its facilitator is nudged.
FOLLOW_UP_NUDGE_DAYS = 7


# The team of a session's workload, asked for in the same query as the rest of a row.
TEAM = "session__workload__team_id"


def day_start(day: date) -> datetime:
    """Midnight at the start of `day`, local time."""
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass(frozen=True)
class Due:
    recipient_id: int
    occasion: str
    key: str
    payload: dict[str, Any]
    # The team whose hour and working days the reminder keeps (actions/sendtime.py).
    team_id: int | None = None


# Who acts in each phase a start is announced for (see the module's docstring).
PHASE_ROLES = {
    Phase.PREPARATION: [r for r in ParticipantRole.values if r != ParticipantRole.OBSERVER],
    Phase.ANALYSIS: [
        ParticipantRole.WORKLOAD_OWNER,
        ParticipantRole.FINANCE,
        ParticipantRole.OPERATIONS,
        ParticipantRole.SECURITY,
    ],
    Phase.ACTION_PLAN: [ParticipantRole.FACILITATOR, ParticipantRole.WORKLOAD_OWNER],
}


def _phase_start(today: date) -> Iterator[Due]:
    preparing = Q(
        session__phase=Phase.PREPARATION,
        session__preparation_starts_on__lte=today,
        session__review_starts_at__gte=day_start(today + timedelta(days=1)),
        role__in=PHASE_ROLES[Phase.PREPARATION],
    )
    analysing = Q(session__phase=Phase.ANALYSIS, role__in=PHASE_ROLES[Phase.ANALYSIS])
    planning = Q(
        session__phase=Phase.ACTION_PLAN,
        session__plan_published_at__isnull=True,
        role__in=PHASE_ROLES[Phase.ACTION_PLAN],
    )
    rows = (
        Participant.objects.filter(preparing | analysing | planning)
        .order_by()
        .values_list("user_id", "session_id", "session__phase", TEAM)
    )
    for user_id, session_id, phase, team_id in rows:
        yield Due(
            user_id,
            Occasion.PHASE_START,
            f"phase_start:{session_id}:{phase}:{user_id}",
            {"session": session_id, "phase": phase},
            team_id,
        )


def _preparation(today: date) -> Iterator[Due]:
    early, late = PREPARATION_NOTICES
    rows = (
        Participant.objects.exclude(role=ParticipantRole.OBSERVER)
        .filter(
            session__phase=Phase.PREPARATION,
            session__review_starts_at__gte=day_start(today + timedelta(days=late)),
            session__review_starts_at__lt=day_start(today + timedelta(days=early + 1)),
        )
        .exclude(read_documentation=True, brought_metrics=True, confirmed_attendance=True)
        .order_by()
        .values_list("user_id", "session_id", "session__review_starts_at", TEAM)
    )
    for user_id, session_id, starts_at, team_id in rows:
        review_on = timezone.localdate(starts_at)
        notice = early if (review_on - today).days > late else late
        yield Due(
            user_id,
            Occasion.PREPARATION,
            f"preparation:{session_id}:{user_id}:{review_on}:{notice}d",
            {"session": session_id, "review_on": review_on.isoformat(), "notice": notice},
            team_id,
        )


def _review_tomorrow(today: date) -> Iterator[Due]:
    tomorrow = today + timedelta(days=1)
    rows = (
        Participant.objects.exclude(role=ParticipantRole.OBSERVER)
        .filter(
            session__phase__in=[Phase.PREPARATION, Phase.REVIEW],
            session__review_starts_at__gte=day_start(tomorrow),
            session__review_starts_at__lt=day_start(tomorrow + timedelta(days=1)),
        )
        .order_by()
        .values_list("user_id", "session_id", TEAM)
    )
    for user_id, session_id, team_id in rows:
        yield Due(
            user_id,
            Occasion.REVIEW_TOMORROW,
            f"review_tomorrow:{session_id}:{user_id}:{tomorrow}",
            {"session": session_id, "review_on": tomorrow.isoformat()},
            team_id,
        )


def _analysis_due(today: date) -> Iterator[Due]:
    rows = (
        Participant.objects.filter(
            role=ParticipantRole.FACILITATOR,
            session__phase__in=[Phase.REVIEW, Phase.ANALYSIS],
            session__analysis_due_on__range=(today - timedelta(days=CATCH_UP_DAYS), today),
        )
        .order_by()
        .values_list("user_id", "session_id", "session__analysis_due_on", TEAM)
    )
    for user_id, session_id, due_on, team_id in rows:
        yield Due(
            user_id,
            Occasion.ANALYSIS_DUE,
            f"analysis_due:{session_id}:{user_id}:{due_on}",
            {"session": session_id, "due_on": str(due_on)},
            team_id,
        )


def _action_plan_due(today: date) -> Iterator[Due]:
    rows = (
        Participant.objects.filter(
            role=ParticipantRole.FACILITATOR,
            session__phase__in=[Phase.REVIEW, Phase.ANALYSIS, Phase.ACTION_PLAN],
            session__plan_published_at__isnull=True,
            session__action_plan_due_on__range=(today - timedelta(days=CATCH_UP_DAYS), today),
        )
        .order_by()
        .values_list("user_id", "session_id", "session__action_plan_due_on", TEAM)
    )
    for user_id, session_id, due_on, team_id in rows:
        yield Due(
            user_id,
            Occasion.ACTION_PLAN_DUE,
            f"action_plan_due:{session_id}:{user_id}:{due_on}",
            {"session": session_id, "due_on": str(due_on)},
            team_id,
        )


def _action_due(today: date) -> Iterator[Due]:
    early, late = ACTION_DUE_NOTICES
    rows = (
        ActionItem.objects.open()
        .filter(owner__isnull=False, due_on__range=(today, today + timedelta(days=early)))
        .order_by()
        .values_list("pk", "owner_id", "due_on", "workload__team_id")
    )
    for action_id, owner_id, due_on, team_id in rows:
        assert due_on is not None  # the range above leaves no undated action
        notice = early if (due_on - today).days > late else late
        yield Due(
            owner_id,
            Occasion.ACTION_DUE,
            f"action_due:{action_id}:{owner_id}:{due_on}:{notice}d",
            {"action": action_id, "due_on": str(due_on), "notice": notice},
            team_id,
        )


def _overdue_week_start(today: date, due_on: date, changed_on: date) -> tuple[date, int] | None:
    """When the current week of an overdue action's reminders started, and how many weeks
    it has been overdue (None: changed less than a week ago, nothing yet)."""
    weeks_overdue = ((today - due_on).days - 1) // 7
    if changed_on > due_on:
        # Changed since it fell due: the weekly clock starts again from that day.
        week = (today - changed_on).days // 7
        if week < 1:
            return None
        return changed_on + timedelta(days=7 * week), weeks_overdue
    return due_on + timedelta(days=1 + 7 * weeks_overdue), weeks_overdue


def _action_overdue(today: date) -> Iterator[Due]:
    """One reminder per person bundling what is overdue, keyed by the latest day an action's
    weekly reminder fell due: a new action overdue, or a new week of one, brings a new email
    with all of them; an action done or blocked meanwhile brings none. Blocked actions pause
    (their facilitator hears of them, `_actions_blocked`); an action overdue for the team's
    `overdue_escalation_weeks` is escalated to its review's facilitators."""
    facilitators = Participant.objects.filter(
        session=OuterRef("session"), role=ParticipantRole.FACILITATOR
    ).values("user_id")[:1]
    rows = (
        ActionItem.objects.overdue(today)
        .exclude(status=ActionItem.Status.BLOCKED)
        .filter(owner__isnull=False)
        .annotate(changed_on=TruncDate("updated_at"), facilitator_id=Subquery(facilitators))
        .order_by()
        .values_list(
            "owner_id",
            "due_on",
            "changed_on",
            "facilitator_id",
            "workload__team__overdue_escalation_weeks",
            "workload__team_id",
        )
    )
    latest: dict[int, date] = {}
    teams: dict[int, int] = {}
    for owner_id, due_on, changed_on, facilitator_id, escalate_after, team_id in rows:
        assert due_on is not None  # overdue() leaves no undated action
        started = _overdue_week_start(today, due_on, changed_on)
        if started is None:
            continue
        week_start, weeks_overdue = started
        recipients = [owner_id]
        if facilitator_id and facilitator_id != owner_id and weeks_overdue >= escalate_after:
            recipients.append(facilitator_id)
        for user_id in recipients:
            latest[user_id] = max(latest.get(user_id, week_start), week_start)
            teams[user_id] = min(teams.get(user_id, team_id), team_id)
    for user_id, since in sorted(latest.items()):
        yield Due(
            user_id,
            Occasion.ACTION_OVERDUE,
            f"action_overdue:{user_id}:{since}",
            {"since": since.isoformat()},
            teams[user_id],
        )


def _actions_blocked(today: date) -> Iterator[Due]:
    """The facilitators of plans with blocked actions, once a week (ISO week)."""
    year, week, _ = today.isocalendar()
    rows = (
        Participant.objects.filter(
            role=ParticipantRole.FACILITATOR,
            session__actions__status=ActionItem.Status.BLOCKED,
        )
        .order_by()
        .values_list("user_id", TEAM)
        .distinct()
    )
    teams: dict[int, int] = {}
    for user_id, team_id in rows:
        teams[user_id] = min(teams.get(user_id, team_id), team_id)
    for user_id, team_id in sorted(teams.items()):
        yield Due(
            user_id,
            Occasion.ACTIONS_BLOCKED,
            f"actions_blocked:{user_id}:{year}-W{week:02d}",
            {"week": f"{year}-W{week:02d}"},
            team_id,
        )


def _follow_up_digest(today: date) -> Iterator[Due]:
    rows = list(
        FollowUp.objects.filter(
            held_at__isnull=True, due_on__range=(today - timedelta(days=CATCH_UP_DAYS), today)
        )
        .order_by()
        .values_list("pk", "session_id", TEAM)
    )
    if not rows:
        return
    series = follow_up_series([session_id for _, session_id, _ in rows])
    for follow_up_id, session_id, team_id in rows:
        for user_id in sorted(series[session_id]):
            yield Due(
                user_id,
                Occasion.FOLLOW_UP_DIGEST,
                f"follow_up_digest:{follow_up_id}:{user_id}",
                {"follow_up": follow_up_id},
                team_id,
            )


def _follow_up_nudge(today: date) -> Iterator[Due]:
    first = today - timedelta(days=FOLLOW_UP_NUDGE_DAYS + CATCH_UP_DAYS)
    rows = (
        Participant.objects.filter(
            role=ParticipantRole.FACILITATOR,
            session__follow_ups__held_at__isnull=True,
            session__follow_ups__due_on__range=(
                first,
                today - timedelta(days=FOLLOW_UP_NUDGE_DAYS),
            ),
        )
        .order_by()
        .values_list("user_id", "session__follow_ups__pk", TEAM)
    )
    for user_id, follow_up_id, team_id in rows:
        yield Due(
            user_id,
            Occasion.FOLLOW_UP_NUDGE,
            f"follow_up_nudge:{follow_up_id}:{user_id}",
            {"follow_up": follow_up_id},
            team_id,
        )


def _next_review_due(today: date) -> Iterator[Due]:
    # A review planned, or held and not yet published (publishing sets the next date).
    under_way = ReviewSession.objects.filter(
        workload=OuterRef("pk"),
        phase__in=[Phase.PREPARATION, Phase.REVIEW, Phase.ANALYSIS, Phase.ACTION_PLAN],
        plan_published_at__isnull=True,
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
        .exclude(Exists(under_way))
        .annotate(facilitator_id=Subquery(last_facilitator))
        .order_by()
        .values_list("pk", "owner_id", "facilitator_id", "next_review_due_on", "team_id")
    )
    for workload_id, owner_id, facilitator_id, due_on, team_id in rows:
        when = "due" if due_on <= today else f"{NEXT_REVIEW_NOTICE_DAYS}d"
        for user_id in {owner_id, facilitator_id} - {None}:
            yield Due(
                user_id,
                Occasion.NEXT_REVIEW_DUE,
                f"next_review_due:{workload_id}:{user_id}:{due_on}:{when}",
                {"workload": workload_id, "due_on": str(due_on)},
                team_id,
            )


def _risk_expiring(today: date) -> Iterator[Due]:
    rows = (
        Finding.objects.filter(
            accepted_at__isnull=False,
            resolved_at__isnull=True,
            accepted_until__range=(today, today + timedelta(days=RISK_NOTICE_DAYS)),
        )
        .order_by()
        .values_list("pk", "accepted_by_id", "session__workload__owner_id", "accepted_until", TEAM)
    )
    for finding_id, accepted_by_id, owner_id, until, team_id in rows:
        for user_id in {accepted_by_id, owner_id} - {None}:
            yield Due(
                user_id,
                Occasion.RISK_EXPIRING,
                f"risk_expiring:{finding_id}:{user_id}:{until}",
                {"finding": finding_id, "until": str(until)},
                team_id,
            )


OCCASIONS: tuple[Callable[[date], Iterator[Due]], ...] = (
    _phase_start,
    _preparation,
    _review_tomorrow,
    _analysis_due,
    _action_plan_due,
    _action_due,
    _action_overdue,
    _actions_blocked,
    _follow_up_digest,
    _follow_up_nudge,
    _next_review_due,
    _risk_expiring,
)


def due_reminders(*, today: date) -> Iterator[Due]:
    """Everything due on `today`, whether or not it was sent already."""
    for occasion in OCCASIONS:
        yield from occasion(today)
