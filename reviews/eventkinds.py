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
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
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
    RESYNC = "resync"  # the stream's own: events may have been missed, refresh everything


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


# --- The table ------------------------------------------------------------------------------


class ScriptRole(StrEnum):
    """What the live page's script (static/js/live.js) does on an event."""

    FOLLOW = "follow"  # go to the facilitator's question, for those who follow
    RESYNC = "resync"  # every fragment on the page re-fetches itself


@dataclass(frozen=True)
class SseEvent:
    """One Server-Sent Event a kind goes out as."""

    name: str  # a pattern over the kind's data: "answer-{question}"
    refreshes: tuple[str, ...] = ()  # the fragments ("template#partial") that re-fetch on it
    script: ScriptRole | None = None  # what the page's script does on it, if anything


@dataclass(frozen=True)
class KindSpec:
    data: type[EventData]
    sse: tuple[SseEvent, ...]


QUESTION_PAGE: Final = "reviews/question.html"
SESSION_PAGE: Final = "reviews/session_detail.html"


def _on(page: str, *partials: str) -> tuple[str, ...]:
    return tuple(f"{page}#{partial}" for partial in partials)


KINDS: Final[Mapping[EventKind, KindSpec]] = MappingProxyType(
    {
        EventKind.ANSWER: KindSpec(
            QuestionData,
            (
                SseEvent("answer-{question}", _on(QUESTION_PAGE, "choices")),
                SseEvent("progress", _on(QUESTION_PAGE, "nav") + _on(SESSION_PAGE, "progress")),
            ),
        ),
        EventKind.NOTES: KindSpec(
            QuestionData,
            (SseEvent("notes-{question}", _on(QUESTION_PAGE, "notes", "notes_stale")),),
        ),
        EventKind.PHASE: KindSpec(
            PhaseData,
            (SseEvent("phase", _on(QUESTION_PAGE, "phase", "choices", "facilitator", "notes")),),
        ),
        EventKind.FOCUS: KindSpec(
            FocusData,
            (SseEvent("focus", _on(QUESTION_PAGE, "facilitator"), ScriptRole.FOLLOW),),
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
            NoData, (SseEvent("presence", _on(QUESTION_PAGE, "presence")),)
        ),
        EventKind.PARKING: KindSpec(NoData, (SseEvent("parking", _on(QUESTION_PAGE, "parking")),)),
        # Never published: a stream sends it when it cannot tell what its page missed.
        EventKind.RESYNC: KindSpec(NoData, (SseEvent("refresh", script=ScriptRole.RESYNC),)),
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


def script_names() -> dict[ScriptRole, str]:
    """The SSE event name the page's script handles in each role."""
    return {sse.script: sse.name for sse in _sse_events() if sse.script is not None}


# --- An event -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """An event of a session as it travels: its id in the session, its kind and data."""

    id: int
    kind: EventKind
    data: EventData

    def __post_init__(self) -> None:
        expected = KINDS[self.kind].data
        if type(self.data) is not expected:
            raise EventDataError(
                f"A {self.kind} event carries {expected.__name__}, not {type(self.data).__name__}."
            )

    @property
    def sse_names(self) -> list[str]:
        return sse_names(self.kind, self.data)

    def to_json(self) -> str:
        return json.dumps(
            {"id": self.id, "kind": str(self.kind), "data": self.data.as_dict()},
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> Event:
        """The event from its JSON; EventDataError when it is not a whole, valid event."""
        try:
            value = json.loads(raw)
            kind = EventKind(value["kind"])
            if not isinstance(value["data"], dict) or isinstance(value["id"], bool):
                raise TypeError("not an event")
            return cls(id=int(value["id"]), kind=kind, data=event_data(kind, value["data"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise EventDataError(f"Not an event: {raw[:200]!r}") from exc


# Marker: the stream may have missed events; the page must refresh what it shows.
RESYNC: Final = Event(id=0, kind=EventKind.RESYNC, data=NoData())
