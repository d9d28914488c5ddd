"""The action-plan PDF: generating one version (the task's service) and rendering the plan
with WeasyPrint.

- The task calls `plan_document_generate`, which claims the job row (reviews.jobs), so a
  duplicate or redelivered message does nothing; renders `plan_html` through `render_pdf`;
  stores the file through the default storage; and finishes the row, or fails it with the
  error. A database or storage error is transient: the row is tried again after a backoff,
  up to its max_attempts (`actions.documents` holds requests and retries).

Rendering fetches nothing from the network: the only URLs it resolves are our own static
files, read from disk (StaticFilesOnlyFetcher).
"""

from __future__ import annotations

import logging
import mimetypes
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlsplit

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import OperationalError
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import dateformat, timezone
from django.utils.safestring import mark_safe
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from actions import charts
from actions.documents import SOFT_TIME_LIMIT, TRANSIENT_ERRORS
from actions.findings import analysis_findings, matrix_points
from actions.milestones import risk_counts_by_pillar
from actions.models import ActionItem, PlanDocument
from actions.plan import plan_actions, roadmap
from questionnaires.risk import Risk
from reviews.jobs import error_text, job_claim, job_fail, job_finish
from reviews.models import (
    Answer,
    AnswerChoice,
    ChoiceNotApplicable,
    Participant,
    ParticipantRole,
    ReviewSession,
    SessionLens,
)

logger = logging.getLogger("pillarwise.pdf")


# --- Generating it (the task's service) ------------------------------------------------------


def plan_document_generate(*, document_id: int) -> PlanDocument | None:
    """Generate one version: claim it, render, store, finish. Returns the document, or None
    when there was nothing to claim (a duplicate message, already done, or claimed by a
    worker still within its lease): nothing happens then.

    An error while building or rendering fails the row with the message, for good. A
    database or storage error fails this attempt only: the row is tried again after the
    backoff, and failed for good after its last attempt.

    No transaction spans the rendering (seconds long): each change of the row is one
    conditional UPDATE, atomic on its own, and applies only to this claim."""
    document = job_claim(PlanDocument, document_id, select_related=["session__workload"])
    if document is None:
        logger.info("Plan document %s: nothing to claim", document_id)
        return None
    try:
        html = plan_html(
            document.session,
            paper=document.paper,
            version=document.version,
            generated_at=document.started_at,
        )
        rendered = render_pdf(html)
    except OperationalError as exc:
        job_fail(document, _describe(exc), retry=True)
        return document
    except Exception as exc:
        logger.exception("Rendering plan document %s failed", document_id)
        job_fail(document, _describe(exc), retry=False)
        return document
    try:
        name = _store(document, rendered.content)
    except TRANSIENT_ERRORS as exc:
        job_fail(document, _describe(exc), retry=True)
        return document
    job_finish(
        document,
        file=name,
        page_count=rendered.page_count,
        size_bytes=len(rendered.content),
    )
    return document


def _store(document: PlanDocument, content: bytes) -> str:
    """Save the file under its version's name. A file left by an earlier attempt of the same
    version is replaced, so running the job twice leaves one file."""
    name = document.storage_name()
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(content))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SoftTimeLimitExceeded):
        return f"Generating the PDF took longer than {SOFT_TIME_LIMIT} seconds and was stopped."
    return error_text(exc)


# --- Rendering -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedPdf:
    content: bytes
    page_count: int


def render_pdf(html: str) -> RenderedPdf:
    """Lay out and write the PDF with WeasyPrint; the page count comes from the layout."""
    document = HTML(
        string=html, base_url=f"{settings.SITE_URL}/", url_fetcher=StaticFilesOnlyFetcher()
    ).render()
    return RenderedPdf(content=document.write_pdf(), page_count=len(document.pages))


class RefusedResource(ValueError):
    """The PDF asked for something other than our own static files."""


class StaticFilesOnlyFetcher(URLFetcher):
    """WeasyPrint's URL fetcher, restricted: our static files (read from disk, through the
    staticfiles finders) and data: URLs; anything else is refused, so rendering never
    touches the network or the rest of the file system."""

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        if url.startswith("data:"):
            return super().fetch(url, headers)
        path = _static_path(url)
        if path is None:
            raise RefusedResource(f"Refused to fetch {url}: the PDF uses only its own files.")
        mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime_type})


