"""Benchmark of the live session on the full stack (PostgreSQL, Redis, gunicorn with uvicorn
workers) over loopback, with participants that behave like the live page in a browser
(tests/bench/live_client.py): each opens the question page, holds its event stream and makes
exactly the requests the page makes on each event.

1. Unloaded: one session, its PARTICIPANTS people on one question. First a toggle alone
   (nobody watching): its time and database queries. Then changes one at a time, each
   waiting until every other participant's page is up to date: the time that takes, and the
   requests and queries per change.
2. Load: SESSIONS sessions x PARTICIPANTS participants, each session's people on one question,
   one of them changing a choice every CHANGE_SECONDS (1-2 s) for DURATION seconds; meanwhile
   each participant calls /healthz (a bare endpoint: no database, no session) every 2-4 s:
   the baseline, on the same server under the same load. Reported: change -> every other
   participant's page up to date (p50/p95/p99), requests and queries per change, the toggle
   beside the bare endpoint, and the load average.
3. Capacity: one web process holding STREAMS open streams at once: memory per stream and the
   delivery of one event to all of them.

Before and after, in one command: BENCH_BEFORE=<another checkout of the code> runs 1 and 2 on
that code first, on the same database, Redis and clients, then on this one, and prints both
side by side (the clients read what each page does from the page it serves).

Environment: DATABASE_URL (a PostgreSQL server; the benchmark creates the database
BENCH_DATABASE on it, dropping it first), REDIS_URL; defaults are the local services.
BENCH_SESSIONS, BENCH_PARTICIPANTS, BENCH_SECONDS, BENCH_STREAMS, BENCH_WORKERS change the
sizes; BENCH_CAPACITY=2,4,6,8,10 also finds the largest load that keeps both targets
(tests/bench/live_capacity.py), and BENCH_STREAMS=0 skips the capacity part (3). Targets from the issue: <= 30 queries per change whatever the number watching; change
-> every other participant up to date p95 < 100 ms with the bare endpoint's p95 under 20 ms;
toggle p95 within 3x the bare endpoint's.
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
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.bench.live_client import Http, Page, Person, Tally

ROOT = Path(__file__).resolve().parents[2]
SESSIONS = int(os.environ.get("BENCH_SESSIONS", "10"))
PARTICIPANTS = int(os.environ.get("BENCH_PARTICIPANTS", "20"))
DURATION = float(os.environ.get("BENCH_SECONDS", "60"))
BEFORE = os.environ.get("BENCH_BEFORE", "")
STREAMS = int(os.environ.get("BENCH_STREAMS", "1000"))
WORKERS = int(os.environ.get("BENCH_WORKERS", str(os.cpu_count() or 2)))
DATABASE = os.environ.get("BENCH_DATABASE", "pillarwise_bench_live")
CHANGE_SECONDS = (1.0, 2.0)  # one change in each session every 1-2 s
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
class Room:
    uuid: str
    question: str = ""  # where everybody is
    people: list[Person] = field(default_factory=list)
    choices: list[str] = field(default_factory=list)
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
    from django.utils.module_loading import import_string

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
    # Signed in as the login page does: by the backend that finds users (not the lockout's).
    backend = next(
        path
        for path in settings.AUTHENTICATION_BACKENDS
        if hasattr(import_string(path), "get_user")
    )
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
        spare = answers[1].question
        question = answers[0].question
        choices = list(
            question.choices.exclude(is_none_of_these=True).values_list("ident", flat=True)
        )
        room = Room(
            str(session.uuid),
            question=str(question.uuid),
            choices=choices,
            spare_question=str(spare.uuid),
            spare_choice=spare.choices.exclude(is_none_of_these=True).first().ident,
        )
        for p in range(PARTICIPANTS):
            user = users[s * PARTICIPANTS + p]
            if p:
                Participant.objects.create(
                    session=session, user=user, role=ParticipantRole.OPERATIONS
                )
            store = import_module(settings.SESSION_ENGINE).SessionStore()
            store[SESSION_KEY] = str(user.pk)
            store[BACKEND_SESSION_KEY] = backend
            store[HASH_SESSION_KEY] = user.get_session_auth_hash()
            store.create()
            csrf = secrets.token_hex(16)
            room.people.append(
                Person(
                    room.uuid,
                    str(question.uuid),
                    choices[p % len(choices)],
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


PROBE = Path(__file__).resolve().parent / "probe"


def start_server(
    bench_url: str, redis_url: str, workers: int, code: Path = ROOT, probe: Path | None = None
) -> tuple[subprocess.Popen, str]:
    """Serve `code` (a checkout of the app; this one by default), counting its database
    queries into `probe` (tests/bench/probe)."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(code), str(PROBE)]),
        "BENCH_PROBE_DIR": str(probe or ""),
        "DATABASE_URL": bench_url,
        "REDIS_URL": redis_url,
        "DEBUG": "false",
        "HTTPS": "false",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DB_POOL_MAX": "40",
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "ERROR"),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    # Pages name their static files by content (DEBUG off): collect them for this code.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=code,
        env=env,
        check=True,
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.asgi:application", "--worker-class",
         "uvicorn_worker.UvicornWorker", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "--graceful-timeout", "5", "--timeout", "120",
         "--keep-alive", "10"],
        cwd=code, env=env, preexec_fn=raise_fd_limit,
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


