"""The action-plan PDF job: requesting a version, generating it once whatever the messages,
failing with the error, retrying transient errors, and the sweep."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from actions import documents, pdf, tasks
from actions.models import PlanDocument
from reviews import jobs
from reviews.errors import ServiceError
from tests.actions.pdf_helpers import owners_of, pdf_text, pending_document, plan_session

Status = PlanDocument.Status

pytestmark = pytest.mark.usefixtures("media_root")


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """Record the documents whose task is sent, instead of sending it."""
    sent: list[int] = []
    monkeypatch.setattr(tasks.generate_plan_document, "apply_async", lambda args: sent.extend(args))
    return sent


def stored_files(media_root) -> list[str]:
    folder = media_root / "plans"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- Generating ------------------------------------------------------------------------------


def test_the_job_stores_a_pdf_of_the_plan(cast, review, media_root):
    actions = plan_session(cast, review, actions=4)
    document = pending_document(review)

    result = pdf.plan_document_generate(document_id=document.pk)

    document.refresh_from_db()
    assert result is not None and document.status == Status.DONE and document.last_error == ""
    assert document.file.name == f"plans/checkout-{review.uuid.hex[:8]}-v1.pdf"
    content = default_storage.open(document.file.name).read()
    assert content.startswith(b"%PDF-")
    assert document.size_bytes == len(content)
    assert document.page_count == len(PdfReader(io.BytesIO(content)).pages) > 3
    assert document.attempts == 1 and document.started_at <= document.finished_at
    text = pdf_text(content)
    assert "Checkout" in text and "Checkout review" in text
    for action in actions:
        assert action.title in text
    for name in owners_of(actions) | {"Alice Admin"}:
        assert name in text


def test_running_the_job_twice_leaves_one_file_and_one_done_row(cast, review, media_root):
    plan_session(cast, review, actions=1, answers=3)
    document = pending_document(review)

    pdf.plan_document_generate(document_id=document.pk)
    finished = PlanDocument.objects.get(pk=document.pk)
    second = pdf.plan_document_generate(document_id=document.pk)

    assert second is None
    assert PlanDocument.objects.filter(session=review).count() == 1
    again = PlanDocument.objects.get(pk=document.pk)
    assert (again.status, again.attempts, again.finished_at) == (
        Status.DONE,
        1,
        finished.finished_at,
    )
    assert stored_files(media_root) == [again.file.name.split("/")[-1]]


@pytest.mark.parametrize("status", [Status.RUNNING, Status.DONE, Status.FAILED])
def test_a_duplicate_message_for_a_row_not_pending_does_nothing(review, media_root, status):
    stored = {"file": "plans/earlier.pdf"} if status == Status.DONE else {}
    if status == Status.RUNNING:  # its worker is alive: the lease still runs
        stored["lease_expires_at"] = timezone.now() + timedelta(seconds=30)
    document = pending_document(review, status=status, attempts=1, last_error="before", **stored)

    assert pdf.plan_document_generate(document_id=document.pk) is None

    document.refresh_from_db()
    assert (document.status, document.attempts, document.last_error) == (status, 1, "before")
    assert stored_files(media_root) == []


def test_a_rendering_error_marks_the_row_failed_with_the_message(review, media_root, monkeypatch):
    def broken(html):
        raise RuntimeError("the layout engine ran out of paper")

    monkeypatch.setattr(pdf, "render_pdf", broken)
    document = pending_document(review)

    result = pdf.plan_document_generate(document_id=document.pk)

    assert result is not None and result.status == Status.FAILED
    assert result.last_error == "RuntimeError: the layout engine ran out of paper"
    assert result.finished_at is not None and not result.file
    assert stored_files(media_root) == []


def test_a_storage_error_leaves_the_row_pending_until_its_backoff_has_passed(review, monkeypatch):
    def full(name, content):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(default_storage, "save", full)
    document = pending_document(review)
    before = timezone.now()

    result = pdf.plan_document_generate(document_id=document.pk)

    document.refresh_from_db()
    assert result is not None and document.status == Status.PENDING and document.attempts == 1
    assert "No space left on device" in document.last_error
    assert document.next_attempt_at >= before + jobs.backoff(1)
    assert pdf.plan_document_generate(document_id=document.pk) is None, "not due yet"


def test_a_database_error_while_reading_the_plan_is_tried_again(review, monkeypatch):
    def unavailable(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(pdf, "plan_html", unavailable)
    document = pending_document(review)

    pdf.plan_document_generate(document_id=document.pk)

    document.refresh_from_db()
    assert document.status == Status.PENDING and "server closed" in document.last_error


def test_the_last_attempt_fails_the_row_for_good(review, monkeypatch):
    def full(name, content):
        raise OSError("No space left on device")

    monkeypatch.setattr(default_storage, "save", full)
    document = pending_document(review, attempts=PlanDocument().max_attempts - 1)

    result = pdf.plan_document_generate(document_id=document.pk)

    assert result.status == Status.FAILED and result.is_exhausted
    assert result.attempts == result.max_attempts == 4
    assert result.last_error == "OSError: No space left on device"


def test_a_file_left_by_an_earlier_attempt_is_replaced(cast, review, media_root):
    plan_session(cast, review, actions=1, answers=2)
    document = pending_document(review)
    default_storage.save(document.storage_name(), ContentFile(b"half a file"))

    pdf.plan_document_generate(document_id=document.pk)

    document.refresh_from_db()
    assert document.file.name == document.storage_name()
    assert stored_files(media_root) == [document.storage_name().split("/")[-1]]
    assert default_storage.open(document.file.name).read().startswith(b"%PDF-")


def test_the_paper_size_of_the_version_is_used(review):
    document = pending_document(review, paper=PlanDocument.Paper.LETTER)

    pdf.plan_document_generate(document_id=document.pk)

    document.refresh_from_db()
    page = PdfReader(default_storage.open(document.file.name)).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (612, 792)


# --- The task --------------------------------------------------------------------------------


def test_the_task_is_late_acknowledged_and_time_limited_within_the_lease():
    task = tasks.generate_plan_document
    assert task.acks_late is True
    assert (task.soft_time_limit, task.time_limit) == (
        documents.SOFT_TIME_LIMIT,
        documents.TIME_LIMIT,
    )
    assert task.soft_time_limit < task.time_limit < PlanDocument.LEASE.total_seconds()
    assert task.max_retries == 3, "Celery's default: never used, the row is retried instead"


def test_the_task_leaves_a_transient_error_to_the_row_and_raises_nothing(review, monkeypatch):
    monkeypatch.setattr(
        default_storage, "save", lambda name, content: (_ for _ in ()).throw(OSError("full"))
    )
    monkeypatch.setattr(tasks.generate_plan_document, "retry", lambda **kw: pytest.fail("retry"))
    document = pending_document(review)

    tasks.generate_plan_document(document.pk)

    document.refresh_from_db()
    assert (document.status, document.attempts) == (Status.PENDING, 1)


def test_the_task_does_not_retry_a_rendering_error(review, monkeypatch):
    def broken(html):
        raise ValueError("bad markup")

    monkeypatch.setattr(pdf, "render_pdf", broken)
    document = pending_document(review)

    tasks.generate_plan_document(document.pk)

    document.refresh_from_db()
    assert document.status == Status.FAILED and "bad markup" in document.last_error
    assert not document.is_exhausted


# --- Requesting and retrying -----------------------------------------------------------------


def test_requesting_adds_the_next_version_and_queues_it_on_commit(
    cast, review, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = documents.plan_document_request(session=review, user=cast.admin)
        second = documents.plan_document_request(
            session=review, user=cast.member, paper=PlanDocument.Paper.LETTER
        )

    assert (first.version, second.version) == (1, 2)
    assert (first.status, second.status) == (Status.PENDING, Status.PENDING)
    assert second.paper == "letter" and second.requested_by == cast.member
    assert first.queued_at is not None
    assert len(callbacks) == 2 and queued == [first.pk, second.pk]


def test_nothing_is_queued_before_the_transaction_commits(
    cast, review, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        documents.plan_document_request(session=review, user=cast.admin)
    assert queued == [] and len(callbacks) == 1


def test_regenerating_keeps_earlier_versions(cast, review, queued):
    pending_document(review, version=1, status=Status.DONE, file="plans/x-v1.pdf")
    pending_document(review, version=2, status=Status.FAILED, last_error="boom")

    document = documents.plan_document_request(session=review, user=cast.admin)

    assert document.version == 3
    assert list(review.plan_documents.values_list("version", "status")) == [
        (3, Status.PENDING),
        (2, Status.FAILED),
        (1, Status.DONE),
    ]


def test_an_unknown_paper_size_is_refused(cast, review, queued):
    with pytest.raises(ServiceError, match="Paper size"):
        documents.plan_document_request(session=review, user=cast.admin, paper="A3")
    assert not review.plan_documents.exists()


def test_with_eager_tasks_the_document_is_generated_when_the_request_commits(
    cast, review, eager_tasks, django_capture_on_commit_callbacks
):
    plan_session(cast, review, actions=1, answers=2)

    with django_capture_on_commit_callbacks(execute=True):
        document = documents.plan_document_request(session=review, user=cast.admin)

    document.refresh_from_db()
    assert document.status == Status.DONE and document.page_count > 0


def test_with_eager_tasks_a_lasting_storage_error_is_retried_by_the_sweeps_then_fails(
    cast, review, eager_tasks, monkeypatch, django_capture_on_commit_callbacks
):
    def full(name, content):
        raise OSError("No space left on device")

    monkeypatch.setattr(default_storage, "save", full)
    with django_capture_on_commit_callbacks(execute=True):
        document = documents.plan_document_request(session=review, user=cast.admin)
    document.refresh_from_db()
    assert (document.status, document.attempts) == (Status.PENDING, 1)

    for attempt in range(2, document.max_attempts + 1):
        with django_capture_on_commit_callbacks(execute=True):
            early = jobs.job_sweep(
                PlanDocument, now=document.next_attempt_at - timedelta(seconds=1)
            )
        assert early.requeued == [], "not before its backoff has passed"
        with (
            time_machine.travel(document.next_attempt_at, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert jobs.job_sweep(PlanDocument).requeued == [document.pk]
        document.refresh_from_db()
        assert document.attempts == attempt

    assert document.status == Status.FAILED and document.is_exhausted
    assert document.last_error == "OSError: No space left on device"


def test_retrying_a_failed_version_puts_it_back_in_line(review, queued):
    document = pending_document(
        review, status=Status.FAILED, last_error="boom", attempts=4, finished_at=timezone.now()
    )

    documents.plan_document_retry(document=document)

    document.refresh_from_db()
    assert (document.status, document.last_error, document.attempts) == (Status.PENDING, "", 0)
    assert document.finished_at is None and document.version == 1


@pytest.mark.parametrize("status", [Status.PENDING, Status.RUNNING, Status.DONE])
def test_only_a_failed_version_can_be_retried(review, queued, status):
    stored = {"file": "plans/earlier.pdf"} if status == Status.DONE else {}
    document = pending_document(review, status=status, **stored)

    with pytest.raises(ServiceError, match="Only a failed PDF can be retried"):
        documents.plan_document_retry(document=document)

    document.refresh_from_db()
    assert document.status == status


# --- The sweep -------------------------------------------------------------------------------


def test_the_sweep_requeues_pending_versions_a_lost_message_left_behind(
    review, queued, django_capture_on_commit_callbacks
):
    now = timezone.now()
    stale = pending_document(review, version=1, next_attempt_at=now)
    fresh = pending_document(review, version=2, next_attempt_at=now)
    PlanDocument.objects.filter(pk=stale.pk).update(queued_at=now - timedelta(minutes=2))
    PlanDocument.objects.filter(pk=fresh.pk).update(queued_at=now - timedelta(seconds=20))

    with django_capture_on_commit_callbacks(execute=True):
        result = jobs.job_sweep(PlanDocument, now=now)

    assert result.requeued == [stale.pk] and queued == [stale.pk]
    stale.refresh_from_db()
    assert stale.queued_at == now and stale.status == Status.PENDING


def test_a_render_whose_worker_died_is_redone_after_the_lease_with_no_click(
    client, cast, review, eager_tasks, django_capture_on_commit_callbacks
):
    """The worker took the job, then died: the page shows progress, and once the lease has
    run out the sweep sends the job again; the next worker generates it."""
    plan_session(cast, review, actions=1, answers=2)
    document = pending_document(review)
    claimed_at = timezone.now()
    assert jobs.job_claim(PlanDocument, document.pk, now=claimed_at) is not None
    # ... and the worker is gone.
    client.force_login(cast.member)
    url = reverse("actions:plan_documents", args=[review.uuid])
    with time_machine.travel(claimed_at + PlanDocument.LEASE - timedelta(seconds=1), tick=False):
        assert "Generating…" in client.get(url, HTTP_HX_REQUEST="true").content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            assert jobs.jobs_sweep()["actions.PlanDocument"].requeued == []

    with (
        time_machine.travel(claimed_at + PlanDocument.LEASE, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert jobs.jobs_sweep()["actions.PlanDocument"].requeued == [document.pk]

    document.refresh_from_db()
    assert (document.status, document.attempts) == (Status.DONE, 2)
    assert document.file.name == document.storage_name()


def test_the_sweep_fails_a_version_whose_last_attempt_outlived_its_lease(review, queued):
    now = timezone.now()
    stuck = pending_document(
        review, version=1, status=Status.RUNNING, attempts=4, lease_expires_at=now
    )
    busy = pending_document(
        review, version=2, status=Status.RUNNING, attempts=4, lease_expires_at=now + timedelta(1)
    )

    result = jobs.job_sweep(PlanDocument, now=now)

    assert result.failed == 1 and result.requeued == [] and queued == []
    stuck.refresh_from_db()
    busy.refresh_from_db()
    assert stuck.status == Status.FAILED and "last attempt" in stuck.last_error
    assert busy.status == Status.RUNNING
