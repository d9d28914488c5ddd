"""The beat schedule, run inside the web process when there is no beat.

On the embedded setup (no REDIS_URL) tasks run in-process and there is no Celery beat, so
nothing would run the job sweep or the reminder dispatcher. The ASGI server's start-up
(config/asgi.py) starts one daemon thread per web process that runs the tasks of
CELERY_BEAT_SCHEDULE at their own intervals, in this process, one after the other. The
interval tasks run once at start; crontab entries (the weekly digest) wait for their time.
Several processes each running it is harmless: every task is safe to run twice at once.

It is started only there: never by management commands or tests (a test starts a
`PeriodicRunner` of its own), and not when SCHEDULE_IN_PROCESS is off or a real broker is
configured (beat runs the schedule then).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from celery.schedules import BaseSchedule, maybe_schedule
from celery.schedules import schedule as interval
from django.conf import settings
from django.db import close_old_connections, connections

from config.celery import app
from reviews.jobs import task_named

logger = logging.getLogger("pillarwise.periodic")

# The longest the thread sleeps between two looks at the schedule.
MAX_WAIT_SECONDS = 60.0


@dataclass
class Entry:
    name: str
    task: str
    schedule: BaseSchedule
    last_run_at: datetime


class PeriodicRunner:
    """Runs the entries of a beat schedule (by default the settings' one) in a thread."""

    def __init__(self, schedule: dict[str, dict[str, Any]] | None = None) -> None:
        beat = settings.CELERY_BEAT_SCHEDULE if schedule is None else schedule
        self.entries: list[Entry] = []
        for name, entry in beat.items():
            when = maybe_schedule(entry["schedule"], app=app)
            # Interval entries run at once; crontab entries wait for their next time.
            last = app.now()
            if isinstance(when, interval):
                last -= when.run_every
            self.entries.append(Entry(name, entry["task"], when, last))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_pending(self) -> float:
        """Run every entry that is due, in order; the seconds until one may be due again."""
        wait = MAX_WAIT_SECONDS
        for entry in self.entries:
            due, next_check = entry.schedule.is_due(entry.last_run_at)
            if due:
                entry.last_run_at = app.now()
                self._run(entry)
                due, next_check = entry.schedule.is_due(entry.last_run_at)
            wait = min(wait, next_check)
        return max(wait, 0.05)

    def _run(self, entry: Entry) -> None:
        close_old_connections()
        try:
            task_named(entry.task).apply(throw=True)
        except Exception:
            logger.exception("The periodic task %s (%s) failed", entry.name, entry.task)
        finally:
            connections.close_all()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._stop.wait(self.run_pending())

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="periodic-runner", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)


_runner: PeriodicRunner | None = None
_lock = threading.Lock()


def runner_wanted() -> bool:
    return bool(settings.SCHEDULE_IN_PROCESS and settings.CELERY_TASK_ALWAYS_EAGER)


def runner_start() -> PeriodicRunner | None:
    """Start this process's runner, once, if the setup wants one."""
    global _runner
    with _lock:
        if _runner is None and runner_wanted():
            _runner = PeriodicRunner()
            _runner.start()
            names = ", ".join(entry.name for entry in _runner.entries)
            logger.info("Running the periodic tasks in this process: %s", names)
        return _runner


def runner_stop() -> None:
    global _runner
    with _lock:
        if _runner is not None:
            _runner.stop()
            _runner = None
