"""Review templates: a team's pre-filled answers, notes and N/A reasons for one lens, made
from a finished review; a new review made from a template starts with them, each marked
"from template" until someone confirms it (reviews.answers.answer_confirm).

A template keeps answers by question and choice id, so it fills whichever version of its
lens the new review uses: what the version no longer has is left out."""

from __future__ import annotations

from django.db import transaction

from questionnaires.models import Lens
from questionnaires.structure import question_info
from reviews import answers as answer_services
from reviews.errors import ServiceError
from reviews.models import (
    Answer,
    AnswerChange,
    Phase,
    ReviewSession,
    ReviewTemplate,
    SessionLens,
    Team,
    TemplateAnswer,
)

# A review is finished, for a template, once its session is over.
FINISHED_PHASES = (Phase.ANALYSIS, Phase.ACTION_PLAN, Phase.FOLLOW_UP, Phase.CLOSED)
NAME_MAX = 150


def template_lenses(session: ReviewSession) -> list[Lens]:
    """The lenses of a review a template can be made for."""
    return [sl.lens for sl in SessionLens.objects.filter(session=session).select_related("lens")]


@transaction.atomic
def template_create_from_review(
    *, session: ReviewSession, user, lens: Lens, name: str, description: str = ""
) -> ReviewTemplate:
    """A template of the review's answers to one of its lenses: the selected choices, notes
    and not-applicable reasons of every answered question."""
    if session.phase not in FINISHED_PHASES:
        raise ServiceError(
            "A template is made from a finished review: this one is still in "
            f"{Phase(session.phase).label.lower()}."
        )
    if not SessionLens.objects.filter(session=session, lens=lens).exists():
        raise ServiceError(f"This review does not use {lens}.")
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise ServiceError(f"A template needs a name of 1 to {NAME_MAX} characters.")
    template = ReviewTemplate.objects.create(
        team=session.workload.team,
        name=name,
        description=description.strip(),
        lens=lens,
        source_session=session,
        created_by=user,
    )
    rows = (
        Answer.objects.filter(session=session, question__pillar__lens=lens)
        .select_related("question__pillar")
        .prefetch_related("selections__choice")
        .order_by("question__pillar__order", "question__order")
    )
    TemplateAnswer.objects.bulk_create(
        TemplateAnswer(
            template=template,
            question_ident=answer.question.ident,
            title=answer.question.title,
            choices=sorted(s.choice.ident for s in answer.selections.all()),
            not_applicable=answer.not_applicable,
            not_applicable_reason=answer.not_applicable_reason,
            notes=answer.notes,
            order=i,
        )
        for i, answer in enumerate(rows)
        if answer.selections.all() or answer.not_applicable or answer.notes
    )
    return template


@transaction.atomic
def template_delete(*, template: ReviewTemplate) -> None:
    """Delete a template; reviews made from it keep their answers."""
    ReviewTemplate.objects.filter(pk=template.pk).delete()


def template_lens_for(template: ReviewTemplate, chosen: list[Lens]) -> Lens | None:
    """The version of the template's lens a new review uses: the chosen one of that lens,
    else its newest version."""
    same = [
        lens
        for lens in chosen
        if (lens.library, lens.name) == (template.lens.library, template.lens.name)
    ]
    if same:
        return same[0]
    return (
        Lens.objects.filter(library=template.lens.library, name=template.lens.name)
        .order_by("-version")
        .first()
    )


def template_prefill(*, session: ReviewSession, template: ReviewTemplate, user) -> int:
    """Fill a new review's answers from a template (in the caller's transaction): the
    choices (by id), the notes and not applicable with its reason, each answer marked "from
    template". Returns how many answers were filled."""
    if template.team_id != session.workload.team_id:
        raise ServiceError("That template belongs to another team.")
    lens = template_lens_for(template, template_lenses(session))
    by_ident = {
        a.question.ident: a
        for a in Answer.objects.filter(session=session, question__pillar__lens=lens).select_related(
            "question"
        )
    }
    filled = 0
    history = []
    for row in template.answers.all():
        answer = by_ident.get(row.question_ident)
        if answer is None:
            continue
        info = question_info(answer.question_id)
        chosen = set(row.choices)
        answer.session = session
        answer_services.prefill(
            answer,
            user,
            info,
            choice_ids=[c.id for c in info.choices if c.ident in chosen],
            not_applicable=row.not_applicable,
            not_applicable_reason=row.not_applicable_reason,
            notes=row.notes,
            excluded=set(),
        )
        filled += 1
        history.append(
            AnswerChange(
                answer=answer,
                user=user,
                action=AnswerChange.Action.TEMPLATE,
                detail=template.name,
                risk_after=answer.risk,
            )
        )
    AnswerChange.objects.bulk_create(history)
    return filled


def templates_of(team: Team):
    return ReviewTemplate.objects.filter(team=team).select_related("lens", "created_by")
