"""The last event id a reconnecting page sends (Last-Event-ID, or ?last=): parsed strictly, so
that no header makes the event stream fail; an id we could not have issued counts as none."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import example, given
from hypothesis import strategies as st

from reviews import sessions
from reviews.eventkinds import EventId, parse_event_id


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0-0", EventId("0", 0)),
        ("k3x9-42", EventId("k3x9", 42)),
        ("a-007", EventId("a", 7)),
        ("abcdefghij012345-" + "9" * 15, EventId("abcdefghij012345", 10**15 - 1)),
        ("42", None),  # a bare number: an id from before epochs
        ("a-" + "9" * 16, None),
        ("a-" + "9" * 5000, None),
        ("a" * 17 + "-1", None),
        ("", None),
        ("a-²", None),
        ("a-١٢٣", None),  # Arabic-Indic digits: isdigit() says yes
        ("a-１２", None),  # full-width digits
        ("A-1", None),
        ("a--1", None),
        ("a-+1", None),
        (" a-1", None),
        ("a-1 ", None),
        ("a-1.0", None),
        ("a-1e3", None),
        ("a-0x10", None),
        ("a-1_000", None),
        ("\x00", None),
    ],
)
def test_parse_event_id(raw, expected):
    assert parse_event_id(raw) == expected


@given(st.text())
@example("a-²")
@example("a-" + "9" * 5000)
@example("a-" + "٣" * 30)
def test_no_text_makes_the_parser_fail(raw):
    """Whatever the text, the parser answers (never raises), and only with an id we could
    have issued: an epoch of 1 to 16 lowercase ASCII letters or digits, a dash, 1 to 15 ASCII
    digits."""
    value = parse_event_id(raw)
    if re.fullmatch(r"[0-9a-z]{1,16}-[0-9]{1,15}", raw):
        assert value is not None and str(value) == f"{value.epoch}-{int(raw.split('-')[1])}"
    else:
        assert value is None


@given(st.from_regex(r"[0-9a-z]{1,16}", fullmatch=True), st.integers(0, 10**15 - 1))
def test_every_id_we_issue_reads_back(epoch, number):
    assert parse_event_id(str(EventId(epoch, number))) == EventId(epoch, number)


# --- The stream, over HTTP --------------------------------------------------------------------


def first_event(url: str, cookies: dict[str, str], **request: Any) -> tuple[int, str]:
    """The stream's status and the name of its first event (after the retry and comment)."""
    with (
        httpx.Client(timeout=httpx.Timeout(10, read=5), cookies=cookies) as http,
        http.stream("GET", url, **request) as response,
    ):
        if response.status_code != 200:
            return response.status_code, ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                return 200, line.removeprefix("event: ")
    raise AssertionError("the stream ended without an event")


@pytest.fixture
def stream(asgi_server, cast, lenses) -> tuple[str, dict[str, str]]:
    review = sessions.session_create(
        workload=cast.workload, user=cast.admin, title="R", kind="periodic",
        review_starts_at=timezone.now() + timedelta(days=1),
    )  # fmt: skip
    client = Client()
    client.force_login(cast.admin)
    url = asgi_server + reverse("reviews:session_events", args=[review.uuid])
    return url, {"sessionid": client.cookies["sessionid"].value}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "header",
    [b"\xb2", "a-²".encode(), b"a-" + b"9" * 5000, b"-1", b"a-1e9", b"9" * 30],
)
def test_an_unusable_last_event_id_is_no_error(stream, header):
    """Before, '²' (which str.isdigit accepts) and 5,000 nines made the stream a 500. Now an
    id we could not have issued opens the stream with a refresh: the page may have missed
    something, so it reloads what it shows."""
    url, cookies = stream
    status, event = first_event(url, cookies, headers={"Last-Event-ID": header})
    assert (status, event) == (200, "refresh")


@pytest.mark.django_db(transaction=True)
def test_no_last_event_id_is_a_first_connection(stream):
    url, cookies = stream
    status, event = first_event(url, cookies, headers={"Last-Event-ID": b""})
    assert status == 200 and event != "refresh"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("last", ["²", "9" * 5000, "%00", "1 2"])
def test_an_unusable_last_query_is_no_error(stream, last):
    url, cookies = stream
    assert first_event(url + "?last=" + last, cookies) == (200, "refresh")


@pytest.mark.django_db(transaction=True)
def test_a_usable_last_event_id_is_used(stream):
    """An id from before a restart (beyond what this session has issued) asks the page to
    refresh what it shows: proof that the id was read."""
    url, cookies = stream
    assert first_event(url, cookies, headers={"Last-Event-ID": "zz-12"}) == (200, "refresh")
    assert first_event(url + "?last=zz-12", cookies) == (200, "refresh")
