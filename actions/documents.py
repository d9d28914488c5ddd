"""The action plan's PDF documents: one job row per version (reviews.jobs).

- `plan_document_request` adds the session's next version as pending and queues its
  generation (`actions.pdf.plan_document_generate`, through the task) once the transaction
  commits; `plan_document_retry` puts a failed version back in line.
- The job sweep (every minute) sends the generation again when its message was lost, after
  a transient error's backoff, and when the worker died mid-render (the lease expired): the
  page keeps showing progress meanwhile, and nobody has to press Retry.

The limits of the generation live here, with the rows they govern.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.db import OperationalError, transaction
from django.db.models import Max
from django.utils import timezone

from actions.models import PlanDocument
from reviews.errors import ServiceError
from reviews.jobs import job_queue, job_requeue
from reviews.models import ReviewSession

# The task's limits (actions/tasks.py uses them): the soft limit stops rendering with an
# error the row shows; the hard limit stops the worker child. The row's lease is a fifth
# longer than the hard limit (PlanDocument.LEASE).
TIME_LIMIT = settings.PDF_TIME_LIMIT
SOFT_TIME_LIMIT = TIME_LIMIT - max(TIME_LIMIT // 5, 1)
# Errors worth another attempt: the database or the storage being briefly unavailable.
TRANSIENT_ERRORS = (OperationalError, OSError)

Status = PlanDocument.Status


# --- Requesting a document -------------------------------------------------------------------


@transaction.atomic
def plan_document_request(
    *, session: ReviewSession, user: User, paper: str = PlanDocument.Paper.A4
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
    job_queue(PlanDocument, [document.pk])
    return document


@transaction.atomic
def plan_document_retry(*, document: PlanDocument) -> PlanDocument:
    """Put a failed version back in line (same version number, attempts counted afresh)."""
    retried = job_requeue(PlanDocument, [document.pk])
    document.refresh_from_db()
    if not retried:
        raise ServiceError(
            f"Only a failed PDF can be retried; version {document.version} is "
            f"{document.get_status_display().lower()}."
        )
    return document
