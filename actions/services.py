"""What a review produces: findings and their prioritisation, action items, the published
plan, milestones, and the queries behind the dashboards. Each write is one transaction."""

from __future__ import annotations

import calendar
import importlib.util
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import dateformat, timezone

from actions.charts import MatrixPoint, quadrant_for
from actions.models import ActionChange, ActionComment, ActionItem, Finding, PlanRecap, Rating
from questionnaires.models import Choice, FrameworkPillar, Risk
from reviews.emails import absolute_url, send_email
from reviews.models import (
    Answer,
    AnswerChoice,
    ChoiceNotApplicable,
    Membership,
    Milestone,
    ParkingLotItem,
    Participant,
    ParticipantRole,
    Phase,
    ReviewSession,
    SessionLens,
    Workload,
)
from reviews.services import ServiceError

RISKY = (Risk.HIGH, Risk.MEDIUM)
# Pillars of custom lenses that map to no framework pillar come after all six.
OTHER_PILLAR_RANK = len(FrameworkPillar.values)
# Phases in which the analysis and the plan are worked on; closed reviews are read-only.
WORKING_PHASES = (Phase.ANALYSIS, Phase.ACTION_PLAN, Phase.FOLLOW_UP)
BEFORE_ANALYSIS = (Phase.PREPARATION, Phase.REVIEW)


def _today() -> date:
    return timezone.localdate()


# --- Findings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncResult:
    created: int = 0
    updated: int = 0
    resolved: int = 0


def _risky_answers(session: ReviewSession) -> dict[int, tuple[str, int]]:
    """question id -> (risk, pillar rank) for every high or medium risk answer."""
    rank = session.workload.pillar_rank()
    rows = Answer.objects.filter(session=session, risk__in=RISKY).values_list(
        "question_id", "risk", "question__pillar__framework_pillar"
    )
    return {qid: (risk, rank.get(pillar, OTHER_PILLAR_RANK)) for qid, risk, pillar in rows}


@transaction.atomic
def findings_sync(*, session: ReviewSession) -> SyncResult:
    """Make the session's findings match its answers: every high or medium risk answer has
    a finding (risk and pillar rank kept current); a finding whose answer is no longer high
    or medium is marked resolved, and comes back if the risk returns. A constant number of
    queries whatever the size of the questionnaire; running it again changes nothing."""
    wanted = _risky_answers(session)
    now = timezone.now()
    existing = {
        f.question_id: f for f in Finding.objects.select_for_update().filter(session=session)
    }
    new = [
        Finding(session=session, question_id=qid, risk=risk, pillar_rank=rank)
        for qid, (risk, rank) in wanted.items()
        if qid not in existing
    ]
    Finding.objects.bulk_create(new, ignore_conflicts=True)
    changed = []
    for qid, finding in existing.items():
        if qid in wanted:
            risk, rank = wanted[qid]
            if (finding.risk, finding.pillar_rank, finding.resolved_at) != (risk, rank, None):
                finding.risk, finding.pillar_rank, finding.resolved_at = risk, rank, None
                finding.updated_at = now
                changed.append(finding)
    Finding.objects.bulk_update(changed, ["risk", "pillar_rank", "resolved_at", "updated_at"])
    gone = [f.pk for qid, f in existing.items() if qid not in wanted and f.resolved_at is None]
    if gone:
        Finding.objects.filter(pk__in=gone).update(resolved_at=now, updated_at=now)
    return SyncResult(created=len(new), updated=len(changed), resolved=len(gone))


def findings_ordered(session: ReviewSession) -> QuerySet[Finding]:
    """The session's open findings in priority order: the workload's pillar priority, then
    high before medium, then the lens order of the session, then questionnaire order."""
    lens_order = SessionLens.objects.filter(
        session=OuterRef("session"), lens=OuterRef("question__pillar__lens")
    ).values("order")[:1]
    return (
        Finding.objects.filter(session=session, resolved_at__isnull=True)
        .select_related("question__pillar__lens", "accepted_by")
        .annotate(
            lens_order=Subquery(lens_order),
            risk_order=Case(When(risk=Risk.HIGH, then=0), default=1, output_field=IntegerField()),
        )
        .order_by(
            "pillar_rank",
            "risk_order",
            "lens_order",
            "question__pillar__order",
            "question__order",
        )
    )


def findings_preview(session: ReviewSession) -> list[Finding]:
    """The findings the answers would give, unsaved: shown read-only before the analysis."""
    wanted = _risky_answers(session)
    lens_order = dict(SessionLens.objects.filter(session=session).values_list("lens_id", "order"))
    answers = (
        Answer.objects.filter(session=session, question_id__in=wanted)
        .select_related("question__pillar__lens")
        .order_by()
    )
    findings = [
        Finding(
            session=session,
            question=answer.question,
            risk=wanted[answer.question_id][0],
            pillar_rank=wanted[answer.question_id][1],
        )
        for answer in answers
    ]
    findings.sort(
        key=lambda f: (
            f.pillar_rank,
            0 if f.risk == Risk.HIGH else 1,
            lens_order.get(f.question.pillar.lens_id, 0),
            f.question.pillar.order,
            f.question.order,
        )
    )
    return findings


@dataclass
class Position:
    """Where a finding sits on the impact × effort matrix."""

    impact_ratings: list[Rating]
    effort_ratings: list[Rating]
    impact_override: int | None = None
    effort_override: int | None = None

    @property
    def impact_median(self) -> float | None:
        return _median(self.impact_ratings)

    @property
    def effort_median(self) -> float | None:
        return _median(self.effort_ratings)

    @property
    def impact(self) -> float | None:
        return self.impact_override if self.impact_override is not None else self.impact_median

    @property
    def effort(self) -> float | None:
        return self.effort_override if self.effort_override is not None else self.effort_median

    @property
    def moved(self) -> bool:
        return self.impact_override is not None or self.effort_override is not None

    @property
    def quadrant(self) -> str:
        return quadrant_for(self.impact, self.effort)

    @property
    def quadrant_label(self) -> str:
        return Finding.Quadrant(self.quadrant).label


def _median(ratings: list[Rating]) -> float | None:
    if not ratings:
        return None
    value = statistics.median(r.value for r in ratings)
    return int(value) if value == int(value) else float(value)


