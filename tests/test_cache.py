"""The cache on Redis forgives: when Redis cannot be reached a read is a miss and a write is
dropped, an error is logged at most once a minute and never raised, and for a few seconds
after one Redis is not asked at all. Sessions never touch it."""

from __future__ import annotations

import logging

import pytest
from django.conf import settings

from config.cache import ForgivingRedisCache, RedisOutage
from tests.conftest import find_free_port, require_redis
from tests.services import private_redis  # noqa: F401 - fixture


def cache_at(url: str) -> ForgivingRedisCache:
    return ForgivingRedisCache(url, {"OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}})


@pytest.fixture
def clock(monkeypatch):
    """The outages' clock, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr(RedisOutage, "clock", staticmethod(lambda: now[0]))
    return now


def test_sessions_live_in_the_database():
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"


def test_an_unreachable_redis_is_a_miss_and_never_an_error(clock, caplog):
    cache = cache_at(f"redis://127.0.0.1:{find_free_port()}/0")
    with caplog.at_level(logging.WARNING, logger="pillarwise.cache"):
        assert cache.get("k") is None
        assert cache.get("k", "fallback") == "fallback"
        assert cache.get_many(["a", "b"]) == {}
        assert cache.has_key("k") is False
        assert cache.set("k", 1) is None
        assert cache.add("k", 1) is False
        assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]
        assert cache.touch("k") is False
        assert cache.delete("k") is False
        assert cache.delete_many(["a"]) is None
        assert cache.clear() is False
        assert cache.get_or_set("k", 5) == 5
        with pytest.raises(ValueError, match="not found"):  # as on a miss
            cache.incr("k")
    reports = [r.getMessage() for r in caplog.records if r.name == "pillarwise.cache"]
    assert len(reports) == 1 and "cache reads are misses" in reports[0]


def test_after_an_error_redis_is_left_alone_for_a_while_and_reported_once_a_minute(clock, caplog):
    outage = RedisOutage(logging.getLogger("pillarwise.cache"), "testing", pause=5.0)
    calls = []

    def failing():
        import redis

        calls.append(clock[0])
        raise redis.ConnectionError("refused")

    with caplog.at_level(logging.WARNING, logger="pillarwise.cache"):
        assert outage.call("get", failing, "miss") == "miss"
        clock[0] += 4
        assert outage.call("get", failing, "miss") == "miss"  # paused: not asked
        clock[0] += 2
        assert outage.call("get", failing, "miss") == "miss"  # asked again, failed again
        clock[0] += 60
        outage.call("get", failing, "miss")
    assert calls == [1000.0, 1006.0, 1066.0]
    reports = [r.getMessage() for r in caplog.records]
    assert len(reports) == 2
    assert "1 failure(s)" in reports[0] and "2 failure(s)" in reports[1]


@pytest.mark.redis
def test_a_redis_that_stops_and_starts_again(private_redis, clock):  # noqa: F811
    require_redis()
    cache = cache_at(private_redis.url)
    cache.set("k", "v")
    assert cache.get("k") == "v"
    private_redis.stop()
    assert cache.get("k") is None
    private_redis.start()
    clock[0] += 10  # past the pause
    assert cache.get("k") is None  # empty, as compose runs it
    cache.set("k", "w")
    assert cache.get("k") == "w"
    cache.set("n", 1)
    assert cache.incr("n") == 2


def test_the_settings_use_it_with_short_timeouts():
    default = settings.CACHES["default"]
    if not settings.REDIS_URL:  # the embedded setup: in memory
        assert default["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
        return
    assert default["BACKEND"] == "config.cache.ForgivingRedisCache"
    assert default["OPTIONS"] == {
        "socket_connect_timeout": settings.REDIS_TIMEOUT,
        "socket_timeout": settings.REDIS_TIMEOUT,
    }
