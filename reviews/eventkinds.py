"""The kinds of live event, the data each one carries, and what each one refreshes.

A service publishes a kind with its data (`reviews.events.publish_on_commit`). The table
KINDS says, for each kind, the class of its data and the Server-Sent Events it goes out as.
Each SSE event has a name, a pattern over the data such as "answer-{question}", and the
fragments of the pages (partials, "template#name") that re-fetch themselves when it arrives;
the page's script handles a few of them too (following the facilitator, refreshing
everything). Everything else reads the names from here: the stream formats its events with
`sse_names`, the templates write their triggers with `{% sse_triggers %}`, and the script
finds the names it handles in the data attributes `{% sse_script_attrs %}` writes.

Event data is checked when it is made, so a kind cannot go out with the wrong data: a
service that tries fails in its own transaction, and data read back from Redis that does not
fit is refused (the stream then resyncs).

Each event has an id in its session's sequence, "<epoch>-<number>" (EventId). The epoch
changes whenever the sequence starts over (Redis restarted empty, the in-process backend's
process restarted), so an id from before is recognised as such; `parse_event_id` is the one
place that reads an id a page sends back.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from dataclasses import field as dataclass_field
from enum import StrEnum
from string import Formatter
from types import MappingProxyType
from typing import Final

from reviews.models import Phase


class EventKind(StrEnum):
    """What changed in a live session."""

    ANSWER = "answer"  # an answer: its choices, not applicable, its blind round
    NOTES = "notes"  # an answer's notes
    PHASE = "phase"  # the review moved to another phase
    FOCUS = "focus"  # the facilitator's focus moved to a question, or stopped
    BUDGETS = "budgets"  # the pillars' time budgets
    PARTICIPANTS = "participants"  # who takes part, and their preparation checklists
    PRESENCE = "presence"  # who has the live page open, and on which question
    PARKING = "parking"  # the parking lot
    FINDING = "finding"  # a finding's analysis: ratings, placement, acceptance, its actions
    RESYNC = "resync"  # the stream's own: events may have been missed, refresh everything
    HEARTBEAT = "heartbeat"  # the stream's own: it is connected and hears the session


class EventDataError(ValueError):
    """Data that does not fit its kind of event."""


# --- The data of each kind ------------------------------------------------------------------


@dataclass(frozen=True)
class EventData:
    """The data an event carries: strings, each checked when the data is made."""

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, str):
                raise EventDataError(
                    f"{type(self).__name__}.{field.name} must be a string, "
                    f"not {type(value).__name__}."
                )
            # A str enum (Phase.REVIEW) travels as its plain value.
            object.__setattr__(self, field.name, str.__str__(value))
        self.check()

    def check(self) -> None:
        """Raise EventDataError when a value is wrong (the types are checked already)."""

    def as_dict(self) -> dict[str, str]:
        return {field.name: getattr(self, field.name) for field in fields(self)}


def _require_uuid(data: EventData, name: str, value: str) -> None:
    """The value goes into SSE event names, so it must be a UUID in its usual spelling."""
    try:
        ok = str(uuid.UUID(value)) == value
    except ValueError:
        ok = False
    if not ok:
        raise EventDataError(f"{type(data).__name__}.{name} must be a UUID, not {value!r}.")


@dataclass(frozen=True)
class NoData(EventData):
    """Nothing: the kind says it all."""


@dataclass(frozen=True)
class QuestionData(EventData):
    """Something about one question changed."""

    question: str  # the question's UUID

    def check(self) -> None:
        _require_uuid(self, "question", self.question)


@dataclass(frozen=True)
class PhaseData(EventData):
    phase: str  # the phase the review is in now

    def check(self) -> None:
        if self.phase not in Phase.values:
            raise EventDataError(f"PhaseData.phase must be a phase, not {self.phase!r}.")


@dataclass(frozen=True)
class FocusData(EventData):
    """Where the facilitator is: the question and its page, both empty when they stopped."""

    question: str
    url: str  # the path of the question's page

    def check(self) -> None:
        if self.question == self.url == "":
            return
        _require_uuid(self, "question", self.question)
        if (
            not self.url.startswith("/")
            or self.url.startswith("//")
            or any(c.isspace() or not c.isprintable() for c in self.url)
        ):
            raise EventDataError(f"FocusData.url must be a path on this site, not {self.url!r}.")


@dataclass(frozen=True)
class FindingData(EventData):
    """Something about one finding changed, and with it the matrix and its quadrants."""

    finding: str  # the finding's UUID

    def check(self) -> None:
        _require_uuid(self, "finding", self.finding)


# --- The table ------------------------------------------------------------------------------


class ScriptRole(StrEnum):
    """What the live page's script (static/js/live.js) does on an event."""

    FOLLOW = "follow"  # go to the facilitator's question, for those who follow
    RESYNC = "resync"  # every fragment on the page re-fetches itself
    HEARTBEAT = "heartbeat"  # the page hears the session: it is live


