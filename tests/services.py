"""Real services that tests start, stop and start again: a Redis server of their own on a free
port, the app served by uvicorn in a process of its own, and an event-stream client that
reconnects as a browser's EventSource does.

Failure is tested for real: a test stops its own Redis (never the shared one) or terminates
database connections, and watches what the app does."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT, find_free_port


class RedisServer:
    """A redis-server of the test's own, run as compose runs it: no persistence, so a
    restart starts empty."""

    def __init__(self, directory: Path) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            pytest.fail("redis-server is not installed: the Redis tests start their own")
        self.executable = executable
        self.directory = directory
        self.port = find_free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            self.executable, "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", str(self.directory),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.05)
            finally:
                client.close()

    def stop(self) -> None:
        """As when the server goes away: its connections close."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Any:
    """A Redis server of this test's own, started; stopped at the end whatever happened."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@dataclass
class AppServer:
    """The app served by uvicorn in a process of its own, with its own environment."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_app_server(tmp_path: Path, env: dict[str, str], *, name: str = "web") -> AppServer:
    """Serve the app (tests.asgi: the production router, static files from the source tree)
    on a free port with `env` on top of this environment, and wait until it answers."""
    port = find_free_port()
    log_path = tmp_path / f"{name}.log"
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    environment.update({"PYTHONUNBUFFERED": "1", "DEBUG": "true", "HTTPS": "false", **env})
    command = [
        sys.executable, "-m", "uvicorn", "tests.asgi:application", "--host", "127.0.0.1",
        "--port", str(port), "--lifespan", "off", "--log-level", "warning",
        "--timeout-graceful-shutdown", "1",
    ]  # fmt: skip
    with log_path.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
    server = AppServer(process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(server.url + "/healthz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise AssertionError(f"the app server did not start:\n{server.log()[-3000:]}")
        time.sleep(0.2)


@pytest.fixture
def app_server(tmp_path: Path, worker_database_url: str) -> Any:
    """Start app servers on the test database: `app_server(REDIS_URL=...)`. Every one is
    stopped at the end of the test. The test must be transactional, so that they see its
    rows."""
    servers: list[AppServer] = []

    def start(**env: str) -> AppServer:
        from django.conf import settings

        server = start_app_server(
            tmp_path,
            {
                "DATABASE_URL": worker_database_url,
                "REDIS_URL": "",
                "MEDIA_ROOT": str(settings.MEDIA_ROOT),
                **env,
            },
            name=f"web-{len(servers)}",
        )
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


# --- A browser's view of an event stream -----------------------------------------------------


@dataclass
class StreamEvent:
    name: str
    id: str
    data: Any


@dataclass
class EventStreamClient:
    """Reads a session's event stream as a browser's EventSource does: when the stream ends
    or breaks it reconnects after a moment, sending the last event id it saw
    (Last-Event-ID). Runs in a thread; `events` receives each named event and `opened`
    each (re)connection's status code."""

    url: str
    cookies: dict[str, str]
    retry: float = 0.5
    events: queue.Queue[StreamEvent] = field(default_factory=queue.Queue)
    opened: queue.Queue[int] = field(default_factory=queue.Queue)
    last_event_id: str = ""
    stopping: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    response: httpx.Response | None = None

    def start(self) -> EventStreamClient:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        response = self.response
        if response is not None:
            response.close()  # ends a read that is waiting
        if self.thread is not None:
            self.thread.join(timeout=10)

    def _run(self) -> None:
        while not self.stopping.is_set():
            headers = {"Last-Event-ID": self.last_event_id} if self.last_event_id else {}
            try:
                # Reads wait as long as a browser's do: a silent stream stays open.
                with (
                    httpx.Client(timeout=httpx.Timeout(10, read=300), cookies=self.cookies) as http,
                    http.stream("GET", self.url, headers=headers) as response,
                ):
                    self.response = response
                    self.opened.put(response.status_code)
                    if response.status_code == 200:
                        self._read(response)
            except (httpx.HTTPError, httpx.StreamError):
                pass
            self.response = None
            self.stopping.wait(self.retry)

    def _read(self, response: httpx.Response) -> None:
        event: dict[str, str] = {}
        for line in response.iter_lines():
            if self.stopping.is_set():
                return
            name, _, value = line.partition(": ")
            if line == "":
                if "event" in event:
                    if "id" in event:
                        self.last_event_id = event["id"]
                    self.events.put(
                        StreamEvent(event["event"], event.get("id", ""), _data(event.get("data")))
                    )
                event = {}
            elif name == "data" and "data" in event:
                event["data"] += "\n" + value  # HTML sent with an event spans several lines
            elif name in ("event", "id", "data"):
                event[name] = value

    def wait_for(
        self, predicate: Callable[[StreamEvent], bool], timeout: float = 15
    ) -> StreamEvent:
        """The first event that matches, skipping those before it."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self.events.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if predicate(event):
                return event
        raise AssertionError(f"no such event on {self.url} within {timeout} s")

    def drain(self) -> list[StreamEvent]:
        drained = []
        while True:
            try:
                drained.append(self.events.get_nowait())
            except queue.Empty:
                return drained


def give_server_password(user: Any) -> None:
    """Give `user` the test password hashed as the app server checks it (tests hash with MD5
    for speed; a server in its own process knows only the real hashers)."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password

    from tests.conftest import PASSWORD

    user.password = make_password(PASSWORD, hasher=PBKDF2PasswordHasher())
    user.save(update_fields=["password"])


def named(name: str) -> Callable[[StreamEvent], bool]:
    return lambda event: event.name == name


def starting(prefix: str) -> Callable[[StreamEvent], bool]:
    return lambda event: event.name.startswith(prefix)


def _data(text: str | None) -> Any:
    """An event's data: JSON, or the HTML of what changed when the event carries it."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text
