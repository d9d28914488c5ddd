"""A best practice marked not applicable in one browser shows in the other at once, and the
risk follows: the per-choice control works through htmx although its fields sit inside the
answer's form (they belong to a form of their own)."""

import pytest
from playwright.sync_api import expect

from reviews.models import ChoiceNotApplicable
from tests.e2e.test_live_session import room  # noqa: F401 (a fixture)

pytestmark = pytest.mark.e2e
PRACTICE = "ops_priorities_eval_tradeoffs"


def test_marking_a_best_practice_reaches_everyone(room):  # noqa: F811
    review, answer, alice, bob = room
    item = bob.locator(f'#choices li[data-choice="{PRACTICE}"]')
    item.get_by_text("Does not apply?").click()
    item.locator("select[name=reason]").select_option("business_priorities")
    item.locator("input[name=notes]").fill("Nothing to trade off yet")
    item.get_by_role("button", name="Mark not applicable").click()

    other = alice.locator(f'#choices li[data-choice="{PRACTICE}"]')
    expect(other).to_contain_text("Not applicable: business priorities")
    expect(other).to_contain_text("Nothing to trade off yet")
    expect(alice.locator("#risk-badge")).to_have_text("High risk")
    mark = ChoiceNotApplicable.objects.get(answer=answer)
    assert (mark.choice.ident, mark.reason, mark.notes) == (
        PRACTICE,
        "business_priorities",
        "Nothing to trade off yet",
    )

    bob.locator(f'#choices li[data-choice="{PRACTICE}"]').get_by_role(
        "button", name="It applies after all"
    ).click()
    expect(other).not_to_contain_text("Not applicable")
    expect(alice.locator("#risk-badge")).to_have_text("Unanswered")
    assert not ChoiceNotApplicable.objects.filter(answer=answer).exists()
