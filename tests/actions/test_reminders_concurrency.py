"""Two dispatchers sweeping at the same moment, each with its own database connection, and
every reminder message delivered twice: each reminder still goes out exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from actions import reminders
from actions.models import Reminder
from tests.actions.cadence_helpers import make_action, make_session, travel
from tests.conftest import make_user, require_postgres

pytestmark = pytest.mark.postgres


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_in_parallel_send_each_reminder_once(cast, lenses):
    require_postgres()
    # A Wednesday at 10:00 UTC: after the team's hour, so everything found goes at once.
    with travel(date(2027, 3, 10), 10):
        dispatch_twice_at_once(cast)


def dispatch_twice_at_once(cast):
    session = make_session(cast, starts=timezone.now() + timedelta(days=1))
    for n in range(15):
        user = make_user(f"engineer{n}")
        session.participants.create(user=user, role="operations")
    tomorrow = timezone.localdate() + timedelta(days=1)
    for n in range(40):
        make_action(session, cast.member, title=f"Action {n}", due_on=tomorrow)
    # Preparation has started and the review is tomorrow, for every participant; each action
    # is due tomorrow.
    expected = 17 + 17 + 40

    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def dispatcher():
        try:
            barrier.wait(timeout=10)
            for _ in range(3):
                reminders.reminders_dispatch()
                # Every pending reminder, as if each message were delivered to both workers.
                pending = Reminder.objects.filter(status=Reminder.Status.PENDING)
                for reminder_id in pending.values_list("pk", flat=True):
                    reminders.reminder_send(reminder_id=reminder_id)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    keys = Counter(m.extra_headers["X-Pillarwise-Reminder"] for m in mail.outbox)
    assert len(keys) == expected
    assert set(keys.values()) == {1}, [key for key, n in keys.items() if n > 1]
    assert Reminder.objects.count() == expected
    assert set(Reminder.objects.values_list("status", flat=True)) == {Reminder.Status.SENT}
    assert set(Reminder.objects.values_list("attempts", flat=True)) == {1}
