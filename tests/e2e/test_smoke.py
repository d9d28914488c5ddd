"""The browser can sign in through the real login page and sees the app styled."""

import pytest

from reviews import accounts
from tests.conftest import PASSWORD

pytestmark = pytest.mark.e2e


def test_sign_in_through_the_login_page(live, cast):
    page = live.page(cast.outsider)
    page.context.clear_cookies()
    page.goto(f"{live.url}/login/")
    accounts.email_verified(user=cast.member, email=cast.member.email)
    page.fill("#id_username", "bob@example.com")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live.url}/")
    assert page.locator("h1").inner_text() == "Dashboard"
    assert page.locator("text=Checkout").count() == 1
    # the stylesheet and htmx load from our own static files
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.topbar')).backgroundColor")
        != "rgba(0, 0, 0, 0)"
    )
    assert page.evaluate("typeof htmx") == "object"
