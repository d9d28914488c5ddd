"""Celery tasks: thin, idempotent, taking ids and calling one service each. Retries are not
Celery's: a failed attempt leaves its job row due later, and the job sweep
(reviews.tasks.sweep_jobs) sends it then (reviews.jobs)."""

from __future__ import annotations

from celery import shared_task

from actions import documents, pdf, plan, reminders


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def send_plan_recap(recap_id: int) -> bool:
    """Send a published plan's recap email; a duplicate or late message does nothing."""
    return plan.plan_recap_send(recap_id=recap_id)


@shared_task(
    acks_late=True,
    soft_time_limit=documents.SOFT_TIME_LIMIT,
    time_limit=documents.TIME_LIMIT,
)
def generate_plan_document(document_id: int) -> None:
    """Generate one version of the action-plan PDF; a duplicate or late message does
    nothing."""
    pdf.plan_document_generate(document_id=document_id)


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def send_reminder(reminder_id: int) -> None:
    """Send one reminder; a duplicate or late message sends nothing."""
    reminders.reminder_send(reminder_id=reminder_id)


@shared_task(acks_late=True, soft_time_limit=240, time_limit=280)
def dispatch_reminders() -> int:
    """The periodic sweep: insert what is due (once per key) and queue the sending of the
    new reminders. Safe to run twice at once."""
    return len(reminders.reminders_dispatch().queued)


@shared_task(acks_late=True, soft_time_limit=240, time_limit=280)
def send_weekly_digests() -> int:
    """The weekly digest, for those who take some occasions weekly: once per ISO week."""
    return len(reminders.digests_dispatch())
