"""At the first sign-in the page tells the server the browser's time zone, and every page is
then shown in it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from actions.models import UserPreferences

pytestmark = pytest.mark.e2e


def test_the_first_page_sends_the_browsers_time_zone(live, browser, cast, browser_sets_time_zones):
    assert not UserPreferences.objects.filter(user=cast.member).exclude(time_zone="").exists()
    page = live.page(cast.member)
    page.context.close()
    context = browser.new_context(timezone_id="America/New_York")
    try:
        context.add_cookies(
            [{"name": "sessionid", "value": _session(cast.member), "url": live.url}]
        )
        page = context.new_page()
        with page.expect_response(lambda r: "/preferences/time-zone/" in r.url) as sent:
            page.goto(live.url + reverse("actions:dashboard"))
        assert sent.value.status == 204
        stored = UserPreferences.objects.get(user=cast.member).time_zone
        assert stored == "America/New_York"
        # Known now: the next page sends nothing.
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(live.url + reverse("actions:my_actions"))
        page.wait_for_load_state("networkidle")
        assert not any("/preferences/time-zone/" in url for url in requests)
    finally:
        context.close()


def _session(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value
