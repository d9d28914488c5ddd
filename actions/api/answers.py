"""A session's answers: read them, and change them through the same services and rights as
the live page (reviews/answers.py, reviews/access.py)."""

from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from ninja import Router
from ninja.pagination import paginate

from actions.api.auth import require_write
from actions.api.pagination import CursorPagination
from actions.api.schemas import ERRORS, AnswerOut, AnswerPatch, ConflictOut
from config.http import SignedInRequest
from questionnaires import structure
from reviews import answers, choices
from reviews.access import SessionAccess, session_for_user
from reviews.errors import ServiceError
from reviews.models import Answer

router = Router(tags=["answers"])


def _answers(access: SessionAccess):
    return (
        Answer.objects.filter(session=access.session)
        .select_related("question__pillar__lens")
        .prefetch_related("selections__choice", "choice_exclusions__choice")
    )


def _answer_for_user(request: SignedInRequest, session_uuid: UUID, question_uuid: UUID):
    access = session_for_user(request.user, session_uuid)
    answer = _answers(access).filter(question__uuid=question_uuid).first()
    if answer is None:
        raise Http404("No such question in this review.")
    answer.session = access.session
    return access, answer


def _in_field(field: str, service, **kwargs):
    """Call a service; a refusal that names no field of its own is about `field`."""
    try:
        return service(**kwargs)
    except ServiceError as exc:
        if not getattr(exc, "field", None):
            exc.field = field
        raise


@router.get("/sessions/{session_uuid}/answers", response={200: list[AnswerOut], **ERRORS})
@paginate(CursorPagination, key="question__uuid")
def answer_list(request: SignedInRequest, session_uuid: UUID):
    """Every question of the session's lenses with its answer; the cursor is a question's
    uuid."""
    return _answers(session_for_user(request.user, session_uuid))


@router.get("/sessions/{session_uuid}/answers/{question_uuid}", response={200: AnswerOut, **ERRORS})
def answer_detail(request: SignedInRequest, session_uuid: UUID, question_uuid: UUID):
    _, answer = _answer_for_user(request, session_uuid, question_uuid)
    return answer


@router.patch(
    "/sessions/{session_uuid}/answers/{question_uuid}",
    response={200: AnswerOut, 409: ConflictOut, **ERRORS},
)
def answer_update(
    request: SignedInRequest, session_uuid: UUID, question_uuid: UUID, payload: AnswerPatch
):
    """Mark the question applicable or not, clear best practices' not-applicable marks,
    select and unselect choices, mark best practices not applicable, save the notes
    (with the revision you read them at: a stale save is a 409 carrying the notes as they
    stand). All or nothing: if one part is refused, nothing is saved. Needs a write token
    and the right to answer in this review now."""
    require_write(request)
    access, answer = _answer_for_user(request, session_uuid, question_uuid)
    if not access.can_answer:
        raise PermissionDenied("You cannot change the answers of this review now.")
    info = structure.question_info(answer.question_id)
    marks = payload.mark_not_applicable
    for field, idents in (
        ("select", payload.select),
        ("unselect", payload.unselect),
        ("mark_not_applicable", [mark.choice for mark in marks]),
        ("clear_not_applicable", payload.clear_not_applicable),
    ):
        unknown = sorted(set(idents) - set(info.by_ident))
        if unknown:
            raise ServiceError(f"Not choices of this question: {', '.join(unknown)}.", field=field)
    with transaction.atomic():
        if payload.not_applicable is not None:
            answer = answers.answer_set_applicability(
                answer=answer,
                user=request.user,
                not_applicable=payload.not_applicable,
                reason=(payload.not_applicable_reason or "") if payload.not_applicable else "",
            )
        for ident in payload.clear_not_applicable:
            _in_field(
                "clear_not_applicable",
                choices.choice_clear_not_applicable,
                answer=answer,
                user=request.user,
                choice_ident=ident,
            )
        for ident, select in [(i, True) for i in payload.select] + [
            (i, False) for i in payload.unselect
        ]:
            answers.answer_toggle_at(
                session=access.session,
                question_id=answer.question_id,
                user=request.user,
                choice_ident=ident,
                select=select,
            )
        for mark in marks:
            _in_field(
                "mark_not_applicable",
                choices.choice_mark_not_applicable,
                answer=answer,
                user=request.user,
                choice_ident=mark.choice,
                reason=mark.reason.value,
                notes=mark.notes,
            )
        if payload.notes is not None:
            answers.answer_save_notes(
                answer=answer,
                user=request.user,
                text=payload.notes,
                base_revision=payload.notes_revision or 0,
            )
    return _answer_for_user(request, session_uuid, question_uuid)[1]
