"""The sign-in lockout (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one account
from one address, even the right password is refused there until the cool-off has passed;
the page says until when. The same on the admin's login."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from reviews import accounts
from tests.conftest import PASSWORD, ROOT, at, travel

DAY = date(2027, 3, 1)
LIMIT = settings.AXES_FAILURE_LIMIT
SECOND = timedelta(seconds=1)


def sign_in(client: Client, username: str, password: str, *, url: str | None = None) -> Any:
    return client.post(url or reverse("login"), {"username": username, "password": password})


def signed_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def fail(client: Client, username: str, times: int = LIMIT, **kwargs: Any) -> None:
    for _ in range(times):
        sign_in(client, username, "wrong password", **kwargs)


def test_the_right_password_is_refused_after_the_limit(cast):
    client = Client(REMOTE_ADDR="192.0.2.1")
    with travel(DAY, 9, 0):
        fail(client, "bob", LIMIT - 1)
        assert sign_in(client, "bob", "wrong password").status_code == 429
        response = sign_in(client, "bob", PASSWORD)
    assert response.status_code == 429 and not signed_in(client)
    body = response.content.decode()
    assert "Sign-in paused" in body
    # Locked at the last counted failure (09:00) for the cool-off.
    until = at(DAY, 9, 0) + settings.AXES_COOLOFF_TIME
    assert f"Try again after {until:%H:%M} UTC" in body
    assert int(response["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    assert reverse("password_reset") in body


def test_a_failure_below_the_limit_is_an_ordinary_error(cast):
    client = Client(REMOTE_ADDR="192.0.2.1")
    fail(client, "bob", LIMIT - 1)
    response = sign_in(client, "bob", PASSWORD)
    assert response.status_code == 302 and signed_in(client)


def test_the_lockout_expires(cast):
    client = Client(REMOTE_ADDR="192.0.2.1")
    with travel(DAY, 9, 0):
        fail(client, "bob")
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    with travel(DAY, 9, minutes - 1):
        response = sign_in(client, "bob", PASSWORD)
        assert response.status_code == 429
        assert int(response["Retry-After"]) == 60
        assert "in about a minute" in response.content.decode()
    with time_machine.travel(at(DAY, 9, 0) + settings.AXES_COOLOFF_TIME + SECOND, tick=False):
        assert sign_in(client, "bob", PASSWORD).status_code == 302
    assert signed_in(client)


def test_trying_during_the_lockout_does_not_extend_it(cast):
    client = Client(REMOTE_ADDR="192.0.2.1")
    with travel(DAY, 9, 0):
        fail(client, "bob")
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    with travel(DAY, 9, minutes - 2):
        fail(client, "bob", 3)
    with time_machine.travel(at(DAY, 9, 0) + settings.AXES_COOLOFF_TIME + SECOND, tick=False):
        assert sign_in(client, "bob", PASSWORD).status_code == 302


def test_the_lockout_is_per_account_and_address(cast):
    attacker = Client(REMOTE_ADDR="192.0.2.66")
    fail(attacker, "bob")
    assert sign_in(attacker, "bob", PASSWORD).status_code == 429
    # Bob from his own address, and Alice from the attacker's, still sign in.
    assert sign_in(Client(REMOTE_ADDR="192.0.2.2"), "bob", PASSWORD).status_code == 302
    assert sign_in(Client(REMOTE_ADDR="192.0.2.66"), "alice", PASSWORD).status_code == 302


def test_username_and_email_share_one_count(cast):
    accounts.email_verified(user=cast.member, email=cast.member.email)
    client = Client(REMOTE_ADDR="192.0.2.1")
    for login in ("bob", "bob@example.com", "BOB@example.com", "bob", "Bob@Example.com"):
        sign_in(client, login, "wrong password")
    assert sign_in(client, "bob@example.com", PASSWORD).status_code == 429
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {"bob"}


def test_a_successful_sign_in_clears_the_failures(cast):
    client = Client(REMOTE_ADDR="192.0.2.1")
    fail(client, "bob", LIMIT - 1)
    assert sign_in(client, "bob", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    fail(client, "bob", LIMIT - 1)
    assert sign_in(client, "bob", PASSWORD).status_code == 302


def test_unknown_accounts_are_counted_too(db):
    client = Client(REMOTE_ADDR="192.0.2.1")
    fail(client, "nobody")
    assert sign_in(client, "nobody", "x").status_code == 429


def test_odd_logins_never_fail_the_page(db):
    client = Client(REMOTE_ADDR="192.0.2.1")
    for login in ("x" * 5000, "a\x00b", "é" * 300, "@", " "):
        assert sign_in(client, login, "x").status_code in (200, 429)


def test_the_admin_login_locks_out_the_same_way(cast):
    cast.admin.is_staff = cast.admin.is_superuser = True
    cast.admin.save()
    url = reverse("admin:login")
    client = Client(REMOTE_ADDR="192.0.2.1")
    fail(client, "alice", url=url)
    response = sign_in(client, "alice", PASSWORD, url=url)
    assert response.status_code == 429 and "Sign-in paused" in response.content.decode()
    assert not signed_in(client)
    # One count for both doors: the main login is paused for Alice here too.
    assert sign_in(client, "alice", PASSWORD).status_code == 429


@pytest.mark.parametrize(("limit", "minutes"), [("3", "2")])
def test_limit_and_cool_off_come_from_the_environment(limit, minutes):
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; "
            "print(settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME.total_seconds())",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "LOGIN_FAILURE_LIMIT": limit,
            "LOGIN_LOCKOUT_MINUTES": minutes,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == [limit, str(float(timedelta(minutes=int(minutes)).seconds))]


def test_a_bad_cool_off_stops_start_up():
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "LOGIN_LOCKOUT_MINUTES": "-5",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "LOGIN_LOCKOUT_MINUTES='-5' must be at least 1" in result.stderr
