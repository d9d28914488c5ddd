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
from reviews.eventkinds import (
    EVERYONE,
    EventDataError,
    EventId,
    EventKind,
    FocusData,
    NoData,
    QuestionData,
    Swap,
    parse_event_id,
)
from reviews.events import HEARTBEAT, PREFIX, RESYNC, InProcessBackend, RedisBackend
from reviews.models import Membership, Participant, ParticipantRole
from reviews.views.events import sse_format
from tests.conftest import make_user, require_redis
from tests.live_page import parse_sse
from tests.services import private_redis  # noqa: F401 - fixture

HIGH0 = "ops_priorities_ext_cust_needs"

Q1, Q2 = str(uuid.uuid4()), str(uuid.uuid4())


def answered(question=Q1):
    """(kind, data) of an answer event, as a backend's publish takes them."""
    return EventKind.ANSWER, QuestionData(question=question)


PARKED = (EventKind.PARKING, NoData())


async def take(stream, count, timeout=5.0):
    """The next `count` events of a stream, leaving out heartbeats and waiting."""
    items = []
    async with asyncio.timeout(timeout):
        async for item in stream:
            if item is not None and item is not HEARTBEAT:
                items.append(item)
            if len(items) == count:
                return items
    return items


def run_subscription(channel, *, publish, last_event_id=None, count=1, **options):
    """Subscribe in an event loop as the stream view does, then publish (from another
    thread, as views do) and collect `count` events. Entering the subscription returns once
    it is attached (on Redis: once the server has confirmed the pub/sub subscription), so
    that is the signal to publish: nothing published from then on can be missed."""

    async def main():
        async with events.Subscription(
            channel, last_event_id=last_event_id, heartbeat=0.2, **options
        ) as subscription:
            await asyncio.get_running_loop().run_in_executor(None, publish)
            return await take(subscription, count)

    return asyncio.run(main())


def numbered(got):
    """(number, kind) of each event; RESYNC as its kind."""
    return [
        (e.id.number, e.kind) if e.kind is not EventKind.RESYNC else EventKind.RESYNC for e in got
    ]


@pytest.fixture
def in_process(monkeypatch):
    backend = InProcessBackend()
    monkeypatch.setattr(events, "backend", lambda: backend)
    return backend


def test_in_process_subscriber_sees_events_published_from_another_thread(in_process):
    channel = str(uuid.uuid4())
    got = run_subscription(channel, publish=lambda: in_process.publish(channel, *answered()))
    assert [(e.id, e.kind, e.data) for e in got] == [
        (EventId(in_process.epoch, 1), EventKind.ANSWER, QuestionData(Q1))
    ]


def test_catch_up_replays_what_was_missed(in_process):
    channel = str(uuid.uuid4())
    for _ in range(5):
        in_process.publish(channel, *answered())
    got = run_subscription(
        channel,
        last_event_id=EventId(in_process.epoch, 3),
        publish=lambda: in_process.publish(channel, *PARKED),
        count=3,
    )
    assert numbered(got) == [(4, EventKind.ANSWER), (5, EventKind.ANSWER), (6, EventKind.PARKING)]


def test_live_events_carry_their_html_and_catch_up_re_fetches(in_process):
    """Streams listening get an event with its HTML; the history keeps it without (a page
    catching up re-fetches what changed), so it stays small."""
    channel = str(uuid.uuid4())
    swaps = {f"choices-{Q1}": Swap(html=("<div>x</div>",), pick={"*": 0})}
    got = run_subscription(channel, publish=lambda: in_process.publish(channel, *answered(), swaps))
    assert got[0].swaps == swaps
    (missed,), _ = asyncio.run(in_process.since(channel, EventId(in_process.epoch, 0)))
    assert missed.id == got[0].id and missed.swaps == {}


def test_catch_up_from_before_the_first_event_replays_everything(in_process):
    """A page rendered before anything happened in its session stands at 0-0."""
    channel = str(uuid.uuid4())
    assert in_process.position(channel).number == 0
    in_process.publish(channel, *answered())
    got = run_subscription(
        channel,
        last_event_id=events.BEGINNING,
        publish=lambda: in_process.publish(channel, *PARKED),
        count=2,
    )
    assert numbered(got) == [(1, EventKind.ANSWER), (2, EventKind.PARKING)]


