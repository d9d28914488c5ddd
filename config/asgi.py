"""The web application, served over ASGI (gunicorn with uvicorn workers, or uvicorn alone).

Two kinds of requests, two paths through Django:
- The live-session event streams (Server-Sent Events, /sessions/<uuid>/events/) go to
  Django's ASGI handler: each stream is an asynchronous generator on the event loop, so a
  process holds thousands of them without a thread each.
- Every other request is an ordinary synchronous view: it goes to Django's WSGI handler,
  run in a pool of threads (a2wsgi). Django's ASGI handler would hop between the event
  loop and threads several times per request; this path hops once.
Static files (collected into STATIC_ROOT) are served before either.

The server's lifespan start-up starts the in-process periodic runner (reviews/periodic.py)
when there is no Celery beat: the embedded setup, with no REDIS_URL.
"""

import os
import re
from collections.abc import Awaitable, Callable
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

django_asgi = get_asgi_application()

from a2wsgi import WSGIMiddleware  # noqa: E402 - after Django is set up
from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from servestatic import ServeStaticASGI  # noqa: E402

from reviews import periodic  # noqa: E402

django_wsgi = WSGIMiddleware(
    get_wsgi_application(),  # type: ignore[arg-type]  # a WSGI callable; the stubs differ
    workers=settings.WEB_THREADS,
)
EVENT_STREAM = re.compile(r"^/sessions/[0-9a-f-]{36}/events/$")


async def lifespan(
    receive: Callable[[], Awaitable[dict[str, Any]]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    """The server starting and stopping: the periodic runner starts and stops with it."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            periodic.runner_start()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            periodic.runner_stop()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def router(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
    elif scope["type"] == "http" and not EVENT_STREAM.match(scope["path"]):
        await django_wsgi(scope, receive, send)
    else:
        await django_asgi(scope, receive, send)


application = ServeStaticASGI(
    router,
    root=settings.STATIC_ROOT,
    prefix=settings.STATIC_URL,
    autorefresh=settings.DEBUG,
    max_age=None if settings.DEBUG else 3600,
    immutable_file_test=r"^.+\.[0-9a-f]{12}\..+$",
)
