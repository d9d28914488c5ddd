"""The live questionnaire: one page per question, its fragments (re-fetched after live
events), answering, notes, facilitation, blind rounds and the parking lot.

Every form works without JavaScript (post, then redirect back to the question); with htmx the
same endpoints answer with the fragment that changed."""

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from config.http import SignedInRequest
from questionnaires import structure
from questionnaires.structure import QuestionInfo
from reviews import answers, live, live_fragments, parking, presence
from reviews import blind as blind_rounds
from reviews import focus as facilitation
from reviews.access import SessionAccess
from reviews.errors import ServiceError
from reviews.forms import ApplicabilityForm, NotesForm, ParkingForm
from reviews.lightreview import light_context
from reviews.live_access import session_access
from reviews.models import Answer, AnswerChange, BlindRound, ParkingLotItem

FRAGMENTS = {
    "nav",
    "choices",
    "notes",
    "notes_edit",
    "notes_stale",
    "facilitator",
    "presence",
    "parking",
    "history",
    "phase",
}


def _answer(access: SessionAccess, question_uuid: UUID) -> tuple[Answer, QuestionInfo]:
    """The session's answer to a question (and whether a blind round is open on it)."""
    question = structure.question_id(str(question_uuid))
    if question is None:
        raise Http404("No such question in this review.")
    answer = (
        Answer.objects.filter(session=access.session, question_id=question)
        .with_blind_open()
        .order_by()
        .first()
    )
    if answer is None:
        raise Http404("No such question in this review.")
    answer.session = access.session
    return answer, structure.question_info(answer.question_id)


def _require_answering(access: SessionAccess, info: QuestionInfo) -> None:
    """403 for whoever may not answer this question, 409 once answers are closed."""
    access.rights.require_answer(info)


def _context(
    request: SignedInRequest,
    access: SessionAccess,
    answer: Answer,
    info: QuestionInfo,
    parts: set[str],
) -> dict:
    """What the question page (or some of its fragments) needs; computes only `parts`."""
    session = access.session
    ctx: dict = {
        "access": access,
        "session": session,
        "workload": session.workload,
        "q": info,
        "answer": answer,
        "can_answer": access.may_answer(info),
        "answer_refusal": access.rights.answer_refusal(info),
        "is_facilitator": access.can_manage,
        "answers_open": access.rights.answers_open,
        "can_park": access.can_park,
        "me_mark": live_fragments.owner_mark(session, request.user.pk),
    }
    if parts & {"nav"}:
        ctx.update(live_fragments.nav_context(session, info.id))
    if parts & {"choices"}:
        # `answer.blind_open` says whether to look the round up at all (most of the time not).
        round_ = blind_rounds.open_round(session, info.id) if answer.blind_open else None
        ctx["blind"] = blind_rounds.blind_view(round_, request.user) if round_ else None
        ctx.update(live_fragments.choices_context(answer, info))
    if parts & {"notes", "notes_edit"}:
        ctx["notes_form"] = NotesForm(
            initial={"text": answer.notes, "revision": answer.notes_revision}
        )
    if parts & {"facilitator"}:
        ctx.update(live_fragments.focus_context(session))
        ctx["this_timer"] = next((t for t in ctx["timers"] if t.pillar_id == info.pillar_id), None)
        ctx["following"] = bool(access.participant and access.participant.follows_facilitator)
    if parts & {"presence"}:
        ctx["people"] = presence.presence(session)
    if parts & {"parking"}:
        ctx["parking"] = session.parking_lot.filter(dismissed_at__isnull=True).select_related(
            "created_by", "question"
        )
        ctx["parking_form"] = ParkingForm()
    if parts & {"history"}:
        ctx["changes"] = AnswerChange.objects.filter(answer=answer).select_related("user")[:200]
    return ctx


ALL_PARTS = {"nav", "choices", "notes", "facilitator", "presence", "parking"}


