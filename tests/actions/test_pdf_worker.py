"""The action-plan PDF through a real Celery worker on Redis: the web side queues the job on
commit, a worker process (sharing the test database and the media folder) claims and
generates it, and the file is there for the web side to serve."""

from __future__ import annotations

import time

import pytest
from django.core.files.storage import default_storage

from actions import documents
from actions.models import PlanDocument
from tests.actions.pdf_helpers import pdf_text, plan_session

WAIT_SECONDS = 60

pytestmark = [pytest.mark.redis, pytest.mark.worker]


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_generates_the_queued_pdf(cast, review, media_root, start_worker):
    worker = start_worker()
    actions = plan_session(cast, review, actions=2, answers=4)
    document = documents.plan_document_request(session=review, user=cast.admin)
    assert document.status == PlanDocument.Status.PENDING

    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        document.refresh_from_db()
        if document.status in (PlanDocument.Status.DONE, PlanDocument.Status.FAILED):
            break
        time.sleep(0.25)

    log = worker.log()[-3000:]
    assert document.status == PlanDocument.Status.DONE, (
        f"{document.status}: {document.last_error}\n{log}"
    )
    assert document.attempts == 1 and document.page_count > 1
    content = default_storage.open(document.file.name).read()
    assert content.startswith(b"%PDF-") and len(content) == document.size_bytes
    text = pdf_text(content)
    assert "Checkout" in text and all(a.title in text for a in actions)
