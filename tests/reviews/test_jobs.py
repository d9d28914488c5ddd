"""The background-job mechanism (reviews.jobs): claiming a row by one conditional update,
the lease, finishing, failing with backoff, exhaustion, the sweep, queueing on commit
(and a broker that cannot be reached), the requeue. A reminder row stands for any job."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from actions.models import Occasion, PlanDocument, PlanRecap, Reminder
from reviews import invitations, jobs
from reviews.jobs import JobStatus, job_claim, job_fail, job_finish, job_sweep
from reviews.models import Invitation, InvitationEmail, TeamInvitationEmail
from tests.conftest import make_user, require_postgres

JOB_MODELS = {PlanDocument, PlanRecap, Reminder, InvitationEmail, TeamInvitationEmail}
Status = Reminder.Status


def make_job(user, n: int = 0, **fields) -> Reminder:
    now = timezone.now() - timedelta(seconds=1)
    values = {"due_at": now, "queued_at": now, "next_attempt_at": now, **fields}
    return Reminder.objects.create(
        key=f"test:{n}", occasion=Occasion.ACTION_DUE, recipient=user, **values
    )


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, int]]:
    """The job messages sent to the broker (task name, row id), instead of sending them."""
    messages: list[tuple[str, int]] = []
    for model in JOB_MODELS:
        task = jobs.task_named(model.TASK)
        monkeypatch.setattr(
            task, "apply_async", lambda args, name=task.name: messages.append((name, *args))
        )
    return messages


def row(job: Reminder) -> Reminder:
    return Reminder.objects.get(pk=job.pk)


# --- The job models and their tasks ----------------------------------------------------------


def test_the_five_jobs_use_the_mechanism():
    assert set(jobs.job_models()) == JOB_MODELS


@pytest.mark.parametrize("model", sorted(JOB_MODELS, key=str), ids=lambda m: m.__name__)
def test_each_job_model_has_a_registered_task_and_the_mechanisms_statuses(model):
    assert jobs.task_named(model.TASK).name == model.TASK
    values = {value for value, _ in model._meta.get_field("status").choices}
    assert {"pending", "running", "failed"} <= values
    assert timedelta(seconds=jobs.task_named(model.TASK).time_limit) < model.LEASE


@pytest.mark.parametrize("entry", sorted(settings.CELERY_BEAT_SCHEDULE))
def test_every_task_of_the_beat_schedule_is_registered(entry):
    name = settings.CELERY_BEAT_SCHEDULE[entry]["task"]
    assert jobs.task_named(name).name == name


def test_the_sweep_is_scheduled_every_minute_and_a_late_one_is_dropped():
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-jobs"]
    assert entry["task"] == "reviews.tasks.sweep_jobs"
    assert entry["schedule"] == 60.0 and entry["options"]["expires"] < 60


# --- Claiming --------------------------------------------------------------------------------


def test_a_pending_due_row_is_claimed_once(cast):
    job = make_job(cast.member)
    now = timezone.now()

    claimed = job_claim(Reminder, job.pk, now=now)

    assert claimed is not None and claimed.status == Status.RUNNING
    assert (claimed.attempts, claimed.started_at) == (1, now)
    assert claimed.lease_expires_at == now + Reminder.LEASE
    assert job_claim(Reminder, job.pk, now=now) is None
    assert row(job).attempts == 1


def test_a_row_not_due_yet_is_not_claimed(cast):
    now = timezone.now()
    job = make_job(cast.member, next_attempt_at=now + timedelta(seconds=30))
    assert job_claim(Reminder, job.pk, now=now) is None
    assert job_claim(Reminder, job.pk, now=now + timedelta(seconds=30)) is not None


@pytest.mark.parametrize("status", [Status.SENT, Status.SKIPPED, Status.FAILED])
def test_a_finished_row_is_never_claimed(cast, status):
    job = make_job(cast.member, status=status, attempts=1)
    assert job_claim(Reminder, job.pk, now=timezone.now() + timedelta(days=1)) is None


def test_a_claim_whose_lease_expired_is_taken_again_and_the_first_cannot_end_it(cast):
    job = make_job(cast.member)
    now = timezone.now()
    first = job_claim(Reminder, job.pk, now=now)
    assert first is not None

    assert job_claim(Reminder, job.pk, now=now + Reminder.LEASE - timedelta(seconds=1)) is None
    second = job_claim(Reminder, job.pk, now=now + Reminder.LEASE)

    assert second is not None and second.attempts == 2
    assert job_finish(first, status=Status.SENT) is False, "the first claim was lost"
    assert row(job).status == Status.RUNNING
    assert job_finish(second, status=Status.SENT) is True
    assert (row(job).status, row(job).lease_expires_at) == (Status.SENT, None)


def test_the_last_attempts_lease_expiring_is_not_claimed_but_failed_by_the_sweep(cast, sent):
    job = make_job(cast.member, attempts=Reminder._meta.get_field("max_attempts").default - 1)
    now = timezone.now()
    assert job_claim(Reminder, job.pk, now=now) is not None

    later = now + Reminder.LEASE
    assert job_claim(Reminder, job.pk, now=later) is None
    swept = job_sweep(Reminder, now=later)

    assert swept.failed == 1 and swept.requeued == [] and sent == []
    failed = row(job)
    assert failed.status == Status.FAILED and failed.is_exhausted
    assert "last attempt" in failed.last_error


# --- Finishing and failing -------------------------------------------------------------------


def test_finishing_records_the_outcome_and_clears_the_error(cast):
    job = make_job(cast.member, last_error="earlier trouble")
    claimed = job_claim(Reminder, job.pk)

    assert job_finish(claimed, status=Status.SENT, delivered="email")

    done = row(job)
    assert (done.status, done.delivered, done.last_error) == (Status.SENT, "email", "")
    assert done.finished_at is not None and done.lease_expires_at is None


def test_a_failed_attempt_waits_for_the_backoff_before_it_is_claimed_again(cast, settings):
    settings.JOB_BACKOFF_SECONDS = 30
    job = make_job(cast.member)
    now = timezone.now()
    claimed = job_claim(Reminder, job.pk, now=now)

    assert job_fail(claimed, "SMTPException: 451 try again later", now=now)

    waiting = row(job)
    assert (waiting.status, waiting.attempts) == (Status.PENDING, 1)
    assert waiting.next_attempt_at == now + timedelta(seconds=30)
    assert waiting.queued_at is None and waiting.lease_expires_at is None
    assert waiting.last_error == "SMTPException: 451 try again later"
    assert job_claim(Reminder, job.pk, now=now + timedelta(seconds=29)) is None
    assert job_claim(Reminder, job.pk, now=now + timedelta(seconds=30)).attempts == 2


def test_the_backoff_doubles_up_to_its_maximum(settings):
    settings.JOB_BACKOFF_SECONDS = 30
    settings.JOB_BACKOFF_MAX_SECONDS = 3600
    delays = [jobs.backoff(n).total_seconds() for n in range(1, 10)]
    assert delays == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert jobs.backoff(30000).total_seconds() == 3600


def test_a_row_fails_for_good_after_its_last_attempt(cast):
    job = make_job(cast.member, max_attempts=3)
    now = timezone.now()
    for attempt in range(1, 4):
        claimed = job_claim(Reminder, job.pk, now=now)
        assert claimed is not None and claimed.attempts == attempt
        job_fail(claimed, "OSError: connection refused", now=now)
        now = row(job).next_attempt_at

    exhausted = row(job)
    assert (exhausted.status, exhausted.attempts) == (Status.FAILED, 3)
    assert exhausted.is_exhausted and exhausted.finished_at is not None
    assert list(Reminder.objects.exhausted()) == [exhausted]
    assert job_claim(Reminder, job.pk, now=now + timedelta(days=1)) is None


def test_an_error_not_worth_retrying_fails_at_once_without_being_exhausted(cast):
    job = make_job(cast.member)
    claimed = job_claim(Reminder, job.pk)

    job_fail(claimed, "KeyError: 'session'", retry=False)

    failed = row(job)
    assert (failed.status, failed.attempts) == (Status.FAILED, 1)
    assert not failed.is_exhausted and not Reminder.objects.exhausted().exists()


# --- The sweep -------------------------------------------------------------------------------


def test_the_sweep_sends_again_exactly_what_needs_a_message(
    cast, sent, django_capture_on_commit_callbacks
):
    now = timezone.now()
    lost_at = now - Reminder.LOST_AFTER
    user = cast.member
    never_sent = make_job(user, 1, queued_at=None)
    lost = make_job(user, 2, queued_at=lost_at)
    in_flight = make_job(user, 3, queued_at=now - timedelta(seconds=10))
    backing_off = make_job(user, 4, queued_at=None, next_attempt_at=now + timedelta(seconds=5))
    retry_due = make_job(user, 5, queued_at=None, attempts=1, next_attempt_at=now)
    running = make_job(
        user, 6, status=Status.RUNNING, attempts=1, lease_expires_at=now + timedelta(seconds=5)
    )
    dead = make_job(
        user, 7, status=Status.RUNNING, attempts=1, lease_expires_at=now, queued_at=lost_at
    )
    make_job(user, 8, status=Status.SENT, queued_at=lost_at)
    make_job(user, 9, status=Status.FAILED, queued_at=lost_at)

    with django_capture_on_commit_callbacks(execute=True):
        swept = job_sweep(Reminder, now=now)

    expected = [never_sent.pk, lost.pk, retry_due.pk, dead.pk]
    assert swept.requeued == expected and swept.failed == 0
    assert sent == [(Reminder.TASK, pk) for pk in expected]
    assert all(row(Reminder(pk=pk)).queued_at == now for pk in expected)
    assert row(in_flight).queued_at < now and row(backing_off).queued_at is None
    assert row(dead).status == Status.RUNNING, "claimed again by the worker that gets it"
    assert row(running).queued_at == running.queued_at

    assert job_sweep(Reminder, now=now + timedelta(seconds=1)).requeued == []
    assert job_claim(Reminder, dead.pk, now=now).attempts == 2


def test_the_sweep_goes_through_a_backlog_larger_than_its_batch(
    cast, sent, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(jobs, "SWEEP_BATCH", 3)
    rows = [make_job(cast.member, n, queued_at=None) for n in range(7)]

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        swept = job_sweep(Reminder)

    assert swept.requeued == [job.pk for job in rows]
    assert sorted(pk for _, pk in sent) == [job.pk for job in rows]
    assert len(callbacks) == 3, "one transaction per batch"


def test_the_sweep_task_sweeps_every_job_model(
    cast, review, sent, django_capture_on_commit_callbacks
):
    make_job(cast.member, queued_at=None)
    recap = PlanRecap.objects.create(session=review, recipients=["a@example.com"])
    invitation = Invitation.objects.create(
        session=review, email="x@example.com", role="operations", expires_at=timezone.now()
    )
    email = InvitationEmail.objects.create(invitation=invitation, nonce=0)
    document = PlanDocument.objects.create(session=review, version=1)

    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.task_named("reviews.tasks.sweep_jobs").run() == 4

    assert sorted(sent) == sorted(
        [
            (Reminder.TASK, Reminder.objects.get().pk),
            (PlanRecap.TASK, recap.pk),
            (InvitationEmail.TASK, email.pk),
            (PlanDocument.TASK, document.pk),
        ]
    )


# --- Queueing on commit ----------------------------------------------------------------------


def test_the_task_is_sent_only_once_the_transaction_commits(
    cast, sent, django_capture_on_commit_callbacks
):
    job = make_job(cast.member)
    with django_capture_on_commit_callbacks() as callbacks:
        jobs.job_queue(Reminder, [job.pk])
        assert sent == [], "nothing is sent before the commit"
    assert len(callbacks) == 1
    callbacks[0]()
    assert sent == [(Reminder.TASK, job.pk)]


def test_a_rolled_back_transaction_sends_nothing(cast, sent):
    class RolledBack(Exception):
        pass

    with pytest.raises(RolledBack), transaction.atomic():
        jobs.job_queue(Reminder, [make_job(cast.member).pk])
        raise RolledBack
    assert sent == []


def test_an_unknown_task_fails_at_once_inside_the_transaction(cast, monkeypatch):
    monkeypatch.setattr(Reminder, "TASK", "actions.tasks.no_such_task")
    with pytest.raises(KeyError), transaction.atomic():
        jobs.job_queue(Reminder, [make_job(cast.member).pk])


@pytest.fixture
def broker_down(monkeypatch) -> list[str]:
    """Every job task's message fails to reach the broker, as kombu reports it."""
    tried: list[str] = []

    def unreachable(args, name=""):
        tried.append(name)
        raise BrokerError("Error 111 connecting to 127.0.0.1:6399. Connection refused.")

    for model in JOB_MODELS:
        task = jobs.task_named(model.TASK)
        monkeypatch.setattr(task, "apply_async", lambda args, n=task.name: unreachable(args, n))
    return tried