@dataclass(frozen=True)
class SseEvent:
    """One Server-Sent Event a kind goes out as.

    With `swap`, the event may carry the HTML of what changed, rendered once for everyone
    (reviews.live_fragments): a stream then sends that HTML under the swap's name instead,
    which the fragment swaps in as it is (htmx's sse-swap), with no request. Without the
    HTML (a blind round keeps each person's picks private) it goes out under `name`, and
    the fragment re-fetches itself."""

    name: str  # a pattern over the kind's data: "answer-{question}"
    refreshes: tuple[str, ...] = ()  # the fragments ("template#partial") that re-fetch on it
    script: ScriptRole | None = None  # what the page's script does on it, if anything
    swap: str | None = None  # a pattern: the name it goes out as when it carries HTML


@dataclass(frozen=True)
class KindSpec:
    data: type[EventData]
    sse: tuple[SseEvent, ...]


QUESTION_PAGE: Final = "reviews/question.html"
SESSION_PAGE: Final = "reviews/session_detail.html"
ANALYSIS_PAGE: Final = "actions/analysis.html"


def _on(page: str, *partials: str) -> tuple[str, ...]:
    return tuple(f"{page}#{partial}" for partial in partials)


KINDS: Final[Mapping[EventKind, KindSpec]] = MappingProxyType(
    {
        EventKind.ANSWER: KindSpec(
            QuestionData,
            (
                SseEvent(
                    "answer-{question}", _on(QUESTION_PAGE, "choices"), swap="choices-{question}"
                ),
                SseEvent("nav", _on(QUESTION_PAGE, "nav"), swap="nav-html"),
                SseEvent("progress", _on(SESSION_PAGE, "progress")),
            ),
        ),
        EventKind.NOTES: KindSpec(
            QuestionData,
            (
                SseEvent(
                    "notes-text-{question}",
                    _on(QUESTION_PAGE, "notes"),
                    swap="notes-{question}-html",
                ),
                # Whoever is editing them learns they changed: that badge is their own.
                SseEvent("notes-{question}", _on(QUESTION_PAGE, "notes_stale")),
            ),
        ),
        EventKind.PHASE: KindSpec(
            PhaseData,
            (SseEvent("phase", _on(QUESTION_PAGE, "phase", "choices", "facilitator", "notes")),),
        ),
        EventKind.FOCUS: KindSpec(
            FocusData,
            (
                SseEvent("focus", script=ScriptRole.FOLLOW),
                SseEvent("focus-status", _on(QUESTION_PAGE, "facilitator"), swap="focus-html"),
            ),
        ),
        EventKind.BUDGETS: KindSpec(
            NoData, (SseEvent("budgets", _on(QUESTION_PAGE, "facilitator")),)
        ),
        EventKind.PARTICIPANTS: KindSpec(
            NoData,
            (
                SseEvent(
                    "participants",
                    _on(QUESTION_PAGE, "presence") + _on(SESSION_PAGE, "participants"),
                ),
            ),
        ),
        EventKind.PRESENCE: KindSpec(
            NoData, (SseEvent("presence", _on(QUESTION_PAGE, "presence"), swap="presence-html"),)
        ),
        EventKind.PARKING: KindSpec(
            NoData, (SseEvent("parking", _on(QUESTION_PAGE, "parking"), swap="parking-html"),)
        ),
        # The analysis page: the finding's card (one rendering per variant of what the viewer
        # may do; each page keeps its person's own ratings), the matrix and the quadrants.
        EventKind.FINDING: KindSpec(
            FindingData,
            (
                SseEvent(
                    "finding-{finding}",
                    _on(ANALYSIS_PAGE, "finding"),
                    swap="finding-card-{finding}",
                ),
                SseEvent("matrix", _on(ANALYSIS_PAGE, "matrix"), swap="matrix-html"),
                SseEvent("quadrants", _on(ANALYSIS_PAGE, "summary"), swap="quadrants-html"),
            ),
        ),
        # Never published: a stream sends it when it cannot tell what its page missed.
        EventKind.RESYNC: KindSpec(NoData, (SseEvent("refresh", script=ScriptRole.RESYNC),)),
        # Never published: a stream sends it once it hears the session, then after each
        # heartbeat interval of silence, for as long as it does.
        EventKind.HEARTBEAT: KindSpec(
            NoData, (SseEvent("heartbeat", script=ScriptRole.HEARTBEAT),)
        ),
    }
)