def test_catch_up_too_far_back_asks_for_a_full_refresh(in_process):
    channel = str(uuid.uuid4())
    for _ in range(events.HISTORY + 10):
        in_process.publish(channel, *answered())
    got = run_subscription(
        channel,
        last_event_id=EventId(in_process.epoch, 2),
        publish=lambda: in_process.publish(channel, *PARKED),
    )
    # The refresh carries where the session stands (the event published as the stream
    # opened included: the refresh shows it), so the page resumes from there.
    assert [(e.kind, e.id) for e in got] == [
        (EventKind.RESYNC, EventId(in_process.epoch, events.HISTORY + 11))
    ]
    assert in_process.subscribers == {}


@pytest.mark.parametrize(
    "last", [EventId("0ther", 3), EventId("0ther", 40)], ids=["behind", "ahead"]
)
def test_ids_of_another_epoch_ask_for_a_full_refresh(in_process, last):
    """Ids from before the sequence started over (the process restarted), whatever their
    number: the page cannot know what it missed."""
    channel = str(uuid.uuid4())
    for _ in range(5):
        in_process.publish(channel, *answered())
    got = run_subscription(
        channel, last_event_id=last, publish=lambda: in_process.publish(channel, *PARKED)
    )
    assert [(e.kind, e.id) for e in got] == [(EventKind.RESYNC, EventId(in_process.epoch, 6))]


def test_a_restarted_process_has_a_new_epoch(monkeypatch):
    before, after = InProcessBackend(), InProcessBackend()
    channel = str(uuid.uuid4())
    first = before.publish(channel, *answered())
    monkeypatch.setattr(events, "backend", lambda: after)
    got = run_subscription(
        channel, last_event_id=first, publish=lambda: after.publish(channel, *PARKED)
    )
    assert [(e.kind, e.id) for e in got] == [(EventKind.RESYNC, EventId(after.epoch, 1))]
    assert after.epoch != first.epoch


def test_a_page_that_stands_nowhere_known_refreshes(in_process):
    channel = str(uuid.uuid4())
    got = run_subscription(
        channel, resync=True, publish=lambda: in_process.publish(channel, *PARKED), count=2
    )
    assert numbered(got) == [EventKind.RESYNC, (1, EventKind.PARKING)]


def test_a_sequence_that_starts_over_under_a_live_stream_resyncs_it(in_process):
    """Events of a new epoch after those of an old one: what came between is unknown."""
    channel = str(uuid.uuid4())

    def publish():
        in_process.publish(channel, *answered())
        in_process.epoch = "f00d"  # as when Redis restarts empty
        in_process.counters[channel] = 0
        in_process.publish(channel, *PARKED)

    got = run_subscription(channel, publish=publish, count=3)
    assert numbered(got) == [(1, EventKind.ANSWER), EventKind.RESYNC, (1, EventKind.PARKING)]


def test_heartbeats_come_at_their_interval_busy_or_not(in_process):
    """The page counts on hearing one every interval: a busy session must not starve it."""
    channel = str(uuid.uuid4())

    async def main():
        async with events.Subscription(channel, heartbeat=0.3) as subscription:
            stop = asyncio.get_running_loop().time() + 1.6

            async def publish():
                while asyncio.get_running_loop().time() < stop:
                    in_process.publish(channel, *PARKED)
                    await asyncio.sleep(0.05)

            publisher = asyncio.create_task(publish())
            beats = 0
            async for item in subscription:
                beats += item is HEARTBEAT
                if asyncio.get_running_loop().time() >= stop:
                    break
            await publisher
            return beats

    # One on hearing the session, then one every 0.3 s of the 1.6 s.
    assert asyncio.run(main()) >= 5


@pytest.mark.parametrize(
    "raw, parsed",
    [
        ("0-0", EventId("0", 0)),
        ("a1b2c3d4-7", EventId("a1b2c3d4", 7)),
        ("z-123456789012345", EventId("z", 123456789012345)),
    ],
)
def test_an_event_id_reads_back(raw, parsed):
    assert parse_event_id(raw) == parsed and str(parsed) == raw


