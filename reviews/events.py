"""Live-session events: small notices that something changed, pushed to every open page.

A service publishes an event of a kind, with its data, once its transaction commits
(`publish_on_commit`); each open live page holds a Server-Sent Events stream (`Subscription`)
and swaps in the HTML the event carries (reviews.live_fragments), or re-fetches what shows
the change. The kinds, their data and what each refreshes are in `reviews.eventkinds`.

Two backends, chosen by settings.REDIS_URL:
- Redis: a session's sequence (epoch, last number) is a hash, its last HISTORY events a list
  for catch-up; events travel by pub/sub, so any number of web processes serve one session,
  each with one pub/sub link per event loop that fans events out to its streams.
- In-process (no Redis): the same, inside one process.

Ids are "<epoch>-<number>" (eventkinds.EventId). The epoch is new whenever a sequence starts
over: Redis restarted empty (no persistence), the session's keys expired, the process of the
in-process backend restarted. A stream that reconnects with the last id its page saw gets
what it missed, or RESYNC (refresh everything you show) when that cannot be told: the epoch
changed or the history does not reach back that far.

Redis may go away at any time; nothing a page needs waits for it:
- Publishing that fails is logged (at most once a minute) and the change stands. Every
  publish tries (an event dropped once Redis is back would leave pages stale), each waiting
  at most REDIS_TIMEOUT.
- When a process's pub/sub link is lost, its streams end: their pages say so and reconnect.
  A stream that opens while the link is down waits quietly (comments, no heartbeat), then
  catches up from its page's last id, or resyncs. Each (re)connection of the link resyncs
  every stream on it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import threading
import uuid
import weakref
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import replace
from functools import lru_cache, partial
from types import TracebackType
from typing import Final

import redis
import redis.asyncio
from django.conf import settings
from django.db import transaction
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from config.cache import RedisOutage
from reviews.eventkinds import (
    BEGINNING,
    HEARTBEAT,
    RESYNC,
    Event,
    EventData,
    EventDataError,
    EventId,
    EventKind,
    Swap,
    event_data,
    parse_event_id,
    swaps_as_dict,
)

__all__ = [
    "HEARTBEAT",
    "HISTORY",
    "RESYNC",
    "Event",
    "EventDataError",
    "EventId",
    "EventKind",
    "InProcessBackend",
    "RedisBackend",
    "Subscription",
    "backend",
    "parse_event_id",
    "position",
    "publish_on_commit",
]

logger = logging.getLogger("pillarwise.events")

HISTORY = 200
PREFIX = "pillarwise:session:"
TTL_SECONDS = 86400  # a session's sequence and history, after its last event
LINK_WAIT = 5.0  # how long a new stream waits for its process's pub/sub link when it attaches
LINK_CHECK = 2.0  # the link pings Redis after this much silence, and is lost after 3 times it
RECONNECT_SECONDS = 1.0
HUB_CONNECTIONS = 20  # Redis connections per process for its pub/sub link and catch-ups


class _LinkLost:
    """Queued to every stream when its process's pub/sub link is lost."""


LINK_LOST: Final = _LinkLost()

Swaps = Mapping[str, Swap] | None  # the HTML an event carries, by swap name

# A stream's queue: events, RESYNC when the stream may have missed some, LINK_LOST.
EventQueue = asyncio.Queue[Event | _LinkLost]


def new_epoch() -> str:
    return secrets.token_hex(4)


def catch_up(history: list[Event], last: EventId, current: EventId | None) -> list[Event] | None:
    """The events of `history` after `last`, given where the sequence stands now (`current`,
    None when it has no events), or None when they cannot be told: the sequence started over
    since `last`, or the history no longer reaches back that far."""
    if current is None or current.number == 0:
        return [] if last.number == 0 else None
    if last.number == 0:
        start = 0  # from before the first event: everything of this epoch
    elif last.epoch != current.epoch or last.number > current.number:
        return None
    else:
        start = last.number
    if start == current.number:
        return []
    missed = [
        event
        for event in history
        if event.id is not None and event.id.epoch == current.epoch and event.id.number > start
    ]
    if not missed or missed[0].id != EventId(current.epoch, start + 1):
        return None
    return missed


