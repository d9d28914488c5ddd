"""The cache on Redis, forgiving: nothing a page needs depends on Redis, so when Redis cannot
be reached every read is a miss and every write is dropped, and the request goes on.

An error is logged at most once a minute (with how many there were since), never raised. After
one, the cache answers from nothing for a few seconds without asking Redis, so a Redis that
hangs costs a request at most one socket timeout, not one per cache call."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger("pillarwise.cache")

T = TypeVar("T")


class RedisOutage:
    """How one Redis has been doing, as seen by this process (shared by its threads): calls
    through `call` that fail give their fallback and are logged at most once every LOG_EVERY
    seconds (with how many failed since); for `pause` seconds after a failure, calls give
    their fallback without asking Redis."""

    LOG_EVERY = 60.0
    clock: Callable[[], float] = staticmethod(time.monotonic)

    def __init__(self, logger: logging.Logger, consequence: str, *, pause: float = 0.0) -> None:
        self.logger = logger
        self.consequence = consequence
        self.pause = pause
        self.lock = threading.Lock()
        self.paused_until = float("-inf")
        self.logged_at = float("-inf")
        self.unlogged = 0

    def call(self, operation: str, func: Callable[[], T], fallback: T) -> T:
        if self.clock() < self.paused_until:
            return fallback
        try:
            return func()
        except RedisError as error:
            self.failed(operation, error)
            return fallback

    def failed(self, operation: str, error: Exception) -> None:
        now = self.clock()
        with self.lock:
            self.paused_until = now + self.pause
            self.unlogged += 1
            if now - self.logged_at < self.LOG_EVERY:
                return
            count, self.unlogged, self.logged_at = self.unlogged, 0, now
        self.logger.warning(
            "Redis unavailable, %s (%s: %s; %d failure(s) since the last report)",
            self.consequence,
            operation,
            error,
            count,
        )


_outages: dict[tuple[str, ...], RedisOutage] = {}
_outages_lock = threading.Lock()


def _outage_of(servers: Iterable[str]) -> RedisOutage:
    with _outages_lock:
        return _outages.setdefault(
            tuple(servers),
            RedisOutage(logger, "cache reads are misses and writes are dropped", pause=5.0),
        )


class ForgivingRedisCache(RedisCache):
    """Django's Redis cache, where an unreachable or failing Redis is a miss."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self.outage = _outage_of(self._servers)  # type: ignore[attr-defined]  # not in the stubs

    def _or_miss(self, operation: str, call: Callable[[], T], miss: T) -> T:
        return self.outage.call(operation, call, miss)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._or_miss("get", lambda: RedisCache.get(self, key, default, version), default)

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        keys = list(keys)
        return self._or_miss("get_many", lambda: RedisCache.get_many(self, keys, version), {})

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._or_miss("has_key", lambda: RedisCache.has_key(self, key, version), False)

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        return self._or_miss(
            "add", lambda: RedisCache.add(self, key, value, timeout, version), False
        )

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        self._or_miss("set", lambda: RedisCache.set(self, key, value, timeout, version), None)

    def set_many(
        self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        # What could not be stored: everything, when Redis cannot be reached.
        return self._or_miss(
            "set_many", lambda: RedisCache.set_many(self, data, timeout, version), list(data)
        )

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._or_miss("touch", lambda: RedisCache.touch(self, key, timeout, version), False)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._or_miss("delete", lambda: RedisCache.delete(self, key, version), False)

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        keys = list(keys)
        self._or_miss("delete_many", lambda: RedisCache.delete_many(self, keys, version), None)

    # Django's RedisCache.clear answers whether it cleared; the stubs say None.
    def clear(self) -> bool:  # type: ignore[override]
        base_clear: Callable[[], Any] = partial(RedisCache.clear, self)
        return self._or_miss("clear", lambda: bool(base_clear()), False)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        """As on a miss when Redis cannot be reached: ValueError, the key is not there."""
        value = self._or_miss("incr", lambda: RedisCache.incr(self, key, delta, version), None)
        if value is None:
            raise ValueError(f"Key {key!r} not found (the cache is unavailable).")
        return value