def finding_position(finding: Finding) -> Position:
    """The finding's position: the median of each kind of rating, unless the facilitator
    moved it on that axis. Uses finding.ratings.all(), so prefetch them for lists."""
    ratings = list(finding.ratings.all()) if finding.pk else []
    ratings.sort(key=lambda r: (r.user.get_full_name() or r.user.username).lower())
    return Position(
        impact_ratings=[r for r in ratings if r.kind == Rating.Kind.IMPACT],
        effort_ratings=[r for r in ratings if r.kind == Rating.Kind.EFFORT],
        impact_override=finding.impact_override,
        effort_override=finding.effort_override,
    )


@dataclass
class Practice:
    """A best practice not in place: an unselected choice of the finding's question."""

    choice: Choice
    action: ActionItem | None = None

    @property
    def links(self) -> list[tuple[str, str]]:
        return practice_links(self.choice)


def practice_links(choice: Choice) -> list[tuple[str, str]]:
    """The improvement link and any additional resources (AWS lens format), http(s) only."""
    links: list[tuple[str, str]] = []
    if choice.improvement_url:
        links.append(("Improvement guidance", choice.improvement_url))
    for resource in choice.additional_resources or []:
        contents = resource.get("content", []) if isinstance(resource, dict) else []
        for item in contents if isinstance(contents, list) else []:
            url = item.get("url", "") if isinstance(item, dict) else ""
            if _is_http_url(url) and url not in dict(links).values():
                links.append((str(item.get("displayText") or "Resource")[:120], url))
    return links


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url or "")
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def missing_practices(session: ReviewSession, question_ids: Iterable[int]) -> dict[int, list]:
    """question id -> its choices neither selected nor marked not applicable in the session
    (never "None of these")."""
    question_ids = list(question_ids)
    selected = set(
        AnswerChoice.objects.filter(
            answer__session=session, answer__question_id__in=question_ids
        ).values_list("answer__question_id", "choice_id")
    ) | set(
        ChoiceNotApplicable.objects.filter(
            answer__session=session, answer__question_id__in=question_ids
        ).values_list("answer__question_id", "choice_id")
    )
    result: dict[int, list[Choice]] = defaultdict(list)
    choices = Choice.objects.filter(question_id__in=question_ids, is_none_of_these=False)
    for choice in choices.order_by("question_id", "order"):
        if (choice.question_id, choice.pk) not in selected:
            result[choice.question_id].append(choice)
    return result


@dataclass
class FindingInfo:
    """A finding with everything the analysis page, the plan and the PDF show about it."""

    finding: Finding
    position: Position
    practices: list[Practice] = field(default_factory=list)
    actions: list[ActionItem] = field(default_factory=list)
    number: int | None = None  # its number on the matrix; None when accepted as a risk
    my_ratings: dict[str, int] = field(default_factory=dict)

    @property
    def is_accepted(self) -> bool:
        return self.finding.accepted_at is not None


def analysis_findings(
    session: ReviewSession, *, user=None, saved: bool = True
) -> list[FindingInfo]:
    """The session's open findings in priority order, with ratings, position, missing best
    practices and actions. saved=False gives the unsaved preview (before the analysis).
    Findings accepted as a risk come last and are not numbered on the matrix."""
    if saved:
        ratings = Rating.objects.select_related("user")
        findings = list(findings_ordered(session).prefetch_related(Prefetch("ratings", ratings)))
    else:
        findings = findings_preview(session)
    practices = missing_practices(session, [f.question_id for f in findings])
    actions_by_finding: dict[int, list[ActionItem]] = defaultdict(list)
    if saved and findings:
        for action in (
            ActionItem.objects.filter(finding__in=[f.pk for f in findings])
            .exclude(status=ActionItem.Status.CANCELLED)
            .select_related("owner")
            .order_by("created_at")
        ):
            actions_by_finding[action.finding_id].append(action)
    infos = []
    for finding in findings:
        actions = actions_by_finding.get(finding.pk, [])
        by_choice = {a.choice_id: a for a in actions if a.choice_id}
        info = FindingInfo(
            finding=finding,
            position=finding_position(finding),
            practices=[
                Practice(choice=c, action=by_choice.get(c.pk))
                for c in practices.get(finding.question_id, [])
            ],
            actions=actions,
        )
        if user is not None and finding.pk:
            info.my_ratings = {
                r.kind: r.value for r in finding.ratings.all() if r.user_id == user.pk
            }
        infos.append(info)
    infos.sort(key=lambda i: i.is_accepted)  # stable: priority order kept within each group
    for number, info in enumerate((i for i in infos if not i.is_accepted), start=1):
        info.number = number
    return infos


def matrix_points(infos: list[FindingInfo]) -> list[MatrixPoint]:
    """The matrix's points, numbered like the findings (accepted risks left out)."""
    return [
        MatrixPoint(
            key=str(info.finding.uuid),
            label=info.finding.question.title,
            impact=info.position.impact,
            effort=info.position.effort,
            risk=info.finding.risk,
            url=f"#finding-{info.finding.uuid}",
        )
        for info in infos
        if not info.is_accepted
    ]


def session_matrix_points(session: ReviewSession) -> list[MatrixPoint]:
    """The session's impact × effort matrix points (for the PDF and emails)."""
    points = matrix_points(analysis_findings(session))
    for point in points:
        point.url = ""
    return points


def quadrant_counts(infos: list[FindingInfo]) -> list[tuple[str, str, int]]:
    """(quadrant, label, count) for every quadrant, accepted risks left out."""
    counts = Counter(info.position.quadrant for info in infos if not info.is_accepted)
    return [(q.value, q.label, counts.get(q.value, 0)) for q in Finding.Quadrant]


# --- Who may do what in the analysis ---------------------------------------------------------------

IMPACT_ROLES = frozenset({ParticipantRole.WORKLOAD_OWNER, ParticipantRole.FINANCE})
EFFORT_ROLES = frozenset(
    {ParticipantRole.OPERATIONS, ParticipantRole.SECURITY, ParticipantRole.NOTE_TAKER}
)


@dataclass(frozen=True)
class AnalysisRights:
    """What one person may do on a session's analysis and plan pages."""

    read_only_reason: str = ""
    rate_kinds: frozenset[str] = frozenset()
    can_move: bool = False
    can_accept: bool = False
    can_create_actions: bool = False
    can_publish: bool = False
    can_sync: bool = False

    @property
    def can_rate(self) -> bool:
        return bool(self.rate_kinds)