class InProcessBackend:
    """Events within this process: for the embedded setup (no Redis) and one web process."""

    def __init__(self) -> None:
        self.epoch = new_epoch()
        self.lock = threading.Lock()
        self.counters: dict[str, int] = defaultdict(int)
        self.history: dict[str, deque[Event]] = defaultdict(lambda: deque(maxlen=HISTORY))
        self.subscribers: dict[str, set[tuple[asyncio.AbstractEventLoop, EventQueue]]] = (
            defaultdict(set)
        )

    def publish(
        self, channel: str, kind: EventKind, data: EventData, swaps: Swaps = None
    ) -> EventId | None:
        with self.lock:
            self.counters[channel] += 1
            event = Event(EventId(self.epoch, self.counters[channel]), kind, data, swaps or {})
            self.history[channel].append(replace(event, swaps={}))  # as with Redis
            targets = list(self.subscribers.get(channel, ()))
        for loop, queue in targets:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, event)
            except RuntimeError:  # that loop is closed: its stream is gone
                with self.lock:
                    self.subscribers[channel].discard((loop, queue))
        return event.id

    def position(self, channel: str) -> EventId | None:
        with self.lock:
            return EventId(self.epoch, self.counters.get(channel, 0))

    def linked(self) -> bool:
        return True

    async def wait_linked(self) -> None:
        return

    async def attach(self, channel: str, queue: EventQueue) -> None:
        with self.lock:
            self.subscribers[channel].add((asyncio.get_running_loop(), queue))

    async def detach(self, channel: str, queue: EventQueue) -> None:
        with self.lock:
            self.subscribers[channel].discard((asyncio.get_running_loop(), queue))
            if not self.subscribers[channel]:
                del self.subscribers[channel]

    async def since(self, channel: str, last: EventId) -> tuple[list[Event] | None, EventId | None]:
        with self.lock:
            events = list(self.history.get(channel, ()))
            current = EventId(self.epoch, self.counters.get(channel, 0))
        return catch_up(events, last, current), current


# Publishing in one round trip: the next number (a new epoch when the sequence starts over),
# append to the capped history (without its HTML: a page catching up re-fetches), publish. The message is the JSON of Event.to_json (the kind
# is an EventKind value, the data and the swaps JSON already: nothing to escape).
PUBLISH_SCRIPT = """
local number = redis.call('HINCRBY', KEYS[1], 'number', 1)
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if number == 1 or not epoch then
  epoch = ARGV[4]
  redis.call('HSET', KEYS[1], 'epoch', epoch)
end
local id = epoch .. '-' .. string.format('%d', number)
local message = '{"id":"' .. id .. '","kind":"' .. ARGV[1] .. '","data":' .. ARGV[2]
redis.call('RPUSH', KEYS[2], message .. '}')
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[5])
if ARGV[6] ~= '' then
  message = message .. ',"swaps":' .. ARGV[6]
end
redis.call('PUBLISH', KEYS[3], message .. '}')
return id
"""


def _keys(channel: str) -> tuple[str, str, str]:
    """The session's sequence (hash: epoch, number), its history (list) and its channel."""
    return f"{PREFIX}{channel}:sequence", f"{PREFIX}{channel}:history", f"{PREFIX}{channel}"


