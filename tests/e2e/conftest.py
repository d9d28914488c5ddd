"""Browser tests: Playwright driving Debian's Chromium against the app served over ASGI by
uvicorn in a thread of the test process (so Server-Sent Events stream as in production).

Pages are served under the Content-Security-Policy, which forbids eval: give
`page.wait_for_function` a function ("() => ..."), not an expression, which Playwright
would evaluate with eval in the page."""

from __future__ import annotations

import os

import pytest
from django.test import Client

from tests.conftest import asgi_server_idle, require_chromium

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser():
    # Per module, not per session: Playwright's sync API keeps an event loop running in this
    # thread while it is open, which later async tests (asyncio.run, async views) refuse.
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
            """A page signed in as `user` (None: signed out)."""
            context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
            if user is not None:
                client = Client()
                client.force_login(user)
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
    asgi_server_idle()


@pytest.fixture
def browser_sets_time_zones():
    """Ask for this to let people start without a time zone, so that the page sends the
    browser's (the one test of that script does)."""


@pytest.fixture(autouse=True)
def _time_zones_known(request):
    """Everyone starts with a time zone: otherwise each first page posts the browser's in the
    background, and that request can still be running on the server while the test's
    database is emptied."""
    if "browser_sets_time_zones" in request.fixturenames:
        yield
        return
    from django.contrib.auth.models import User
    from django.db.models.signals import post_save

    from actions.models import UserPreferences

    def known(sender, instance, created, **kwargs):
        if created:
            UserPreferences.objects.get_or_create(user=instance, defaults={"time_zone": "UTC"})

    post_save.connect(known, sender=User, dispatch_uid="e2e-time-zones")
    yield
    post_save.disconnect(sender=User, dispatch_uid="e2e-time-zones")


def click_in_page(page, selector: str) -> None:
    """Click the element that matches `selector` in the page as it stands, from the page's
    own script: two people clicking at once, each click landing whatever arrives meanwhile.
    (A click from the test driver checks what it hits and may withhold a click that lands as
    another change's HTML replaces the element.)"""
    page.evaluate("(selector) => document.querySelector(selector).click()", selector)
