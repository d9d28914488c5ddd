"""The bell, and the email as each person chose, for what happens to them rather than what
falls due: added to a review, invited to a review or a team (for an existing account), made
the owner of an action by someone else. Each is a reminder row (actions.reminders), so it is
sent once, built from the data as it is when sent, skipped when it no longer applies (the
invitation was accepted or withdrawn, the action has another owner), and follows the
person's preference for its occasion. Invitations carry their link in an email of their
own: their notice is for the bell only. The messages are built in actions.notice_messages."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from actions import sendtime
from actions.models import ActionItem, Occasion, Reminder
from reviews.jobs import job_queue
from reviews.notices import Notice, NoticeKind

OCCASION_OF: dict[NoticeKind, str] = {
    NoticeKind.SESSION_ADDED: Occasion.SESSION_ADDED,
    NoticeKind.SESSION_INVITED: Occasion.SESSION_INVITED,
    NoticeKind.TEAM_INVITED: Occasion.TEAM_INVITED,
}


# Notices for the bell alone go at once; those that email wait for the person's working hours.
BELL_ONLY = {Occasion.SESSION_INVITED, Occasion.TEAM_INVITED}


def _queue(dues: list[tuple[int, str, str, dict[str, Any]]], *, team_id: int | None = None) -> None:
    """Create each (recipient, occasion, key, payload) reminder that does not exist yet and
    queue its sending once the transaction commits (a few at a time: one by one); one that
    emails someone at night or on a day off is sent by the job sweep at their next working
    hour (actions.sendtime)."""
    now = timezone.now()
    emailed = [recipient_id for recipient_id, occasion, *_ in dues if occasion not in BELL_ONLY]
    times = sendtime.working_times(emailed, now=now, team_id=team_id) if emailed else {}
    created = []
    for recipient_id, occasion, key, payload in dues:
        when = times.get(recipient_id, now) if occasion not in BELL_ONLY else now
        reminder, made = Reminder.objects.get_or_create(
            key=key,
            defaults={
                "occasion": occasion,
                "recipient_id": recipient_id,
                "payload": payload,
                "due_at": when,
                "next_attempt_at": when,
                "queued_at": now if when <= now else None,
            },
        )
        if made and when <= now:
            created.append(reminder.pk)
    job_queue(Reminder, created)


def on_notice(notice: Notice) -> None:
    """The hook reviews calls (reviews.notices.NOTICE_HOOKS): a reminder per person."""
    occasion = OCCASION_OF[notice.kind]
    subject = "-".join(str(notice.payload[k]) for k in sorted(notice.payload))
    payload = dict(notice.payload, by=notice.by_id)
    _queue(
        [
            (user_id, occasion, f"{occasion}:{subject}:{user_id}", payload)
            for user_id in notice.user_ids
            if user_id != notice.by_id
        ]
    )


def action_assigned(*, action: ActionItem, by_id: int) -> None:
    """Tell an action's new owner, unless they made themselves its owner."""
    if action.owner_id is None or action.owner_id == by_id:
        return
    now = timezone.now()
    key = f"{Occasion.ACTION_ASSIGNED}:{action.pk}:{action.owner_id}:{now:%Y%m%d%H%M%S%f}"
    _queue(
        [(action.owner_id, Occasion.ACTION_ASSIGNED, key, {"action": action.pk, "by": by_id})],
        team_id=action.workload.team_id,
    )
