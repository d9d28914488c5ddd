"""Each phase of a review is announced to the people who act in it: preparation to every
participant but observers, the analysis to the raters, the action plan to the facilitator
and the workload owner. Observers get no preparation reminders and are not counted as
unprepared."""

from __future__ import annotations

from datetime import date

import pytest
from django.core import mail

from actions.models import Notification
from reviews import sessions
from reviews.models import Membership, Participant, ParticipantRole, Phase, ReviewSession, Workload
from tests.actions.cadence_helpers import at, make_session, sent, sweep, travel
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("lenses")


def engineer(cast, session, role: str):
    """Eve, an engineer of the team, taking part in `session` in `role`."""
    eve = make_user("eve")
    Membership.objects.create(team=cast.team, user=eve, role=Membership.Role.MEMBER)
    Participant.objects.create(session=session, user=eve, role=role)
    return eve


def on(day: date, hour: int = 9) -> list[tuple[str, str]]:
    before = len(mail.outbox)
    with travel(day, hour):
        sweep()
    return sorted(sent(before))


@pytest.fixture
def session(cast):
    """A review on Monday 15 March 2027 (preparation from 1 March), planned on 22 February:
    alice facilitates, bob owns the workload, fay is finance, the viewer observes."""
    with travel(date(2027, 2, 22)):
        session = make_session(cast, starts=at(date(2027, 3, 15), 10))
    Participant.objects.create(session=session, user=cast.finance, role=ParticipantRole.FINANCE)
    Participant.objects.create(session=session, user=cast.viewer, role=ParticipantRole.OBSERVER)
    return session


def test_preparation_start_goes_to_every_participant_but_observers(cast, session):
    assert on(date(2027, 2, 28)) == []
    assert on(date(2027, 3, 1)) == [
        ("alice", "phase_start"),
        ("bob", "phase_start"),
        ("fay", "phase_start"),
    ]
    assert on(date(2027, 3, 2)) == []
    message = next(m for m in mail.outbox if m.to == [cast.finance.email])
    assert message.subject == "Preparation starts for the Checkout review"
    assert "You take part as finance." in message.body
    assert Notification.objects.filter(user=cast.finance).count() == 1


def test_someone_added_later_hears_of_the_preparation_then(cast, session):
    on(date(2027, 3, 1))
    engineer(cast, session, ParticipantRole.OPERATIONS)
    assert on(date(2027, 3, 4)) == [("eve", "phase_start")]


def test_the_analysis_is_announced_to_the_raters(cast, session):
    on(date(2027, 3, 1))
    engineer(cast, session, ParticipantRole.SECURITY)
    on(date(2027, 3, 2))
    ReviewSession.objects.filter(pk=session.pk).update(phase=Phase.ANALYSIS)
    assert on(date(2027, 3, 15), 18) == [
        ("bob", "phase_start"),
        ("eve", "phase_start"),
        ("fay", "phase_start"),
    ]
    assert "rate its findings" in mail.outbox[-1].subject


def test_the_action_plan_is_announced_to_the_facilitator_and_the_owner(cast, session):
    on(date(2027, 3, 1))
    ReviewSession.objects.filter(pk=session.pk).update(phase=Phase.ACTION_PLAN)
    assert on(date(2027, 3, 23)) == [("alice", "phase_start"), ("bob", "phase_start")]


def test_observers_get_no_preparation_reminders_and_are_not_counted_unprepared(cast, session):
    on(date(2027, 3, 1))
    assert on(date(2027, 3, 8)) == [
        ("alice", "preparation"),
        ("bob", "preparation"),
        ("fay", "preparation"),
    ]
    assert ("viewer", "review_tomorrow") not in on(date(2027, 3, 14))
    readiness = sessions.readiness(session)
    assert readiness["total"] == 3 and len(readiness["participants"]) == 4


def test_a_post_incident_review_is_announced_to_the_owner_on_the_day(cast, lenses):
    with travel(date(2027, 3, 2), 10):
        sessions.incident_record(
            workload=cast.workload,
            user=cast.admin,
            occurred_on=date(2027, 3, 1),
            summary="Checkout down",
        )
    assert on(date(2027, 3, 2), 11) == [("alice", "phase_start"), ("bob", "phase_start")]


@pytest.mark.parametrize(
    ("workload_type", "words"),
    [("internal", "an internal application"), ("batch", "a batch")],
)
def test_the_analysis_due_email_says_a_or_an(cast, session, workload_type, words):
    Workload.objects.filter(pk=cast.workload.pk).update(workload_type=workload_type)
    ReviewSession.objects.filter(pk=session.pk).update(phase=Phase.ANALYSIS)
    on(date(2027, 3, 22))
    message = next(
        m
        for m in mail.outbox
        if m.extra_headers["X-Pillarwise-Reminder"].startswith("analysis_due")
    )
    assert f"what matters most for {words}" in message.body
    assert "is due today, Monday 22 March" in message.body and "planned for" not in message.body
