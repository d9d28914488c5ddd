"""The private calendar feed: every dated step of the user's reviews as events (sessions,
preparation start, analysis and plan due, follow-ups, next review, their open actions' due
dates), reached by a secret token that can be reset."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from actions import calendar
from actions.models import CalendarFeed
from reviews import ical
from reviews.models import Participant, ReviewSession
from tests.actions.cadence_helpers import make_action, make_session

pytestmark = pytest.mark.usefixtures("lenses")


@pytest.fixture
def feed(cast) -> CalendarFeed:
    return calendar.calendar_feed_reset(user=cast.member)


def fetch(client, token: str):
    return client.get(reverse("actions:calendar_feed", args=[token]))


def parse(response) -> Calendar:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def test_the_feed_holds_my_sessions_and_my_open_actions(client, cast, feed):
    mine = make_session(cast, starts=timezone.now() + timedelta(days=5))  # bob takes part
    not_mine = ReviewSession.objects.create(
        workload=cast.workload, title="Without bob", review_starts_at=timezone.now()
    )
    Participant.objects.create(session=not_mine, user=cast.admin, role="facilitator")
    soon = timezone.localdate() + timedelta(days=3)
    open_action = make_action(mine, cast.member, title="Enable multi-AZ", due_on=soon, percent=40)
    make_action(mine, cast.member, title="Blocked one", due_on=soon, status="blocked")
    make_action(mine, cast.member, title="Done already", due_on=soon, status="done")
    make_action(mine, cast.member, title="No due date")
    make_action(mine, cast.admin, title="Alice's", due_on=soon)

    cal = parse(fetch(client, feed.token))  # no sign-in: the token is the key

    events = {str(e["uid"]).split("@")[0]: e for e in cal.walk("VEVENT")}
    event = events[f"session-{mine.uuid}"]
    assert event.decoded("dtstart") == mine.review_starts_at.replace(microsecond=0)
    assert str(event["organizer"]) == "mailto:alice@example.com"
    assert cal.walk("VTODO") == []
    actions = {
        str(e["summary"]): e for e in cal.walk("VEVENT") if str(e["uid"]).startswith("action-")
    }
    assert set(actions) == {"Due: Enable multi-AZ (Checkout)", "Due: Blocked one (Checkout)"}
    due = actions["Due: Enable multi-AZ (Checkout)"]
    assert str(due["uid"]) == f"action-{open_action.uuid}@127.0.0.1"
    assert due.decoded("dtstart") == soon and due.decoded("dtend") == soon + timedelta(days=1)
    assert "Action of Checkout: open, 40% done." in str(due["description"])
    assert f"http://127.0.0.1:8000/actions/{open_action.uuid}/" in str(due["description"])
    assert "Blocked" in actions["Due: Blocked one (Checkout)"]["categories"].to_ical().decode()
    assert b"X-PUBLISHED-TTL:PT1H" in cal.to_ical()
    assert str(cal["x-wr-calname"]) == "Pillarwise"


def test_an_empty_feed_is_still_a_valid_calendar(client, cast, feed):
    cal = parse(fetch(client, feed.token))
    assert cal.walk("VEVENT") == [] and cal.walk("VTODO") == []


def test_sessions_long_past_are_left_out(client, cast, feed):
    make_session(cast, starts=timezone.now() - timedelta(days=400))
    assert parse(fetch(client, feed.token)).walk("VEVENT") == []


def test_a_wrong_token_is_404(client, cast, feed):
    assert (
        fetch(client, feed.token[:-1] + ("A" if feed.token[-1] != "A" else "B")).status_code == 404
    )
    assert fetch(client, "x" * 80).status_code == 404


def test_a_reset_token_is_404_and_the_new_one_works(client, cast, feed):
    old = feed.token
    client.force_login(cast.member)
    response = client.post(reverse("actions:calendar_reset"), follow=True)
    assert "the old one no longer works" in response.content.decode()
    feed.refresh_from_db()
    assert feed.token != old and feed.reset_at is not None
    client.logout()
    assert fetch(client, old).status_code == 404
    assert fetch(client, feed.token).status_code == 200


def test_an_inactive_users_feed_is_404(client, cast, feed):
    cast.member.is_active = False
    cast.member.save(update_fields=["is_active"])
    assert fetch(client, feed.token).status_code == 404


def test_the_first_link_is_created_on_request_and_shown_on_the_preferences(client, cast):
    client.force_login(cast.member)
    assert not CalendarFeed.objects.exists()
    response = client.post(reverse("actions:calendar_reset"), follow=True)
    feed = CalendarFeed.objects.get(user=cast.member)
    body = response.content.decode()
    assert "Your calendar link is ready" in body
    assert f"http://127.0.0.1:8000/calendar/{feed.token}.ics" in body
    assert "Reset the link" in body


def test_wrong_methods(client, cast, feed):
    client.force_login(cast.member)
    assert client.get(reverse("actions:calendar_reset")).status_code == 405
    assert client.post(reverse("actions:calendar_feed", args=[feed.token])).status_code == 405


def test_tokens_are_long_and_unguessable(cast):
    tokens = {calendar.calendar_feed_reset(user=cast.member).token for _ in range(5)}
    assert len(tokens) == 5 and all(len(t) >= 40 for t in tokens)


def test_the_feed_query_count_does_not_grow_with_its_size(
    client, cast, feed, django_assert_max_num_queries
):
    for n in range(8):
        session = make_session(cast, starts=timezone.now() + timedelta(days=n + 1), title=f"R{n}")
        for m in range(3):
            make_action(session, cast.member, title=f"A{n}.{m}", due_on=timezone.localdate())
    with django_assert_max_num_queries(7):
        cal = parse(fetch(client, feed.token))
    # 8 sessions with 3 dated steps each, 24 actions.
    assert len(cal.walk("VEVENT")) == 8 * 4 + 24


def test_session_events_in_the_feed_match_the_invitation(client, cast, feed):
    session = make_session(cast, starts=timezone.now() + timedelta(days=5))
    [event] = [
        e
        for e in parse(fetch(client, feed.token)).walk("VEVENT")
        if e.get("dtstart").params.get("VALUE") != "DATE"
    ]
    invitation = Calendar.from_ical(
        ical.session_invitation_ics(session, attendee_email="bob@example.com")
    )
    [invited] = invitation.walk("VEVENT")
    assert str(event["uid"]) == str(invited["uid"])
    assert event.decoded("dtstart") == invited.decoded("dtstart")


def test_the_feed_holds_every_dated_step_as_all_day_events(client, cast, feed):
    from datetime import date

    from actions.models import FollowUp

    session = make_session(cast, starts=timezone.now() + timedelta(days=20))
    FollowUp.objects.create(session=session, number=1, due_on=date(2099, 5, 6))
    cast.workload.next_review_due_on = date(2099, 9, 15)
    cast.workload.next_review_kind = "critical_quarterly"
    cast.workload.save(update_fields=["next_review_due_on", "next_review_kind"])
    cal = parse(fetch(client, feed.token))
    days = {
        str(e["summary"]): e.decoded("dtstart")
        for e in cal.walk("VEVENT")
        if e.get("dtstart").params.get("VALUE") == "DATE"
    }
    assert days == {
        "Preparation starts: Checkout review": session.preparation_starts_on,
        "Analysis due: Checkout review": session.analysis_due_on,
        "Action plan due: Checkout review": session.action_plan_due_on,
        "Follow-up 1: Checkout": date(2099, 5, 6),
        "Next review due: Checkout": date(2099, 9, 15),
    }
    [next_review] = [e for e in cal.walk("VEVENT") if "next-review" in str(e["uid"])]
    assert "Critical workload, quarterly" in str(next_review["description"])