@require_safe
def session_live(request: SignedInRequest, session_uuid: UUID) -> HttpResponse:
    """Open the questionnaire: at the facilitator's question, else the first unanswered."""
    access = session_access(request.user, session_uuid, guests=True)
    session = access.session
    question_id = session.focus_question_id
    if question_id is None:
        outline = live.session_outline(session)
        flat = [q for pillar in outline for q in pillar.questions]
        if not flat:
            raise Http404("This review has no questions.")
        question_id = next((q["id"] for q in flat if q["risk"] == "UNANSWERED"), flat[0]["id"])
    return redirect("reviews:question", session.uuid, structure.question_info(question_id).uuid)


@require_safe
def question_page(
    request: SignedInRequest, session_uuid: UUID, question_uuid: UUID
) -> HttpResponse:
    access = session_access(request.user, session_uuid, guests=True)
    answer, info = _answer(access, question_uuid)
    presence.presence_viewing(session=access.session, user=request.user, question_id=info.id)
    ctx = _context(request, access, answer, info, ALL_PARTS)
    ctx["editing_notes"] = request.GET.get("edit") == "notes" and access.may_answer(info)
    ctx.update(light_context(access.session))
    return render(request, "reviews/question.html", ctx)


@require_safe
def question_fragment(
    request: SignedInRequest, session_uuid: UUID, question_uuid: UUID, name: str
) -> HttpResponse:
    if name not in FRAGMENTS:
        raise Http404("No such fragment.")
    access = session_access(request.user, session_uuid, guests=True)
    answer, info = _answer(access, question_uuid)
    ctx = _context(request, access, answer, info, {name})
    if name == "notes_stale":
        ctx["base_revision"] = request.GET.get("revision", "")
        ctx["stale"] = str(answer.notes_revision) != ctx["base_revision"]
    return render(request, f"reviews/question.html#{name}", ctx)


def _back(access: SessionAccess, info: QuestionInfo) -> HttpResponse:
    return redirect("reviews:question", access.session.uuid, info.uuid)


def _done(request: SignedInRequest, access: SessionAccess, info: QuestionInfo) -> HttpResponse:
    """After a change: htmx gets 204 (the fragments that show the change re-fetch
    themselves, on the live event or on the element's data-refresh); a plain form goes back
    to the question."""
    if request.htmx:
        return HttpResponse(status=204)
    return _back(access, info)


def _refuse_during_blind(answer: Answer) -> None:
    if answer.blind_open:
        raise PermissionDenied("A blind round is open on this question: pick in the round instead.")


@require_POST
def choice_toggle(
    request: SignedInRequest, session_uuid: UUID, question_uuid: UUID, choice: str
) -> HttpResponse:
    """Select (select=1) or unselect (select=0) one choice: an operation, not a whole answer.
    The hottest path of the live page: access, then one transaction."""
    access = session_access(request.user, session_uuid, guests=True)
    question_id = structure.question_id(str(question_uuid))
    if question_id is None:
        raise Http404("No such question in this review.")
    _require_answering(access, structure.question_info(question_id))
    select = request.POST.get("select")
    if select not in ("0", "1"):
        return HttpResponse("Say select=1 or select=0.", status=400, content_type="text/plain")
    try:
        answers.answer_toggle_at(
            session=access.session,
            question_id=question_id,
            user=request.user,
            choice_ident=choice,
            select=select == "1",
        )
    except Answer.DoesNotExist:
        raise Http404("No such question in this review.") from None
    except answers.BlindRoundOpen as exc:
        raise PermissionDenied(str(exc)) from None
    except ServiceError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain")
    if request.htmx:
        return HttpResponse(status=204)
    return redirect("reviews:question", access.session.uuid, question_uuid)


@require_POST
def answer_form(request: SignedInRequest, session_uuid: UUID, question_uuid: UUID) -> HttpResponse:
    """The whole choice form, posted without JavaScript: applied as operations (only what the
    person changed from what their page showed)."""
    access = session_access(request.user, session_uuid, guests=True)
    answer, info = _answer(access, question_uuid)
    _require_answering(access, info)
    _refuse_during_blind(answer)
    known = {c.ident for c in info.choices}
    selected = set(request.POST.getlist("selected")) & known
    shown = set(request.POST.getlist("shown")) & known
    answers.answer_update(answer=answer, user=request.user, selected=selected, shown=shown)
    messages.success(request, "Answer saved.")
    return _back(access, info)


