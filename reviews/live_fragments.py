"""What a live change looks like, rendered once and sent with its event.

When an answer changes, every page on that question shows its choices anew, and every
question page its outline (the left column). Rather than each page re-fetching them (a
request, a session, a user and an access check per person watching), the change is rendered
here once, after it commits, and its HTML travels with the event (reviews.eventkinds.Swap);
htmx's SSE extension swaps it in. The work per change is the same for 2 people watching or
200. The same goes for an answer's notes, the facilitator's focus and clock, who is here and
the parking lot (RENDERERS).

- The outline is the same for everyone: one rendering. Each page marks its own question in
  it (static/js/live.js).
- The choices differ by what the viewer may do: one rendering per variant (answering,
  facilitating, reading as finance or observer, a team member who is not a participant,
  answers closed) among the people watching (their stream open), and each stream sends its
  viewer's (by their role in the session).
- During a blind round each person sees their own picks: no HTML then, and each page
  re-fetches its choices.
- Notes: one rendering for those who may edit them, one for the others. Whoever is editing
  them re-fetches the badge that says they changed (their own revision).
- Focus, who is here: one rendering; each page marks its own question in it (live.js), and
  a facilitator's page sets its two buttons from it.
- Parking lot: one rendering for those who may remove any item, one for the others, whose
  page shows the remove buttons of their own items (marked with `owner_mark`).
- Who is here changes whenever a page opens or closes: at most one event per session every
  LIVE_PRESENCE_SECONDS (the last state always goes out), so that a room filling up does
  not make every page hear every arrival.

Renderings of one session are taken one at a time, each after its change committed, and the
event goes out before the next one starts: the last HTML a page receives shows every change
committed before it (never an older state arriving late)."""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Callable, Hashable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.db import close_old_connections, connection, connections, transaction
from django.db.models import Field, Model
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.crypto import salted_hmac

from questionnaires import structure
from questionnaires.structure import QuestionInfo
from reviews import events, live, presence
from reviews import focus as facilitation
from reviews.access import SessionAccess
from reviews.answers import selected_idents
from reviews.choices import choice_exclusions
from reviews.eventkinds import EVERYONE, EventData, EventKind, Swap
from reviews.forms import ApplicabilityForm
from reviews.models import (
    Answer,
    Membership,
    NotApplicableReason,
    Participant,
    Presence,
    ReviewSession,
)

logger = logging.getLogger("pillarwise.events")

QUESTION_TEMPLATE = "reviews/question.html"


def nav_context(session: ReviewSession, question_id: int | None) -> dict:
    """The outline of the session and its progress; `question_id` is the page's question
    (its neighbours), None for the rendering sent to every page."""
    outline = live.session_outline(session)
    answered = sum(p.answered for p in outline)
    total = sum(p.total for p in outline)
    ctx: dict = {
        "outline": outline,
        "answered": answered,
        "total": total,
        "percent": round(100 * answered / total) if total else 0,
    }
    if question_id is not None:
        ctx["previous"], ctx["next"] = live.neighbours(outline, question_id)
    return ctx


@dataclass(frozen=True)
class ChoiceUrls:
    """Where a choice's forms post: worked out once per rendering, not once per variant."""

    toggle: str
    applicability: str


def choices_context(answer: Answer, info: QuestionInfo) -> dict:
    """The choices of an answer as anybody sees them (a blind round aside)."""
    selected = selected_idents(answer)
    exclusions = choice_exclusions(answer)
    where = [answer.session.uuid, info.uuid]

    def urls(ident: str) -> ChoiceUrls:
        return ChoiceUrls(
            reverse("reviews:choice_toggle", args=[*where, ident]),
            reverse("reviews:choice_applicability", args=[*where, ident]),
        )

    return {
        "choices": [(choice, choice.ident in selected) for choice in info.choices],
        "rows": [
            (choice, choice.ident in selected, exclusions.get(choice.ident), urls(choice.ident))
            for choice in info.choices
        ],
        "selected": selected,
        "applicability_form": ApplicabilityForm(
            initial={
                "not_applicable": answer.not_applicable,
                "reason": answer.not_applicable_reason,
            }
        ),
        "reasons": NotApplicableReason.choices,
    }


def viewer_key(team_role: str | None, session_role: str | None) -> str:
    """Which rendering of a change a viewer gets: their team role and their role in the
    session ("member/operations"; "/observer" for a guest, "viewer/" for a team member who
    takes no part). Both count: a team viewer made facilitator still only reads."""
    return f"{team_role or ''}/{session_role or ''}"


