"""The lens library: the list with its import and check form, a lens's page, its export.

The library pages are global for now: every signed-in user sees every lens. Uploads go into
the shared library, so an upload never becomes a new version of a built-in lens.
"""

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect

from config.http import SignedInRequest
from questionnaires import services
from questionnaires.differences import compare_lenses
from questionnaires.forms import LensUploadForm
from questionnaires.lensfile import LensFileError
from questionnaires.models import SHARED_LIBRARY, Lens, Question

TEMPLATE = "questionnaires/lens_list.html"


def _may_import(request: SignedInRequest) -> bool:
    return request.user.has_perm("questionnaires.add_lens")


def _importer(request: SignedInRequest) -> None:
    if not _may_import(request):
        raise PermissionDenied("You cannot import lenses.")


def _library_response(
    request: SignedInRequest, form: LensUploadForm, *, status: int = 200, **report: Any
) -> HttpResponse:
    """The library page, or for htmx only the report beside the form (what a check found,
    or why an import was refused)."""
    context = {"form": form, "can_import": _may_import(request), **report}
    if request.htmx:
        return render(request, f"{TEMPLATE}#report", context, status=status)
    lenses = Lens.objects.with_counts().order_by("-is_framework", "-is_builtin", "name", "-version")
    return render(request, TEMPLATE, {**context, "lenses": lenses}, status=status)


@require_http_methods(["GET", "POST"])
def lens_list(request: SignedInRequest) -> HttpResponse:
    if request.method == "GET":
        return _library_response(request, LensUploadForm())
    _importer(request)
    form = LensUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _library_response(request, form, status=400)
    upload = form.cleaned_data["file"]
    try:
        result = services.lens_import(
            raw=upload.read(), library=SHARED_LIBRARY, source_name=upload.name, user=request.user
        )
    except LensFileError as exc:
        return _library_response(
            request, form, status=400, errors=exc.errors, warnings=exc.warnings
        )
    if result.created:
        messages.success(request, f"Imported {result.lens}.")
    else:
        messages.info(request, f"{result.lens} already holds exactly this content: nothing new.")
    url = reverse("questionnaires:lens_detail", args=[result.lens.uuid])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_POST
def lens_check(request: SignedInRequest) -> HttpResponse:
    """Read an uploaded file as an import would and list its warnings and errors; nothing
    is saved."""
    _importer(request)
    form = LensUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _library_response(request, form, status=400)
    check = services.lens_check(raw=form.cleaned_data["file"].read(), library=SHARED_LIBRARY)
    return _library_response(
        request, form, check=check, errors=check.errors, warnings=check.warnings
    )


@require_safe
def lens_detail(request: SignedInRequest, lens_uuid: UUID) -> HttpResponse:
    questions = Question.objects.order_by("order").prefetch_related("choices", "risk_rules")
    lens = get_object_or_404(
        # django-stubs cannot solve Prefetch's type variables for a nested lookup.
        Lens.objects.prefetch_related(Prefetch("pillars__questions", queryset=questions)),  # type: ignore[arg-type]
        uuid=lens_uuid,
    )
    versions = list(
        Lens.objects.filter(library=lens.library, name=lens.name).with_counts().order_by("-version")
    )
    previous = next((v for v in versions if v.version < lens.version), None)
    changes = (
        compare_lenses(services.lens_data(previous), services.lens_data(lens, loaded=True))
        if previous
        else None
    )
    return render(
        request,
        "questionnaires/lens_detail.html",
        {"lens": lens, "versions": versions, "previous": previous, "changes": changes},
    )


@require_safe
def lens_export(request: SignedInRequest, lens_uuid: UUID) -> HttpResponse:
    lens = get_object_or_404(Lens, uuid=lens_uuid)
    response = HttpResponse(services.lens_export(lens), content_type="application/json")
    filename = f"{slugify(lens.name) or 'lens'}-v{lens.version}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
