"""Queueing a background job by its task's name, once the transaction commits."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction

from actions import documents, followups, plan
from config.celery import app
from reviews import invitations, jobs
from reviews.models import Invitation

# Every task a service queues by name, and every task the beat schedule sends.
QUEUED_BY_SERVICES = [
    documents.GENERATE_TASK,
    plan.SEND_RECAP_TASK,
    followups.SEND_REMINDER_TASK,
    invitations.SEND_TASK,
]


@pytest.mark.parametrize(
    "name",
    QUEUED_BY_SERVICES + [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()],
)
def test_every_task_named_in_the_code_is_registered(name):
    assert jobs.task_named(name).name == name


def test_an_unknown_task_fails_at_once_inside_the_transaction(db):
    with pytest.raises(KeyError), transaction.atomic():
        jobs.queue_on_commit("actions.tasks.no_such_task", 1)


def test_the_task_is_sent_only_once_the_transaction_commits(
    db, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    task = app.tasks[documents.GENERATE_TASK]
    monkeypatch.setattr(task, "apply_async", lambda args: sent.append(args))
    with django_capture_on_commit_callbacks() as callbacks:
        jobs.queue_on_commit(documents.GENERATE_TASK, 42)
        assert sent == [], "nothing is sent before the commit"
    assert len(callbacks) == 1
    callbacks[0]()
    assert sent == [(42,)]


def test_a_rolled_back_transaction_sends_nothing(db, monkeypatch):
    sent = []
    monkeypatch.setattr(
        app.tasks[documents.GENERATE_TASK], "apply_async", lambda args: sent.append(args)
    )

    class RolledBack(Exception):
        pass

    with pytest.raises(RolledBack), transaction.atomic():
        jobs.queue_on_commit(documents.GENERATE_TASK, 42)
        raise RolledBack
    assert sent == []


def test_on_the_embedded_setup_the_task_runs_in_this_process(
    cast, review, django_capture_on_commit_callbacks
):
    """Eager mode (no REDIS_URL): queueing by name still runs the task here, on commit."""
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invitations.invitation_create(
            session=review, user=cast.admin, email="new@example.com", role="operations"
        )
    assert [m.to for m in mail.outbox] == [["new@example.com"]]
    assert Invitation.objects.get(pk=invitation.pk).sent_at is not None
