"""Benchmark of the live session on the full stack (PostgreSQL, Redis, gunicorn with uvicorn
workers) over loopback.

1. Load: SESSIONS sessions x PARTICIPANTS participants, each holding an SSE stream and toggling
   a choice every 2-4 seconds for DURATION seconds. Meanwhile each participant also calls
   /healthz (a bare endpoint: no database, no session) at the same rate: the baseline,
   measured on the same server under the same load.
   Reported: toggle p50/p95/p99 beside the baseline's; the fan-out, from a toggle's response
   to its event arriving at every other participant of the session, p50/p95.
2. Capacity: one web process holding STREAMS open streams at once: memory per stream (the
   worker's resident memory before and after) and the fan-out of one event to all of them.

Environment: DATABASE_URL (a PostgreSQL server; the benchmark creates its own database on
it), REDIS_URL; defaults are the local services. BENCH_SESSIONS, BENCH_PARTICIPANTS,
BENCH_SECONDS, BENCH_STREAMS, BENCH_WORKERS change the sizes. Targets from the issue: toggle
p95 within 3x the baseline's, fan-out p95 under 250 ms, 1,000 open streams per process.
"""

from __future__ import annotations

import asyncio
import io
import os
import random
import resource
import secrets
import socket
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
SESSIONS = int(os.environ.get("BENCH_SESSIONS", "10"))
PARTICIPANTS = int(os.environ.get("BENCH_PARTICIPANTS", "20"))
DURATION = float(os.environ.get("BENCH_SECONDS", "60"))
STREAMS = int(os.environ.get("BENCH_STREAMS", "1000"))
WORKERS = int(os.environ.get("BENCH_WORKERS", str(os.cpu_count() or 2)))
DATABASE = "pillarwise_bench_live"
SECRET_KEY = "bench-" + secrets.token_urlsafe(40)  # shared by the setup and the server


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def ms(value: float) -> str:
    return f"{value * 1000:7.1f} ms"


# --- Setup ------------------------------------------------------------------------------------


def database_urls() -> tuple[str, str]:
    """(admin URL, bench database URL) on the server DATABASE_URL names."""
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    parts = urlsplit(base)
    if not parts.scheme.startswith("postgres"):
        sys.exit("The live benchmark runs on PostgreSQL: set DATABASE_URL to a postgres:// URL.")
    admin = urlunsplit(parts._replace(path="/postgres"))
    bench = urlunsplit(parts._replace(path=f"/{DATABASE}"))
    return admin, bench


