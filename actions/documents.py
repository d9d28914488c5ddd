"""The action plan's PDF documents: one job row per version.

- `plan_document_request` adds the session's next version as pending and queues its
  generation (`actions.pdf.plan_document_generate`, through the task) once the transaction
  commits; `plan_document_retry` puts a failed version back in line.
- `plan_documents_sweep` (every minute, from beat) re-queues pending rows whose message was
  lost and fails running rows left behind past the time limit (a worker that died).

The limits and the retry policy of the generation live here, with the rows they govern.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import OperationalError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from actions.models import PlanDocument
from reviews.errors import ServiceError
from reviews.jobs import queue_on_commit
from reviews.models import ReviewSession

logger = logging.getLogger("pillarwise.pdf")

# The task that generates one version (actions/tasks.py).
GENERATE_TASK = "actions.tasks.generate_plan_document"
# The task's limits (actions/tasks.py uses them): the soft limit stops rendering with an
# error the row shows; the hard limit kills the worker child.
SOFT_TIME_LIMIT = 120
TIME_LIMIT = 150
# Claims per version before a transient error becomes a failure.
MAX_ATTEMPTS = 4
# A pending row whose message has not been picked up in this long lost its message.
STALE_PENDING = timedelta(minutes=1)
# A running row older than this was left behind by a worker that died.
STUCK_RUNNING = timedelta(seconds=TIME_LIMIT + 30)
# Errors worth another attempt: the database or the storage being briefly unavailable.
TRANSIENT_ERRORS = (OperationalError, OSError)

Status = PlanDocument.Status


def retry_delay(retries: int) -> int:
    """Seconds before the next attempt after a transient error: 5, 10, 20, … at most 40, so
    a retry always comes before the sweep would consider the row's message lost."""
    return min(5 * 2**retries, 40)


# --- Requesting a document -------------------------------------------------------------------


@transaction.atomic
def plan_document_request(
    *, session: ReviewSession, user, paper: str = PlanDocument.Paper.A4
) -> PlanDocument:
    """Add the session's next version of the action plan, pending, and queue its generation
    once this transaction commits. Earlier versions stay as they are."""
    if paper not in PlanDocument.Paper.values:
        raise ServiceError(f"Paper size: choose one of {', '.join(PlanDocument.Paper.labels)}.")
    # Lock the session so that two requests at once number their versions one after the other.
    list(ReviewSession.objects.select_for_update().filter(pk=session.pk).values_list("pk"))
    last = PlanDocument.objects.filter(session=session).aggregate(top=Max("version"))["top"]
    document = PlanDocument.objects.create(
        session=session,
        version=(last or 0) + 1,
        paper=paper,
        requested_by=user,
        queued_at=timezone.now(),
    )
    _queue(document.pk)
    return document


@transaction.atomic
def plan_document_retry(*, document: PlanDocument) -> PlanDocument:
    """Put a failed version back in line (same version number, attempts counted afresh)."""
    retried = PlanDocument.objects.filter(pk=document.pk, status=Status.FAILED).update(
        status=Status.PENDING,
        error="",
        attempts=0,
        queued_at=timezone.now(),
        started_at=None,
        finished_at=None,
    )
    document.refresh_from_db()
    if not retried:
        raise ServiceError(
            f"Only a failed PDF can be retried; version {document.version} is "
            f"{document.get_status_display().lower()}."
        )
    _queue(document.pk)
    return document


def _queue(document_id: int) -> None:
    queue_on_commit(GENERATE_TASK, document_id)


# --- The sweep -------------------------------------------------------------------------------


@dataclass
class SweepResult:
    requeued: list[int] = field(default_factory=list)
    failed: int = 0


@transaction.atomic
def plan_documents_sweep(*, now: datetime | None = None) -> SweepResult:
    """Re-queue pending versions whose message was lost (not claimed within STALE_PENDING of
    being queued) and fail running ones past the time limit (their worker died). Harmless
    when it overlaps itself or a worker: every change is a conditional update."""
    now = now or timezone.now()
    result = SweepResult()
    result.failed = PlanDocument.objects.filter(
        status=Status.RUNNING, started_at__lt=now - STUCK_RUNNING
    ).update(
        status=Status.FAILED,
        finished_at=now,
        error=(
            f"Generation did not finish within {TIME_LIMIT} seconds (the worker may have "
            "stopped). Retry to generate it again."
        ),
    )
    cutoff = now - STALE_PENDING
    stale = Q(queued_at__lt=cutoff) | Q(queued_at__isnull=True, created_at__lt=cutoff)
    ids = list(
        PlanDocument.objects.select_for_update(skip_locked=True)
        .filter(stale, status=Status.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)[:200]
    )
    if ids:
        PlanDocument.objects.filter(pk__in=ids, status=Status.PENDING).update(queued_at=now)
        for pk in ids:
            _queue(pk)
        logger.warning("Re-queued plan documents a lost message left behind: %s", ids)
    result.requeued = ids
    return result