@pytest.mark.parametrize(
    "raw",
    [
        "", "7", "42", "²", "a-²", "a-١", "-1", "a-", "a-b", "A-1", "a-1-2", "a--1", " a-1",
        "a-1 ", "a-1\n", "a-1\x00", "a_b-1", "a" * 17 + "-1", "a-" + "1" * 16, "a-+1", "a-1e3",
    ],
)  # fmt: skip
def test_anything_else_is_not_an_event_id(raw):
    assert parse_event_id(raw) is None


def test_sse_names_and_format():
    event = events.Event(EventId("ab12", 7), *answered())
    assert event.sse_names == [f"answer-{Q1}", "nav", "progress"]
    assert sse_format(event) == (
        f'id: ab12-7\nevent: answer-{Q1}\ndata: {{"question":"{Q1}"}}\n\n'
        f'id: ab12-7\nevent: nav\ndata: {{"question":"{Q1}"}}\n\n'
        f'id: ab12-7\nevent: progress\ndata: {{"question":"{Q1}"}}\n\n'
    )
    assert sse_format(RESYNC) == "event: refresh\ndata: {}\n\n"
    assert sse_format(HEARTBEAT) == "event: heartbeat\ndata: {}\n\n"
    assert events.Event(EventId("ab12", 1), EventKind.NOTES, QuestionData(Q2)).sse_names == [
        f"notes-text-{Q2}",
        f"notes-{Q2}",
    ]


def test_an_event_with_html_sends_each_viewer_theirs():
    """The HTML of a change goes out under the swap's name, the viewer's variant, one data
    line per line; what it carries no HTML for goes out as a re-fetch."""
    swaps = {
        f"choices-{Q1}": Swap(
            html=("<p>a</p>\n<p>b</p>", "<p>r</p>"), pick={"": 1, "finance": 1, "operations": 0}
        ),
    }
    event = events.Event(EventId("ab12", 8), *answered(), swaps=swaps)
    assert sse_format(event, "operations") == (
        f"id: ab12-8\nevent: choices-{Q1}\ndata: <p>a</p>\ndata: <p>b</p>\n\n"
        f'id: ab12-8\nevent: nav\ndata: {{"question":"{Q1}"}}\n\n'
        f'id: ab12-8\nevent: progress\ndata: {{"question":"{Q1}"}}\n\n'
    )
    assert sse_format(event, "").startswith(f"id: ab12-8\nevent: choices-{Q1}\ndata: <p>r</p>\n\n")
    # A viewer it has no variant for re-fetches.
    assert sse_format(event, "observer").startswith(f"id: ab12-8\nevent: answer-{Q1}\n")
    # It travels whole through JSON (Redis, the history), and only for what its kind swaps.
    assert events.Event.from_json(event.to_json()) == event
    with pytest.raises(EventDataError):
        events.Event(EventId("ab12", 9), *answered(), swaps={"notes-x": swaps[f"choices-{Q1}"]})
    with pytest.raises(EventDataError):
        Swap(html=("<p></p>",), pick={"": 3})


def test_notes_swap_in_for_readers_and_still_tell_an_editor_they_changed():
    """Notes go out rendered, and under the name on which the badge of someone editing
    them re-fetches itself (their own revision); caught up from the history (no HTML), the
    notes re-fetch too."""
    rendered = Swap(html=("<div>notes</div>",), pick={EVERYONE: 0})
    event = events.Event(
        EventId("ab12", 3), EventKind.NOTES, QuestionData(Q2), {f"notes-{Q2}-html": rendered}
    )
    assert sse_format(event, "member/operations") == (
        f"id: ab12-3\nevent: notes-{Q2}-html\ndata: <div>notes</div>\n\n"
        f'id: ab12-3\nevent: notes-{Q2}\ndata: {{"question":"{Q2}"}}\n\n'
    )
    caught_up = events.Event(EventId("ab12", 3), EventKind.NOTES, QuestionData(Q2))
    assert sse_format(caught_up, "member/operations").startswith(
        f'id: ab12-3\nevent: notes-text-{Q2}\ndata: {{"question":"{Q2}"}}\n\n'
    )
    # Focus: the script's event (follow) goes out with its data either way.
    focus = events.Event(
        EventId("ab12", 4),
        EventKind.FOCUS,
        FocusData(question=Q2, url="/q/"),
        {"focus-html": Swap(html=("<div>on</div>",), pick={EVERYONE: 0})},
    )
    assert [name for _, name, _ in parse_sse(sse_format(focus, ""))] == ["focus", "focus-html"]


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


