"""Attendance comes from who was on the live page during the review phase; the facilitator
can correct it, and the plan's PDF lists what results."""

from __future__ import annotations

import pytest
from django.urls import reverse

from actions import pdf
from reviews.models import Participant, ParticipantRole, Phase
from reviews.presence import presence_connect
from tests.actions.analysis_helpers import move_to


@pytest.fixture
def bob(cast, review):
    return Participant.objects.create(
        session=review, user=cast.member, role=ParticipantRole.OPERATIONS
    )


def test_being_on_the_live_page_during_the_review_is_attending(cast, review, bob):
    presence_connect(session=review, user=cast.member)  # preparation: not yet the review
    bob.refresh_from_db()
    assert not bob.was_present and not bob.has_attended
    move_to(review, Phase.REVIEW)
    presence_connect(session=review, user=cast.member)
    bob.refresh_from_db()
    assert bob.was_present and bob.has_attended
    # The preparation checkbox ("I will attend") says nothing about having attended.
    assert not bob.confirmed_attendance


def test_the_pdf_lists_who_was_there_not_who_said_they_would_come(cast, review, bob):
    Participant.objects.filter(session=review, user=cast.admin).update(confirmed_attendance=True)
    move_to(review, Phase.REVIEW)
    presence_connect(session=review, user=cast.member)
    html = pdf.plan_html(review)
    rows = html.split("<th>Attended</th>", 1)[1].split("</table>", 1)[0]
    member_row = rows.split(cast.member.get_full_name() or cast.member.username, 1)[1]
    admin_row = rows.split(cast.admin.get_full_name() or cast.admin.username, 1)[1]
    assert member_row.split("</tr>", 1)[0].count("Yes") == 1
    assert "No" in admin_row.split("</tr>", 1)[0]


@pytest.mark.parametrize(("choice", "expected"), [("yes", True), ("no", False), ("presence", None)])
def test_the_facilitator_corrects_attendance(client, cast, review, bob, choice, expected):
    move_to(review, Phase.REVIEW)
    presence_connect(session=review, user=cast.member)
    client.force_login(cast.admin)
    url = reverse("reviews:participant_attended", args=[review.uuid, bob.pk])
    response = client.post(url, {"attended": choice})
    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.attended is expected
    assert bob.has_attended is (True if expected is None else expected)


def test_attendance_is_not_recorded_before_the_review(client, cast, review, bob):
    client.force_login(cast.admin)
    url = reverse("reviews:participant_attended", args=[review.uuid, bob.pk])
    response = client.post(url, {"attended": "yes"}, follow=True)
    assert "once the review has started" in response.content.decode()
    bob.refresh_from_db()
    assert bob.attended is None


def test_a_bad_value_is_refused_and_changes_nothing(client, cast, review, bob):
    move_to(review, Phase.REVIEW)
    client.force_login(cast.admin)
    url = reverse("reviews:participant_attended", args=[review.uuid, bob.pk])
    response = client.post(url, {"attended": "maybe"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "yes, no" in response.content.decode()
    bob.refresh_from_db()
    assert bob.attended is None


def test_only_whoever_runs_the_review_records_attendance(client, cast, review, bob):
    move_to(review, Phase.REVIEW)
    client.force_login(cast.member)
    url = reverse("reviews:participant_attended", args=[review.uuid, bob.pk])
    assert client.post(url, {"attended": "yes"}).status_code == 403
    assert client.get(url).status_code == 405
    bob.refresh_from_db()
    assert bob.attended is None


def test_the_session_page_shows_attendance_once_the_review_started(client, cast, review, bob):
    client.force_login(cast.admin)
    page = reverse("reviews:session_detail", args=[review.uuid])
    assert '<th title="Had the live page open' not in client.get(page).content.decode()
    move_to(review, Phase.REVIEW)
    presence_connect(session=review, user=cast.member)
    body = client.get(page).content.decode()
    assert "Had the live page open" in body and "Yes (was on the live page)" in body
