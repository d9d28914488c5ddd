"""Live-session events: small notices that something changed, pushed to every open page.

A service publishes an event after its transaction commits (`publish`); each open live page
holds a Server-Sent Events stream (`subscribe`) and re-fetches only the fragment that changed.

Two backends, chosen by settings.REDIS_URL:
- Redis: ids come from INCR, the last HISTORY events of a session are kept in a list for
  catch-up, and events travel by pub/sub, so any number of web processes serve one session.
  Each process holds a single pub/sub connection and fans events out to its streams.
- In-process (no Redis): the same, inside one process.

Ids increase per session. A stream that reconnects with Last-Event-ID gets what it missed
from the history, or a RESYNC marker when the history no longer reaches back that far (and
after a Redis reconnection), telling the page to refresh every fragment it shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import weakref
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import lru_cache

import redis
import redis.asyncio
from django.conf import settings
from django.db import transaction

logger = logging.getLogger("pillarwise.events")

HISTORY = 200
PREFIX = "pillarwise:session:"


@dataclass(frozen=True)
class Event:
    id: int
    kind: str
    data: dict

    def to_json(self) -> str:
        return json.dumps(
            {"id": self.id, "kind": self.kind, "data": self.data}, separators=(",", ":")
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> Event:
        value = json.loads(raw)
        return cls(id=int(value["id"]), kind=value["kind"], data=value["data"])


# Marker: the stream may have missed events; the page must refresh what it shows.
RESYNC = Event(id=0, kind="resync", data={})


class InProcessBackend:
    """Events within this process: for the embedded setup (no Redis) and one web process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counters: dict[str, int] = defaultdict(int)
        self.history: dict[str, deque[Event]] = defaultdict(lambda: deque(maxlen=HISTORY))
        self.subscribers: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue]]] = (
            defaultdict(set)
        )

    def publish(self, channel: str, kind: str, data: dict) -> int:
        with self.lock:
            self.counters[channel] += 1
            event = Event(self.counters[channel], kind, data)
            self.history[channel].append(event)
            targets = list(self.subscribers.get(channel, ()))
        for loop, queue in targets:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, event)
            except RuntimeError:  # that loop is closed: its stream is gone
                with self.lock:
                    self.subscribers[channel].discard((loop, queue))
        return event.id

    async def attach(self, channel: str, queue: asyncio.Queue) -> None:
        with self.lock:
            self.subscribers[channel].add((asyncio.get_running_loop(), queue))

    async def detach(self, channel: str, queue: asyncio.Queue) -> None:
        with self.lock:
            self.subscribers[channel].discard((asyncio.get_running_loop(), queue))
            if not self.subscribers[channel]:
                del self.subscribers[channel]

    async def since(self, channel: str, last_id: int) -> list[Event] | None:
        with self.lock:
            events = list(self.history.get(channel, ()))
            current = self.counters.get(channel, 0)
        return _after(events, last_id, current)


def _after(events: list[Event], last_id: int, current: int) -> list[Event] | None:
    """The events after last_id, or None when the history does not reach back that far."""
    if last_id >= current:
        return [] if last_id == current else None  # ids from before a restart: resync
    missed = [e for e in events if e.id > last_id]
    if not missed or missed[0].id != last_id + 1:
        return None
    return missed


# Publishing in one round trip: next id, append to the capped history, publish.
PUBLISH_SCRIPT = """
local id = redis.call('INCR', KEYS[1])
local message = '{"id":' .. id .. ',"kind":"' .. ARGV[1] .. '","data":' .. ARGV[2] .. '}'
redis.call('RPUSH', KEYS[2], message)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
redis.call('EXPIRE', KEYS[2], 86400)
redis.call('PUBLISH', KEYS[3], message)
return id
"""


class RedisBackend:
    def __init__(self, url: str) -> None:
        self.url = url
        self.client = redis.Redis.from_url(url)
        self.script = self.client.register_script(PUBLISH_SCRIPT)
        # One hub (one pub/sub connection) per event loop of this process.
        self.hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _RedisHub] = (
            weakref.WeakKeyDictionary()
        )

    def publish(self, channel: str, kind: str, data: dict) -> int:
        keys = [f"{PREFIX}{channel}:seq", f"{PREFIX}{channel}:log", f"{PREFIX}{channel}"]
        return int(self.script(keys=keys, args=[kind, json.dumps(data), HISTORY]))

    def _hub(self) -> _RedisHub:
        loop = asyncio.get_running_loop()
        hub = self.hubs.get(loop)
        if hub is None:
            hub = self.hubs[loop] = _RedisHub(self.url)
        return hub

    async def attach(self, channel: str, queue: asyncio.Queue) -> None:
        hub = self._hub()
        hub.queues[channel].add(queue)
        await hub.ensure_running()

    async def detach(self, channel: str, queue: asyncio.Queue) -> None:
        hub = self._hub()
        hub.queues[channel].discard(queue)
        if not hub.queues[channel]:
            del hub.queues[channel]

    async def since(self, channel: str, last_id: int) -> list[Event] | None:
        hub = self._hub()
        async with hub.client.pipeline(transaction=True) as pipe:
            pipe.lrange(f"{PREFIX}{channel}:log", 0, -1)
            pipe.get(f"{PREFIX}{channel}:seq")
            raw_events, current = await pipe.execute()
        events = [Event.from_json(raw) for raw in raw_events]
        return _after(events, last_id, int(current or 0))