def analysis_rights(access, *, user) -> AnalysisRights:
    """Ratings: participants who are the workload owner or finance rate business impact;
    operations, security and the note-taker rate technical effort; the facilitator both.
    The facilitator (or a team admin standing in) moves findings on the matrix, syncs the
    findings and publishes the plan. Accepting a risk: the facilitator, a team admin or the
    workload's owner. Action items: team admins and members. Observers and team viewers
    read only, and everything is read-only outside analysis, action plan and follow-up."""
    session, membership, participant = access.session, access.membership, access.participant
    if session.phase == Phase.CLOSED:
        return AnalysisRights(read_only_reason="This review is closed: its analysis is read-only.")
    if session.phase in BEFORE_ANALYSIS:
        return AnalysisRights(
            read_only_reason="Findings are computed when the review moves to analysis; until "
            "then this page shows what the current answers would give, read-only."
        )
    if membership.role == Membership.Role.VIEWER:
        return AnalysisRights(
            read_only_reason="You are a viewer in this team: you can read the analysis."
        )
    if participant is not None and participant.role == ParticipantRole.OBSERVER:
        return AnalysisRights(
            read_only_reason="You observe this review: you can read the analysis."
        )
    role = participant.role if participant else None
    kinds = set()
    if role in IMPACT_ROLES or role == ParticipantRole.FACILITATOR:
        kinds.add(Rating.Kind.IMPACT.value)
    if role in EFFORT_ROLES or role == ParticipantRole.FACILITATOR:
        kinds.add(Rating.Kind.EFFORT.value)
    return AnalysisRights(
        rate_kinds=frozenset(kinds),
        can_move=access.can_manage,
        can_accept=access.can_manage or session.workload.owner_id == user.pk,
        can_create_actions=membership.can_edit,
        can_publish=access.can_manage and session.phase == Phase.ACTION_PLAN,
        can_sync=access.can_manage,
    )


# --- Ratings, moves and accepted risks ---------------------------------------------------------------


def _check_scale(value: int | None, what: str) -> None:
    if value is not None and not (1 <= value <= 5):
        raise ServiceError(f"{what} is a whole number from 1 to 5.")


@transaction.atomic
def rating_set(*, finding: Finding, user, kind: str, value: int | None) -> Rating | None:
    """Record one person's rating of a finding (1 to 5), or remove it (value None)."""
    if kind not in Rating.Kind.values:
        raise ServiceError(f"“{kind}” is not a kind of rating.")
    _check_scale(value, Rating.Kind(kind).label)
    if value is None:
        Rating.objects.filter(finding=finding, user=user, kind=kind).delete()
        return None
    rating, _ = Rating.objects.update_or_create(
        finding=finding, user=user, kind=kind, defaults={"value": value}
    )
    return rating


@transaction.atomic
def finding_move(*, finding: Finding, user, impact: int | None, effort: int | None) -> Finding:
    """Place a finding on the matrix by hand; None on an axis follows the ratings again."""
    _check_scale(impact, "Business impact")
    _check_scale(effort, "Technical effort")
    finding.impact_override, finding.effort_override = impact, effort
    finding.save(update_fields=["impact_override", "effort_override", "updated_at"])
    return finding


ACCEPTANCE_MAX_DAYS = 3 * 366


@transaction.atomic
def finding_accept(*, finding: Finding, user, reason: str, until: date | None) -> Finding:
    """Accept a finding as a risk instead of acting on it: who, why, and until when (the
    acceptance is reviewed then)."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("Say why the risk is accepted.")
    if until is None:
        raise ServiceError("Say until when the risk is accepted.")
    if until <= _today():
        raise ServiceError("The acceptance must run until a date after today.")
    if until > _today() + timedelta(days=ACCEPTANCE_MAX_DAYS):
        raise ServiceError("Accept a risk for three years at most; review it again then.")
    finding.accepted_by, finding.accepted_at = user, timezone.now()
    finding.accepted_reason, finding.accepted_until = reason, until
    finding.save(
        update_fields=[
            "accepted_by",
            "accepted_at",
            "accepted_reason",
            "accepted_until",
            "updated_at",
        ]
    )
    return finding


@transaction.atomic
def finding_revoke_acceptance(*, finding: Finding, user) -> Finding:
    finding.accepted_by, finding.accepted_at = None, None
    finding.accepted_reason, finding.accepted_until = "", None
    finding.save(
        update_fields=[
            "accepted_by",
            "accepted_at",
            "accepted_reason",
            "accepted_until",
            "updated_at",
        ]
    )
    return finding


# --- Action items --------------------------------------------------------------------------------------

ACTION_FIELDS = (
    "title",
    "description",
    "measurable_outcome",
    "owner",
    "due_on",
    "status",
    "percent_complete",
    "effort",
    "monthly_saving",
    "currency",
    "external_key",
    "external_url",
)
FIELD_LABELS = {
    "title": "title",
    "description": "description",
    "measurable_outcome": "measurable outcome",
    "owner": "owner",
    "due_on": "due date",
    "status": "status",
    "percent_complete": "percent complete",
    "effort": "effort",
    "monthly_saving": "monthly saving",
    "currency": "currency",
    "external_key": "tracker key",
    "external_url": "tracker link",
}
OWNER_ROLES = (Membership.Role.ADMIN, Membership.Role.MEMBER, Membership.Role.FINANCE)
DUE_AFTER_PLAN_DAYS = 30
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


class ActionInvalid(ServiceError):
    """One field of an action item is not acceptable: `field` names it."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name


def owner_choices(workload: Workload):
    """Who may own a workload's actions: its team's admins, members and finance people."""
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(memberships__team_id=workload.team_id, memberships__role__in=OWNER_ROLES)
        .order_by("first_name", "last_name", "username")
    )


