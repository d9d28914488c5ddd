"""A change costs the same whatever the number of people watching.

Each watcher is a live page: its fragments and what they do on each event are read from the
page itself (tests.live_page), its events are what its stream writes (the view's own
formatting, for its viewer), and every request its page would make on them is made. Every
database query is counted, from the toggle to the last watcher up to date. No timing here:
the benchmark (tests/bench/live.py) measures time."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reviews import events, live_fragments, presence, sessions
from reviews.models import Membership, Participant, ParticipantRole
from reviews.views.events import sse_format
from tests.conftest import make_user
from tests.live_page import LivePage, parse_sse, read_page
from tests.live_seats import SEATS, seat, viewer_for

HX = {"HTTP_HX_REQUEST": "true"}
CHOICE = "ops_priorities_ext_cust_needs"
MAX_QUERIES_PER_TOGGLE = 30


class Watcher:
    def __init__(self, client: Client, page: LivePage, viewer: str):
        self.client = client
        self.page = page
        self.viewer = viewer
        self.requests = 0
        self.html: dict[str, str] = {}  # what the page shows now, by fragment (see shown)
        self.url = ""  # the page's address
        self.swapped: set[str] = set()  # the fragments whose HTML came with an event
        self.user = None  # whose page it is, where a test needs it

    @property
    def choices_html(self) -> str:
        return self.html.get("choices", "")

    def receive(self, event: events.Event) -> None:
        """What the page does with an event, as its stream writes it for this viewer."""
        for _ident, name, data in parse_sse(sse_format(event, self.viewer)):
            if name in self.page.swaps:
                self.html[shown(name)] = data
                self.swapped.add(self.page.swap_fragment.get(name, ""))
            for url in self.page.requests_for(name, data):
                self.get(url)

    def get(self, url: str) -> None:
        response = self.client.get(url, **HX)
        assert response.status_code == 200, url
        self.requests += 1
        self.html[url.rstrip("/").rsplit("/", 1)[-1]] = response.content.decode()


def shown(swap_name: str) -> str:
    """The fragment whose HTML an event's swap replaces ("choices-<uuid>": "choices")."""
    for prefix, fragment in [
        ("choices-", "choices"),
        ("notes-", "notes"),
        ("nav-", "nav"),
        ("focus-", "facilitator"),
        ("presence-", "presence"),
        ("parking-", "parking"),
    ]:
        if swap_name.startswith(prefix):
            return fragment
    raise AssertionError(f"No fragment for {swap_name}")


def open_page(user, review, question_uuid) -> Watcher:
    client = Client()
    client.force_login(user)
    url = reverse("reviews:question", args=[review.uuid, question_uuid])
    response = client.get(url)
    assert response.status_code == 200
    # The page holds the session's event stream (what is rendered is what someone watches).
    presence.presence_connect(session=review, user=user)
    watcher = Watcher(client, read_page(response.content.decode()), viewer_for(user, review))
    watcher.url = url
    return watcher


def new_review(cast, title: str):
    review = sessions.session_create(
        workload=cast.workload,
        user=cast.admin,
        title=title,
        kind="periodic",
        review_starts_at=timezone.now() + timedelta(days=10),
    )
    Participant.objects.create(session=review, user=cast.member, role=ParticipantRole.OPERATIONS)
    return review


PUBLISHED: dict[str, list[events.Event]] = {}


@pytest.fixture(autouse=True)
def _published(monkeypatch):
    """Every event published, whole, as the streams get it (the history keeps no HTML)."""
    backend = events.backend()
    publish = backend.publish

    def recording(channel, kind, data, swaps=None):
        ident = publish(channel, kind, data, swaps)
        PUBLISHED.setdefault(channel, []).append(events.Event(ident, kind, data, swaps or {}))
        return ident

    PUBLISHED.clear()
    monkeypatch.setattr(backend, "publish", recording)


def toggle(actor: Watcher, review, question, capture) -> events.Event:
    """The actor ticks CHOICE; the one event it published."""
    channel = str(review.uuid)
    PUBLISHED.pop(channel, None)
    url = reverse("reviews:choice_toggle", args=[review.uuid, question, CHOICE])
    with capture(execute=True):
        response = actor.client.post(url, {"select": "1"}, **HX)
    assert response.status_code == 204
    published = PUBLISHED.get(channel, [])
    assert [event.kind for event in published] == [events.EventKind.ANSWER]
    return published[0]