class RedisBackend:
    def __init__(self, url: str) -> None:
        self.url = url
        timeout = settings.REDIS_TIMEOUT
        self.client = redis.Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout
        )
        self.script = self.client.register_script(PUBLISH_SCRIPT)
        self.outage = RedisOutage(logger, "live events are not published")
        # One hub (one pub/sub link) per event loop of this process.
        self.hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _RedisHub] = (
            weakref.WeakKeyDictionary()
        )

    def publish(
        self, channel: str, kind: EventKind, data: EventData, swaps: Swaps = None
    ) -> EventId | None:
        """The event's id, or None when Redis could not be reached."""
        data_json = json.dumps(data.as_dict(), separators=(",", ":"))
        swaps_json = json.dumps(swaps_as_dict(swaps), separators=(",", ":")) if swaps else ""
        args = [kind.value, data_json, HISTORY, new_epoch(), TTL_SECONDS, swaps_json]
        raw = self.outage.call(
            "publish", lambda: self.script(keys=list(_keys(channel)), args=args), None
        )
        return None if raw is None else parse_event_id(raw.decode())

    def position(self, channel: str) -> EventId | None:
        """Where the session's sequence stands, or None when Redis could not be reached."""
        raw = self.outage.call(
            "position", lambda: self.client.hmget(_keys(channel)[0], "epoch", "number"), None
        )
        return None if raw is None else _position(raw[0], raw[1])

    def _hub(self) -> _RedisHub:
        loop = asyncio.get_running_loop()
        hub = self.hubs.get(loop)
        if hub is None:
            hub = self.hubs[loop] = _RedisHub(self.url)
        return hub

    def linked(self) -> bool:
        return self._hub().linked.is_set()

    async def wait_linked(self) -> None:
        await self._hub().linked.wait()

    async def attach(self, channel: str, queue: EventQueue) -> None:
        """Attach, then wait (at most LINK_WAIT) for the link: once it is up, nothing
        published from now on is missed."""
        hub = self._hub()
        hub.queues[channel].add(queue)
        hub.ensure_running()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(hub.linked.wait(), timeout=LINK_WAIT)

    async def detach(self, channel: str, queue: EventQueue) -> None:
        hub = self._hub()
        hub.queues[channel].discard(queue)
        if not hub.queues[channel]:
            del hub.queues[channel]

    async def since(self, channel: str, last: EventId) -> tuple[list[Event] | None, EventId | None]:
        """What was missed since `last` (None: resync) and where the sequence stands."""
        sequence, history, _ = _keys(channel)
        async with self._hub().client.pipeline(transaction=True) as pipe:
            pipe.hmget(sequence, "epoch", "number")
            pipe.lrange(history, 0, -1)
            (epoch, number), raw_events = await pipe.execute()
        current = _position(epoch, number)
        try:
            events = [Event.from_json(raw) for raw in raw_events]
        except EventDataError:
            logger.warning("Unreadable event in the history of %s; resyncing", channel)
            return None, current
        return catch_up(events, last, current), current


def _position(epoch: bytes | str | None, number: bytes | str | None) -> EventId | None:
    if not number:
        return BEGINNING
    return parse_event_id(f"{_text(epoch)}-{_text(number)}")


def _text(value: bytes | str | None) -> str:
    return value.decode() if isinstance(value, bytes) else (value or "")


