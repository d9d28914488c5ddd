"""Each person's time zone: the browser's at the first sign-in, changed on the preferences
page, used for every page and every reminder."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from actions import timezones
from actions.models import Notification, UserPreferences
from tests.actions.cadence_helpers import (
    at,
    make_session,
    reminders_any_day,  # noqa: F401 (a fixture)
    sweep,
    travel,
)

pytestmark = pytest.mark.usefixtures("lenses")

URL = reverse("actions:time_zone_set")


def zone(user) -> str:
    return timezones.zone_name(user.pk)


def test_the_browser_sets_the_time_zone_at_the_first_sign_in(client, cast):
    client.force_login(cast.member)
    response = client.post(URL, {"time_zone": "America/New_York", "default": "1"})
    assert response.status_code == 204 and zone(cast.member) == "America/New_York"
    # Another browser later does not change what is stored.
    assert client.post(URL, {"time_zone": "Asia/Tokyo", "default": "1"}).status_code == 204
    assert zone(cast.member) == "America/New_York"


def test_the_preferences_page_changes_it(client, cast):
    client.force_login(cast.member)
    timezones.time_zone_set(user=cast.member, name="America/New_York")
    response = client.post(URL, {"time_zone": "Europe/Paris"})
    assert response.status_code == 302 and zone(cast.member) == "Europe/Paris"
    page = client.get(reverse("actions:notification_preferences")).content.decode()
    assert 'value="Europe/Paris"' in page


def test_an_unknown_time_zone_is_refused_saying_what(client, cast):
    client.force_login(cast.member)
    response = client.post(URL, {"time_zone": "Mars/Olympus", "default": "1"})
    assert response.status_code == 400
    assert response.content.decode() == (
        "time_zone: “Mars/Olympus” is not a time zone (as in Europe/Paris)."
    )
    response = client.post(URL, {"time_zone": ""}, follow=True)
    assert "Time zone: “” is not a time zone" in response.content.decode()
    assert not UserPreferences.objects.exclude(time_zone="").exists()


def test_wrong_method_and_anonymous(client, cast):
    assert client.post(URL, {"time_zone": "Europe/Paris"}).status_code == 302  # sign in first
    client.force_login(cast.member)
    assert client.get(URL).status_code == 405


def test_pages_ask_the_browser_only_while_no_time_zone_is_stored(client, cast):
    client.force_login(cast.member)
    home = reverse("actions:dashboard")
    assert "js/timezone.js" in client.get(home).content.decode()
    client.post(URL, {"time_zone": "Europe/Paris", "default": "1"})  # what the script does
    assert "js/timezone.js" not in client.get(home).content.decode()
    client.logout()
    client.force_login(cast.member)  # read again at the next sign-in
    assert "js/timezone.js" not in client.get(home).content.decode()


def test_pages_show_times_in_the_persons_time_zone(client, cast):
    with travel(date(2027, 3, 1)):
        session = make_session(cast, starts=at(date(2027, 3, 15), 10))  # 10:00 UTC
    timezones.time_zone_set(user=cast.member, name="America/New_York")
    client.force_login(cast.member)
    page = client.get(reverse("reviews:session_detail", args=[session.uuid])).content.decode()
    assert "Monday 15 March 2027, 06:00" in page  # EDT since 14 March
    client.force_login(cast.admin)
    page = client.get(reverse("reviews:session_detail", args=[session.uuid])).content.decode()
    assert "Monday 15 March 2027, 10:00" in page


@pytest.mark.usefixtures("reminders_any_day")  # 14 March is a Sunday
def test_reminders_are_written_in_the_recipients_time_zone(cast):
    with travel(date(2027, 3, 1)):
        make_session(cast, starts=at(date(2027, 3, 15), 10))
    timezones.time_zone_set(user=cast.member, name="Asia/Tokyo")
    with travel(date(2027, 3, 14), 8):
        sweep()
    bob = Notification.objects.filter(user=cast.member, title__startswith="Tomorrow").get()
    alice = Notification.objects.filter(user=cast.admin, title__startswith="Tomorrow").get()
    assert bob.body.endswith("starts tomorrow at 19:00.")
    assert alice.body.endswith("starts tomorrow at 10:00.")
