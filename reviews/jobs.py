"""Background jobs: one mechanism for every job (the action-plan PDF, the plan's recap email,
reminders, invitation emails).

A job is a row of a model that inherits `Job`: its own table and domain fields, plus a
status, attempts, the next attempt time, a lease and the last error.

    pending --claim--> running --finish--> done (or the model's own finished status)
                          |----fail-------> pending again after a backoff, or failed for good
                          '--lease expires (the worker died)--> claimed again

- A service creates the row and calls `job_queue` in its transaction: the model's Celery
  task is sent, by name, with the row's id once the transaction commits. When the broker
  cannot be reached that is logged and the row stays pending: queueing never fails a
  committed request.
- The task claims the row (`job_claim`: one conditional UPDATE), does the work, then
  `job_finish`es or `job_fail`s it. A duplicate or late message finds nothing to claim.
- The sweep (`jobs_sweep`, every minute from beat or the in-process runner) sends the task
  again for pending rows that are due and whose message was lost or never sent (retries
  after their backoff among them), and for running rows whose lease expired; a row whose
  last attempt's lease expired is failed for good.
- An exhausted row stays failed, for admins to find and requeue (`job_requeue`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar, TypeVar, cast

from celery import Task
from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, models, transaction
from django.db.models import F, Q
from django.utils import timezone

from config.celery import app

logger = logging.getLogger("pillarwise.jobs")

J = TypeVar("J", bound="Job")
SWEEP_BATCH = 500
ERROR_LENGTH = 2000


class JobStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


ACTIVE = [JobStatus.PENDING.value, JobStatus.RUNNING.value]


def job_index(name: str) -> models.Index:
    """The index of the claim and the sweep: rows still to do, by status and due time.
    Partial, so it stays small however many finished rows the table holds."""
    return models.Index(
        fields=["status", "next_attempt_at"], condition=Q(status__in=ACTIVE), name=name
    )


class JobQuerySet(models.QuerySet[J]):
    def exhausted(self) -> JobQuerySet[J]:
        """Failed after using up every attempt."""
        return self.filter(status=JobStatus.FAILED, attempts__gte=F("max_attempts"))

    def retrying(self) -> JobQuerySet[J]:
        """Pending after a failed attempt, waiting for the next one."""
        return self.filter(status=JobStatus.PENDING, attempts__gt=0)

    def lease_expired(self, now: datetime) -> JobQuerySet[J]:
        """Running with no word from the worker within the lease: it probably died."""
        return self.filter(status=JobStatus.RUNNING, lease_expires_at__lte=now)


class Job(models.Model):
    """The fields and policy every job row shares. A job model sets TASK (the Celery task,
    by name, that takes the row's id), LEASE (longer than the task's hard time limit, so a
    live worker never loses its claim) and LOST_AFTER (a message not picked up in that
    long is considered lost). A model may declare its own `status` field whose choices add
    finished states to pending, running and failed (a reminder is "sent" or "skipped")."""

    TASK: ClassVar[str]
    LEASE: ClassVar[timedelta] = timedelta(minutes=2)
    LOST_AFTER: ClassVar[timedelta] = timedelta(minutes=5)

    status = models.CharField(max_length=8, choices=JobStatus.choices, default=JobStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=10)
    # A pending row is claimed from this time on (later after a failed attempt).
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # When its message was last sent (None: not sent, or sending it failed).
    queued_at = models.DateTimeField(null=True, blank=True)
    # A running row whose lease has expired is claimed again: its worker died.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def is_exhausted(self) -> bool:
        return self.status == JobStatus.FAILED and self.attempts >= self.max_attempts


def error_text(exc: BaseException) -> str:
    message = str(exc).strip() or "no details"
    return f"{type(exc).__name__}: {message}"[:ERROR_LENGTH]


def backoff(attempts: int) -> timedelta:
    """The wait after failed attempt number `attempts`: JOB_BACKOFF_SECONDS, doubling with
    each attempt, at most JOB_BACKOFF_MAX_SECONDS."""
    seconds = settings.JOB_BACKOFF_SECONDS * 2 ** min(max(attempts - 1, 0), 30)
    return timedelta(seconds=min(seconds, settings.JOB_BACKOFF_MAX_SECONDS))


# --- Queueing ----------------------------------------------------------------------------------


def task_named(name: str) -> Task:
    """The task registered as `name` ("actions.tasks.send_reminder"). The apps' tasks
    modules are imported the first time one is asked for; KeyError for an unknown name."""
    if name not in app.tasks:
        app.loader.import_default_modules()
    return app.tasks[name]


def job_queue(model: type[Job], ids: Iterable[int]) -> None:
    """Send the model's task for each row once the current transaction commits (at once
    outside one). The caller has set the rows' queued_at. An unknown task name fails here,
    inside the transaction, rather than after it."""
    ids = list(ids)
    if ids:
        task = task_named(model.TASK)
        transaction.on_commit(lambda: _send(model, task, ids))


def _send(model: type[Job], task: Task, ids: list[int]) -> None:
    """Runs after the commit, so it must never raise: the request has succeeded. When the
    broker is unreachable the rows not sent get queued_at cleared, and the sweep sends them
    once it runs again."""
    for n, pk in enumerate(ids):
        try:
            task.apply_async((pk,))
        except Exception:  # the broker, however it fails
            logger.exception(
                "Could not queue %s for %s %s row(s): the sweep will send them",
                task.name,
                len(ids) - n,
                model._meta.label,
            )
            try:
                model._default_manager.filter(pk__in=ids[n:], status__in=ACTIVE).update(
                    queued_at=None
                )
            except DatabaseError:
                logger.exception("Could not mark the rows not queued; the sweep finds them later")
            return


# --- Claiming and ending a claim ---------------------------------------------------------------


def _claimable(now: datetime) -> Q:
    return Q(status=JobStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=JobStatus.RUNNING, lease_expires_at__lte=now, attempts__lt=F("max_attempts")
    )


def job_claim(
    model: type[J], pk: int, *, now: datetime | None = None, select_related: Sequence[str] = ()
) -> J | None:
    """Claim row `pk` with one conditional UPDATE (pending and due, or running with an
    expired lease): running, leased for model.LEASE, one more attempt. None when there is
    nothing to claim (done, failed, claimed by a live worker, or not due yet)."""
    now = now or timezone.now()
    claimed = model._default_manager.filter(_claimable(now), pk=pk).update(
        status=JobStatus.RUNNING,
        attempts=F("attempts") + 1,
        started_at=now,
        finished_at=None,
        lease_expires_at=now + model.LEASE,
    )
    if not claimed:
        return None
    return cast(J, model._default_manager.select_related(*select_related).get(pk=pk))


def _end(job: Job, values: dict[str, object]) -> bool:
    """Apply `values` if the row is still this claim's (running, same attempt)."""
    model = type(job)
    ours = model._default_manager.filter(
        pk=job.pk, status=JobStatus.RUNNING, attempts=job.attempts
    ).update(**values)
    if not ours:
        logger.warning("%s %s: the claim was lost before it ended", model._meta.label, job.pk)
        return False
    for name, value in values.items():
        setattr(job, name, value)
    return True


