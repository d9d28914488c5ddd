"""The live benchmark's clients: participants that behave like the live page in a browser.

A participant opens the question page, reads from it what the page does on each event
(tests.live_page: the same attributes htmx and the page's script read), holds the page's
event stream, and on each event makes exactly the requests the page would, at once and in
parallel as a browser does (a few keep-alive connections besides the stream). It notes, for
each event, when the page is up to date: the event arrived and every request it set off has
answered."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tests.live_page import LivePage, read_page

RETRY_SECONDS = 2.0  # until the stream says its own (retry:)
LATE_REFRESH_SECONDS = 3.0  # as the page's script waits (LATE_REFRESH_MS, static/js/live.js)


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
    ) -> tuple[int, bytes]:
        await self.send(method, path, headers, body)
        status, response_headers = await self.head()
        chunks = []
        if response_headers.get("transfer-encoding") == "chunked":
            while size := int((await self.reader.readline()).strip() or b"0", 16):
                chunks.append((await self.reader.readexactly(size + 2))[:-2])
            await self.reader.readline()
        elif length := int(response_headers.get("content-length", "0")):
            chunks.append(await self.reader.readexactly(length))
        return status, b"".join(chunks)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


@dataclass
class Person:
    session: str
    question: str
    choice: str
    cookies: dict[str, str]
    csrf: str

    def headers(self, **extra: str) -> dict[str, str]:
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        return {"Cookie": cookie, **extra}


@dataclass
class Tally:
    """What every participant of a run did and saw."""

    requests: int = 0  # every request the pages made on events and after their own change
    errors: int = 0
    why: dict[str, int] = field(default_factory=dict)  # the errors, by what went wrong
    reconnects: int = 0  # streams opened again after they ended, as EventSource does

    def error(self, why: str) -> None:
        self.errors += 1
        self.why[why] = self.why.get(why, 0) + 1

    # (receiver, event id) -> when the receiver's page was up to date with that event
    updated: dict[tuple[int, str], float] = field(default_factory=dict)
    # (receiver, session, question) -> the ids of the events about that question, in order
    order: dict[tuple[int, str, str], list[str]] = field(default_factory=dict)
    # (receiver, event id) -> when its first message arrived on the stream
    arrived: dict[tuple[int, str], float] = field(default_factory=dict)


class Page:
    """One participant's live page."""

    def __init__(self, url: str, person: Person, index: int, tally: Tally):
        self.url, self.person, self.index, self.tally = url, person, index, tally
        self.idle: list[Http] = []
        self.page: LivePage | None = None
        self.pending: set[asyncio.Task] = set()
        self.swapped: dict[str, float] = {}  # fragment id -> when HTML for it last came

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> int:
        """On an idle keep-alive connection, or a new one when the server has closed it (as a
        browser does); the status, 0 when it failed."""
        for attempt in range(2):
            http = self.idle.pop() if self.idle and not attempt else Http(self.url)
            try:
                status, _ = await http.request(method, path, headers, body)
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                http.close()
                continue
            self.idle.append(http)
            self.tally.requests += 1
            return status
        self.tally.error("request failed")
        return 0

    async def get(self, path: str) -> int:
        status = await self.request("GET", path, self.person.headers(**{"HX-Request": "true"}))
        if status not in (0, 200):
            self.tally.error(f"fragment answered {status}")
        return status

    async def open(self) -> None:
        """Load the question page and read what it does on events."""
        http = Http(self.url)
        path = f"/sessions/{self.person.session}/questions/{self.person.question}/"
        status, body = await http.request("GET", path, self.person.headers())
        http.close()
        if status != 200:
            raise RuntimeError(f"the question page answered {status}")
        self.page = read_page(body.decode())

    async def toggle(self, choice: str, select: bool, question: str | None = None) -> int:
        """Tick or untick a box as the page does, then what the page does after its own
        change (data-refresh)."""
        where = question or self.person.question
        path = f"/sessions/{self.person.session}/questions/{where}/choices/{choice}/"
        headers = self.person.headers(
            **{
                "X-CSRFToken": self.person.csrf,
                "HX-Request": "true",
                "Content-Type": "application/x-www-form-urlencoded",
            }
        )
        clicked = time.monotonic()
        status = await self.request("POST", path, headers, b"select=1" if select else b"select=0")
        if status == 204 and self.page is not None and question is None:
            # data-refresh-late: the change's own event brings the fragment's HTML; the page
            # re-fetches it only if that does not come within LATE_REFRESH_SECONDS.
            task = asyncio.get_running_loop().create_task(self._refresh_late("choices", clicked))
            self.pending.add(task)
            task.add_done_callback(self.pending.discard)
        return status

    async def _refresh_late(self, refresh: str, since: float) -> None:
        assert self.page is not None
        deadline = since + LATE_REFRESH_SECONDS
        while time.monotonic() < deadline:
            swapped = {name for name, at in self.swapped.items() if at >= since}
            if not self.page.after_own_change(refresh, swapped):
                return
            await asyncio.sleep(0.01)
        await asyncio.gather(*(self.get(u) for u in self.page.after_own_change(refresh)))

    async def _settle(self, ident: str, requests: list[str]) -> None:
        await asyncio.gather(*(self.get(path) for path in requests))
        key = (self.index, ident)
        self.tally.updated[key] = max(self.tally.updated.get(key, 0.0), time.monotonic())

    def on_event(self, ident: str, name: str, data: str) -> None:
        now = time.monotonic()
        key = (self.index, ident)
        self.tally.arrived.setdefault(key, now)
        self.tally.updated[key] = max(self.tally.updated.get(key, 0.0), now)
        if self.person.question in name:
            order = self.tally.order.setdefault(
                (self.index, self.person.session, self.person.question), []
            )
            if not order or order[-1] != ident:
                order.append(ident)
        if self.page and name in self.page.swaps:
            self.swapped[self.page.swap_fragment.get(name, "")] = now
        requests = self.page.requests_for(name, data) if self.page else []
        if requests:
            task = asyncio.get_running_loop().create_task(self._settle(ident, requests))
            self.pending.add(task)
            task.add_done_callback(self.pending.discard)

    async def listen(self, connected: asyncio.Event, counter: list[int], total: int) -> None:
        """Hold the page's event stream (its address from the page: ?last= included) as a
        browser's EventSource does: when the stream ends or fails, open it again after the
        retry time the server gave, sending the last event id seen (Last-Event-ID)."""
        stream = self.page.stream if self.page else f"/sessions/{self.person.session}/events/"
        first, last_id, retry = True, "", RETRY_SECONDS
        while True:
            http = Http(self.url)
            headers = self.person.headers(Accept="text/event-stream")
            if last_id:
                headers["Last-Event-ID"] = last_id
            try:
                await http.send("GET", stream, headers)
                status, _ = await http.head()
                if status != 200:
                    self.tally.error(f"stream answered {status}")
                    if first:
                        counter[0] += 1
                    return
                ident, name, data = "", "", []
                while line := await http.reader.readline():
                    text = line.decode().rstrip("\r\n")
                    if text.startswith(": connected") and first:
                        first = False
                        counter[0] += 1
                        if counter[0] == total:
                            connected.set()
                    elif text.startswith("retry: "):
                        retry = int(text[7:]) / 1000
                    elif text.startswith("id: "):
                        ident = last_id = text[4:]
                    elif text.startswith("event: "):
                        name = text[7:]
                    elif text.startswith("data: "):
                        data.append(text[6:])
                    elif text == "":
                        if name and ident:
                            self.on_event(ident, name, "\n".join(data))
                        ident, name, data = "", "", []
            except (OSError, ValueError, asyncio.IncompleteReadError):
                pass  # reset, or a line past the reader's limit: reconnect, as a browser does
            finally:
                http.close()
            self.tally.reconnects += 1
            await asyncio.sleep(retry)

    def close(self) -> None:
        for http in self.idle:
            http.close()
        for task in self.pending:
            task.cancel()
