"""The lens library: the list with its import and check form, a lens's page, its export.

A user sees the built-in lenses, their teams' lenses and the legacy shared ones
(reviews.lenslibrary); another team's lens is a 404. An upload goes into the library of the
team chosen in the form (or the user's only team), so it never becomes a new version of a
built-in lens nor of another team's.
"""

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect

from config.http import SignedInRequest
from questionnaires import services
from questionnaires.differences import compare_lenses
from questionnaires.forms import LensUploadForm
from questionnaires.lensfile import LensFileError
from questionnaires.models import Lens, Question
from reviews import audit
from reviews.lenslibrary import (
    ImportTeamMissing,
    import_team_for_user,
    import_teams,
    lens_for_user,
    lenses_for_user,
    library_names,
    team_library,
)
from reviews.models import Team

TEMPLATE = "questionnaires/lens_list.html"


def _form(request: SignedInRequest) -> LensUploadForm:
    form = LensUploadForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    teams = list(import_teams(request.user))
    form.fields["team"].widget.choices = [(str(t.uuid), t.name) for t in teams]
    if len(teams) < 2:
        form.fields["team"].widget = form.fields["team"].hidden_widget()
    form.can_import = bool(teams)
    return form


def _library_response(
    request: SignedInRequest, form: LensUploadForm, *, status: int = 200, **report: Any
) -> HttpResponse:
    """The library page, or for htmx only the report beside the form (what a check found,
    or why an import was refused)."""
    context = {"form": form, "can_import": form.can_import, **report}
    if request.htmx:
        return render(request, f"{TEMPLATE}#report", context, status=status)
    names = library_names(request.user)
    lenses = list(
        lenses_for_user(request.user, names)
        .with_counts()
        .order_by("-is_framework", "-is_builtin", "name", "-version")
    )
    for lens in lenses:
        lens.library_name = names.get(lens.library, "")
    context["lenses"] = lenses
    return render(request, TEMPLATE, context, status=status)


def _upload(request: SignedInRequest) -> tuple[LensUploadForm, str, HttpResponse | None]:
    """The bound form and the library it goes into, or ("", the response refusing it)."""
    form = _form(request)
    if not form.is_valid():
        return form, "", _library_response(request, form, status=400)
    try:
        team = import_team_for_user(request.user, form.cleaned_data["team"] or None)
    except ImportTeamMissing as exc:
        form.add_error("team", str(exc))
        return form, "", _library_response(request, form, status=400)
    return form, team_library(team), None


@require_http_methods(["GET", "POST"])
def lens_list(request: SignedInRequest) -> HttpResponse:
    if request.method == "GET":
        return _library_response(request, _form(request))
    form, library, refused = _upload(request)
    if refused:
        return refused
    upload = form.cleaned_data["file"]
    try:
        with transaction.atomic():
            result = services.lens_import(
                raw=upload.read(), library=library, source_name=upload.name, user=request.user
            )
            team = Team.objects.filter(uuid=library).first()
            if result.created and team is not None:
                audit.lens_imported(team=team, actor=request.user, lens=result.lens)
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
    form, library, refused = _upload(request)
    if refused:
        return refused
    check = services.lens_check(raw=form.cleaned_data["file"].read(), library=library)
    return _library_response(
        request, form, check=check, errors=check.errors, warnings=check.warnings
    )


@require_safe
def lens_detail(request: SignedInRequest, lens_uuid: UUID) -> HttpResponse:
    names = library_names(request.user)
    questions = Question.objects.order_by("order").prefetch_related("choices", "risk_rules")
    lens = lens_for_user(
        request.user,
        lens_uuid,
        names=names,
        # django-stubs cannot solve Prefetch's type variables for a nested lookup.
        lenses=Lens.objects.prefetch_related(Prefetch("pillars__questions", queryset=questions)),  # type: ignore[arg-type]
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
        {
            "lens": lens,
            "versions": versions,
            "previous": previous,
            "changes": changes,
            "library_name": names.get(lens.library, ""),
        },
    )


@require_safe
def lens_export(request: SignedInRequest, lens_uuid: UUID) -> HttpResponse:
    lens = lens_for_user(request.user, lens_uuid)
    response = HttpResponse(services.lens_export(lens), content_type="application/json")
    filename = f"{slugify(lens.name) or 'lens'}-v{lens.version}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