def _static_path(url: str) -> Path | None:
    """The file behind one of our static URLs, if any: collected (STATIC_ROOT, where the
    hashed names of production live) or found by the staticfiles finders."""
    static_url = settings.STATIC_URL
    prefix = urlsplit(static_url if urlsplit(static_url).netloc else settings.SITE_URL + static_url)
    parts = urlsplit(url)
    if (parts.scheme, parts.netloc) != (prefix.scheme, prefix.netloc):
        return None
    if not parts.path.startswith(prefix.path):
        return None
    relative = unquote(parts.path[len(prefix.path) :])
    if not relative or ".." in Path(relative).parts:
        return None
    try:
        if staticfiles_storage.exists(relative):
            return Path(staticfiles_storage.path(relative))
        found = finders.find(relative)
    except (SuspiciousFileOperation, NotImplementedError):
        return None
    return Path(found) if isinstance(found, str) else None


# --- The plan's data, in one pass ------------------------------------------------------------

RISK_ORDER = [Risk.HIGH, Risk.MEDIUM, Risk.NONE, Risk.NOT_APPLICABLE, Risk.UNANSWERED]
# The executive summary's top findings: first the quadrants that call for action.
QUADRANT_ORDER = ["do_first", "plan", "quick_win", "unrated", "defer"]
TOP_FINDINGS = 5


# The roadmap's progress bar: statuses in the order they fill it, and their colours.
PROGRESS_COLOURS = [
    (ActionItem.Status.DONE, "#1e7d4f"),
    (ActionItem.Status.IN_PROGRESS, "#2f5bd3"),
    (ActionItem.Status.BLOCKED, "#c62f3a"),
    (ActionItem.Status.RISK_ACCEPTED, "#6b7280"),
    (ActionItem.Status.OPEN, "#cfd4dc"),
]


@dataclass
class MonthGroup:
    """The actions due in one month (or without a due date): one row of the roadmap."""

    label: str
    actions: list[ActionItem]

    @property
    def counts(self) -> list[tuple[str, str, int]]:
        """(status, label, count) for each status present, in the bar's order."""
        present = [
            (status, sum(a.status == status for a in self.actions))
            for status, _ in PROGRESS_COLOURS
        ]
        return [(status, status.label, n) for status, n in present if n]

    @property
    def bar_style(self) -> str:
        """A progress bar as one gradient: done, in progress, blocked, accepted, open."""
        total, start, stops = len(self.actions), 0.0, []
        colours: dict[str, str] = dict(PROGRESS_COLOURS)
        for status, _, count in self.counts:
            end = start + 100 * count / total
            stops.append(f"{colours[status]} {start:.1f}%, {colours[status]} {end:.1f}%")
            start = end
        return f"background: linear-gradient(to right, {', '.join(stops)})" if stops else ""

    @property
    def owners(self) -> list[str]:
        names = {a.owner.get_full_name() or a.owner.username for a in self.actions if a.owner}
        return sorted(names)

    @property
    def savings(self) -> list[tuple[str, Decimal]]:
        return _savings(self.actions)


@dataclass
class PillarAnswers:
    name: str
    answers: list[Answer]


@dataclass
class LensAnswers:
    name: str
    pillars: list[PillarAnswers]