def job_finish(job: Job, *, status: str = JobStatus.DONE, **fields: object) -> bool:
    """End this claim: done (or the model's own finished status), with `fields`. False,
    changing nothing, when the claim was lost meanwhile (another worker took the row)."""
    values = {"status": status, "finished_at": timezone.now(), "lease_expires_at": None}
    return _end(job, {"last_error": "", **values, **fields})


def job_wait(job: Job, *, until: datetime) -> bool:
    """End this claim without using an attempt: the row is pending again, due at `until`
    (part of its work waits for a later hour, e.g. a recipient's working day)."""
    values = {
        "status": JobStatus.PENDING,
        "next_attempt_at": until,
        "queued_at": None,
        "lease_expires_at": None,
        "attempts": job.attempts - 1,
    }
    return _end(job, values)


def job_fail(job: Job, error: str, *, retry: bool = True, now: datetime | None = None) -> bool:
    """End this claim with `error`. With `retry` and attempts left, the row is pending again,
    due after the backoff (the sweep sends it then); otherwise it is failed for good."""
    now = now or timezone.now()
    error = error[:ERROR_LENGTH]
    model = type(job)._meta.label
    if retry and job.attempts < job.max_attempts:
        delay = backoff(job.attempts)
        logger.warning(
            "%s %s: attempt %s failed, next in %s s: %s",
            model,
            job.pk,
            job.attempts,
            int(delay.total_seconds()),
            error,
        )
        values = {"status": JobStatus.PENDING, "next_attempt_at": now + delay, "queued_at": None}
    else:
        logger.error("%s %s failed after %s attempt(s): %s", model, job.pk, job.attempts, error)
        values = {"status": JobStatus.FAILED, "finished_at": now}
    return _end(job, {**values, "lease_expires_at": None, "last_error": error})


