"""The live page's outline: every pillar of a session's lenses in order, with its
questions' risks, and the questions before and after one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from questionnaires.risk import Risk
from reviews.models import (
    Answer,
    ReviewSession,
    SessionLens,
)


@dataclass
class PillarNav:
    id: int
    name: str
    lens_name: str
    questions: list[dict[str, Any]] = field(default_factory=list)
    answered: int = 0
    high: int = 0
    medium: int = 0

    @property
    def total(self) -> int:
        return len(self.questions)

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.total) if self.total else 0


def session_outline(session: ReviewSession) -> list[PillarNav]:
    """Every pillar of the session's lenses, in order, with its questions' risks: the left
    column of the live page (one query)."""
    lens_order = dict(SessionLens.objects.filter(session=session).values_list("lens_id", "order"))
    rows = (
        Answer.objects.filter(session=session)
        .values(
            "risk",
            "question_id",
            "question__uuid",
            "question__title",
            "question__order",
            "question__pillar_id",
            "question__pillar__name",
            "question__pillar__order",
            "question__pillar__lens_id",
            "question__pillar__lens__name",
        )
        .order_by()
    )
    pillars: dict[int, PillarNav] = {}
    for row in sorted(
        rows,
        key=lambda r: (
            lens_order.get(r["question__pillar__lens_id"], 99),
            r["question__pillar__order"],
            r["question__order"],
        ),
    ):
        pillar = pillars.get(row["question__pillar_id"])
        if pillar is None:
            pillar = pillars[row["question__pillar_id"]] = PillarNav(
                id=row["question__pillar_id"],
                name=row["question__pillar__name"],
                lens_name=row["question__pillar__lens__name"],
            )
        pillar.questions.append(
            {
                "id": row["question_id"],
                "uuid": row["question__uuid"],
                "title": row["question__title"],
                "risk": row["risk"],
            }
        )
        if row["risk"] != Risk.UNANSWERED:
            pillar.answered += 1
        pillar.high += row["risk"] == Risk.HIGH
        pillar.medium += row["risk"] == Risk.MEDIUM
    return list(pillars.values())


def neighbours(
    outline: list[PillarNav], question_id: int
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    flat = [q for pillar in outline for q in pillar.questions]
    for i, q in enumerate(flat):
        if q["id"] == question_id:
            return (flat[i - 1] if i else None, flat[i + 1] if i + 1 < len(flat) else None)
    return None, None