def event_data(kind: EventKind | str, data: Mapping[str, object]) -> EventData:
    """The data of an event of `kind`, checked: EventDataError when it does not fit."""
    try:
        spec = KINDS[EventKind(kind)]
    except ValueError:
        raise EventDataError(f"{kind!r} is not a kind of event.") from None
    expected = {field.name for field in fields(spec.data)}
    if set(data) != expected:
        raise EventDataError(
            f"A {kind} event carries {sorted(expected) or 'nothing'}, not {sorted(data)}."
        )
    return spec.data(**data)


def placeholders(pattern: str) -> set[str]:
    """The names a pattern such as "answer-{question}" is filled in with."""
    return {name for _, name, _, _ in Formatter().parse(pattern) if name is not None}


def sse_names(kind: EventKind, data: EventData) -> list[str]:
    """The SSE event names an event of `kind` with `data` goes out as."""
    values = data.as_dict()
    return [sse.name.format_map(values) for sse in KINDS[kind].sse]


def _sse_events() -> Iterator[SseEvent]:
    for spec in KINDS.values():
        yield from spec.sse


def fragments() -> set[str]:
    """Every fragment some event refreshes."""
    return {fragment for sse in _sse_events() for fragment in sse.refreshes}


def fragment_sse_names(fragment: str, values: Mapping[str, str]) -> list[str]:
    """The SSE event names on which `fragment` re-fetches itself, filled in with `values`
    (what the page shows: {"question": its UUID}). ValueError for an unknown fragment or a
    missing value."""
    patterns = [sse.name for sse in _sse_events() if fragment in sse.refreshes]
    if not patterns:
        raise ValueError(f"No event refreshes {fragment!r}.")
    missing = set().union(*(placeholders(p) for p in patterns)) - set(values)
    if missing:
        raise ValueError(f"{fragment!r} listens for events that need {sorted(missing)}.")
    return [pattern.format_map(values) for pattern in patterns]


def fragment_swap_names(fragment: str, values: Mapping[str, str]) -> list[str]:
    """The SSE event names whose HTML `fragment` swaps in as it is (htmx's sse-swap),
    filled in with `values`; empty when it only re-fetches itself."""
    patterns = [sse.swap for sse in _sse_events() if fragment in sse.refreshes and sse.swap]
    return [pattern.format_map(values) for pattern in patterns]


def swap_patterns(kind: EventKind) -> list[str]:
    """The swap names (patterns) an event of `kind` may carry HTML for."""
    return [sse.swap for sse in KINDS[kind].sse if sse.swap]


def script_names() -> dict[ScriptRole, str]:
    """The SSE event name the page's script handles in each role."""
    return {sse.script: sse.name for sse in _sse_events() if sse.script is not None}


# --- An event -------------------------------------------------------------------------------

EVENT_ID = re.compile(r"([0-9a-z]{1,16})-([0-9]{1,15})")


@dataclass(frozen=True)
class EventId:
    """Where an event stands in its session's sequence: the sequence's epoch (new whenever
    the sequence starts over) and the event's number in it, from 1. Number 0 stands before
    the first event of any epoch. On the wire: "<epoch>-<number>"."""

    epoch: str
    number: int

    def __post_init__(self) -> None:
        if not EVENT_ID.fullmatch(f"{self.epoch}-{self.number}") or isinstance(self.number, bool):
            raise EventDataError(f"Not an event id: {self.epoch!r}, {self.number!r}")

    def __str__(self) -> str:
        return f"{self.epoch}-{self.number}"


# Before the first event: where a page stands that opened before anything happened.
BEGINNING: Final = EventId("0", 0)


