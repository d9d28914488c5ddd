"""The beat schedule run inside the web process on the embedded setup (reviews.periodic):
what runs when, that a failing task stops nothing, that the ASGI server starts it, and,
end to end, a reminder that falls due and is sent by a web process with no command run."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from typing import Any

import pytest
from celery.schedules import crontab
from django.utils import timezone

from actions.models import Reminder
from config import asgi
from reviews import periodic
from tests.actions.cadence_helpers import make_session
from tests.conftest import ROOT


class FakeTask:
    def __init__(self, name: str, calls: list[str], *, fails: bool = False) -> None:
        self.name, self.calls, self.fails = name, calls, fails

    def apply(self, throw: bool = False) -> None:
        self.calls.append(self.name)
        if self.fails:
            raise RuntimeError(f"{self.name} broke")


@pytest.fixture
def calls(monkeypatch) -> list[str]:
    """The tasks the runner runs, recorded instead of run; a task named "boom" fails."""
    ran: list[str] = []
    monkeypatch.setattr(
        periodic, "task_named", lambda name: FakeTask(name, ran, fails=name == "boom")
    )
    return ran


def test_interval_tasks_run_at_start_then_at_their_interval(calls, monkeypatch):
    runner = periodic.PeriodicRunner(
        {
            "often": {"task": "often", "schedule": 30.0},
            "rarely": {"task": "rarely", "schedule": 3600.0},
        }
    )
    assert runner.run_pending() == pytest.approx(30, abs=1)
    assert calls == ["often", "rarely"]
    assert runner.run_pending() <= 30 and calls == ["often", "rarely"], "nothing due yet"

    runner.entries[0].last_run_at -= timedelta(seconds=30)
    runner.run_pending()
    assert calls == ["often", "rarely", "often"]


def test_a_crontab_task_waits_for_its_time(calls):
    runner = periodic.PeriodicRunner(
        {"weekly": {"task": "weekly", "schedule": crontab(minute=0, hour=7, day_of_week="mon")}}
    )
    assert runner.run_pending() <= periodic.MAX_WAIT_SECONDS
    assert calls == []
    runner.entries[0].last_run_at -= timedelta(days=8)
    runner.run_pending()
    assert calls == ["weekly"]


def test_a_failing_task_is_logged_and_the_others_still_run(calls, caplog):
    runner = periodic.PeriodicRunner(
        {
            "first": {"task": "boom", "schedule": 60.0},
            "second": {"task": "sweep", "schedule": 60.0},
        }
    )
    runner.run_pending()
    assert calls == ["boom", "sweep"]
    assert "The periodic task first (boom) failed" in caplog.text


def test_the_runner_runs_the_beat_schedule_in_a_thread_and_stops(calls):
    runner = periodic.PeriodicRunner({"tick": {"task": "tick", "schedule": 0.05}})
    runner.start()
    deadline = time.monotonic() + 10
    while calls.count("tick") < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    runner.stop()
    assert calls.count("tick") >= 3
    assert runner._thread is not None and not runner._thread.is_alive()


def test_the_runner_takes_the_beat_schedule_of_the_settings(calls, settings):
    runner = periodic.PeriodicRunner()
    assert [entry.name for entry in runner.entries] == list(settings.CELERY_BEAT_SCHEDULE)
    runner.run_pending()
    assert calls == ["reviews.tasks.sweep_jobs", "actions.tasks.dispatch_reminders"]


@pytest.mark.parametrize(
    ("in_process", "eager", "wanted"),
    [(True, True, True), (False, True, False), (True, False, False)],
)
def test_it_runs_only_with_in_process_tasks_and_the_setting_on(settings, in_process, eager, wanted):
    settings.SCHEDULE_IN_PROCESS = in_process
    settings.CELERY_TASK_ALWAYS_EAGER = eager
    assert periodic.runner_wanted() is wanted


def test_a_process_starts_one_runner_at_most(settings, calls):
    settings.SCHEDULE_IN_PROCESS = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_BEAT_SCHEDULE = {"tick": {"task": "tick", "schedule": 3600.0}}
    try:
        first = periodic.runner_start()
        assert first is not None and periodic.runner_start() is first
    finally:
        periodic.runner_stop()
    assert first._thread is not None and not first._thread.is_alive()
    assert periodic._runner is None


def test_the_asgi_servers_lifespan_starts_and_stops_the_runner(monkeypatch):
    events: list[str] = []
    monkeypatch.setattr(periodic, "runner_start", lambda: events.append("start"))
    monkeypatch.setattr(periodic, "runner_stop", lambda: events.append("stop"))
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(asgi.application({"type": "lifespan"}, receive, send))

    assert events == ["start", "stop"]
    assert [m["type"] for m in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]


# --- End to end: the embedded setup served as `make run` serves it --------------------------


@pytest.mark.django_db(transaction=True)
def test_a_due_reminder_is_sent_by_the_web_process_with_no_command_run(
    cast, lenses, tmp_path, free_port, worker_database_url, reminders_at_midday
):
    """uvicorn serves the app with no REDIS_URL, its lifespan on (as `make run`): the
    reminders of a review tomorrow go out by themselves, the dispatcher sped up to every
    second by its setting."""
    make_session(cast, starts=timezone.now() + timedelta(days=1))
    outbox = tmp_path / "mail"
    outbox.mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": worker_database_url,
        "EMAIL_URL": f"file://{outbox}",
        "REMINDER_DISPATCH_SECONDS": "1",
        "JOB_SWEEP_SECONDS": "1",
        "TIME_ZONE": "UTC",
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "INFO",
    }
    for name in ("REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "SCHEDULE_IN_PROCESS"):
        env.pop(name, None)
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
             "--port", str(free_port), "--lifespan", "on", "--no-access-log"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        messages: list[str] = []
        while time.monotonic() < deadline and server.poll() is None:
            messages = [path.read_text() for path in outbox.iterdir()]
            if sum(text.count("Subject: Tomorrow:") for text in messages) >= 2:
                break
            time.sleep(0.25)
        url = f"http://127.0.0.1:{free_port}/healthz"
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.status == 200, "the same process serves requests meanwhile"
    finally:
        server.terminate()
        server.wait(timeout=20)
    log_text = log_path.read_text(errors="replace")
    mail_text = "\n".join(messages)
    assert mail_text.count("Subject: Tomorrow: the Well-Architected review of Checkout") == 2, (
        log_text[-3000:]
    )
    assert "To: alice@example.com" in mail_text and "To: bob@example.com" in mail_text
    assert set(Reminder.objects.values_list("status", flat=True)) == {Reminder.Status.SENT}
    assert "Running the periodic tasks in this process" in log_text
