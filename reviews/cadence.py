"""The review cadence, from the seeds:

- new workloads (still in pre-production): a review before detailed design and one before
  production;
- existing workloads: every 6 to 12 months (`Workload.review_interval_months`, default 12),
  or after a significant architectural change;
- critical workloads: a full review every quarter, with monthly light reviews in between;
- after a major incident: a post-incident review within 2 weeks.

`cadence_for` describes a workload's cadence in words and numbers, `next_review_due` proposes
the next review, `cadence_plan_next` stores it on the workload (`next_review_due_on`, which
people may edit, and `next_review_kind`) as soon as a review's action plan is published, when
a review closes and when a workload is created, so a workload always knows its next review; `proposed_schedule` looks a few reviews
ahead, `post_incident_start` says when a post-incident review starts, and `cadence_update`
changes a workload's interval. The phase lengths of one review are here too.

A post-incident review does not reset the periodic clock: it looks at what the incident
showed, not at every pillar, so the next full (or light) review stays due when the cadence
says, counted from the last review that was not a post-incident one.

The rules only: `reviews.sessions` imports this module (to plan a session, to propose the
next review, to schedule a post-incident review), never the other way round.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from reviews.errors import ServiceError
from reviews.models import Phase, ReviewSession, SessionKind, Workload

# The phases of one review, from the seeds.
PREPARATION_DAYS = 14  # preparation takes one to two weeks
ANALYSIS_DAYS = 7  # analysis within a week of the review
ACTION_PLAN_DAYS = 14  # the action plan within two weeks after the analysis

INTERVAL_MIN_MONTHS = 6
INTERVAL_MAX_MONTHS = 12
DEFAULT_INTERVAL_MONTHS = 12
QUARTER_MONTHS = 3
LIGHT_REVIEW_MONTHS = 1
# No date is known for "before production": propose it this long after the design review.
NEW_PRODUCTION_MONTHS = 3
POST_INCIDENT_DAYS = 14
# A post-incident review starts at this local time.
POST_INCIDENT_START = time(10, 0)

# Phases in which the review itself has taken place.
HELD_PHASES = (Phase.ANALYSIS, Phase.ACTION_PLAN, Phase.FOLLOW_UP, Phase.CLOSED)


def phases_in_words() -> str:
    """The phases of one review and their planned lengths, in a sentence."""
    return (
        f"Each review: preparation starts {PREPARATION_DAYS // 7} weeks before it "
        "(documentation, current metrics, the right people), then the review itself (4 to 6 "
        f"hours), the analysis within {ANALYSIS_DAYS // 7} week, the action plan "
        f"within {ACTION_PLAN_DAYS // 7} weeks after that, then monthly follow-ups "
        "until every action is done."
    )


@dataclass(frozen=True)
class Cadence:
    """How often a workload is reviewed, in words and numbers."""

    category: str  # "new", "critical" or "periodic"
    label: str
    summary: str
    # Full reviews every so many months (None while a new workload is not live yet).
    interval_months: int | None
    # Light reviews between full ones (critical workloads: monthly).
    light_interval_months: int | None
    post_incident_days: int = POST_INCIDENT_DAYS

    @property
    def rules(self) -> list[str]:
        """The cadence as a few sentences, for the cadence page."""
        rules = [self.summary]
        if self.category == "new":
            rules.append(
                "Once it is in production it is reviewed every "
                f"{INTERVAL_MIN_MONTHS}–{INTERVAL_MAX_MONTHS} months (quarterly if critical)."
            )
        elif self.category == "periodic":
            rules.append("Review it again sooner after any significant architectural change.")
        rules.append(
            f"After a major incident: a post-incident review within {self.post_incident_days} days."
        )
        rules.append(phases_in_words())
        return rules


def cadence_for(workload: Workload) -> Cadence:
    if workload.environment == Workload.Environment.PREPRODUCTION:
        return Cadence(
            category="new",
            label="New workload",
            summary=(
                "A new workload is reviewed twice before it goes live: before detailed design "
                "and before production."
            ),
            interval_months=None,
            light_interval_months=None,
        )
    if workload.is_critical:
        return Cadence(
            category="critical",
            label="Critical workload",
            summary=(
                "A critical workload has a full review every quarter, with a light review "
                "every month in between."
            ),
            interval_months=QUARTER_MONTHS,
            light_interval_months=LIGHT_REVIEW_MONTHS,
        )
    months = workload.review_interval_months
    return Cadence(
        category="periodic",
        label="Existing workload",
        summary=f"An existing workload is reviewed every {months} months.",
        interval_months=months,
        light_interval_months=None,
    )


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


History = list[tuple[date, str]]


def review_history(workload: Workload) -> History:
    """The reviews held for a workload, oldest first, as (review day, session kind)."""
    sessions = (
        ReviewSession.objects.filter(
            workload=workload, phase__in=HELD_PHASES, review_starts_at__isnull=False
        )
        .order_by("review_starts_at")
        .values_list("review_starts_at", "kind")
    )
    return [(timezone.localdate(starts_at), kind) for starts_at, kind in sessions]


def _propose(workload: Workload, history: History, after: date) -> tuple[date, str]:
    """The next review after the reviews in `history`, never earlier than `after`. With no
    review held yet, the first one is due once a full preparation period has passed."""
    first_possible = after + timedelta(days=PREPARATION_DAYS)
    # A post-incident review leaves the clock alone (see the module's docstring).
    history = [(day, kind) for day, kind in history if kind != SessionKind.POST_INCIDENT]
    if workload.environment == Workload.Environment.PREPRODUCTION:
        kinds = {kind for _, kind in history}
        if not kinds & {SessionKind.NEW_DESIGN, SessionKind.NEW_PRODUCTION}:
            return first_possible, SessionKind.NEW_DESIGN
        if SessionKind.NEW_PRODUCTION not in kinds:
            design_day = max(day for day, kind in history if kind == SessionKind.NEW_DESIGN)
            return max(add_months(design_day, NEW_PRODUCTION_MONTHS), after), (
                SessionKind.NEW_PRODUCTION
            )
        # Both held and still not live: the regular cadence takes over.
    full = [day for day, kind in history if kind != SessionKind.MONTHLY_LIGHT]
    if workload.is_critical:
        if not full:
            return first_possible, SessionKind.CRITICAL_QUARTERLY
        anchor, last_held = full[-1], history[-1][0]
        for month in range(LIGHT_REVIEW_MONTHS, QUARTER_MONTHS, LIGHT_REVIEW_MONTHS):
            light = add_months(anchor, month)
            if light > after and light > last_held:
                return light, SessionKind.MONTHLY_LIGHT
        return max(add_months(anchor, QUARTER_MONTHS), after), SessionKind.CRITICAL_QUARTERLY
    if not full:
        return first_possible, SessionKind.PERIODIC
    return max(add_months(full[-1], workload.review_interval_months), after), SessionKind.PERIODIC


def next_review_due(workload: Workload, *, after: date) -> tuple[date, str]:
    """When the next review of `workload` is due, and its kind (a SessionKind value), from
    the cadence and the reviews held so far; never earlier than `after`."""
    return _propose(workload, review_history(workload), after)


def cadence_plan_next(*, workload: Workload, after: date) -> Workload:
    """Store the next review the cadence proposes on the workload: its date and kind."""
    due_on, kind = next_review_due(workload, after=after)
    workload.next_review_due_on = due_on
    workload.next_review_kind = kind
    workload.save(update_fields=["next_review_due_on", "next_review_kind", "updated_at"])
    return workload


@dataclass(frozen=True)
class ProposedReview:
    due_on: date
    kind: str

    @property
    def label(self) -> str:
        return SessionKind(self.kind).label

    @property
    def preparation_starts_on(self) -> date:
        return self.due_on - timedelta(days=PREPARATION_DAYS)


def proposed_schedule(workload: Workload, *, after: date, count: int = 4) -> list[ProposedReview]:
    """The next `count` reviews the cadence proposes, assuming each is held when due."""
    history = review_history(workload)
    proposals = []
    for _ in range(count):
        due_on, kind = _propose(workload, history, after)
        proposals.append(ProposedReview(due_on, kind))
        history = [*history, (due_on, kind)]
        after = due_on
    return proposals


def post_incident_start(occurred_on: date, *, today: date) -> datetime:
    """When a post-incident review starts: 10:00 local time on the last working day within
    POST_INCIDENT_DAYS of the incident, or, when that day has already passed, on the next
    working day from tomorrow."""
    day = occurred_on + timedelta(days=POST_INCIDENT_DAYS)
    while day.weekday() >= 5:  # Saturday, Sunday: the Friday before
        day -= timedelta(days=1)
    if day <= today:
        day = today + timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, POST_INCIDENT_START))


@transaction.atomic
def cadence_update(
    *, workload: Workload, review_interval_months: int, next_review_due_on: date | None
) -> Workload:
    """Change how often an existing workload is reviewed, and when the next review is due."""
    if not INTERVAL_MIN_MONTHS <= review_interval_months <= INTERVAL_MAX_MONTHS:
        raise ServiceError(
            f"Choose a review interval of {INTERVAL_MIN_MONTHS} to {INTERVAL_MAX_MONTHS} months."
        )
    workload.review_interval_months = review_interval_months
    workload.next_review_due_on = next_review_due_on
    workload.save(update_fields=["review_interval_months", "next_review_due_on", "updated_at"])
    return workload
