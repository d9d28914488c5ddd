"""Review sessions as iCalendar events (RFC 5545), with the `icalendar` package.

`session_event` is the one VEVENT a session is, wherever it appears: in the invitation email
(`session_invitation_ics`, METHOD:REQUEST) and in each person's calendar feed. Its UID never
changes for a session, so calendars update the event in place when the review moves instead
of adding a second one.
"""

from __future__ import annotations

from datetime import timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from reviews.emails import absolute_url
from reviews.models import Participant, ParticipantRole, ReviewSession

PRODID = "-//Pillarwise//Well-Architected reviews//EN"


def uid_domain() -> str:
    """The domain part of every UID: the site's host name, so UIDs are unique worldwide."""
    return urlsplit(settings.SITE_URL).hostname or "pillarwise"


def session_uid(session: ReviewSession) -> str:
    return f"session-{session.uuid}@{uid_domain()}"


def calendar(*, method: str | None = None, name: str = "") -> Calendar:
    """An empty VCALENDAR with the product id, version and (optionally) method and name."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
    return cal


def person(user, **params: str) -> vCalAddress:
    """A calendar address (mailto:) for a user, with their name as CN."""
    address = vCalAddress(f"mailto:{user.email}")
    address.params["cn"] = vText(user.get_full_name() or user.username)
    for key, value in params.items():
        address.params[key.upper().replace("_", "-")] = vText(value)
    return address


def facilitator_of(session: ReviewSession):
    """The session's facilitator (the first, if several), or None. Uses the participants
    prefetched with `prefetch_related("participants__user")` when there are."""
    if "participants" in getattr(session, "_prefetched_objects_cache", {}):
        rows = [p for p in session.participants.all() if p.role == ParticipantRole.FACILITATOR]
        rows.sort(key=lambda p: (p.joined_at, p.pk))
        return rows[0].user if rows else None
    row = (
        Participant.objects.filter(session=session, role=ParticipantRole.FACILITATOR)
        .select_related("user")
        .order_by("joined_at", "pk")
        .first()
    )
    return row.user if row else None


def session_event(session: ReviewSession) -> Event:
    """The review session as a VEVENT: a stable UID, the review's start and duration, a
    summary naming the workload, a description with the link to the session page, and the
    facilitator as organizer. The session must have a review date (ValueError otherwise)."""
    if session.review_starts_at is None:
        raise ValueError(f"“{session.title}” has no review date yet.")
    link = absolute_url(reverse("reviews:session_detail", args=[session.uuid]))
    workload = session.workload
    event = Event()
    event.add("uid", session_uid(session))
    event.add("dtstamp", timezone.now())
    event.add("dtstart", session.review_starts_at.replace(microsecond=0))
    event.add("duration", timedelta(minutes=session.review_duration_minutes))
    event.add("summary", f"Well-Architected review: {session.title}")
    event.add(
        "description",
        "\n".join(
            [
                f"{session.get_kind_display()} of {workload.name}.",
                "Come prepared: read the documentation and bring current metrics.",
                "",
                f"Open the session: {link}",
            ]
        ),
    )
    event.add("url", link)
    event.add("location", link)
    event.add("categories", ["Well-Architected review"])
    facilitator = facilitator_of(session)
    if facilitator is not None and facilitator.email:
        event.add("organizer", person(facilitator))
    else:
        # An invitation needs an organizer: the app itself stands in until one is named.
        name, email = parseaddr(settings.DEFAULT_FROM_EMAIL)
        organizer = vCalAddress(f"mailto:{email}")
        organizer.params["cn"] = vText(name or settings.SITE_NAME)
        event.add("organizer", organizer)
    return event


def session_invitation_ics(session: ReviewSession, *, attendee_email: str) -> bytes:
    """A METHOD:REQUEST calendar holding the session's event with `attendee_email` invited:
    attach it to the invitation email as text/calendar."""
    cal = calendar(method="REQUEST")
    event = session_event(session)
    attendee = vCalAddress(f"mailto:{attendee_email}")
    attendee.params.update(
        {
            "ROLE": vText("REQ-PARTICIPANT"),
            "PARTSTAT": vText("NEEDS-ACTION"),
            "RSVP": vText("TRUE"),
        }
    )
    event.add("attendee", attendee)
    cal.add_component(event)
    return cal.to_ical()
