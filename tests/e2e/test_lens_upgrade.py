"""Upgrading a review's lens in the browser: the session page offers it, the upgrade page
lists the difference and upgrades; the flagged question shows "Look again" to everyone, and
one person's Confirm clears it on the other's page without a reload."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from questionnaires.services import lens_import
from reviews import answers, sessions
from reviews.lenslibrary import team_library
from reviews.models import Answer, Participant, ParticipantRole
from tests.questionnaires.test_differences import version_one, version_two
from tests.questionnaires.test_lensfile import raw

pytestmark = pytest.mark.e2e


def test_upgrade_then_look_again_then_confirm_reaches_everyone(live, cast, lenses):
    v1 = lens_import(raw=raw(version_one()), library=team_library(cast.team)).lens
    review = sessions.session_create(
        workload=cast.workload, user=cast.admin, title="Platform review", kind="periodic",
        review_starts_at=timezone.now() + timedelta(hours=1), lenses=[v1],
    )  # fmt: skip
    Participant.objects.create(session=review, user=cast.member, role=ParticipantRole.OPERATIONS)
    q1 = Answer.objects.get(session=review, question__ident="q1")
    for ident in "ab":
        answers.answer_toggle(answer=q1, user=cast.admin, choice_ident=ident, select=True)
    lens_import(raw=raw(version_two()), library=team_library(cast.team))

    alice = live.page(cast.admin)
    alice.goto(live.url + reverse("reviews:session_detail", args=[review.uuid]))
    alice.get_by_role("link", name="See what changed and upgrade").click()
    expect(alice.locator("h1")).to_have_text("Upgrade Test lens: v1 · 1.0 → v2 · 2.0")
    expect(alice.locator("main")).to_contain_text("Questions: 2 new, 3 changed, 1 removed.")
    alice.get_by_role("button", name="Save a milestone and upgrade").click()
    expect(alice.locator(".messages")).to_contain_text("1 to look again")

    q1 = Answer.objects.select_related("question").get(session=review, question__ident="q1")
    url = live.url + reverse("reviews:question", args=[review.uuid, q1.question.uuid])
    bob = live.page(cast.member)
    for page in (alice, bob):
        page.goto(url)
        expect(page.locator("#live-status .ok")).to_have_text("● Live")
        expect(page.locator("#choices")).to_contain_text("Look again: the choices changed")
    alice.evaluate("window.__marker = 'no reload'")
    bob.locator("#choices").get_by_role("button", name="Confirm").click()
    expect(alice.locator("#choices")).not_to_contain_text("Look again")
    expect(bob.locator("#choices")).not_to_contain_text("Look again")
    assert alice.evaluate("window.__marker") == "no reload"
    q1.refresh_from_db()
    assert not q1.look_again