def test_an_unreachable_broker_is_logged_and_the_rows_wait_for_the_sweep(
    cast, broker_down, caplog, django_capture_on_commit_callbacks
):
    rows = [make_job(cast.member, n) for n in range(3)]

    with django_capture_on_commit_callbacks(execute=True):
        jobs.job_queue(Reminder, [job.pk for job in rows])

    assert broker_down == [Reminder.TASK], "it stops at the first failure"
    assert all(row(job).queued_at is None and row(job).status == Status.PENDING for job in rows)
    assert "the sweep will send them" in caplog.text
    assert job_sweep(Reminder, now=timezone.now()).requeued == [job.pk for job in rows]


def test_a_committed_request_succeeds_when_the_broker_is_unreachable(
    client, cast, review, broker_down, django_capture_on_commit_callbacks
):
    """Inviting someone commits the invitation; the email's message cannot be sent: the
    page still answers as usual, and the email is sent by the next sweep."""
    client.force_login(cast.admin)
    url = reverse("reviews:invitation_create", args=[review.uuid])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"email": "new@example.com", "role": "operations"})

    assert response.status_code == 302
    email = InvitationEmail.objects.get(invitation__email="new@example.com")
    assert (email.status, email.queued_at, email.attempts) == (JobStatus.PENDING, None, 0)
    assert broker_down == [InvitationEmail.TASK] and mail.outbox == []