def toggle_and_count(cast, watchers: int, capture) -> tuple[int, int]:
    """(queries, requests) from one toggle until every watcher is up to date."""
    review = new_review(cast, f"Review with {watchers} watching")
    question = review.answers.get(question__ident="priorities").question.uuid
    actor = open_page(cast.member, review, question)
    pages = [
        open_page(seat(review, f"watcher{watchers}-{n}", n)[0], review, question)
        for n in range(watchers)
    ]
    everyone = [actor, *pages]
    with CaptureQueriesContext(connection) as queries:
        event = toggle(actor, review, question, capture)
        for watcher in everyone:
            watcher.receive(event)
        # The person's own page: the box carries data-refresh-late="choices", and the
        # change's event brought that fragment's HTML.
        for url in actor.page.after_own_change("choices", actor.swapped):
            actor.get(url)
    for watcher in everyone:
        assert f'value="{CHOICE}" checked' in watcher.choices_html, watcher.viewer
    return len(queries), sum(w.requests for w in everyone)


# The other changes a live page shows: (what the person does, the fragment their page
# re-fetches after it (data-refresh), the fragment every other page shows it in, and what
# that fragment says then).
def _write_notes(actor, review, question):
    url = reverse("reviews:notes_save", args=[review.uuid, question])
    return actor.client.post(url, {"text": "Runbooks *live* in the wiki", "revision": "0"}, **HX)


def _set_focus(actor, review, question):
    url = reverse("reviews:focus", args=[review.uuid])
    return actor.client.post(url, {"question": str(question)}, **HX)


def _park(actor, review, question):
    url = reverse("reviews:parking_add", args=[review.uuid])
    return actor.client.post(
        url, {"question": str(question), "text": "Who pays for the CDN?"}, **HX
    )


def _arrive(actor, review, question):
    """Someone's live page, open already, opens its stream: who is here changes."""
    presence.presence_connect(session=review, user=actor.user)


CHANGES = {
    "notes": (_write_notes, None, "notes", "Runbooks <em>live</em> in the wiki"),
    # Each page marks its own question in what everyone gets (live.js).
    "focus": (_set_focus, "facilitator", "facilitator", 'data-focus="{question}"'),
    "parking": (_park, "parking", "parking", "Who pays for the CDN?"),
    "presence": (_arrive, None, "presence", 'data-question="{question}">on “'),
}


def change_and_count(cast, watchers: int, capture, change: str) -> tuple[int, int]:
    """(queries, requests) from one change until every watcher is up to date."""
    act, own_refresh, fragment, says = CHANGES[change]
    review = new_review(cast, f"{change} with {watchers} watching")
    question = review.answers.get(question__ident="priorities").question.uuid
    pages = [
        open_page(seat(review, f"watcher{change}{watchers}-{n}", n)[0], review, question)
        for n in range(watchers)
    ]
    if change == "presence":
        late = make_user(f"late{watchers}", first_name="Late", last_name="Larry")
        Membership.objects.create(team=cast.team, user=late, role=Membership.Role.MEMBER)
        Participant.objects.create(session=review, user=late, role=ParticipantRole.SECURITY)
        actor = open_page(late, review, question)
        actor.user = late
    elif change == "focus":
        actor = open_page(cast.admin, review, question)
    else:
        actor = open_page(cast.member, review, question)
    everyone = [actor, *pages]
    channel = str(review.uuid)
    PUBLISHED.pop(channel, None)
    with CaptureQueriesContext(connection) as queries:
        with capture(execute=True):
            response = act(actor, review, question)
        assert response is None or response.status_code in (200, 204), response.content
        if own_refresh:
            for url in actor.page.after_own_change(own_refresh):
                actor.get(url)
        published = PUBLISHED.get(channel, [])
        assert published
        for event in published:
            for watcher in everyone:
                watcher.receive(event)
    says = says.format(question=question)
    for watcher in pages:
        assert says in watcher.html.get(fragment, ""), (change, watcher.viewer)
    return len(queries), sum(w.requests for w in everyone)


@pytest.mark.parametrize("change", CHANGES)
def test_each_change_costs_the_same_for_2_and_20_watchers(
    cast, lenses, django_capture_on_commit_callbacks, change
):
    few = change_and_count(cast, 2, django_capture_on_commit_callbacks, change)
    many = change_and_count(cast, 20, django_capture_on_commit_callbacks, change)
    assert few[0] <= MAX_QUERIES_PER_TOGGLE, few
    assert many[0] == few[0]
    # Nobody but the person who changed it re-fetches anything (their own page, once at
    # most): the others swap in the HTML that came with the event.
    assert many[1] == few[1] <= 1


