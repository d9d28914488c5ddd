"""The analysis page: findings in priority order, ratings, the impact × effort matrix,
accepted risks and the parking lot."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import HttpResponseClientRefresh

from actions import charts, findings, items
from actions.forms import SCALE, AcceptRiskForm, MoveForm, RatingForm
from actions.models import Finding, Rating
from config.http import SignedInRequest
from reviews.access import SessionAccess, session_for_user
from reviews.errors import ServiceError
from reviews.models import ParkingLotItem


def finding_for_user(user, finding_uuid: UUID) -> tuple[Finding, SessionAccess]:
    """A finding in one of the user's teams (404 otherwise), with the user's session access."""
    finding = (
        Finding.objects.select_related("session", "question").filter(uuid=finding_uuid).first()
    )
    if finding is None:
        raise Http404("No such finding.")
    return finding, session_for_user(user, finding.session.uuid, guests=True)


def analysis_context(request: SignedInRequest, access: SessionAccess) -> dict:
    session = access.session
    rights = findings.analysis_rights(access, user=request.user)
    preview = session.phase in findings.BEFORE_ANALYSIS
    infos = findings.analysis_findings(session, user=request.user, saved=not preview)
    return {
        "nav": "session",
        "session": session,
        "workload": session.workload,
        "access": access,
        "rights": rights,
        "preview": preview,
        "infos": infos,
        "accepted_count": sum(1 for info in infos if info.is_accepted),
        "matrix_svg": charts.matrix_svg(
            findings.matrix_points(infos), interactive=rights.can_move, width=640
        ),
        "quadrants": findings.quadrant_counts(infos),
        "parking": items.parking_candidates(session),
        "scale": SCALE,
        "rating_kinds": Rating.Kind.choices,
        "high_from": charts.HIGH_FROM,
    }


@require_safe
def analysis(request: SignedInRequest, session_uuid: UUID) -> HttpResponse:
    """Reads only: findings are computed when the review enters analysis (and on an explicit
    recompute), never by opening the page."""
    access = session_for_user(request.user, session_uuid, guests=True)
    return render(request, "actions/analysis.html", analysis_context(request, access))


FRAGMENTS = ("finding", "matrix", "summary")


@require_safe
def analysis_fragment(request: SignedInRequest, session_uuid: UUID, name: str) -> HttpResponse:
    """Re-fetched pieces of the analysis page (after a live event that carried no HTML for
    this person, or when the page refreshes everything): a finding's card (?finding=), the
    matrix, the quadrant counts. A card whose finding is gone comes back empty."""
    if name not in FRAGMENTS:
        raise Http404("No such fragment.")
    access = session_for_user(request.user, session_uuid, guests=True)
    context = analysis_context(request, access)
    if name == "finding":
        try:
            finding_uuid = UUID(request.GET.get("finding", ""))
        except ValueError:
            raise Http404("No such finding.") from None
        info = next((i for i in context["infos"] if i.finding.uuid == finding_uuid), None)
        if info is None:
            return HttpResponse("")
        context["info"] = info
    return render(request, f"actions/analysis.html#{name}", context)


@require_POST
def findings_sync(request: SignedInRequest, session_uuid: UUID) -> HttpResponse:
    access = session_for_user(request.user, session_uuid, guests=True)
    rights = findings.analysis_rights(access, user=request.user)
    if not rights.can_sync:
        raise PermissionDenied(
            rights.read_only_reason or "The facilitator or a team admin recomputes findings."
        )
    result = findings.findings_sync(session=access.session)
    messages.success(
        request,
        f"Findings recomputed from the answers: {result.created} new, {result.updated} "
        f"changed, {result.resolved} resolved.",
    )
    return redirect("actions:analysis", access.session.uuid)


def _finding_response(
    request: SignedInRequest, access: SessionAccess, finding: Finding, *, error: str = ""
) -> HttpResponse:
    """htmx: the finding's card again, with the matrix and quadrant counts out of band.
    Otherwise back to the finding on the analysis page (errors as a message)."""
    if not request.htmx:
        if error:
            messages.error(request, error)
        url = reverse("actions:analysis", args=[access.session.uuid])
        return redirect(f"{url}#finding-{finding.uuid}")
    context = analysis_context(request, access)
    info = next((i for i in context["infos"] if i.finding.pk == finding.pk), None)
    if info is None:  # resolved meanwhile: the whole page changed
        return HttpResponseClientRefresh()
    context.update(info=info, error=error, oob=True)
    return render(request, "actions/analysis.html#finding_changed", context)


def _form_error(form) -> str:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        return f"{label}: {errors[0]}" if label else errors[0]
    return "Check the form."


@require_POST
def finding_rate(request: SignedInRequest, finding_uuid: UUID) -> HttpResponse:
    finding, access = finding_for_user(request.user, finding_uuid)
    rights = findings.analysis_rights(access, user=request.user)
    form = RatingForm(request.POST)
    if not form.is_valid():
        return _finding_response(request, access, finding, error=_form_error(form))
    kind = form.cleaned_data["kind"]
    if kind not in rights.rate_kinds:
        raise PermissionDenied(_cannot_rate(rights, access, kind))
    findings.rating_set(
        finding=finding, user=request.user, kind=kind, value=form.cleaned_data["value"]
    )
    if not request.htmx:
        messages.success(request, f"{Rating.Kind(kind).label} rating saved.")
    return _finding_response(request, access, finding)


def _cannot_rate(rights, access: SessionAccess, kind: str) -> str:
    if rights.read_only_reason:
        return rights.read_only_reason
    if access.participant is None:
        return "Only the participants of this review rate its findings."
    what = Rating.Kind(kind).label.lower()
    return f"As {access.participant.get_role_display().lower()} you do not rate {what}."


@require_POST
def finding_move(request: SignedInRequest, finding_uuid: UUID) -> HttpResponse:
    finding, access = finding_for_user(request.user, finding_uuid)
    rights = findings.analysis_rights(access, user=request.user)
    if not rights.can_move:
        raise PermissionDenied(
            rights.read_only_reason or "The facilitator places findings on the matrix."
        )
    form = MoveForm(request.POST)
    if not form.is_valid():
        return _finding_response(request, access, finding, error=_form_error(form))
    findings.finding_move(
        finding=finding,
        user=request.user,
        impact=form.cleaned_data["impact"],
        effort=form.cleaned_data["effort"],
    )
    if not request.htmx:
        messages.success(request, "Finding placed on the matrix.")
    return _finding_response(request, access, finding)


@require_POST
def finding_accept(request: SignedInRequest, finding_uuid: UUID) -> HttpResponse:
    finding, access = finding_for_user(request.user, finding_uuid)
    rights = findings.analysis_rights(access, user=request.user)
    if not rights.can_accept:
        raise PermissionDenied(
            rights.read_only_reason
            or "The facilitator, a team admin or the workload's owner accepts risks."
        )
    form = AcceptRiskForm(request.POST)
    if not form.is_valid():
        return _finding_response(request, access, finding, error=_form_error(form))
    try:
        findings.finding_accept(
            finding=finding,
            user=request.user,
            reason=form.cleaned_data["reason"],
            until=form.cleaned_data["until"],
        )
    except ServiceError as exc:
        exc.add_to(form)
        return _finding_response(request, access, finding, error=_form_error(form))
    if not request.htmx:
        messages.success(request, "Risk accepted.")
    return _finding_response(request, access, finding)


@require_POST
def finding_revoke(request: SignedInRequest, finding_uuid: UUID) -> HttpResponse:
    finding, access = finding_for_user(request.user, finding_uuid)
    rights = findings.analysis_rights(access, user=request.user)
    if not rights.can_accept:
        raise PermissionDenied(
            rights.read_only_reason
            or "The facilitator, a team admin or the workload's owner revokes accepted risks."
        )
    findings.finding_revoke_acceptance(finding=finding, user=request.user)
    if not request.htmx:
        messages.success(request, "Risk acceptance revoked: the finding is back on the matrix.")
    return _finding_response(request, access, finding)


# --- The parking lot ---------------------------------------------------------------------------


def _parking_item_for_user(user, item_uuid: UUID) -> tuple[ParkingLotItem, SessionAccess]:
    item = ParkingLotItem.objects.select_related("session").filter(uuid=item_uuid).first()
    if item is None:
        raise Http404("No such parking-lot item.")
    access = session_for_user(user, item.session.uuid)
    rights = findings.analysis_rights(access, user=user)
    if not rights.can_create_actions:
        raise PermissionDenied(
            rights.read_only_reason
            or "Team admins and members turn parking-lot items into actions."
        )
    return item, access


def _parking_response(request: SignedInRequest, access: SessionAccess) -> HttpResponse:
    if request.htmx:
        context = {
            "session": access.session,
            "rights": findings.analysis_rights(access, user=request.user),
            "parking": items.parking_candidates(access.session),
        }
        return render(request, "actions/analysis.html#parking", context)
    url = reverse("actions:analysis", args=[access.session.uuid])
    return redirect(f"{url}#parking")


@require_POST
def parking_to_action(request: SignedInRequest, item_uuid: UUID) -> HttpResponse:
    item, access = _parking_item_for_user(request.user, item_uuid)
    try:
        action, created = items.parking_item_to_action(item=item, user=request.user)
    except ServiceError as exc:
        messages.error(request, str(exc))
        return _parking_response(request, access)
    if not request.htmx:
        if created:
            messages.success(
                request,
                f"Action “{action.title}” created: give it an owner, a due date and a "
                "measurable outcome.",
            )
        return redirect("actions:action_detail", action.uuid)
    return _parking_response(request, access)


@require_POST
def parking_dismiss(request: SignedInRequest, item_uuid: UUID) -> HttpResponse:
    item, access = _parking_item_for_user(request.user, item_uuid)
    items.parking_item_dismiss(item=item, user=request.user)
    if not request.htmx:
        messages.success(request, "Parking-lot item dismissed.")
    return _parking_response(request, access)
