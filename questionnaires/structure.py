"""A question's structure (choices and risk rules) as plain, immutable values, cached per
process. Lens versions never change once imported (a change is a new version, with new
rows), so the live session reads them from memory instead of the database."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from questionnaires.models import Question
from questionnaires.risk import evaluate_rules


@dataclass(frozen=True)
class ChoiceInfo:
    id: int
    ident: str
    title: str
    description: str
    helpful_text: str
    helpful_url: str
    improvement_text: str
    improvement_url: str
    is_none_of_these: bool


@dataclass(frozen=True)
class QuestionInfo:
    id: int
    uuid: str
    ident: str
    title: str
    description: str
    helpful_text: str
    helpful_url: str
    pillar_id: int
    pillar_name: str
    lens_name: str
    choices: tuple[ChoiceInfo, ...]
    rules: tuple[tuple[str, str], ...]
    pillar_ident: str = ""

    @property
    def none_idents(self) -> set[str]:
        return {c.ident for c in self.choices if c.is_none_of_these}

    @property
    def by_ident(self) -> dict[str, ChoiceInfo]:
        return {c.ident: c for c in self.choices}

    def evaluate(
        self,
        selected: set[str],
        *,
        not_applicable: bool = False,
        not_applicable_choices: set[str] | frozenset[str] = frozenset(),
    ) -> str:
        return evaluate_rules(
            self.rules,
            selected,
            not_applicable=not_applicable,
            not_applicable_choices=not_applicable_choices,
        )


@lru_cache(maxsize=4096)
def question_id(question_uuid: str) -> int | None:
    """The id of the question with this public id (None if there is none)."""
    return Question.objects.filter(uuid=question_uuid).values_list("pk", flat=True).first()


@lru_cache(maxsize=4096)
def question_info(question_id: int) -> QuestionInfo:
    q = (
        Question.objects.select_related("pillar__lens")
        .prefetch_related("choices", "risk_rules")
        .get(pk=question_id)
    )
    return QuestionInfo(
        id=q.pk,
        uuid=str(q.uuid),
        ident=q.ident,
        title=q.title,
        description=q.description,
        helpful_text=q.helpful_text,
        helpful_url=q.helpful_url,
        pillar_id=q.pillar_id,
        pillar_name=q.pillar.name,
        lens_name=q.pillar.lens.name,
        choices=tuple(
            ChoiceInfo(
                c.pk,
                c.ident,
                c.title,
                c.description,
                c.helpful_text,
                c.helpful_url,
                c.improvement_text,
                c.improvement_url,
                c.is_none_of_these,
            )
            for c in q.choices.all()
        ),
        rules=tuple((r.condition, r.risk) for r in q.risk_rules.all()),
        pillar_ident=q.pillar.ident,
    )
