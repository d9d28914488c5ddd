"""The facilitator adds team members with the picker on the session page: the list updates
in place, and another open session page hears it through the live stream."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from reviews import sessions
from reviews.models import Participant, ParticipantRole

pytestmark = pytest.mark.e2e


def test_the_facilitator_adds_two_members_and_the_other_page_sees_them(live, cast, lenses):
    review = sessions.session_create(
        workload=cast.workload, user=cast.admin, title="Live review", kind="periodic",
        review_starts_at=timezone.now() + timedelta(days=3),
    )  # fmt: skip
    Participant.objects.create(session=review, user=cast.viewer, role=ParticipantRole.OBSERVER)
    url = live.url + reverse("reviews:session_detail", args=[review.uuid])
    alice, vic = live.page(cast.admin), live.page(cast.viewer)
    for page in (alice, vic):
        page.goto(url)
        expect(page.locator("body[data-live=ok]")).to_have_count(1)
    expect(vic.locator("#add-participants")).to_have_count(0)  # a viewer has no picker

    picker = alice.locator("#add-participants")
    picker.get_by_role("checkbox", name="Bob Member").check()
    picker.get_by_role("checkbox", name="Fay Finance").check()
    picker.get_by_label("Role of Bob Member in the review").select_option("security")
    # The page stays: the list is swapped in place (a marker on the window survives).
    alice.evaluate("window.pickerMarker = 1")
    picker.get_by_role("button", name="Add to the review").click()

    for page in (alice, vic):
        expect(page.locator("#participants tbody")).to_contain_text("Bob Member")
        expect(page.locator("#participants tbody")).to_contain_text("Fay Finance")
    expect(alice.locator("#add-participants")).to_have_count(0)  # no one left to add
    assert alice.evaluate("window.pickerMarker") == 1
    assert dict(
        Participant.objects.filter(session=review).values_list("user__username", "role")
    ) == {"alice": "facilitator", "bob": "security", "fay": "finance", "vic": "observer"}
