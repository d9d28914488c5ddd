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
from reviews.views.events import MAX_EVENT_ID, parse_event_id


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0", 0),
        ("1", 1),
        ("42", 42),
        ("007", 7),
        (str(MAX_EVENT_ID), MAX_EVENT_ID),
        (str(MAX_EVENT_ID + 1), None),
        ("9" * 19, None),
        ("9" * 5000, None),
        ("1" * 20, None),
        ("", None),
        ("²", None),
        ("١٢٣", None),  # Arabic-Indic digits: isdigit() says yes
        ("１２", None),  # full-width digits
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("1 ", None),
        ("1.0", None),
        ("1e3", None),
        ("0x10", None),
        ("1_000", None),
        ("\x00", None),
    ],
)
def test_parse_event_id(raw, expected):
    assert parse_event_id(raw) == expected


@given(st.text())
@example("²")
@example("9" * 5000)
@example("٣" * 30)
def test_no_text_makes_the_parser_fail(raw):
    """Whatever the text, the parser answers (never raises), and only with an id we could
    have issued: 1 to 19 ASCII digits, at most MAX_EVENT_ID."""
    value = parse_event_id(raw)
    if re.fullmatch(r"[0-9]{1,19}", raw) and int(raw) <= MAX_EVENT_ID:
        assert value == int(raw)
    else:
        assert value is None


@given(st.integers(min_value=0, max_value=MAX_EVENT_ID))
def test_every_id_we_issue_reads_back(value):
    assert parse_event_id(str(value)) == value


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
    [b"\xb2", "²".encode(), b"9" * 5000, b"-1", b"1e9", str(MAX_EVENT_ID + 1).encode(), b""],
)
def test_an_unusable_last_event_id_is_no_error(stream, header):
    """Before, '²' (which str.isdigit accepts) and 5,000 nines made the stream a 500. Now they
    count as no id: the stream opens as for a first connection, with no refresh."""
    url, cookies = stream
    status, event = first_event(url, cookies, headers={"Last-Event-ID": header})
    assert (status, event) == (200, "presence")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("last", ["²", "9" * 5000, "%00", "1 2"])
def test_an_unusable_last_query_is_no_error(stream, last):
    url, cookies = stream
    assert first_event(url + "?last=" + last, cookies) == (200, "presence")


@pytest.mark.django_db(transaction=True)
def test_a_usable_last_event_id_is_used(stream):
    """An id from before a restart (beyond what this session has issued) asks the page to
    refresh what it shows: proof that the id was read."""
    url, cookies = stream
    assert first_event(url, cookies, headers={"Last-Event-ID": "12"}) == (200, "refresh")
    assert first_event(url + f"?last={MAX_EVENT_ID}", cookies) == (200, "refresh")
