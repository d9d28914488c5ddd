"""Shared fixtures and the rules of the test run.

- A fixed cast (healthchecks style), the built-in lenses and a review.
- The built-in lenses are loaded once per test database. Tests that run in a transaction see
  them and roll back; transactional tests (browsers, workers, threads) see them too: the
  flush after such a test puts them back, with the same ids.
- Time: every test runs with TIME_ZONE = UTC; `at()` and `travel()` name a moment in UTC.
- Media: files go to a temporary MEDIA_ROOT, never into the source tree; `media_root` gives a
  test a folder of its own.
- Processes: `free_port`, `worker_database_url` (how a worker process reaches the test
  database), `start_worker` (a real Celery worker, on Redis), `private_redis` (a
  redis-server a test may stop and start) and `smtp_server` (a real SMTP server that can
  refuse).
- Rate limits: every test counts from zero (`_fresh_rate_limits`).

Services. A test that needs PostgreSQL, Redis or Chromium carries its marker (`postgres`,
`redis`, `e2e`; `worker` when it starts a Celery worker) and calls `require_postgres()`,
`require_redis()` or `require_chromium()`. Calling one without the marker fails the test:
the embedded pass of CI deselects service tests by marker, so an unmarked one would fail
there. A missing service skips the test, except with PILLARWISE_REQUIRE_SERVICES set (CI),
where every skip, for whatever reason, fails the run instead, so that nothing hides.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import time_machine
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.db.models.signals import post_migrate
from django.test import override_settings
from django.utils import timezone

from questionnaires.models import Lens
from questionnaires.services import lenses_load_builtin
from reviews import sessions
from reviews.models import Answer, Membership, ReviewSession, Team, Workload, WorkloadType

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery"
HTMX = {"HTTP_HX_REQUEST": "true"}  # the header htmx sends: client.get(url, **HTMX)
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
REQUIRE_SERVICES = "PILLARWISE_REQUIRE_SERVICES"
# Published lenses by others, for the importer's tests: the folder beside the project's root
# in CI. A clone on its own has no such folder: those tests skip there (and fail in CI, where
# every skip does).
PUBLISHED_LENSES = ROOT.parent / "shared" / "lenses"
needs_published_lenses = pytest.mark.skipif(
    not PUBLISHED_LENSES.is_dir(), reason=f"no published lenses in {PUBLISHED_LENSES}"
)


# --- Services and the rules of the run --------------------------------------------------------

_current_test: pytest.Item | None = None


def services_required() -> bool:
    return bool(os.environ.get(REQUIRE_SERVICES))


def require(available: bool, what: str, *, marker: str) -> None:
    """Skip the current test when `what` is missing. The test must carry `marker`."""
    item = _current_test
    if item is not None and item.get_closest_marker(marker) is None:
        pytest.fail(
            f"{item.nodeid} needs {what}: mark it @pytest.mark.{marker}, so that the pass "
            "without services deselects it",
            pytrace=False,
        )
    if not available:
        pytest.skip(f"{what} is not available")


def require_redis() -> str:
    url = os.environ.get("REDIS_URL", "")
    require(bool(url), "Redis (REDIS_URL)", marker="redis")
    return url


def require_postgres() -> None:
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)", marker="postgres")


def require_chromium() -> str:
    found = bool(shutil.which(CHROMIUM) or os.path.exists(CHROMIUM))
    require(found, f"Chromium ({CHROMIUM})", marker="e2e")
    return CHROMIUM


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[Any]:
    """Remember the running test, for the marker check in `require()`."""
    global _current_test
    _current_test = item
    try:
        return (yield)
    finally:
        _current_test = None


def _skip_to_failure(report: pytest.TestReport | pytest.CollectReport) -> None:
    if not (report.skipped and services_required()) or hasattr(report, "wasxfail"):
        return
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    report.outcome = "failed"
    report.longrepr = f"Skipped, but nothing may skip with {REQUIRE_SERVICES} set: {reason}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report = yield
    _skip_to_failure(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[Any]:
    report = yield
    _skip_to_failure(report)
    return report


# --- The test database and the built-in lenses ------------------------------------------------


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory: pytest.TempPathFactory) -> None:
    """On SQLite, test against a file, not memory, so that the ASGI server of the browser
    tests (other threads, other connections) and worker processes see the same database."""
    database = django_settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(
            tmp_path_factory.mktemp("db") / "test.sqlite3"
        )


class LensRows:
    """The rows of the built-in lenses as loaded once, to put back after a flush."""

    def __init__(self) -> None:
        self.rows: list[tuple[type[models.Model], list[models.Model]]] = [
            (model, list(model._base_manager.order_by("pk")))
            for model in apps.get_app_config("questionnaires").get_models()
        ]

    def restore(self, *, using: str) -> None:
        # Foreign keys are checked at commit on PostgreSQL and SQLite, so order is free.
        with transaction.atomic(using=using):
            for model, rows in self.rows:
                model._base_manager.using(using).bulk_create(rows)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Iterator[LensRows]:
    """The test database, with the built-in lenses loaded once. A transactional test ends
    with a flush of every table; the flush's post_migrate signal puts the lens rows back,
    with the same ids, so the next test (and the per-process question caches) find them."""
    with django_db_blocker.unblock():
        lenses_load_builtin()
        rows = LensRows()

    def restore(sender: Any, using: str, **kwargs: Any) -> None:
        rows.restore(using=using)

    sender = apps.get_app_config("questionnaires")
    post_migrate.connect(restore, sender=sender, weak=False, dispatch_uid="test-lenses")
    yield rows
    post_migrate.disconnect(sender=sender, dispatch_uid="test-lenses")


@pytest.fixture
def lenses(db: None) -> dict[str, Lens]:
    """The built-in lenses (framework, Serverless, SaaS) by name; every test database holds
    them (see django_db_setup)."""
    return {lens.name: lens for lens in Lens.objects.latest_versions()}


@pytest.fixture
def no_lenses(db: None) -> None:
    """An empty lens library, for tests of loading the built-in lenses (the rows come back
    after the test, by rollback or flush)."""
    Lens.objects.all().delete()


@pytest.fixture(autouse=True)
def _fresh_question_cache() -> Iterator[None]:
    """Lens rows never change in production, so the live page caches them per process. Tests
    that import lenses roll back, and SQLite then reuses their ids: start with an empty
    cache."""
    from questionnaires import structure

    structure.question_info.cache_clear()
    structure.question_id.cache_clear()
    yield
    structure.question_info.cache_clear()
    structure.question_id.cache_clear()


# --- The cast ---------------------------------------------------------------------------------


def make_user(username: str, **extra: Any) -> Any:
    return get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password=PASSWORD, **extra
    )


@dataclass
class Cast:
    team: Team
    admin: Any
    member: Any
    finance: Any
    viewer: Any
    outsider: Any
    other_team: Team
    workload: Workload
    other_workload: Workload


@pytest.fixture
def cast(db: None) -> Cast:
    team = Team.objects.create(name="Alpha")
    other_team = Team.objects.create(name="Bravo")
    admin = make_user("alice", first_name="Alice", last_name="Admin")
    member = make_user("bob", first_name="Bob", last_name="Member")
    finance = make_user("fay", first_name="Fay", last_name="Finance")
    viewer = make_user("vic", first_name="Vic", last_name="Viewer")
    outsider = make_user("otto", first_name="Otto", last_name="Outsider")
    for user, role in (
        (admin, Membership.Role.ADMIN),
        (member, Membership.Role.MEMBER),
        (finance, Membership.Role.FINANCE),
        (viewer, Membership.Role.VIEWER),
    ):
        Membership.objects.create(team=team, user=user, role=role)
    Membership.objects.create(team=other_team, user=outsider, role=Membership.Role.ADMIN)
    workload = Workload.objects.create(
        team=team,
        name="Checkout",
        workload_type=WorkloadType.CRITICAL_ECOMMERCE,
        is_critical=True,
        owner=member,
    )
    other_workload = Workload.objects.create(
        team=other_team, name="Secret", workload_type=WorkloadType.INTERNAL, owner=outsider
    )
    return Cast(
        team, admin, member, finance, viewer, outsider, other_team, workload, other_workload
    )


@pytest.fixture
def review(cast: Cast, lenses: dict[str, Lens]) -> ReviewSession:
    """A review session on the cast's workload, facilitated by the team admin."""
    return sessions.session_create(
        workload=cast.workload,
        user=cast.admin,
        title="Checkout review",
        kind="periodic",
        review_starts_at=timezone.now() + timedelta(days=10),
    )


