"""Action items: create (from a best practice or by hand), read, edit, comment, progress."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from actions import findings, items
from actions.forms import ActionForm, CommentForm, PracticeActionForm, ProgressForm, ReassignForm
from actions.models import ActionItem, Finding
from actions.views.analysis import _finding_response, finding_for_user
from questionnaires.models import Choice
from reviews.access import session_for_user, team_writes
from reviews.errors import ServiceError
from reviews.models import Membership


def action_for_user(user, action_uuid: UUID) -> tuple[ActionItem, Membership]:
    """An action in one of the user's teams (404 otherwise) and the user's membership."""
    action = (
        ActionItem.objects.select_related(
            "workload__team",
            "session",
            "owner",
            "created_by",
            "finding__question__pillar",
            "question__pillar",
            "choice",
            "parking_item",
        )
        .filter(uuid=action_uuid)
        .first()
    )
    membership = (
        Membership.objects.filter(user=user, team_id=action.workload.team_id).first()
        if action
        else None
    )
    if membership is None:
        raise Http404("No such action.")
    return action, membership


def _require_edit(action: ActionItem, membership: Membership, user) -> None:
    if not items.can_edit_action(action, membership, user):
        raise PermissionDenied("Team admins and members change actions; owners change their own.")


@require_http_methods(["GET", "POST"])
def action_create(request: HttpRequest, session_uuid: UUID) -> HttpResponse:
    access = session_for_user(request.user, session_uuid)
    session = access.session
    rights = findings.analysis_rights(access, user=request.user)
    if not rights.can_create_actions:
        raise PermissionDenied(
            rights.read_only_reason or "Team admins and members add actions to the plan."
        )
    finding = None
    if finding_uuid := request.GET.get("finding") or request.POST.get("finding"):
        try:
            finding = Finding.objects.select_related("question").get(
                uuid=UUID(str(finding_uuid)), session=session
            )
        except (ValueError, Finding.DoesNotExist):
            raise Http404("No such finding in this review.") from None
    initial = {"due_on": items.default_due_on(session)}
    if finding is not None:
        initial["title"] = finding.question.title[:200]
    form = ActionForm(
        request.POST if request.method == "POST" else None,
        workload=session.workload,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            action = items.action_create(
                workload=session.workload,
                session=session,
                finding=finding,
                user=request.user,
                **form.cleaned_data,
            )
        except ServiceError as exc:
            exc.add_to(form)
        else:
            messages.success(request, f"Action “{action.title}” added to the plan.")
            return redirect("actions:action_detail", action.uuid)
    return render(
        request,
        "actions/action_form.html",
        {
            "nav": "session",
            "form": form,
            "session": session,
            "workload": session.workload,
            "finding": finding,
            "action": None,
        },
    )


@require_POST
def action_from_practice(request: HttpRequest, finding_uuid: UUID) -> HttpResponse:
    finding, access = finding_for_user(request.user, finding_uuid)
    rights = findings.analysis_rights(access, user=request.user)
    if not rights.can_create_actions:
        raise PermissionDenied(rights.read_only_reason or "Team admins and members create actions.")
    form = PracticeActionForm(request.POST)
    choice = None
    if form.is_valid():
        choice = Choice.objects.filter(
            question_id=finding.question_id, ident=form.cleaned_data["choice"]
        ).first()
    if choice is None:
        return _finding_response(
            request, access, finding, error="Choose one of this finding's best practices."
        )
    try:
        action, created = items.action_create_from_practice(
            finding=finding, choice=choice, user=request.user
        )
    except ServiceError as exc:
        return _finding_response(request, access, finding, error=str(exc))
    if not request.htmx:
        if created:
            messages.success(
                request,
                f"Action “{action.title}” created. Give it an owner, a due date and a "
                "measurable outcome before the plan is published.",
            )
        else:
            messages.info(request, f"“{action.title}” already has an action.")
    return _finding_response(request, access, finding)


@require_safe
def action_detail(request: HttpRequest, action_uuid: UUID) -> HttpResponse:
    action, membership = action_for_user(request.user, action_uuid)
    return render(
        request, "actions/action_detail.html", _detail_context(request, action, membership)
    )


def _detail_context(request, action, membership, *, comment_form=None) -> dict:
    return {
        "nav": "session",
        "action": action,
        "workload": action.workload,
        "session": action.session,
        "membership": membership,
        "can_edit": items.can_edit_action(action, membership, request.user),
        "can_comment": team_writes(membership),
        "comments": action.comments.select_related("author"),
        "history": items.action_history(action),
        "comment_form": comment_form or CommentForm(),
        "statuses": ActionItem.Status.choices,
        "overdue": action.is_overdue(),
        "links": findings.practice_links(action.choice) if action.choice else [],
    }


@require_http_methods(["GET", "POST"])
def action_edit(request: HttpRequest, action_uuid: UUID) -> HttpResponse:
    action, membership = action_for_user(request.user, action_uuid)
    _require_edit(action, membership, request.user)
    form = ActionForm(
        request.POST if request.method == "POST" else None,
        workload=action.workload,
        initial=ActionForm.initial_from(action),
    )
    if request.method == "POST" and form.is_valid():
        try:
            items.action_update(action=action, user=request.user, changes=form.cleaned_data)
        except ServiceError as exc:
            exc.add_to(form)
        else:
            messages.success(request, "Action saved.")
            return redirect("actions:action_detail", action.uuid)
    return render(
        request,
        "actions/action_form.html",
        {
            "nav": "session",
            "form": form,
            "action": action,
            "session": action.session,
            "workload": action.workload,
            "finding": action.finding,
        },
    )


@require_POST
def action_comment(request: HttpRequest, action_uuid: UUID) -> HttpResponse:
    action, membership = action_for_user(request.user, action_uuid)
    if not team_writes(membership):
        raise PermissionDenied("Viewers read actions; they do not comment.")
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            items.action_comment_add(
                action=action, user=request.user, body=form.cleaned_data["body"]
            )
        except ServiceError as exc:
            exc.add_to(form)
        else:
            form = CommentForm()
            if not request.htmx:
                messages.success(request, "Comment added.")
                return redirect(f"{reverse('actions:action_detail', args=[action.uuid])}#comments")
    if request.htmx:
        context = _detail_context(request, action, membership, comment_form=form)
        return render(request, "actions/action_detail.html#comments", context)
    if form.errors:
        messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
    return redirect(f"{reverse('actions:action_detail', args=[action.uuid])}#comments")


@require_POST
def action_progress(request: HttpRequest, action_uuid: UUID) -> HttpResponse:
    """Status and percent complete, inline on "My actions" (and on the action's page)."""
    action, membership = action_for_user(request.user, action_uuid)
    _require_edit(action, membership, request.user)
    form = ProgressForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            action = items.action_update(
                action=action, user=request.user, changes=form.cleaned_data
            )
        except ServiceError as exc:
            error = str(exc)
    else:
        error = "; ".join(
            f"{form.fields[name].label or name}: {errors[0]}"
            for name, errors in form.errors.items()
        )
    if request.htmx:
        action, _ = action_for_user(request.user, action_uuid)
        return render(
            request,
            "actions/my_actions.html#row",
            {
                "action": action,
                "error": error,
                "saved": not error,
                "statuses": ActionItem.Status.choices,
                "here": request.POST.get("next", ""),
            },
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(
            request,
            f"“{action.title}”: {action.get_status_display().lower()}, "
            f"{action.percent_complete}% complete.",
        )
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(next_url)
    return redirect("actions:action_detail", action.uuid)


@require_POST
def action_reassign(request: HttpRequest, action_uuid: UUID) -> HttpResponse:
    """Give an action a new owner from the workload page (its "needs a new owner" list):
    team admins and members."""
    action, membership = action_for_user(request.user, action_uuid)
    if not membership.can_edit:
        raise PermissionDenied("Team admins and members reassign actions.")
    form = ReassignForm(request.POST, workload=action.workload)
    if not form.is_valid():
        messages.error(request, "New owner: choose one of the team's admins, members or finance.")
    else:
        owner = form.cleaned_data["owner"]
        try:
            items.action_update(action=action, user=request.user, changes={"owner": owner})
        except ServiceError as exc:
            messages.error(request, str(exc))
        else:
            name = owner.get_full_name() or owner.username
            messages.success(request, f"“{action.title}” now belongs to {name}.")
    return redirect("reviews:workload_detail", action.workload.uuid)