def _clean_action_fields(workload: Workload, fields: dict, *, creating: bool) -> dict:
    unknown = set(fields) - set(ACTION_FIELDS)
    if unknown:
        raise ServiceError(f"Unknown action field(s): {', '.join(sorted(unknown))}.")
    cleaned = dict(fields)
    if "title" in cleaned:
        cleaned["title"] = (cleaned["title"] or "").strip()
        if not cleaned["title"]:
            raise ActionInvalid("title", "An action needs a title.")
        if len(cleaned["title"]) > 200:
            raise ActionInvalid("title", "Keep the title to 200 characters.")
    for name in ("description", "measurable_outcome", "external_key"):
        if name in cleaned:
            cleaned[name] = (cleaned[name] or "").strip()
    if len(cleaned.get("external_key", "")) > 64:
        raise ActionInvalid("external_key", "Keep the tracker key to 64 characters.")
    if "status" in cleaned and cleaned["status"] not in ActionItem.Status.values:
        raise ActionInvalid("status", f"“{cleaned['status']}” is not a status.")
    if "effort" in cleaned:
        cleaned["effort"] = cleaned["effort"] or ""
        if cleaned["effort"] and cleaned["effort"] not in ActionItem.Effort.values:
            raise ActionInvalid("effort", f"“{cleaned['effort']}” is not an effort size.")
    if "percent_complete" in cleaned:
        percent = cleaned["percent_complete"]
        if percent is None or isinstance(percent, bool) or not isinstance(percent, int):
            raise ActionInvalid("percent_complete", "Percent complete is a whole number.")
        if not 0 <= percent <= 100:
            raise ActionInvalid("percent_complete", "Percent complete is between 0 and 100.")
    if cleaned.get("monthly_saving") is not None:
        try:
            saving = Decimal(str(cleaned["monthly_saving"]))
        except InvalidOperation:
            raise ActionInvalid("monthly_saving", "The monthly saving is an amount.") from None
        if not saving.is_finite() or saving < 0:
            raise ActionInvalid("monthly_saving", "The monthly saving cannot be negative.")
        if saving >= Decimal("1e10"):
            raise ActionInvalid("monthly_saving", "The monthly saving is too large.")
        cleaned["monthly_saving"] = saving.quantize(Decimal("0.01"))
    if "currency" in cleaned:
        cleaned["currency"] = (cleaned["currency"] or "").strip().upper()
        if not CURRENCY_RE.match(cleaned["currency"]):
            raise ActionInvalid("currency", "The currency is a three-letter code, e.g. EUR.")
    if cleaned.get("external_url"):
        if not _is_http_url(cleaned["external_url"]):
            raise ActionInvalid("external_url", "The tracker link must start with http(s)://.")
    elif "external_url" in cleaned:
        cleaned["external_url"] = ""
    owner = cleaned.get("owner")
    if (
        owner is not None
        and not Membership.objects.filter(
            team_id=workload.team_id, user=owner, role__in=OWNER_ROLES
        ).exists()
    ):
        raise ActionInvalid(
            "owner", f"{owner} cannot own this action: owners are members of {workload.team}."
        )
    if creating and cleaned.get("due_on") and cleaned["due_on"] < _today():
        raise ActionInvalid("due_on", "The due date cannot be in the past.")
    return cleaned


def _display(name: str, value) -> str:
    """How a value reads in an action's history."""
    if value is None or value == "":
        return ""
    if name == "owner":
        return value.get_full_name() or value.username
    if name == "status":
        return ActionItem.Status(value).label
    if name == "effort":
        return ActionItem.Effort(value).label
    if name == "due_on":
        return value.isoformat()
    if name == "percent_complete":
        return f"{value}%"
    return str(value)


def _apply_done_rules(action: ActionItem, changes: dict) -> dict:
    """Done means complete: percent 100 and a completion time; any other status clears it."""
    status = changes.get("status", action.status)
    if status == ActionItem.Status.DONE:
        changes["percent_complete"] = 100
    return changes


@transaction.atomic
def action_create(
    *,
    workload: Workload,
    user,
    session: ReviewSession | None = None,
    finding: Finding | None = None,
    question=None,
    choice: Choice | None = None,
    parking_item: ParkingLotItem | None = None,
    **fields,
) -> ActionItem:
    """Create an action item on a workload, optionally from a session, a finding, one of
    its missing best practices, or a parking-lot item. Fields as on ActionItem."""
    if session is not None and session.workload_id != workload.pk:
        raise ServiceError("That review belongs to another workload.")
    if finding is not None:
        if session is None or finding.session_id != session.pk:
            raise ServiceError("That finding belongs to another review.")
        question = question or finding.question
    if choice is not None and question is not None and choice.question_id != question.pk:
        raise ServiceError("That best practice belongs to another question.")
    if parking_item is not None and (session is None or parking_item.session_id != session.pk):
        raise ServiceError("That parking-lot item belongs to another review.")
    fields.setdefault("title", "")
    cleaned = _clean_action_fields(workload, fields, creating=True)
    cleaned = _apply_done_rules(ActionItem(), cleaned)
    action = ActionItem(
        workload=workload,
        session=session,
        finding=finding,
        question=question,
        choice=choice,
        parking_item=parking_item,
        created_by=user,
        **cleaned,
    )
    if action.status == ActionItem.Status.DONE:
        action.completed_at = timezone.now()
    action.save()
    ActionChange.objects.create(action=action, user=user, field="created", new_value=action.title)
    return action


def default_due_on(session: ReviewSession | None) -> date | None:
    """A new action's proposed due date: a month after the action plan is due, if set."""
    if session is None or session.action_plan_due_on is None:
        return None
    return max(session.action_plan_due_on + timedelta(days=DUE_AFTER_PLAN_DAYS), _today())


@transaction.atomic
def action_create_from_practice(
    *, finding: Finding, choice: Choice, user
) -> tuple[ActionItem, bool]:
    """One click per missing best practice: an action titled after the practice, described
    by its improvement text, linked to the finding, question and choice. Clicking again
    gives back the action already made for that practice (created is False)."""
    if choice.question_id != finding.question_id or choice.is_none_of_these:
        raise ServiceError("That is not a best practice of this finding's question.")
    finding = (
        Finding.objects.select_for_update(of=("self",))
        .select_related("session__workload")
        .get(pk=finding.pk)
    )
    existing = (
        ActionItem.objects.filter(finding=finding, choice=choice)
        .exclude(status=ActionItem.Status.CANCELLED)
        .first()
    )
    if existing:
        return existing, False
    description = choice.improvement_text
    if choice.improvement_url:
        description = f"{description}\n\nGuidance: {choice.improvement_url}".strip()
    action = action_create(
        workload=finding.session.workload,
        session=finding.session,
        finding=finding,
        choice=choice,
        user=user,
        title=choice.title[:200],
        description=description,
        due_on=default_due_on(finding.session),
    )
    return action, True


