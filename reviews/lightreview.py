"""Light reviews: the monthly check of a critical workload between its full reviews.

A light review does not go through the whole questionnaire. It walks through what the last
full review left: the questions answered with a high risk, and the questions behind that
review's findings whose actions are still open. Its answers start as the last review's (each
marked until someone confirms or changes it), so the team only says what moved.

The last full review of a workload is its latest review that took place (analysis or later)
and is neither a light review nor a post-incident review. A post-incident review looks at
what one incident showed, not at every pillar, so, as for the cadence (reviews.cadence), it
is not what light reviews follow. The light review keeps the full review it follows
(`ReviewSession.follows`) and its lenses, pinned at the same versions, so each question and
its choices are the same ones.

Actions belong to the actions app, which uses reviews, never the reverse: it registers in
OPEN_ACTION_SOURCES the function that lists a review's open actions (see actions.apps)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import User
from django.db.models import F

from questionnaires.models import Lens
from questionnaires.risk import Risk
from questionnaires.structure import question_info
from reviews import answers as answer_services
from reviews.cadence import HELD_PHASES
from reviews.errors import ServiceError
from reviews.models import (
    Answer,
    AnswerChange,
    ChoiceNotApplicable,
    ReviewSession,
    SessionKind,
    SessionLens,
    Workload,
)

NOT_FOLLOWED_KINDS = (SessionKind.MONTHLY_LIGHT, SessionKind.POST_INCIDENT)
NO_FULL_REVIEW = "A light review follows a full review: this workload has none yet."
NOTHING_LEFT = (
    "The last full review left no high risk and no open action: a light review would have "
    "no questions. Plan a full review instead."
)
HELP_TEXT = (
    "A monthly light review only goes through the last full review's high risks and the questions "
    "behind its open actions, with the last answers filled in to confirm or change. It uses "
    "that review's lenses; extra lenses and templates do not apply."
)


@dataclass(frozen=True)
class OpenAction:
    """An open action of a review's plan, as the pages of a light review show it."""

    title: str
    owner: str
    due_on: date | None
    status: str
    url: str
    question_id: int | None
    overdue: bool


# Each takes a review and returns its plan's open actions. The actions app registers here.
OPEN_ACTION_SOURCES: list[Callable[[ReviewSession], list[OpenAction]]] = []


def open_actions(review: ReviewSession) -> list[OpenAction]:
    return [action for source in OPEN_ACTION_SOURCES for action in source(review)]


def last_full_review(workload: Workload) -> ReviewSession | None:
    """The review a light review of `workload` follows (see the module's docstring)."""
    return (
        ReviewSession.objects.filter(workload=workload, phase__in=HELD_PHASES)
        .exclude(kind__in=NOT_FOLLOWED_KINDS)
        .order_by(F("review_starts_at").desc(nulls_last=True), "-created_at", "-pk")
        .first()
    )


@dataclass(frozen=True)
class LightPlan:
    follows: ReviewSession
    lenses: list[Lens]
    question_ids: set[int]


def light_plan(workload: Workload) -> LightPlan:
    """What a new light review of `workload` contains; refuses when there is nothing to
    follow or nothing left to walk through."""
    follows = last_full_review(workload)
    if follows is None:
        raise ServiceError(NO_FULL_REVIEW, field="kind")
    lenses = [sl.lens for sl in SessionLens.objects.filter(session=follows).select_related("lens")]
    answered = Answer.objects.filter(session=follows, question__pillar__lens__in=lenses)
    high: set[int] = set(answered.filter(risk=Risk.HIGH).values_list("question_id", flat=True))
    in_lenses: set[int] = set(answered.values_list("question_id", flat=True))
    acted = {
        a.question_id
        for a in open_actions(follows)
        if a.question_id is not None and a.question_id in in_lenses
    }
    question_ids = high | acted
    if not question_ids:
        raise ServiceError(NOTHING_LEFT, field="kind")
    return LightPlan(follows=follows, lenses=lenses, question_ids=question_ids)


def light_prefill(*, session: ReviewSession, follows: ReviewSession, user: User) -> int:
    """Fill a new light review's answers from the review it follows (in the caller's
    transaction): selected choices, best practices marked not applicable, the question's own
    not applicable and its reason, and the notes; each answer marked as pre-filled until
    confirmed (reviews.answers.answer_confirm). Returns how many answers were filled."""
    earlier = {
        a.question_id: a
        for a in Answer.objects.filter(session=follows)
        .prefetch_related("selections", "choice_exclusions")
        .filter(question_id__in=session.answers.values("question_id"))
    }
    filled = 0
    history = []
    for answer in Answer.objects.filter(session=session):
        before = earlier.get(answer.question_id)
        if before is None:
            continue
        info = question_info(answer.question_id)
        idents = {c.id: c.ident for c in info.choices}
        picks = [s.choice_id for s in before.selections.all() if s.choice_id in idents]
        excluded = [e for e in before.choice_exclusions.all() if e.choice_id in idents]
        ChoiceNotApplicable.objects.bulk_create(
            ChoiceNotApplicable(
                answer=answer, choice_id=e.choice_id, reason=e.reason, notes=e.notes, marked_by=user
            )
            for e in excluded
        )
        answer.session = session
        answer_services.prefill(
            answer,
            user,
            info,
            choice_ids=picks,
            not_applicable=before.not_applicable,
            not_applicable_reason=before.not_applicable_reason,
            notes=before.notes,
            excluded={idents[e.choice_id] for e in excluded},
        )
        filled += 1
        history.append(
            AnswerChange(
                answer=answer,
                user=user,
                action=AnswerChange.Action.CARRIED,
                detail=follows.title,
                risk_after=answer.risk,
            )
        )
    AnswerChange.objects.bulk_create(history)
    return filled


def light_context(session: ReviewSession) -> dict:
    """What the session page and the live page show of a light review: the review it
    follows, how many questions it has, and the open actions of that review's plan."""
    if session.kind != SessionKind.MONTHLY_LIGHT:
        return {}
    follows = session.follows
    return {
        "light": {
            "follows": follows,
            "questions": session.answers.count(),
            "actions": open_actions(follows) if follows is not None else [],
        }
    }
