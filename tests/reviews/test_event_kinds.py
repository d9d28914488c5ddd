"""The table of live events: every kind has its data, its SSE names and what they refresh;
every trigger in the templates, and every name the page's script handles, comes from it;
and a kind cannot be published with the wrong data."""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import fields
from pathlib import Path

import pytest
from django.conf import settings
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse

from reviews import events
from reviews.eventkinds import (
    KINDS,
    QUESTION_PAGE,
    RESYNC,
    Event,
    EventDataError,
    EventId,
    EventKind,
    NoData,
    PhaseData,
    QuestionData,
    ScriptRole,
    event_data,
    fragment_sse_names,
    fragment_swap_names,
    fragments,
    placeholders,
    script_names,
)
from reviews.events import _RedisHub
from reviews.models import Participant, ParticipantRole, Phase
from reviews.templatetags.live_events import sse_script_attrs, sse_triggers

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = Path(settings.TEMPLATES[0]["DIRS"][0])
LIVE_JS = ROOT / "static" / "js" / "live.js"
Q = str(uuid.uuid4())


def all_patterns() -> list[str]:
    return [sse.name for spec in KINDS.values() for sse in spec.sse]


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """A regex matching the names a pattern produces ("answer-{question}": any UUID)."""
    parts = re.split(r"\{\w+\}", pattern)
    return re.compile("[0-9a-f-]{36}".join(re.escape(part) for part in parts) + r"\Z")


def produced_by_the_table(name: str) -> bool:
    return any(pattern_regex(pattern).match(name) for pattern in all_patterns())


# --- The table ------------------------------------------------------------------------------


def test_every_kind_has_its_data_and_sse_names():
    assert set(KINDS) == set(EventKind)
    for kind, spec in KINDS.items():
        assert spec.sse, f"{kind} goes out as no SSE event"
        names = {field.name for field in fields(spec.data)}
        for sse in spec.sse:
            assert placeholders(sse.name) <= names, f"{kind}: {sse.name} needs {names}"
            assert re.fullmatch(r"[a-z-]+(\{\w+\}[a-z-]*)*", sse.name), sse.name


def test_every_sse_event_refreshes_fragments_or_is_handled_by_the_script():
    for kind, spec in KINDS.items():
        for sse in spec.sse:
            assert sse.refreshes or sse.script, f"{kind}: nothing listens for {sse.name}"


def test_every_fragment_in_the_table_is_a_partial_of_its_page():
    assert fragments()
    for fragment in fragments():
        template, _, partial = fragment.partition("#")
        assert partial, fragment
        try:
            get_template(fragment)
        except TemplateDoesNotExist:
            pytest.fail(f"{template} has no partial {partial!r}")


def test_no_two_sse_events_share_a_name():
    patterns = all_patterns()
    assert len(patterns) == len(set(patterns))
    # and no pattern produces a name another one does
    samples = [p.format_map(dict.fromkeys(placeholders(p), Q)) for p in patterns]
    for pattern in patterns:
        assert sum(bool(pattern_regex(pattern).match(s)) for s in samples) == 1, pattern


def test_each_script_role_has_one_fixed_name():
    roles = [sse.script for spec in KINDS.values() for sse in spec.sse if sse.script]
    assert sorted(roles) == sorted(ScriptRole)
    assert script_names() == {
        ScriptRole.FOLLOW: "focus",
        ScriptRole.RESYNC: "refresh",
        ScriptRole.HEARTBEAT: "heartbeat",
    }
    for name in script_names().values():
        assert not placeholders(name)


def test_the_fragments_of_the_question_page_and_what_refreshes_them():
    """The live page's behaviour, written out: which events make each fragment re-fetch."""
    expected = {
        "nav": ["nav"],
        "phase": ["phase"],
        "choices": [f"answer-{Q}", "phase"],
        "facilitator": ["phase", "focus-status", "budgets"],
        "presence": ["participants", "presence"],
        "parking": ["parking"],
        "notes": [f"notes-text-{Q}", "phase"],
        "notes_stale": [f"notes-{Q}"],
    }
    for partial, names in expected.items():
        assert fragment_sse_names(f"{QUESTION_PAGE}#{partial}", {"question": Q}) == names
    assert fragment_sse_names("reviews/session_detail.html#progress", {}) == ["progress"]
    # What a change sends rendered, swapped in with no request (the rest re-fetches).
    swapped = {
        "nav": ["nav-html"],
        "choices": [f"choices-{Q}"],
        "notes": [f"notes-{Q}-html"],
        "facilitator": ["focus-html"],
        "presence": ["presence-html"],
        "parking": ["parking-html"],
    }
    for partial in expected:
        names = fragment_swap_names(f"{QUESTION_PAGE}#{partial}", {"question": Q})
        assert names == swapped.get(partial, [])
    assert fragment_sse_names("reviews/session_detail.html#participants", {}) == ["participants"]