@transaction.atomic
def action_update(*, action: ActionItem, user, changes: dict) -> ActionItem:
    """Change an action item's fields, recording one history row per field that changed
    (who, when, old -> new). Becoming done sets percent complete to 100 and the completion
    time; any other status clears the completion time. Unchanged fields record nothing."""
    action = (
        ActionItem.objects.select_for_update(of=("self",))
        .select_related("workload", "owner")
        .get(pk=action.pk)
    )
    cleaned = _clean_action_fields(action.workload, changes, creating=False)
    cleaned = _apply_done_rules(action, cleaned)
    history, updated = [], []
    for name, value in cleaned.items():
        old = getattr(action, name)
        if name == "owner":
            if (old.pk if old else None) == (value.pk if value else None):
                continue
        elif old == value:
            continue
        history.append(
            ActionChange(
                action=action,
                user=user,
                field=name,
                old_value=_display(name, old),
                new_value=_display(name, value),
            )
        )
        setattr(action, name, value)
        updated.append(name)
    if action.status == ActionItem.Status.DONE and action.completed_at is None:
        action.completed_at = timezone.now()
        updated.append("completed_at")
    elif action.status != ActionItem.Status.DONE and action.completed_at is not None:
        action.completed_at = None
        updated.append("completed_at")
    if updated:
        action.save(update_fields=[*updated, "updated_at"])
        ActionChange.objects.bulk_create(history)
    return action


COMMENT_MAX_LENGTH = 5000


@transaction.atomic
def action_comment_add(*, action: ActionItem, user, body: str) -> ActionComment:
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise ActionInvalid("body", "Write something to comment.")
    if len(body) > COMMENT_MAX_LENGTH:
        raise ActionInvalid("body", f"Comments are limited to {COMMENT_MAX_LENGTH:,} characters.")
    return ActionComment.objects.create(action=action, author=user, body=body)


def action_history(action: ActionItem) -> list[ActionChange]:
    """The action's changes, newest first, each with `.label` naming its field."""
    changes = list(action.changes.select_related("user").order_by("-at", "-pk"))
    for change in changes:
        change.label = FIELD_LABELS.get(change.field, change.field.replace("_", " "))
    return changes


def can_edit_action(action: ActionItem, membership: Membership, user) -> bool:
    """Team admins and members edit a workload's actions; an owner edits their own."""
    if membership.role == Membership.Role.VIEWER:
        return False
    return membership.can_edit or action.owner_id == user.pk


# --- The parking lot ---------------------------------------------------------------------------------


def parking_candidates(session: ReviewSession) -> list[ParkingLotItem]:
    """Parking-lot items not dismissed, each with `.action` (the action made from it)."""
    items = list(
        ParkingLotItem.objects.filter(session=session, dismissed_at__isnull=True)
        .select_related("question", "created_by")
        .prefetch_related(
            Prefetch(
                "actions",
                ActionItem.objects.exclude(status=ActionItem.Status.CANCELLED),
                to_attr="live_actions",
            )
        )
    )
    for item in items:
        item.action = item.live_actions[0] if item.live_actions else None
    return items


@transaction.atomic
def parking_item_to_action(*, item: ParkingLotItem, user) -> tuple[ActionItem, bool]:
    """Turn a parking-lot item into an action (once: again gives back the same action)."""
    item = (
        ParkingLotItem.objects.select_for_update(of=("self",))
        .select_related("session__workload")
        .get(pk=item.pk)
    )
    if item.dismissed_at is not None:
        raise ServiceError("This parking-lot item was dismissed.")
    existing = item.actions.exclude(status=ActionItem.Status.CANCELLED).first()
    if existing:
        return existing, False
    text = item.text.strip()
    title = text if len(text) <= 200 else text[:199].rstrip() + "…"
    action = action_create(
        workload=item.session.workload,
        session=item.session,
        question=item.question,
        parking_item=item,
        user=user,
        title=title,
        description=text if len(text) > 200 else "",
        due_on=default_due_on(item.session),
    )
    return action, True


@transaction.atomic
def parking_item_dismiss(*, item: ParkingLotItem, user) -> ParkingLotItem:
    if item.dismissed_at is None:
        item.dismissed_at = timezone.now()
        item.save(update_fields=["dismissed_at"])
    return item


# --- The plan and publishing ---------------------------------------------------------------------------


@dataclass
class PlanGap:
    """What one action lacks before the plan can be published (action None: the plan)."""

    action: ActionItem | None
    missing: list[str]


def plan_actions(session: ReviewSession) -> QuerySet[ActionItem]:
    return (
        ActionItem.objects.filter(session=session)
        .select_related("owner", "finding__question__pillar", "question")
        .order_by(F("due_on").asc(nulls_last=True), "created_at")
    )


def plan_gaps(actions: Iterable[ActionItem]) -> list[PlanGap]:
    """Everything that stops publishing: no action at all, or an action (not cancelled)
    without an owner, a due date or a measurable outcome. Empty: ready to publish."""
    live = [a for a in actions if a.status != ActionItem.Status.CANCELLED]
    if not live:
        return [PlanGap(action=None, missing=["at least one action"])]
    gaps = []
    for action in live:
        missing = []
        if action.owner_id is None:
            missing.append("an owner")
        if action.due_on is None:
            missing.append("a due date")
        if not action.measurable_outcome.strip():
            missing.append("a measurable outcome")
        if missing:
            gaps.append(PlanGap(action=action, missing=missing))
    return gaps


def roadmap(actions: Iterable[ActionItem]) -> list[tuple[date | None, list[ActionItem]]]:
    """Actions (not cancelled) grouped by due month, in order; undated ones last."""
    months: dict[date | None, list[ActionItem]] = defaultdict(list)
    for action in actions:
        if action.status == ActionItem.Status.CANCELLED:
            continue
        months[action.due_on.replace(day=1) if action.due_on else None].append(action)
    return sorted(months.items(), key=lambda kv: (kv[0] is None, kv[0] or date.min))


def next_follow_up_on(published: date) -> date:
    """A month after publication (the seeds: monthly progress reviews); 31 January gives
    the last day of February."""
    year, month = (
        (published.year + 1, 1) if published.month == 12 else (published.year, published.month + 1)
    )
    return date(year, month, min(published.day, calendar.monthrange(year, month)[1]))


def _person(user) -> str:
    return (user.get_full_name() or user.username) if user else ""


def _day(value: date | None) -> str:
    return dateformat.format(value, "j F Y") if value else ""


