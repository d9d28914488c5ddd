"""The AWS Well-Architected Tool from the browser: download a session's calls as JSON (for
whoever manages the session) and upload a workload's JSON from the `aws wellarchitected`
commands into a team (for its admins and members)."""

import json
from typing import Any
from uuid import UUID

from django import forms
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods, require_safe

from actions.aws.export import plan_build
from actions.aws.importer import (
    MAX_DOCUMENT_BYTES,
    ImportRefused,
    aws_import,
    document_parse,
)
from questionnaires.models import Lens
from reviews.access import (
    Right,
    SessionAccess,
    editable_teams,
    session_for_user,
    team_for_user,
    team_rights,
)
from reviews.errors import ServiceError
from reviews.models import Membership, ReviewSession, Team


def _get_session_for_user(request: HttpRequest, session_uuid: UUID) -> SessionAccess:
    """404 outside the team; 403 for whoever cannot manage the session."""
    access = session_for_user(request.user, session_uuid)
    if not access.can_manage:
        raise PermissionDenied("Only the facilitator or a team admin can export this review.")
    return access


def _get_team_for_user(request: HttpRequest, team_uuid: UUID) -> tuple[Team, Membership]:
    """404 outside the team; 403 for finance members and viewers."""
    team, membership = team_for_user(request.user, team_uuid)
    if not team_rights(membership, Right.EDIT_WORK):
        raise PermissionDenied("Only the team's admins and members can import workloads.")
    return team, membership


def _lens_arns(request: HttpRequest, session: ReviewSession) -> dict[str, str]:
    """The ARNs given on the session page, one field per lens: arn-<lens uuid>."""
    arns = {}
    for lens in Lens.objects.filter(sessions=session, is_framework=False):
        arn = request.GET.get(f"arn-{lens.uuid}", "").strip()
        if arn:
            arns[lens.name] = arn
    return arns


@require_safe
def session_aws_export(request: HttpRequest, session_uuid: UUID) -> HttpResponse:
    access = _get_session_for_user(request, session_uuid)
    try:
        plan = plan_build(session=access.session, lens_arns=_lens_arns(request, access.session))
    except ServiceError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain")
    name = slugify(access.session.workload.name) or "review"
    response = HttpResponse(
        json.dumps(plan.as_json(), indent=2, ensure_ascii=False),
        content_type="application/json",
    )
    response["Content-Disposition"] = f'attachment; filename="{name}-aws-well-architected.json"'
    return response


class ImportForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), to_field_name="uuid")
    document = forms.FileField(
        label="The JSON file",
        help_text="One JSON object holding the outputs of the aws wellarchitected commands.",
    )

    def __init__(self, *args: Any, user: AbstractBaseUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = editable_teams(user).distinct()
        self.fields["team"].empty_label = None


@require_http_methods(["GET", "POST"])
def aws_import_upload(request: HttpRequest) -> HttpResponse:
    posted = request.method == "POST"
    form = ImportForm(
        request.POST if posted else None, request.FILES if posted else None, user=request.user
    )
    context: dict[str, Any] = {"form": form, "report": None, "errors": []}
    status = 200
    if request.method == "POST":
        try:
            team_uuid = UUID(request.POST.get("team", ""))
        except ValueError:
            team_uuid = None
        if team_uuid is not None:
            _get_team_for_user(request, team_uuid)
        if form.is_valid():
            team = form.cleaned_data["team"]
            upload = form.cleaned_data["document"]
            try:
                if upload.size > MAX_DOCUMENT_BYTES:
                    raise ImportRefused(
                        [f"The file is larger than {MAX_DOCUMENT_BYTES // 2**20} MB."]
                    )
                document = document_parse(upload.read())
                context["report"] = aws_import(team=team, user=request.user, document=document)
            except ImportRefused as exc:
                context["errors"] = exc.errors
                status = 400
            except ServiceError as exc:
                context["errors"] = [str(exc)]
                status = 400
        else:
            status = 400
    return render(request, "actions/aws_import.html", context, status=status)