# --- The sweep and the requeue -----------------------------------------------------------------


@dataclass
class Swept:
    requeued: list[int] = field(default_factory=list)
    failed: int = 0


def job_sweep(model: type[Job], *, now: datetime | None = None) -> Swept:
    """Send the task again for the rows that need a message, and fail the rows whose last
    attempt's lease expired. Harmless when it overlaps itself or a worker: rows another
    sweep is taking are skipped, and every change is conditional."""
    now = now or timezone.now()
    manager = model._default_manager
    swept = Swept()
    swept.failed = manager.filter(
        status=JobStatus.RUNNING, lease_expires_at__lte=now, attempts__gte=F("max_attempts")
    ).update(
        status=JobStatus.FAILED,
        finished_at=now,
        lease_expires_at=None,
        last_error="The worker stopped, or took longer than its lease, on the last attempt.",
    )
    not_sent = Q(queued_at__isnull=True) | Q(queued_at__lte=now - model.LOST_AFTER)
    lost = manager.filter(
        Q(not_sent, status=JobStatus.PENDING, next_attempt_at__lte=now)
        | Q(
            not_sent | Q(queued_at__lt=F("lease_expires_at")),
            status=JobStatus.RUNNING,
            lease_expires_at__lte=now,
            attempts__lt=F("max_attempts"),
        )
    ).order_by("pk")
    while True:
        with transaction.atomic():
            ids = list(
                lost.select_for_update(skip_locked=True).values_list("pk", flat=True)[:SWEEP_BATCH]
            )
            manager.filter(pk__in=ids).update(queued_at=now)
            job_queue(model, ids)
        swept.requeued += ids
        if len(ids) < SWEEP_BATCH:
            break
    if swept.requeued or swept.failed:
        logger.info(
            "Sweep of %s: %s sent again, %s failed for good",
            model._meta.label,
            len(swept.requeued),
            swept.failed,
        )
    return swept


def job_models() -> list[type[Job]]:
    return [model for model in apps.get_models() if issubclass(model, Job)]


def jobs_sweep(*, now: datetime | None = None) -> dict[str, Swept]:
    """Sweep every job model; the result by model label."""
    return {model._meta.label: job_sweep(model, now=now) for model in job_models()}


def job_requeue(model: type[Job], ids: Iterable[int]) -> list[int]:
    """Put failed rows back in line: pending, due now, attempts counted afresh, and queue
    them. Rows in any other status are left alone. Returns the ids put back."""
    now = timezone.now()
    with transaction.atomic():
        taken = list(
            model._default_manager.select_for_update()
            .filter(pk__in=list(ids), status=JobStatus.FAILED)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        model._default_manager.filter(pk__in=taken).update(
            status=JobStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            queued_at=now,
            lease_expires_at=None,
            started_at=None,
            finished_at=None,
            last_error="",
        )
        job_queue(model, taken)
    return taken
