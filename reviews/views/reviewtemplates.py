"""Review templates: a team's list, one template, making one from a finished review, and
deleting one. Every team role sees them; admins and members make and delete them."""

from __future__ import annotations

from typing import cast
from uuid import UUID

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from config.http import SignedInRequest
from reviews import reviewtemplates
from reviews.access import session_for_user, team_for_user
from reviews.errors import ServiceError
from reviews.models import Membership, ReviewTemplate


def _template_for_user(
    request: SignedInRequest, template_uuid: UUID, *, edit: bool = False
) -> tuple[ReviewTemplate, Membership]:
    template = (
        ReviewTemplate.objects.select_related("team", "lens", "created_by", "source_session")
        .filter(uuid=template_uuid)
        .first()
    )
    if template is None:
        raise Http404("No such template.")
    _, membership = team_for_user(request.user, template.team.uuid)
    if edit and not membership.can_edit:
        raise PermissionDenied("Your role in this team cannot change review templates.")
    return template, membership


class TemplateForm(forms.Form):
    name = forms.CharField(max_length=reviewtemplates.NAME_MAX)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    lens = forms.ChoiceField(label="Lens", help_text="The template holds this lens's answers.")

    def __init__(self, *args, lenses, **kwargs):
        super().__init__(*args, **kwargs)
        self.lenses = {str(lens.uuid): lens for lens in lenses}
        lens_field = cast(forms.ChoiceField, self.fields["lens"])
        lens_field.choices = [(key, str(lens)) for key, lens in self.lenses.items()]


@require_safe
def template_list(request: SignedInRequest, team_uuid: UUID) -> HttpResponse:
    team, membership = team_for_user(request.user, team_uuid)
    return render(
        request,
        "reviews/template_list.html",
        {
            "team": team,
            "membership": membership,
            "templates": reviewtemplates.templates_of(team),
        },
    )


@require_safe
def template_detail(request: SignedInRequest, template_uuid: UUID) -> HttpResponse:
    template, membership = _template_for_user(request, template_uuid)
    return render(
        request,
        "reviews/template_detail.html",
        {"template": template, "membership": membership, "answers": template.answers.all()},
    )


@require_http_methods(["GET", "POST"])
def template_create(request: SignedInRequest, session_uuid: UUID) -> HttpResponse:
    """Make a template from a finished review."""
    access = session_for_user(request.user, session_uuid)
    session = access.session
    if not access.can_edit:
        raise PermissionDenied("Your role in this team cannot make review templates.")
    lenses = reviewtemplates.template_lenses(session)
    form = TemplateForm(
        request.POST if request.method == "POST" else None,
        lenses=lenses,
        initial={"name": session.title},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                template = reviewtemplates.template_create_from_review(
                    session=session,
                    user=request.user,
                    lens=form.lenses[data["lens"]],
                    name=data["name"],
                    description=data["description"],
                )
            except ServiceError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Template “{template.name}” saved.")
                return redirect("reviews:template_detail", template.uuid)
        status = 400
    return render(
        request,
        "reviews/template_form.html",
        {
            "session": session,
            "form": form,
            "finished": session.phase in reviewtemplates.FINISHED_PHASES,
        },
        status=status,
    )


@require_POST
def template_delete(request: SignedInRequest, template_uuid: UUID) -> HttpResponse:
    template, _ = _template_for_user(request, template_uuid, edit=True)
    reviewtemplates.template_delete(template=template)
    messages.success(request, f"Template “{template.name}” deleted.")
    return redirect("reviews:template_list", template.team.uuid)
