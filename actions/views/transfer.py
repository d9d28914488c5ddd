"""Export and backup: a whole workload as one JSON document (for the team's members), its
import into a team (for the team's admins and members), and a session's action items for an
issue tracker (CSV for Jira's importer, or JSON)."""

from __future__ import annotations

import json
from typing import Any, cast
from uuid import UUID

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods

from actions.transfer.export import workload_export
from actions.transfer.importer import workload_import
from actions.transfer.reading import MAX_DOCUMENT_BYTES, TransferRefused, document_read
from actions.transfer.tracker import tracker_csv, tracker_rows
from config.http import SignedInRequest
from reviews.access import editable_teams, session_for_user, team_for_user, workload_for_user
from reviews.models import Team


def _attachment(body: str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def workload_download(request: SignedInRequest, workload_uuid: UUID) -> HttpResponse:
    workload, _ = workload_for_user(request.user, workload_uuid)
    document = workload_export(workload)
    name = slugify(workload.name) or "workload"
    stamp = timezone.localdate().isoformat()
    return _attachment(
        json.dumps(document, indent=2, ensure_ascii=False) + "\n",
        "application/json",
        f"{name}-export-{stamp}.json",
    )


class WorkloadImportForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), to_field_name="uuid")
    document = forms.FileField(
        label="The export file",
        help_text=f"A workload exported from Pillarwise (JSON, up to "
        f"{MAX_DOCUMENT_BYTES // 2**20} MB).",
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        team = cast(forms.ModelChoiceField, self.fields["team"])
        team.queryset = editable_teams(user).distinct()
        team.empty_label = None


@require_http_methods(["GET", "POST"])
def workload_upload(request: SignedInRequest) -> HttpResponse:
    posted = request.method == "POST"
    form = WorkloadImportForm(
        request.POST if posted else None, request.FILES if posted else None, user=request.user
    )
    context: dict[str, Any] = {"form": form, "report": None, "errors": []}
    status = 200
    if posted:
        try:
            team_uuid: UUID | None = UUID(request.POST.get("team", ""))
        except ValueError:
            team_uuid = None
        if team_uuid is not None:
            # Another team's id is a 404, a team the user only reads in a 403.
            _, membership = team_for_user(request.user, team_uuid)
            if not membership.can_edit:
                raise PermissionDenied("Only the team's admins and members can import workloads.")
        if form.is_valid():
            upload = form.cleaned_data["document"]
            try:
                if upload.size > MAX_DOCUMENT_BYTES:
                    raise TransferRefused(
                        [f"the file is larger than {MAX_DOCUMENT_BYTES // 2**20} MB"]
                    )
                document = document_read(upload.read())
                context["report"] = workload_import(
                    team=form.cleaned_data["team"], user=request.user, document=document
                )
            except TransferRefused as exc:
                context["errors"] = exc.errors
                status = 400
        else:
            status = 400
    return render(request, "actions/workload_import.html", context, status=status)


@require_GET
def tracker_download(request: SignedInRequest, session_uuid: UUID, fmt: str) -> HttpResponse:
    session = session_for_user(request.user, session_uuid).session
    name = f"{slugify(session.workload.name) or 'workload'}-actions"
    if fmt == "csv":
        return _attachment(tracker_csv(session), "text/csv; charset=utf-8", f"{name}.csv")
    body = json.dumps({"actions": tracker_rows(session)}, indent=2, ensure_ascii=False)
    return _attachment(body + "\n", "application/json", f"{name}.json")
