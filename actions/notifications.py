"""In-app notifications (the bell) and how each person wants to hear about each occasion.

Every reminder that reaches someone leaves a notification in the app, mirroring the email.
Per occasion a person chooses: email and the app (the default), the app only, a weekly email
digest instead of each email, or nothing at all.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from actions.models import Notification, NotificationPreference, Occasion, Reminder

Mode = NotificationPreference.Mode
DEFAULT_MODE = Mode.EMAIL_AND_APP

# The occasions a person can choose for, in the order the preferences page lists them, with
# who receives them and when.
OCCASIONS: dict[str, str] = {
    Occasion.PHASE_START: "The people who act in a phase, when it starts: preparation to every "
    "participant but observers; analysis to the raters (workload owner and finance for "
    "business impact, engineers for technical effort); the action plan to the facilitator and "
    "the owners.",
    Occasion.PREPARATION: "Participants whose preparation checklist is not done, 7 and 2 days "
    "before a review (observers do not prepare).",
    Occasion.REVIEW_TOMORROW: "Every participant but observers, the day before a review.",
    Occasion.ANALYSIS_DUE: "The facilitator, when the analysis of a review is due.",
    Occasion.ACTION_PLAN_DUE: "The facilitator, when the action plan of a review is due.",
    Occasion.ACTION_DUE: "The owner of an action, 7 days and 1 day before it is due.",
    Occasion.ACTION_OVERDUE: "One email bundling your overdue actions: the day after one falls "
    "due, then every week while it stays overdue and untouched, paused while it is blocked; "
    "the facilitator too once one is overdue for the team's number of weeks.",
    Occasion.ACTIONS_BLOCKED: "The facilitator, each week while actions of their plans are "
    "blocked.",
    Occasion.PLAN_PUBLISHED: "The participants of a review (observers too), when its action plan "
    "is published: the key findings, the actions and their owners.",
    Occasion.FOLLOW_UP_DIGEST: "The facilitator, the workload owner and the owners of open "
    "actions, each month a follow-up of the action plan is due: open, blocked and overdue "
    "actions and the progress since last month.",
    Occasion.FOLLOW_UP_NUDGE: "The facilitator, a week after a monthly follow-up fell due when "
    "it has not been held.",
    Occasion.FOLLOW_UP_SUMMARY: "The participants of a review, when a follow-up is finished.",
    Occasion.NEXT_REVIEW_DUE: "The workload owner and the last facilitator, 14 days before the "
    "next review is due and on the day.",
    Occasion.RISK_EXPIRING: "Whoever accepted a risk, and the workload owner, 14 days before "
    "the acceptance expires.",
    Occasion.SESSION_ADDED: "A team member, when the facilitator adds them to a review.",
    Occasion.ACTION_ASSIGNED: "The owner of an action, when someone else makes them its owner.",
    Occasion.SESSION_INVITED: "Someone with an account, when they are invited to a review (the "
    "invitation's own email, which carries its link, always goes).",
    Occasion.TEAM_INVITED: "Someone with an account, when they are invited to a team (the "
    "invitation's own email, which carries its link, always goes).",
}


def preferences_for(user: User) -> dict[str, str]:
    """Each occasion's mode for a user (the default where they have not chosen)."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("occasion", "mode"))
    return {occasion: chosen.get(occasion, DEFAULT_MODE) for occasion in OCCASIONS}


def preference_mode(user_id: int, occasion: str) -> str:
    mode = (
        NotificationPreference.objects.filter(user_id=user_id, occasion=occasion)
        .values_list("mode", flat=True)
        .first()
    )
    return mode or DEFAULT_MODE


@transaction.atomic
def preferences_update(*, user: User, modes: dict[str, str]) -> None:
    """Store the user's choice for each occasion given (one statement)."""
    unknown = set(modes) - set(OCCASIONS)
    if unknown:
        raise ValueError(f"Unknown occasions: {', '.join(sorted(unknown))}")
    NotificationPreference.objects.bulk_create(
        [
            NotificationPreference(user=user, occasion=occasion, mode=mode)
            for occasion, mode in modes.items()
        ],
        update_conflicts=True,
        unique_fields=["user", "occasion"],
        update_fields=["mode"],
    )


@transaction.atomic
def notification_for_reminder(
    *,
    reminder: Reminder,
    title: str,
    body: str,
    url: str,
    via_digest: bool,
    team_id: int | None = None,
) -> Notification:
    """The notification mirroring a reminder: created once, however often it is sent."""
    notification, _ = Notification.objects.get_or_create(
        reminder=reminder,
        defaults={
            "user_id": reminder.recipient_id,
            "occasion": reminder.occasion,
            "title": title[:200],
            "body": body,
            "url": url[:500],
            "via_digest": via_digest,
            "team_id": team_id,
        },
    )
    return notification


@transaction.atomic
def notification_for_recap(*, user: User, title: str, url: str, via_digest: bool) -> Notification:
    """The bell entry of a plan's recap: once per person and plan, however often it is sent."""
    notification, _ = Notification.objects.get_or_create(
        user=user,
        occasion=Occasion.PLAN_PUBLISHED,
        url=url[:500],
        title=title[:200],
        defaults={
            "body": "The action plan is published: its actions, owners and due dates.",
            "via_digest": via_digest,
        },
    )
    return notification


def unread_count(user: User) -> int:
    return Notification.objects.visible().filter(user=user, read_at__isnull=True).count()


@transaction.atomic
def notifications_mark_read(*, user: User, notification: Notification | None = None) -> int:
    """Mark one notification, or all of a user's notifications, as read."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification is not None:
        unread = unread.filter(pk=notification.pk)
    return unread.update(read_at=timezone.now())


def awaiting_digest(*, user_id: int, until: datetime) -> QuerySet[Notification]:
    """A user's notifications not yet sent in a weekly digest, created up to `until`."""
    return (
        Notification.objects.visible()
        .filter(user_id=user_id, via_digest=True, digested_at__isnull=True, created_at__lte=until)
        .order_by("created_at", "pk")
    )


def users_awaiting_digest() -> list[int]:
    return list(
        Notification.objects.filter(via_digest=True, digested_at__isnull=True)
        .values_list("user_id", flat=True)
        .distinct()
        .order_by()
    )


@transaction.atomic
def digest_mark_sent(*, user_id: int, until: datetime) -> int:
    return awaiting_digest(user_id=user_id, until=until).update(digested_at=timezone.now())
