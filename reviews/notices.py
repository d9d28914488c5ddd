"""What reviews tells people about: being added to a review, invited to one, invited to a
team. Reviews knows nothing of how people hear about things (the bell, emails, preferences
live in `actions`, which uses reviews, never the reverse): a service calls `notify` in its
transaction, and whatever registered in NOTICE_HOOKS (actions, at start-up) turns the notice
into a notification and, as the person chose, an email."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class NoticeKind(StrEnum):
    SESSION_ADDED = "session_added"  # a facilitator added a team member to a review
    SESSION_INVITED = "session_invited"  # an invitation to a review, for an existing account
    TEAM_INVITED = "team_invited"  # an invitation to a team, for an existing account


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    user_ids: tuple[int, ...]
    # Ids the message is built from when it is sent (JSON: numbers and strings).
    payload: dict[str, Any] = field(default_factory=dict)
    # Who caused it (None: no one in particular).
    by_id: int | None = None


NOTICE_HOOKS: list[Callable[[Notice], None]] = []


def notify(
    kind: NoticeKind, user_ids: Iterable[int], *, by_id: int | None = None, **payload: Any
) -> None:
    """Hand a notice to whoever listens, in the caller's transaction."""
    notice = Notice(kind, tuple(sorted(set(user_ids))), dict(payload), by_id)
    if not notice.user_ids:
        return
    for hook in NOTICE_HOOKS:
        hook(notice)
