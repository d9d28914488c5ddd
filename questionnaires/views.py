from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods

from questionnaires import services
from questionnaires.forms import LensUploadForm
from questionnaires.lensfile import LensFileError
from questionnaires.models import Lens, Question


@require_http_methods(["GET", "POST"])
def lens_list(request: HttpRequest) -> HttpResponse:
    can_import = request.user.has_perm("questionnaires.add_lens")
    form = LensUploadForm(request.POST if request.method == "POST" else None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST":
        if not can_import:
            raise PermissionDenied("You cannot import lenses.")
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = services.lens_import(
                    raw=upload.read(), source_name=upload.name, user=request.user
                )
            except LensFileError as exc:
                errors = exc.errors
            else:
                if result.created:
                    messages.success(request, f"Imported {result.lens}.")
                else:
                    messages.info(
                        request, f"{result.lens} already holds exactly this content: nothing new."
                    )
                return redirect("questionnaires:lens_detail", result.lens.uuid)
    lenses = Lens.objects.with_counts().order_by("-is_framework", "name", "-version")
    return render(
        request,
        "questionnaires/lens_list.html",
        {"lenses": lenses, "form": form, "errors": errors, "can_import": can_import},
    )


def lens_detail(request: HttpRequest, lens_uuid: UUID) -> HttpResponse:
    lens = get_object_or_404(
        Lens.objects.prefetch_related(
            Prefetch(
                "pillars__questions",
                Question.objects.order_by("order").prefetch_related("choices", "risk_rules"),
            )
        ),
        uuid=lens_uuid,
    )
    versions = Lens.objects.filter(name=lens.name).with_counts().order_by("-version")
    return render(request, "questionnaires/lens_detail.html", {"lens": lens, "versions": versions})


def lens_export(request: HttpRequest, lens_uuid: UUID) -> HttpResponse:
    lens = get_object_or_404(Lens, uuid=lens_uuid)
    response = HttpResponse(services.lens_export(lens), content_type="application/json")
    filename = f"{slugify(lens.name) or 'lens'}-v{lens.version}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
