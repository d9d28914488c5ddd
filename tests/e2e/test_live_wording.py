"""The live page's words as a participant meets them: the follow toggle says what it does,
and the parking lot's placeholder is shown whole, on a laptop and on a phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from reviews import sessions
from reviews.models import Answer, Participant, ParticipantRole

pytestmark = pytest.mark.e2e

# The placeholder's text width, in the input's own font, against the room inside the input.
FITS = """(input) => {
  const style = getComputedStyle(input);
  const context = document.createElement("canvas").getContext("2d");
  context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const text = context.measureText(input.placeholder).width;
  const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return {text, room};
}"""


@pytest.mark.parametrize("viewport", [(1366, 900), (390, 844)], ids=["laptop", "phone"])
def test_follow_says_what_it_does_and_the_parking_placeholder_fits(live, cast, lenses, viewport):
    review = sessions.session_create(
        workload=cast.workload, user=cast.admin, title="Live review", kind="periodic",
        review_starts_at=timezone.now() + timedelta(hours=1),
    )  # fmt: skip
    Participant.objects.create(session=review, user=cast.member, role=ParticipantRole.OPERATIONS)
    answer = Answer.objects.filter(session=review).select_related("question").first()
    page = live.page(cast.member, viewport=viewport)
    page.goto(live.url + reverse("reviews:question", args=[review.uuid, answer.question.uuid]))

    # The label names the effect: the page goes where the facilitator is.
    expect(
        page.get_by_role("checkbox", name="Go to the question the facilitator shows")
    ).to_be_checked()

    parking = page.locator("#parking-text")
    expect(parking).to_have_attribute("placeholder", "A topic for later")
    parking.scroll_into_view_if_needed()
    size = parking.evaluate(FITS)
    assert size["text"] <= size["room"], f"the placeholder is cut off: {size}"
