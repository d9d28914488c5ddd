"""Monthly follow-ups of a published plan: the page, updating an action in place, finishing."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect

from actions import followups
from actions.forms import FollowUpActionForm, FollowUpFinishForm
from actions.models import ActionItem, FollowUp, FollowUpNote
from reviews.access import SessionAccess, session_for_user
from reviews.errors import ServiceError

TEMPLATE = "actions/followup.html"


def followup_for_user(user, followup_uuid: UUID) -> tuple[FollowUp, SessionAccess]:
    """A follow-up of a session in one of the user's teams (404 otherwise)."""
    follow_up = FollowUp.objects.select_related("session").filter(uuid=followup_uuid).first()
    if follow_up is None:
        raise Http404("No such follow-up.")
    access = session_for_user(user, follow_up.session.uuid)
    follow_up.session = access.session
    return follow_up, access


@dataclass
class Row:
    """One action on the follow-up page."""

    action: ActionItem
    note: FollowUpNote | None
    form: FollowUpActionForm
    can_update: bool
    overdue: bool
    saved: bool = False


def _form(action: ActionItem, note: FollowUpNote | None, data=None) -> FollowUpActionForm:
    return FollowUpActionForm(
        data,
        auto_id=f"a{action.uuid.hex[:12]}-%s",
        initial={
            "status": action.status,
            "percent_complete": action.percent_complete,
            "note": note.note if note else "",
        },
    )


def _row(follow_up, access, user, action, notes, today, form=None, saved=False) -> Row:
    note = notes.get(action.pk)
    return Row(
        action=action,
        note=note,
        form=form or _form(action, note),
        can_update=not follow_up.is_held and followups.can_update(access, action, user),
        overdue=action.is_overdue(today),
        saved=saved,
    )


def _notes(follow_up: FollowUp) -> dict[int, FollowUpNote]:
    return {
        note.action_id: note
        for note in FollowUpNote.objects.filter(follow_up=follow_up).select_related("by")
    }


def _context(follow_up: FollowUp, access: SessionAccess, user, *, finish_form=None) -> dict:
    today = timezone.localdate()
    session = follow_up.session
    digest = followups.digest(follow_up, today=today)
    notes = _notes(follow_up)

    def rows(actions):
        return [_row(follow_up, access, user, a, notes, today) for a in actions]

    return {
        "follow_up": follow_up,
        "session": session,
        "workload": session.workload,
        "access": access,
        "digest": digest,
        "attention": rows(digest.attention),
        "others": rows(digest.open),
        "closed": rows(digest.closed),
        "siblings": FollowUp.objects.filter(session=session).order_by("number"),
        "participant_count": session.participants.count(),
        "finish_form": finish_form or FollowUpFinishForm(),
        "next_due_on": followups.next_follow_up_due_on(session),
        "today": today,
    }


@require_safe
def session_followup(request: HttpRequest, session_uuid: UUID) -> HttpResponse:
    """The follow-up to hold now: the latest not held yet, else the latest held."""
    access = session_for_user(request.user, session_uuid)
    session = access.session
    current = (
        FollowUp.objects.filter(session=session, held_at__isnull=True).order_by("-number").first()
        or FollowUp.objects.filter(session=session).order_by("-number").first()
    )
    if current is not None:
        return redirect("actions:followup", current.uuid)
    return render(
        request,
        TEMPLATE,
        {
            "follow_up": None,
            "session": session,
            "workload": session.workload,
            "access": access,
            "next_due_on": followups.next_follow_up_due_on(session),
        },
    )


@require_safe
def followup(request: HttpRequest, followup_uuid: UUID) -> HttpResponse:
    follow_up, access = followup_for_user(request.user, followup_uuid)
    return render(request, TEMPLATE, _context(follow_up, access, request.user))


@require_POST
def followup_action(request: HttpRequest, followup_uuid: UUID, action_uuid: UUID) -> HttpResponse:
    """Update one action's status and percent, with a note, in place."""
    follow_up, access = followup_for_user(request.user, followup_uuid)
    action = (
        ActionItem.objects.select_related("owner", "workload")
        .filter(uuid=action_uuid, session=follow_up.session)
        .first()
    )
    if action is None:
        raise Http404("No such action in this plan.")
    if not followups.can_update(access, action, request.user):
        raise PermissionDenied("The action's owner or the facilitator updates it.")
    if follow_up.is_held:
        raise PermissionDenied("This follow-up is finished: record changes in the next one.")
    notes = _notes(follow_up)
    form = _form(action, notes.get(action.pk), request.POST)
    if form.is_valid():
        try:
            followups.followup_record(
                follow_up=follow_up,
                action=action,
                user=request.user,
                status=form.cleaned_data["status"],
                percent_complete=form.cleaned_data["percent_complete"],
                note=form.cleaned_data["note"],
            )
        except ServiceError as exc:
            exc.add_to(form)
        else:
            if not request.htmx:
                messages.success(request, f"“{action.title}” updated.")
                url = reverse("actions:followup", args=[follow_up.uuid])
                return redirect(f"{url}#action-{action.uuid}")
            action.refresh_from_db()
            today = timezone.localdate()
            row = _row(
                follow_up, access, request.user, action, _notes(follow_up), today, saved=True
            )
            context = _context(follow_up, access, request.user)
            html = render_to_string(
                f"{TEMPLATE}#action", {"row": row, "follow_up": follow_up}, request=request
            )
            html += render_to_string(
                f"{TEMPLATE}#summary", {**context, "oob": True}, request=request
            )
            return HttpResponse(html)
    if request.htmx:
        row = _row(follow_up, access, request.user, action, notes, timezone.localdate(), form=form)
        return render(request, f"{TEMPLATE}#action", {"row": row, "follow_up": follow_up})
    context = _context(follow_up, access, request.user)
    for group in ("attention", "others", "closed"):
        for row in context[group]:
            if row.action.pk == action.pk:
                row.form = form
    return render(request, TEMPLATE, context)


@require_POST
def followup_finish(request: HttpRequest, followup_uuid: UUID) -> HttpResponse:
    """Finish the follow-up: a milestone, and the summary email to the participants."""
    follow_up, access = followup_for_user(request.user, followup_uuid)
    if not access.can_manage:
        raise PermissionDenied("The facilitator (or a team admin) finishes a follow-up.")
    form = FollowUpFinishForm(request.POST)
    if form.is_valid():
        try:
            followups.followup_finish(
                follow_up=follow_up, user=request.user, note=form.cleaned_data["note"]
            )
        except ServiceError as exc:
            exc.add_to(form)
        else:
            count = follow_up.session.participants.count()
            messages.success(
                request,
                f"Follow-up {follow_up.number} finished: a milestone is saved and the summary "
                f"is on its way to {count} participant{'s' if count != 1 else ''}.",
            )
            url = reverse("actions:followup", args=[follow_up.uuid])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    context = _context(follow_up, access, request.user, finish_form=form)
    if request.htmx:
        return render(request, f"{TEMPLATE}#finish", context)
    return render(request, TEMPLATE, context)
