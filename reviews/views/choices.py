"""Best practices that do not apply: mark one choice of a question not applicable (with a
reason and a note) or applicable again, from the live question page. Works as a plain form
(redirect back to the question) and with htmx (204; the choices re-fetch themselves)."""

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from questionnaires import structure
from reviews import choices
from reviews.access import SessionAccess, session_for_user
from reviews.answers import BlindRoundOpen
from reviews.errors import ServiceError
from reviews.forms import ChoiceApplicabilityForm
from reviews.models import Answer


def _get_answer_for_user(
    request: HttpRequest, session_uuid: UUID, question_uuid: UUID
) -> tuple[SessionAccess, Answer]:
    """The session's answer to the question, for someone who may change it: 404 outside the
    team or for a question not in the review, 403 for whoever may not answer now."""
    access = session_for_user(request.user, session_uuid, guests=True)
    question_id = structure.question_id(str(question_uuid))
    answer = (
        Answer.objects.filter(session=access.session, question_id=question_id)
        .with_blind_open()
        .order_by()
        .first()
    )
    if question_id is None or answer is None:
        raise Http404("No such question in this review.")
    answer.session = access.session
    access.rights.require_answer(structure.question_info(question_id))
    return access, answer


def _refused(request: HttpRequest, message: str, back: HttpResponse) -> HttpResponse:
    if request.htmx:
        return HttpResponse(message, status=400, content_type="text/plain")
    messages.error(request, message)
    return back


@require_POST
def choice_applicability(
    request: HttpRequest, session_uuid: UUID, question_uuid: UUID, choice: str
) -> HttpResponse:
    access, answer = _get_answer_for_user(request, session_uuid, question_uuid)
    back = redirect("reviews:question", access.session.uuid, question_uuid)
    form = ChoiceApplicabilityForm(request.POST)
    if not form.is_valid():
        first = next(iter(form.errors.values()))[0]
        return _refused(request, first, back)
    try:
        if form.cleaned_data["status"] == "not_applicable":
            choices.choice_mark_not_applicable(
                answer=answer,
                user=request.user,
                choice_ident=choice,
                reason=form.cleaned_data["reason"],
                notes=form.cleaned_data["notes"],
            )
        else:
            choices.choice_clear_not_applicable(
                answer=answer, user=request.user, choice_ident=choice
            )
    except BlindRoundOpen as exc:
        raise PermissionDenied(str(exc)) from None
    except ServiceError as exc:
        return _refused(request, str(exc), back)
    if request.htmx:
        return HttpResponse(status=204)
    return back
