"""The action plan's PDF page: versions with their status, generating a new version,
downloading through the access check, retrying a failed one, and the htmx polling."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from actions import tasks
from actions.models import PlanDocument
from tests.actions.pdf_helpers import pending_document
from tests.conftest import HTMX

Status = PlanDocument.Status

pytestmark = pytest.mark.usefixtures("media_root")


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    sent: list[int] = []
    monkeypatch.setattr(tasks.generate_plan_document, "apply_async", lambda args: sent.extend(args))
    return sent


def page_url(review) -> str:
    return reverse("actions:plan_documents", args=[review.uuid])


def download_url(review, document) -> str:
    return reverse("actions:plan_document_download", args=[review.uuid, document.uuid])


def retry_url(review, document) -> str:
    return reverse("actions:plan_document_retry", args=[review.uuid, document.uuid])


def done_document(review, version: int = 1, content: bytes = b"%PDF-1.7 test") -> PlanDocument:
    name = default_storage.save(f"plans/checkout-v{version}.pdf", ContentFile(content))
    return pending_document(
        review,
        version=version,
        status=Status.DONE,
        file=name,
        page_count=12,
        size_bytes=len(content),
    )


# --- Access ----------------------------------------------------------------------------------


def test_outsider_gets_404_on_every_url(client, cast, review):
    document = done_document(review)
    client.force_login(cast.outsider)
    assert client.get(page_url(review)).status_code == 404
    assert client.post(page_url(review), {"paper": "A4"}).status_code == 404
    assert client.get(download_url(review, document)).status_code == 404
    assert client.post(retry_url(review, document)).status_code == 404
    assert not review.plan_documents.exclude(pk=document.pk).exists()


def test_a_document_of_another_session_is_404(client, cast, review, lenses):
    from reviews.sessions import session_create

    other = session_create(
        workload=cast.workload,
        user=cast.admin,
        title="Another review",
        kind="periodic",
        review_starts_at=review.review_starts_at,
    )
    document = done_document(other)
    client.force_login(cast.admin)
    assert client.get(download_url(review, document)).status_code == 404
    assert client.post(retry_url(review, document)).status_code == 404


@pytest.mark.parametrize(
    ("url", "method"),
    [("page", "put"), ("page", "delete"), ("download", "post"), ("retry", "get")],
)
def test_wrong_method_is_405(client, cast, review, url, method):
    document = done_document(review)
    target = {
        "page": page_url(review),
        "download": download_url(review, document),
        "retry": retry_url(review, document),
    }[url]
    client.force_login(cast.admin)
    assert getattr(client, method)(target).status_code == 405


@pytest.mark.parametrize("who", ["viewer", "finance"])
def test_viewers_and_finance_read_and_download_but_cannot_generate(client, cast, review, who):
    document = done_document(review)
    failed = pending_document(review, version=2, status=Status.FAILED, last_error="boom")
    client.force_login(getattr(cast, who))

    body = client.get(page_url(review)).content.decode()
    assert "Only the team's admins and members can generate the PDF" in body
    assert 'name="paper"' not in body and ">Retry<" not in body
    assert client.get(download_url(review, document)).status_code == 200
    assert client.post(page_url(review), {"paper": "A4"}).status_code == 403
    assert client.post(retry_url(review, failed)).status_code == 403
    assert review.plan_documents.count() == 2


# --- The page --------------------------------------------------------------------------------


def test_the_page_lists_every_version_with_its_state(client, cast, review):
    done_document(review, version=1)
    pending_document(review, version=2, status=Status.FAILED, last_error="RuntimeError: no fonts")
    pending_document(review, version=3, status=Status.RUNNING, requested_by=cast.member)
    client.force_login(cast.member)

    body = client.get(page_url(review)).content.decode()

    assert body.index("<strong>v3") < body.index("<strong>v2") < body.index("<strong>v1")
    assert "Generating…" in body and "Bob Member" in body
    assert "RuntimeError: no fonts" in body and ">Retry<" in body
    assert download_url(review, PlanDocument.objects.get(version=1)) in body
    assert '<td class="num">12</td>' in body and "13\xa0bytes" in body
    assert "Generate the PDF again" in body and 'value="letter"' in body


def test_the_page_with_no_version_yet_says_so(client, cast, review):
    client.force_login(cast.member)
    body = client.get(page_url(review)).content.decode()
    assert "No PDF yet." in body and 'hx-trigger="every 2s"' not in body


def test_the_page_polls_only_while_a_version_is_pending_or_running(client, cast, review):
    done_document(review)
    client.force_login(cast.member)
    assert 'hx-trigger="every 2s"' not in client.get(page_url(review)).content.decode()

    pending_document(review, version=2)
    body = client.get(page_url(review)).content.decode()
    assert 'hx-trigger="every 2s"' in body and 'aria-busy="true"' in body
    assert "Waiting for a worker…" in body and 'class="progress indeterminate"' in body


def test_polling_returns_the_versions_partial(client, cast, review):
    document = pending_document(review, status=Status.RUNNING)
    client.force_login(cast.member)

    body = client.get(page_url(review), **HTMX).content.decode()

    assert body.lstrip().startswith('<div id="plan-documents"')
    assert "<html" not in body and "Generate the PDF again" not in body
    assert f'hx-get="{page_url(review)}"' in body and 'hx-trigger="every 2s"' in body

    PlanDocument.objects.filter(pk=document.pk).update(
        status=Status.DONE, file="plans/x.pdf", page_count=3, size_bytes=2048
    )
    body = client.get(page_url(review), **HTMX).content.decode()
    assert "hx-trigger" not in body and download_url(review, document) in body


def test_the_page_query_count_stays_flat(client, cast, review, django_assert_max_num_queries):
    for version in range(1, 21):
        pending_document(review, version=version, status=Status.FAILED, requested_by=cast.member)
    client.force_login(cast.member)
    with django_assert_max_num_queries(7):
        response = client.get(page_url(review))
    assert response.content.decode().count(">Retry<") == 20


# --- Generating ------------------------------------------------------------------------------


def test_generating_adds_a_version_and_redirects(
    client, cast, review, queued, django_capture_on_commit_callbacks
):
    client.force_login(cast.member)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(page_url(review), {"paper": "letter"}, follow=True)

    document = review.plan_documents.get()
    assert response.redirect_chain == [(page_url(review), 302)]
    assert (document.version, document.paper, document.requested_by) == (1, "letter", cast.member)
    assert queued == [document.pk]
    assert "Version 1 of the PDF is being generated." in response.content.decode()


def test_generating_with_htmx_returns_the_versions_partial(client, cast, review, queued):
    done_document(review)
    client.force_login(cast.admin)

    response = client.post(page_url(review), {"paper": "A4"}, **HTMX)

    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith('<div id="plan-documents"')
    assert "v2" in body and 'hx-trigger="every 2s"' in body
    assert review.plan_documents.count() == 2


def test_an_unknown_paper_size_is_refused_with_a_message(client, cast, review, queued):
    client.force_login(cast.member)

    response = client.post(page_url(review), {"paper": "A3"})

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not review.plan_documents.exists() and queued == []


def test_an_unknown_paper_size_with_htmx_shows_the_form_again(client, cast, review, queued):
    client.force_login(cast.member)

    response = client.post(page_url(review), {"paper": ""}, **HTMX)

    assert response["HX-Retarget"] == "#generate-form" and response["HX-Reswap"] == "outerHTML"
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="generate-form"') and "This field is required" in body
    assert not review.plan_documents.exists()


@pytest.mark.django_db(transaction=True)
def test_with_eager_tasks_the_pdf_is_ready_when_the_page_comes_back(
    client, cast, review, eager_tasks
):
    # Real commits: the task runs when the request's transaction commits, inside the request.
    client.force_login(cast.member)
    response = client.post(page_url(review), {"paper": "A4"}, follow=True)

    document = review.plan_documents.get()
    assert document.status == Status.DONE
    body = response.content.decode()
    assert "Version 1 of the PDF is ready." in body and download_url(review, document) in body


# --- Downloading -----------------------------------------------------------------------------


def test_download_streams_the_file_as_an_attachment(client, cast, review):
    document = done_document(review, content=b"%PDF-1.7 the plan")
    client.force_login(cast.viewer)

    response = client.get(download_url(review, document))

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="checkout-v1.pdf"'
    assert "private" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == b"%PDF-1.7 the plan"


@pytest.mark.parametrize("status", [Status.PENDING, Status.RUNNING, Status.FAILED])
def test_download_of_a_version_not_done_is_404(client, cast, review, status):
    document = pending_document(review, status=status)
    client.force_login(cast.admin)
    assert client.get(download_url(review, document)).status_code == 404


def test_download_of_a_missing_file_is_404(client, cast, review):
    document = done_document(review)
    default_storage.delete(document.file.name)
    client.force_login(cast.admin)
    assert client.get(download_url(review, document)).status_code == 404


def test_no_public_media_url_serves_the_file(client, cast, review, settings):
    document = done_document(review)
    client.force_login(cast.admin)
    assert client.get(f"{settings.MEDIA_URL}{document.file.name}").status_code == 404


# --- Retrying --------------------------------------------------------------------------------


def test_retry_puts_a_failed_version_back_in_line(
    client, cast, review, queued, django_capture_on_commit_callbacks
):
    document = pending_document(review, status=Status.FAILED, last_error="boom", attempts=4)
    client.force_login(cast.member)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(retry_url(review, document), follow=True)

    document.refresh_from_db()
    assert response.redirect_chain == [(page_url(review), 302)]
    assert (document.status, document.last_error, document.attempts) == (Status.PENDING, "", 0)
    assert queued == [document.pk]
    assert "Version 1 of the PDF is queued again." in response.content.decode()


def test_retry_with_htmx_returns_the_polling_partial(client, cast, review, queued):
    document = pending_document(review, status=Status.FAILED, last_error="boom")
    client.force_login(cast.admin)

    body = client.post(retry_url(review, document), **HTMX).content.decode()

    assert body.lstrip().startswith('<div id="plan-documents"')
    assert 'hx-trigger="every 2s"' in body and "Waiting for a worker…" in body


def test_only_a_failed_version_can_be_retried(client, cast, review, queued):
    document = done_document(review)
    client.force_login(cast.admin)

    response = client.post(retry_url(review, document), follow=True)

    assert "Only a failed PDF can be retried; version 1 is ready." in response.content.decode()
    document.refresh_from_db()
    assert document.status == Status.DONE and queued == []

    body = client.post(retry_url(review, document), **HTMX).content.decode()
    assert 'role="alert">Only a failed PDF can be retried' in body
