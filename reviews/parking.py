"""The parking lot: what was raised in the session but is out of scope for now. Its items
become candidate action items in the analysis."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from reviews import events
from reviews.access import Right, require_open, session_rights
from reviews.errors import ServiceError
from reviews.eventkinds import EventKind
from reviews.models import (
    ParkingLotItem,
    ReviewSession,
)


@transaction.atomic
def parking_add(
    *, session: ReviewSession, user: User, text: str, question_id: int | None = None
) -> ParkingLotItem:
    """Park an item: whoever may answer, while answers are open."""
    session = ReviewSession.objects.select_for_update(of=("self",)).get(pk=session.pk)
    require_open(session)
    if not session_rights(session, user).has(Right.PARK):
        raise PermissionDenied("Only those who answer in this review can park items.")
    text = " ".join(text.split())
    if not text:
        raise ServiceError("Write what should be parked.")
    if len(text) > 500:
        raise ServiceError(f"Keep it under 500 characters ({len(text)}).")
    item = ParkingLotItem.objects.create(
        session=session, text=text, question_id=question_id, created_by=user
    )
    events.publish_on_commit(session.uuid, EventKind.PARKING)
    return item


@transaction.atomic
def parking_dismiss(*, item: ParkingLotItem) -> None:
    ParkingLotItem.objects.filter(pk=item.pk, dismissed_at__isnull=True).update(
        dismissed_at=timezone.now()
    )
    events.publish_on_commit(item.session.uuid, EventKind.PARKING)