@require_POST
def applicability(
    request: SignedInRequest, session_uuid: UUID, question_uuid: UUID
) -> HttpResponse:
    access = session_access(request.user, session_uuid, guests=True)
    answer, info = _answer(access, question_uuid)
    _require_answering(access, info)
    form = ApplicabilityForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            ctx = _context(request, access, answer, info, {"choices"})
            ctx["applicability_form"] = form
            return render(request, "reviews/question.html#choices", ctx)
        messages.error(request, str(form.errors.get("reason", ["Check the form."])[0]))
        return _back(access, info)
    answers.answer_set_applicability(
        answer=answer,
        user=request.user,
        not_applicable=form.cleaned_data["not_applicable"],
        reason=form.cleaned_data["reason"] if form.cleaned_data["not_applicable"] else "",
    )
    return _done(request, access, info)


@require_POST
def answer_confirm(
    request: SignedInRequest, session_uuid: UUID, question_uuid: UUID
) -> HttpResponse:
    """Confirm an answer marked "look again" (after a lens upgrade) or "from template"."""
    access = session_access(request.user, session_uuid, guests=True)
    answer, info = _answer(access, question_uuid)
    _require_answering(access, info)
    answers.answer_confirm(answer=answer, user=request.user)
    return _done(request, access, info)


@require_POST
def notes_save(request: SignedInRequest, session_uuid: UUID, question_uuid: UUID) -> HttpResponse:
    """Save notes made from revision N. If they changed since, show both texts (a conflict);
    nothing is ever dropped."""
    access = session_access(request.user, session_uuid, guests=True)
    answer, info = _answer(access, question_uuid)
    _require_answering(access, info)
    form = NotesForm(request.POST)
    if not form.is_valid():
        return HttpResponse(
            "; ".join(f"{k}: {v[0]}" for k, v in form.errors.items()),
            status=400,
            content_type="text/plain",
        )
    try:
        answer = answers.answer_save_notes(
            answer=answer,
            user=request.user,
            text=form.cleaned_data["text"],
            base_revision=form.cleaned_data["revision"],
        )
    except answers.NotesConflict as conflict:
        ctx = _context(
            request, access, conflict.answer, info, ALL_PARTS if not request.htmx else {"notes"}
        )
        ctx["conflict"] = conflict
        ctx["notes_form"] = NotesForm(
            initial={"text": conflict.yours, "revision": conflict.answer.notes_revision}
        )
        if request.htmx:
            return render(request, "reviews/question.html#notes_conflict", ctx)
        return render(request, "reviews/question.html", ctx, status=409)
    except ServiceError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain")
    if request.htmx:
        return render(
            request,
            "reviews/question.html#notes",
            _context(request, access, answer, info, {"notes"}),
        )
    messages.success(request, "Notes saved.")
    return _back(access, info)


@require_safe
def question_history(
    request: SignedInRequest, session_uuid: UUID, question_uuid: UUID
) -> HttpResponse:
    access = session_access(request.user, session_uuid, guests=True)
    answer, info = _answer(access, question_uuid)
    ctx = _context(request, access, answer, info, {"history"})
    if request.htmx:
        return render(request, "reviews/question.html#history", ctx)
    return render(request, "reviews/question_history.html", ctx)


# --- Facilitation ------------------------------------------------------------------------------


def _session_post(
    request: SignedInRequest, session_uuid: UUID
) -> tuple[SessionAccess, Answer, QuestionInfo]:
    """Session-level actions posted from a question page: the question comes in the form."""
    access = session_access(request.user, session_uuid, guests=True)
    try:
        question_uuid = UUID(request.POST.get("question", ""))
    except ValueError:
        raise Http404("Say which question.") from None
    answer, info = _answer(access, question_uuid)
    return access, answer, info


