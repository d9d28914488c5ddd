"""The job mechanism on real services: real Celery workers on Redis, against the test
database, meeting real failures. A worker killed mid-render, a mail server that refuses
for a while, a broker that is down when a job is queued, and an exhausted job put back by
an admin: each job is done, once, with no click."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from actions import documents
from actions.models import PlanDocument, PlanRecap, Reminder
from config.celery import app
from reviews import invitations
from reviews.models import InvitationEmail, ReviewSession
from tests.actions.cadence_helpers import make_session
from tests.actions.pdf_helpers import pdf_text, plan_session
from tests.conftest import HTMX, PrivateRedis, SmtpServer, Worker, make_user

pytestmark = [pytest.mark.redis, pytest.mark.worker]

# Retries and sweeps every second: the outages below last seconds, not minutes.
FAST = {"JOB_BACKOFF_SECONDS": "1", "JOB_BACKOFF_MAX_SECONDS": "1", "JOB_SWEEP_SECONDS": "1"}


def wait_for(condition: Callable[[], bool], what: str, *, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_render_is_replaced_and_the_pdf_made_once_with_no_click(
    client, cast, review, media_root, tmp_path, start_worker
):
    marker = tmp_path / "rendering"
    env = {**FAST, "PDF_TIME_LIMIT": "5", "SLOW_RENDER_MARKER": str(marker)}
    first = start_worker(beat=True, env=env, app="tests.reviews.slow_render")
    actions = plan_session(cast, review, actions=2, answers=4)
    document = documents.plan_document_request(session=review, user=cast.admin)

    wait_for(marker.exists, "the render to start")
    document.refresh_from_db()
    assert (document.status, document.attempts) == (PlanDocument.Status.RUNNING, 1)
    first.kill()

    client.force_login(cast.member)
    page = client.get(reverse("actions:plan_documents", args=[review.uuid]), **HTMX)
    assert "Generating…" in page.content.decode(), "the page shows progress meanwhile"

    second = start_worker(beat=True, env=env, app="tests.reviews.slow_render")

    def finished() -> bool:
        document.refresh_from_db()
        return document.status in (PlanDocument.Status.DONE, PlanDocument.Status.FAILED)

    wait_for(finished, "the PDF")
    log = second.log()[-3000:]
    assert document.status == PlanDocument.Status.DONE, f"{document.last_error}\n{log}"
    assert document.attempts == 2 and PlanDocument.objects.count() == 1
    assert sorted(p.name for p in (media_root / "plans").iterdir()) == [
        document.file.name.split("/")[-1]
    ]
    text = pdf_text(default_storage.open(document.file.name).read())
    assert all(action.title in text for action in actions)


@pytest.mark.django_db(transaction=True)
def test_mail_refused_for_several_sweeps_then_accepted_delivers_each_email_once(
    cast, lenses, smtp_server: SmtpServer, start_worker, reminders_at_midday
):
    smtp_server.refuse_first = 3
    env = {**FAST, "EMAIL_URL": smtp_server.url, "REMINDER_DISPATCH_SECONDS": "1"}
    session = make_session(cast, starts=timezone.now() + timedelta(days=1))
    # One email per person: preparation is not announced (it starts tomorrow in this test).
    ReviewSession.objects.filter(pk=session.pk).update(
        preparation_starts_on=timezone.localdate() + timedelta(days=1)
    )
    worker = start_worker(beat=True, env=env)
    invitations.invitation_create(
        session=session, user=cast.admin, email="new@example.com", role="operations"
    )
    people = ["alice@example.com", "bob@example.com", "new@example.com"]

    def delivered() -> bool:
        return all(smtp_server.received(address) for address in people)

    wait_for(delivered, "every email")
    # Let a few more sweeps and dispatches run: none may send anything again.
    sweeps = worker.log().count("reviews.tasks.sweep_jobs[")
    wait_for(lambda: worker.log().count("reviews.tasks.sweep_jobs[") >= sweeps + 3, "sweeps")

    log = worker.stop()
    assert {address: len(smtp_server.received(address)) for address in people} == dict.fromkeys(
        people, 1
    ), log[-3000:]
    assert smtp_server.refused == dict.fromkeys(people, 3)
    assert set(Reminder.objects.values_list("status", "attempts")) == {(Reminder.Status.SENT, 4)}
    email = InvitationEmail.objects.get()
    assert (email.status, email.attempts) == (InvitationEmail.Status.SENT, 4)
    assert email.invitation.sent_at is not None
    assert b"Subject: Tomorrow: the Well-Architected review" in smtp_server.received(people[0])[0]


@pytest.fixture
def broker(
    start_worker: Callable[..., Worker], private_redis: PrivateRedis
) -> Iterator[PrivateRedis]:
    """This process's Celery app sends its messages to a private Redis (not started yet),
    once start_worker has emptied the usual queue."""
    before = app.conf.broker_url

    def use(url: str) -> None:
        app.conf.broker_url = url
        app._pool = None
        app.amqp._producer_pool = None

    use(private_redis.url)
    yield private_redis
    use(before)


@pytest.mark.django_db(transaction=True)
def test_a_job_queued_while_the_broker_is_down_runs_once_it_is_back(
    client, cast, review, broker: PrivateRedis, tmp_path, start_worker
):
    client.force_login(cast.admin)
    url = reverse("reviews:invitation_create", args=[review.uuid])

    response = client.post(url, {"email": "new@example.com", "role": "operations"})

    assert response.status_code == 302, "the invitation is committed: the request succeeds"
    email = InvitationEmail.objects.get()
    assert (email.status, email.queued_at, email.attempts) == ("pending", None, 0)

    broker.start()
    outbox = tmp_path / "mail"
    outbox.mkdir()
    worker = start_worker(
        beat=True, env={**FAST, "REDIS_URL": broker.url, "EMAIL_URL": f"file://{outbox}"}
    )

    def sent() -> bool:
        email.refresh_from_db()
        return email.status == InvitationEmail.Status.SENT

    wait_for(sent, "the invitation email")
    log = worker.stop()
    assert email.attempts == 1, log[-3000:]
    mails = [path.read_text() for path in outbox.iterdir()]
    assert sum(text.count("To: new@example.com") for text in mails) == 1
    assert "reviews.tasks.sweep_jobs" in log and "send_invitation_email" in log


@pytest.mark.django_db(transaction=True)
def test_an_exhausted_job_shows_in_the_admin_and_the_requeue_runs_it_once_more(
    client, cast, review, tmp_path, start_worker, reminders_at_midday
):
    failed = {"status": "failed", "attempts": 10, "last_error": "SMTPException: refused"}
    exhausted = PlanRecap.objects.create(
        session=review, recipients=["alice@example.com"], context=RECAP, **failed
    )
    given_up = PlanRecap.objects.create(
        session=review, recipients=["bob@example.com"], context=RECAP, **{**failed, "attempts": 1}
    )
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    changelist = reverse("admin:actions_planrecap_changelist")

    listed = client.get(changelist, {"job": "exhausted"})
    assert listed.status_code == 200
    assert list(listed.context["cl"].result_list) == [exhausted]
    assert given_up not in client.get(changelist, {"job": "exhausted"}).context["cl"].result_list

    outbox = tmp_path / "mail"
    outbox.mkdir()
    worker = start_worker(env={"EMAIL_URL": f"file://{outbox}"})
    response = client.post(
        changelist + "?job=exhausted",
        {"action": "requeue", "_selected_action": [exhausted.pk]},
        follow=True,
    )
    assert "1 job(s) put back in line" in response.content.decode()

    def done() -> bool:
        exhausted.refresh_from_db()
        return exhausted.status == PlanRecap.Status.DONE

    wait_for(done, "the recap")
    log = worker.stop()
    assert exhausted.attempts == 1 and exhausted.last_error == "", log[-3000:]
    mails = [path.read_text() for path in outbox.iterdir()]
    assert sum(text.count("To: alice@example.com") for text in mails) == 1
    given_up.refresh_from_db()
    assert given_up.status == PlanRecap.Status.FAILED, "only the selected job"
    assert not client.get(changelist, {"job": "exhausted"}).context["cl"].result_list


RECAP = {
    "workload": "Checkout",
    "session": "Checkout review",
    "published_on": "1 March 2027",
    "plan_url": "http://127.0.0.1:8000/",
    "attendees": [],
    "attendance_confirmed": False,
    "key_findings": [],
    "finding_count": 0,
    "actions": [],
    "next_steps": [],
}
