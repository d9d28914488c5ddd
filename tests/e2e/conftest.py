"""Browser tests: Playwright driving Debian's Chromium against the app served over ASGI by
uvicorn in a thread of the test process (so Server-Sent Events stream as in production)."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest
from django.test import Client

from tests.conftest import require_chromium

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def asgi_server():
    """The app served by uvicorn on a free port, for the whole test session."""
    import uvicorn
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.core.asgi import get_asgi_application

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    port = _free_port()
    config = uvicorn.Config(
        ASGIStaticFilesHandler(get_asgi_application()),
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def live(transactional_db, asgi_server, browser):
    """Open pages as a given user: `live.page(user)` returns a signed-in Playwright page."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

    class Live:
        url = asgi_server
        contexts: list = []

        def page(self, user, *, viewport=(1366, 900)):
            client = Client()
            client.force_login(user)
            context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
            context.add_cookies(
                [
                    {
                        "name": "sessionid",
                        "value": client.cookies["sessionid"].value,
                        "url": asgi_server,
                    }
                ]
            )
            context.set_default_timeout(10_000)
            self.contexts.append(context)
            return context.new_page()

    live = Live()
    yield live
    for context in live.contexts:
        context.close()