def recap_context(session: ReviewSession, *, published_on: date) -> tuple[dict, list[str]]:
    """The recap email's content (JSON, frozen at publication) and its recipients."""
    participants = list(
        Participant.objects.filter(session=session).select_related("user").order_by("role")
    )
    confirmed = [p for p in participants if p.confirmed_attendance]
    attended = confirmed or participants
    infos = [i for i in analysis_findings(session) if not i.is_accepted]
    actions = [a for a in plan_actions(session) if a.status != ActionItem.Status.CANCELLED]
    workload = session.workload
    steps = []
    if session.action_plan_due_on:
        steps.append(("Action plan due", _day(session.action_plan_due_on)))
    steps.append(("Next follow-up", _day(next_follow_up_on(published_on))))
    if workload.next_review_due_on:
        steps.append(("Next review due", _day(workload.next_review_due_on)))
    context = {
        "workload": workload.name,
        "session": session.title,
        "published_on": _day(published_on),
        "plan_url": absolute_url(reverse("actions:plan", args=[session.uuid])),
        "attendees": [{"name": _person(p.user), "role": p.get_role_display()} for p in attended],
        "attendance_confirmed": bool(confirmed),
        "key_findings": [
            {
                "title": i.finding.question.title,
                "pillar": i.finding.question.pillar.name,
                "risk": Risk(i.finding.risk).label,
                "quadrant": i.position.quadrant_label,
            }
            for i in infos[:5]
        ],
        "finding_count": len(infos),
        "actions": [
            {
                "title": a.title,
                "owner": _person(a.owner),
                "due_on": _day(a.due_on),
                "status": a.get_status_display(),
                "outcome": a.measurable_outcome,
            }
            for a in actions
        ],
        "next_steps": [{"label": label, "date": when} for label, when in steps],
    }
    recipients = sorted({p.user.email for p in participants if p.user.email})
    return context, recipients


def _request_pdf(session: ReviewSession, user):
    """Ask for the plan's PDF, when the PDF part of the app is present."""
    if importlib.util.find_spec("actions.pdf") is None:
        return None
    from actions.pdf import plan_document_request

    return plan_document_request(session=session, user=user)


@transaction.atomic
def plan_publish(*, session: ReviewSession, user) -> Milestone:
    """Publish the action plan: only in the action-plan phase and only when every action
    has an owner, a due date and a measurable outcome. Records the publication time, saves
    a milestone, asks for the PDF and queues the recap email to the participants.
    Publishing again after changes gives a new milestone and a new PDF version."""
    session = (
        ReviewSession.objects.select_for_update(of=("self",))
        .select_related("workload__team")
        .get(pk=session.pk)
    )
    if session.phase != Phase.ACTION_PLAN:
        raise ServiceError("The plan is published in the action-plan phase.")
    gaps = plan_gaps(plan_actions(session))
    if gaps:
        if gaps[0].action is None:
            raise ServiceError("Add at least one action before publishing the plan.")
        raise ServiceError(
            f"{len(gaps)} action{'s' if len(gaps) != 1 else ''} still lack an owner, a due "
            "date or a measurable outcome."
        )
    now = timezone.now()
    session.plan_published_at = now
    session.save(update_fields=["plan_published_at"])
    published = Milestone.objects.filter(session=session, kind=Milestone.Kind.PUBLISHED).count()
    name = f"Action plan published {_day(timezone.localdate(now))}"
    if published:
        name = f"Action plan v{published + 1} published {_day(timezone.localdate(now))}"
    milestone = milestone_create(
        workload=session.workload,
        session=session,
        user=user,
        kind=Milestone.Kind.PUBLISHED,
        name=name,
    )
    _request_pdf(session, user)
    context, recipients = recap_context(session, published_on=timezone.localdate(now))
    if recipients:
        recap = PlanRecap.objects.create(
            session=session, milestone=milestone, context=context, recipients=recipients
        )
        plan_recap_queue(recap)
    return milestone


def plan_recap_queue(recap: PlanRecap) -> None:
    """Send the recap email's task once the transaction commits."""
    from actions.tasks import send_plan_recap

    PlanRecap.objects.filter(pk=recap.pk).update(queued_at=timezone.now())
    send_plan_recap.delay_on_commit(recap.pk)


RECAP_MAX_ATTEMPTS = 5
RECAP_STALE_AFTER = timedelta(minutes=5)


class TransientError(Exception):
    """A failure worth retrying (the mail server did not answer)."""


