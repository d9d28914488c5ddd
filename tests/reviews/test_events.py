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
from reviews.eventkinds import EventKind, NoData, QuestionData
from reviews.events import PREFIX, RESYNC, InProcessBackend, RedisBackend
from reviews.models import Participant, ParticipantRole
from reviews.views.events import sse_format
from tests.conftest import require_redis

Q1, Q2 = str(uuid.uuid4()), str(uuid.uuid4())


def answered(question=Q1):
    """(kind, data) of an answer event, as a backend's publish takes them."""
    return EventKind.ANSWER, QuestionData(question=question)


PARKED = (EventKind.PARKING, NoData())


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
    got = run_subscription(channel, publish=lambda: in_process.publish(channel, *answered()))
    assert [(e.id, e.kind, e.data) for e in got] == [(1, EventKind.ANSWER, QuestionData(Q1))]


def test_catch_up_replays_what_was_missed(in_process):
    channel = str(uuid.uuid4())
    for _ in range(5):
        in_process.publish(channel, *answered())
    got = run_subscription(
        channel,
        last_event_id=3,
        publish=lambda: in_process.publish(channel, *PARKED),
        count=3,
    )
    assert [(e.id, e.kind) for e in got] == [
        (4, EventKind.ANSWER),
        (5, EventKind.ANSWER),
        (6, EventKind.PARKING),
    ]


def test_catch_up_too_far_back_asks_for_a_full_refresh(in_process):
    channel = str(uuid.uuid4())
    for _ in range(events.HISTORY + 10):
        in_process.publish(channel, *answered())
    got = run_subscription(
        channel,
        last_event_id=2,
        publish=lambda: in_process.publish(channel, *PARKED),
        count=2,
    )
    assert got[0] is RESYNC and got[1].id == events.HISTORY + 11


def test_ids_from_before_a_restart_ask_for_a_full_refresh(in_process):
    channel = str(uuid.uuid4())
    got = run_subscription(
        channel,
        last_event_id=40,
        publish=lambda: in_process.publish(channel, *PARKED),
        count=2,
    )
    assert got[0] is RESYNC


def test_sse_names_and_format():
    event = events.Event(7, *answered())
    assert event.sse_names == [f"answer-{Q1}", "progress"]
    assert sse_format(event) == (
        f'id: 7\nevent: answer-{Q1}\ndata: {{"question":"{Q1}"}}\n\n'
        f'id: 7\nevent: progress\ndata: {{"question":"{Q1}"}}\n\n'
    )
    assert sse_format(RESYNC) == "event: refresh\ndata: {}\n\n"
    assert events.Event(1, EventKind.NOTES, QuestionData(Q2)).sse_names == [f"notes-{Q2}"]


def test_a_failure_to_publish_never_reaches_the_service(
    monkeypatch, caplog, db, django_capture_on_commit_callbacks
):
    """Once the change has committed, a backend that fails is logged, never raised."""

    class Broken:
        def publish(self, *args):
            raise ConnectionError("redis is down")

    monkeypatch.setattr(events, "backend", lambda: Broken())
    with django_capture_on_commit_callbacks(execute=True):
        events.publish_on_commit(uuid.uuid4(), EventKind.ANSWER, question=Q1)
    assert "Could not publish answer" in caplog.text


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
    got = run_subscription(channel, publish=lambda: web1.publish(channel, *answered()))
    assert [(e.kind, e.data) for e in got] == [answered()]


@pytest.mark.redis
def test_redis_catch_up_and_resync(redis_backends, monkeypatch):
    web1, web2 = redis_backends
    monkeypatch.setattr(events, "backend", lambda: web2)
    channel = str(uuid.uuid4())
    for _ in range(4):
        web1.publish(channel, *answered())
    got = run_subscription(
        channel, last_event_id=2, publish=lambda: web1.publish(channel, *PARKED), count=3
    )
    assert [(e.id, e.kind, e.data) for e in got] == [
        (3, *answered()),
        (4, *answered()),
        (5, *PARKED),
    ]
    for _ in range(events.HISTORY + 5):
        web1.publish(channel, *answered())
    got = run_subscription(
        channel, last_event_id=1, publish=lambda: web1.publish(channel, *PARKED), count=1
    )
    assert got[0] is RESYNC


@pytest.mark.redis
def test_redis_an_unreadable_event_resyncs_its_session_only(redis_backends, monkeypatch):
    """A message on a session's channel that is not an event (another version of the app, a
    stray publish): that session's streams cannot tell what changed, so they refresh
    everything; the other sessions' streams, on the same connection, carry on as before."""
    web1, web2 = redis_backends
    monkeypatch.setattr(events, "backend", lambda: web2)
    spoiled, other = str(uuid.uuid4()), str(uuid.uuid4())

    def publish():
        web1.client.publish(f"{PREFIX}{spoiled}", b'{"id":1,"kind":"gone","data":{}}')
        web1.publish(other, *PARKED)

    async def main():
        async with (
            events.Subscription(spoiled, heartbeat=0.2) as first,
            events.Subscription(other, heartbeat=0.2) as second,
        ):
            await asyncio.get_running_loop().run_in_executor(None, publish)
            return await take(first, 1), await take(second, 1)

    got_spoiled, got_other = asyncio.run(main())
    assert got_spoiled == [RESYNC]
    assert [(e.id, e.kind) for e in got_other] == [(1, EventKind.PARKING)]


@pytest.mark.redis
def test_redis_a_catch_up_over_an_unreadable_event_resyncs(redis_backends, monkeypatch):
    web1, web2 = redis_backends
    monkeypatch.setattr(events, "backend", lambda: web2)
    channel = str(uuid.uuid4())
    web1.publish(channel, *answered())
    web1.client.rpush(f"{PREFIX}{channel}:log", b"not json")
    web1.client.incr(f"{PREFIX}{channel}:seq")
    got = run_subscription(
        channel, last_event_id=0, publish=lambda: web1.publish(channel, *PARKED), count=2
    )
    assert got[0] is RESYNC and (got[1].id, got[1].kind) == (3, EventKind.PARKING)


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
