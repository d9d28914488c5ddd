"""Access to a live session in one query: the live page's hottest ways in (a choice toggle, a
fragment, the event stream) ask on every click.

The rules are those of `reviews.access` (a member of the session's team sees it, a
participant takes part in their role); this reads the same rows, the session with its
workload, the user's membership of its team and their participation, as one statement with
two filtered joins, and answers the same `SessionAccess`."""

from __future__ import annotations

from uuid import UUID

from django.db.models import F, FilteredRelation, Q
from django.http import Http404

from reviews.access import SessionAccess
from reviews.models import Membership, Participant, ReviewSession

_MEMBERSHIP_FIELDS = [f.attname for f in Membership._meta.concrete_fields]
_PARTICIPANT_FIELDS = [f.attname for f in Participant._meta.concrete_fields]


def session_access(user, session_uuid: UUID | str, *, guests: bool = False) -> SessionAccess:
    """The session, the user's membership of its team and their participation, in one
    query; Http404 as `reviews.access.session_for_user` gives it: outside the team, unless
    `guests` is set and the user is a guest of this session."""
    if not getattr(user, "is_authenticated", False):
        raise Http404("No such review session.")
    row = (
        ReviewSession.objects.select_related("workload")
        .filter(uuid=session_uuid)
        .annotate(
            my_membership=FilteredRelation(
                "workload__team__memberships",
                condition=Q(workload__team__memberships__user_id=user.pk),
            ),
            my_participation=FilteredRelation(
                "participants", condition=Q(participants__user_id=user.pk)
            ),
            **{f"m__{name}": F(f"my_membership__{name}") for name in _MEMBERSHIP_FIELDS},
            **{f"p__{name}": F(f"my_participation__{name}") for name in _PARTICIPANT_FIELDS},
        )
        .order_by()
        .first()
    )
    if row is None:
        raise Http404("No such review session.")
    membership = None
    if row.m__id is not None:
        membership = Membership(**{name: getattr(row, f"m__{name}") for name in _MEMBERSHIP_FIELDS})
        membership._state.adding = False
    elif not (guests and row.p__id is not None and row.p__is_guest):
        # Outside the team: only a guest of this session, on the session's own pages.
        raise Http404("No such review session.")
    participant = None
    if row.p__id is not None:
        participant = Participant(
            **{name: getattr(row, f"p__{name}") for name in _PARTICIPANT_FIELDS}
        )
        participant._state.adding = False
        participant.session = row
    return SessionAccess(session=row, membership=membership, participant=participant)
