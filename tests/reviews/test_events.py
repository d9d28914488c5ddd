"""Live events: the in-process and Redis backends, catch-up after a reconnection, and the
Server-Sent Events stream seen over HTTP after a change."""

import asyncio
import json
import queue
import threading
import time
import uuid

import httpx
import pytest
from django.test import Client
from django.urls import reverse

from reviews import events
from reviews.events import RESYNC, InProcessBackend, RedisBackend
from reviews.models import Participant, ParticipantRole
from reviews.views.events import sse_format, sse_names
from tests.conftest import require_redis


async def take(stream, count, timeout=5.0):
    items = []
    async with asyncio.timeout(timeout):
        async for item in stream:
            if item is not None:
                items.append(item)
            if len(items) == count:
                return items
    return items


def run_subscription(channel, *, publish, last_event_id=None, count=1):
    """Subscribe in an event loop as the stream view does, then publish (from another
    thread, as views do) and collect `count` events. Entering the subscription returns once
    it is attached (on Redis: once the server has confirmed the pub/sub subscription), so
    that is the signal to publish: nothing published from then on can be missed."""

    async def main():
        async with events.Subscription(
            channel, last_event_id=last_event_id, heartbeat=0.2
        ) as subscription:
            await asyncio.get_running_loop().run_in_executor(None, publish)
            return await take(subscription, count)

    return asyncio.run(main())


@pytest.fixture
def in_process(monkeypatch):
    backend = InProcessBackend()
    monkeypatch.setattr(events, "backend", lambda: backend)
    return backend


def test_in_process_subscriber_sees_events_published_from_another_thread(in_process):
    channel = str(uuid.uuid4())
    got = run_subscription(
        channel, publish=lambda: in_process.publish(channel, "answer", {"question": "q1"})
    )
    assert [(e.id, e.kind, e.data) for e in got] == [(1, "answer", {"question": "q1"})]


def test_catch_up_replays_what_was_missed(in_process):
    channel = str(uuid.uuid4())
    for i in range(5):
        in_process.publish(channel, "answer", {"n": i})
    got = run_subscription(
        channel,
        last_event_id=3,
        publish=lambda: in_process.publish(channel, "parking", {}),
        count=3,
    )
    assert [e.id for e in got] == [4, 5, 6]


def test_catch_up_too_far_back_asks_for_a_full_refresh(in_process):
    channel = str(uuid.uuid4())
    for i in range(events.HISTORY + 10):
        in_process.publish(channel, "answer", {"n": i})
    got = run_subscription(
        channel,
        last_event_id=2,
        publish=lambda: in_process.publish(channel, "x", {}),
        count=2,
    )
    assert got[0] is RESYNC and got[1].id == events.HISTORY + 11


def test_ids_from_before_a_restart_ask_for_a_full_refresh(in_process):
    channel = str(uuid.uuid4())
    got = run_subscription(
        channel,
        last_event_id=40,
        publish=lambda: in_process.publish(channel, "x", {}),
        count=2,
    )
    assert got[0] is RESYNC


def test_sse_names_and_format():
    event = events.Event(7, "answer", {"question": "abc"})
    assert sse_names(event) == ["answer-abc", "progress"]
    assert sse_format(event) == (
        'id: 7\nevent: answer-abc\ndata: {"question":"abc"}\n\n'
        'id: 7\nevent: progress\ndata: {"question":"abc"}\n\n'
    )
    assert sse_names(RESYNC) == ["refresh"]
    assert sse_names(events.Event(1, "notes", {"question": "q"})) == ["notes-q"]


def test_publish_never_raises(monkeypatch):
    class Broken:
        def publish(self, *args):
            raise ConnectionError("redis is down")

    monkeypatch.setattr(events, "backend", lambda: Broken())
    assert events.publish(uuid.uuid4(), "answer", question="q") == 0


# --- Redis (CI runs these against a real server) ------------------------------------------------


@pytest.fixture
def redis_backends(monkeypatch):
    """Two backends on one Redis, standing for two web processes."""
    url = require_redis()
    return RedisBackend(url), RedisBackend(url)


@pytest.mark.redis
def test_redis_fan_out_across_processes(redis_backends, monkeypatch):
    web1, web2 = redis_backends
    monkeypatch.setattr(events, "backend", lambda: web2)
    channel = str(uuid.uuid4())
    got = run_subscription(
        channel, publish=lambda: web1.publish(channel, "answer", {"question": "q"})
    )
    assert [(e.kind, e.data) for e in got] == [("answer", {"question": "q"})]


