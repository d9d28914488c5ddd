"""The migrations to job rows keep the rows in flight meaningful: a reminder being sent is
running with a lease, a retry keeps its wait, an error stays the last error, and an
invitation whose email never went out gets the job row that sends it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from actions.models import PlanDocument, Reminder
from reviews.models import InvitationEmail

BEFORE = [("actions", "0001_initial"), ("reviews", "0002_choice_not_applicable")]


@pytest.mark.django_db(transaction=True)
def test_rows_in_flight_become_job_rows(cast, review):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    now = timezone.now()
    claimed = now - timedelta(minutes=1)
    old_reminder = old.get_model("actions", "Reminder")
    sending = old_reminder.objects.create(
        key="a", occasion="action_due", recipient_id=cast.member.pk, due_at=now,
        status="sending", attempts=1, claimed_at=claimed,
    )  # fmt: skip
    waiting = old_reminder.objects.create(
        key="b", occasion="action_due", recipient_id=cast.member.pk, due_at=now,
        attempts=1, queued_at=now + timedelta(minutes=4),
    )  # fmt: skip
    document = old.get_model("actions", "PlanDocument").objects.create(
        session_id=review.pk, version=1, status="running", attempts=1, started_at=claimed,
        error="Attempt 1 failed (OSError); trying again.",
    )  # fmt: skip
    invitation = old.get_model("reviews", "Invitation")
    unsent = invitation.objects.create(
        session_id=review.pk, email="a@example.com", role="operations", nonce=2,
        expires_at=now + timedelta(days=7),
    )  # fmt: skip
    for n, fields in enumerate(({"sent_at": now}, {"expires_at": now}, {"revoked_at": now})):
        invitation.objects.create(
            session_id=review.pk, email=f"other{n}@example.com", role="operations",
            **{"expires_at": now + timedelta(days=7), **fields},
        )  # fmt: skip

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    running = Reminder.objects.get(pk=sending.pk)
    assert (running.status, running.started_at) == (Reminder.Status.RUNNING, claimed)
    assert running.lease_expires_at == claimed + Reminder.LEASE
    retry = Reminder.objects.get(pk=waiting.pk)
    assert (retry.status, retry.next_attempt_at, retry.queued_at) == (
        Reminder.Status.PENDING,
        now + timedelta(minutes=4),
        None,
    )
    pdf = PlanDocument.objects.get(pk=document.pk)
    assert pdf.last_error.startswith("Attempt 1 failed") and pdf.lease_expires_at > claimed
    email = InvitationEmail.objects.get()
    assert (email.invitation_id, email.nonce, email.status) == (unsent.pk, 2, "pending")