def plan_recap_send(*, recap_id: int) -> bool:
    """Send one recap email, at most once: the row is claimed by a conditional update (a
    pending row, or a running one whose worker vanished), so duplicate or retried messages
    do no harm. Connection trouble puts it back to pending and raises TransientError for a
    retry, until RECAP_MAX_ATTEMPTS; anything else marks it failed with the error. Returns
    whether this call sent it."""
    from smtplib import SMTPException

    now = timezone.now()
    claimed = PlanRecap.objects.filter(
        Q(status=PlanRecap.Status.PENDING)
        | Q(status=PlanRecap.Status.RUNNING, started_at__lt=now - RECAP_STALE_AFTER),
        pk=recap_id,
    ).update(status=PlanRecap.Status.RUNNING, started_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return False
    recap = PlanRecap.objects.get(pk=recap_id)
    context = recap.context
    try:
        send_email(
            to=recap.recipients,
            template="plan_published",
            context=context,
            subject=f"Action plan published: {context['workload']} ({context['session']})",
        )
    except (SMTPException, OSError) as exc:
        retry = recap.attempts < RECAP_MAX_ATTEMPTS
        PlanRecap.objects.filter(pk=recap.pk).update(
            status=PlanRecap.Status.PENDING if retry else PlanRecap.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        if retry:
            raise TransientError(str(exc)) from exc
        return False
    except Exception as exc:
        PlanRecap.objects.filter(pk=recap.pk).update(
            status=PlanRecap.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise
    PlanRecap.objects.filter(pk=recap.pk).update(
        status=PlanRecap.Status.DONE, sent_at=timezone.now(), error=""
    )
    return True


def plan_recaps_sweep(*, older_than: timedelta = timedelta(minutes=10)) -> int:
    """Queue again the recaps whose message was lost (pending long after being queued, or
    running long after their worker started). Returns how many were queued."""
    now = timezone.now()
    lost = PlanRecap.objects.filter(
        Q(status=PlanRecap.Status.PENDING, queued_at__lt=now - older_than)
        | Q(status=PlanRecap.Status.RUNNING, started_at__lt=now - RECAP_STALE_AFTER)
    )
    count = 0
    for recap in lost:
        with transaction.atomic():
            plan_recap_queue(recap)
        count += 1
    return count


# --- Milestones ---------------------------------------------------------------------------------------

SNAPSHOT_VERSION = 1
RISK_KEYS = tuple(Risk.values)
# The risks a comparison of milestones shows, side by side.
COMPARE_RISKS = (Risk.HIGH.value, Risk.MEDIUM.value, Risk.NONE.value)


def latest_answered_session(workload: Workload) -> ReviewSession | None:
    """The workload's most recent session with at least one answered question."""
    answered = Answer.objects.filter(session=OuterRef("pk")).exclude(risk=Risk.UNANSWERED)
    return (
        ReviewSession.objects.filter(workload=workload)
        .filter(Exists(answered))
        .order_by(F("review_starts_at").desc(nulls_last=True), "-created_at")
        .first()
    )


def snapshot_build(workload: Workload, session: ReviewSession | None) -> dict:
    """A plain copy (JSON) of the session's answers, the risk counts per pillar and the
    workload's actions, as they are now."""
    answers = []
    pillars: dict[str, dict] = {}
    if session is not None:
        lens_order = dict(
            SessionLens.objects.filter(session=session).values_list("lens_id", "order")
        )
        rows = list(
            Answer.objects.filter(session=session)
            .select_related("question__pillar__lens")
            .prefetch_related(Prefetch("selections", AnswerChoice.objects.select_related("choice")))
        )
        rows.sort(
            key=lambda a: (
                lens_order.get(a.question.pillar.lens_id, 0),
                a.question.pillar.order,
                a.question.order,
            )
        )
        for answer in rows:
            q = answer.question
            pillar_key = f"{q.pillar.lens.name}/{q.pillar.ident}"
            answers.append(
                {
                    "key": f"{pillar_key}/{q.ident}",
                    "lens": q.pillar.lens.name,
                    "lens_version": q.pillar.lens.version,
                    "pillar": q.pillar.ident,
                    "pillar_name": q.pillar.name,
                    "question": q.ident,
                    "title": q.title,
                    "risk": answer.risk,
                    "choices": sorted(s.choice.ident for s in answer.selections.all()),
                    "not_applicable": answer.not_applicable,
                    "notes": answer.notes,
                }
            )
            entry = pillars.setdefault(
                pillar_key,
                {
                    "key": pillar_key,
                    "label": q.pillar.name,
                    "lens": q.pillar.lens.name,
                    "framework_pillar": q.pillar.framework_pillar,
                    "counts": dict.fromkeys(RISK_KEYS, 0),
                },
            )
            entry["counts"][answer.risk] = entry["counts"].get(answer.risk, 0) + 1
    totals = dict.fromkeys(RISK_KEYS, 0)
    for entry in pillars.values():
        for key, value in entry["counts"].items():
            totals[key] = totals.get(key, 0) + value
    actions = [
        {
            "uuid": str(a.uuid),
            "title": a.title,
            "owner": a.owner.username if a.owner else "",
            "status": a.status,
            "percent": a.percent_complete,
            "due_on": a.due_on.isoformat() if a.due_on else None,
        }
        for a in ActionItem.objects.filter(workload=workload)
        .select_related("owner")
        .order_by(F("due_on").asc(nulls_last=True), "created_at")
    ]
    return {
        "version": SNAPSHOT_VERSION,
        "taken_at": timezone.now().isoformat(),
        "workload": {"name": workload.name, "type": workload.workload_type},
        "session": (
            {"uuid": str(session.uuid), "title": session.title, "phase": session.phase}
            if session
            else None
        ),
        "answers": answers,
        "pillars": list(pillars.values()),
        "totals": totals,
        "actions": actions,
    }


@transaction.atomic
def milestone_create(
    *, workload: Workload, session: ReviewSession | None = None, user, kind: str, name: str = ""
) -> Milestone:
    """Freeze the workload as it is now: the answers of `session` (or, when None, of its
    most recent session with answers), risk counts per pillar and its actions."""
    if kind not in Milestone.Kind.values:
        raise ServiceError(f"“{kind}” is not a kind of milestone.")
    if session is not None and session.workload_id != workload.pk:
        raise ServiceError("That review belongs to another workload.")
    source = session or latest_answered_session(workload)
    name = (name or "").strip()[:150] or (
        f"{Milestone.Kind(kind).label} · {_day(timezone.localdate())}"
    )
    return Milestone.objects.create(
        workload=workload,
        session=source,
        name=name,
        kind=kind,
        created_by=user,
        snapshot=snapshot_build(workload, source),
    )


def milestone_trend(milestones: Iterable[Milestone]) -> list[tuple[str, dict[str, int]]]:
    """(label, counts of HIGH and MEDIUM) per milestone, oldest first, for the trend chart."""
    series = []
    seen: Counter = Counter()
    for m in sorted(milestones, key=lambda m: m.created_at):
        totals = m.snapshot.get("totals", {})
        label = dateformat.format(timezone.localtime(m.created_at), "j M y")
        seen[label] += 1
        if seen[label] > 1:  # several milestones on one day: number them
            label = f"{label} ({seen[label]})"
        series.append((label, {"HIGH": totals.get("HIGH", 0), "MEDIUM": totals.get("MEDIUM", 0)}))
    return series


@dataclass
class PillarDelta:
    label: str
    before: dict[str, int]
    after: dict[str, int]

    @property
    def cells(self) -> list[tuple[str, int, int, int]]:
        """(risk, before, after, change) for the risks the comparison shows."""
        return [
            (
                k,
                self.before.get(k, 0),
                self.after.get(k, 0),
                self.after.get(k, 0) - self.before.get(k, 0),
            )
            for k in COMPARE_RISKS
        ]


@dataclass
class QuestionChange:
    pillar: str
    title: str
    before: str | None  # None: the question was not in that milestone
    after: str | None

    @property
    def before_label(self) -> str:
        return Risk(self.before).label if self.before in Risk.values else ""

    @property
    def after_label(self) -> str:
        return Risk(self.after).label if self.after in Risk.values else ""


@dataclass
class Comparison:
    before: Milestone
    after: Milestone
    pillars: list[PillarDelta]
    totals: PillarDelta
    changed: list[QuestionChange]
    actions_before: list[tuple[str, int]]
    actions_after: list[tuple[str, int]]


def milestone_compare(a: Milestone, b: Milestone) -> Comparison:
    """Compare two milestones of a workload, the earlier as "before" whatever the order
    given: risk counts per pillar side by side, and the questions whose risk changed."""
    before, after = sorted((a, b), key=lambda m: (m.created_at, m.pk))
    old, new = before.snapshot, after.snapshot
    old_pillars = {p["key"]: p for p in old.get("pillars", [])}
    new_pillars = {p["key"]: p for p in new.get("pillars", [])}
    keys = list(new_pillars) + [k for k in old_pillars if k not in new_pillars]
    empty = dict.fromkeys(RISK_KEYS, 0)
    pillars = [
        PillarDelta(
            label=(new_pillars.get(k) or old_pillars[k])["label"],
            before=old_pillars.get(k, {}).get("counts", empty),
            after=new_pillars.get(k, {}).get("counts", empty),
        )
        for k in keys
    ]
    totals = PillarDelta(
        label="All pillars", before=old.get("totals", empty), after=new.get("totals", empty)
    )
    old_answers = {x["key"]: x for x in old.get("answers", [])}
    new_answers = {x["key"]: x for x in new.get("answers", [])}
    changed = []
    for key in list(new_answers) + [k for k in old_answers if k not in new_answers]:
        was, now = old_answers.get(key), new_answers.get(key)
        if was and now and was["risk"] == now["risk"]:
            continue
        ref = now or was
        changed.append(
            QuestionChange(
                pillar=ref["pillar_name"],
                title=ref["title"],
                before=was["risk"] if was else None,
                after=now["risk"] if now else None,
            )
        )
    return Comparison(
        before=before,
        after=after,
        pillars=pillars,
        totals=totals,
        changed=changed,
        actions_before=_status_counts(old.get("actions", [])),
        actions_after=_status_counts(new.get("actions", [])),
    )


def _status_counts(actions: list[dict]) -> list[tuple[str, int]]:
    counts = Counter(a["status"] for a in actions)
    return [(label, counts[value]) for value, label in ActionItem.Status.choices if counts[value]]


# --- Dashboards ----------------------------------------------------------------------------------------


def risk_counts_by_pillar(session: ReviewSession) -> list[tuple[str, dict[str, int]]]:
    """(pillar name, counts per risk) for a session's pillars, in lens and pillar order."""
    rows = (
        Answer.objects.filter(session=session)
        .values("question__pillar_id", "question__pillar__name", "risk")
        .annotate(
            n=Count("pk"),
            lens_order=Subquery(
                SessionLens.objects.filter(
                    session=session, lens=OuterRef("question__pillar__lens")
                ).values("order")[:1]
            ),
        )
        .order_by("lens_order", "question__pillar__lens_id", "question__pillar__order")
    )
    pillars: dict[int, tuple[str, dict[str, int]]] = {}
    for row in rows:
        _, counts = pillars.setdefault(
            row["question__pillar_id"], (row["question__pillar__name"], dict.fromkeys(RISK_KEYS, 0))
        )
        counts[row["risk"]] = counts.get(row["risk"], 0) + row["n"]
    return list(pillars.values())


def _latest_answered_session_id():
    answered = Answer.objects.filter(session=OuterRef("pk")).exclude(risk=Risk.UNANSWERED)
    return Subquery(
        ReviewSession.objects.filter(workload=OuterRef("pk"))
        .filter(Exists(answered))
        .order_by(F("review_starts_at").desc(nulls_last=True), "-created_at")
        .values("pk")[:1]
    )


def _risk_count(risk: str):
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


def dashboard_workloads(user, *, sort: str = DASHBOARD_DEFAULT_SORT) -> tuple[QuerySet, str]:
    """The workloads of the user's teams, each annotated with the high and medium risk
    counts of its latest answered session, the start of its next session and its overdue
    actions: one query. `sort` is a column of DASHBOARD_SORTS, "-" first for descending;
    returns the queryset and the sort applied."""
    today = _today()
    upcoming = (
        ReviewSession.objects.filter(workload=OuterRef("pk"), review_starts_at__gte=timezone.now())
        .exclude(phase=Phase.CLOSED)
        .order_by("review_starts_at")
        .values("review_starts_at")[:1]
    )
    overdue = (
        ActionItem.objects.filter(
            workload=OuterRef("pk"), status__in=ActionItem.OPEN_STATUSES, due_on__lt=today
        )
        .order_by()
        .values("workload")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    workloads = (
        Workload.objects.for_user(user)
        .select_related("team", "owner")
        .annotate(latest_session_id=_latest_answered_session_id())
        .annotate(
            high_count=_risk_count(Risk.HIGH),
            medium_count=_risk_count(Risk.MEDIUM),
            next_session_at=Subquery(upcoming),
            overdue_count=Coalesce(Subquery(overdue), Value(0)),
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


def dashboard_rows(user, *, sort: str = DASHBOARD_DEFAULT_SORT) -> tuple[list[Workload], str]:
    """dashboard_workloads as a list, each with `.next_review` (a date) and `.latest_session`
    (uuid or None); sorting by the next review happens here as it mixes two sources."""
    workloads, sort = dashboard_workloads(user, sort=sort)
    rows = list(workloads)
    session_uuids = dict(
        ReviewSession.objects.filter(
            pk__in=[w.latest_session_id for w in rows if w.latest_session_id]
        ).values_list("pk", "uuid")
    )
    for w in rows:
        w.next_review = (
            timezone.localdate(w.next_session_at) if w.next_session_at else w.next_review_due_on
        )
        w.next_review_is_session = w.next_session_at is not None
        w.latest_session_uuid = session_uuids.get(w.latest_session_id)
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


def my_actions(user, *, statuses: Iterable[str] = (), due: str = "") -> QuerySet[ActionItem]:
    """The actions the user owns across the workloads of their teams, soonest due first.
    statuses: keep only these (all when empty); due: one of MY_DUE_FILTERS."""
    today = _today()
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
        actions = actions.filter(status__in=ActionItem.OPEN_STATUSES, due_on__lt=today)
    elif due == "week":
        actions = actions.filter(due_on__gte=today, due_on__lte=today + timedelta(days=7))
    elif due == "month":
        actions = actions.filter(due_on__gte=today, due_on__lte=today + timedelta(days=30))
    elif due == "none":
        actions = actions.filter(due_on__isnull=True)
    return actions


def is_overdue(action: ActionItem) -> bool:
    return action.is_open and action.due_on is not None and action.due_on < _today()


# --- Cost findings ------------------------------------------------------------------------------------

COST = FrameworkPillar.COST


def _latest_session_with_findings_ids(user, team=None) -> QuerySet:
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
    return workloads.annotate(latest=latest).exclude(latest=None).values("latest")


@dataclass
class CostOverview:
    findings: list[Finding]
    actions: list[ActionItem]
    # (workload name, {currency: total}) and (status label, {currency: total})
    by_workload: list[tuple[str, dict[str, Decimal]]]
    by_status: list[tuple[str, dict[str, Decimal]]]
    totals: dict[str, Decimal]


def cost_overview(user, *, team=None) -> CostOverview:
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