def viewer_of(access: SessionAccess) -> str:
    """The viewer key of someone's access to the session."""
    return viewer_key(access.team_role, access.participant.role if access.participant else None)


def seat_access(session: ReviewSession, viewer: str) -> SessionAccess:
    """The access of anyone in a viewer's seat (what they may do there, not who they are)."""
    team_role, _, session_role = viewer.partition("/")
    membership = Membership(role=team_role) if team_role else None
    participant = Participant(session=session, role=session_role) if session_role else None
    return SessionAccess(session=session, membership=membership, participant=participant)


# --- Rendering once per change -------------------------------------------------------------------


@cache
def _viewers_statement(using: str) -> str:
    connection = connections[using]
    quote = connection.ops.quote_name

    def column(model: type[Model], alias: str, name: str) -> str:
        field = model._meta.get_field(name)
        assert isinstance(field, Field) and field.column
        return f"{alias}.{quote(field.column)}"

    return (
        f"SELECT {column(Membership, 'm', 'role')}, {column(Participant, 'p', 'role')}"
        f" FROM {quote(Presence._meta.db_table)} pr"
        f" LEFT OUTER JOIN {quote(Membership._meta.db_table)} m"
        f" ON {column(Membership, 'm', 'team')} = %s"
        f" AND {column(Membership, 'm', 'user')} = {column(Presence, 'pr', 'user')}"
        f" LEFT OUTER JOIN {quote(Participant._meta.db_table)} p"
        f" ON {column(Participant, 'p', 'session')} = {column(Presence, 'pr', 'session')}"
        f" AND {column(Participant, 'p', 'user')} = {column(Presence, 'pr', 'user')}"
        f" WHERE {column(Presence, 'pr', 'session')} = %s"
        f" AND {column(Presence, 'pr', 'streams')} > 0"
    )


def _viewers(session: ReviewSession) -> list[str]:
    """The seats of the people who have the session's event stream open, each with its
    person's team role (one statement, written once: it runs on every change): only what
    someone is watching is rendered. Whoever opens a stream after the rendering gets that
    event without HTML, and their page re-fetches the fragment (as in a blind round)."""
    using = Presence.objects.db
    with connections[using].cursor() as cursor:
        cursor.execute(_viewers_statement(using), [session.workload.team_id, session.pk])
        return sorted({viewer_key(t, s) for t, s in cursor.fetchall()})


def per_variant(
    session: ReviewSession,
    variant: Callable[[SessionAccess], Hashable],
    render: Callable[[SessionAccess], str],
    viewers: list[str] | None = None,
) -> Swap:
    """A fragment rendered once per variant (what `variant` tells apart) among the seats of
    those watching (`viewers`, read when not given), and which one each of them gets."""
    html: list[str] = []
    index: dict[Hashable, int] = {}
    pick: dict[str, int] = {}
    for viewer in _viewers(session) if viewers is None else viewers:
        access = seat_access(session, viewer)
        key = variant(access)
        if key not in index:
            index[key] = len(html)
            html.append(render(access).strip())
        pick[viewer] = index[key]
    return Swap(html=tuple(html), pick=pick)


def for_everyone(html: str) -> Swap:
    return Swap(html=(html.strip(),), pick={EVERYONE: 0})


def owner_mark(session: ReviewSession, user_id: int | None) -> str:
    """Who made something, as a page may tell its own (never the user's id itself)."""
    if user_id is None:
        return ""
    return salted_hmac("pillarwise.owner", f"{session.uuid}:{user_id}").hexdigest()[:16]


def render_choices(
    session: ReviewSession, answer: Answer, info: QuestionInfo, viewers: list[str] | None = None
) -> Swap:
    """The choices fragment once per variant, outside a blind round."""
    shared = {
        "session": session,
        "workload": session.workload,
        "q": info,
        "answer": answer,
        "blind": None,
        # Sent to everybody: no form carries a token; htmx sends each person's own in a
        # header (hx-headers on <body>).
        "shared": True,
        **choices_context(answer, info),
    }

    def render(access: SessionAccess) -> str:
        ctx = {
            **shared,
            "access": access,
            "can_answer": access.may_answer(info),
            "answer_refusal": access.rights.answer_refusal(info),
            "is_facilitator": access.can_manage,
        }
        return render_to_string(f"{QUESTION_TEMPLATE}#choices", ctx)

    return per_variant(
        session,
        lambda a: (a.may_answer(info), a.rights.answer_refusal(info), a.can_manage),
        render,
        viewers,
    )


