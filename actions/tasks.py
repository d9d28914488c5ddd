"""Celery tasks: thin, idempotent, taking ids and calling one service each."""

from __future__ import annotations

from celery import shared_task

from actions import documents, pdf, plan, reminders

# --- The action plan: recap email (analysis and plan) -----------------------------------------


@shared_task(
    bind=True,
    acks_late=True,
    max_retries=plan.RECAP_MAX_ATTEMPTS,
    soft_time_limit=60,
    time_limit=90,
)
def send_plan_recap(self, recap_id: int) -> None:
    """Send a published plan's recap email. A duplicate or late message finds the row no
    longer pending and does nothing; mail-server trouble is retried with a growing delay."""
    try:
        plan.plan_recap_send(recap_id=recap_id)
    except plan.TransientError as exc:
        countdown = min(60 * 2**self.request.retries, 1800)
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task(acks_late=True, soft_time_limit=30, time_limit=60)
def sweep_plan_recaps() -> None:
    """Re-queue recap emails a lost message left pending."""
    plan.plan_recaps_sweep()


# --- The action-plan PDF ---------------------------------------------------------------------


@shared_task(
    bind=True,
    acks_late=True,
    max_retries=documents.MAX_ATTEMPTS - 1,
    soft_time_limit=documents.SOFT_TIME_LIMIT,
    time_limit=documents.TIME_LIMIT,
)
def generate_plan_document(self, document_id: int) -> None:
    """Generate one version of the action-plan PDF. A duplicate or late message finds the row
    no longer pending and does nothing; database and storage errors are retried."""
    try:
        pdf.plan_document_generate(document_id=document_id)
    except documents.TRANSIENT_ERRORS as exc:
        raise self.retry(exc=exc, countdown=documents.retry_delay(self.request.retries)) from exc


@shared_task(acks_late=True, soft_time_limit=30, time_limit=60)
def sweep_plan_documents() -> None:
    """Re-queue PDFs a lost message left pending; fail those stuck running past the limit."""
    documents.plan_documents_sweep()


# --- Reminders and notifications (the cadence) ------------------------------------------------


@shared_task(
    bind=True,
    acks_late=True,
    # The service counts attempts and marks the reminder failed after its last one.
    max_retries=reminders.MAX_ATTEMPTS,
    soft_time_limit=60,
    time_limit=90,
)
def send_reminder(self, reminder_id: int) -> None:
    """Send one reminder. It claims its row, so a duplicate or late message sends nothing;
    transient mail errors (SMTPException, OSError) are retried with a growing delay."""
    try:
        reminders.reminder_send(reminder_id=reminder_id)
    except reminders.DeliveryDeferred as exc:
        raise self.retry(exc=exc, countdown=exc.countdown) from exc


@shared_task(acks_late=True, soft_time_limit=240, time_limit=280)
def dispatch_reminders() -> int:
    """The periodic sweep: insert what is due (once per key) and queue the sending of new
    reminders and of pending ones a lost message left behind. Safe to run twice at once."""
    sweep = reminders.reminders_dispatch()
    for reminder_id in sweep.queued:
        send_reminder.delay_on_commit(reminder_id)
    return len(sweep.queued)


@shared_task(acks_late=True, soft_time_limit=240, time_limit=280)
def send_weekly_digests() -> int:
    """The weekly digest, for those who take some occasions weekly: once per ISO week."""
    queued = reminders.digests_dispatch()
    for reminder_id in queued:
        send_reminder.delay_on_commit(reminder_id)
    return len(queued)