def _answered(session: ReviewSession) -> list[LensAnswers]:
    """Every answered question (not UNANSWERED) with its selected choices and notes,
    grouped by lens (in the session's order) and pillar."""
    lens_order = dict(SessionLens.objects.filter(session=session).values_list("lens_id", "order"))
    selections = Prefetch(
        "selections",
        queryset=AnswerChoice.objects.select_related("choice").order_by("choice__order"),
    )
    answers = (
        Answer.objects.filter(session=session)
        .exclude(risk=Risk.UNANSWERED)
        .select_related("question__pillar__lens")
        .prefetch_related(
            selections,
            Prefetch(
                "choice_exclusions",
                queryset=ChoiceNotApplicable.objects.select_related("choice").order_by(
                    "choice__order"
                ),
            ),
        )
    )
    ordered = sorted(
        answers,
        key=lambda a: (
            lens_order.get(a.question.pillar.lens_id, len(lens_order)),
            a.question.pillar.lens_id,
            a.question.pillar.order,
            a.question.order,
        ),
    )
    lenses: list[LensAnswers] = []
    for answer in ordered:
        pillar = answer.question.pillar
        if not lenses or lenses[-1].name != str(pillar.lens):
            lenses.append(LensAnswers(str(pillar.lens), []))
        lens = lenses[-1]
        if not lens.pillars or lens.pillars[-1].name != pillar.name:
            lens.pillars.append(PillarAnswers(pillar.name, []))
        lens.pillars[-1].answers.append(answer)
    return lenses


def _savings(actions: list[ActionItem]) -> list[tuple[str, Decimal]]:
    """Estimated monthly savings per currency (different currencies are never added)."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for action in actions:
        if action.monthly_saving:
            totals[action.currency] += action.monthly_saving
    return sorted(totals.items())


def plan_context(
    session: ReviewSession,
    *,
    paper: str = PlanDocument.Paper.A4,
    version: int | None = None,
    generated_at: datetime | None = None,
) -> dict:
    """Everything the plan shows, read in a fixed number of queries whatever its size."""
    session = ReviewSession.objects.select_related("workload__team", "workload__owner").get(
        pk=session.pk
    )
    participants = list(
        Participant.objects.filter(session=session)
        .select_related("user")
        .order_by("role", "user__first_name", "user__last_name", "user__username")
    )
    risk_rows = risk_counts_by_pillar(session)
    totals: dict[str, int] = defaultdict(int)
    for _, counts in risk_rows:
        for risk, count in counts.items():
            totals[risk] += count
    infos = analysis_findings(session)
    findings = [info for info in infos if not info.is_accepted]
    points = matrix_points(findings)
    for point in points:
        point.url = ""  # no links inside the PDF's chart
    actions = [a for a in plan_actions(session) if a.status != ActionItem.Status.CANCELLED]
    today = timezone.localdate()
    question_count = sum(totals.values())
    return {
        "session": session,
        "workload": session.workload,
        "paper": paper,
        "version": version,
        "generated_at": generated_at or timezone.now(),
        "review_date": (
            timezone.localdate(session.review_starts_at) if session.review_starts_at else None
        ),
        "facilitators": [p.user for p in participants if p.role == ParticipantRole.FACILITATOR],
        "participants": participants,
        "risk_totals": [(risk, Risk(risk).label, totals.get(risk, 0)) for risk in RISK_ORDER],
        "question_count": question_count,
        "answered_count": question_count - totals.get(Risk.UNANSWERED, 0),
        "risk_chart": mark_safe(charts.risk_bars_svg(risk_rows, width=640)),
        "findings": findings,
        "top_findings": sorted(
            findings, key=lambda info: (QUADRANT_ORDER.index(info.position.quadrant), info.number)
        )[:TOP_FINDINGS],
        "accepted": [info.finding for info in infos if info.is_accepted],
        "matrix": mark_safe(charts.matrix_svg(points, width=640)) if points else "",
        "actions": actions,
        "done_count": sum(1 for a in actions if a.status == ActionItem.Status.DONE),
        "overdue_count": sum(1 for a in actions if a.is_overdue(today)),
        "today": today,
        "savings": _savings(actions),
        "roadmap": [
            MonthGroup(dateformat.format(month, "F Y") if month else "No due date yet", items)
            for month, items in roadmap(actions)
        ],
        "lenses": _answered(session),
    }


def plan_html(
    session: ReviewSession,
    *,
    paper: str = PlanDocument.Paper.A4,
    version: int | None = None,
    generated_at: datetime | None = None,
) -> str:
    """The action plan as one HTML document, ready for WeasyPrint."""
    context = plan_context(session, paper=paper, version=version, generated_at=generated_at)
    return render_to_string("actions/pdf/plan.html", context)