def parse_event_id(raw: str) -> EventId | None:
    """The event id a page sends back (Last-Event-ID, or ?last=), or None when `raw` is not
    one. Strict: lowercase letters and digits, a dash, digits, and nothing else."""
    match = EVENT_ID.fullmatch(raw) if isinstance(raw, str) else None
    if match is None:
        return None
    return EventId(match[1], int(match[2]))


EVERYONE: Final = "*"


@dataclass(frozen=True)
class Swap:
    """The HTML an event carries for one swap name: one rendering per variant, and which
    variant each viewer gets (by their role in the session, "" for a team member who is not
    a participant; EVERYONE for all)."""

    html: tuple[str, ...]
    pick: Mapping[str, int]
    # Each rendering as SSE data lines, made once for every stream of the process that
    # sends it (the same Swap reaches them all).
    _wire: dict[int, str] = dataclass_field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not all(isinstance(h, str) for h in self.html) or not all(
            isinstance(k, str) and isinstance(i, int) and 0 <= i < len(self.html)
            for k, i in self.pick.items()
        ):
            raise EventDataError("A swap is HTML strings and, per viewer, an index into them.")

    def for_viewer(self, viewer: str) -> str | None:
        index = self.pick.get(viewer, self.pick.get(EVERYONE))
        return None if index is None else self.html[index]

    def sse_data(self, viewer: str) -> str | None:
        """The viewer's HTML as the data lines of a Server-Sent Event."""
        index = self.pick.get(viewer, self.pick.get(EVERYONE))
        if index is None:
            return None
        wire = self._wire.get(index)
        if wire is None:
            lines = self.html[index].splitlines() or [""]
            wire = self._wire[index] = "".join(f"data: {line}\n" for line in lines)
        return wire

    def as_dict(self) -> dict[str, object]:
        return {"html": list(self.html), "pick": dict(self.pick)}


@dataclass(frozen=True)
class Event:
    """An event of a session as it travels: its id in the session (None for the stream's own
    RESYNC and HEARTBEAT), its kind and data, and the HTML of what changed, by swap name
    (see SseEvent.swap)."""

    id: EventId | None
    kind: EventKind
    data: EventData
    swaps: Mapping[str, Swap] = dataclass_field(default_factory=dict)

    def __post_init__(self) -> None:
        expected = KINDS[self.kind].data
        if type(self.data) is not expected:
            raise EventDataError(
                f"A {self.kind} event carries {expected.__name__}, not {type(self.data).__name__}."
            )
        if self.id is not None and not isinstance(self.id, EventId):
            raise EventDataError(f"An event's id is an EventId, not {self.id!r}.")
        allowed = {p.format_map(self.data.as_dict()) for p in swap_patterns(self.kind)}
        if not set(self.swaps) <= allowed or not all(
            isinstance(s, Swap) for s in self.swaps.values()
        ):
            raise EventDataError(f"A {self.kind} event carries HTML for {sorted(allowed)} only.")

    @property
    def sse_names(self) -> list[str]:
        return sse_names(self.kind, self.data)

    def to_json(self) -> str:
        value: dict[str, object] = {
            "id": str(self.id),
            "kind": str(self.kind),
            "data": self.data.as_dict(),
        }
        if self.swaps:
            value["swaps"] = swaps_as_dict(self.swaps)
        return json.dumps(value, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: bytes | str) -> Event:
        """The event from its JSON; EventDataError when it is not a whole, valid event."""
        try:
            value = json.loads(raw)
            kind = EventKind(value["kind"])
            ident = parse_event_id(value["id"])
            if not isinstance(value["data"], dict) or ident is None:
                raise TypeError("not an event")
            swaps = {
                name: Swap(html=tuple(swap["html"]), pick=dict(swap["pick"]))
                for name, swap in value.get("swaps", {}).items()
            }
            return cls(id=ident, kind=kind, data=event_data(kind, value["data"]), swaps=swaps)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise EventDataError(f"Not an event: {raw[:200]!r}") from exc


def swaps_as_dict(swaps: Mapping[str, Swap]) -> dict[str, object]:
    return {name: swap.as_dict() for name, swap in swaps.items()}


# Markers: the stream may have missed events, and the page must refresh what it shows; the
# stream hears the session.
RESYNC: Final = Event(id=None, kind=EventKind.RESYNC, data=NoData())
HEARTBEAT: Final = Event(id=None, kind=EventKind.HEARTBEAT, data=NoData())
