"""Redis stops in the middle of a live session, then starts again empty (as compose runs it:
no persistence). PostgreSQL is the source of truth: while Redis is away answers are saved and
pages and login work; once it is back every open stream resyncs and carries later events.

The app runs in a process of its own on a Redis server of the test's own; two participants
hold event streams the way browsers do (reconnecting with Last-Event-ID)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from reviews import sessions
from reviews.models import Answer, Participant, ParticipantRole
from tests.conftest import PASSWORD, require_redis, selected
from tests.services import (  # noqa: F401 - fixtures
    EventStreamClient,
    StreamEvent,
    app_server,
    give_server_password,
    named,
    private_redis,
    starting,
)

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

CHOICES = [
    "ops_priorities_ext_cust_needs",
    "ops_priorities_int_cust_needs",
    "ops_priorities_governance_reqs",
]


def signed_in(user: Any) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    return {"sessionid": client.cookies["sessionid"].value}


class Person:
    """Someone using the app over HTTP, as htmx does: the CSRF token from the page."""

    def __init__(self, base: str, cookies: dict[str, str]) -> None:
        self.base = base
        self.http = httpx.Client(base_url=base, cookies=cookies, timeout=20)

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)

    def post(self, url: str, data: dict[str, str], *, page: str, htmx: bool = False) -> int:
        """Post as the page would (its CSRF token); the status code."""
        if "csrftoken" not in self.http.cookies:
            self.http.get(page)
        headers = {"X-CSRFToken": self.http.cookies.get("csrftoken", "")}
        if htmx:
            headers["HX-Request"] = "true"
        return self.http.post(url, data=data, headers=headers).status_code

    def toggle(self, page: str, url: str, *, select: bool = True) -> int:
        return self.post(url, {"select": "1" if select else "0"}, page=page, htmx=True)

    def close(self) -> None:
        self.http.close()


def login(base: str, username: str) -> tuple[int, int]:
    """Sign in through the form: (status of the sign-in, status of the page after it)."""
    with httpx.Client(base_url=base, timeout=20) as http:
        form = http.get("/login/")
        if form.status_code != 200:
            return form.status_code, 0
        response = http.post(
            "/login/",
            data={"username": username, "password": PASSWORD},
            headers={"X-CSRFToken": http.cookies.get("csrftoken", "")},
        )
        home = http.get("/") if response.status_code == 302 else None
        return response.status_code, home.status_code if home is not None else 0


def arrives(stream: EventStreamClient, predicate: Any, timeout: float = 15) -> bool:
    try:
        stream.wait_for(predicate, timeout=timeout)
    except AssertionError:
        return False
    return True


def answered(question) -> Callable[[StreamEvent], bool]:
    """The answer's event: its choices' HTML (`choices-…`) or the name pages re-fetch on."""
    return lambda event: event.name in {f"answer-{question}", f"choices-{question}"}


def test_redis_stops_and_starts_again_empty(private_redis, app_server, cast, lenses):  # noqa: F811
    require_redis()
    web = app_server(REDIS_URL=private_redis.url, LIVE_HEARTBEAT_SECONDS="2")
    review = sessions.session_create(
        workload=cast.workload, user=cast.admin, title="Live review", kind="periodic",
        review_starts_at=timezone.now() + timedelta(hours=1),
    )  # fmt: skip
    Participant.objects.create(session=review, user=cast.member, role=ParticipantRole.OPERATIONS)
    give_server_password(cast.finance)
    answer = Answer.objects.select_related("question").get(
        session=review, question__ident="priorities"
    )
    question = str(answer.question.uuid)
    page = reverse("reviews:question", args=[review.uuid, question])

    def toggle_url(choice: str) -> str:
        return reverse("reviews:choice_toggle", args=[review.uuid, question, choice])

    stream_url = web.url + reverse("reviews:session_events", args=[review.uuid])
    alice_cookies, bob_cookies = signed_in(cast.admin), signed_in(cast.member)
    streams = [
        EventStreamClient(stream_url, alice_cookies).start(),
        EventStreamClient(stream_url, bob_cookies).start(),
    ]
    bob = Person(web.url, bob_cookies)
    alice = Person(web.url, alice_cookies)
    outcome: dict[str, object] = {}
    expected: dict[str, object] = {}
    try:
        for stream in streams:  # both attached: each sees the other arrive
            stream.wait_for(starting("presence"))
        assert bob.toggle(page, toggle_url(CHOICES[0])) == 204
        for stream in streams:
            stream.wait_for(answered(question))

        private_redis.stop()
        # While Redis is away: the answer is saved, pages and sign-in work.
        outcome["toggle during the outage"] = bob.toggle(page, toggle_url(CHOICES[1]))
        expected["toggle during the outage"] = 204
        outcome["saved during the outage"] = CHOICES[1] in selected(answer)
        expected["saved during the outage"] = True
        outcome["question page during the outage"] = bob.get(page).status_code
        expected["question page during the outage"] = 200
        outcome["sign-in during the outage"] = login(web.url, cast.finance.username)
        expected["sign-in during the outage"] = (302, 200)
        outcome["readiness during the outage"] = bob.get("/readyz").status_code
        expected["readiness during the outage"] = 200
        outcome["invitation during the outage"] = alice.post(
            reverse("reviews:invitation_create", args=[review.uuid]),
            {"email": "olga@example.com", "role": ParticipantRole.SECURITY},
            page=page,
        )
        expected["invitation during the outage"] = 302
        outcome["invited"] = review.invitations.filter(email="olga@example.com").exists()
        expected["invited"] = True
        for stream in streams:
            stream.drain()

        private_redis.start()  # empty: no sequence, no history
        outcome["streams resync"] = [arrives(s, named("refresh"), timeout=20) for s in streams]
        expected["streams resync"] = [True, True]
        alice.toggle(page, toggle_url(CHOICES[2]))
        outcome["streams carry later events"] = [
            arrives(s, answered(question), timeout=10) for s in streams
        ]
        expected["streams carry later events"] = [True, True]
        outcome["every answer kept"] = selected(answer) == set(CHOICES)
        expected["every answer kept"] = True
    finally:
        for stream in streams:
            stream.stop()
        bob.close()
        alice.close()
    steps = "\n".join(f"{step}: {outcome[step]!r}" for step in outcome)
    assert outcome == expected, f"{steps}\n\n{web.log()[-3000:]}"