@pytest.fixture
def answer(review: ReviewSession) -> Answer:
    """The review's answer to the framework's first question ("priorities")."""
    return review.answers.select_related("question").get(question__ident="priorities")


def selected(answer: Answer) -> set[str]:
    """The idents of the choices selected in an answer."""
    return set(answer.selections.values_list("choice__ident", flat=True))


@pytest.fixture
def finding(review: ReviewSession, cast: Cast) -> Any:
    """The review in analysis with two findings (see analysed()): the first, a high
    reliability risk."""
    from tests.actions.analysis_helpers import analysed

    return analysed(review, cast)[0]


@pytest.fixture(autouse=True)
def _live_events_at_once(settings: Any) -> None:
    """Live changes are rendered and published in the request that made them, so that tests
    see their events at once (test_live_scale checks the threads too)."""
    settings.LIVE_RENDER_THREADS = 0
    settings.LIVE_PRESENCE_SECONDS = 0


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings: Any) -> None:
    """Rate-limit counters of this test's own (a key prefix of its own), so that requests
    made by earlier tests from the same address never count, and no cache is flushed."""
    settings.RATELIMIT_CACHE_PREFIX = f"test:{uuid.uuid4().hex}:"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- Time -------------------------------------------------------------------------------------


def at(day: date, hour: int = 8, minute: int = 0) -> datetime:
    """That day at that time, in UTC."""
    return datetime.combine(day, clock(hour, minute), tzinfo=UTC)


