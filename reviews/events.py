"""Live-session events: small notices that something changed, pushed to every open page.

A service publishes an event of a kind, with its data, once its transaction commits
(`publish_on_commit`); each open live page holds a Server-Sent Events stream (`subscribe`)
and re-fetches only the fragments that show the change. The kinds, their data and what each
refreshes are in `reviews.eventkinds`.

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
import uuid
import weakref
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from functools import lru_cache, partial
from types import TracebackType

import redis
import redis.asyncio
from django.conf import settings
from django.db import transaction

from reviews.eventkinds import (
    RESYNC,
    Event,
    EventData,
    EventDataError,
    EventKind,
    event_data,
)

__all__ = [
    "HISTORY",
    "RESYNC",
    "Event",
    "EventDataError",
    "EventKind",
    "InProcessBackend",
    "RedisBackend",
    "Subscription",
    "backend",
    "publish_on_commit",
    "subscribe",
]

logger = logging.getLogger("pillarwise.events")

HISTORY = 200
PREFIX = "pillarwise:session:"

# A stream's queue: events, and RESYNC when the stream may have missed some.
EventQueue = asyncio.Queue[Event]


class InProcessBackend:
    """Events within this process: for the embedded setup (no Redis) and one web process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counters: dict[str, int] = defaultdict(int)
        self.history: dict[str, deque[Event]] = defaultdict(lambda: deque(maxlen=HISTORY))
        self.subscribers: dict[str, set[tuple[asyncio.AbstractEventLoop, EventQueue]]] = (
            defaultdict(set)
        )

    def publish(self, channel: str, kind: EventKind, data: EventData) -> int:
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

    async def attach(self, channel: str, queue: EventQueue) -> None:
        with self.lock:
            self.subscribers[channel].add((asyncio.get_running_loop(), queue))

    async def detach(self, channel: str, queue: EventQueue) -> None:
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


# Publishing in one round trip: next id, append to the capped history, publish. The message
# is the JSON of Event.to_json (the kind is an EventKind value: nothing to escape).
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

    def publish(self, channel: str, kind: EventKind, data: EventData) -> int:
        keys = [f"{PREFIX}{channel}:seq", f"{PREFIX}{channel}:log", f"{PREFIX}{channel}"]
        data_json = json.dumps(data.as_dict(), separators=(",", ":"))
        return int(self.script(keys=keys, args=[kind.value, data_json, HISTORY]))

    def _hub(self) -> _RedisHub:
        loop = asyncio.get_running_loop()
        hub = self.hubs.get(loop)
        if hub is None:
            hub = self.hubs[loop] = _RedisHub(self.url)
        return hub

    async def attach(self, channel: str, queue: EventQueue) -> None:
        hub = self._hub()
        hub.queues[channel].add(queue)
        await hub.ensure_running()

    async def detach(self, channel: str, queue: EventQueue) -> None:
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
        try:
            events = [Event.from_json(raw) for raw in raw_events]
        except EventDataError:
            logger.warning("Unreadable event in the history of %s; resyncing", channel)
            return None
        return _after(events, last_id, int(current or 0))


class _RedisHub:
    """The process's pub/sub connection for one event loop, fanning out to local queues."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = redis.asyncio.Redis.from_url(url)
        self.queues: dict[str, set[EventQueue]] = defaultdict(set)
        self.task: asyncio.Task[None] | None = None
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
                        self.receive(message["channel"].decode()[len(PREFIX) :], message["data"])
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("Redis pub/sub connection lost; reconnecting", exc_info=True)
                self.ready.clear()
                reconnect = True
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(Exception):  # the connection may already be gone
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    def receive(self, channel: str, raw: bytes) -> None:
        """A message from Redis: the event for the channel's streams, or RESYNC when it
        cannot be read (the streams cannot tell what it changed)."""
        if channel not in self.queues:
            return
        try:
            event = Event.from_json(raw)
        except EventDataError:
            logger.warning("Unreadable event on %s; resyncing its streams", channel)
            event = RESYNC
        self.fan_out(channel, event)

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


def publish_on_commit(session_uuid: uuid.UUID | str, kind: EventKind, **data: object) -> None:
    """Publish an event of `kind` to a session's live pages once the current transaction
    commits (at once outside one; never when it rolls back). Every live event goes out
    through here.

    The data is checked now, in the caller's transaction: EventDataError when it does not
    fit the kind (reviews.eventkinds.KINDS). Once the change has committed, a failure to
    publish is logged and never undoes or loses the change itself."""
    try:
        kind = EventKind(kind)
    except ValueError:
        raise EventDataError(f"{kind!r} is not a kind of event.") from None
    if kind is EventKind.RESYNC:
        raise EventDataError("Resync is the stream's own event; it is never published.")
    checked = event_data(kind, data)
    channel = _channel(session_uuid)
    transaction.on_commit(partial(_publish, channel, kind, checked))


def _channel(session_uuid: uuid.UUID | str) -> str:
    try:
        return str(uuid.UUID(str(session_uuid)))
    except ValueError:
        raise EventDataError(f"Events go to a session's UUID, not {session_uuid!r}.") from None


def _publish(channel: str, kind: EventKind, data: EventData) -> int:
    """Publish now; the event's id, or 0 when it could not be published."""
    try:
        return backend().publish(channel, kind, data)
    except Exception:
        logger.warning("Could not publish %s to session %s", kind, channel, exc_info=True)
        return 0


class Subscription:
    """A session's events for one stream. Entering attaches (so nothing published from then
    on is missed) and looks up what was missed since last_event_id; iterating yields that,
    then live events, and None after `heartbeat` seconds of silence (to keep the connection
    alive). RESYNC means: refresh everything shown."""

    def __init__(
        self,
        session_uuid: uuid.UUID | str,
        *,
        last_event_id: int | None = None,
        heartbeat: float = 15.0,
    ) -> None:
        self.channel = _channel(session_uuid)
        self.last_event_id = last_event_id
        self.heartbeat = heartbeat
        self.backend = backend()
        self.queue: EventQueue = asyncio.Queue()
        self.missed: list[Event] | None = []

    async def __aenter__(self) -> Subscription:
        await self.backend.attach(self.channel, self.queue)
        if self.last_event_id is not None:
            self.missed = await self.backend.since(self.channel, self.last_event_id)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
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
    session_uuid: uuid.UUID | str,
    *,
    last_event_id: int | None = None,
    heartbeat: float = 15.0,
) -> AsyncIterator[Event | None]:
    """The events of a session as an async generator (see Subscription)."""
    async with Subscription(
        session_uuid, last_event_id=last_event_id, heartbeat=heartbeat
    ) as subscription:
        async for event in subscription:
            yield event
