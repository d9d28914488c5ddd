"""The migrations of team membership fill in what older rows did not say: an account that
accepted an emailed invitation at its own address has verified it, and a notification
names the team of its reminder's subject (so that leaving the team hides it)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from actions.models import Notification
from reviews.models import VerifiedEmail
from tests.actions.cadence_helpers import make_action

BEFORE = [("actions", "0003_jobs_in_flight"), ("reviews", "0004_invitation_emails_to_send")]


@pytest.mark.django_db(transaction=True)
def test_older_rows_are_filled_in(cast, review):
    action = make_action(review, cast.member, title="x")
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    now = timezone.now()
    invitation = old.get_model("reviews", "Invitation")
    for user, email in ((cast.member, "bob@example.com"), (cast.finance, "fay@elsewhere.org")):
        invitation.objects.create(
            session_id=review.pk, email=email, role="operations", expires_at=now + timedelta(days=7),
            accepted_at=now, accepted_by_id=user.pk,
        )  # fmt: skip
    reminder = old.get_model("actions", "Reminder")
    notification = old.get_model("actions", "Notification")
    about_action = notification.objects.create(
        user_id=cast.member.pk, occasion="action_due", title="due",
        reminder=reminder.objects.create(
            key="a", due_at=now, occasion="action_due", recipient_id=cast.member.pk,
            payload={"action": action.pk, "due_on": "2030-01-01"},
        ),
    )  # fmt: skip
    about_session = notification.objects.create(
        user_id=cast.member.pk, occasion="analysis_due", title="analysis",
        reminder=reminder.objects.create(
            key="b", due_at=now, occasion="analysis_due", recipient_id=cast.member.pk,
            payload={"session": review.pk, "due_on": "2030-01-01"},
        ),
    )  # fmt: skip
    digest = notification.objects.create(
        user_id=cast.member.pk, occasion="weekly_digest", title="digest",
        reminder=reminder.objects.create(
            key="c", due_at=now, occasion="weekly_digest", recipient_id=cast.member.pk, payload={"week": "x"}
        ),
    )  # fmt: skip

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert list(VerifiedEmail.objects.values_list("user_id", "email")) == [
        (cast.member.pk, "bob@example.com")  # fay accepted at another address than her own
    ]
    teams = dict(Notification.objects.values_list("pk", "team_id"))
    assert teams == {about_action.pk: cast.team.pk, about_session.pk: cast.team.pk, digest.pk: None}
