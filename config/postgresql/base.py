"""PostgreSQL through Django's backend, with its connection pool made to survive the server
dropping connections (a restart, a failover, pg_terminate_backend).

The pool keeps idle connections that the server may have closed since. Each connection the
pool hands out is checked first (an empty query). When it fails, the server has most likely
dropped every other idle connection of the pool as well: they are all checked at once, the
dead ones replaced, and a new connection taken. The request that noticed waits for one new
connection; none fails.

psycopg_pool's own `check` option (which Django sets from CONN_HEALTH_CHECKS) does the same
one connection at a time, waiting 1 s, 2 s, 4 s… between two dead ones: with a handful dead,
the next request times out instead."""

from __future__ import annotations

import logging
from typing import Any

from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool

logger = logging.getLogger("pillarwise.db")


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        pool = self.pool  # type: ignore[attr-defined]  # Django's pool: not in the stubs
        if pool is None:
            return connection
        try:
            ConnectionPool.check_connection(connection)
        except Exception as error:
            logger.warning(
                "A pooled database connection was dropped (%s); checking the rest", error
            )
            pool.putconn(connection)  # discarded: it is broken
            pool.check()
            connection = super().get_new_connection(conn_params)
        return connection