def render_nav_change(session: ReviewSession, question_id: int) -> Swap:
    """What a change of one answer changes in the outline, the same for everyone: the
    question's risk, its pillar's counts and the total, each to be swapped in by its id (a
    few hundred bytes, where the whole outline is tens of kilobytes)."""
    ctx: dict = {"session": session, "q": None, **nav_context(session, None)}
    for pillar in ctx["outline"]:
        item = next((item for item in pillar.questions if item["id"] == question_id), None)
        if item is not None:
            ctx.update(pillar=pillar, item=item)
            return for_everyone(render_to_string(f"{QUESTION_TEMPLATE}#nav_change", ctx))
    raise ValueError(f"Question {question_id} is not in session {session.uuid}.")


def render_answer(session_uuid: str, question_uuid: str) -> dict[str, Swap]:
    session = _session(session_uuid)
    question_id = structure.question_id(question_uuid)
    if question_id is None:
        raise ValueError(f"No question {question_uuid}.")
    viewers = _viewers(session)
    if not viewers:
        return {}  # nobody is watching: nothing to render
    answer = (
        Answer.objects.filter(session=session, question_id=question_id)
        .with_blind_open()
        .order_by()
        .get()
    )
    answer.session = session
    swaps = {"nav-html": render_nav_change(session, question_id)}
    if not answer.blind_open:
        info = structure.question_info(question_id)
        swaps[f"choices-{question_uuid}"] = render_choices(session, answer, info, viewers)
    return swaps


def _session(session_uuid: str) -> ReviewSession:
    return ReviewSession.objects.select_related("workload").get(uuid=session_uuid)


def render_notes(session_uuid: str, question_uuid: str) -> dict[str, Swap]:
    session = _session(session_uuid)
    question_id = structure.question_id(question_uuid)
    if question_id is None:
        raise ValueError(f"No question {question_uuid}.")
    answer = Answer.objects.get(session=session, question_id=question_id)
    answer.session = session
    info = structure.question_info(question_id)
    shared = {"session": session, "q": info, "answer": answer, "shared": True}

    def render(access: SessionAccess) -> str:
        ctx = {**shared, "access": access, "can_answer": access.may_answer(info)}
        return render_to_string(f"{QUESTION_TEMPLATE}#notes", ctx)

    return {
        f"notes-{question_uuid}-html": per_variant(session, lambda a: a.may_answer(info), render)
    }


def focus_context(session: ReviewSession) -> dict:
    """Where the facilitator is, and the pillars' clocks."""
    timers = facilitation.timers(session)
    focus = (
        structure.question_info(session.focus_question_id) if session.focus_question_id else None
    )
    return {
        "timers": timers,
        "focus": focus,
        "focus_timer": next((t for t in timers if focus and t.pillar_id == focus.pillar_id), None),
    }


def render_focus(session_uuid: str) -> dict[str, Swap]:
    session = _session(session_uuid)
    ctx = {"session": session, "q": None, "shared": True, **focus_context(session)}
    return {"focus-html": for_everyone(render_to_string(f"{QUESTION_TEMPLATE}#focus_status", ctx))}


def render_presence(session_uuid: str) -> dict[str, Swap]:
    session = _session(session_uuid)
    ctx = {"session": session, "q": None, "shared": True, "people": presence.presence(session)}
    return {"presence-html": for_everyone(render_to_string(f"{QUESTION_TEMPLATE}#people", ctx))}


def parking_items(session: ReviewSession) -> list:
    """The items parked and not dismissed, each with its `owner_mark`."""
    items = list(
        session.parking_lot.filter(dismissed_at__isnull=True).select_related(
            "created_by", "question"
        )
    )
    for item in items:
        setattr(item, "owner_mark", owner_mark(session, item.created_by_id))  # noqa: B010
    return items


def render_parking(session_uuid: str) -> dict[str, Swap]:
    session = _session(session_uuid)
    shared = {"session": session, "q": None, "shared": True, "parking": parking_items(session)}

    def render(access: SessionAccess) -> str:
        ctx = {**shared, "access": access}
        return render_to_string(f"{QUESTION_TEMPLATE}#parking_list", ctx)

    return {"parking-html": per_variant(session, lambda a: a.can_manage, render)}


def _question(data: EventData) -> str:
    return data.as_dict()["question"]


Renderer = Callable[[str, EventData], dict[str, Swap]]

# What each kind of event carries; kinds not named here go out without HTML.
RENDERERS: dict[EventKind, Renderer] = {
    EventKind.ANSWER: lambda channel, data: render_answer(channel, _question(data)),
    EventKind.NOTES: lambda channel, data: render_notes(channel, _question(data)),
    EventKind.FOCUS: lambda channel, data: render_focus(channel),
    EventKind.PRESENCE: lambda channel, data: render_presence(channel),
    EventKind.PARKING: lambda channel, data: render_parking(channel),
}


