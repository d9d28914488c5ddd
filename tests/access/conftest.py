"""The sweep's world, built once per module, its people's clients, the write log and the
summary line at the end of the run."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections, connection, transaction
from django.test import Client

from tests.access.world import PEOPLE, Person, World, build_world

# Writes that are not a person's doing, or that the role model allows anyone: presence (who
# is viewing what), the signed-in session, sign-in throttling and its log, last_login.
UNLOGGED_TABLES = {
    "reviews_presence",
    "django_session",
    "axes_accessattempt",
    "axes_accesslog",
    "axes_accessfailurelog",
    "django_cache",
}
WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+[`"]?(\w+)[`"]?', re.I)
LAST_LOGIN_ONLY = re.compile(
    r'^\s*UPDATE\s+"?auth_user"?\s+SET\s+"?last_login"?\s*=\s*%s\s+WHERE', re.I
)


@dataclass
class WriteLog:
    """INSERT, UPDATE and DELETE statements run during one request, by table."""

    statements: list[str] = field(default_factory=list)

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        match = WRITE.match(sql)
        if match and match.group(1) not in UNLOGGED_TABLES and not LAST_LOGIN_ONLY.match(sql):
            self.statements.append(sql[:160])
        return execute(sql, params, many, context)

    @property
    def tables(self) -> list[str]:
        return sorted({WRITE.match(s).group(1) for s in self.statements})


@dataclass
class Outcome:
    status: int | str
    writes: list[str]


def outcome_of(response: Any) -> int | str:
    from django.conf import settings
    from django.shortcuts import resolve_url

    if response.status_code == 302:
        login = resolve_url(settings.LOGIN_URL)
        if response["Location"].split("?")[0] == login:
            return "login"
    return response.status_code


def send(client: Client, method: str, url: str, data: dict | None = None) -> Outcome:
    """One request in a savepoint rolled back afterwards: nothing it writes stays for the
    next one; the statements it ran are kept."""
    log = WriteLog()
    cookies = copy.deepcopy(client.cookies)  # signing out or a new session changes them
    with transaction.atomic():
        with connection.execute_wrapper(log):
            response = client.get(url) if method == "GET" else client.post(url, data or {})
            status = outcome_of(response)
            if response.streaming:
                # The stream is not read: close it, without the end of request closing the
                # database connection (the test client does the same for other responses).
                request_finished.disconnect(close_old_connections)
                try:
                    response.close()
                finally:
                    request_finished.connect(close_old_connections)
        transaction.set_rollback(True)
    client.cookies = cookies
    return Outcome(status, log.tables)


@dataclass
class Tally:
    requests: int = 0
    leaks: int = 0  # a write where the person may not write
    wrong: int = 0  # a status outside the expected set
    urls: set[str] = field(default_factory=set)
    rows: list[str] = field(default_factory=list)


TALLY = Tally()


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    """The world, built once for the module inside a transaction rolled back at its end."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(scope="module", autouse=True)
def _streams_in_this_thread() -> Iterator[None]:
    """The event stream does its database work in a pool thread and hands connections back:
    here it runs in the request's thread, inside the world's transaction, so that it sees the
    world (its access check and status are what the sweep looks at; the stream is not read)."""
    from asgiref.sync import sync_to_async

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("reviews.views.events._release_connections", lambda: None)
        patch.setattr(
            "reviews.views.events._in_pool", lambda func: sync_to_async(func, thread_sensitive=True)
        )
        yield


@pytest.fixture(scope="module")
def clients(world: World, django_db_blocker: Any) -> dict[str, Client]:
    """A signed-in client per person (anonymous: none signed in), each from an address of its
    own so that rate limits by address count per person."""
    result = {}
    with django_db_blocker.unblock():
        for n, person in enumerate(PEOPLE):
            client = Client(raise_request_exception=False, REMOTE_ADDR=f"10.9.{n}.1")
            user = world.user(person)
            if user is not None:
                client.force_login(user)
            result[person.key] = client
    return result


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not TALLY.requests:
        return
    line = (
        f"URL x role sweep: {len(TALLY.urls)} URL names x {len(PEOPLE)} people x GET/POST "
        f"= {TALLY.requests} requests; leaks found: {TALLY.leaks}; "
        f"unexpected statuses: {TALLY.wrong}"
    )
    terminalreporter.write_sep("-", "access sweep")
    terminalreporter.write_line(line)
    for row in TALLY.rows:
        terminalreporter.write_line("  " + row)


__all__ = ["Person", "TALLY", "send"]
