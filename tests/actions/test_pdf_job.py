"""The action-plan PDF job: requesting a version, generating it once whatever the messages,
failing with the error, retrying transient errors, and the sweep."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import OperationalError
from django.utils import timezone
from pypdf import PdfReader

from actions import documents, pdf, tasks
from actions.models import PlanDocument
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
    assert result is not None and document.status == Status.DONE and document.error == ""
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
    document = pending_document(review, status=status, attempts=1, error="before", **stored)

    assert pdf.plan_document_generate(document_id=document.pk) is None

    document.refresh_from_db()
    assert (document.status, document.attempts, document.error) == (status, 1, "before")
    assert stored_files(media_root) == []


def test_a_rendering_error_marks_the_row_failed_with_the_message(review, media_root, monkeypatch):
    def broken(html):
        raise RuntimeError("the layout engine ran out of paper")

    monkeypatch.setattr(pdf, "render_pdf", broken)
    document = pending_document(review)

    result = pdf.plan_document_generate(document_id=document.pk)

    assert result is not None and result.status == Status.FAILED
    assert result.error == "RuntimeError: the layout engine ran out of paper"
    assert result.finished_at is not None and not result.file
    assert stored_files(media_root) == []


def test_a_storage_error_puts_the_row_back_to_pending_and_is_raised(review, monkeypatch):
    def full(name, content):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(default_storage, "save", full)
    document = pending_document(review)

    with pytest.raises(OSError):
        pdf.plan_document_generate(document_id=document.pk)

    document.refresh_from_db()
    assert document.status == Status.PENDING and document.attempts == 1
    assert "No space left on device" in document.error and "trying again" in document.error


def test_a_database_error_while_reading_the_plan_is_retried(review, monkeypatch):
    def unavailable(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(pdf, "plan_html", unavailable)
    document = pending_document(review)

    with pytest.raises(OperationalError):
        pdf.plan_document_generate(document_id=document.pk)

    document.refresh_from_db()
    assert document.status == Status.PENDING


def test_the_last_attempt_fails_the_row_instead_of_retrying(review, monkeypatch):
    def full(name, content):
        raise OSError("No space left on device")

    monkeypatch.setattr(default_storage, "save", full)
    document = pending_document(review, attempts=documents.MAX_ATTEMPTS - 1)

    result = pdf.plan_document_generate(document_id=document.pk)

    assert result.status == Status.FAILED and result.attempts == documents.MAX_ATTEMPTS
    assert result.error.startswith(f"Gave up after {documents.MAX_ATTEMPTS} attempts: OSError")


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


def test_the_task_is_late_acknowledged_and_time_limited():
    task = tasks.generate_plan_document
    assert task.acks_late is True
    assert (task.soft_time_limit, task.time_limit) == (
        documents.SOFT_TIME_LIMIT,
        documents.TIME_LIMIT,
    )
    assert task.soft_time_limit < task.time_limit
    assert task.max_retries == documents.MAX_ATTEMPTS - 1


@pytest.mark.parametrize(
    "error", [OperationalError("database restarting"), OSError("storage unreachable")]
)
def test_the_task_retries_transient_errors_with_backoff(monkeypatch, error):
    calls = []

    def fail(*, document_id):
        raise error

    def retry(*, exc, countdown):
        calls.append((exc, countdown))
        return Retry(exc=exc, when=countdown)

    monkeypatch.setattr(pdf, "plan_document_generate", fail)
    monkeypatch.setattr(tasks.generate_plan_document, "retry", retry)

    with pytest.raises(Retry):
        tasks.generate_plan_document(42)

    assert calls == [(error, documents.retry_delay(0))]


def test_retry_delays_grow_and_stay_below_the_sweep_threshold():
    delays = [documents.retry_delay(n) for n in range(documents.MAX_ATTEMPTS)]
    assert delays == sorted(delays) and delays[0] < delays[-1]
    assert max(delays) < documents.STALE_PENDING.total_seconds()


def test_the_task_does_not_retry_a_rendering_error(review, monkeypatch):
    def broken(html):
        raise ValueError("bad markup")

    monkeypatch.setattr(pdf, "render_pdf", broken)
    monkeypatch.setattr(tasks.generate_plan_document, "retry", lambda **kw: pytest.fail("retried"))
    document = pending_document(review)

    tasks.generate_plan_document(document.pk)

    document.refresh_from_db()
    assert document.status == Status.FAILED and "bad markup" in document.error


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
    pending_document(review, version=2, status=Status.FAILED, error="boom")

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


def test_with_eager_tasks_a_lasting_storage_error_ends_failed_after_the_retries(
    cast, review, eager_tasks, monkeypatch, django_capture_on_commit_callbacks
):
    def full(name, content):
        raise OSError("No space left on device")

    monkeypatch.setattr(default_storage, "save", full)

    with django_capture_on_commit_callbacks(execute=True):
        document = documents.plan_document_request(session=review, user=cast.admin)

    document.refresh_from_db()
    assert document.status == Status.FAILED and document.attempts == documents.MAX_ATTEMPTS
    assert document.error.startswith(f"Gave up after {documents.MAX_ATTEMPTS} attempts")


def test_retrying_a_failed_version_puts_it_back_in_line(review, queued):
    document = pending_document(
        review, status=Status.FAILED, error="boom", attempts=4, finished_at=timezone.now()
    )

    documents.plan_document_retry(document=document)

    document.refresh_from_db()
    assert (document.status, document.error, document.attempts) == (Status.PENDING, "", 0)
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
    stale = pending_document(review, version=1)
    fresh = pending_document(review, version=2)
    PlanDocument.objects.filter(pk=stale.pk).update(queued_at=now - timedelta(minutes=2))
    PlanDocument.objects.filter(pk=fresh.pk).update(queued_at=now - timedelta(seconds=20))

    with django_capture_on_commit_callbacks(execute=True):
        result = documents.plan_documents_sweep(now=now)

    assert result.requeued == [stale.pk] and queued == [stale.pk]
    stale.refresh_from_db()
    assert stale.queued_at == now and stale.status == Status.PENDING


def test_a_requeued_version_is_generated(
    cast, review, eager_tasks, django_capture_on_commit_callbacks
):
    document = pending_document(review)
    PlanDocument.objects.filter(pk=document.pk).update(
        queued_at=timezone.now() - timedelta(minutes=5)
    )

    with django_capture_on_commit_callbacks(execute=True):
        documents.plan_documents_sweep()

    document.refresh_from_db()
    assert document.status == Status.DONE


def test_the_sweep_fails_versions_stuck_running_past_the_time_limit(review, queued):
    now = timezone.now()
    stuck = pending_document(review, version=1, status=Status.RUNNING)
    busy = pending_document(review, version=2, status=Status.RUNNING)
    PlanDocument.objects.filter(pk=stuck.pk).update(
        started_at=now - documents.STUCK_RUNNING - timedelta(seconds=1)
    )
    PlanDocument.objects.filter(pk=busy.pk).update(started_at=now - timedelta(seconds=30))

    result = documents.plan_documents_sweep(now=now)

    assert result.failed == 1 and result.requeued == [] and queued == []
    stuck.refresh_from_db()
    busy.refresh_from_db()
    assert stuck.status == Status.FAILED and "did not finish" in stuck.error
    assert busy.status == Status.RUNNING


def test_the_sweep_task_runs_the_sweep(review, queued, django_capture_on_commit_callbacks):
    document = pending_document(review)
    PlanDocument.objects.filter(pk=document.pk).update(
        queued_at=timezone.now() - timedelta(minutes=3)
    )
    with django_capture_on_commit_callbacks(execute=True):
        tasks.sweep_plan_documents()
    assert queued == [document.pk]


def test_the_sweep_is_scheduled_every_minute(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-plan-documents"]
    assert entry["task"] == tasks.sweep_plan_documents.name
    assert entry["schedule"] == 60.0 and entry["options"]["expires"] < 60
