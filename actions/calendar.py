"""Each person's private calendar feed: the review sessions they take part in as events, and
the due dates of their open actions as to-dos. The feed's URL carries a secret token, the
only key to it; resetting the token makes the old URL answer 404."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from icalendar import Todo

from actions.models import ActionItem, CalendarFeed
from reviews import ical
from reviews.emails import absolute_url
from reviews.models import Membership, Participant, ReviewSession

TOKEN_BYTES = 32
# Sessions further back than this are left out of the feed.
PAST_DAYS = 365
# How often calendar apps should fetch the feed again.
REFRESH = timedelta(hours=1)

TODO_STATUS = {
    ActionItem.Status.OPEN: "NEEDS-ACTION",
    ActionItem.Status.IN_PROGRESS: "IN-PROCESS",
    ActionItem.Status.BLOCKED: "NEEDS-ACTION",
}


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


@transaction.atomic
def calendar_feed_reset(*, user) -> CalendarFeed:
    """Give the user a feed with a new secret token (creating the feed on first use)."""
    feed = CalendarFeed.objects.select_for_update().filter(user=user).first()
    if feed is None:
        return CalendarFeed.objects.create(user=user, token=new_token())
    feed.token = new_token()
    feed.reset_at = timezone.now()
    feed.save(update_fields=["token", "reset_at"])
    return feed


def feed_for_token(token: str) -> CalendarFeed | None:
    """The feed of a token, while its person belongs to a team or takes part in a session:
    someone removed from their last team has nothing to see, and the feed answers 404."""
    if not token or len(token) > 64:
        return None
    return (
        CalendarFeed.objects.select_related("user")
        .filter(token=token, user__is_active=True)
        .filter(
            Exists(Membership.objects.filter(user=OuterRef("user")))
            | Exists(Participant.objects.filter(user=OuterRef("user")))
        )
        .first()
    )


def feed_sessions(user):
    since = timezone.now() - timedelta(days=PAST_DAYS)
    return (
        ReviewSession.objects.filter(
            participants__user=user, review_starts_at__isnull=False, review_starts_at__gte=since
        )
        .select_related("workload")
        .prefetch_related("participants__user")
        .order_by("review_starts_at")
        .distinct()
    )


def feed_actions(user):
    return (
        ActionItem.objects.open()
        .for_user(user)
        .filter(owner=user, due_on__isnull=False)
        .select_related("workload")
        .order_by("due_on", "pk")
    )


def action_todo(action: ActionItem) -> Todo:
    """An open action as a VTODO due on its due date."""
    link = absolute_url(reverse("actions:action_detail", args=[action.uuid]))
    todo = Todo()
    todo.add("uid", f"action-{action.uuid}@{ical.uid_domain()}")
    todo.add("dtstamp", timezone.now())
    todo.add("last-modified", action.updated_at)
    todo.add("summary", f"{action.title} ({action.workload.name})")
    todo.add("due", action.due_on)
    todo.add("status", TODO_STATUS[action.status])
    todo.add("percent-complete", action.percent_complete)
    lines = [f"Action of {action.workload.name}: {action.get_status_display().lower()}."]
    if action.measurable_outcome:
        lines.append(f"Done when: {action.measurable_outcome}")
    lines += ["", link]
    todo.add("description", "\n".join(lines))
    todo.add("url", link)
    if action.status == ActionItem.Status.BLOCKED:
        todo.add("categories", ["Blocked"])
    return todo


def feed_ics(user) -> bytes:
    """The user's calendar: their sessions (the past year and ahead) and open actions."""
    cal = ical.calendar(name="Pillarwise")
    cal.add("x-published-ttl", REFRESH)
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    for session in feed_sessions(user):
        cal.add_component(ical.session_event(session))
    for action in feed_actions(user):
        cal.add_component(action_todo(action))
    return cal.to_ical()
