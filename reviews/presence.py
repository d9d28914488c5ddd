"""Presence: who has the live page open, and on which question. The event stream counts
a person's open streams and refreshes their row with its heartbeat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from reviews import events
from reviews.eventkinds import EventKind
from reviews.models import (
    Participant,
    Phase,
    Presence,
    ReviewSession,
)

PRESENCE_WINDOW = timedelta(seconds=45)


def presence_connect(*, session: ReviewSession, user: User) -> None:
    now = timezone.now()
    with transaction.atomic():
        updated = Presence.objects.filter(session=session, user=user).update(
            streams=F("streams") + 1, last_seen=now
        )
        if not updated:
            try:
                with transaction.atomic():
                    Presence.objects.create(session=session, user=user, last_seen=now, streams=1)
            except IntegrityError:
                Presence.objects.filter(session=session, user=user).update(
                    streams=F("streams") + 1, last_seen=now
                )
        if session.phase == Phase.REVIEW:
            # Present during the review: this is what attendance records.
            Participant.objects.filter(session=session, user=user, was_present=False).update(
                was_present=True
            )
    events.publish_on_commit(session.uuid, EventKind.PRESENCE)


def presence_disconnect(*, session: ReviewSession, user: User) -> None:
    Presence.objects.filter(session=session, user=user, streams__gt=0).update(
        streams=F("streams") - 1, last_seen=timezone.now()
    )
    events.publish_on_commit(session.uuid, EventKind.PRESENCE)


def presence_heartbeat(*, session: ReviewSession, user: User) -> None:
    Presence.objects.filter(session=session, user=user).update(last_seen=timezone.now())


def presence_viewing(*, session: ReviewSession, user: User, question_id: int) -> None:
    """Record which question the user has on screen; tell the others if it changed."""
    now = timezone.now()
    rows = Presence.objects.filter(session=session, user=user)
    changed = rows.exclude(question_id=question_id).update(question_id=question_id, last_seen=now)
    if not changed and not rows.exists():
        # The page loads before its event stream connects: start the row here.
        try:
            with transaction.atomic():
                Presence.objects.create(
                    session=session, user=user, question_id=question_id, last_seen=now
                )
        except IntegrityError:
            rows.update(question_id=question_id, last_seen=now)
        changed = 1
    if changed:
        events.publish_on_commit(session.uuid, EventKind.PRESENCE)


@dataclass
class PresenceRow:
    user_id: int
    name: str
    initials: str
    role: str
    online: bool
    question_id: int | None
    question_uuid: str  # where they are, for each page to mark those on its own question
    question_title: str
    is_facilitator: bool


def presence(session: ReviewSession) -> list[PresenceRow]:
    """Every participant, whether they have the live page open, and on which question."""
    cutoff = timezone.now() - PRESENCE_WINDOW
    seen = {
        p.user_id: p for p in Presence.objects.filter(session=session).select_related("question")
    }
    rows = []
    for participant in Participant.objects.filter(session=session).select_related("user"):
        user = participant.user
        name = user.get_full_name() or user.get_username()
        mark = seen.get(user.pk)
        online = bool(mark and mark.streams > 0 and mark.last_seen >= cutoff)
        rows.append(
            PresenceRow(
                user_id=user.pk,
                name=name,
                initials="".join(part[0] for part in name.split()[:2]).upper(),
                role=participant.get_role_display(),
                online=online,
                question_id=mark.question_id if online and mark else None,
                question_uuid=str(mark.question.uuid) if online and mark and mark.question else "",
                question_title=mark.question.title if online and mark and mark.question else "",
                is_facilitator=participant.is_facilitator,
            )
        )
    rows.sort(key=lambda r: (not r.online, not r.is_facilitator, r.name))
    return rows
