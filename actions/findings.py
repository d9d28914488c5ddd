"""Findings and their analysis: a finding per high or medium risk answer, in priority order,
with the best practices not in place; ratings of business impact and technical effort; the
impact × effort matrix; moving and accepting findings; and who may do what there."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlsplit

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Case, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, When
from django.utils import timezone

from actions.charts import MatrixPoint, quadrant_for
from actions.models import ActionItem, Finding, Rating
from questionnaires.models import Choice, FrameworkPillar
from questionnaires.risk import Risk
from reviews import events
from reviews.access import Right, SessionAccess
from reviews.errors import ServiceError
from reviews.eventkinds import EventKind
from reviews.models import (
    Answer,
    AnswerChoice,
    ChoiceNotApplicable,
    Membership,
    ParticipantRole,
    Phase,
    ReviewSession,
    SessionLens,
)

RISKY = (Risk.HIGH, Risk.MEDIUM)
# Pillars of custom lenses that map to no framework pillar come after all six.
OTHER_PILLAR_RANK = len(FrameworkPillar.values)
# Phases in which the analysis and the plan are worked on; closed reviews are read-only.
WORKING_PHASES = (Phase.ANALYSIS, Phase.ACTION_PLAN, Phase.FOLLOW_UP)
BEFORE_ANALYSIS = (Phase.PREPARATION, Phase.REVIEW)

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


def findings_on_phase(*, session: ReviewSession, left: str) -> None:
    """The review moved: leaving the answering phases for analysis computes the findings from
    the answers, which are closed from then on. Opening the analysis page never does."""
    if left in BEFORE_ANALYSIS and session.phase in WORKING_PHASES:
        findings_sync(session=session)


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
            if is_http_url(url) and url not in dict(links).values():
                links.append((str(item.get("displayText") or "Resource")[:120], url))
    return links


def is_http_url(url: str) -> bool:
    parts = urlsplit(url or "")
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def missing_practices(
    session: ReviewSession, question_ids: Iterable[int]
) -> dict[int, list[Choice]]:
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
    number: int | None = None  # its number, in priority order; kept when accepted as a risk
    my_ratings: dict[str, int] = field(default_factory=dict)

    @property
    def is_accepted(self) -> bool:
        return self.finding.accepted_at is not None


def analysis_findings(
    session: ReviewSession, *, user: User | None = None, saved: bool = True
) -> list[FindingInfo]:
    """The session's open findings in priority order, with ratings, position, missing best
    practices and actions. saved=False gives the unsaved preview (before the analysis).
    Findings accepted as a risk come last, keep their number and are left off the matrix."""
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
            if action.finding_id is not None:
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
    # Numbered in priority order, accepted risks included, so that accepting one never
    # renumbers the others; accepted risks are then listed last (and left off the matrix).
    for number, info in enumerate(infos, start=1):
        info.number = number
    infos.sort(key=lambda i: i.is_accepted)  # stable: priority order kept within each group
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
            number=info.number,
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


def analysis_rights(access: SessionAccess, *, user: User) -> AnalysisRights:
    """Ratings (reviews.access, Right.RATE_IMPACT and Right.RATE_EFFORT): the workload owner
    and finance rate business impact; operations, security and the note-taker rate technical
    effort; the facilitator both.
    The facilitator (or a team admin standing in) moves findings on the matrix, syncs the
    findings and publishes the plan. Accepting a risk: the facilitator, a team admin or the
    workload's owner. Action items: team admins and members. Observers and team viewers
    read only, and everything is read-only outside analysis, action plan and follow-up."""
    owns = not access.is_guest and access.session.workload.owner_id == user.pk
    return seat_rights(access, owns_workload=owns)


def seat_rights(access: SessionAccess, *, owns_workload: bool) -> AnalysisRights:
    """The rights of a seat in the session (analysis_rights), given whether its person owns
    the workload: the only part of them that is not the seat's."""
    session, rights = access.session, access.rights
    if session.phase == Phase.CLOSED:
        return AnalysisRights(read_only_reason="This review is closed: its analysis is read-only.")
    if session.phase in BEFORE_ANALYSIS:
        return AnalysisRights(
            read_only_reason="Findings are computed when the review moves to analysis; until "
            "then this page shows what the current answers would give, read-only."
        )
    if rights.team_role == Membership.Role.VIEWER:
        return AnalysisRights(
            read_only_reason="You are a viewer in this team: you can read the analysis."
        )
    if rights.session_role == ParticipantRole.OBSERVER:
        return AnalysisRights(
            read_only_reason="You observe this review: you can read the analysis."
        )
    kinds = set()
    if rights.has(Right.RATE_IMPACT):
        kinds.add(Rating.Kind.IMPACT.value)
    if rights.has(Right.RATE_EFFORT):
        kinds.add(Rating.Kind.EFFORT.value)
    return AnalysisRights(
        rate_kinds=frozenset(kinds),
        can_move=access.can_manage,
        can_accept=access.can_manage or (owns_workload and not access.is_guest),
        can_create_actions=access.can_edit,
        can_publish=access.can_manage and session.phase == Phase.ACTION_PLAN,
        can_sync=access.can_manage,
    )


