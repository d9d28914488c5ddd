"""The bell's notifications and each person's notification preferences."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from actions import notifications
from actions.forms import NotificationPreferencesForm
from actions.models import CalendarFeed, Notification, NotificationPreference
from reviews.emails import absolute_url

PAGE_SIZE = 30


def notification_for_user(user, notification_uuid: UUID) -> Notification:
    """One of the user's own notifications; anyone else's is a 404."""
    notification = Notification.objects.visible().filter(uuid=notification_uuid, user=user).first()
    if notification is None:
        raise Http404("No such notification.")
    return notification


@require_safe
def notification_list(request: HttpRequest) -> HttpResponse:
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
def notification_open(request: HttpRequest, notification_uuid: UUID) -> HttpResponse:
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
def notification_read(request: HttpRequest, notification_uuid: UUID) -> HttpResponse:
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
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    count = notifications.notifications_mark_read(user=request.user)
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked as read.")
    return redirect("actions:notifications")


@require_http_methods(["GET", "POST"])
def notification_preferences(request: HttpRequest) -> HttpResponse:
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
        },
    )


def feed_path(feed: CalendarFeed) -> str:
    return reverse("actions:calendar_feed", args=[feed.token])
