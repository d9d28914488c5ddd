"""/healthz is bare liveness; /readyz checks the database (503 when it cannot be reached) and
reports Redis without failing on it (a node whose Redis is down still serves pages)."""

from __future__ import annotations

import httpx
import pytest
from django.test import Client

from tests.conftest import find_free_port, require_redis
from tests.services import start_app_server


def test_liveness_is_bare(db, client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok"


def test_neither_needs_a_login_nor_https(db, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    client = Client()
    for url in ("/healthz", "/readyz"):
        assert client.get(url).status_code == 200, url
    assert client.get("/login/").status_code == 301  # the rest is redirected


def test_wrong_methods(db, client):
    for url in ("/healthz", "/readyz"):
        assert client.post(url).status_code == 405


def test_ready_with_the_database_and_no_redis_configured(db, client, settings):
    settings.REDIS_URL = ""
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"database": "up", "redis": "not used"}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.redis
def test_ready_with_the_database_and_redis(db, client, settings):
    settings.REDIS_URL = require_redis()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"database": "up", "redis": "up"}


def test_ready_when_only_redis_is_down(db, client, settings):
    """Nothing listens where REDIS_URL points: the node still serves pages, so it stays in."""
    settings.REDIS_URL = f"redis://127.0.0.1:{find_free_port()}/0"
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"database": "up", "redis": "down"}


def test_not_ready_when_the_database_cannot_be_reached(tmp_path):
    """A server whose DATABASE_URL points where nothing listens: live, not ready."""
    server = start_app_server(
        tmp_path,
        {
            "DATABASE_URL": f"postgres://pillarwise@127.0.0.1:{find_free_port()}/pillarwise",
            "DB_POOL_TIMEOUT": "2",
            "REDIS_URL": "",
        },
    )
    try:
        ready = httpx.get(server.url + "/readyz", timeout=20)
        assert ready.status_code == 503
        assert ready.json() == {"database": "down", "redis": "not used"}
        assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200
    finally:
        server.stop()