def test_without_redis_nothing_waits_and_little_is_logged(settings, free_port, caplog):
    """Redis cannot be reached: publishing and reading the position give up at once, and
    say so once."""
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port}/0"
    backend = RedisBackend(settings.REDIS_URL)
    channel = str(uuid.uuid4())
    for _ in range(5):
        assert backend.publish(channel, *answered()) is None
        assert backend.position(channel) is None
    reports = [r for r in caplog.records if r.name == "pillarwise.events"]
    assert len(reports) == 1 and "not published" in reports[0].getMessage()


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
    assert web1.position(channel) == events.BEGINNING
    first = web1.publish(channel, *answered())
    for _ in range(3):
        web1.publish(channel, *answered())
    assert web2.position(channel) == EventId(first.epoch, 4)
    got = run_subscription(
        channel,
        last_event_id=EventId(first.epoch, 2),
        publish=lambda: web1.publish(channel, *PARKED),
        count=3,
    )
    assert [(e.id, e.kind, e.data) for e in got] == [
        (EventId(first.epoch, 3), *answered()),
        (EventId(first.epoch, 4), *answered()),
        (EventId(first.epoch, 5), *PARKED),
    ]
    for _ in range(events.HISTORY + 5):
        web1.publish(channel, *answered())
    got = run_subscription(
        channel, last_event_id=first, publish=lambda: web1.publish(channel, *PARKED), count=1
    )
    assert got[0].kind is EventKind.RESYNC


@pytest.mark.redis
def test_redis_a_crowd_of_streams_opening_at_once_all_catch_up(redis_backends, monkeypatch):
    """Every page reconnecting at once (after a restart): more streams catching up at the
    same moment than the process keeps Redis connections each wait their turn, and all catch
    up; none ends for want of a connection."""
    monkeypatch.setattr(events, "HUB_CONNECTIONS", 3)
    web1, _ = redis_backends
    web2 = RedisBackend(web1.url)  # its link made with the small pool
    monkeypatch.setattr(events, "backend", lambda: web2)
    channel = str(uuid.uuid4())
    first = web1.publish(channel, *answered())
    web1.publish(channel, *answered())

    async def one() -> list:
        async with events.Subscription(channel, last_event_id=first, heartbeat=5) as stream:
            return await take(stream, 1)

    async def crowd() -> list:
        return await asyncio.gather(*(one() for _ in range(40)))

    got = asyncio.run(crowd())
    assert [[(e.id, e.kind) for e in g] for g in got] == [
        [(EventId(first.epoch, 2), EventKind.ANSWER)]
    ] * 40


@pytest.mark.redis
def test_redis_an_unreadable_event_resyncs_its_session_only(redis_backends, monkeypatch):
    """A message on a session's channel that is not an event (another version of the app, a
    stray publish): that session's streams cannot tell what changed, so they refresh
    everything; the other sessions' streams, on the same connection, carry on as before."""
    web1, web2 = redis_backends
    monkeypatch.setattr(events, "backend", lambda: web2)
    spoiled, other = str(uuid.uuid4()), str(uuid.uuid4())

    def publish():
        web1.client.publish(f"{PREFIX}{spoiled}", b'{"id":"ab-1","kind":"gone","data":{}}')
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
    assert numbered(got_other) == [(1, EventKind.PARKING)]


