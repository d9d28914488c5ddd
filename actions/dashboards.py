"""Pages across workloads: the team dashboard, the actions a person owns, and the cost
findings across a person's teams."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict
from uuid import UUID

from django.contrib.auth.models import User
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from actions.models import ActionItem, ActionItemQuerySet, Finding
from questionnaires.models import FrameworkPillar
from questionnaires.risk import Risk
from reviews.models import Answer, Phase, ReviewSession, SessionKind, Team, Workload


class _DashboardCounts(TypedDict):
    latest_session_id: int | None
    latest_session_uuid: UUID | None
    high_count: int
    medium_count: int
    next_session_at: datetime | None
    overdue_count: int
    next_review: date | None
    next_review_is_session: bool
    next_review_kind_value: str | None
    next_review_label: str


if TYPE_CHECKING:
    from typing import TypeAlias

    from django_stubs_ext import WithAnnotations

    # A workload with its dashboard columns (see dashboard_workloads).
    DashboardWorkload: TypeAlias = WithAnnotations[Workload, _DashboardCounts]


def _latest_answered_session(field: str) -> Subquery:
    """`field` of the workload's latest session with at least one answered question."""
    answered = Answer.objects.filter(session=OuterRef("pk")).exclude(risk=Risk.UNANSWERED)
    return Subquery(
        ReviewSession.objects.filter(workload=OuterRef("pk"))
        .filter(Exists(answered))
        .order_by(F("review_starts_at").desc(nulls_last=True), "-created_at")
        .values(field)[:1]
    )


def _risk_count(risk: str) -> Coalesce:
    return Coalesce(
        Subquery(
            Answer.objects.filter(session_id=OuterRef("latest_session_id"), risk=risk)
            .order_by()
            .values("session_id")
            .annotate(n=Count("pk"))
            .values("n")[:1]
        ),
        Value(0),
    )


# Sortable dashboard columns: the field each sorts by (the next review is sorted in Python,
# as it comes from two places).
DASHBOARD_SORTS = {
    "name": "name",
    "team": "team__name",
    "high": "high_count",
    "medium": "medium_count",
    "next_review": None,
    "overdue": "overdue_count",
}
DASHBOARD_DEFAULT_SORT = "-high"