def travel(day: date, hour: int = 8, minute: int = 0) -> time_machine.travel:
    """Stop the clock at that moment (UTC): `with travel(date(2027, 3, 1), 9): ...`."""
    return time_machine.travel(at(day, hour, minute), tick=False)


@pytest.fixture(autouse=True)
def utc(settings: Any) -> None:
    """Every test runs in UTC, whatever TIME_ZONE the environment sets; a test about another
    zone sets its own."""
    settings.TIME_ZONE = "UTC"


# --- Media ------------------------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _media_outside_the_tree(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Nothing a test generates lands in the source tree's media/."""
    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> Path:
    """A MEDIA_ROOT of this test's own (empty), also handed to worker processes."""
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = media
    return media


# --- Tasks ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def eager_tasks() -> Iterator[None]:
    """Tasks queued by the code under test run in the test process (as with no REDIS_URL),
    so that tests see their effect; tests that rely on it may name this fixture. The worker
    tests turn it off (`start_worker`) and run a real Celery worker on Redis."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


# --- Processes --------------------------------------------------------------------------------


def find_free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on."""
    return find_free_port()


@pytest.fixture
def worker_database_url(db: None) -> str:
    """DATABASE_URL for another process (a Celery worker): the test database this test runs
    against, not the database named in the environment."""
    database = django_settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{database['NAME']}"
    credentials = quote(database["USER"] or "", safe="")
    if database.get("PASSWORD"):
        credentials += ":" + quote(database["PASSWORD"], safe="")
    userinfo = f"{credentials}@" if credentials else ""
    host = database["HOST"] or "localhost"
    return f"postgres://{userinfo}{host}:{database['PORT'] or 5432}/{database['NAME']}"