def test_a_toggle_costs_the_same_for_2_and_20_watchers(
    cast, lenses, django_capture_on_commit_callbacks
):
    few = toggle_and_count(cast, 2, django_capture_on_commit_callbacks)
    many = toggle_and_count(cast, 20, django_capture_on_commit_callbacks)
    assert few[0] <= MAX_QUERIES_PER_TOGGLE
    assert many[0] == few[0]
    # Nobody re-fetches: every page, the changer's own included, swaps in the HTML that
    # came with the event.
    assert many[1] == few[1] == 0


def test_watchers_in_every_seat_see_what_they_may_do(
    cast, lenses, django_capture_on_commit_callbacks
):
    """One rendering per variant: an answering participant gets live boxes, a reader
    disabled ones and the reason why; the facilitator can open a blind round."""
    review = new_review(cast, "Seats")
    question = review.answers.get(question__ident="priorities").question.uuid
    actor = open_page(cast.member, review, question)
    for n in range(len(SEATS)):
        open_page(seat(review, f"watcherseat{n}", n)[0], review, question)
    reader = make_user("admin-reading")
    Membership.objects.create(team=cast.team, user=reader, role=Membership.Role.ADMIN)
    open_page(reader, review, question)
    # A note taker whose page is closed: nothing is rendered for that seat.
    absent = make_user("absent-note-taker")
    Membership.objects.create(team=cast.team, user=absent, role=Membership.Role.MEMBER)
    Participant.objects.create(session=review, user=absent, role=ParticipantRole.NOTE_TAKER)
    facilitator = open_page(cast.admin, review, question)
    event = toggle(actor, review, question, django_capture_on_commit_callbacks)
    swap = event.swaps[f"choices-{question}"]
    seats = ["member/", "admin/", *(f"member/{role}" for role in ParticipantRole.values)]
    html = {viewer: swap.for_viewer(viewer) for viewer in [*seats, "admin/facilitator"]}
    # Rendered for the seats of those watching only: a seat whose page is closed would
    # re-fetch once it opens.
    assert html.pop("member/note_taker") is None
    assert html.pop("member/workload_owner") is None
    assert html.pop("member/facilitator") is None
    # Reading (a member, an admin who may run it), answering, facilitating, finance (the cost
    # pillar only: this question is not one), observing.
    assert len(swap.html) == 6
    for viewer in html:
        assert f'value="{CHOICE}" checked' in html[viewer]
    assert f'value="{CHOICE}" checked disabled' not in html["member/operations"]
    assert html["member/operations"] == html["member/security"]
    assert f'value="{CHOICE}" checked disabled' in html["member/finance"]
    assert "As finance you answer the cost optimisation questions only" in html["member/finance"]
    assert "As observer you follow the answers" in html["member/observer"]
    assert "You are not a participant of this review" in html["member/"]
    assert "Answer blind" in html["admin/facilitator"]
    assert "Answer blind" not in html["member/operations"]
    assert "csrfmiddlewaretoken" not in "".join(html.values())
    facilitator.receive(event)
    assert "Answer blind" in facilitator.choices_html
    assert facilitator.requests == 0


@pytest.mark.django_db(transaction=True)
def test_a_change_is_rendered_and_published_after_the_response(cast, lenses, settings):
    """With LIVE_RENDER_THREADS, the toggle answers without waiting for the rendering: its
    event follows from a thread of the process, with its HTML."""
    settings.LIVE_RENDER_THREADS = 1
    review = new_review(cast, "Threads")
    question = review.answers.get(question__ident="priorities").question.uuid
    actor = open_page(cast.member, review, question)
    channel = str(review.uuid)
    PUBLISHED.pop(channel, None)
    url = reverse("reviews:choice_toggle", args=[review.uuid, question, CHOICE])
    assert actor.client.post(url, {"select": "1"}, **HX).status_code == 204
    deadline = time.monotonic() + 10

    def answers() -> list[events.Event]:
        return [e for e in PUBLISHED.get(channel, []) if e.kind is events.EventKind.ANSWER]

    while not answers() and time.monotonic() < deadline:
        time.sleep(0.02)
    (event,) = answers()
    assert f'value="{CHOICE}" checked' in event.swaps[f"choices-{question}"].for_viewer(
        "member/operations"
    )
    assert "nav-html" in event.swaps


AVATAR = r"<span[^>]*>[^<]*</span>\s*"


