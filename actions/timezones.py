"""Each person's time zone: stored on their preferences, defaulted from the browser at the
first sign-in (static/js/timezone.js posts `Intl.DateTimeFormat().resolvedOptions().timeZone`
to `time_zone_set`), changed on the preferences page. The middleware shows every page in it;
reminders and their emails are written in it (`actions.reminders`)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from datetime import tzinfo

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from actions.models import UserPreferences
from reviews.errors import ServiceError

TIME_ZONE_MAX_LENGTH = 64


def zone_name(user_id: int) -> str:
    """The user's time zone name, "" when none is stored yet."""
    return (
        UserPreferences.objects.filter(user_id=user_id).values_list("time_zone", flat=True).first()
        or ""
    )


def zone_for(user_id: int) -> tzinfo:
    """The user's time zone, or the server's while they have none."""
    return zone_from_name(zone_name(user_id))


def zone_from_name(name: str) -> tzinfo:
    """The zone of a stored name; the server's for "" (none yet)."""
    return zoneinfo.ZoneInfo(name) if name else timezone.get_default_timezone()


def valid_zone(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > TIME_ZONE_MAX_LENGTH or name not in zoneinfo.available_timezones():
        raise ServiceError(
            f"“{name[:TIME_ZONE_MAX_LENGTH]}” is not a time zone (as in Europe/Paris)."
        )
    return name


@transaction.atomic
def time_zone_set(*, user, name: str, only_if_unset: bool = False) -> bool:
    """Store the user's time zone; with `only_if_unset` (the browser's default at sign-in)
    only when none is stored yet. True when it changed."""
    name = valid_zone(name)
    prefs, _ = UserPreferences.objects.select_for_update().get_or_create(user=user)
    if (only_if_unset and prefs.time_zone) or prefs.time_zone == name:
        return False
    prefs.time_zone = name
    prefs.save(update_fields=["time_zone"])
    return True


SESSION_KEY = "pillarwise_time_zone"


def remember(request: HttpRequest, name: str) -> None:
    """Keep the time zone ("" for none yet) in the person's session: pages cost no query."""
    request.session[SESSION_KEY] = name


def remember_on_sign_in(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """At sign-in (the `user_logged_in` signal), read the time zone into the session once."""
    if request is not None and hasattr(request, "session"):
        remember(request, zone_name(user.pk))


class UserTimeZoneMiddleware:
    """Show each page in the signed-in person's time zone (the server's until they have one),
    read at sign-in and kept in the session; `request.user_time_zone` is "" while the browser
    has not told it yet."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        name: str | None = ""
        if user is not None and user.is_authenticated:
            name = request.session.get(SESSION_KEY)
            if name is None:  # signed in before time zones were kept
                name = zone_name(user.pk)
                remember(request, name)
        request.user_time_zone = name  # type: ignore[attr-defined]
        if name:
            timezone.activate(zoneinfo.ZoneInfo(name))
        else:
            timezone.deactivate()
        return self.get_response(request)
