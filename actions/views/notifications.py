"""The bell's notifications and each person's notification preferences."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from actions import notifications, timezones
from actions.forms import NotificationPreferencesForm
from actions.models import CalendarFeed, Notification, NotificationPreference
from config.http import SignedInRequest
from reviews.emails import absolute_url
from reviews.errors import ServiceError

PAGE_SIZE = 30


def notification_for_user(user, notification_uuid: UUID) -> Notification:
    """One of the user's own notifications; anyone else's is a 404."""
    notification = Notification.objects.visible().filter(uuid=notification_uuid, user=user).first()
    if notification is None:
        raise Http404("No such notification.")
    return notification


@require_safe
def notification_list(request: SignedInRequest) -> HttpResponse:
    show = "unread" if request.GET.get("show") == "unread" else "all"
    items = Notification.objects.visible().filter(user=request.user)
    if show == "unread":
        items = items.filter(read_at__isnull=True)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "actions/notifications.html",
        {
            "page": page,
            "show": show,
            "unread": notifications.unread_count(request.user),
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
def notification_open(request: SignedInRequest, notification_uuid: UUID) -> HttpResponse:
    """Follow a notification to the page it is about. Posted (the list's link is a small
    form), it is marked read on the way; a plain GET only follows it."""
    notification = notification_for_user(request.user, notification_uuid)
    if request.method == "POST":
        notifications.notifications_mark_read(user=request.user, notification=notification)
    target = notification.url or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = ""
    return redirect(target or "actions:notifications")


@require_POST
def notification_read(request: SignedInRequest, notification_uuid: UUID) -> HttpResponse:
    notification = notification_for_user(request.user, notification_uuid)
    notifications.notifications_mark_read(user=request.user, notification=notification)
    if request.htmx:
        notification.refresh_from_db(fields=["read_at"])
        # The item, and the bell's count out of band.
        return render(
            request,
            "actions/notifications.html#item",
            {"notification": notification, "oob": True},
        )
    return redirect("actions:notifications")


@require_POST
def notifications_read_all(request: SignedInRequest) -> HttpResponse:
    count = notifications.notifications_mark_read(user=request.user)
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked as read.")
    return redirect("actions:notifications")


@require_http_methods(["GET", "POST"])
def notification_preferences(request: SignedInRequest) -> HttpResponse:
    modes = notifications.preferences_for(request.user)
    form = NotificationPreferencesForm(
        request.POST if request.method == "POST" else None, modes=modes
    )
    if request.method == "POST" and form.is_valid():
        notifications.preferences_update(user=request.user, modes=form.modes())
        messages.success(request, "Your notification preferences are saved.")
        return redirect("actions:notification_preferences")
    feed = CalendarFeed.objects.filter(user=request.user).first()
    feed_url = absolute_url(feed_path(feed)) if feed else ""
    return render(
        request,
        "actions/preferences.html",
        {
            "form": form,
            "modes": NotificationPreference.Mode.choices,
            "feed": feed,
            "feed_url": feed_url,
            "has_email": bool(request.user.email),
            "time_zone": timezones.zone_name(request.user.pk),
        },
    )


@require_POST
def time_zone_set(request: SignedInRequest) -> HttpResponse:
    """The person's time zone: the browser's default at the first sign-in (`default=1`,
    kept when one is stored already; 204, or 400 saying what is wrong), or a choice on the
    preferences page (a redirect back to it, with what was wrong)."""
    by_browser = request.POST.get("default") == "1"
    try:
        timezones.time_zone_set(
            user=request.user, name=request.POST.get("time_zone", ""), only_if_unset=by_browser
        )
        timezones.remember(request, timezones.zone_name(request.user.pk))
    except ServiceError as exc:
        if by_browser:
            return HttpResponse(f"time_zone: {exc}", status=400, content_type="text/plain")
        messages.error(request, f"Time zone: {exc}")
        return redirect("actions:notification_preferences")
    if by_browser:
        return HttpResponse(status=204)
    messages.success(request, "Your time zone is saved.")
    return redirect("actions:notification_preferences")


def feed_path(feed: CalendarFeed) -> str:
    return reverse("actions:calendar_feed", args=[feed.token])
