"""Celery tasks of reviews: thin, taking ids, calling one service. Retries are not Celery's:
a failed attempt leaves its job row due later, and the sweep sends it then (reviews.jobs)."""

from celery import shared_task

from reviews import jobs
from reviews.invitations import invitation_email_send
from reviews.team_invitations import team_invitation_email_send


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def send_invitation_email(email_id: int) -> bool:
    """Email one invitation link; a duplicate or late message sends nothing."""
    return invitation_email_send(email_id=email_id)


@shared_task(acks_late=True, soft_time_limit=240, time_limit=280)
def sweep_jobs() -> int:
    """Every job model: send again what is due and has no message on its way (retries after
    their backoff, lost messages, dead workers' claims). Returns how many were sent."""
    return sum(len(swept.requeued) for swept in jobs.jobs_sweep().values())


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def send_team_invitation_email(email_id: int) -> bool:
    """Email one team invitation; a duplicate or late message sends nothing."""
    return team_invitation_email_send(email_id=email_id)
