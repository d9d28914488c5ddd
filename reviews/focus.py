"""The facilitator's focus ("follow me") and the pillar timers: while the review is under
way, the time the focus stays on a pillar's questions counts against its time budget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import CharField, F, Value
from django.db.models.expressions import Case, When
from django.db.models.functions import Concat
from django.urls import reverse
from django.utils import timezone

from questionnaires.structure import question_info
from reviews import events
from reviews.access import require_open
from reviews.errors import ServiceError
from reviews.eventkinds import EventKind
from reviews.models import (
    Answer,
    PillarBudget,
    ReviewSession,
    SessionLens,
)
from reviews.sessions import require_facilitator


class _Label(TypedDict):
    label: str


if TYPE_CHECKING:
    from typing import TypeAlias

    from django_stubs_ext import WithAnnotations

    # A budget with `label`: its pillar's name, with the lens's when the session has several.
    LabelledBudget: TypeAlias = WithAnnotations[PillarBudget, _Label]


@transaction.atomic
def focus_set(*, session: ReviewSession, user: User, question_id: int | None) -> ReviewSession:
    """Point everyone who follows at a question (None: stop). The time the focus stays on a
    pillar's questions during the review counts against that pillar's budget."""
    session = ReviewSession.objects.select_for_update(of=("self",)).get(pk=session.pk)
    require_open(session)
    require_facilitator(session, user)
    if (
        question_id is not None
        and not Answer.objects.filter(session=session, question_id=question_id).exists()
    ):
        raise ServiceError("That question is not part of this review.")
    now = timezone.now()
    session.stop_focus_clock(now)
    if question_id is not None:
        session.focus_question_id = question_id
        session.focus_since = now
    session.save(update_fields=["focus_question", "focus_since"])
    url = (
        reverse("reviews:question", args=[session.uuid, question_info(question_id).uuid])
        if question_id
        else ""
    )
    events.publish_on_commit(
        session.uuid,
        EventKind.FOCUS,
        question=question_info(question_id).uuid if question_id else "",
        url=url,
    )
    return session


@dataclass
class PillarTimer:
    pillar_id: int
    name: str
    minutes: int
    spent_seconds: int
    running_since: float | None  # epoch seconds while the focus is on this pillar

    @property
    def over(self) -> bool:
        return self.minutes > 0 and self.spent_seconds > self.minutes * 60


def budgets(session: ReviewSession) -> list[LabelledBudget]:
    """The session's pillar budgets in lens and pillar order; `label` names the lens too
    when the session has several."""
    order = dict(SessionLens.objects.filter(session=session).values_list("lens_id", "order"))
    label: F | Case = F("pillar__name")
    if len(order) > 1:
        label = Case(
            When(
                pillar__lens__is_framework=False,
                then=Concat("pillar__name", Value(" ("), "pillar__lens__name", Value(")")),
            ),
            default=F("pillar__name"),
            output_field=CharField(),
        )
    rows: list[LabelledBudget] = list(
        PillarBudget.objects.filter(session=session)
        .select_related("pillar__lens")
        .annotate(label=label)
    )
    rows.sort(key=lambda b: (order.get(b.pillar.lens_id, 99), b.pillar.order))
    return rows


def timers(session: ReviewSession) -> list[PillarTimer]:
    running_pillar = session.focus_pillar_id
    now = timezone.now()
    result = []
    for budget in budgets(session):
        spent = budget.spent_seconds
        since = None
        if budget.pillar_id == running_pillar and session.focus_since is not None:
            spent += int((now - session.focus_since).total_seconds())
            since = session.focus_since.timestamp()
        result.append(PillarTimer(budget.pillar_id, budget.label, budget.minutes, spent, since))
    return result
