"""Review sessions: planning one, its overview page, its phases, participants, the
preparation checklist and the pillar time budgets."""

from datetime import date, datetime, timedelta
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from config.http import SignedInRequest
from reviews import focus, participants, sessions
from reviews.access import SessionAccess, session_for_user, workload_for_user
from reviews.errors import ServiceError
from reviews.forms import (
    BudgetForm,
    ChecklistForm,
    InvitationForm,
    ParticipantRoleForm,
    ReopenForm,
    SessionCreateForm,
    SessionPlanForm,
)
from reviews.lenslibrary import lenses_for_team, newer_versions
from reviews.lightreview import light_context
from reviews.models import PHASE_ORDER, Participant, Phase, SessionKind
from reviews.reviewtemplates import templates_of

# A light review goes through a few questions: an hour, not a day.
LIGHT_REVIEW_MINUTES = 60


@require_http_methods(["GET", "POST"])
def session_create(request: SignedInRequest, workload_uuid: UUID) -> HttpResponse:
    workload, _ = workload_for_user(request.user, workload_uuid, edit=True)
    initial_start = (timezone.localtime() + timedelta(days=14)).replace(
        hour=9, minute=30, second=0, microsecond=0
    )
    # The cadence's links name the kind of review it proposes (?kind=).
    kind = request.GET.get("kind", "")
    if kind not in SessionKind.values:
        kind = SessionKind.CRITICAL_QUARTERLY if workload.is_critical else SessionKind.PERIODIC
    initial = {
        "title": f"{workload.name}: {SessionKind(kind).label.lower()}",
        "kind": kind,
        "review_starts_at": initial_start,
    }
    if kind == SessionKind.MONTHLY_LIGHT:
        initial["review_duration_minutes"] = LIGHT_REVIEW_MINUTES
    form = SessionCreateForm(
        request.POST if request.method == "POST" else None,
        lenses=lenses_for_team(workload.team),
        templates=templates_of(workload.team),
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            session = sessions.session_create(
                workload=workload,
                user=request.user,
                title=data["title"],
                kind=data["kind"],
                review_starts_at=data["review_starts_at"],
                review_duration_minutes=data["review_duration_minutes"],
                lenses=data["lenses"],
                template=data.get("template"),
                preparation_starts_on=timezone.localdate(data["review_starts_at"])
                - timedelta(days=data["preparation_days"]),
            )
        except ServiceError as exc:
            exc.add_to(form)
        else:
            messages.success(request, "Review planned. Invite the participants next.")
            return redirect("reviews:session_detail", session.uuid)
    return render(request, "reviews/session_form.html", {"form": form, "workload": workload})


def _detail_context(access: SessionAccess, request: SignedInRequest) -> dict:
    session = access.session
    counts = sessions.risk_counts(session)
    total = sum(counts.values())
    answered = total - counts["UNANSWERED"]
    budgets = focus.budgets(session)
    lenses = [sl.lens for sl in session.session_lenses.select_related("lens")]
    timeline = []
    changes = {c.to_phase: c.at for c in session.phase_changes.all()}
    planned: dict[str, date | datetime | None] = {
        Phase.PREPARATION: session.preparation_starts_on,
        Phase.REVIEW: session.review_starts_at,
        Phase.ANALYSIS: session.analysis_due_on,
        Phase.ACTION_PLAN: session.action_plan_due_on,
    }
    for i, phase in enumerate(PHASE_ORDER):
        timeline.append(
            {
                "phase": phase,
                "label": Phase(phase).label,
                "planned": planned.get(phase),
                "reached": changes.get(phase),
                "state": "done"
                if i < session.phase_index
                else "current"
                if i == session.phase_index
                else "",
            }
        )
    return {
        "access": access,
        "session": session,
        "workload": session.workload,
        "counts": counts,
        "answered": answered,
        "total": total,
        "percent": round(100 * answered / total) if total else 0,
        "readiness": sessions.readiness(session),
        "timeline": timeline,
        "moves": [(p, Phase(p).label) for p in sessions.plain_moves(session)],
        "can_reopen": access.can_manage and sessions.can_reopen(session),
        "reopen_form": ReopenForm(),
        "phase_changes": session.phase_changes.select_related("by"),
        "invitations": session.invitations.select_related("invited_by").order_by("-created_at"),
        "invite_form": InvitationForm(),
        "checklist_form": ChecklistForm(
            initial={
                "read_documentation": access.participant.read_documentation,
                "brought_metrics": access.participant.brought_metrics,
                "confirmed_attendance": access.participant.confirmed_attendance,
            }
        )
        if access.participant
        else None,
        "budget_form": BudgetForm(budgets=budgets),
        "lenses": lenses,
        "upgrades": newer_versions(lenses),
        "roles": Participant._meta.get_field("role").choices,
        "parking_count": session.parking_lot.filter(dismissed_at__isnull=True).count(),
        **light_context(session),
        # The picker of team members to add: for who runs the session, never for a guest.
        "candidates": participants.candidates(session)
        if access.can_manage and not access.is_guest
        else [],
        "picked_ids": set(),
    }


@require_safe
def session_detail(request: SignedInRequest, session_uuid: UUID) -> HttpResponse:
    access = session_for_user(request.user, session_uuid, guests=True)
    return render(request, "reviews/session_detail.html", _detail_context(access, request))


@require_safe
def session_fragment(request: SignedInRequest, session_uuid: UUID, name: str) -> HttpResponse:
    """Re-fetched pieces of the session page (after a live event)."""
    if name not in ("participants", "progress"):
        raise PermissionDenied("Unknown fragment.")
    access = session_for_user(request.user, session_uuid, guests=True)
    return render(request, f"reviews/session_detail.html#{name}", _detail_context(access, request))


@require_http_methods(["GET", "POST"])
def session_schedule(request: SignedInRequest, session_uuid: UUID) -> HttpResponse:
    access = session_for_user(request.user, session_uuid)
    if not access.can_manage:
        raise PermissionDenied("Only the facilitator can change the plan.")
    session = access.session
    form = SessionPlanForm(
        request.POST if request.method == "POST" else None,
        initial={
            "title": session.title,
            "kind": session.kind,
            "preparation_starts_on": session.preparation_starts_on,
            "review_starts_at": timezone.localtime(session.review_starts_at)
            if session.review_starts_at
            else None,
            "review_duration_minutes": session.review_duration_minutes,
            "analysis_due_on": session.analysis_due_on,
            "action_plan_due_on": session.action_plan_due_on,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            sessions.session_update_plan(session=session, user=request.user, **form.cleaned_data)
        except ServiceError as exc:
            exc.add_to(form)
        else:
            messages.success(request, "Schedule saved.")
            return redirect("reviews:session_detail", session.uuid)
    return render(request, "reviews/session_schedule.html", {"form": form, "session": session})


def _phase_moved(phase: str) -> str:
    """The message after a phase move: the phase named as a phase ("the review phase")."""
    if phase == Phase.CLOSED:
        return "The review is now closed."
    return f"The review is now in its {Phase(phase).label.lower()} phase."


@require_POST
def session_phase(request: SignedInRequest, session_uuid: UUID) -> HttpResponse:
    access = session_for_user(request.user, session_uuid, guests=True)
    access.require_run("move the review to another phase")
    to_phase = request.POST.get("to", "")
    try:
        sessions.session_move(session=access.session, user=request.user, to_phase=to_phase)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _phase_moved(to_phase))
    return redirect("reviews:session_detail", access.session.uuid)


@require_POST
def session_reopen(request: SignedInRequest, session_uuid: UUID) -> HttpResponse:
    """Reopen the review (back to the review phase), with a reason."""
    access = session_for_user(request.user, session_uuid, guests=True)
    access.require_run("reopen the review")
    form = ReopenForm(request.POST)
    if form.is_valid():
        try:
            sessions.session_reopen(
                session=access.session, user=request.user, reason=form.cleaned_data["reason"]
            )
        except ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "The review is open again: answers can change.")
    else:
        messages.error(request, f"Reason: {form.errors['reason'][0]}")
    return redirect("reviews:session_detail", access.session.uuid)


@require_POST
def session_checklist(request: SignedInRequest, session_uuid: UUID) -> HttpResponse:
    access = session_for_user(request.user, session_uuid, guests=True)
    if access.participant is None:
        raise PermissionDenied("Only participants have a preparation checklist.")
    form = ChecklistForm(request.POST)
    form.is_valid()  # three optional booleans: always valid
    sessions.checklist_update(participant=access.participant, **form.cleaned_data)
    if request.htmx:
        return HttpResponse(status=204)
    messages.success(request, "Checklist saved.")
    return redirect("reviews:session_detail", access.session.uuid)


@require_POST
def session_budgets(request: SignedInRequest, session_uuid: UUID) -> HttpResponse:
    access = session_for_user(request.user, session_uuid)
    if not access.can_manage:
        raise PermissionDenied("Only the facilitator can set time budgets.")
    form = BudgetForm(request.POST, budgets=focus.budgets(access.session))
    if form.is_valid():
        sessions.budgets_update(session=access.session, minutes=form.minutes())
        messages.success(request, "Time budgets saved.")
    else:
        messages.error(request, "Each budget is a number of minutes between 0 and 600.")
    return redirect("reviews:session_detail", access.session.uuid)


def _participant_for_manager(request: SignedInRequest, session_uuid: UUID, participant_id: int):
    access = session_for_user(request.user, session_uuid)
    participant = get_object_or_404(Participant, session=access.session, pk=participant_id)
    if not access.can_manage:
        raise PermissionDenied("Only the facilitator can change participants.")
    return access, participant


@require_POST
def participant_role(
    request: SignedInRequest, session_uuid: UUID, participant_id: int
) -> HttpResponse:
    access, participant = _participant_for_manager(request, session_uuid, participant_id)
    form = ParticipantRoleForm(request.POST)
    try:
        if not form.is_valid():
            raise ServiceError("Choose one of the listed roles.")
        sessions.participant_change_role(participant=participant, role=form.cleaned_data["role"])
    except ServiceError as exc:
        messages.error(request, str(exc))
    return redirect("reviews:session_detail", access.session.uuid)


@require_POST
def participant_attended(
    request: SignedInRequest, session_uuid: UUID, participant_id: int
) -> HttpResponse:
    """The facilitator corrects attendance: yes, no, or as presence showed."""
    access, participant = _participant_for_manager(request, session_uuid, participant_id)
    try:
        sessions.participant_set_attended(
            participant=participant, attended=request.POST.get("attended", "")
        )
    except ServiceError as exc:
        if request.htmx:
            return HttpResponse(str(exc), status=400, content_type="text/plain")
        messages.error(request, str(exc))
    return redirect("reviews:session_detail", access.session.uuid)


@require_POST
def participant_remove(
    request: SignedInRequest, session_uuid: UUID, participant_id: int
) -> HttpResponse:
    access, participant = _participant_for_manager(request, session_uuid, participant_id)
    try:
        sessions.participant_remove(participant=participant)
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{participant.user} no longer takes part.")
    return redirect("reviews:session_detail", access.session.uuid)


@require_POST
def participants_add(request: SignedInRequest, session_uuid: UUID) -> HttpResponse:
    """Add team members picked on the session page, each with a session role."""
    access = session_for_user(request.user, session_uuid)
    access.require_run("add participants")
    picks = [(uid, request.POST.get(f"role-{uid}", "")) for uid in request.POST.getlist("member")]
    error, added = "", []
    try:
        added = participants.participants_add(
            session=access.session, user=request.user, picks=picks
        )
    except ServiceError as exc:
        error = str(exc)
    names = ", ".join(p.user.get_full_name() or p.user.username for p in added)
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, f"Added to the review: {names}.")
        return redirect(
            reverse("reviews:session_detail", args=[access.session.uuid]) + "#participants"
        )
    context = _detail_context(access, request)
    if error:
        # Show the picks again as they were sent, with what was wrong.
        roles = dict(picks)
        context["picked_ids"] = {
            c.user.pk for c in context["candidates"] if str(c.user.pk) in roles
        }
        context["candidates"] = [
            participants.Candidate(c.membership, roles.get(str(c.user.pk)) or c.role)
            if str(c.user.pk) in roles
            else c
            for c in context["candidates"]
        ]
    context |= {"add_error": error, "added_names": names}
    return render(request, "reviews/session_detail.html#participants", context)
