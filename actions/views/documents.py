"""The action plan's PDF: every version generated for a session, a new one on request, the
download (through this access check, never a public media URL) and a retry when one failed."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import reswap, retarget

from actions import documents
from actions.forms import PlanDocumentForm
from actions.models import PlanDocument
from reviews.access import SessionAccess, session_for_user
from reviews.errors import ServiceError

TEMPLATE = "actions/plan_documents.html"


def _require_generate(access: SessionAccess) -> None:
    if not access.can_edit:
        raise PermissionDenied("Only the team's admins and members can generate the PDF.")


def _context(access: SessionAccess, **extra) -> dict:
    versions = list(
        PlanDocument.objects.filter(session=access.session)
        .select_related("requested_by")
        .order_by("-version")
    )
    return {
        "access": access,
        "session": access.session,
        "workload": access.session.workload,
        "documents": versions,
        "polling": any(document.is_active for document in versions),
        "can_generate": access.can_edit,
        **extra,
    }


@require_http_methods(["GET", "POST"])
def plan_documents(request: HttpRequest, session_uuid: UUID) -> HttpResponse:
    access = session_for_user(request.user, session_uuid, guests=True)
    if request.method == "POST":
        _require_generate(access)
    form = PlanDocumentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        document = documents.plan_document_request(
            session=access.session, user=request.user, paper=form.cleaned_data["paper"]
        )
        if request.htmx:
            return render(request, f"{TEMPLATE}#documents", _context(access))
        document.refresh_from_db()
        if document.status == PlanDocument.Status.DONE:
            messages.success(request, f"Version {document.version} of the PDF is ready.")
        else:
            messages.success(request, f"Version {document.version} of the PDF is being generated.")
        return redirect("actions:plan_documents", access.session.uuid)
    context = _context(access, form=form)
    if request.htmx and request.method == "POST":
        # The form was refused: show it again with its errors, where it is.
        response = render(request, f"{TEMPLATE}#generate_form", context)
        return reswap(retarget(response, "#generate-form"), "outerHTML")
    if request.htmx:
        return render(request, f"{TEMPLATE}#documents", context)
    return render(request, TEMPLATE, context)


@require_POST
def plan_document_retry(
    request: HttpRequest, session_uuid: UUID, document_uuid: UUID
) -> HttpResponse:
    access = session_for_user(request.user, session_uuid, guests=True)
    _require_generate(access)
    document = get_object_or_404(PlanDocument, session=access.session, uuid=document_uuid)
    error = ""
    try:
        document = documents.plan_document_retry(document=document)
    except ServiceError as exc:
        error = str(exc)
    if request.htmx:
        return render(request, f"{TEMPLATE}#documents", _context(access, error=error))
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Version {document.version} of the PDF is queued again.")
    return redirect("actions:plan_documents", access.session.uuid)


@require_safe
@cache_control(private=True, max_age=0)
def plan_document_download(
    request: HttpRequest, session_uuid: UUID, document_uuid: UUID
) -> FileResponse:
    access = session_for_user(request.user, session_uuid, guests=True)
    document = get_object_or_404(
        PlanDocument, session=access.session, uuid=document_uuid, status=PlanDocument.Status.DONE
    )
    try:
        handle = default_storage.open(document.file.name, "rb")
    except FileNotFoundError:
        raise Http404("The file of this version is missing: generate the PDF again.") from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=document.download_name,
        content_type="application/pdf",
    )