def dashboard_workloads(
    user: User, *, sort: str = DASHBOARD_DEFAULT_SORT
) -> tuple[QuerySet[DashboardWorkload], str]:
    """The workloads of the user's teams, each annotated with the high and medium risk
    counts of its latest answered session, the start of its next session and its overdue
    actions: one query. `sort` is a column of DASHBOARD_SORTS, "-" first for descending;
    returns the queryset and the sort applied."""
    upcoming = (
        ReviewSession.objects.filter(
            workload=OuterRef("pk"),
            review_starts_at__gte=timezone.now(),
            # A review moved past the review phase was held, whatever its date said.
            phase__in=(Phase.PREPARATION, Phase.REVIEW),
        )
        .order_by("review_starts_at")
        .values("review_starts_at")[:1]
    )
    overdue = (
        ActionItem.objects.overdue()
        .filter(workload=OuterRef("pk"))
        .order_by()
        .values("workload")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    workloads = (
        Workload.objects.for_user(user)
        .select_related("team", "owner")
        .annotate(
            latest_session_id=_latest_answered_session("pk"),
            latest_session_uuid=_latest_answered_session("uuid"),
        )
        .annotate(
            high_count=_risk_count(Risk.HIGH),
            medium_count=_risk_count(Risk.MEDIUM),
            next_session_at=Subquery(upcoming),
            next_session_kind=Subquery(upcoming.values("kind")),
            overdue_count=Coalesce(Subquery(overdue), Value(0)),
        )
        .annotate(
            # The next review: the next session's day, else the date the cadence proposed.
            next_review=Coalesce(
                TruncDate("next_session_at"), F("next_review_due_on"), output_field=DateField()
            ),
            next_review_is_session=ExpressionWrapper(
                Q(next_session_at__isnull=False), output_field=BooleanField()
            ),
            # And its kind (a SessionKind value), from the same place.
            next_review_kind_value=Coalesce(
                "next_session_kind", F("next_review_kind"), output_field=CharField()
            ),
        )
        .annotate(
            # The kind's display name (SessionKind's labels).
            next_review_label=Case(
                *(
                    When(next_review_kind_value=value, then=Value(str(label)))
                    for value, label in SessionKind.choices
                ),
                default=Value(""),
                output_field=CharField(),
            )
        )
    )
    if sort.lstrip("-") not in DASHBOARD_SORTS:
        sort = DASHBOARD_DEFAULT_SORT
    column = DASHBOARD_SORTS[sort.lstrip("-")]
    if column:
        primary = F(column).desc() if sort.startswith("-") else F(column).asc()
        workloads = workloads.order_by(primary, "name", "pk")
    else:
        workloads = workloads.order_by("name", "pk")
    return workloads, sort


def dashboard_rows(
    user: User, *, sort: str = DASHBOARD_DEFAULT_SORT
) -> tuple[list[DashboardWorkload], str]:
    """dashboard_workloads as a list; sorting by the next review (undated ones last, by
    name, whichever the direction) happens here."""
    workloads, sort = dashboard_workloads(user, sort=sort)
    rows = list(workloads)
    if sort.lstrip("-") == "next_review":
        dated = sorted((w for w in rows if w.next_review), key=lambda w: (w.next_review, w.name))
        if sort.startswith("-"):
            dated.reverse()
        rows = dated + sorted((w for w in rows if not w.next_review), key=lambda w: w.name)
    return rows, sort


MY_DUE_FILTERS = {
    "overdue": "Overdue",
    "week": "Due in the next 7 days",
    "month": "Due in the next 30 days",
    "none": "No due date",
}


def my_actions(user: User, *, statuses: Iterable[str] = (), due: str = "") -> ActionItemQuerySet:
    """The actions the user owns across the workloads of their teams, soonest due first.
    statuses: keep only these (all when empty); due: one of MY_DUE_FILTERS."""
    today = timezone.localdate()
    actions = (
        ActionItem.objects.for_user(user)
        .filter(owner=user)
        .select_related("workload__team", "session", "finding__question")
        .order_by(F("due_on").asc(nulls_last=True), "created_at")
    )
    statuses = [s for s in statuses if s in ActionItem.Status.values]
    if statuses:
        actions = actions.filter(status__in=statuses)
    if due == "overdue":
        actions = actions.overdue(today)
    elif due == "week":
        actions = actions.filter(due_on__gte=today, due_on__lte=today + timedelta(days=7))
    elif due == "month":
        actions = actions.filter(due_on__gte=today, due_on__lte=today + timedelta(days=30))
    elif due == "none":
        actions = actions.filter(due_on__isnull=True)
    return actions


# --- Cost findings ------------------------------------------------------------------------------------

COST = FrameworkPillar.COST


def _latest_session_with_findings_ids(
    user: User, team: Team | None = None
) -> QuerySet[Workload, dict[str, Any]]:
    """Per workload of the user's teams, its most recent session that has findings."""
    workloads = Workload.objects.for_user(user)
    if team is not None:
        workloads = workloads.filter(team=team)
    latest = Subquery(
        ReviewSession.objects.filter(workload=OuterRef("pk"))
        .filter(Exists(Finding.objects.filter(session=OuterRef("pk"))))
        .order_by(F("review_starts_at").desc(nulls_last=True), "-created_at")
        .values("pk")[:1]
    )
    ids: QuerySet[Workload, dict[str, Any]] = (
        workloads.annotate(latest=latest).exclude(latest=None).values("latest")
    )
    return ids


@dataclass
class CostOverview:
    findings: Sequence[Finding]
    actions: list[ActionItem]
    # (workload name, {currency: total}) and (status label, {currency: total})
    by_workload: list[tuple[str, dict[str, Decimal]]]
    by_status: list[tuple[str, dict[str, Decimal]]]
    totals: dict[str, Decimal]


def cost_overview(user: User, *, team: Team | None = None) -> CostOverview:
    """Every cost-optimisation finding (open, in each workload's latest session with
    findings) and every cost action (on a cost question, or with a monthly saving) across
    the user's teams, with estimated monthly savings totalled per workload and per status,
    by currency (never adding different currencies). Cancelled actions count in no total."""
    findings = list(
        Finding.objects.filter(
            session__in=_latest_session_with_findings_ids(user, team),
            question__pillar__framework_pillar=COST,
            resolved_at__isnull=True,
        )
        .select_related("session__workload__team", "question__pillar")
        .annotate(
            action_count=Count(
                "actions", filter=~Q(actions__status=ActionItem.Status.CANCELLED), distinct=True
            )
        )
        .order_by("session__workload__name", "pillar_rank", "risk", "question__order")
    )
    actions_qs = ActionItem.objects.for_user(user).filter(
        Q(question__pillar__framework_pillar=COST)
        | Q(finding__question__pillar__framework_pillar=COST)
        | Q(monthly_saving__isnull=False)
    )
    if team is not None:
        actions_qs = actions_qs.filter(workload__team=team)
    actions = list(
        actions_qs.select_related("workload__team", "owner", "session", "question")
        .distinct()
        .order_by("workload__name", F("due_on").asc(nulls_last=True), "created_at")
    )
    by_workload: dict[str, dict[str, Decimal]] = {}
    by_status: dict[str, dict[str, Decimal]] = {}
    totals: dict[str, Decimal] = {}
    for action in actions:
        if action.monthly_saving is None or action.status == ActionItem.Status.CANCELLED:
            continue
        for bucket in (
            by_workload.setdefault(action.workload.name, {}),
            by_status.setdefault(action.status, {}),
            totals,
        ):
            bucket[action.currency] = (
                bucket.get(action.currency, Decimal(0)) + action.monthly_saving
            )
    status_rows = [
        (label, by_status[value])
        for value, label in ActionItem.Status.choices
        if value in by_status
    ]
    return CostOverview(
        findings=findings,
        actions=actions,
        by_workload=sorted(by_workload.items()),
        by_status=status_rows,
        totals=dict(sorted(totals.items())),
    )
