"""Who may receive a reminder or a notification: only someone who still belongs to the team
whose work it is about, or who takes part in its session as a guest. Asked when a reminder
is sent, so that leaving a team stops its reminders at once, however long ago they were
scheduled."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reviews.models import Participant
from reviews.teams import is_in_team

if TYPE_CHECKING:
    from actions.messages import Message


def message_team_id(message: Message) -> int | None:
    """The team a message is about (None: no team's, like the weekly digest)."""
    workload = message.context.get("workload")
    return workload.team_id if workload is not None else None


def may_receive(user_id: int, message: Message) -> bool:
    team_id = message_team_id(message)
    if team_id is None or is_in_team(user_id=user_id, team_id=team_id):
        return True
    session = message.context.get("session")
    return (
        session is not None
        and Participant.objects.filter(session=session, user_id=user_id).exists()
    )