class _RedisHub:
    """The process's pub/sub connection for one event loop, fanning out to local queues."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = redis.asyncio.Redis.from_url(url)
        self.queues: dict[str, set[asyncio.Queue]] = defaultdict(set)
        self.task: asyncio.Task | None = None
        self.ready = asyncio.Event()

    async def ensure_running(self) -> None:
        if self.task is None or self.task.done():
            self.ready.clear()
            self.task = asyncio.get_running_loop().create_task(self.run())
        await asyncio.wait_for(self.ready.wait(), timeout=10)

    async def run(self) -> None:
        reconnect = False
        while True:
            pubsub = self.client.pubsub()
            try:
                await pubsub.psubscribe(f"{PREFIX}*")
                # Wait for Redis to confirm, so that nothing published from now on is missed.
                while (await pubsub.get_message(timeout=5.0) or {}).get("type") != "psubscribe":
                    pass
                if reconnect:
                    self.fan_out_all(RESYNC)
                self.ready.set()
                async for message in pubsub.listen():
                    if message["type"] == "pmessage":
                        channel = message["channel"].decode()[len(PREFIX) :]
                        if channel in self.queues:
                            self.fan_out(channel, Event.from_json(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("Redis pub/sub connection lost; reconnecting", exc_info=True)
                self.ready.clear()
                reconnect = True
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(Exception):  # the connection may already be gone
                    await pubsub.aclose()

    def fan_out(self, channel: str, event: Event) -> None:
        for queue in list(self.queues.get(channel, ())):
            queue.put_nowait(event)

    def fan_out_all(self, event: Event) -> None:
        for channel in list(self.queues):
            self.fan_out(channel, event)


@lru_cache(maxsize=4)
def _backend_for(redis_url: str) -> InProcessBackend | RedisBackend:
    return RedisBackend(redis_url) if redis_url else InProcessBackend()


def backend() -> InProcessBackend | RedisBackend:
    return _backend_for(settings.REDIS_URL)


def publish_on_commit(session_uuid, kind: str, **data) -> None:
    """Publish an event once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: publish(session_uuid, kind, **data))


def publish(session_uuid, kind: str, **data) -> int:
    """Publish an event to a session's live pages. Call it after the change has committed
    (transaction.on_commit); a failure here must never undo or lose the change itself."""
    try:
        return backend().publish(str(session_uuid), kind, data)
    except Exception:
        logger.warning("Could not publish %s to session %s", kind, session_uuid, exc_info=True)
        return 0


class Subscription:
    """A session's events for one stream. Entering attaches (so nothing published from then
    on is missed) and looks up what was missed since last_event_id; iterating yields that,
    then live events, and None after `heartbeat` seconds of silence (to keep the connection
    alive). RESYNC means: refresh everything shown."""

    def __init__(self, session_uuid, *, last_event_id: int | None = None, heartbeat: float = 15.0):
        self.channel = str(session_uuid)
        self.last_event_id = last_event_id
        self.heartbeat = heartbeat
        self.backend = backend()
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self.missed: list[Event] | None = []

    async def __aenter__(self) -> Subscription:
        await self.backend.attach(self.channel, self.queue)
        if self.last_event_id is not None:
            self.missed = await self.backend.since(self.channel, self.last_event_id)
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.backend.detach(self.channel, self.queue)

    async def __aiter__(self) -> AsyncIterator[Event | None]:
        seen = 0
        if self.missed is None:
            yield RESYNC
        else:
            for event in self.missed:
                seen = event.id
                yield event
        while True:
            try:
                event = await asyncio.wait_for(self.queue.get(), timeout=self.heartbeat)
            except TimeoutError:
                yield None
                continue
            if event is RESYNC or event.id > seen:
                seen = max(seen, event.id)
                yield event


async def subscribe(
    session_uuid, *, last_event_id: int | None = None, heartbeat: float = 15.0
) -> AsyncIterator[Event | None]:
    """The events of a session as an async generator (see Subscription)."""
    async with Subscription(
        session_uuid, last_event_id=last_event_id, heartbeat=heartbeat
    ) as subscription:
        async for event in subscription:
            yield event
