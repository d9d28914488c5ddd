"""End to end: a real Celery worker with beat, on Redis, against the test database. Beat
fires the dispatcher (every second here), the worker sends the reminders, and they land in
the file mail backend."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from actions.models import Notification, Reminder
from tests.actions.cadence_helpers import make_session

pytestmark = [pytest.mark.worker, pytest.mark.redis]


@pytest.mark.django_db(transaction=True)
def test_a_worker_and_beat_on_redis_deliver_the_reminders(
    cast, lenses, tmp_path, start_worker, reminders_at_midday
):
    # Every day a working day from 06:00, for recipients at midday: sent as soon as found.
    session = make_session(cast, starts=timezone.now() + timedelta(days=1))
    outbox = tmp_path / "mail"
    outbox.mkdir()
    worker = start_worker(
        beat=True, env={"EMAIL_URL": f"file://{outbox}", "REMINDER_DISPATCH_SECONDS": "1"}
    )
    deadline = time.monotonic() + 90
    messages: list[str] = []
    while time.monotonic() < deadline and worker.process.poll() is None:
        messages = [path.read_text() for path in outbox.iterdir()]
        text = "\n".join(messages)
        if text.count("Subject: Tomorrow:") >= 2 and text.count("Subject: Preparation starts") >= 2:
            break
        time.sleep(0.5)
    log = worker.stop()
    mail_text = "\n".join(messages)
    assert mail_text.count("Subject: Tomorrow: the Well-Architected review of Checkout") == 2, log
    assert "To: alice@example.com" in mail_text and "To: bob@example.com" in mail_text
    assert f"/sessions/{session.uuid}/" in mail_text
    # Preparation started too (the review is tomorrow): announced to both.
    assert mail_text.count("Subject: Preparation starts for the Checkout review") == 2, log
    assert set(Reminder.objects.values_list("status", flat=True)) == {Reminder.Status.SENT}
    assert Reminder.objects.count() == 4
    assert Notification.objects.filter(user__in=[cast.admin, cast.member]).count() == 4
    assert "actions.tasks.dispatch_reminders" in log and "actions.tasks.send_reminder" in log
