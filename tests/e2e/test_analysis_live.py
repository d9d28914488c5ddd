"""The analysis page live, in two browsers: a rating, a placement on the matrix, an
acceptance and a new action reach the other person's page without a reload, and "Your
rating" keeps each person's own choice. And the page stays short for a real review."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from actions import findings
from reviews.models import Answer, Phase
from tests.actions.analysis_helpers import analysed, join, move_to

pytestmark = pytest.mark.e2e

FINDINGS = 26
# Pixels of page per finding, the matrix and the page's head aside (about 1,000 px): a
# finding is a compact card, its best practices, placement and acceptance folded. Unfolded,
# 26 findings made the page over 11,000 px tall.
MAX_HEIGHT_PER_FINDING = 200
PAGE_HEAD = 1200


def many_findings(review, count: int) -> None:
    """`count` high-risk findings with nothing selected: every best practice is missing."""
    answers = Answer.objects.filter(
        session=review, question__pillar__lens__is_framework=True
    ).order_by("question__pillar__order", "question__order")
    ids = list(answers.values_list("pk", flat=True)[:count])
    Answer.objects.filter(pk__in=ids).update(risk="HIGH")
    move_to(review, Phase.ANALYSIS)
    findings.findings_sync(session=review)


def test_the_page_for_26_findings_is_short(live, review, cast):
    many_findings(review, FINDINGS)
    page = live.page(cast.admin)
    page.goto(f"{live.url}/sessions/{review.uuid}/analysis/")
    assert page.locator("article.finding").count() == FINDINGS
    height = page.evaluate("() => document.documentElement.scrollHeight")
    cards = page.evaluate(
        "() => [...document.querySelectorAll('article.finding')].map(c => c.offsetHeight)"
    )
    print(f"analysis page height for {FINDINGS} findings: {height}px")
    assert max(cards) <= MAX_HEIGHT_PER_FINDING
    assert height <= PAGE_HEAD + FINDINGS * MAX_HEIGHT_PER_FINDING


def card(page, finding) -> str:
    return page.locator(f"#finding-{finding.uuid}").inner_text()


def wait_for_card(page, finding, text: str) -> None:
    page.wait_for_function(
        "([id, text]) => (document.getElementById(id) || {innerText: ''}).innerText.includes(text)",
        arg=[f"finding-{finding.uuid}", text],
    )


def open_analysis(live, user, review):
    page = live.page(user)
    page.goto(f"{live.url}/sessions/{review.uuid}/analysis/")
    page.wait_for_function("() => document.body.dataset.live === 'ok'")
    page.evaluate("window.notReloaded = true")
    return page


def test_a_change_reaches_the_other_page_without_a_reload(live, review, cast):
    join(review, cast.member, "workload_owner")
    high, medium = analysed(review, cast)
    facilitator = open_analysis(live, cast.admin, review)
    owner = open_analysis(live, cast.member, review)

    # The facilitator rates: the owner sees it.
    facilitator.select_option(f"#rate-impact-{high.uuid}", "5")
    wait_for_card(owner, high, "median 5")
    # The owner rates: the facilitator sees the new median, and each keeps their own rating.
    owner.select_option(f"#rate-impact-{high.uuid}", "2")
    wait_for_card(facilitator, high, "median 3.5")
    assert facilitator.input_value(f"#rate-impact-{high.uuid}") == "5"
    assert owner.input_value(f"#rate-impact-{high.uuid}") == "2"

    # The facilitator places the finding by hand: the owner's card and matrix follow.
    facilitator.click(f"#place-{high.uuid} summary")
    facilitator.select_option(f"#move-impact-{high.uuid}", "1")
    facilitator.select_option(f"#move-effort-{high.uuid}", "5")
    facilitator.click(f"#move-{high.uuid} button[type=submit]")
    wait_for_card(owner, high, "placed by hand")
    owner.wait_for_function(
        "() => document.getElementById('matrix').innerHTML.includes('impact 1, effort 5')"
    )
    assert owner.input_value(f"#rate-impact-{high.uuid}") == "2"  # kept through the swap
    assert owner.locator("#quadrant-summary .q-thankless strong").inner_text() == "1"

    # A new action from a missing best practice: the owner's card counts it.
    facilitator.click(f"#practices-{high.uuid} summary")
    facilitator.evaluate(
        """id => {
            window.cardEvents = 0;
            document.addEventListener("htmx:sseBeforeMessage", e => {
                if (e.target.id === id) window.cardEvents += 1;
            });
        }""",
        f"finding-{high.uuid}",
    )
    facilitator.locator(f"#practices-{high.uuid} button", has_text="Create action").first.click()
    wait_for_card(owner, high, "1 action")
    wait_for_card(facilitator, high, "Action: open")
    facilitator.wait_for_function("() => window.cardEvents > 0")
    # The fold the facilitator opened stays open through their own change and the event.
    assert facilitator.locator(f"#practices-{high.uuid}").evaluate("e => e.open") is True

    # The facilitator accepts the other finding as a risk; the owner sees it, and may still
    # revoke it (the workload's owner accepts and revokes risks).
    facilitator.click(f"#accept-{medium.uuid} summary")
    facilitator.fill(f"#accept-reason-{medium.uuid}", "Covered by the platform team.")
    until = (timezone.localdate() + timedelta(days=90)).isoformat()
    facilitator.fill(f"#accept-until-{medium.uuid}", until)
    facilitator.click(f"#accept-{medium.uuid} button[type=submit]")
    wait_for_card(owner, medium, "Accepted as a risk")
    assert owner.locator(f"#finding-{medium.uuid} button", has_text="Revoke").count() == 1
    # ... and revokes it: the facilitator's page shows it back on the matrix.
    owner.click(f"#finding-{medium.uuid} button:has-text('Revoke')")
    facilitator.wait_for_selector(f"#accept-{medium.uuid}")
    assert "Accepted as a risk" not in card(facilitator, medium)

    assert facilitator.evaluate("window.notReloaded") is True
    assert owner.evaluate("window.notReloaded") is True
    # After a reload each person's rating is still theirs.
    owner.reload()
    assert owner.input_value(f"#rate-impact-{high.uuid}") == "2"
    facilitator.reload()
    assert facilitator.input_value(f"#rate-impact-{high.uuid}") == "5"
