"""The live page in bad weather: a fragment that fails to load once, Redis stopping and
starting again empty. The page converges to the other participant's state, and its badge is
true at each step: "Reconnecting…" while it cannot hear the session, "● Live" when it can.
A refused toggle's toast gives the server's reason."""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Route, expect

from reviews import answers, sessions
from reviews.models import Answer, Participant, ParticipantRole, Phase, ReviewSession
from tests.conftest import require_redis, selected
from tests.services import app_server, private_redis  # noqa: F401 - fixtures

pytestmark = pytest.mark.e2e

A_CHOICE = "ops_priorities_ext_cust_needs"
B_CHOICE = "ops_priorities_int_cust_needs"
C_CHOICE = "ops_priorities_governance_reqs"
LIVE = "● Live"
RECONNECTING = "Reconnecting…"


def open_page(browser, base_url, user, url):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base_url}]
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(url)
    return page


def checkbox(page, ident):
    return page.locator(f'#choices input[type=checkbox][value="{ident}"]')


def saving(choice):
    """The response to toggling `choice`."""
    return lambda response: (
        response.request.method == "POST" and f"/choices/{choice}/" in (response.url)
    )


def make_room(cast):
    review = sessions.session_create(
        workload=cast.workload, user=cast.admin, title="Live review", kind="periodic",
        review_starts_at=timezone.now() + timedelta(hours=1),
    )  # fmt: skip
    Participant.objects.create(session=review, user=cast.member, role=ParticipantRole.OPERATIONS)
    answer = Answer.objects.select_related("question").get(
        session=review, question__ident="priorities"
    )
    return review, answer


@pytest.mark.redis
def test_the_page_converges_and_its_badge_tells_the_truth(
    browser,
    transactional_db,
    private_redis,  # noqa: F811
    app_server,  # noqa: F811
    cast,
    lenses,
):
    require_redis()
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    web = app_server(REDIS_URL=private_redis.url, LIVE_HEARTBEAT_SECONDS="1")
    review, answer = make_room(cast)
    url = web.url + reverse("reviews:question", args=[review.uuid, answer.question.uuid])
    alice = open_page(browser, web.url, cast.admin, url)
    bob = open_page(browser, web.url, cast.member, url)
    for page in (alice, bob):
        expect(page.locator("#live-status")).to_have_text(LIVE)

    # Bob's next re-fetch of a fragment fails once, as behind a proxy that restarts. (Every
    # change but a phase move comes with its HTML in the event, his own included; a blind
    # round does not, each person's picks being private, so every page re-fetches its
    # choices when one opens.)
    failed: list[str] = []

    def fail_once(route: Route) -> None:
        if not failed:
            failed.append(route.request.url)
            route.fulfill(status=502, body="Bad gateway")
        else:
            route.continue_()

    bob.route("**/fragments/choices/", fail_once)
    alice.get_by_role("button", name="Answer blind").click()
    expect(bob.get_by_role("region", name="Blind round")).to_be_visible(timeout=5_000)
    expect(bob.locator("#live-status")).to_have_text(LIVE, timeout=5_000)
    assert len(failed) == 1
    alice.get_by_role("button", name="Cancel the round").click()
    expect(bob.get_by_role("region", name="Blind round")).to_have_count(0, timeout=5_000)
    checkbox(bob, A_CHOICE).check()
    expect(checkbox(alice, A_CHOICE)).to_be_checked(timeout=5_000)
    expect(checkbox(bob, A_CHOICE)).to_be_checked(timeout=5_000)
    expect(bob.locator("#live-status")).to_have_text(LIVE)
    expect(bob.locator("#toasts p")).to_have_count(0)

    private_redis.stop()
    for page in (alice, bob):
        expect(page.locator("#live-status")).to_have_text(RECONNECTING, timeout=5_000)
    with alice.expect_response(saving(B_CHOICE)) as saved:
        checkbox(alice, B_CHOICE).check()  # saved, though nobody hears of it yet
    assert saved.value.status == 204
    assert selected(answer) == {A_CHOICE, B_CHOICE}
    expect(checkbox(alice, B_CHOICE)).to_be_checked()
    expect(alice.locator("#toasts p")).to_have_count(0)
    for page in (alice, bob):
        expect(page.locator("#live-status")).to_have_text(RECONNECTING)

    private_redis.start()  # empty
    for page in (alice, bob):
        expect(page.locator("#live-status")).to_have_text(LIVE, timeout=15_000)
    expect(checkbox(bob, B_CHOICE)).to_be_checked(timeout=5_000)
    checkbox(alice, C_CHOICE).check()
    expect(checkbox(bob, C_CHOICE)).to_be_checked(timeout=5_000)
    for page in (alice, bob):
        expect(page.locator("#live-status")).to_have_text(LIVE)


def test_a_refused_toggle_says_why_and_shows_the_truth(live, cast, lenses):
    review, answer = make_room(cast)
    url = live.url + reverse("reviews:question", args=[review.uuid, answer.question.uuid])
    bob = live.page(cast.member)
    bob.goto(url)
    expect(bob.locator("#live-status")).to_have_text(LIVE)
    # The review moves on behind the page's back: no event tells it.
    ReviewSession.objects.filter(pk=review.pk).update(phase=Phase.ANALYSIS)
    checkbox(bob, A_CHOICE).click()
    expect(bob.locator("#toasts")).to_contain_text(
        "Answers are closed: the review has moved past the session."
    )
    expect(checkbox(bob, A_CHOICE)).not_to_be_checked()
    expect(checkbox(bob, A_CHOICE)).to_be_disabled()
    assert selected(answer) == set()


def test_a_silent_stream_shows_reconnecting_and_recovers_by_itself(
    browser,
    transactional_db,
    app_server,  # noqa: F811
    cast,
    lenses,
):
    """The server stops answering without closing anything (frozen, or a network that drops
    packets): the browser's EventSource still thinks it is open. The page hears no heartbeat,
    says so, and once the server answers again it is live again, by itself, up to date."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    web = app_server(LIVE_HEARTBEAT_SECONDS="1")
    review, answer = make_room(cast)
    url = web.url + reverse("reviews:question", args=[review.uuid, answer.question.uuid])
    bob = open_page(browser, web.url, cast.member, url)
    expect(bob.locator("#live-status")).to_have_text(LIVE)

    web.process.send_signal(signal.SIGSTOP)
    try:
        expect(bob.locator("#live-status")).to_have_text(RECONNECTING, timeout=8_000)
        # Meanwhile the answer changes where no event reaches this server's pages.
        answers.answer_toggle(answer=answer, user=cast.admin, choice_ident=A_CHOICE, select=True)
    finally:
        web.process.send_signal(signal.SIGCONT)
    expect(bob.locator("#live-status")).to_have_text(LIVE, timeout=15_000)
    expect(checkbox(bob, A_CHOICE)).to_be_checked(timeout=5_000)  # it refreshed
