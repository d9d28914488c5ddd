"""Rate limits on the ways in that need no account: invitation links, calendar feeds, the
password reset and sign-in attempts. Per client address (the trusted proxy header behind a
proxy), a 429 with Retry-After and a message saying when, and open when the cache fails."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import redis
from django.test import Client, RequestFactory
from django.urls import get_resolver, reverse

from reviews.throttling import client_ip, rate_key, wait_in_words
from tests.conftest import HTMX, PASSWORD, PrivateRedis

HTML = {"HTTP_ACCEPT": "text/html,application/xhtml+xml"}


def limit_of(name: str) -> int:
    from django.conf import settings

    return int(settings.RATE_LIMITS[name][0].split("/")[0])


def from_address(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


# --- The client's address ---------------------------------------------------------------------


def request_with(**meta: str) -> Any:
    return RequestFactory().get("/", **meta)


def test_the_address_is_the_connections_without_a_trusted_header(settings):
    settings.CLIENT_IP_HEADER = ""
    request = request_with(REMOTE_ADDR="192.0.2.7", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client_ip(request) == "192.0.2.7"


def test_behind_one_proxy_the_address_is_the_entry_it_added(settings):
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    settings.TRUSTED_PROXY_COUNT = 1
    # The client forged the first entry; the proxy appended the address it saw.
    request = request_with(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")
    assert client_ip(request) == "203.0.113.9"


def test_behind_two_proxies_the_address_is_the_second_from_the_right(settings):
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    settings.TRUSTED_PROXY_COUNT = 2
    request = request_with(
        REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9, 10.0.0.1"
    )
    assert client_ip(request) == "203.0.113.9"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("[2001:db8::5]:443", "2001:db8::5"),
        ("198.51.100.4:8080", "198.51.100.4"),
        ("2001:DB8::5", "2001:db8::5"),
        ("not an address", "10.0.0.2"),
        ("", "10.0.0.2"),
        ("\x00", "10.0.0.2"),
    ],
)
def test_a_single_address_header(settings, header, expected):
    settings.CLIENT_IP_HEADER = "X-Real-IP"
    assert client_ip(request_with(REMOTE_ADDR="10.0.0.2", HTTP_X_REAL_IP=header)) == expected


def test_fewer_entries_than_proxies_falls_back_to_the_connection(settings):
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    settings.TRUSTED_PROXY_COUNT = 2
    request = request_with(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client_ip(request) == "10.0.0.2"


def test_ipv6_addresses_count_per_64():
    one = request_with(REMOTE_ADDR="2001:db8:1:2::1")
    other = request_with(REMOTE_ADDR="2001:db8:1:2:ffff::9")
    elsewhere = request_with(REMOTE_ADDR="2001:db8:1:3::1")
    assert rate_key("g", one) == rate_key("g", other) == "2001:db8:1:2::/64"
    assert rate_key("g", elsewhere) != rate_key("g", one)
    assert rate_key("g", request_with(REMOTE_ADDR="192.0.2.1")) == "192.0.2.1"


def test_every_rate_limit_names_a_url():
    from django.conf import settings

    names = set()

    def walk(resolver: Any, namespace: str = "") -> None:
        for entry in resolver.url_patterns:
            if hasattr(entry, "url_patterns"):
                walk(entry, f"{namespace}{entry.namespace}:" if entry.namespace else namespace)
            elif entry.name:
                names.add(namespace + entry.name)

    walk(get_resolver())
    assert set(settings.RATE_LIMITS) <= names


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (5, "a few seconds"),
        (45, "a minute"),
        (60, "a minute"),
        (61, "2 minutes"),
        (600, "10 minutes"),
    ],
)
def test_wait_in_words(seconds, words):
    assert wait_in_words(seconds) == words


# --- The limits -------------------------------------------------------------------------------


def assert_throttled(response: Any, *, html: bool) -> None:
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 15 * 60  # the longest window
    body = response.content.decode()
    assert "Too many requests from your network. Try again in" in body
    if html:
        assert response["Content-Type"].startswith("text/html")
        assert "<h1>Too many requests</h1>" in body
    else:
        assert response["Content-Type"].startswith("text/plain")


def test_invitation_links_are_limited_per_address(db):
    url = reverse("reviews:invitation_accept", args=["no-such-token"])
    client = from_address("192.0.2.10")
    limit = limit_of("reviews:invitation_accept")
    for _ in range(limit - 1):
        assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404  # POST counts too
    assert_throttled(client.get(url, **HTML), html=True)
    assert_throttled(client.post(url, **HTML), html=True)
    # Another address is not affected.
    assert from_address("192.0.2.11").get(url).status_code == 404


def test_calendar_feeds_are_limited_per_address_in_plain_text(db):
    url = reverse("actions:calendar_feed", args=["x" * 43])
    client = from_address("192.0.2.20")
    for _ in range(limit_of("actions:calendar_feed")):
        assert client.get(url).status_code == 404
    assert_throttled(client.get(url, HTTP_ACCEPT="text/calendar"), html=False)


def test_a_throttled_htmx_request_gets_text_for_its_toast(db):
    url = reverse("reviews:invitation_accept", args=["t"])
    client = from_address("192.0.2.21")
    for _ in range(limit_of("reviews:invitation_accept")):
        client.get(url)
    assert_throttled(client.get(url, **HTML, **HTMX), html=False)


def test_password_reset_requests_are_limited_but_not_the_page(db, mailoutbox):
    url = reverse("password_reset")
    client = from_address("192.0.2.30")
    for _ in range(limit_of("password_reset")):
        response = client.post(url, {"email": "nobody@example.com"})
        assert response.status_code == 302
    assert_throttled(client.post(url, {"email": "nobody@example.com"}, **HTML), html=True)
    assert client.get(url).status_code == 200  # reading the form is not counted


def test_sign_in_attempts_are_limited_per_address_across_accounts(cast):
    """Many accounts tried from one address: the per-account lockout never triggers, the
    address limit does."""
    client = from_address("192.0.2.40")
    for n in range(limit_of("login")):
        response = client.post(reverse("login"), {"username": f"user{n}", "password": "x"})
        assert response.status_code == 200
    response = client.post(reverse("login"), {"username": "bob", "password": "x"}, **HTML)
    assert_throttled(response, html=True)
    assert client.get(reverse("login")).status_code == 200


def test_the_limit_follows_the_trusted_header(settings, db):
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    url = reverse("reviews:invitation_accept", args=["t"])
    proxy = from_address("10.0.0.1")  # every request arrives from the proxy
    for _ in range(limit_of("reviews:invitation_accept")):
        proxy.get(url, HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert proxy.get(url, HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429
    # Forging an entry on the left changes nothing; another client is not affected.
    assert proxy.get(url, HTTP_X_FORWARDED_FOR="7.7.7.7, 198.51.100.1").status_code == 429
    assert proxy.get(url, HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 404


def test_pages_that_are_not_listed_are_not_limited(cast):
    client = from_address("192.0.2.50")
    client.force_login(cast.member)
    for _ in range(limit_of("reviews:invitation_accept") + 5):
        assert client.get(reverse("reviews:workload_list")).status_code == 200


# --- When the cache fails ---------------------------------------------------------------------


@pytest.fixture
def cache_on(settings: Any, private_redis: PrivateRedis) -> PrivateRedis:
    """The app's cache on a private redis-server (which the test may stop)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": private_redis.url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    private_redis.start()
    return private_redis


@pytest.mark.redis
def test_rate_limits_fail_open_when_redis_is_down(cache_on, cast, caplog):
    url = reverse("reviews:invitation_accept", args=["t"])
    client = from_address("192.0.2.60")
    limit = limit_of("reviews:invitation_accept")
    # Redis up: the limit is counted there.
    for _ in range(limit):
        assert client.get(url).status_code == 404
    assert client.get(url).status_code == 429
    assert redis.Redis.from_url(cache_on.url).dbsize() > 0  # counted on that server

    cache_on.stop()
    with caplog.at_level(logging.WARNING, logger="pillarwise.throttling"):
        for _ in range(limit + 5):
            assert client.get(url).status_code == 404  # served, never a 429 or a 500
    assert "the cache failed" in caplog.text
    # Signing in works too (sessions are in the database), and the lockout still counts.
    member = from_address("192.0.2.61")
    response = member.post(reverse("login"), {"username": "bob", "password": PASSWORD})
    assert response.status_code == 302
    assert member.get(reverse("reviews:workload_list")).status_code == 200

    # Redis back (empty): counting starts again.
    cache_on.start()
    for _ in range(limit):
        assert client.get(url).status_code == 404
    assert client.get(url).status_code == 429