def test_the_embedded_setup_runs_the_task_in_this_process_on_commit(
    cast, review, django_capture_on_commit_callbacks
):
    """Eager mode (no REDIS_URL): queueing by name still runs the task here, on commit."""
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invitations.invitation_create(
            session=review, user=cast.admin, email="new@example.com", role="operations"
        )
    assert [m.to for m in mail.outbox] == [["new@example.com"]]
    assert Invitation.objects.get(pk=invitation.pk).sent_at is not None


# --- The requeue -----------------------------------------------------------------------------


def test_requeue_puts_failed_rows_back_in_line_and_leaves_the_others(
    cast, sent, django_capture_on_commit_callbacks
):
    failed = make_job(cast.member, 1, status=Status.FAILED, attempts=10, last_error="down")
    done = make_job(cast.member, 2, status=Status.SENT, attempts=1)
    pending = make_job(cast.member, 3)

    with django_capture_on_commit_callbacks(execute=True):
        taken = jobs.job_requeue(Reminder, [failed.pk, done.pk, pending.pk])

    assert taken == [failed.pk] and sent == [(Reminder.TASK, failed.pk)]
    again = row(failed)
    assert (again.status, again.attempts, again.last_error) == (Status.PENDING, 0, "")
    assert again.next_attempt_at <= timezone.now() and again.queued_at is not None
    assert row(done).status == Status.SENT and row(pending).attempts == 0