def queries(probe: Path) -> int:
    """The database queries every process of the server has run so far."""
    return sum(int(path.read_text() or 0) for path in probe.iterdir() if not path.suffix)


def cpu_by_process_group() -> dict[str, float]:
    """CPU seconds used so far by the benchmark's clients (this process), the web server,
    PostgreSQL and Redis: where a run's time goes, on a machine they share."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {"clients": 0.0, "web": 0.0, "postgresql": 0.0, "redis": 0.0}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / ticks
        if int(entry.name) == os.getpid():
            used["clients"] += seconds
        elif b"gunicorn" in cmdline:
            used["web"] += seconds
        elif name.startswith("postgres"):
            used["postgresql"] += seconds
        elif name.startswith("redis-server"):
            used["redis"] += seconds
    return used


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def reset_answers(bench_url: str) -> None:
    """Every answer back to nothing ticked, between runs."""
    import psycopg

    with psycopg.connect(bench_url, autocommit=True) as conn:
        conn.execute("DELETE FROM reviews_answerchoice")


# --- The runs ---------------------------------------------------------------------------------


@dataclass
class Run:
    """The figures of one run (one code)."""

    label: str = ""
    alone: list[float] = field(default_factory=list)  # a toggle, nobody watching
    alone_queries: float = float("nan")
    quiet_update: list[float] = field(default_factory=list)  # change -> all others, one by one
    quiet_requests: float = float("nan")
    quiet_queries: float = float("nan")
    changes: int = 0
    toggles: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    update: list[float] = field(default_factory=list)  # change -> every other participant
    requests: float = float("nan")
    queries: float = float("nan")
    errors: int = 0
    why: dict[str, int] = field(default_factory=dict)  # the errors, by what went wrong
    reconnects: int = 0  # streams that ended and were opened again, as a browser does
    load: tuple[str, str] = ("", "")
    cpu: dict[str, float] = field(default_factory=dict)  # seconds of CPU per second of load
    swaps: bool = False  # the page swaps HTML sent with events

    def error(self, why: str, count: int = 1) -> None:
        self.errors += count
        self.why[why] = self.why.get(why, 0) + count

    def absorb(self, tally: Tally) -> None:
        for why, count in tally.why.items():
            self.error(why, count)
        self.reconnects += tally.reconnects


async def settle(pages: list[Page], quiet: float = 0.3, limit: float = 5.0) -> None:
    """Wait until no page has had a request in flight for `quiet` seconds (at most `limit`)."""
    deadline = time.monotonic() + limit
    calm_since = time.monotonic()
    while time.monotonic() < deadline:
        if any(page.pending for page in pages):
            calm_since = time.monotonic()
        elif time.monotonic() - calm_since >= quiet:
            return
        await asyncio.sleep(0.02)


async def open_pages(url: str, rooms: list[Room], tally: Tally) -> tuple[list[Page], list]:
    pages = []
    for room in rooms:
        for person in room.people:
            pages.append(Page(url, person, len(pages), tally))
    for start in range(0, len(pages), 20):
        await asyncio.gather(*(page.open() for page in pages[start : start + 20]))
    connected, counter = asyncio.Event(), [0]
    streams = [asyncio.create_task(page.listen(connected, counter, len(pages))) for page in pages]
    await asyncio.wait_for(connected.wait(), timeout=120)
    # Each page that opens tells the others who is here (at most once a second per session,
    # with its HTML; a page on older code re-fetches it): wait until that is over, so that
    # what follows measures changes alone.
    await asyncio.sleep(1)
    await settle(pages, quiet=2.0, limit=180)
    return pages, streams


async def close_pages(pages: list[Page], streams: list) -> None:
    for task in streams:
        task.cancel()
    await asyncio.gather(*streams, return_exceptions=True)
    for page in pages:
        page.close()


def updated_after(
    tally: Tally, room: Room, pages: list[Page], owner: Page, k: int, start: float
) -> float | None:
    """When every other participant's page was up to date with the k-th change of the room
    (None while one of them has not heard it)."""
    latest = start
    for page in pages:
        if page is owner or page.person.session != room.uuid:
            continue
        order = tally.order.get((page.index, room.uuid, room.question), [])
        if k >= len(order):
            return None
        latest = max(latest, tally.updated[(page.index, order[k])])
    return latest


async def quiet_run(url: str, room: Room, probe: Path, run: Run) -> None:
    """Unloaded: a toggle alone, then changes one at a time with the room watching."""
    owner = Page(url, room.people[0], 0, Tally())
    await owner.open()
    run.swaps = bool(owner.page.swaps)
    await asyncio.sleep(0.5)
    before, select = queries(probe), True
    for _ in range(20):
        start = time.monotonic()
        await owner.toggle(room.spare_choice, select, question=room.spare_question)
        run.alone.append(time.monotonic() - start)
        select = not select
    await asyncio.sleep(0.5)
    run.alone_queries = (queries(probe) - before) / 20
    owner.close()
    tally = Tally()
    pages, streams = await open_pages(url, [room], tally)
    owner, selected = pages[0], False
    await asyncio.sleep(0.5)
    before, requests_before = queries(probe), tally.requests
    for k in range(20):
        selected = not selected
        start = time.monotonic()
        await owner.toggle(owner.person.choice, selected)
        for _wait in range(300):
            if updated_after(tally, room, pages, owner, k, start) is not None:
                break
            await asyncio.sleep(0.01)
        await settle(pages, quiet=0.1)
        done = updated_after(tally, room, pages, owner, k, start)
        if done is None:
            run.error("a page never showed a change")
        else:
            run.quiet_update.append(done - start)
    await asyncio.sleep(0.5)
    run.quiet_queries = (queries(probe) - before) / 20
    run.quiet_requests = (tally.requests - requests_before) / 20
    run.absorb(tally)
    await close_pages(pages, streams)


async def driver(room: Room, pages: list[Page], until: float, log: list, run: Run) -> None:
    """One change at a time in a room, by any of its participants, every CHANGE_SECONDS."""
    states: dict[str, bool] = {}
    await asyncio.sleep(random.uniform(0, CHANGE_SECONDS[1]))
    while time.monotonic() < until:
        page = random.choice(pages)
        choice = page.person.choice
        states[choice] = not states.get(choice, False)
        start = time.monotonic()
        status = await page.toggle(choice, states[choice])
        if status == 204:
            run.toggles.append(time.monotonic() - start)
            log.append((room, page, start))
        else:
            run.error(f"a toggle answered {status}")
            states[choice] = not states[choice]
        await asyncio.sleep(random.uniform(*CHANGE_SECONDS))


async def pinger(url: str, run: Run, until: float) -> None:
    http = Http(url)
    await asyncio.sleep(random.uniform(0, 3))
    while time.monotonic() < until:
        start = time.monotonic()
        status, _ = await http.request("GET", "/healthz", {})
        if status == 200:
            run.baseline.append(time.monotonic() - start)
        else:
            run.error(f"the bare endpoint answered {status}")
        await asyncio.sleep(random.uniform(2, 4))
    http.close()


async def load_run(url: str, rooms: list[Room], probe: Path, run: Run) -> None:
    tally = Tally()
    pages, streams = await open_pages(url, rooms, tally)
    by_room = {room.uuid: [p for p in pages if p.person.session == room.uuid] for room in rooms}
    log: list = []
    start_load = loadavg()
    before, requests_before = queries(probe), tally.requests
    cpu_before, started = cpu_by_process_group(), time.monotonic()
    until = started + DURATION
    await asyncio.gather(
        *(driver(room, by_room[room.uuid], until, log, run) for room in rooms),
        *(pinger(url, run, until) for _ in pages),
    )
    cpu_after, elapsed = cpu_by_process_group(), time.monotonic() - started
    run.cpu = {group: (cpu_after[group] - cpu_before[group]) / elapsed for group in cpu_after}
    await settle(pages, quiet=1.0, limit=10)
    run.load = (start_load, loadavg())
    run.changes = len(log)
    run.queries = (queries(probe) - before) / max(len(log), 1)
    run.requests = (tally.requests - requests_before) / max(len(log), 1)
    counts: dict[str, int] = {}
    for room, owner, start in log:
        k = counts[room.uuid] = counts.get(room.uuid, -1) + 1
        done = updated_after(tally, room, by_room[room.uuid], owner, k, start)
        if done is None:
            run.error("a page never showed a change")
        else:
            run.update.append(done - start)
    run.absorb(tally)
    await close_pages(pages, streams)


def measure(label: str, code: Path, bench_url: str, redis_url: str, rooms: list[Room]) -> Run:
    run = Run(label=label)
    reset_answers(bench_url)
    with tempfile.TemporaryDirectory() as probe_dir:
        probe = Path(probe_dir)
        server, url = start_server(bench_url, redis_url, WORKERS, code, probe)
        try:
            print(f"[{label}] unloaded: one session, {PARTICIPANTS} on one question …", flush=True)
            asyncio.run(quiet_run(url, rooms[0], probe, run))
            print(
                f"[{label}] load: {len(rooms)} sessions x {PARTICIPANTS} on one question each, a"
                f" change per session every {CHANGE_SECONDS[0]:.0f}-{CHANGE_SECONDS[1]:.0f} s"
                f" for {DURATION:.0f} s, on {WORKERS} web processes …",
                flush=True,
            )
            asyncio.run(load_run(url, rooms, probe, run))
        finally:
            stop(server)
    return run


# --- Capacity ---------------------------------------------------------------------------------


async def capacity_test(url: str, rooms: list[Room], master: int) -> dict:
    """Open STREAMS streams on one web process; memory per stream and the delivery of one
    event to all of them."""
    pids = worker_pids(master)
    before = sum(rss_bytes(pid) for pid in pids)
    people = [(room, person) for room in rooms for person in room.people]
    tally = Tally()
    connected, counter = asyncio.Event(), [0]
    pages, tasks = [], []
    opened = time.monotonic()
    for i in range(STREAMS):
        room, person = people[i % len(people)]
        watcher = Person(room.uuid, room.spare_question, "", person.cookies, person.csrf)
        page = Page(url, watcher, i, tally)  # the stream alone: no page, no requests
        pages.append(page)
        tasks.append(asyncio.create_task(page.listen(connected, counter, STREAMS)))
        if i % 50 == 49:
            await asyncio.sleep(0.05)
    await asyncio.wait_for(connected.wait(), timeout=180)
    open_seconds = time.monotonic() - opened
    await asyncio.sleep(2)
    after = sum(rss_bytes(pid) for pid in pids)
    # One toggle per session, on a question nobody has touched: every stream of that
    # session must receive its event (timed from the click).
    responded = {}
    for room in rooms:
        owner = Page(url, room.people[0], -1, Tally())
        clicked = time.monotonic()
        status = await owner.toggle(room.spare_choice, True, question=room.spare_question)
        responded[room.uuid] = (clicked, status)
        owner.close()
    await asyncio.sleep(3)
    lags = []
    for page in pages:
        order = tally.order.get((page.index, page.person.session, page.person.question), [])
        if order:
            lags.append(tally.arrived[(page.index, order[0])] - responded[page.person.session][0])
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "workers": len(pids),
        "streams": STREAMS,
        "open_seconds": open_seconds,
        "errors": tally.errors,
        "rss_before": before,
        "rss_after": after,
        "received": len(lags),
        "lags": lags,
    }


# --- The report -------------------------------------------------------------------------------


def report(runs: list[Run]) -> None:
    def p(values: list[float], q: float) -> float:
        return percentile(values, q) * 1000

    def in_ms(value: float) -> str:
        return f"{value:.1f} ms"

    def num(value: float) -> str:
        return f"{value:.1f}"

    others = PARTICIPANTS - 1
    lines = [
        ("the page swaps HTML sent with events", lambda r: "yes" if r.swaps else "no", str),
        ("unloaded: a toggle alone, p50", lambda r: p(r.alone, 50), in_ms),
        ("unloaded: queries per toggle alone", lambda r: r.alone_queries, num),
        (f"unloaded: change -> {others} others, p50", lambda r: p(r.quiet_update, 50), in_ms),
        (f"unloaded: change -> {others} others, p95", lambda r: p(r.quiet_update, 95), in_ms),
        ("unloaded: requests per change", lambda r: r.quiet_requests, num),
        ("unloaded: queries per change (<= 30)", lambda r: r.quiet_queries, num),
        ("load: changes", lambda r: r.changes, str),
        ("load: change -> every other, p50", lambda r: p(r.update, 50), in_ms),
        ("load: change -> every other, p95 (< 100 ms)", lambda r: p(r.update, 95), in_ms),
        ("load: change -> every other, p99", lambda r: p(r.update, 99), in_ms),
        ("load: requests per change", lambda r: r.requests, num),
        ("load: queries per change", lambda r: r.queries, num),
        ("load: toggle p50", lambda r: p(r.toggles, 50), in_ms),
        ("load: toggle p95", lambda r: p(r.toggles, 95), in_ms),
        ("load: bare endpoint p50", lambda r: p(r.baseline, 50), in_ms),
        ("load: bare endpoint p95 (< 20 ms)", lambda r: p(r.baseline, 95), in_ms),
        (
            "load: toggle / bare endpoint, p95 (<= 3x)",
            lambda r: percentile(r.toggles, 95) / percentile(r.baseline, 95),
            lambda value: f"{value:.2f}x",
        ),
        ("load: errors", lambda r: r.errors, str),
        ("streams that ended and reconnected", lambda r: r.reconnects, str),
        *(
            (
                f"load: CPU used by {group} (cores)",
                lambda r, g=group: r.cpu.get(g, 0.0),
                lambda value: f"{value:.2f}",
            )
            for group in ("clients", "web", "postgresql", "redis")
        ),  # fmt: skip
        ("load average (1 min) at the start", lambda r: r.load[0].split()[0], str),
        ("load average (1 min) at the end", lambda r: r.load[1].split()[0], str),
    ]
    print()
    print(f"  {'':<46}" + "".join(f"{run.label:>20}" for run in runs))
    for name, value, fmt in lines:
        print(f"  {name:<46}" + "".join(f"{fmt(value(run)):>20}" for run in runs))
    for run in runs:
        if run.why:
            print(f"  {run.label} errors: " + ", ".join(f"{n} {why}" for why, n in run.why.items()))
    print(f"  ({os.cpu_count()} cores)")


def main() -> None:
    raise_fd_limit()
    admin_url, bench_url = database_urls()
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")
    print(
        f"Setting up {SESSIONS} sessions x {PARTICIPANTS} participants in {DATABASE} …", flush=True
    )
    create_database(admin_url)
    rooms = build(bench_url, redis_url)
    runs = []
    if BEFORE:
        runs.append(measure("before", Path(BEFORE).resolve(), bench_url, redis_url, rooms))
    runs.append(measure("after" if BEFORE else "this code", ROOT, bench_url, redis_url, rooms))
    report(runs)
    from tests.bench import live_capacity

    live_capacity.search(bench_url, redis_url, rooms)

    if not STREAMS:
        return
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