def register_renderer(kind: EventKind, render: Renderer) -> None:
    """What events of `kind` carry, from an app that builds on reviews (its ready()): the
    analysis page's fragments are the actions app's, and reviews does not import it."""
    RENDERERS[kind] = render


_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@contextmanager
def one_at_a_time(channel: str) -> Iterator[None]:
    """Renderings of one session, one at a time across every process (a PostgreSQL
    advisory lock held by a transaction); within this process with SQLite, which serves one
    process."""
    if connection.vendor == "postgresql":
        key = uuid.UUID(channel).int & ((1 << 63) - 1)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
            yield
        return
    with _locks_guard:
        lock = _locks.setdefault(channel, threading.Lock())
    with lock:
        yield


def _render_and_send(channel: str, kind: EventKind, data: EventData, send: events.Send) -> None:
    with one_at_a_time(channel):
        swaps: Mapping[str, Swap] = {}
        render = RENDERERS.get(kind)
        if render is not None:
            try:
                swaps = render(channel, data)
            except Exception:
                logger.warning("Could not render %s for session %s", kind, channel, exc_info=True)
        send(swaps)


def _in_thread(channel: str, kind: EventKind, data: EventData, send: events.Send) -> None:
    close_old_connections()
    try:
        _render_and_send(channel, kind, data, send)
    except Exception:
        logger.warning("Could not publish %s to session %s", kind, channel, exc_info=True)
    finally:
        connections.close_all()  # hand the connection back to the pool


_executor: ThreadPoolExecutor | None = None

# Who is here: the sessions for which this process has a presence event due.
_presence_due: set[str] = set()


def _presence_key(channel: str) -> str:
    return f"{events.PREFIX}{channel}:presence-due"


def _claim_presence(channel: str, seconds: float) -> bool:
    """Whether this process sends the session's next presence event: no other process has
    one due (a key in Redis; without Redis this process serves the session alone)."""
    backend = events.backend()
    if not isinstance(backend, events.RedisBackend):
        return True
    try:
        # Expires by itself should this process die before it sends.
        claimed = backend.client.set(
            _presence_key(channel), b"1", nx=True, px=int(seconds * 10_000)
        )
    except Exception:
        return True  # Redis is away: the event may not go out at all
    return bool(claimed)


def _send_presence(channel: str, kind: EventKind, data: EventData, send: events.Send) -> None:
    """The presence event due: released first, so that a change from now on makes another,
    then rendered, so that it shows every change made before."""
    with _locks_guard:
        _presence_due.discard(channel)
    backend = events.backend()
    if isinstance(backend, events.RedisBackend):
        with contextlib.suppress(Exception):
            backend.client.delete(_presence_key(channel))
    _in_thread(channel, kind, data, send)


def _coalesce_presence(
    channel: str, kind: EventKind, data: EventData, send: events.Send, seconds: float
) -> None:
    """One presence event for every change of who is here in the next `seconds`, across
    processes: a change while one is due is in it."""
    with _locks_guard:
        if channel in _presence_due:
            return
        _presence_due.add(channel)
    if not _claim_presence(channel, seconds):
        with _locks_guard:
            _presence_due.discard(channel)
        return
    _later(seconds, _send_presence, channel, kind, data, send)


def _later(seconds: float, function: Callable[..., None], *args: object) -> None:
    """Call `function(*args)` in a thread of its own after `seconds`."""
    timer = threading.Timer(seconds, function, args)
    timer.daemon = True
    timer.start()


def publish(channel: str, kind: EventKind, data: EventData, send: events.Send) -> None:
    """Render what an event changed and publish it with its HTML (reviews.events calls this
    once the change has committed; installed by the app's ready()). In LIVE_RENDER_THREADS
    threads of the process, so that the request that made the change does not wait for it;
    with 0, at once, in the caller's thread. Presence events are coalesced (one per session
    every LIVE_PRESENCE_SECONDS, from a timer's thread). Every event of a session, with HTML or not, goes
    out one at a time (one_at_a_time), so none overtakes a rendering that started before it."""
    global _executor
    if kind is EventKind.PRESENCE and settings.LIVE_PRESENCE_SECONDS > 0:
        _coalesce_presence(channel, kind, data, send, settings.LIVE_PRESENCE_SECONDS)
        return
    threads = settings.LIVE_RENDER_THREADS
    if not threads:
        _render_and_send(channel, kind, data, send)
        return
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="live-render")
    _executor.submit(_in_thread, channel, kind, data, send)
