"""Helpers for the cadence tests: sessions at a given time, actions, a published plan, and
one dispatcher sweep followed by sending what it queued (what a worker would do)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from actions import occasions, reminders
from actions.models import ActionItem, Finding, Reminder
from reviews import sessions
from reviews.models import Participant, ParticipantRole, Phase, ReviewSession, Team
from tests.conftest import at, travel  # noqa: F401 (the cadence tests import them from here)


def make_session(cast, *, starts: datetime, title: str = "Checkout review") -> ReviewSession:
    """A session facilitated by the team admin (alice), with bob as workload owner."""
    session = sessions.session_create(
        workload=cast.workload,
        user=cast.admin,
        title=title,
        kind="periodic",
        review_starts_at=starts,
    )
    Participant.objects.create(
        session=session, user=cast.member, role=ParticipantRole.WORKLOAD_OWNER
    )
    return session


def ready(session: ReviewSession, user) -> None:
    Participant.objects.filter(session=session, user=user).update(
        read_documentation=True, brought_metrics=True, confirmed_attendance=True
    )


def make_action(
    session: ReviewSession,
    owner,
    *,
    title: str = "Enable multi-AZ",
    due_on: date | None = None,
    status: str = ActionItem.Status.OPEN,
    percent: int = 0,
) -> ActionItem:
    return ActionItem.objects.create(
        workload=session.workload,
        session=session,
        title=title,
        owner=owner,
        due_on=due_on,
        status=status,
        percent_complete=percent,
        measurable_outcome="Failover tested",
    )


def publish(session: ReviewSession, *, on: datetime | None = None) -> ReviewSession:
    ReviewSession.objects.filter(pk=session.pk).update(
        plan_published_at=on or timezone.now(), phase=Phase.FOLLOW_UP
    )
    session.refresh_from_db()
    return session


def accepted_finding(session: ReviewSession, user, *, until: date) -> Finding:
    answer = session.answers.select_related("question").first()
    return Finding.objects.create(
        session=session,
        question=answer.question,
        risk="HIGH",
        accepted_by=user,
        accepted_at=timezone.now(),
        accepted_reason="A second region costs more than the risk",
        accepted_until=until,
    )


def sweep() -> list[Reminder]:
    """One dispatcher sweep, then send what is due now, like the worker and the job sweep
    would: what it queued and what earlier sweeps created for this hour. Returns those
    sent (or skipped) now."""
    reminders.reminders_dispatch(queue=False)
    return reminders.reminders_send_pending()


def sent(since: int = 0) -> list[tuple[str, str]]:
    """(recipient, occasion) of each reminder email in the outbox from index `since`."""
    return [
        (m.to[0].split("@")[0], m.extra_headers["X-Pillarwise-Reminder"].split(":")[0])
        for m in mail.outbox[since:]
    ]


def days(start: date, end: date):
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


@pytest.fixture
def without_phase_announcements(monkeypatch):
    """Leave the phase-start announcements out of the dispatcher, for tests about the other
    occasions (the announcements have tests of their own and are in the time-travel tests)."""
    monkeypatch.setattr(
        occasions,
        "OCCASIONS",
        tuple(o for o in occasions.OCCASIONS if o is not occasions._phase_start),
    )


@pytest.fixture
def reminders_any_day(cast):
    """The cast's teams send reminders every day of the week from 06:00, so that a sweep at
    08:00 UTC sends what it finds at once: for tests about who gets which reminder on which
    day (the hour and the working days have tests of their own, test_reminder_hours.py)."""
    Team.objects.filter(pk__in=[cast.team.pk, cast.other_team.pk]).update(
        reminder_hour=6, working_days="1234567"
    )
