"""Moving a review to a newer version of one of its lenses, as AWS's UpgradeLensReview does.

A milestone saves the review as it was first. Answers carry over by question id, their
selections and not-applicable marks by choice id; an answer whose question's choices changed
(a choice added, removed, or saying something else) is flagged "look again" until someone
confirms it. New questions get empty answers; answers to removed questions are dropped (the
milestone keeps them). Whatever else points at a question (the facilitator's focus, blind
rounds, findings, actions, parking-lot items, presence) follows it to the new version, or
lets go when it was removed. Allowed while the review is in preparation or review: later, it
must be reopened first, so that findings and the plan are never built on moved answers.

This is in actions because it saves a milestone; it writes in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from actions.milestones import milestone_create
from actions.models import ActionItem, Finding
from questionnaires.differences import LensDifference, lens_difference, lens_question_changes
from questionnaires.models import Choice, Lens, Pillar, Question
from questionnaires.structure import question_info
from reviews import events
from reviews.errors import ServiceError
from reviews.eventkinds import EventKind
from reviews.lenslibrary import newer_version
from reviews.models import (
    Answer,
    AnswerChange,
    AnswerChoice,
    BlindRound,
    ChoiceNotApplicable,
    Milestone,
    ParkingLotItem,
    Phase,
    PillarBudget,
    Presence,
    ReviewSession,
    SessionLens,
)

UPGRADE_PHASES = (Phase.PREPARATION, Phase.REVIEW)


@dataclass
class Upgrade:
    """What an upgrade did: the versions, the milestone with the state before, and which
    questions (by id) were carried over, flagged, added and dropped."""

    base: Lens
    target: Lens
    milestone: Milestone
    carried: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def upgrade_refusal(session: ReviewSession) -> str:
    """Why the review's lenses cannot be upgraded now ("" when they can)."""
    if session.phase in UPGRADE_PHASES:
        return ""
    return (
        f"This review is in {Phase(session.phase).label.lower()}: a lens can be upgraded in "
        "preparation or review only. Reopen the review (move it back to review) first."
    )


def upgrade_difference(base: Lens, target: Lens) -> LensDifference:
    return lens_difference(base=base, target=target)


@transaction.atomic
def review_lens_upgrade(*, session: ReviewSession, user, lens: Lens) -> Upgrade:
    """Move `session` from `lens` to the lens's newest version (see the module)."""
    session = (
        ReviewSession.objects.select_for_update(of=("self",))
        .select_related("workload")
        .get(pk=session.pk)
    )
    if refusal := upgrade_refusal(session):
        raise ServiceError(refusal)
    session_lens = SessionLens.objects.filter(session=session, lens=lens).first()
    if session_lens is None:
        raise ServiceError(f"This review does not use {lens}.")
    target = newer_version(lens)
    if target is None:
        raise ServiceError(f"{lens} is the newest version of its lens: nothing to upgrade to.")
    milestone = milestone_create(
        workload=session.workload,
        session=session,
        user=user,
        kind=Milestone.Kind.LENS_UPGRADE,
        name=f"Before {lens.name} {lens.version_display} → {target.version_display}",
    )
    result = Upgrade(base=lens, target=target, milestone=milestone)
    changes = lens_question_changes(base=lens, target=target)
    old = {q.ident: q for q in Question.objects.filter(pillar__lens=lens)}
    new = {q.ident: q for q in Question.objects.filter(pillar__lens=target)}
    moves = {old[i].pk: new[i].pk for i in old if i in new}
    gone = [old[i].pk for i in old if i not in new]
    _carry_answers(session, user, moves, changes, result, lens, target)
    result.removed = sorted(i for i in old if i not in new)
    Answer.objects.filter(session=session, question_id__in=gone).delete()
    result.added = [i for i in new if i not in old]
    Answer.objects.bulk_create(Answer(session=session, question=new[i]) for i in result.added)
    _follow_questions(session, moves, gone, target)
    _move_budgets(session, lens, target)
    SessionLens.objects.filter(pk=session_lens.pk).update(lens=target)
    events.publish_on_commit(session.uuid, EventKind.BUDGETS)
    return result