# --- Two claimers at once (PostgreSQL) -------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_claimers_never_take_the_same_row(cast):
    require_postgres()
    rows = [make_job(cast.member, n) for n in range(40)]
    ids = [job.pk for job in rows]
    start = threading.Barrier(2)
    taken: dict[str, list[int]] = {"a": [], "b": []}
    errors: list[BaseException] = []

    def claimer(name: str) -> None:
        try:
            start.wait()
            for pk in ids:
                if job_claim(Reminder, pk) is not None:
                    taken[name].append(pk)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=claimer, args=(name,)) for name in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(taken["a"] + taken["b"]) == ids, "every row claimed exactly once"
    assert set(Reminder.objects.values_list("attempts", flat=True)) == {1}


# --- The admin of job rows -------------------------------------------------------------------


@pytest.mark.parametrize("model", sorted(JOB_MODELS, key=str), ids=lambda m: m.__name__)
@pytest.mark.parametrize("state", ["exhausted", "retrying", "lease_expired"])
def test_every_job_list_in_the_admin_filters_by_job_state(client, db, model, state):
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    response = client.get(url, {"job": state})
    assert response.status_code == 200
    assert "requeue" in dict(
        response.context["cl"].model_admin.get_action_choices(response.wsgi_request)
    )


def test_the_admin_filter_finds_each_state(client, cast):
    now = timezone.now()
    exhausted = make_job(cast.member, 1, status=Status.FAILED, attempts=10)
    make_job(cast.member, 2, status=Status.FAILED, attempts=1)
    retrying = make_job(cast.member, 3, attempts=2, next_attempt_at=now + timedelta(minutes=1))
    lost = make_job(cast.member, 4, status=Status.RUNNING, attempts=1, lease_expires_at=now)
    make_job(cast.member, 5, status=Status.RUNNING, attempts=1, lease_expires_at=now + timedelta(1))
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    url = reverse("admin:actions_reminder_changelist")

    def listed(state: str) -> list[Reminder]:
        return list(client.get(url, {"job": state}).context["cl"].result_list)

    assert listed("exhausted") == [exhausted]
    assert listed("retrying") == [retrying]
    assert listed("lease_expired") == [lost]


def test_staff_who_may_only_view_jobs_cannot_requeue_them(client, cast, sent):
    failed = make_job(cast.member, status=Status.FAILED, attempts=10)
    viewer = make_user("auditor", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_reminder"))
    client.force_login(viewer)
    url = reverse("admin:actions_reminder_changelist")

    page = client.get(url)
    assert page.status_code == 200 and "requeue" not in page.content.decode()
    response = client.post(url, {"action": "requeue", "_selected_action": [failed.pk]})

    assert response.status_code in (200, 302, 403)
    assert row(failed).status == Status.FAILED and sent == []


def test_outsiders_cannot_reach_the_job_admin(client, cast):
    client.force_login(cast.outsider)
    response = client.get(reverse("admin:actions_reminder_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
