"""PostgreSQL blinks: every connection to the database is terminated while the app server
sits idle (a restart or a failover does that). The pool checks a connection before it hands
it out, so the next requests, and signing in, succeed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import pytest
from django.db import connection

from tests.conftest import require_postgres
from tests.reviews.test_redis_outage import login, signed_in
from tests.services import app_server, give_server_password  # noqa: F401 - fixture

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def terminate_every_connection() -> int:
    """pg_terminate_backend on every other connection to the test database (this test
    process's own included); how many there were."""
    connection.close()  # hand the test's own connection back to the pool first
    params = connection.get_connection_params()
    params.pop("autocommit", None)
    with psycopg.connect(**{**params, "autocommit": True}) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return sum(1 for (done,) in rows if done)


def test_terminated_connections_cost_no_request(app_server, cast, lenses):  # noqa: F811
    require_postgres()
    give_server_password(cast.finance)
    web = app_server(DB_POOL_MIN="4")
    cookies = signed_in(cast.member)
    with httpx.Client(base_url=web.url, cookies=cookies, timeout=20) as http:
        # Several requests at once: several connections in the server's pool.
        with ThreadPoolExecutor(6) as pool:
            warm = list(pool.map(lambda _: http.get("/").status_code, range(12)))
        assert warm == [200] * 12

        terminated = terminate_every_connection()
        assert terminated >= 2  # the server's idle connections, at least

        after = [http.get("/").status_code for _ in range(15)]
    signing_in = login(web.url, cast.finance.username)
    assert (after, signing_in) == ([200] * 15, (302, 200)), (
        f"after: {after}; signing in: {signing_in}\n{web.log()[-2000:]}"
    )
