"""A workload's review cadence: see and edit it, and record an incident."""

from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from config.http import SignedInRequest
from reviews import cadence, sessions
from reviews.access import workload_for_user
from reviews.errors import ServiceError
from reviews.forms import CadenceForm, IncidentForm
from reviews.models import Membership, ReviewSession, Workload

TEMPLATE = "reviews/workload_cadence.html"


def _context(
    workload: Workload, membership: Membership, *, form=None, incident_form=None, saved=False
) -> dict:
    today = timezone.localdate()
    schedule = cadence.proposed_schedule(workload, after=today)
    held = (
        ReviewSession.objects.filter(workload=workload, phase__in=cadence.HELD_PHASES)
        .exclude(review_starts_at=None)
        .order_by("-review_starts_at")
    )
    return {
        "workload": workload,
        "membership": membership,
        "cadence": cadence.cadence_for(workload),
        "schedule": schedule,
        "proposed": schedule[0],
        "held": held,
        "today": today,
        "form": form
        or CadenceForm(
            initial={
                "review_interval_months": workload.review_interval_months,
                "next_review_due_on": workload.next_review_due_on,
            }
        ),
        "incident_form": incident_form or IncidentForm(initial={"occurred_on": today}),
        "post_incident_days": cadence.POST_INCIDENT_DAYS,
        "saved": saved,
    }


@require_http_methods(["GET", "POST"])
def workload_cadence(request: SignedInRequest, workload_uuid: UUID) -> HttpResponse:
    workload, membership = workload_for_user(
        request.user, workload_uuid, edit=request.method == "POST"
    )
    form = CadenceForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            cadence.cadence_update(
                workload=workload,
                review_interval_months=form.cleaned_data["review_interval_months"],
                next_review_due_on=form.cleaned_data["next_review_due_on"],
            )
        except ServiceError as exc:
            form.add_error("review_interval_months", str(exc))
        else:
            if request.htmx:
                context = _context(workload, membership, saved=True)
                return render(request, f"{TEMPLATE}#settings", context)
            messages.success(request, "Cadence saved.")
            return redirect("reviews:workload_cadence", workload.uuid)
    context = _context(workload, membership, form=form if form.is_bound else None)
    if request.htmx and request.method == "POST":
        return render(request, f"{TEMPLATE}#settings", context)
    return render(request, TEMPLATE, context)


@require_POST
def incident_record(request: SignedInRequest, workload_uuid: UUID) -> HttpResponse:
    workload, membership = workload_for_user(request.user, workload_uuid, edit=True)
    form = IncidentForm(request.POST)
    if form.is_valid():
        try:
            session = sessions.incident_record(
                workload=workload,
                user=request.user,
                occurred_on=form.cleaned_data["occurred_on"],
                summary=form.cleaned_data["summary"],
            )
        except ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            starts = timezone.localtime(session.review_starts_at)
            messages.success(
                request,
                f"Post-incident review scheduled for {starts:%A} {starts.day} {starts:%B}, "
                f"{starts:%H:%M}. Invite the people who handled the incident.",
            )
            url = reverse("reviews:session_detail", args=[session.uuid])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    context = _context(workload, membership, incident_form=form)
    if request.htmx:
        return render(request, f"{TEMPLATE}#incident", context)
    return render(request, TEMPLATE, context)