@pytest.mark.redis
def test_redis_a_catch_up_over_an_unreadable_event_resyncs(redis_backends, monkeypatch):
    web1, web2 = redis_backends
    monkeypatch.setattr(events, "backend", lambda: web2)
    channel = str(uuid.uuid4())
    web1.publish(channel, *answered())
    sequence, history, _ = events._keys(channel)
    web1.client.rpush(history, b"not json")
    web1.client.hincrby(sequence, "number", 1)
    got = run_subscription(
        channel, last_event_id=events.BEGINNING, publish=lambda: web1.publish(channel, *PARKED)
    )
    assert [(e.kind, e.id and e.id.number) for e in got] == [(EventKind.RESYNC, 3)]


# --- Redis goes away (a server of the test's own) ------------------------------------------------


@pytest.mark.redis
def test_redis_restarted_empty_starts_a_new_epoch(private_redis, settings):  # noqa: F811
    require_redis()
    backend = RedisBackend(private_redis.url)
    channel = str(uuid.uuid4())
    first = backend.publish(channel, *answered())
    assert first == EventId(first.epoch, 1)
    private_redis.stop()
    assert backend.publish(channel, *answered()) is None  # the change stands; nobody hears
    private_redis.start()
    again = backend.publish(channel, *answered())
    assert again.number == 1 and again.epoch != first.epoch
    assert backend.position(channel) == again


@pytest.mark.redis
def test_redis_streams_end_with_the_link_and_resync_once_it_is_back(
    private_redis,  # noqa: F811
    settings,
):
    """Redis stops: open streams end (their pages show that they reconnect, and do); a
    stream opened meanwhile waits, quietly; Redis starts again, empty: that stream resyncs,
    says it hears the session again, and carries the events that follow."""
    require_redis()
    settings.REDIS_URL = private_redis.url
    backend = events.backend()
    channel = str(uuid.uuid4())

    async def main():
        loop = asyncio.get_running_loop()
        async with events.Subscription(channel, heartbeat=0.2) as stream:
            items = aiter(stream)
            first = await loop.run_in_executor(None, backend.publish, channel, *answered())
            assert [e.id for e in await take(items, 1)] == [first]
            await loop.run_in_executor(None, private_redis.stop)
            async with asyncio.timeout(10):
                rest = [item async for item in items]  # it ends
            assert EventKind.RESYNC not in {item.kind for item in rest if item is not None}

        async with events.Subscription(channel, last_event_id=first, heartbeat=0.2) as stream:
            items = aiter(stream)
            async with asyncio.timeout(10):
                assert [await anext(items) for _ in range(3)] == [None, None, None]
                await loop.run_in_executor(None, private_redis.start)
                while (item := await anext(items)) is None:
                    pass
                assert item.kind is EventKind.RESYNC
                assert await anext(items) is HEARTBEAT
                later = await loop.run_in_executor(None, backend.publish, channel, *PARKED)
                while (item := await anext(items)) is HEARTBEAT:
                    pass
                assert item.id == later and later.epoch != first.epoch

    asyncio.run(main())


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
                    event.setdefault("lines", []).append(line[6:])
                elif line == "" and event:
                    # JSON for an event on which a page re-fetches, HTML when it carries it.
                    raw = "\n".join(event.pop("lines", []))
                    try:
                        event["data"] = json.loads(raw)
                    except ValueError:
                        event["html"] = raw
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
        out, lambda item: item[0] == "event" and item[1]["event"] == "presence-html"
    )  # the viewer connected: who is here comes rendered

    actor = Client()
    actor.force_login(cast.member)
    url = reverse(
        "reviews:choice_toggle",
        args=[review.uuid, answer.question.uuid, "ops_priorities_ext_cust_needs"],
    )
    assert actor.post(url, {"select": "1"}).status_code == 302
    # The change arrives rendered, for a reader (the viewer takes no part): the box ticked,
    # and not to be changed.
    event = wait_for(
        out, lambda item: item[0] == "event" and item[1]["event"].startswith("choices-")
    )[1]
    assert event["event"] == f"choices-{answer.question.uuid}"
    html = event["html"]
    assert html.startswith('<div id="choices"')
    assert 'value="ops_priorities_ext_cust_needs" checked disabled' in html
    assert "You are not a participant of this review" in html
    stop.set()
    reader.join(timeout=5)