def create_database(admin_url: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')


@dataclass
class Person:
    session: str
    question: str
    choice: str
    cookies: dict[str, str]
    csrf: str


@dataclass
class Room:
    uuid: str
    people: list[Person] = field(default_factory=list)
    # A question nobody toggles during the load, for the capacity test's single event.
    spare_question: str = ""
    spare_choice: str = ""


def build(bench_url: str, redis_url: str) -> list[Room]:
    os.environ.update(
        DATABASE_URL=bench_url,
        REDIS_URL=redis_url,
        SECRET_KEY=SECRET_KEY,
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    os.environ.setdefault("DEBUG", "true")
    import django

    django.setup()
    from datetime import timedelta
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.core.management import call_command
    from django.utils import timezone

    from reviews import sessions
    from reviews.models import (
        Membership,
        Participant,
        ParticipantRole,
        Team,
        Workload,
        WorkloadType,
    )

    call_command("migrate", verbosity=0)
    call_command("load_lenses", stdout=io.StringIO())
    User = get_user_model()
    team = Team.objects.create(name="Bench")
    users = User.objects.bulk_create(
        User(username=f"p{i}", email=f"p{i}@example.com", password="!")
        for i in range(PARTICIPANTS * SESSIONS)
    )
    Membership.objects.bulk_create(Membership(team=team, user=u, role="member") for u in users)
    rooms = []
    for s in range(SESSIONS):
        facilitator = users[s * PARTICIPANTS]
        workload = Workload.objects.create(
            team=team, name=f"W{s}", workload_type=WorkloadType.PUBLIC_API, owner=facilitator
        )
        session = sessions.session_create(
            workload=workload, user=facilitator, title=f"Review {s}", kind="periodic",
            review_starts_at=timezone.now() + timedelta(hours=1),
        )  # fmt: skip
        answers = list(
            session.answers.select_related("question").order_by(
                "question__pillar__order", "question__order"
            )
        )
        spare = answers[PARTICIPANTS].question
        room = Room(
            str(session.uuid),
            spare_question=str(spare.uuid),
            spare_choice=spare.choices.exclude(is_none_of_these=True).first().ident,
        )
        for p in range(PARTICIPANTS):
            user = users[s * PARTICIPANTS + p]
            if p:
                Participant.objects.create(
                    session=session, user=user, role=ParticipantRole.OPERATIONS
                )
            question = answers[p].question
            choice = question.choices.exclude(is_none_of_these=True).first().ident
            store = import_module(settings.SESSION_ENGINE).SessionStore()
            store[SESSION_KEY] = str(user.pk)
            store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
            store[HASH_SESSION_KEY] = user.get_session_auth_hash()
            store.create()
            csrf = secrets.token_hex(16)
            room.people.append(
                Person(
                    room.uuid,
                    str(question.uuid),
                    choice,
                    {"sessionid": store.session_key, "csrftoken": csrf},
                    csrf,
                )
            )
        rooms.append(room)
    from django.db import connections

    connections.close_all()
    return rooms


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def start_server(bench_url: str, redis_url: str, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": bench_url,
        "REDIS_URL": redis_url,
        "DEBUG": "false",
        "HTTPS": "false",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DB_POOL_MAX": "40",
        "LOG_LEVEL": "ERROR",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.asgi:application", "--worker-class",
         "uvicorn_worker.UvicornWorker", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "--graceful-timeout", "5", "--timeout", "120",
         "--keep-alive", "10"],
        cwd=ROOT, env=env, preexec_fn=raise_fd_limit,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            raise RuntimeError("the server did not start")
        time.sleep(0.3)
    return server, url


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True
    )
    return [int(pid) for pid in out.stdout.split()]


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


# --- Clients ----------------------------------------------------------------------------------


@dataclass
class Measures:
    toggles: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    errors: int = 0
    # (session, question) -> response times of its toggles, in order
    responses: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    # (receiver index, session, question) -> arrival times of its events, in order
    arrivals: dict[tuple[int, str, str], list[float]] = field(
        default_factory=lambda: defaultdict(list)
    )


class Http:
    """A minimal HTTP/1.1 client on one keep-alive connection. A general client (httpx)
    costs the benchmark's process more CPU than the server spends answering, and the
    figures would measure the client; this one costs next to nothing."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> None:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await self.writer.drain()

    async def head(self) -> tuple[int, dict[str, str]]:
        status = int((await self.reader.readline()).split()[1])
        headers = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> int:
        await self.send(method, path, headers, body)
        status, response_headers = await self.head()
        if response_headers.get("transfer-encoding") == "chunked":
            while size := int((await self.reader.readline()).strip() or b"0", 16):
                await self.reader.readexactly(size + 2)
            await self.reader.readline()
        elif length := int(response_headers.get("content-length", "0")):
            await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def cookie_header(person: Person) -> str:
    return "; ".join(f"{name}={value}" for name, value in person.cookies.items())


def answer_event_prefix() -> bytes:
    """How the SSE line of an answer's event starts, from the table of events ("event:
    answer-"); the question's UUID follows."""
    from reviews.eventkinds import KINDS, EventKind

    (pattern,) = [sse.name for sse in KINDS[EventKind.ANSWER].sse if "{question}" in sse.name]
    assert pattern.endswith("{question}"), pattern
    return f"event: {pattern.removesuffix('{question}')}".encode()


async def stream(
    url: str,
    person: Person,
    index: int,
    measures: Measures,
    connected: asyncio.Event,
    counter: list[int],
    total: int,
):
    """Hold one participant's event stream, noting when each answer event arrives."""
    http = Http(url)
    try:
        await http.send(
            "GET",
            f"/sessions/{person.session}/events/",
            {"Accept": "text/event-stream", "Cookie": cookie_header(person)},
        )
        status, _ = await http.head()
        if status != 200:
            measures.errors += 1
            counter[0] += 1
            return
        name = b""
        prefix = answer_event_prefix()
        while line := await http.reader.readline():
            if line.startswith(b": connected"):
                counter[0] += 1
                if counter[0] == total:
                    connected.set()
            elif line.startswith(prefix):
                name = line[len(prefix) :].strip()
            elif line == b"\n" and name:
                measures.arrivals[(index, person.session, name.decode())].append(time.monotonic())
                name = b""
    finally:
        http.close()


async def toggle(http: Http, person: Person, question: str, choice: str, select: bool) -> int:
    return await http.request(
        "POST",
        f"/sessions/{person.session}/questions/{question}/choices/{choice}/",
        {
            "Cookie": cookie_header(person),
            "X-CSRFToken": person.csrf,
            "HX-Request": "true",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        b"select=1" if select else b"select=0",
    )


async def toggler(url: str, person: Person, measures: Measures, until: float):
    http, select = Http(url), True
    await asyncio.sleep(random.uniform(0, 3))
    while time.monotonic() < until:
        start = time.monotonic()
        status = await toggle(http, person, person.question, person.choice, select)
        end = time.monotonic()
        if status == 204:
            measures.toggles.append(end - start)
            measures.responses[(person.session, person.question)].append(end)
            select = not select
        else:
            measures.errors += 1
        await asyncio.sleep(random.uniform(2, 4))
    http.close()


async def pinger(url: str, measures: Measures, until: float):
    http = Http(url)
    await asyncio.sleep(random.uniform(0, 3))
    while time.monotonic() < until:
        start = time.monotonic()
        if await http.request("GET", "/healthz", {}) == 200:
            measures.baseline.append(time.monotonic() - start)
        else:
            measures.errors += 1
        await asyncio.sleep(random.uniform(2, 4))
    http.close()


def fan_out(measures: Measures, rooms: list[Room]) -> tuple[list[float], list[float]]:
    """Per toggle: the time from its response to its event at the last other participant;
    and every single delivery."""
    per_toggle, deliveries = [], []
    index_of = {}
    i = 0
    for room in rooms:
        for person in room.people:
            index_of[id(person)] = i
            i += 1
    for room in rooms:
        for owner in room.people:
            times = measures.responses[(room.uuid, owner.question)]
            for k, responded in enumerate(times):
                latest = None
                for other in room.people:
                    if other is owner:
                        continue
                    got = measures.arrivals[(index_of[id(other)], room.uuid, owner.question)]
                    if k < len(got):
                        delta = got[k] - responded
                        deliveries.append(delta)
                        latest = delta if latest is None else max(latest, delta)
                if latest is not None:
                    per_toggle.append(latest)
    return per_toggle, deliveries


async def load_test(url: str, rooms: list[Room]) -> Measures:
    measures = Measures()
    people = [p for room in rooms for p in room.people]
    connected, counter = asyncio.Event(), [0]
    streams = [
        asyncio.create_task(stream(url, p, i, measures, connected, counter, len(people)))
        for i, p in enumerate(people)
    ]
    await asyncio.wait_for(connected.wait(), timeout=60)
    until = time.monotonic() + DURATION
    await asyncio.gather(
        *(toggler(url, p, measures, until) for p in people),
        *(pinger(url, measures, until) for _ in people),
    )
    await asyncio.sleep(2)  # the last events
    for task in streams:
        task.cancel()
    await asyncio.gather(*streams, return_exceptions=True)
    return measures


async def capacity_test(url: str, rooms: list[Room], master: int) -> dict:
    """Open STREAMS streams on one web process; memory per stream and the fan-out to all."""
    pids = worker_pids(master)
    before = sum(rss_bytes(pid) for pid in pids)
    people = [p for room in rooms for p in room.people]
    measures = Measures()
    connected, counter = asyncio.Event(), [0]
    tasks = []
    opened = time.monotonic()
    for i in range(STREAMS):
        person = people[i % len(people)]
        tasks.append(
            asyncio.create_task(stream(url, person, i, measures, connected, counter, STREAMS))
        )
        if i % 50 == 49:
            await asyncio.sleep(0.05)
    await asyncio.wait_for(connected.wait(), timeout=180)
    open_seconds = time.monotonic() - opened
    await asyncio.sleep(2)
    after = sum(rss_bytes(pid) for pid in pids)
    # One toggle per session, on a question nobody has touched: every stream of that
    # session must receive its event.
    responded = {}
    http = Http(url)
    for room in rooms:
        owner = room.people[0]
        status = await toggle(http, owner, room.spare_question, room.spare_choice, True)
        responded[room.uuid] = (time.monotonic(), status)
    http.close()
    await asyncio.sleep(3)
    lags = []
    for (_index, session, question), times in measures.arrivals.items():
        room = next(r for r in rooms if r.uuid == session)
        if question == room.spare_question and times:
            lags.append(times[0] - responded[session][0])
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "workers": len(pids),
        "streams": STREAMS,
        "open_seconds": open_seconds,
        "errors": measures.errors,
        "rss_before": before,
        "rss_after": after,
        "received": len(lags),
        "lags": lags,
    }


def main() -> None:
    raise_fd_limit()
    admin_url, bench_url = database_urls()
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")
    print(
        f"Setting up {SESSIONS} sessions x {PARTICIPANTS} participants in {DATABASE} …", flush=True
    )
    create_database(admin_url)
    rooms = build(bench_url, redis_url)

    server, url = start_server(bench_url, redis_url, WORKERS)
    try:
        print(
            f"Load: {len(rooms) * PARTICIPANTS} participants with open streams, toggling every 2-4 s for {DURATION:.0f} s on {WORKERS} web processes …",
            flush=True,
        )
        measures = asyncio.run(load_test(url, rooms))
    finally:
        stop(server)
    per_toggle, deliveries = fan_out(measures, rooms)
    t50, t95, t99 = (percentile(measures.toggles, p) for p in (50, 95, 99))
    b50, b95, b99 = (percentile(measures.baseline, p) for p in (50, 95, 99))
    print(
        f"  toggles {len(measures.toggles)}, baseline requests {len(measures.baseline)}, errors {measures.errors}"
    )
    print("                      p50        p95        p99")
    print(f"  toggle          {ms(t50)} {ms(t95)} {ms(t99)}")
    print(f"  bare endpoint   {ms(b50)} {ms(b95)} {ms(b99)}")
    print(
        f"  ratio (toggle / bare)   p50 {t50 / b50:.2f}x   p95 {t95 / b95:.2f}x   p99 {t99 / b99:.2f}x   (target: p95 within 3x)"
    )
    print(
        f"  fan-out, response → every other participant: p50 {ms(percentile(per_toggle, 50))}  p95 {ms(percentile(per_toggle, 95))}  (target: p95 under 250 ms)"
    )
    print(
        f"  fan-out, each delivery:                       p50 {ms(percentile(deliveries, 50))}  p95 {ms(percentile(deliveries, 95))}  ({len(deliveries)} deliveries)"
    )

    server, url = start_server(bench_url, redis_url, 1)
    try:
        print(f"Capacity: {STREAMS} open streams on one web process …", flush=True)
        result = asyncio.run(capacity_test(url, rooms, server.pid))
    finally:
        stop(server)
    per_stream = (result["rss_after"] - result["rss_before"]) / max(result["streams"], 1)
    print(
        f"  {result['streams']} streams open in {result['open_seconds']:.1f} s, errors {result['errors']}"
    )
    print(
        f"  worker memory {result['rss_before'] / 2**20:.0f} MiB → {result['rss_after'] / 2**20:.0f} MiB: {per_stream / 1024:.1f} KiB per open stream"
    )
    lags = result["lags"]
    print(
        f"  one event per session reached {result['received']} of {result['streams']} streams; lag p50 {ms(percentile(lags, 50))}  p95 {ms(percentile(lags, 95))}  max {ms(max(lags) if lags else float('nan'))}"
    )
    if result["received"] < result["streams"]:
        print("  WARNING: not every stream received its event")


if __name__ == "__main__":
    main()
