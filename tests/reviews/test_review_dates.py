"""A review started before its planned day starts when it really did: its date moves to the
real start (the plan is kept), so the PDF cover, the calendar feed and the dashboard show
what happened; a review moved past the review phase is never upcoming nor "next"."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from actions import calendar, dashboards, pdf
from reviews import sessions
from reviews.models import Participant, Phase, ReviewSession


def moved(review, user, *phases):
    for phase in phases:
        sessions.session_move(session=review, user=user, to_phase=phase)
    return ReviewSession.objects.get(pk=review.pk)


def test_starting_early_moves_the_date_to_the_real_start_and_keeps_the_plan(
    cast, review, time_machine
):
    planned = review.review_starts_at
    time_machine.move_to(timezone.now(), tick=False)
    started = moved(review, cast.admin, Phase.REVIEW)
    assert started.review_starts_at == timezone.now().replace(microsecond=0)
    assert started.review_planned_at == planned
    # Back to preparation and started again: the first plan stays the plan.
    again = moved(started, cast.admin, Phase.PREPARATION, Phase.REVIEW)
    assert again.review_planned_at == planned


def test_starting_on_the_planned_day_changes_no_date(cast, review, time_machine):
    planned = review.review_starts_at
    # Earlier on the planned day itself.
    time_machine.move_to(timezone.localtime(planned).replace(hour=0, minute=1), tick=False)
    started = moved(review, cast.admin, Phase.REVIEW)
    assert started.review_starts_at == planned
    assert started.review_planned_at is None


def test_the_session_page_says_it_started_early(client, cast, review):
    planned = timezone.localdate(review.review_starts_at)
    moved(review, cast.admin, Phase.REVIEW)
    client.force_login(cast.admin)
    page = client.get(reverse("reviews:session_detail", args=[review.uuid])).content.decode()
    assert f"(started early: planned for {planned:%-d %B})" in page


def test_the_pdf_cover_shows_the_day_it_really_started(cast, review):
    started = moved(review, cast.admin, Phase.REVIEW, Phase.ANALYSIS)
    assert pdf.plan_context(started)["review_date"] == timezone.localdate()


def session_dtstarts(client, user, review):
    cal = Calendar.from_ical(
        client.get(
            reverse("actions:calendar_feed", args=[calendar.calendar_feed_reset(user=user).token])
        ).content
    )
    return [
        e.decoded("dtstart")
        for e in cal.walk("VEVENT")
        if str(e["summary"]) == f"Well-Architected review: {review.title}"
    ]


def test_the_calendar_feed_shows_the_real_start(client, cast, review):
    started = moved(review, cast.admin, Phase.REVIEW)
    assert session_dtstarts(client, cast.admin, review) == [started.review_starts_at]


def test_a_review_past_the_review_phase_is_not_an_upcoming_event(client, cast, review):
    moved(review, cast.admin, Phase.REVIEW, Phase.ANALYSIS)
    # Its date set ahead again afterwards (a slip in the schedule): still not upcoming.
    ReviewSession.objects.filter(pk=review.pk).update(
        review_starts_at=timezone.now() + timedelta(days=3)
    )
    assert session_dtstarts(client, cast.admin, review) == []


@pytest.mark.parametrize("phase", [Phase.ANALYSIS, Phase.ACTION_PLAN, Phase.FOLLOW_UP])
def test_a_review_past_the_review_phase_is_never_the_next_review(cast, review, phase):
    Participant.objects.create(session=review, user=cast.member, role="operations")
    ReviewSession.objects.filter(pk=review.pk).update(phase=phase)
    (row,) = dashboards.dashboard_rows(cast.member)[0]
    assert not row.next_review_is_session
    workload = type(cast.workload).objects.with_review_dates().get(pk=cast.workload.pk)
    assert workload.next_review_at is None


def test_a_review_in_preparation_is_the_next_review(cast, review):
    (row,) = dashboards.dashboard_rows(cast.member)[0]
    assert row.next_review_is_session
    assert row.next_review == timezone.localdate(review.review_starts_at)