@pytest.mark.django_db(transaction=True)
def test_a_stream_sends_what_the_viewers_new_seat_sees(asgi_server, cast, lenses):
    """A team member watching joins the review (accepting an invitation publishes
    `participants`): from then on their stream sends them the answering choices."""
    from datetime import timedelta

    from django.utils import timezone

    from reviews import sessions

    review = sessions.session_create(
        workload=cast.workload, user=cast.admin, title="R", kind="periodic",
        review_starts_at=timezone.now() + timedelta(days=1),
    )  # fmt: skip
    Participant.objects.create(session=review, user=cast.member, role=ParticipantRole.OPERATIONS)
    question = review.answers.get(question__ident="priorities").question.uuid
    watcher = make_user("walt")
    Membership.objects.create(team=cast.team, user=watcher, role=Membership.Role.MEMBER)
    viewer = Client()
    viewer.force_login(watcher)
    out, stop = queue.Queue(), threading.Event()
    url = asgi_server + reverse("reviews:session_events", args=[review.uuid])
    args = (url, {"sessionid": viewer.cookies["sessionid"].value}, out, stop)
    reader = threading.Thread(target=read_events, args=args, daemon=True)
    reader.start()
    wait_for(out, lambda item: item[0] == "event" and item[1]["event"] == "presence-html")
    Participant.objects.create(session=review, user=watcher, role=ParticipantRole.SECURITY)
    events.publish_on_commit(review.uuid, EventKind.PARTICIPANTS)
    wait_for(out, lambda item: item[0] == "event" and item[1]["event"] == "participants")
    actor = Client()
    actor.force_login(cast.member)
    toggle = reverse("reviews:choice_toggle", args=[review.uuid, question, HIGH0])
    assert actor.post(toggle, {"select": "1"}).status_code == 302
    event = wait_for(
        out, lambda item: item[0] == "event" and item[1]["event"] == f"choices-{question}"
    )[1]
    assert f'value="{HIGH0}" checked' in event["html"]
    assert f'value="{HIGH0}" checked disabled' not in event["html"]
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


def first_events(url, cookies, *, headers=None, until="heartbeat"):
    """The names of a stream's events up to the first `until`, but "presence" (the stream's
    own arrival)."""
    names = []
    with (
        httpx.Client(timeout=10, cookies=cookies) as http,
        http.stream("GET", url, headers=headers or {}) as response,
    ):
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("event: ") and not line.startswith("event: presence"):
                names.append(line[7:])
                if names[-1] == until:
                    return names
    return names


@pytest.mark.django_db(transaction=True)
def test_the_stream_resumes_where_the_page_stands(asgi_server, cast, lenses):
    """A page that knows where it stands (Last-Event-ID, or ?last= from the page) gets what it
    missed, then the heartbeat that says it is live; one that stands nowhere known (an id that
    is not one of ours, from before an upgrade or made up) refreshes; none of it fails."""
    from datetime import timedelta

    from django.utils import timezone

    from reviews import sessions

    review = sessions.session_create(
        workload=cast.workload, user=cast.admin, title="R", kind="periodic",
        review_starts_at=timezone.now() + timedelta(days=1),
    )  # fmt: skip
    viewer = Client()
    viewer.force_login(cast.viewer)
    cookies = {"sessionid": viewer.cookies["sessionid"].value}
    url = asgi_server + reverse("reviews:session_events", args=[review.uuid])
    start = events.position(review.uuid)
    events._publish(str(review.uuid), EventKind.PARKING, NoData())
    assert first_events(url, cookies, headers={"Last-Event-ID": str(start)}) == [
        "parking",
        "heartbeat",
    ]
    assert first_events(f"{url}?last={start}", cookies) == ["parking", "heartbeat"]
    assert first_events(url, cookies) == ["heartbeat"]
    for odd in ["12", "²", "AB-1", "ab-1,ab-2", "x" * 300, "0ther-1"]:
        names = first_events(url, cookies, headers={"Last-Event-ID": odd.encode()})
        assert names == ["refresh", "heartbeat"], odd
    assert first_events(f"{url}?last=%00", cookies) == ["refresh", "heartbeat"]
