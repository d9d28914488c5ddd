"""The API's docs page (Swagger UI, served from our own origin) works under the
Content-Security-Policy: it renders every operation without a violation or console error,
and a request made from it with a token comes back."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from actions.api import tokens
from tests.e2e.test_csp import Watched

pytestmark = pytest.mark.e2e


def test_the_docs_page_runs_under_the_policy_and_calls_the_api(live, cast):
    raw = tokens.token_create(user=cast.admin, name="docs", scope="read")[1]
    watched = Watched(live.page(cast.admin))
    page = watched.page
    page.goto(f"{live.url}/api/docs/")
    expect(page.locator(".opblock")).to_have_count(15)
    page.locator("button.authorize").first.click()
    page.locator(".auth-container input").fill(raw)
    page.locator(".auth-btn-wrapper button.authorize").click()
    page.locator("button.btn-done").click()
    operation = page.locator("#operations-workloads-workload_list")
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    expect(status).to_have_text("200")
    expect(operation.locator(".live-responses-table")).to_contain_text("Checkout")
    violations = page.evaluate("() => window.__violations")
    assert violations == [], violations
    assert watched.real_errors() == []