@dataclass
class Worker:
    """A Celery worker process (optionally with beat) and its log."""

    process: subprocess.Popen[bytes]
    log_path: Path
    stopped: bool = field(default=False)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60) -> None:
        """Until the worker has connected to the broker and says it is ready."""
        deadline = time.monotonic() + timeout
        while " ready." not in self.log():
            if self.process.poll() is not None:
                raise AssertionError(
                    f"the worker exited ({self.process.returncode}):\n{self.log()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"the worker did not get ready:\n{self.log()[-3000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL, as when the machine or the OOM killer takes the worker."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.stopped = True

    def stop(self) -> str:
        """A warm shutdown (SIGTERM), a kill if it hangs; returns the log."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.stopped = True
        return self.log()


@pytest.fixture
def start_worker(
    request: pytest.FixtureRequest, tmp_path: Path, worker_database_url: str
) -> Iterator[Callable[..., Worker]]:
    """Start real Celery workers on Redis against the test database: `start_worker()`, or
    `start_worker(beat=True, env={...}, app="tests.module")` (a module holding the Celery
    app, for a test that changes something inside the worker). Tasks stop running in the test process for the
    rest of the test. The broker's queue is emptied first (earlier runs may have left
    messages), each start waits until the worker is ready, and every worker is stopped at
    the end of the test. The test must be transactional, so that the worker sees its rows."""
    from config.celery import app

    if request.node.get_closest_marker("worker") is None:
        pytest.fail("a test that starts a worker must be marked @pytest.mark.worker")
    redis_url = require_redis()
    app.conf.task_always_eager = False  # eager_tasks puts it back
    app.control.purge()
    workers: list[Worker] = []

    def start(
        *, beat: bool = False, env: dict[str, str] | None = None, app: str = "config"
    ) -> Worker:
        n = len(workers)
        log_path = tmp_path / f"worker-{n}.log"
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": worker_database_url,
            "REDIS_URL": redis_url,
            "MEDIA_ROOT": str(django_settings.MEDIA_ROOT),
            "TIME_ZONE": django_settings.TIME_ZONE,
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        command = [
            sys.executable, "-m", "celery", "-A", app, "worker", "--pool=solo",
            "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=INFO",
            f"--hostname=test{n}@%h",
        ]  # fmt: skip
        if beat:
            command += ["--beat", "--schedule", str(tmp_path / f"beat-schedule-{n}")]
        with log_path.open("wb") as output:
            process = subprocess.Popen(
                command, cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT
            )
        worker = Worker(process, log_path)
        workers.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()


@dataclass
class PrivateRedis:
    """A private redis-server on a port of its own: a test may stop and start it."""

    port: int
    folder: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A redis-server of this test's own, not started yet (`.start()`, `.stop()`), so that a
    test can take Redis away without touching the shared one. Needs the `redis` marker."""
    require(bool(shutil.which("redis-server")), "redis-server", marker="redis")
    server = PrivateRedis(find_free_port(), tmp_path)
    yield server
    server.stop()


@dataclass
class SmtpServer:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that refuses each recipient's first
    `refuse_first` deliveries with a temporary error (451), then accepts."""

    port: int
    refuse_first: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    delivered: list[tuple[str, bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?timeout=5"

    def received(self, address: str) -> list[bytes]:
        return [content for to, content in self.delivered if to == address]

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.refused.get(address, 0) < self.refuse_first:
            self.refused[address] = self.refused.get(address, 0) + 1
            return "451 4.3.0 Mail server busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.delivered += [(to, envelope.content) for to in envelope.rcpt_tos]
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server for this test (point EMAIL_URL at `smtp_server.url`)."""
    from aiosmtpd.controller import Controller

    handler = SmtpServer(find_free_port())
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    yield handler
    controller.stop()


def asgi_server_idle(timeout: float = 10) -> None:
    """Wait until the test server has no connection open and no request still running (a
    stream ending writes who left): only then may a test's database be emptied, which would
    otherwise deadlock with that last write."""
    deadline = time.monotonic() + timeout
    for server in ASGI_SERVERS:
        state = server.server_state
        while (state.connections or state.tasks) and time.monotonic() < deadline:
            time.sleep(0.05)


ASGI_SERVERS: list[Any] = []


@pytest.fixture(autouse=True)
def _asgi_server_idle_before_flush(
    request: pytest.FixtureRequest, _django_db_marker: None
) -> Iterator[None]:
    """A test that reached the test server leaves only once that server is idle. Asking for
    pytest-django's database marker makes this teardown run before the database is emptied."""
    yield
    if "asgi_server" in request.fixturenames:
        asgi_server_idle()


@pytest.fixture(scope="session")
def asgi_server() -> Iterator[str]:
    """The app served over ASGI by uvicorn in a thread, on a free port, for the whole test
    session: Server-Sent Events stream as in production."""
    import uvicorn
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from config.asgi import router

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    port = find_free_port()
    config = uvicorn.Config(
        ASGIStaticFilesHandler(router),
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    ASGI_SERVERS.append(server)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def working_now(cast):
    """A Wednesday at noon UTC, the clock running, and every team working every day from
    06:00: what something that just happened tells people goes out at once, whenever the
    tests run (the working hours have tests of their own: tests/actions/test_reminder_hours.py
    and the 150-day cadence)."""
    Team.objects.filter(pk__in=[cast.team.pk, cast.other_team.pk]).update(
        reminder_hour=6, working_days="1234567"
    )
    with time_machine.travel(datetime(2027, 3, 3, 12, tzinfo=UTC), tick=True):
        yield


def midday_now() -> str:
    """A time zone where it is midday now (a fixed offset, UTC-11 to UTC+12)."""
    offset = 12 - timezone.now().hour
    return f"Etc/GMT{-offset:+d}"


@pytest.fixture
def reminders_at_midday(cast):
    """The cast's teams work every day from 06:00 and its people are where it is midday now,
    so that what a worker or the web process (another process, on the real clock) finds due
    goes out at once, whenever the tests run."""
    from actions.timezones import time_zone_set

    Team.objects.filter(pk__in=[cast.team.pk, cast.other_team.pk]).update(
        reminder_hour=6, working_days="1234567"
    )
    zone = midday_now()
    for user in (cast.admin, cast.member, cast.finance, cast.viewer, cast.outsider):
        time_zone_set(user=user, name=zone)
