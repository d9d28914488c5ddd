"""The private calendar feed (reached by its secret token, no sign-in) and its reset."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST, require_safe

from actions import calendar
from actions.models import CalendarFeed


@login_not_required
@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    feed = calendar.feed_for_token(token)
    if feed is None:
        raise Http404("No such calendar feed.")
    response = HttpResponse(
        calendar.feed_ics(feed.user), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="pillarwise.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_POST
def calendar_reset(request: HttpRequest) -> HttpResponse:
    existed = CalendarFeed.objects.filter(user=request.user).exists()
    calendar.calendar_feed_reset(user=request.user)
    if existed:
        messages.success(
            request,
            "Your calendar link is new: the old one no longer works. Subscribe again with "
            "the link below.",
        )
    else:
        messages.success(request, "Your calendar link is ready: subscribe to it below.")
    return redirect("actions:notification_preferences")