def test_asking_for_an_unknown_fragment_or_without_its_values_fails():
    with pytest.raises(ValueError, match="No event refreshes"):
        fragment_sse_names(f"{QUESTION_PAGE}#history", {"question": Q})
    with pytest.raises(ValueError, match="need"):
        fragment_sse_names(f"{QUESTION_PAGE}#choices", {})


# --- The data of each kind ------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, data",
    [
        (EventKind.ANSWER, {"question": Q}),
        (EventKind.NOTES, {"question": Q}),
        (EventKind.PHASE, {"phase": "analysis"}),
        (EventKind.FOCUS, {"question": Q, "url": f"/sessions/{Q}/questions/{Q}/"}),
        (EventKind.FOCUS, {"question": "", "url": ""}),
        (EventKind.BUDGETS, {}),
        (EventKind.PARTICIPANTS, {}),
        (EventKind.PRESENCE, {}),
        (EventKind.PARKING, {}),
    ],
)
def test_good_data_makes_an_event_that_reads_back_the_same(kind, data):
    checked = event_data(kind, data)
    assert checked.as_dict() == data
    event = Event(EventId("c0ffee42", 5), kind, checked)
    assert Event.from_json(event.to_json()) == event


@pytest.mark.parametrize(
    "kind, data, problem",
    [
        (EventKind.ANSWER, {}, "carries"),
        (EventKind.ANSWER, {"question": Q, "url": "/"}, "carries"),
        (EventKind.ANSWER, {"question": uuid.UUID(Q)}, "must be a string"),
        (EventKind.ANSWER, {"question": 7}, "must be a string"),
        (EventKind.ANSWER, {"question": "q1"}, "must be a UUID"),
        (EventKind.ANSWER, {"question": Q.upper()}, "must be a UUID"),
        (EventKind.NOTES, {"question": f"{Q}\nevent: refresh"}, "must be a UUID"),
        (EventKind.NOTES, {"phase": "review"}, "carries"),
        (EventKind.PHASE, {"phase": "lunch"}, "must be a phase"),
        (EventKind.PHASE, {}, "carries"),
        (EventKind.FOCUS, {"question": Q}, "carries"),
        (EventKind.FOCUS, {"question": Q, "url": ""}, "path on this site"),
        (EventKind.FOCUS, {"question": "", "url": "/sessions/"}, "must be a UUID"),
        (EventKind.FOCUS, {"question": Q, "url": "//evil.example/"}, "path on this site"),
        (EventKind.FOCUS, {"question": Q, "url": "javascript:alert(1)"}, "path on this site"),
        (EventKind.FOCUS, {"question": Q, "url": "/a\n\nevent: x"}, "path on this site"),
        (EventKind.PARKING, {"question": Q}, "carries"),
        (EventKind.PRESENCE, {"user": "bob"}, "carries"),
        ("gossip", {}, "not a kind"),
    ],
)
def test_a_kind_cannot_be_published_with_the_wrong_data(
    kind, data, problem, db, published, django_capture_on_commit_callbacks
):
    """The service that tries fails at once, in its own transaction, and nothing goes out."""
    session = uuid.uuid4()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(EventDataError, match=problem),
    ):
        events.publish_on_commit(session, kind, **data)
    assert callbacks == []


def test_resync_is_never_published_and_events_go_to_a_session(
    db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(EventDataError, match="never published"):
            events.publish_on_commit(uuid.uuid4(), EventKind.RESYNC)
        with pytest.raises(EventDataError, match="never published"):
            events.publish_on_commit(uuid.uuid4(), EventKind.HEARTBEAT)
        with pytest.raises(EventDataError, match="session's UUID"):
            events.publish_on_commit("pillarwise:*", EventKind.PARKING)
    assert callbacks == []


def test_a_phase_travels_as_its_plain_value():
    data = PhaseData(phase=Phase.REVIEW)
    assert type(data.phase) is str and data.as_dict() == {"phase": "review"}


def test_an_event_holds_the_data_of_its_kind():
    with pytest.raises(EventDataError, match="carries QuestionData"):
        Event(EventId("ab", 1), EventKind.ANSWER, NoData())
    with pytest.raises(EventDataError, match="carries FocusData"):
        Event(EventId("ab", 1), EventKind.FOCUS, QuestionData(question=Q))
    with pytest.raises(EventDataError, match="is an EventId"):
        Event(1, EventKind.PARKING, NoData())
    assert RESYNC.kind == EventKind.RESYNC and RESYNC.sse_names == ["refresh"]


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[]",
        b'{"id":"ab-1","kind":"answer"}',
        b'{"id":"ab-1","kind":"answer","data":[]}',
        b'{"id":"ab-1","kind":"answer","data":{"question":"x"}}',
        b'{"id":"one","kind":"parking","data":{}}',
        b'{"id":true,"kind":"parking","data":{}}',
        b'{"id":1,"kind":"parking","data":{}}',
        b'{"id":null,"kind":"parking","data":{}}',
        b'{"id":"ab-1","kind":"gossip","data":{}}',
        b'{"id":"ab-1","kind":"phase","data":{"phase":null}}',
        b"\xff\xfe",
    ],
)
def test_what_is_not_a_whole_valid_event_is_refused_when_read(raw):
    with pytest.raises(EventDataError, match="Not an event"):
        Event.from_json(raw)


