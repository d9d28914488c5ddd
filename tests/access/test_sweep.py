"""Every URL × every person × GET and POST: the status is the one the role model gives, and
nobody writes where they may not (tests/access/expected.py holds the table, urls.py how each
URL is filled, world.py the people and their objects)."""

from __future__ import annotations

from collections import Counter

import pytest
from django.test import Client
from django.urls import reverse

from tests.access.conftest import TALLY, send
from tests.access.expected import CLASSES, expected
from tests.access.urls import URLS, body, fill, url_patterns
from tests.access.world import PEOPLE, World

pytestmark = pytest.mark.django_db

PATTERNS = {p.name: p for p in url_patterns()}


def test_url_names_are_unique():
    counts = Counter(p.name for p in url_patterns())
    assert [name for name, n in counts.items() if n > 1] == []


def test_every_url_pattern_is_in_the_table():
    """A new URL fails here until it is given a class (and its keywords a value)."""
    assert sorted(set(PATTERNS) - set(URLS)) == [], "add these URL names to tests/access/urls.py"
    assert sorted(set(URLS) - set(PATTERNS)) == [], "these URL names no longer exist"


def test_every_class_is_known():
    unknown = {v.url_class for variants in URLS.values() for v in variants} - set(CLASSES)
    assert unknown == set()


def test_the_people_are_every_combination():
    kinds = Counter(
        "anonymous" if p.anonymous else "outsider" if p.is_outsider
        else "guest" if p.is_guest else "team"
        for p in PEOPLE
    )  # fmt: skip
    assert kinds == {"anonymous": 1, "outsider": 1, "guest": 7, "team": 32}


def test_every_url_can_be_filled(world: World):
    for name, pattern in PATTERNS.items():
        for variant in URLS[name]:
            for person in PEOPLE:
                reverse(name, kwargs=fill(pattern, variant, world, person))


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_sweep(name: str, world: World, clients: dict[str, Client]) -> None:
    pattern = PATTERNS[name]
    failures = []
    for variant in URLS[name]:
        for person in PEOPLE:
            kwargs = fill(pattern, variant, world, person)
            url = reverse(name, kwargs=kwargs)
            data = body(variant, world, person)
            for method in ("GET", "POST"):
                expect = expected(variant.url_class, person, method)
                got = send(clients[person.key], method, url, data)
                TALLY.requests += 1
                TALLY.urls.add(name)
                denied = got.status in {403, 404, 405, 409, "login"} or method == "GET"
                leak = got.writes and (denied or not expect.may_write)
                wrong = got.status not in expect.statuses
                if leak or wrong:
                    TALLY.leaks += bool(leak)
                    TALLY.wrong += bool(wrong)
                    row = (
                        f"{name} [{variant.label or variant.url_class}] {person.key} {method}: "
                        f"expected {sorted(map(str, expect.statuses))}, got {got.status}"
                        + (f", wrote {got.writes}" if leak else "")
                    )
                    failures.append(row)
                    TALLY.rows.append(row)
    assert not failures, "\n".join(failures)


def test_csrf_is_enforced(world: World):
    """With CSRF checks on (as in a browser), a POST without the token is refused everywhere
    and writes nothing, even from the session's facilitator who is a team admin."""
    person = next(p for p in PEOPLE if p.key == "admin/facilitator")
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(world.user(person))
    refused = {}
    for name, pattern in PATTERNS.items():
        if name.startswith("api-v1:"):
            continue  # the REST API takes bearer tokens, never cookies: nothing to forge
        url = reverse(name, kwargs=fill(pattern, URLS[name][0], world, person))
        got = send(client, "POST", url)
        if got.status != 403 or got.writes:
            refused[name] = (got.status, got.writes)
    assert refused == {}
