"""The live event stream of a session: Server-Sent Events, held by the event loop.

The stream runs as an asynchronous generator on the ASGI server's event loop; database work
(access, presence) runs in the default thread pool and hands its connection back at once, so
an open stream holds no thread and no database connection while it waits."""

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar
from uuid import UUID

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connections
from django.http import HttpRequest, StreamingHttpResponse
from django.views.decorators.http import require_GET

from reviews import events, presence
from reviews.access import session_for_user

HEARTBEAT_SECONDS = 15.0
RETRY_MILLISECONDS = 2000

P = ParamSpec("P")
R = TypeVar("R")


def _release_connections() -> None:
    """Hand this thread's database connections back to the pool (unless a transaction is
    open on them, as in tests)."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


def _in_pool(func: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]:
    """Run blocking database work in the thread pool and return its connection."""

    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        close_old_connections()
        try:
            return func(*args, **kwargs)
        finally:
            _release_connections()

    return sync_to_async(call, thread_sensitive=False)


# The largest event id: Redis counts with a signed 64-bit INCR.
MAX_EVENT_ID = 2**63 - 1
MAX_EVENT_ID_DIGITS = len(str(MAX_EVENT_ID))


def parse_event_id(raw: str) -> int | None:
    """The last event id a reconnecting page sends (Last-Event-ID, or ?last=), or None when
    it sends none or anything but an id we could have issued: ASCII digits only (str.isdigit
    would take '²'), at most 19 of them, at most 2**63 - 1. An unusable id counts as none,
    as for a page's first connection, rather than a 400: a browser's EventSource gives up
    for good on an error answer."""
    if not raw or len(raw) > MAX_EVENT_ID_DIGITS or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if value <= MAX_EVENT_ID else None


def sse_format(event: events.Event) -> str:
    """An event on the wire: once under each of its SSE names (reviews.eventkinds.KINDS)."""
    data = json.dumps(event.data.as_dict(), separators=(",", ":"))
    ident = f"id: {event.id}\n" if event.id else ""
    return "".join(f"{ident}event: {name}\ndata: {data}\n\n" for name in event.sse_names)


@require_GET
async def session_events(request: HttpRequest, session_uuid: UUID) -> StreamingHttpResponse:
    user = await request.auser()
    # Signing in used a database connection in this request's own thread; hand it back to
    # the pool now, or every open stream would hold one for as long as it stays open.
    await sync_to_async(_release_connections)()
    access = await _in_pool(session_for_user)(user, session_uuid)
    session = access.session
    last_event_id = parse_event_id(
        request.headers.get("Last-Event-ID") or request.GET.get("last", "")
    )

    async def stream() -> AsyncIterator[str]:
        yield f"retry: {RETRY_MILLISECONDS}\n: connected\n\n"
        subscription = events.Subscription(
            session.uuid, last_event_id=last_event_id, heartbeat=HEARTBEAT_SECONDS
        )
        async with subscription:
            await _in_pool(presence.presence_connect)(session=session, user=user)
            try:
                async for event in subscription:
                    if event is None:
                        yield ": keep-alive\n\n"
                        await _in_pool(presence.presence_heartbeat)(session=session, user=user)
                    else:
                        yield sse_format(event)
            finally:
                # The client went away (the generator is cancelled): mark them gone.
                await asyncio.shield(
                    _in_pool(presence.presence_disconnect)(session=session, user=user)
                )

    return StreamingHttpResponse(
        stream(),
        content_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
