"""Celery tasks of reviews: thin, taking ids, calling one service."""

from smtplib import SMTPException

from celery import shared_task

from reviews.invitations import invitation_send


@shared_task(
    acks_late=True,
    autoretry_for=(SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=8,
    soft_time_limit=60,
    time_limit=90,
)
def send_invitation(invitation_id: int, nonce: int) -> bool:
    """Email one invitation link; a duplicate or late message sends nothing."""
    return invitation_send(invitation_id=invitation_id, nonce=nonce)
