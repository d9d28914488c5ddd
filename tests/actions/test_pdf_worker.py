"""The action-plan PDF through a real Celery worker on Redis: the web side queues the job on
commit, a worker process (sharing the test database and the media folder) claims and
generates it, and the file is there for the web side to serve."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.core.files.storage import default_storage

from actions import documents
from actions.models import PlanDocument
from config.celery import app as celery_app
from tests.actions.pdf_helpers import pdf_text, plan_session
from tests.conftest import require_redis

ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 60

pytestmark = [pytest.mark.redis, pytest.mark.worker]


def worker_database_url() -> str:
    """DATABASE_URL for the worker: the database this test runs against (the test database
    Django created, not the one named in the environment)."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{database['NAME']}"
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{database['NAME']}"))


@pytest.fixture
def not_eager():
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = before


@pytest.fixture
def worker(tmp_path, settings, not_eager):
    redis_url = require_redis()
    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "REDIS_URL": redis_url,
        "MEDIA_ROOT": str(media),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--concurrency=1",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            yield log
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_generates_the_queued_pdf(cast, review, worker):
    actions = plan_session(cast, review, actions=2, answers=4)
    document = documents.plan_document_request(session=review, user=cast.admin)
    assert document.status == PlanDocument.Status.PENDING

    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        document.refresh_from_db()
        if document.status in (PlanDocument.Status.DONE, PlanDocument.Status.FAILED):
            break
        time.sleep(0.25)

    log = worker.read_text()[-3000:]
    assert document.status == PlanDocument.Status.DONE, (
        f"{document.status}: {document.error}\n{log}"
    )
    assert document.attempts == 1 and document.page_count > 1
    content = default_storage.open(document.file.name).read()
    assert content.startswith(b"%PDF-") and len(content) == document.size_bytes
    text = pdf_text(content)
    assert "Checkout" in text and all(a.title in text for a in actions)
