"""Shared fixtures: a fixed cast (healthchecks style) and the built-in lenses.

Tests that need a service (PostgreSQL, Redis, Chromium) call `require(...)`: it skips when the
service is missing, unless PILLARWISE_REQUIRE_SERVICES is set (CI sets it), where a missing
service fails the test instead, so that nothing is silently left untested.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from questionnaires.models import Lens
from questionnaires.services import lenses_load_builtin
from reviews import sessions
from reviews.models import Membership, Team, Workload, WorkloadType

PASSWORD = "correct horse battery"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def require(available: bool, what: str) -> None:
    if available:
        return
    if os.environ.get("PILLARWISE_REQUIRE_SERVICES"):
        pytest.fail(f"{what} is required here (PILLARWISE_REQUIRE_SERVICES is set) but missing")
    pytest.skip(f"{what} is not available")


def require_redis() -> str:
    url = os.environ.get("REDIS_URL", "")
    require(bool(url), "Redis (REDIS_URL)")
    return url


def require_postgres() -> None:
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")


def require_chromium() -> str:
    require(bool(shutil.which(CHROMIUM) or os.path.exists(CHROMIUM)), f"Chromium ({CHROMIUM})")
    return CHROMIUM


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory):
    """On SQLite, test against a file, not memory, so that the ASGI server of the browser
    tests (other threads, other connections) sees the same database."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(
            tmp_path_factory.mktemp("db") / "test.sqlite3"
        )


@pytest.fixture
def lenses(db) -> dict[str, Lens]:
    """The built-in lenses (framework, Serverless, SaaS), loaded once per database."""
    if not Lens.objects.filter(is_framework=True).exists():
        lenses_load_builtin()
    return {lens.name: lens for lens in Lens.objects.latest_versions()}


def make_user(username: str, **extra):
    user = get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password=PASSWORD, **extra
    )
    return user


@dataclass
class Cast:
    team: Team
    admin: object
    member: object
    finance: object
    viewer: object
    outsider: object
    other_team: Team
    workload: Workload
    other_workload: Workload


@pytest.fixture
def cast(db) -> Cast:
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
def review(cast, lenses):
    """A review session on the cast's workload, facilitated by the team admin."""
    return sessions.session_create(
        workload=cast.workload,
        user=cast.admin,
        title="Checkout review",
        kind="periodic",
        review_starts_at=timezone.now() + timedelta(days=10),
    )


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_question_cache():
    """Lens rows never change in production, so the live page caches them per process; tests
    roll back and reuse ids, so they start with an empty cache."""
    from questionnaires import structure

    structure.question_info.cache_clear()
    structure.question_id.cache_clear()
    yield
    structure.question_info.cache_clear()
    structure.question_id.cache_clear()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def asgi_server():
    """The app served over ASGI by uvicorn in a thread, on a free port, for the whole test
    session: Server-Sent Events stream as in production."""
    import uvicorn
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from config.asgi import router

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    port = _free_port()
    config = uvicorn.Config(
        ASGIStaticFilesHandler(router),
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
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


@pytest.fixture(autouse=True)
def _tasks_run_in_process():
    """Tasks queued by the code under test run in the test process (as with no REDIS_URL),
    so that tests see their effect. The worker tests turn this off and start a real Celery
    worker on Redis."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before