def _carry_answers(session, user, moves, changes, result, lens, target) -> None:
    choice_ids = {
        (question_id, ident): pk
        for pk, question_id, ident in Choice.objects.filter(
            question_id__in=moves.values()
        ).values_list("pk", "question_id", "ident")
    }
    answers = Answer.objects.select_for_update(of=("self",)).filter(
        session=session, question_id__in=moves
    )
    history = []
    for answer in answers.select_related("question"):
        ident = answer.question.ident
        to = moves[answer.question_id]
        kept: set[str] = set()
        for model in (AnswerChoice, ChoiceNotApplicable):
            for row in model.objects.filter(answer=answer).select_related("choice"):
                pk = choice_ids.get((to, row.choice.ident))
                if pk is None:
                    row.delete()
                else:
                    model.objects.filter(pk=row.pk).update(choice_id=pk)
                    if model is AnswerChoice:
                        kept.add(row.choice.ident)
        excluded = set(
            ChoiceNotApplicable.objects.filter(answer=answer).values_list(
                "choice__ident", flat=True
            )
        )
        answer.question_id = to
        answer.risk = question_info(to).evaluate(
            kept, not_applicable=answer.not_applicable, not_applicable_choices=excluded
        )
        flag = changes[ident].choices_changed
        answer.look_again = answer.look_again or flag
        answer.save(update_fields=["question", "risk", "look_again", "updated_at"])
        result.carried.append(ident)
        if flag:
            result.flagged.append(ident)
        history.append(
            AnswerChange(
                answer=answer,
                user=user,
                action=AnswerChange.Action.UPGRADED,
                detail=f"{lens.version_display} → {target.version_display}"
                + ("; its choices changed: look again" if flag else ""),
                risk_after=answer.risk,
            )
        )
    AnswerChange.objects.bulk_create(history)


def _follow_questions(session: ReviewSession, moves: dict[int, int], gone: list[int], target):
    """Point what referred to the old questions at the new ones; let go of removed ones."""
    for model in (BlindRound, Finding, ParkingLotItem, Presence):
        for old_id, new_id in moves.items():
            model.objects.filter(session=session, question_id=old_id).update(question_id=new_id)
    BlindRound.objects.filter(session=session, question_id__in=gone).delete()
    Finding.objects.filter(session=session, question_id__in=gone).delete()
    ParkingLotItem.objects.filter(session=session, question_id__in=gone).update(question=None)
    Presence.objects.filter(session=session, question_id__in=gone).update(question=None)
    choices = {
        (c.question_id, c.ident): c.pk
        for c in Choice.objects.filter(question__pillar__lens=target).only("question_id", "ident")
    }
    for item in ActionItem.objects.filter(session=session, question_id__in=[*moves, *gone]):
        to = moves.get(item.question_id) if item.question_id is not None else None
        ident = (
            Choice.objects.filter(pk=item.choice_id).values_list("ident", flat=True).first()
            if item.choice_id is not None
            else None
        )
        item.question_id = to
        item.choice_id = choices.get((to, ident)) if to is not None and ident else None
        item.save(update_fields=["question", "choice"])
    if session.focus_question_id in moves:
        session.focus_question_id = moves[session.focus_question_id]
        session.save(update_fields=["focus_question"])
    elif session.focus_question_id in gone:
        session.stop_focus_clock(timezone.now())
        session.save(update_fields=["focus_question", "focus_since"])


def _move_budgets(session: ReviewSession, lens: Lens, target: Lens) -> None:
    """Budgets follow their pillar by id; a new pillar gets minutes for its questions at the
    review's pace; a removed pillar's budget goes."""
    old = {p.ident: p.pk for p in Pillar.objects.filter(lens=lens)}
    new = {p.ident: p for p in Pillar.objects.filter(lens=target)}
    for ident, pk in old.items():
        budgets = PillarBudget.objects.filter(session=session, pillar_id=pk)
        if ident in new:
            budgets.update(pillar_id=new[ident].pk)
        else:
            budgets.delete()
    questions = Answer.objects.filter(session=session).count() or 1
    per_question = session.review_duration_minutes / questions
    PillarBudget.objects.bulk_create(
        PillarBudget(
            session=session,
            pillar=pillar,
            minutes=max(1, round(pillar.questions.count() * per_question)),
        )
        for ident, pillar in new.items()
        if ident not in old
    )