def test_an_unreadable_message_resyncs_the_streams_of_its_session_only():
    """What the Redis hub does with a message it cannot read (no Redis needed here)."""
    hub = _RedisHub("redis://127.0.0.1:1/0")
    spoiled, other = asyncio.Queue(), asyncio.Queue()
    hub.queues["a"].add(spoiled)
    hub.queues["b"].add(other)
    hub.receive("a", b'{"id":"ab-3","kind":"answer","data":{"question":"nope"}}')
    hub.receive("b", Event(EventId("ab", 4), EventKind.PARKING, NoData()).to_json().encode())
    hub.receive("c", b"for a session nobody here watches")
    assert spoiled.get_nowait() is RESYNC
    assert other.get_nowait() == Event(EventId("ab", 4), EventKind.PARKING, NoData())
    assert spoiled.empty() and other.empty()


# --- The templates and the script read their names from the table ---------------------------


def template_sources() -> dict[Path, str]:
    return {path: path.read_text(encoding="utf-8") for path in TEMPLATES.rglob("*.html")}


def test_no_template_writes_an_event_name_itself():
    """Every `sse:` trigger comes from {% sse_triggers %}; the few literal ones a template
    might hold must still be names the table produces."""
    literal = {
        (path.relative_to(TEMPLATES).as_posix(), name)
        for path, text in template_sources().items()
        for name in re.findall(r"sse:([\w{}\- .|]+)", text)
    }
    assert {(path, name) for path, name in literal if not produced_by_the_table(name)} == set()
    assert literal == set()


def test_every_fragment_in_the_table_listens_in_its_template():
    used = {
        (path.relative_to(TEMPLATES).as_posix(), fragment)
        for path, text in template_sources().items()
        for fragment in re.findall(r"\{%\s*sse_triggers\s+['\"]([^'\"]+)['\"]", text)
    }
    assert {fragment for _, fragment in used} == fragments()
    for path, fragment in used:
        assert fragment.partition("#")[0] == path, f"{path} listens for {fragment}"


def rendered_triggers(html: str) -> list[str]:
    return [
        name
        for trigger in re.findall(r'hx-trigger="([^"]*)"', html)
        for name in re.findall(r"sse:([^\s,]+)", trigger)
    ]


@pytest.fixture
def pages(client, cast, review, answer):
    Participant.objects.create(session=review, user=cast.member, role=ParticipantRole.OPERATIONS)
    client.force_login(cast.member)
    question = reverse("reviews:question", args=[review.uuid, answer.question.uuid])
    return {
        "question": client.get(question).content.decode(),
        "question, editing notes": client.get(question + "?edit=notes").content.decode(),
        "session": client.get(
            reverse("reviews:session_detail", args=[review.uuid])
        ).content.decode(),
    }


def test_every_sse_trigger_on_the_pages_names_an_event_the_table_produces(pages, answer):
    question = str(answer.question.uuid)
    for page, html in pages.items():
        names = rendered_triggers(html)
        assert names, page
        for name in names:
            assert produced_by_the_table(name), f"{page}: sse:{name}"
            # a name about a question is about the page's question
            assert question in name or not re.search(r"[0-9a-f]{8}-", name), f"{page}: {name}"
    assert f"answer-{question}" in rendered_triggers(pages["question"])
    assert f"notes-{question}" in rendered_triggers(pages["question, editing notes"])
    assert sorted(set(rendered_triggers(pages["session"]))) == ["participants", "progress"]


def test_the_question_page_gives_the_script_its_event_names(pages):
    html = pages["question"]
    root = re.search(r'<div id="live-root"[^>]*>', html).group(0)
    for role, name in script_names().items():
        assert f'data-sse-{role}="{name}"' in root


def test_the_script_listens_only_for_names_the_page_gives_it():
    script = LIVE_JS.read_text(encoding="utf-8")
    # EventSource's own events aside, the script adds no listener by a name of its own ...
    literal = set(re.findall(r"source\.addEventListener\(\s*\"([^\"]+)\"", script))
    assert literal <= {"open", "error"}
    # ... and reads each role's name from the data attribute the page writes.
    for role in ScriptRole:
        assert f'eventName("{role.capitalize()}")' in script, role
    assert 'root.dataset["sse" + role]' in script
    assert "root.dataset.heartbeatSeconds" in script


def test_the_template_tags_render_from_the_table():
    assert sse_triggers(f"{QUESTION_PAGE}#choices", question=uuid.UUID(Q)) == (
        f"sse:answer-{Q}, sse:phase"
    )
    assert sse_script_attrs() == (
        'data-sse-follow="focus" data-sse-heartbeat="heartbeat" data-sse-resync="refresh"'
        ' data-heartbeat-seconds="15.0"'
    )
