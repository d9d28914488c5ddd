"""Under the Content-Security-Policy, the main pages run without a single violation or console
error (htmx, its SSE extension and our scripts all load and work), and the live question
page still receives a change from another participant."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from reviews import sessions
from reviews.models import Answer, Participant, ParticipantRole
from tests.actions.analysis_helpers import analysed
from tests.conftest import selected

pytestmark = pytest.mark.e2e

# Runs before any page script (Playwright adds it outside the page's policy) and records
# every violation the page reports.
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(
    event.effectiveDirective + " blocked " + (event.blockedURI || "inline") +
    " at " + event.sourceFile + ":" + event.lineNumber
  );
});
"""


class Watched:
    """A page with its CSP violations and console errors recorded."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        page.add_init_script(LISTEN)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.on("response", self._response)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.errors.append(f"{response.status}: {response.url}")

    def real_errors(self) -> list[str]:
        """Every error: a live page aborts no request (which htmx would log as
        htmx:sendAbort and htmx:afterRequest), so none is excused."""
        return list(self.errors)

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_load_state("networkidle")
        self.assert_clean(url)

    def violations(self) -> list[str]:
        return list(self.page.evaluate("window.__violations || []"))

    def assert_clean(self, where: str) -> None:
        assert self.violations() == [], where
        assert self.real_errors() == [], where


@pytest.fixture
def watch(live: Any, browser: Any) -> Iterator[Any]:
    """`watch(user)` gives a Watched signed-in page, `watch(None)` an anonymous one."""
    contexts = []

    def make(user: Any) -> Watched:
        if user is not None:
            return Watched(live.page(user))
        context = browser.new_context()
        context.set_default_timeout(10_000)
        contexts.append(context)
        return Watched(context.new_page())

    yield make
    for context in contexts:
        context.close()


def test_the_listener_catches_a_violation(live, watch, cast):
    """The check below can fail: an inline script is reported."""
    watched = watch(None)
    watched.page.goto(live.url + reverse("login"))
    watched.page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.x = 1';"
        " document.body.appendChild(s); }"
    )
    watched.page.wait_for_function("() => window.__violations.length > 0")
    assert "script-src-elem blocked inline" in watched.violations()[0]
    assert watched.page.evaluate("window.x") is None


def test_pages_before_signing_in_have_no_violation(live, watch, db):
    watched = watch(None)
    for name in ("login", "password_reset"):
        watched.open(live.url + reverse(name))
    watched.page.fill("#id_email", "nobody@example.com")
    watched.page.click("button[type=submit]")
    watched.page.wait_for_url("**/password/reset/sent/")
    watched.assert_clean("after asking for a reset link")


def test_the_main_pages_have_no_violation(live, watch, review, cast):
    analysed(review, cast)
    watched = watch(cast.admin)
    answer = Answer.objects.select_related("question").filter(session=review).first()
    assert answer is not None
    pages = [
        reverse("home"),
        reverse("reviews:workload_list"),
        reverse("reviews:workload_detail", args=[cast.workload.uuid]),
        reverse("reviews:session_detail", args=[review.uuid]),
        reverse("reviews:question", args=[review.uuid, answer.question.uuid]),
        reverse("actions:analysis", args=[review.uuid]),
        reverse("actions:plan", args=[review.uuid]),
        reverse("actions:my_actions"),
        reverse("actions:cost_findings"),
        reverse("actions:notification_preferences"),
        reverse("questionnaires:lens_list"),
        reverse("reviews:team_detail", args=[cast.team.uuid]),
    ]
    for path in pages:
        watched.open(live.url + path)
    # The matrix is drawn.
    watched.page.goto(live.url + reverse("actions:analysis", args=[review.uuid]))
    expect(watched.page.locator("svg.matrix-chart")).to_be_visible()
    watched.assert_clean("analysis")


def test_the_live_page_updates_under_the_policy(live, watch, cast, lenses):
    review = sessions.session_create(
        workload=cast.workload, user=cast.admin, title="Live review", kind="periodic",
        review_starts_at=timezone.now() + timedelta(hours=1),
    )  # fmt: skip
    Participant.objects.create(session=review, user=cast.member, role=ParticipantRole.OPERATIONS)
    answer = Answer.objects.select_related("question").get(
        session=review, question__ident="priorities"
    )
    url = live.url + reverse("reviews:question", args=[review.uuid, answer.question.uuid])
    alice, bob = watch(cast.admin), watch(cast.member)
    for watched in (alice, bob):
        watched.open(url)
        expect(watched.page.locator("#live-status .ok")).to_have_text("● Live")
    choice = "ops_priorities_ext_cust_needs"
    alice.page.locator(f'#choices input[type=checkbox][value="{choice}"]').check()
    # Bob's page gets it over the event stream, swapped in by the SSE extension.
    expect(bob.page.locator(f'#choices input[type=checkbox][value="{choice}"]')).to_be_checked()
    expect(bob.page.locator("#risk-badge")).to_have_text("High risk")
    assert selected(answer) == {choice}
    # Unticking sends select=0 (the value comes from data-checked-as, not an eval).
    alice.page.locator(f'#choices input[type=checkbox][value="{choice}"]').uncheck()
    expect(bob.page.locator(f'#choices input[type=checkbox][value="{choice}"]')).not_to_be_checked()
    assert selected(answer) == set()
    for name, watched in (("alice", alice), ("bob", bob)):
        watched.assert_clean(name)