# --- Ratings, moves and accepted risks ---------------------------------------------------------------


def finding_changed(finding: Finding, session: ReviewSession | None = None) -> None:
    """Every analysis page of the session shows the change once it commits (its card, the
    matrix and the quadrants; actions.analysis_live renders them)."""
    session = session or finding.session
    events.publish_on_commit(session.uuid, EventKind.FINDING, finding=str(finding.uuid))


def _check_scale(value: int | None, what: str) -> None:
    if value is not None and not (1 <= value <= 5):
        raise ServiceError(f"{what} is a whole number from 1 to 5.")


@transaction.atomic
def rating_set(*, finding: Finding, user: User, kind: str, value: int | None) -> Rating | None:
    """Record one person's rating of a finding (1 to 5), or remove it (value None)."""
    if kind not in Rating.Kind.values:
        raise ServiceError(f"“{kind}” is not a kind of rating.")
    _check_scale(value, Rating.Kind(kind).label)
    finding_changed(finding)
    if value is None:
        Rating.objects.filter(finding=finding, user=user, kind=kind).delete()
        return None
    rating, _ = Rating.objects.update_or_create(
        finding=finding, user=user, kind=kind, defaults={"value": value}
    )
    return rating


@transaction.atomic
def finding_move(
    *, finding: Finding, user: User, impact: int | None, effort: int | None
) -> Finding:
    """Place a finding on the matrix by hand; None on an axis follows the ratings again."""
    _check_scale(impact, "Business impact")
    _check_scale(effort, "Technical effort")
    finding.impact_override, finding.effort_override = impact, effort
    finding.save(update_fields=["impact_override", "effort_override", "updated_at"])
    finding_changed(finding)
    return finding


ACCEPTANCE_MAX_DAYS = 3 * 366


@transaction.atomic
def finding_accept(*, finding: Finding, user: User, reason: str, until: date | None) -> Finding:
    """Accept a finding as a risk instead of acting on it: who, why, and until when (the
    acceptance is reviewed then)."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("Say why the risk is accepted.", field="reason")
    if until is None:
        raise ServiceError("Say until when the risk is accepted.", field="until")
    if until <= timezone.localdate():
        raise ServiceError("Choose a date after today.", field="until")
    if until > timezone.localdate() + timedelta(days=ACCEPTANCE_MAX_DAYS):
        raise ServiceError(
            "Accept a risk for three years at most; review it again then.", field="until"
        )
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
    finding_changed(finding)
    return finding


@transaction.atomic
def finding_revoke_acceptance(*, finding: Finding, user: User) -> Finding:
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
    finding_changed(finding)
    return finding
