"""A review session as an iCalendar event, and the invitation calendar attached to emails."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar

from reviews import ical
from reviews.models import Participant, ReviewSession


def test_the_event_has_a_stable_uid_the_review_time_and_duration(review):
    first, again = ical.session_event(review), ical.session_event(review)
    assert str(first["uid"]) == str(again["uid"]) == f"session-{review.uuid}@127.0.0.1"
    assert first.decoded("dtstart") == review.review_starts_at.replace(microsecond=0)
    assert first.decoded("duration") == timedelta(minutes=300)
    assert str(first["summary"]) == "Well-Architected review: Checkout review"


def test_the_description_links_to_the_session_page(review):
    event = ical.session_event(review)
    link = f"http://127.0.0.1:8000/sessions/{review.uuid}/"
    assert link in str(event["description"])
    assert "Periodic review" in str(event["description"]) and "Checkout" in str(
        event["description"]
    )
    assert str(event["url"]) == link


def test_the_facilitator_is_the_organizer(review, cast):
    organizer = ical.session_event(review)["organizer"]
    assert str(organizer) == "mailto:alice@example.com"
    assert organizer.params["CN"] == "Alice Admin"


def test_without_a_facilitator_the_app_organizes(review):
    Participant.objects.filter(session=review).delete()
    organizer = ical.session_event(review)["organizer"]
    assert str(organizer) == "mailto:pillarwise@localhost"
    assert organizer.params["CN"] == "Pillarwise"


def test_a_session_without_a_date_has_no_event(review):
    review.review_starts_at = None
    with pytest.raises(ValueError, match="has no review date"):
        ical.session_event(review)


def test_the_invitation_is_a_request_for_the_attendee(review):
    raw = ical.session_invitation_ics(review, attendee_email="olga@example.com")
    calendar = Calendar.from_ical(raw)
    assert str(calendar["method"]) == "REQUEST"
    assert str(calendar["version"]) == "2.0"
    [event] = calendar.walk("VEVENT")
    assert str(event["uid"]) == str(ical.session_event(review)["uid"])
    attendee = event["attendee"]
    assert str(attendee) == "mailto:olga@example.com"
    assert attendee.params["RSVP"] == "TRUE"
    assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
    assert event.decoded("dtstart") == review.review_starts_at.replace(microsecond=0)


def test_a_moved_review_keeps_its_uid(review):
    before = ical.session_event(review)
    ReviewSession.objects.filter(pk=review.pk).update(
        review_starts_at=review.review_starts_at + timedelta(days=3)
    )
    review.refresh_from_db()
    after = ical.session_event(review)
    assert str(after["uid"]) == str(before["uid"])
    assert after.decoded("dtstart") - before.decoded("dtstart") == timedelta(days=3)


def test_prefetched_participants_are_used_for_the_organizer(review, django_assert_num_queries):
    session = (
        ReviewSession.objects.select_related("workload")
        .prefetch_related("participants__user")
        .get(pk=review.pk)
    )
    with django_assert_num_queries(0):
        ical.session_event(session)
