"""Each person's private calendar feed: every dated step of the reviews they take part in,
as events: the review sessions (timed), and all-day events for the start of preparation, the
analysis and action plan due dates, the monthly follow-ups, the next review of their
workloads, and the due dates of their open actions (VEVENTs, not VTODOs: most calendar apps
show no to-dos from a subscribed feed). The feed's URL carries a secret token, the only key to
it; resetting the token makes the old URL answer 404."""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from icalendar import Event, vDuration

from actions.models import ActionItem, CalendarFeed, FollowUp
from reviews import ical
from reviews.emails import absolute_url
from reviews.models import Membership, Participant, Phase, ReviewSession, SessionKind, Workload

TOKEN_BYTES = 32
# Sessions further back than this are left out of the feed.
PAST_DAYS = 365
# How often calendar apps should fetch the feed again.
REFRESH = timedelta(hours=1)


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
        # A review moved past the review phase was held: never an upcoming event.
        .exclude(
            ~Q(phase__in=(Phase.PREPARATION, Phase.REVIEW)), review_starts_at__gt=timezone.now()
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


def all_day(*, uid: str, day: date, summary: str, path: str, description: str = "") -> Event:
    """An all-day event on `day`, linking to `path`."""
    link = absolute_url(path)
    event = Event()
    event.add("uid", f"{uid}@{ical.uid_domain()}")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("transp", "TRANSPARENT")
    event.add("summary", summary)
    event.add("description", f"{description}\n\n{link}".strip())
    event.add("url", link)
    return event


def action_event(action: ActionItem) -> Event:
    """An open action as an all-day event on its due date."""
    lines = [
        f"Action of {action.workload.name}: {action.get_status_display().lower()}, "
        f"{action.percent_complete}% done."
    ]
    if action.measurable_outcome:
        lines.append(f"Done when: {action.measurable_outcome}")
    assert action.due_on is not None, "the feed lists dated actions only"
    event = all_day(
        uid=f"action-{action.uuid}",
        day=action.due_on,
        summary=f"Due: {action.title} ({action.workload.name})",
        path=reverse("actions:action_detail", args=[action.uuid]),
        description="\n".join(lines),
    )
    event.add("last-modified", action.updated_at)
    if action.status == ActionItem.Status.BLOCKED:
        event.add("categories", ["Blocked"])
    return event


def step_events(session: ReviewSession) -> list[Event]:
    """The all-day steps of a review: preparation start, analysis due, action plan due."""
    name, events = session.workload.name, []
    steps = (
        (
            "preparation",
            session.preparation_starts_on,
            "Preparation starts",
            "reviews:session_detail",
        ),
        ("analysis", session.analysis_due_on, "Analysis due", "actions:analysis"),
        ("plan", session.action_plan_due_on, "Action plan due", "actions:plan"),
    )
    for key, day, label, view in steps:
        if day is not None:
            events.append(
                all_day(
                    uid=f"session-{session.uuid}-{key}",
                    day=day,
                    summary=f"{label}: {name} review",
                    path=reverse(view, args=[session.uuid]),
                    description=session.title,
                )
            )
    return events


def feed_follow_ups(user):
    since = timezone.localdate() - timedelta(days=PAST_DAYS)
    return (
        FollowUp.objects.filter(session__participants__user=user, due_on__gte=since)
        .select_related("session__workload")
        .order_by("due_on", "pk")
        .distinct()
    )


def follow_up_event(follow_up: FollowUp) -> Event:
    return all_day(
        uid=f"follow-up-{follow_up.uuid}",
        day=follow_up.due_on,
        summary=f"Follow-up {follow_up.number}: {follow_up.session.workload.name}",
        path=reverse("actions:followup", args=[follow_up.uuid]),
        description=f"Monthly follow-up of the action plan of {follow_up.session.title}.",
    )


def feed_workloads(user):
    """The workloads whose next review the user hears of: those they own (while still in
    the team) or took part in (places in a team's sessions go with leaving it)."""
    return (
        Workload.objects.filter(next_review_due_on__isnull=False)
        .filter(Q(owner=user, team__memberships__user=user) | Q(sessions__participants__user=user))
        .order_by("next_review_due_on", "pk")
        .distinct()
    )


def next_review_event(workload: Workload) -> Event:
    kind = SessionKind(workload.next_review_kind).label if workload.next_review_kind else ""
    assert workload.next_review_due_on is not None, "the feed lists dated reviews only"
    return all_day(
        uid=f"workload-{workload.uuid}-next-review",
        day=workload.next_review_due_on,
        summary=f"Next review due: {workload.name}",
        path=reverse("reviews:workload_cadence", args=[workload.uuid]),
        description=kind,
    )


def feed_ics(user) -> bytes:
    """The user's calendar: their sessions and their steps (the past year and ahead), the
    follow-ups, the next reviews and their open actions."""
    cal = ical.calendar(name="Pillarwise")
    # As a duration (PT1H): an X- property is otherwise written as text ("1:00:00").
    cal.add("x-published-ttl", vDuration(REFRESH))
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    for session in feed_sessions(user):
        cal.add_component(ical.session_event(session))
        for event in step_events(session):
            cal.add_component(event)
    for follow_up in feed_follow_ups(user):
        cal.add_component(follow_up_event(follow_up))
    for workload in feed_workloads(user):
        cal.add_component(next_review_event(workload))
    for action in feed_actions(user):
        cal.add_component(action_event(action))
    return cal.to_ical()
