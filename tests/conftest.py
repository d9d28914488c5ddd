"""Shared fixtures: a fixed cast (healthchecks style) and the built-in lenses.

Tests that need a service (PostgreSQL, Redis, Chromium) call `require(...)`: it skips when the
service is missing, unless PILLARWISE_REQUIRE_SERVICES is set (CI sets it), where a missing
service fails the test instead, so that nothing is silently left untested.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from questionnaires.models import Lens
from questionnaires.services import lenses_load_builtin
from reviews import services
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
    return services.session_create(
        workload=cast.workload,
        user=cast.admin,
        title="Checkout review",
        kind="periodic",
        review_starts_at=timezone.now() + timedelta(days=10),
    )


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
