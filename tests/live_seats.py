"""People watching a live page from every kind of seat, for the tests that count what one
change costs with 2 watchers and with 20 (the question page's and the analysis page's)."""

from __future__ import annotations

from typing import Any

from reviews.live_access import session_access
from reviews.live_fragments import viewer_of
from reviews.models import Membership, Participant, ParticipantRole
from tests.conftest import make_user

# Answering, reading by role, not taking part.
SEATS = [
    ParticipantRole.OPERATIONS,
    ParticipantRole.SECURITY,
    ParticipantRole.FINANCE,
    ParticipantRole.OBSERVER,
    None,
]


def seat(review, username: str, n: int, **names: Any) -> tuple[Any, Participant | None]:
    """A new team member in the n-th kind of seat of SEATS (none: not taking part)."""
    user = make_user(username, **names)
    Membership.objects.create(team=review.workload.team, user=user, role=Membership.Role.MEMBER)
    role = SEATS[n % len(SEATS)]
    participant = Participant.objects.create(session=review, user=user, role=role) if role else None
    return user, participant


def viewer_for(user, review) -> str:
    """Which rendering of a change the user's stream sends them (their viewer key)."""
    return viewer_of(session_access(user, review.uuid, guests=True))
