"""What a live page does on each event, read from the page itself, the way htmx and the
page's script read it: the tests and the benchmark replay it instead of guessing.

Inside the element that holds the event stream (sse-connect):
- an element with hx-get and hx-trigger="sse:NAME, …" re-fetches itself (GET its hx-get)
  when an event NAME arrives; "pw:resync from:body" when the page refreshes everything,
  "pw:refresh-X from:body" after the person's own change marked data-refresh="X";
- an element with sse-swap="NAME" swaps in the HTML an event NAME carries: no request;
- the script handles the names written in data-sse-resync (every fragment re-fetches),
  data-sse-heartbeat and data-sse-follow (no request unless the person follows);
- after the person's own change marked data-refresh-late="X", fragment X re-fetches only
  if no HTML for it came with an event meanwhile (its own event brings it).

Fragments swapped in keep their attributes (the same template renders them), so what the
page does stays what it first read."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class LivePage:
    stream: str = ""  # the address of the page's event stream
    refetch: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    swaps: set[str] = field(default_factory=set)
    resync_name: str = ""
    # Page-level triggers (pw:resync, pw:refresh-X): the fragments that re-fetch on them.
    local: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    # The fragment (its id) that each swap's HTML lands in (on it, or inside it).
    swap_fragment: dict[str, str] = field(default_factory=dict)
    # What changes marked data-refresh-late name: re-fetched only if no HTML came for them.
    late: set[str] = field(default_factory=set)

    def requests_for(self, name: str, data: str) -> list[str]:
        """The GETs the page issues when an event `name` arrives with `data`: none when a
        fragment swaps its HTML in, one per fragment that re-fetches on it."""
        if name == self.resync_name:
            return list(self.local["pw:resync"])
        if name in self.swaps:
            return []
        return list(self.refetch.get(name, []))

    def after_own_change(self, refresh: str, swapped: set[str] | None = None) -> list[str]:
        """The GETs after the person's own change marked data-refresh="refresh" (or
        data-refresh-late: none for a fragment in `swapped`, whose HTML came with an event
        since the change)."""
        urls: list[str] = []
        for name in refresh.split():
            if name in self.late and name in (swapped or set()):
                continue
            urls += self.local[f"pw:refresh-{name}"]
        return urls


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = LivePage()
        self.inside = 0  # depth inside the stream's element, 0 when outside
        self.depth = 0
        self.fragments: list[tuple[int, str]] = []  # (depth, id) of the fragments open here

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in ("input", "br", "img", "hr", "meta", "link", "source"):
            self._element(values)
            return
        self.depth += 1
        if "sse-connect" in values and not self.inside:
            self.inside = self.depth
            self.page.stream = values["sse-connect"]
            self.page.resync_name = values.get("data-sse-resync", "")
        if values.get("hx-get") and values.get("id"):
            self.fragments.append((self.depth, values["id"]))
        self._element(values)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("input", "br", "img", "hr", "meta", "link", "source"):
            return
        if self.inside and self.depth == self.inside:
            self.inside = 0
        if self.fragments and self.fragments[-1][0] == self.depth:
            self.fragments.pop()
        self.depth -= 1

    def _element(self, values: dict[str, str]) -> None:
        if not self.inside:
            return
        for name in filter(None, (n.strip() for n in values.get("sse-swap", "").split(","))):
            self.page.swaps.add(name)
            if self.fragments:
                self.page.swap_fragment[name] = self.fragments[-1][1]
        self.page.late.update(values.get("data-refresh-late", "").split())
        url = values.get("hx-get")
        if not url or "hx-trigger" not in values:
            return
        for trigger in (t.strip() for t in values["hx-trigger"].split(",")):
            if trigger.startswith("sse:"):
                self.page.refetch[trigger[4:]].append(url)
            elif trigger.endswith(" from:body"):
                self.page.local[trigger.removesuffix(" from:body")].append(url)


def read_page(html: str) -> LivePage:
    reader = _Reader()
    reader.feed(html)
    if not reader.page.stream:
        raise ValueError("Not a live page: no event stream.")
    return reader.page


def parse_sse(text: str) -> list[tuple[str, str, str]]:
    """The events of a stream's text, as (id, name, data)."""
    found = []
    for block in text.split("\n\n"):
        ident, name, data = "", "message", []
        for line in block.split("\n"):
            if line.startswith("id: "):
                ident = line[4:]
            elif line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        if data:
            found.append((ident, name, "\n".join(data)))
    return found