@pytest.mark.django_db(transaction=True)
def test_a_room_filling_up_makes_one_presence_event(cast, lenses, settings, monkeypatch):
    """Who is here changes with every page that opens: the changes within
    LIVE_PRESENCE_SECONDS go out as one event, rendered when it goes, so that it shows them
    all (and N people arriving do not make N events for N pages each)."""
    settings.LIVE_PRESENCE_SECONDS = 1.0
    due = []
    monkeypatch.setattr(live_fragments, "_later", lambda seconds, *call: due.append(call))
    review = new_review(cast, "Filling up")
    people = [make_user(f"arriving{n}") for n in range(12)]
    for person in people:
        Participant.objects.create(session=review, user=person, role=ParticipantRole.SECURITY)
    channel = str(review.uuid)
    PUBLISHED.pop(channel, None)
    for person in people:
        presence.presence_connect(session=review, user=person)
    assert len(due) == 1
    assert PUBLISHED.get(channel) is None
    function, *args = due.pop()
    function(*args)
    (event,) = PUBLISHED.pop(channel)
    assert event.kind is events.EventKind.PRESENCE
    html = event.swaps["presence-html"].for_viewer("member/operations")
    for person in people:
        name = person.get_full_name() or person.username
        assert re.search(rf'<li class="online">\s*{AVATAR}<span><span class="name">{name}<', html)
    # The next change makes the next event.
    presence.presence_disconnect(session=review, user=people[0])
    assert len(due) == 1
    function, *args = due.pop()
    function(*args)
    (event,) = PUBLISHED.pop(channel)
    html = event.swaps["presence-html"].for_viewer("member/")
    gone = people[0].username
    assert re.search(rf'<li class="offline">\s*{AVATAR}<span><span class="name">{gone}<', html)


def test_the_parking_lot_shows_each_person_the_remove_buttons_of_their_items(
    cast, lenses, django_capture_on_commit_callbacks
):
    """One rendering for those who may remove any item, one for the others: there every
    remove button is hidden, marked with who parked it, and each page shows its own
    (live.js, from the page's data-me)."""
    review = new_review(cast, "Parking")
    question = review.answers.get(question__ident="priorities").question.uuid
    member = open_page(cast.member, review, question)
    facilitator = open_page(cast.admin, review, question)
    channel = str(review.uuid)
    for actor in (member, facilitator):
        PUBLISHED.pop(channel, None)
        with django_capture_on_commit_callbacks(execute=True):
            assert _park(actor, review, question).status_code == 204
    (event,) = PUBLISHED[channel]
    swap = event.swaps["parking-html"]
    assert len(swap.html) == 2
    reading = swap.for_viewer("member/operations")
    running = swap.for_viewer("admin/facilitator")
    assert reading.count(" hidden>") == reading.count("data-owner=") == 2
    assert "data-owner=" not in running and " hidden>" not in running
    assert running.count(">remove</button>") == 2
    me = re.search(r'data-me="([0-9a-f]+)"', member.client.get(member.url).content.decode())[1]
    assert len(re.findall(rf'data-owner="{me}"', reading)) == 1
    assert "csrfmiddlewaretoken" not in reading + running


@pytest.mark.django_db(transaction=True)
def test_a_change_sends_only_what_it_changed_in_the_outline(
    cast, lenses, django_capture_on_commit_callbacks
):
    """The outline (every question of the review) is not sent again on each change: the
    event carries the question's risk, its pillar's counts and the total, each as the whole
    outline shows them now, swapped in by its id."""
    review = new_review(cast, "Outline")
    question = review.answers.get(question__ident="priorities").question.uuid
    actor = open_page(cast.member, review, question)
    before = actor.client.get(
        reverse("reviews:question_fragment", args=[review.uuid, question, "nav"]), **HX
    ).content.decode()
    event = toggle(actor, review, question, django_capture_on_commit_callbacks)
    change = event.swaps["nav-html"].for_viewer("member/operations")
    after = actor.client.get(
        reverse("reviews:question_fragment", args=[review.uuid, question, "nav"]), **HX
    ).content.decode()
    parts = re.findall(r'<(?:div|span) id="([^"]+)"[^>]* hx-swap-oob="true"', change)
    pillar = review.answers.get(question__ident="priorities").question.pillar_id
    assert parts == [
        "nav-total",
        f"nav-pillar-{pillar}",
        f"nav-dot-{question}",
        f"nav-risk-{question}",
    ]
    for part in re.split(r"(?=<(?:div|span) id=\"nav-)", change.strip())[1:]:
        shown = part.strip().replace(' hx-swap-oob="true"', "")
        assert shown in after and shown not in before, shown
    assert "1 of " in change and "risk-UNANSWERED" not in change
    assert len(change) < 2000 < len(after) / 5
