"""End to end: a real Celery worker with beat, on Redis, against the test database. Beat
fires the dispatcher (every second here), the worker sends the reminders, and they land in
the file mail backend."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.utils import timezone

from actions.models import Notification, Reminder
from tests.actions.cadence_helpers import make_session
from tests.conftest import require_redis

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")

pytestmark = [pytest.mark.worker, pytest.mark.redis]


def database_url() -> str:
    """The URL of the test database this process uses, for the worker process."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = f"{credentials}@" if credentials else ""
    return f"postgres://{host}{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    return process.stdout.read() if process.stdout else ""


@pytest.mark.django_db(transaction=True)
def test_a_worker_and_beat_on_redis_deliver_the_reminders(cast, lenses, tmp_path):
    redis_url = require_redis()
    session = make_session(cast, starts=timezone.now() + timedelta(days=1))
    outbox = tmp_path / "mail"
    outbox.mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "EMAIL_URL": f"file://{outbox}",
        "REMINDER_DISPATCH_SECONDS": "1",
        "TIME_ZONE": settings.TIME_ZONE,
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    # Messages left in this Redis database by earlier runs would only get in the way.
    subprocess.run(
        [str(CELERY), "-A", "config", "purge", "-f"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    worker = subprocess.Popen(
        [
            str(CELERY), "-A", "config", "worker", "--beat", "--pool=solo",
            "--schedule", str(tmp_path / "beat-schedule"),
            "--without-heartbeat", "--without-gossip", "--without-mingle",
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    log = ""
    try:
        deadline = time.monotonic() + 90
        messages: list[str] = []
        while time.monotonic() < deadline and worker.poll() is None:
            messages = [path.read_text() for path in outbox.iterdir()]
            if sum(text.count("Subject: Tomorrow:") for text in messages) >= 2:
                break
            time.sleep(0.5)
    finally:
        log = stop(worker)
    mail_text = "\n".join(messages)
    assert mail_text.count("Subject: Tomorrow: the Well-Architected review of Checkout") == 2, log
    assert "To: alice@example.com" in mail_text and "To: bob@example.com" in mail_text
    assert f"/sessions/{session.uuid}/" in mail_text
    assert set(Reminder.objects.values_list("status", flat=True)) == {Reminder.Status.SENT}
    assert Reminder.objects.count() == 2
    assert Notification.objects.filter(user__in=[cast.admin, cast.member]).count() == 2
    assert "actions.tasks.dispatch_reminders" in log and "actions.tasks.send_reminder" in log
