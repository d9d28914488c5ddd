"""The analysis page live: what a change to a finding publishes, the HTML it carries for each
seat, the page's fragments and their re-fetch view, and that a rating costs the same whether
2 or 20 people watch the page."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from actions import findings, items
from actions.analysis_live import render_finding
from reviews import events, sessions
from reviews.eventkinds import (
    ANALYSIS_PAGE,
    KINDS,
    EventDataError,
    EventKind,
    FindingData,
    event_data,
    fragment_sse_names,
    fragment_swap_names,
)
from reviews.live_fragments import RENDERERS
from reviews.models import Participant
from reviews.views.events import sse_format
from tests.actions.analysis_helpers import analysed, join, operations_engineer
from tests.conftest import HTMX
from tests.live_page import LivePage, parse_sse, read_page
from tests.live_seats import seat, viewer_for

F = str(uuid.uuid4())


@pytest.fixture
def room(review, cast):
    """The review in analysis, two findings: the admin facilitates, bob owns the workload and
    takes part as its owner, omar is operations."""
    ops = operations_engineer(cast)
    join(review, cast.member, "workload_owner")
    join(review, ops, "operations")
    high, medium = analysed(review, cast)
    return SimpleNamespace(review=review, ops=ops, high=high, medium=medium)


PUBLISHED: list[events.Event] = []


@pytest.fixture(autouse=True)
def _published(monkeypatch):
    """Every event published, whole, as the streams get it."""
    backend = events.backend()
    publish = backend.publish

    def recording(channel, kind, data, swaps=None):
        ident = publish(channel, kind, data, swaps)
        PUBLISHED.append(events.Event(ident, kind, data, swaps or {}))
        return ident

    PUBLISHED.clear()
    monkeypatch.setattr(backend, "publish", recording)


def url(name, *args):
    return reverse(f"actions:{name}", args=args)


# --- The kind ------------------------------------------------------------------------------


def test_a_finding_event_carries_the_findings_uuid():
    assert event_data("finding", {"finding": F}) == FindingData(finding=F)
    with pytest.raises(EventDataError):
        FindingData(finding="42")
    with pytest.raises(EventDataError):
        event_data("finding", {"question": F})


def test_the_fragments_of_the_analysis_page_and_what_refreshes_them():
    assert fragment_sse_names(f"{ANALYSIS_PAGE}#finding", {"finding": F}) == [f"finding-{F}"]
    assert fragment_sse_names(f"{ANALYSIS_PAGE}#matrix", {}) == ["matrix"]
    assert fragment_sse_names(f"{ANALYSIS_PAGE}#summary", {}) == ["quadrants"]
    assert fragment_swap_names(f"{ANALYSIS_PAGE}#finding", {"finding": F}) == [f"finding-card-{F}"]
    assert fragment_swap_names(f"{ANALYSIS_PAGE}#matrix", {}) == ["matrix-html"]
    assert fragment_swap_names(f"{ANALYSIS_PAGE}#summary", {}) == ["quadrants-html"]
    assert EventKind.FINDING in RENDERERS  # registered by the actions app
    assert [sse.name for sse in KINDS[EventKind.FINDING].sse] == [
        "finding-{finding}",
        "matrix",
        "quadrants",
    ]


# --- What publishes it -----------------------------------------------------------------------


def published_findings() -> list[str]:
    return [e.data.as_dict()["finding"] for e in PUBLISHED if e.kind is EventKind.FINDING]


def test_each_change_to_a_finding_publishes_it_once_committed(
    room, cast, django_capture_on_commit_callbacks
):
    high, medium = room.high, room.medium
    changes = [
        lambda: findings.rating_set(finding=high, user=cast.admin, kind="impact", value=4),
        lambda: findings.rating_set(finding=high, user=cast.admin, kind="impact", value=None),
        lambda: findings.finding_move(finding=high, user=cast.admin, impact=1, effort=5),
        lambda: findings.finding_accept(
            finding=medium,
            user=cast.admin,
            reason="Known.",
            until=timezone.localdate() + timedelta(days=30),
        ),
        lambda: findings.finding_revoke_acceptance(finding=medium, user=cast.admin),
        lambda: items.action_create_from_practice(
            finding=high,
            choice=high.question.choices.filter(is_none_of_these=False).first(),
            user=cast.admin,
        ),
    ]
    expected = [high, high, high, medium, medium, high]
    for change, finding in zip(changes, expected, strict=True):
        PUBLISHED.clear()
        with django_capture_on_commit_callbacks(execute=True):
            change()
        assert published_findings() == [str(finding.uuid)]


def test_a_refused_change_publishes_nothing(room, cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Exception):  # noqa: B017
        findings.rating_set(finding=room.high, user=cast.admin, kind="impact", value=9)
    assert published_findings() == []


# --- The HTML it carries ---------------------------------------------------------------------


def card_for(swaps, finding, viewer: str) -> str | None:
    return swaps[f"finding-card-{finding.uuid}"].for_viewer(viewer)


def test_the_card_is_rendered_once_per_variant_of_what_a_seat_may_do(room, cast):
    findings.rating_set(finding=room.high, user=room.ops, kind="effort", value=2)
    swaps = render_finding(str(room.review.uuid), FindingData(finding=str(room.high.uuid)))
    facilitator = card_for(swaps, room.high, "admin/facilitator")
    owner = card_for(swaps, room.high, "member/workload_owner")
    ops = card_for(swaps, room.high, "member/operations")
    reader = card_for(swaps, room.high, "viewer/")
    assert "Place on the matrix" in facilitator and "Accept as a risk" in facilitator
    assert f"rate-impact-{room.high.uuid}" in facilitator
    assert f"rate-effort-{room.high.uuid}" in facilitator
    # The owner rates impact and may accept; operations rate effort, and may not.
    assert "Accept as a risk" in owner and f"rate-impact-{room.high.uuid}" in owner
    assert f"rate-effort-{room.high.uuid}" not in owner
    assert "Accept as a risk" not in ops and f"rate-effort-{room.high.uuid}" in ops
    assert "Your rating" not in reader and "Place on the matrix" not in reader
    # Everyone sees omar's rating; nobody's own is selected, and no form carries a token.
    for html in (facilitator, owner, ops, reader):
        assert "Omar Ops <strong>2</strong>" in html
    everything = "".join(swaps[f"finding-card-{room.high.uuid}"].html)
    assert "csrfmiddlewaretoken" not in everything
    assert not re.search(r'<option value="\d" selected>', everything.split("move-form")[0])
    # The matrix: movable for the facilitator only; the quadrants for everyone.
    assert 'data-movable="true"' in swaps["matrix-html"].for_viewer("admin/facilitator")
    assert 'data-movable="true"' not in swaps["matrix-html"].for_viewer("member/operations")
    assert "Thankless tasks" in swaps["quadrants-html"].for_viewer("member/operations")


def test_when_others_share_the_owners_seat_the_card_is_re_fetched_there(room, cast):
    """The owner may accept risks, others in the same seat may not: neither gets HTML for
    that seat, and each page re-fetches its own card."""
    Participant.objects.filter(session=room.review, user=cast.member).delete()
    swaps = render_finding(str(room.review.uuid), FindingData(finding=str(room.high.uuid)))
    assert card_for(swaps, room.high, "member/") is None  # bob and omar's peers
    assert card_for(swaps, room.high, "admin/facilitator") is not None
    event = events.Event(None, EventKind.FINDING, FindingData(finding=str(room.high.uuid)), swaps)
    names = [name for _, name, _ in parse_sse(sse_format(event, "member/"))]
    assert f"finding-{room.high.uuid}" in names  # the re-fetch
    assert "matrix-html" in names and "quadrants-html" in names


def test_a_finding_gone_sends_the_matrix_and_no_card(room, cast):
    swaps = render_finding(str(room.review.uuid), FindingData(finding=F))
    assert set(swaps) == {"matrix-html", "quadrants-html"}


# --- The page and its fragments --------------------------------------------------------------


def test_the_analysis_page_listens_for_its_findings(client, room, cast):
    client.force_login(cast.member)
    html = client.get(url("analysis", room.review.uuid)).content.decode()
    page = read_page(html)
    assert page.stream.startswith(reverse("reviews:session_events", args=[room.review.uuid]))
    for finding in (room.high, room.medium):
        assert f"finding-card-{finding.uuid}" in page.swaps
        (refetch,) = page.refetch[f"finding-{finding.uuid}"]
        assert refetch == url("analysis_fragment", room.review.uuid, "finding") + (
            f"?finding={finding.uuid}"
        )
    assert {"matrix-html", "quadrants-html"} <= page.swaps
    assert set(page.refetch) == {
        f"finding-{room.high.uuid}",
        f"finding-{room.medium.uuid}",
        "matrix",
        "quadrants",
    }


def test_the_page_before_the_analysis_has_no_stream(client, review, cast):
    client.force_login(cast.admin)
    html = client.get(url("analysis", review.uuid)).content.decode()
    assert "sse-connect" not in html


def test_the_card_fragment_shows_the_persons_own_rating(client, room, cast):
    findings.rating_set(finding=room.high, user=cast.member, kind="impact", value=4)
    findings.rating_set(finding=room.high, user=cast.admin, kind="impact", value=2)
    client.force_login(cast.member)
    fragment = url("analysis_fragment", room.review.uuid, "finding")
    html = client.get(f"{fragment}?finding={room.high.uuid}", **HTMX).content.decode()
    assert html.strip().startswith(f'<article class="card finding" id="finding-{room.high.uuid}"')
    select = re.search(rf'<select id="rate-impact-{room.high.uuid}".*?</select>', html, re.S)
    assert '<option value="4" selected>' in select.group(0)
    assert "csrfmiddlewaretoken" in html


def test_the_matrix_and_quadrant_fragments(client, room, cast):
    client.force_login(cast.admin)
    matrix = client.get(url("analysis_fragment", room.review.uuid, "matrix"), **HTMX)
    assert matrix.content.decode().strip().startswith('<div id="matrix"')
    summary = client.get(url("analysis_fragment", room.review.uuid, "summary"), **HTMX)
    assert 'id="quadrant-summary"' in summary.content.decode()


def test_unknown_fragments_and_findings_are_not_found(client, room, cast):
    client.force_login(cast.admin)
    fragment = url("analysis_fragment", room.review.uuid, "finding")
    assert client.get(url("analysis_fragment", room.review.uuid, "parking")).status_code == 404
    assert client.get(f"{fragment}?finding=nope").status_code == 404
    # A finding no longer open: its card comes back empty, and is removed from the page.
    gone = client.get(f"{fragment}?finding={F}")
    assert gone.status_code == 200 and gone.content == b""


def test_the_fragment_is_only_for_the_team(client, room, cast):
    client.force_login(cast.outsider)
    assert client.get(url("analysis_fragment", room.review.uuid, "matrix")).status_code == 404
    client.force_login(cast.admin)
    assert client.post(url("analysis_fragment", room.review.uuid, "matrix")).status_code == 405


# --- What one rating costs -----------------------------------------------------------------

MAX_QUERIES_PER_RATING = 32


class Watcher:
    def __init__(self, client: Client, page: LivePage, viewer: str):
        self.client = client
        self.page = page
        self.viewer = viewer
        self.requests = 0
        self.card = ""

    def receive(self, event: events.Event, finding) -> None:
        for _ident, name, data in parse_sse(sse_format(event, self.viewer)):
            if name == f"finding-card-{finding.uuid}" and name in self.page.swaps:
                self.card = data
            for address in self.page.requests_for(name, data):
                response = self.client.get(address, **HTMX)
                assert response.status_code == 200, address
                self.requests += 1
                if "/fragments/finding/" in address:
                    self.card = response.content.decode()


def watch(user, review) -> Watcher:
    client = Client()
    client.force_login(user)
    response = client.get(url("analysis", review.uuid))
    assert response.status_code == 200
    return Watcher(client, read_page(response.content.decode()), viewer_for(user, review))


def rate_and_count(review, cast, watchers: int, capture) -> tuple[int, int]:
    """(queries, requests) from one rating until every watcher shows it."""
    join(review, cast.member, "workload_owner")
    high, _ = analysed(review, cast)
    actor = watch(cast.admin, review)
    pages = []
    for n in range(watchers):
        user, _ = seat(review, f"watcher{watchers}-{n}", n, first_name="W", last_name=str(n))
        pages.append(watch(user, review))
    PUBLISHED.clear()
    with CaptureQueriesContext(connection) as queries:
        with capture(execute=True):
            response = actor.client.post(
                url("finding_rate", high.uuid), {"kind": "impact", "value": "4"}, **HTMX
            )
        assert response.status_code == 200
        (event,) = [e for e in PUBLISHED if e.kind is EventKind.FINDING]
        for watcher in [actor, *pages]:
            watcher.receive(event, high)
    for watcher in [actor, *pages]:
        assert "Alice Admin <strong>4</strong>" in watcher.card, watcher.viewer
    return len(queries), sum(w.requests for w in [actor, *pages])


def test_a_rating_costs_the_same_for_2_and_20_watchers(
    cast, lenses, django_capture_on_commit_callbacks
):
    few = rate_and_count(new_review(cast, "Two"), cast, 2, django_capture_on_commit_callbacks)
    many = rate_and_count(new_review(cast, "Twenty"), cast, 20, django_capture_on_commit_callbacks)
    assert few[0] <= MAX_QUERIES_PER_RATING
    assert many[0] == few[0]
    # No page re-fetches anything: each swaps in the HTML that came with the event (the
    # person who rated gets theirs in the response too).
    assert many[1] == few[1] == 0


def new_review(cast, title: str):
    return sessions.session_create(
        workload=cast.workload,
        user=cast.admin,
        title=title,
        kind="periodic",
        review_starts_at=timezone.now() + timedelta(days=10),
    )