@pytest.mark.redis
def test_redis_catch_up_and_resync(redis_backends, monkeypatch):
    web1, web2 = redis_backends
    monkeypatch.setattr(events, "backend", lambda: web2)
    channel = str(uuid.uuid4())
    for i in range(4):
        web1.publish(channel, "answer", {"n": i})
    got = run_subscription(
        channel, last_event_id=2, publish=lambda: web1.publish(channel, "x", {}), count=3
    )
    assert [e.id for e in got] == [3, 4, 5]
    for i in range(events.HISTORY + 5):
        web1.publish(channel, "answer", {"n": i})
    got = run_subscription(
        channel, last_event_id=1, publish=lambda: web1.publish(channel, "x", {}), count=1
    )
    assert got[0] is RESYNC


# --- The stream over HTTP ---------------------------------------------------------------------


def read_events(url, cookies, out: queue.Queue, stop: threading.Event):
    """Read an event stream in a thread, putting each event on `out` until `stop` is set."""
    try:
        with (
            httpx.Client(timeout=httpx.Timeout(10, read=1), cookies=cookies) as http,
            http.stream("GET", url) as response,
        ):
            out.put(("status", response.status_code, response.headers.get("content-type")))
            event = {}
            lines = response.iter_lines()
            while not stop.is_set():
                try:
                    line = next(lines)
                except httpx.ReadTimeout:
                    continue
                if line.startswith("event: "):
                    event["event"] = line[7:]
                elif line.startswith("id: "):
                    event["id"] = line[4:]
                elif line.startswith("data: "):
                    event["data"] = json.loads(line[6:])
                elif line == "" and event:
                    out.put(("event", event))
                    event = {}
    except httpx.HTTPError as exc:
        if not stop.is_set():
            out.put(("error", repr(exc)))


def wait_for(out, predicate, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            item = out.get(timeout=0.5)
        except queue.Empty:
            continue
        if predicate(item):
            return item
    raise AssertionError("the expected event did not arrive")


@pytest.mark.django_db(transaction=True)
def test_a_change_reaches_the_stream(asgi_server, cast, lenses):
    """Subscribe over HTTP, change an answer through the app, see the event arrive. With
    REDIS_URL set (CI) this goes through Redis pub/sub."""
    from datetime import timedelta

    from django.utils import timezone

    from reviews import sessions

    review = sessions.session_create(
        workload=cast.workload,
        user=cast.admin,
        title="R",
        kind="periodic",
        review_starts_at=timezone.now() + timedelta(days=1),
    )
    Participant.objects.create(session=review, user=cast.member, role=ParticipantRole.OPERATIONS)
    answer = review.answers.select_related("question").get(question__ident="priorities")
    viewer = Client()
    viewer.force_login(cast.viewer)
    out, stop = queue.Queue(), threading.Event()
    reader = threading.Thread(
        target=read_events,
        args=(
            asgi_server + reverse("reviews:session_events", args=[review.uuid]),
            {"sessionid": viewer.cookies["sessionid"].value},
            out,
            stop,
        ),
        daemon=True,
    )
    reader.start()
    status = wait_for(out, lambda item: item[0] == "status")
    assert status[1] == 200 and status[2].startswith("text/event-stream")
    wait_for(
        out, lambda item: item[0] == "event" and item[1]["event"] == "presence"
    )  # the viewer connected

    actor = Client()
    actor.force_login(cast.member)
    url = reverse(
        "reviews:choice_toggle",
        args=[review.uuid, answer.question.uuid, "ops_priorities_ext_cust_needs"],
    )
    assert actor.post(url, {"select": "1"}).status_code == 302
    event = wait_for(
        out, lambda item: item[0] == "event" and item[1]["event"].startswith("answer-")
    )[1]
    assert event["event"] == f"answer-{answer.question.uuid}"
    assert event["data"] == {"question": str(answer.question.uuid)}
    stop.set()
    reader.join(timeout=5)


@pytest.mark.django_db(transaction=True)
def test_stream_is_a_404_for_outsiders_and_needs_a_login(asgi_server, cast, lenses):
    from datetime import timedelta

    from django.utils import timezone

    from reviews import sessions

    review = sessions.session_create(
        workload=cast.workload,
        user=cast.admin,
        title="R",
        kind="periodic",
        review_starts_at=timezone.now() + timedelta(days=1),
    )
    url = asgi_server + reverse("reviews:session_events", args=[review.uuid])
    outsider = Client()
    outsider.force_login(cast.outsider)
    with httpx.Client(
        timeout=10, cookies={"sessionid": outsider.cookies["sessionid"].value}
    ) as http:
        assert http.get(url).status_code == 404
    with httpx.Client(timeout=10) as http:
        anonymous = http.get(url)
        assert anonymous.status_code == 302 and "/login/" in anonymous.headers["location"]
