"""A whole review in the browser: answer a few questions, move to analysis, rate, create
actions, publish the plan and download the PDF."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from actions.models import ActionItem, PlanDocument
from reviews import sessions
from reviews.models import Participant, ParticipantRole

pytestmark = pytest.mark.e2e


def test_a_whole_review(live, cast, lenses, media_root, eager_tasks):
    """The PDF is generated in the request here (eager_tasks); a real worker runs it in
    tests/actions/test_pdf_worker.py."""
    review = sessions.session_create(
        workload=cast.workload, user=cast.admin, title="Checkout: quarterly review",
        kind="critical_quarterly", review_starts_at=timezone.now() + timedelta(days=1),
    )  # fmt: skip
    Participant.objects.create(
        session=review, user=cast.member, role=ParticipantRole.WORKLOAD_OWNER
    )
    alice = live.page(cast.admin)
    session_url = live.url + reverse("reviews:session_detail", args=[review.uuid])

    # The facilitator opens the review and the team answers.
    alice.goto(session_url)
    alice.get_by_role("button", name="Move to review").click()
    expect(alice.locator("h1 .badge")).to_have_text("Review")
    alice.get_by_role("link", name="Open the questionnaire").click()
    expect(alice.locator("#live-status .ok")).to_have_text("● Live")
    alice.locator('#choices input[value="ops_priorities_ext_cust_needs"]').check()
    expect(alice.locator("#risk-badge")).to_have_text("High risk")
    alice.get_by_role("link", name="Next →").click()
    expect(alice.locator("#q-title")).to_contain_text("Who owns what")
    alice.locator("#choices input[name=selected]").last.check()  # "None of these"
    expect(alice.locator("#risk-badge")).to_have_text("High risk")
    expect(alice.locator("#nav")).to_contain_text("2 of 57 answered")

    # Analysis: rate the first finding, create actions from missing best practices.
    alice.goto(session_url)
    alice.get_by_role("button", name="Move to analysis").click()
    alice.get_by_role("link", name="Findings", exact=True).click()
    first = alice.locator("article").first
    expect(first).to_contain_text(
        "How do you decide what your operations work should focus on first?"
    )
    first.locator("select[name=value]").first.select_option("5")
    expect(alice.locator("article").first).to_contain_text("median 5")
    alice.locator("article").first.locator("select[name=value]").nth(1).select_option("2")
    expect(alice.locator("article").first).to_contain_text("median 2")
    finding = alice.locator("article").first
    finding.locator("details.practices summary").click()
    finding.get_by_role("button", name="Create action: Understand what internal teams need").click()
    expect(
        alice.locator("article").first.locator("a.badge", has_text="Action: open")
    ).to_have_count(1)
    assert ActionItem.objects.filter(session=review).count() == 1

    # Every action needs an owner, a due date and a measurable outcome before publishing.
    action = ActionItem.objects.get(session=review)
    alice.goto(live.url + reverse("actions:action_edit", args=[action.uuid]))
    alice.select_option("#id_owner", label="Bob Member")
    alice.fill("#id_due_on", (timezone.localdate() + timedelta(days=30)).isoformat())
    alice.fill("#id_measurable_outcome", "Internal needs reviewed with every consuming team")
    alice.get_by_role("button", name="Save").click()

    alice.goto(session_url)
    alice.get_by_role("button", name="Move to action plan").click()
    alice.get_by_role("link", name="Action plan", exact=True).click()
    alice.get_by_role("button", name="Publish the plan").click()
    expect(alice.locator(".messages")).to_contain_text("ublished")
    review.refresh_from_db()
    assert review.plan_published_at is not None

    # The PDF: generated, listed, downloadable.
    alice.goto(live.url + reverse("actions:plan_documents", args=[review.uuid]))
    download_link = alice.get_by_role("link", name="Download").first
    expect(download_link).to_be_visible(timeout=30_000)
    with alice.expect_download() as download:
        download_link.click()
    path = download.value.path()
    with open(path, "rb") as f:
        assert f.read(5) == b"%PDF-"
    assert PlanDocument.objects.get(session=review).status == "done"