@require_POST
def focus(request: SignedInRequest, session_uuid: UUID) -> HttpResponse:
    """The facilitator brings everyone who follows to this question (or stops, stop=1)."""
    access, answer, info = _session_post(request, session_uuid)
    access.require_open()
    if not access.can_manage:
        raise PermissionDenied("Only the facilitator sets the focus.")
    target = None if request.POST.get("stop") == "1" else info.id
    access.session = facilitation.focus_set(
        session=access.session, user=request.user, question_id=target
    )
    return _done(request, access, info)


@require_POST
def follow(request: SignedInRequest, session_uuid: UUID) -> HttpResponse:
    access, answer, info = _session_post(request, session_uuid)
    if access.participant is None:
        raise PermissionDenied("Only participants follow the facilitator.")
    access.participant.follows_facilitator = request.POST.get("follow") == "1"
    access.participant.save(update_fields=["follows_facilitator"])
    return _done(request, access, info)


@require_POST
def parking_add(request: SignedInRequest, session_uuid: UUID) -> HttpResponse:
    access, answer, info = _session_post(request, session_uuid)
    access.require_open()
    if not access.can_park:
        raise PermissionDenied("Only those who answer in this review can park items.")
    form = ParkingForm(request.POST)
    error = None
    if form.is_valid():
        try:
            parking.parking_add(
                session=access.session,
                user=request.user,
                text=form.cleaned_data["text"],
                question_id=info.id,
            )
        except ServiceError as exc:
            error = str(exc)
    else:
        error = f"Parking lot: {form.errors['text'][0]}"
    if error and request.htmx:
        return HttpResponse(error, status=400, content_type="text/plain")
    if error:
        messages.error(request, error)
    return _done(request, access, info)


@require_POST
def parking_dismiss(request: SignedInRequest, session_uuid: UUID, item_uuid: UUID) -> HttpResponse:
    access, answer, info = _session_post(request, session_uuid)
    item = get_object_or_404(ParkingLotItem, session=access.session, uuid=item_uuid)
    if not access.can_manage and item.created_by_id != request.user.pk:
        raise PermissionDenied("Only the facilitator or who parked it can remove an item.")
    parking.parking_dismiss(item=item)
    return _done(request, access, info)


# --- Blind rounds ------------------------------------------------------------------------------


def _round(access: SessionAccess, info: QuestionInfo) -> BlindRound:
    round_ = blind_rounds.open_round(access.session, info.id)
    if round_ is None:
        raise Http404("No blind round is open on this question.")
    return round_


@require_POST
def blind(
    request: SignedInRequest, session_uuid: UUID, question_uuid: UUID, step: str
) -> HttpResponse:
    """open, pick, reveal, agree, cancel."""
    access = session_access(request.user, session_uuid, guests=True)
    answer, info = _answer(access, question_uuid)
    access.require_open()
    if step in ("open", "reveal", "agree", "cancel") and not access.can_manage:
        raise PermissionDenied("Only the facilitator runs blind rounds.")
    try:
        if step == "open":
            blind_rounds.blind_open(session=access.session, user=request.user, question_id=info.id)
        elif step == "pick":
            _require_answering(access, info)
            select = request.POST.get("select")
            if select not in ("0", "1"):
                return HttpResponse(
                    "Say select=1 or select=0.", status=400, content_type="text/plain"
                )
            blind_rounds.blind_pick(
                round_=_round(access, info),
                user=request.user,
                choice_ident=request.POST.get("choice", ""),
                select=select == "1",
            )
        elif step == "reveal":
            blind_rounds.blind_reveal(round_=_round(access, info), user=request.user)
        elif step == "agree":
            known = {c.ident for c in info.choices}
            blind_rounds.blind_agree(
                round_=_round(access, info),
                user=request.user,
                selected=set(request.POST.getlist("selected")) & known,
            )
        elif step == "cancel":
            blind_rounds.blind_cancel(round_=_round(access, info), user=request.user)
        else:
            raise Http404("No such step.")
    except ServiceError as exc:
        if request.htmx:
            return HttpResponse(str(exc), status=400, content_type="text/plain")
        messages.error(request, str(exc))
    return _done(request, access, info)