class _RedisHub:
    """The process's pub/sub link for one event loop, fanning out to local queues."""

    def __init__(self, url: str) -> None:
        # No retries inside redis-py: a broken link must be seen, so that streams resync.
        # A crowd of catch-ups (every page reconnecting at once) waits its turn, at most
        # LINK_WAIT, for one of HUB_CONNECTIONS: never refused, which would end its stream.
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            url,
            max_connections=HUB_CONNECTIONS,
            timeout=LINK_WAIT,
            socket_connect_timeout=settings.REDIS_TIMEOUT,
            socket_timeout=settings.REDIS_TIMEOUT,
            retry=Retry(NoBackoff(), 0),
        )
        self.client = redis.asyncio.Redis(connection_pool=pool)
        self.queues: dict[str, set[EventQueue]] = defaultdict(set)
        self.task: asyncio.Task[None] | None = None
        self.linked = asyncio.Event()

    def ensure_running(self) -> None:
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self.run())

    async def run(self) -> None:
        linked_before = False
        reported = False  # the current outage was logged
        while True:
            pubsub = self.client.pubsub()
            try:
                await self._subscribe(pubsub)
                self.linked.set()
                if linked_before:
                    logger.warning("Redis pub/sub link back; every live page resyncs")
                    self.fan_out_all(RESYNC)
                linked_before, reported = True, False
                await self._listen(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if not reported:
                    logger.warning(
                        "Redis pub/sub link lost (%s); live pages show that they reconnect",
                        error,
                    )
                    reported = True
                if self.linked.is_set():
                    self.linked.clear()
                    self.fan_out_all(LINK_LOST)
                await asyncio.sleep(RECONNECT_SECONDS)
            finally:
                with contextlib.suppress(Exception):  # the connection may already be gone
                    # redis-py leaves PubSub.aclose unannotated.
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _subscribe(self, pubsub: redis.asyncio.client.PubSub) -> None:
        await pubsub.psubscribe(f"{PREFIX}*")
        # Wait for Redis to confirm, so that nothing published from now on is missed.
        async with asyncio.timeout(LINK_CHECK * 2):
            while (await pubsub.get_message(timeout=LINK_CHECK) or {}).get("type") != "psubscribe":
                pass

    async def _listen(self, pubsub: redis.asyncio.client.PubSub) -> None:
        """Until the link breaks: fan messages out; after LINK_CHECK of silence ask Redis
        (PING), and give the link up when it has not answered for 3 × LINK_CHECK."""
        loop = asyncio.get_running_loop()
        heard = loop.time()
        while True:
            message = await pubsub.get_message(timeout=LINK_CHECK)
            if message is None:
                if loop.time() - heard > 3 * LINK_CHECK:
                    raise ConnectionError("Redis did not answer for a while")
                await pubsub.ping()
                continue
            heard = loop.time()
            if message["type"] == "pmessage":
                self.receive(message["channel"].decode()[len(PREFIX) :], message["data"])

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

    def fan_out(self, channel: str, item: Event | _LinkLost) -> None:
        for queue in list(self.queues.get(channel, ())):
            queue.put_nowait(item)

    def fan_out_all(self, item: Event | _LinkLost) -> None:
        for channel in list(self.queues):
            self.fan_out(channel, item)


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
    if kind in (EventKind.RESYNC, EventKind.HEARTBEAT):
        raise EventDataError(
            f"{kind.capitalize()} is the stream's own event; it is never published."
        )
    checked = event_data(kind, data)
    channel = _channel(session_uuid)
    transaction.on_commit(partial(_publish, channel, kind, checked))


def _channel(session_uuid: uuid.UUID | str) -> str:
    try:
        return str(uuid.UUID(str(session_uuid)))
    except ValueError:
        raise EventDataError(f"Events go to a session's UUID, not {session_uuid!r}.") from None


# How events go out (reviews.live_fragments, installed when the app is ready): it renders
# the HTML of what changed and calls `send` with it, now or from a thread of its own.
Send = Callable[[Mapping[str, Swap]], EventId | None]
Publisher = Callable[[str, EventKind, EventData, Send], object]
_publisher: Publisher = lambda channel, kind, data, send: send({})  # noqa: E731


def set_publisher(publisher: Publisher) -> None:
    globals()["_publisher"] = publisher


def _publish(channel: str, kind: EventKind, data: EventData) -> None:
    """Publish, with the HTML of what changed; a failure is logged, never raised."""

    def send(swaps: Mapping[str, Swap]) -> EventId | None:
        try:
            return backend().publish(channel, kind, data, swaps)
        except Exception:
            logger.warning("Could not publish %s to session %s", kind, channel, exc_info=True)
            return None

    try:
        _publisher(channel, kind, data, send)
    except Exception:
        logger.warning("Could not publish %s to session %s", kind, channel, exc_info=True)


def position(session_uuid: uuid.UUID | str) -> EventId | None:
    """Where a session's events stand now, for a page to catch up from when its stream
    opens; None when that cannot be told (Redis is away)."""
    try:
        return backend().position(_channel(session_uuid))
    except Exception:
        logger.warning("Could not read the position of session %s", session_uuid, exc_info=True)
        return None


class Subscription:
    """A session's events for one stream.

    Entering attaches (so that nothing published from then on is missed, once the link is
    up). Iterating yields, once the stream hears the session: what was missed since
    `last_event_id` (or RESYNC when that cannot be told, or when `resync` asks for it), then
    HEARTBEAT, then live events, with HEARTBEAT every `heartbeat` seconds among them. While
    the process's link to Redis is down it yields None every `heartbeat` seconds (keep the
    connection open, say nothing); when the link is lost it ends."""

    def __init__(
        self,
        session_uuid: uuid.UUID | str,
        *,
        last_event_id: EventId | None = None,
        resync: bool = False,
        heartbeat: float = 15.0,
    ) -> None:
        self.channel = _channel(session_uuid)
        self.last_event_id = last_event_id
        self.resync = resync
        self.heartbeat = heartbeat
        self.backend = backend()
        self.queue: EventQueue = asyncio.Queue()
        self.seen: EventId | None = None  # the last event sent

    async def __aenter__(self) -> Subscription:
        await self.backend.attach(self.channel, self.queue)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.backend.detach(self.channel, self.queue)

    def _pending(self) -> list[Event]:
        """What was queued before the stream heard the session, but LINK_LOST: the link is
        up now."""
        pending = []
        while not self.queue.empty():
            item = self.queue.get_nowait()
            if isinstance(item, Event):
                pending.append(item)
        return pending

    async def _start(self, waited: bool) -> AsyncIterator[Event]:
        """What the page must do first, once the stream hears the session."""
        if self.resync or (waited and self.last_event_id is None):
            # The page stands nowhere known, or events may have gone by while it waited.
            self.seen = None
            yield RESYNC
        elif self.last_event_id is not None:
            missed, current = await self.backend.since(self.channel, self.last_event_id)
            if missed is None:
                self.seen = current
                yield replace(RESYNC, id=current)
            else:
                self.seen = missed[-1].id if missed else self.last_event_id
                for event in missed:
                    yield event
        yield HEARTBEAT

    def _admit(self, event: Event) -> list[Event]:
        """What to send for a live event: nothing when it was sent already, RESYNC first
        when its sequence started over since the last one sent."""
        if self.seen is not None and event.id is not None:
            if event.id.epoch != self.seen.epoch and self.seen.number > 0:
                self.seen = event.id
                return [RESYNC, event]
            if event.id.number <= self.seen.number:
                return []
        self.seen = event.id
        return [event]

    async def __aiter__(self) -> AsyncIterator[Event | None]:
        waited = False
        while not self.backend.linked():
            waited = True
            try:
                await asyncio.wait_for(self.backend.wait_linked(), timeout=self.heartbeat)
            except TimeoutError:
                yield None
        pending = self._pending()
        if self.resync or waited or self.last_event_id is not None:
            # The start resyncs or catches up from the page's own position: a RESYNC queued
            # while the stream waited says nothing more.
            pending = [event for event in pending if event.kind is not EventKind.RESYNC]
        try:
            async for event in self._start(waited):
                yield event
        except redis.RedisError as error:
            logger.warning("Could not catch a stream of %s up (%s)", self.channel, error)
            return  # its page reconnects, and tries again
        loop = asyncio.get_running_loop()
        beat = loop.time() + self.heartbeat  # a heartbeat every interval, busy or not
        while True:
            if pending:
                item: Event | _LinkLost = pending.pop(0)
            else:
                try:
                    item = await asyncio.wait_for(
                        self.queue.get(), timeout=max(0.0, beat - loop.time())
                    )
                except TimeoutError:
                    if not self.backend.linked():
                        return
                    beat = loop.time() + self.heartbeat
                    yield HEARTBEAT
                    continue
            if isinstance(item, _LinkLost):
                return
            if item.kind is EventKind.RESYNC:
                self.seen = item.id
                yield item
                continue
            for event in self._admit(item):
                yield event
