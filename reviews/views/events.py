"""The live event stream of a session: Server-Sent Events, held by the event loop.

The stream runs as an asynchronous generator on the ASGI server's event loop; database work
(access, presence) runs in the default thread pool and hands its connection back at once, so
an open stream holds no thread and no database connection while it waits.

A page sends back the last event id it saw (Last-Event-ID when the browser reconnects, or
?last= from the page itself) and gets what it missed, or "refresh". It is live once it hears
a "heartbeat": one when the stream hears the session, then one after every
LIVE_HEARTBEAT_SECONDS of silence. While the stream cannot hear the session (Redis is away)
it sends only comments; when it loses the session it ends, and the page reconnects."""

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar, cast
from uuid import UUID

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.models import User
from django.db import close_old_connections, connections
from django.http import Http404, StreamingHttpResponse
from django.views.decorators.http import require_safe

from config.http import SignedInRequest
from reviews import events, presence
from reviews.eventkinds import KINDS
from reviews.live_access import session_access
from reviews.live_fragments import viewer_key, viewer_of

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


def sse_format(event: events.Event, viewer: str = "") -> str:
    """An event on the wire, once under each of its SSE names (reviews.eventkinds.KINDS):
    with the HTML of what changed for `viewer` (their role in the session) under the swap's
    name when the event carries it, else under the name on which pages re-fetch."""
    data = json.dumps(event.data.as_dict(), separators=(",", ":"))
    values = event.data.as_dict()
    ident = f"id: {event.id}\n" if event.id is not None else ""
    out = []
    for sse in KINDS[event.kind].sse:
        swap_name = sse.swap.format_map(values) if sse.swap else ""
        swap = event.swaps.get(swap_name) if swap_name else None
        lines = swap.sse_data(viewer) if swap is not None else None
        if lines is not None:
            out.append(f"{ident}event: {swap_name}\n{lines}\n")
        else:
            out.append(f"{ident}event: {sse.name.format_map(values)}\ndata: {data}\n\n")
    return "".join(out)


def _viewer(session, user) -> str:
    """The viewer's seat read again (one query), after a change of who takes part."""
    try:
        return viewer_of(session_access(user, session.uuid, guests=True))
    except Http404:  # no longer in the team or the session: they read nothing more
        return viewer_key(None, None)


@require_safe
async def session_events(request: SignedInRequest, session_uuid: UUID) -> StreamingHttpResponse:
    # LoginRequiredMiddleware let only a signed-in user this far.
    user = cast(User, await request.auser())
    # Signing in used a database connection in this request's own thread; hand it back to
    # the pool now, or every open stream would hold one for as long as it stays open.
    await sync_to_async(_release_connections)()
    access = await _in_pool(session_access)(user, session_uuid, guests=True)
    session = access.session
    viewer = viewer_of(access)
    raw_last = request.headers.get("Last-Event-ID") or request.GET.get("last", "")
    last_event_id = events.parse_event_id(raw_last) if raw_last else None

    async def stream() -> AsyncIterator[str]:
        nonlocal viewer
        yield f"retry: {RETRY_MILLISECONDS}\n: connected\n\n"
        subscription = events.Subscription(
            session.uuid,
            last_event_id=last_event_id,
            # An id that is not one of ours (from before an upgrade, or made up): the page
            # stands nowhere known, so it refreshes everything.
            resync=bool(raw_last) and last_event_id is None,
            heartbeat=settings.LIVE_HEARTBEAT_SECONDS,
        )
        async with subscription:
            await _in_pool(presence.presence_connect)(session=session, user=user)
            try:
                async for event in subscription:
                    if event is None:  # waiting for the session: keep the connection open
                        yield ": waiting\n\n"
                    else:
                        yield sse_format(event, viewer)
                    if event is not None and event.kind is events.EventKind.PARTICIPANTS:
                        # Their seat may have changed: what they get rendered changes too.
                        viewer = await _in_pool(_viewer)(session, user)
                    if event is None or event.kind is events.EventKind.HEARTBEAT:
                        await _in_pool(presence.presence_heartbeat)(session=session, user=user)
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
