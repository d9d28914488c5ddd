"""A refused htmx request says why, in a plain-text body the page shows in its toast; the same
refusal to a plain request is the ordinary error page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from reviews.models import Participant, ParticipantRole, Phase
from tests.conftest import HTMX

CHOICE = "ops_priorities_ext_cust_needs"


@pytest.fixture
def toggle_url(answer):
    return reverse(
        "reviews:choice_toggle", args=[answer.session.uuid, answer.question.uuid, CHOICE]
    )


def reason(response) -> str:
    assert response["Content-Type"].startswith("text/plain"), response["Content-Type"]
    return response.content.decode()


def test_a_role_that_may_not_answer_is_told_why(client, cast, review, toggle_url):
    Participant.objects.create(session=review, user=cast.viewer, role=ParticipantRole.OBSERVER)
    client.force_login(cast.viewer)
    response = client.post(toggle_url, {"select": "1"}, **HTMX)
    assert response.status_code == 403
    assert reason(response) == "As observer you follow the answers but do not change them."


def test_answers_closed_says_so(client, cast, review, toggle_url):
    Participant.objects.create(session=review, user=cast.member, role=ParticipantRole.OPERATIONS)
    review.phase = Phase.ANALYSIS
    review.save(update_fields=["phase"])
    client.force_login(cast.member)
    response = client.post(toggle_url, {"select": "1"}, **HTMX)
    assert response.status_code == 409
    assert reason(response) == "Answers are closed: the review has moved past the session."


def test_a_malformed_toggle_says_what_to_send(client, cast, review, toggle_url):
    Participant.objects.create(session=review, user=cast.member, role=ParticipantRole.OPERATIONS)
    client.force_login(cast.member)
    response = client.post(toggle_url, {"select": "maybe"}, **HTMX)
    assert response.status_code == 400
    assert reason(response) == "Say select=1 or select=0."


def test_something_gone_says_so(client, cast, review, answer):
    Participant.objects.create(session=review, user=cast.member, role=ParticipantRole.OPERATIONS)
    client.force_login(cast.member)
    url = reverse("reviews:question_fragment", args=[review.uuid, answer.question.uuid, "nope"])
    response = client.get(url, **HTMX)
    assert response.status_code == 404
    assert reason(response) == "No such fragment."


def test_an_outsider_learns_nothing_more_than_not_found(client, cast, review, toggle_url):
    client.force_login(cast.outsider)
    response = client.post(toggle_url, {"select": "1"}, **HTMX)
    assert response.status_code == 404
    assert reason(response) == "No such review session."


def test_an_expired_page_is_told_to_reload(cast, review, toggle_url):
    """No CSRF token (a page from before a sign-out, say): 403, and what to do about it."""
    Participant.objects.create(session=review, user=cast.member, role=ParticipantRole.OPERATIONS)
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.member)
    response = client.post(toggle_url, {"select": "1"}, **HTMX)
    assert response.status_code == 403
    assert reason(response) == "This page has expired. Reload it and try again."


def test_plain_requests_get_the_error_pages(client, cast, review, toggle_url):
    Participant.objects.create(session=review, user=cast.viewer, role=ParticipantRole.OBSERVER)
    client.force_login(cast.viewer)
    response = client.post(toggle_url, {"select": "1"})
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    client.force_login(cast.outsider)
    response = client.post(toggle_url, {"select": "1"})
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_missing_url_is_not_described(client, cast):
    """What the URL resolver knows (the patterns it tried) stays on the server."""
    client.force_login(cast.member)
    response = client.get("/no/such/place/", **HTMX)
    assert response.status_code == 404
    assert reason(response) == "Not found. Reload the page."
