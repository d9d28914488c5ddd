"""The difference between two versions of a lens, as AWS's GetLensVersionDifference gives it:
the new, changed and removed pillars, questions and choices, matched by id, each changed one
saying what changed. Reading only: nothing here writes.

Questions are matched by id across the whole lens (ids are unique in a lens), so a question
that moved to another pillar is "changed" with "moved from <pillar>". Choices are matched by
id within their question. Only what differs is listed.

`lens_question_changes` is what moving a review to a newer version needs: for each question,
whether it is new, removed, changed or the same, and whether its choices changed (a choice
added, removed, or given another title or description), which asks for another look at an
answer carried over by choice id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from questionnaires.lensdata import ChoiceData, LensData, PillarData, QuestionData
from questionnaires.models import Lens
from questionnaires.risk import ConditionError, parse, render
from questionnaires.services import lens_data


class Status(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    REMOVED = "removed"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class ChoiceDifference:
    ident: str
    title: str
    status: Status
    changes: tuple[str, ...] = ()


@dataclass(frozen=True)
class QuestionDifference:
    ident: str
    title: str
    status: Status
    changes: tuple[str, ...] = ()
    choices: tuple[ChoiceDifference, ...] = ()

    @property
    def choices_changed(self) -> bool:
        """A choice was added or removed, or says something else: answers need a look."""
        return any(
            choice.status != Status.CHANGED or {"title", "description"} & set(choice.changes)
            for choice in self.choices
        )


@dataclass(frozen=True)
class PillarDifference:
    ident: str
    name: str
    status: Status
    changes: tuple[str, ...] = ()
    questions: tuple[QuestionDifference, ...] = ()


@dataclass(frozen=True)
class LensDifference:
    changes: tuple[str, ...]
    pillars: tuple[PillarDifference, ...]

    @property
    def is_empty(self) -> bool:
        return not self.changes and not self.pillars

    @property
    def questions(self) -> list[QuestionDifference]:
        return [q for pillar in self.pillars for q in pillar.questions]

    @property
    def summary(self) -> dict[str, int]:
        """How many questions are new, changed and removed."""
        statuses = [q.status for q in self.questions]
        return {status: statuses.count(status) for status in Status if status != Status.UNCHANGED}


@dataclass(frozen=True)
class QuestionChange:
    ident: str
    status: Status
    choices_changed: bool = False
    changes: tuple[str, ...] = ()


def _rules(question: QuestionData) -> list[tuple[str, str]]:
    """The rules with their conditions written one way, so that spacing is no change."""
    normal = []
    for condition, risk in question.rules:
        try:
            normal.append((render(parse(condition)), risk))
        except ConditionError:
            normal.append((condition, risk))
    return normal


def _changed_fields(pairs: Iterable[tuple[str, object, object]]) -> tuple[str, ...]:
    return tuple(name for name, old, new in pairs if old != new)


def _choice_difference(old: ChoiceData, new: ChoiceData) -> ChoiceDifference | None:
    changes = _changed_fields(
        [
            ("title", old.title, new.title),
            ("description", old.description, new.description),
            (
                "helpful resource",
                (old.helpful_text, old.helpful_url),
                (new.helpful_text, new.helpful_url),
            ),
            (
                "improvement plan",
                (old.improvement_text, old.improvement_url),
                (new.improvement_text, new.improvement_url),
            ),
            ("additional resources", old.additional_resources, new.additional_resources),
        ]
    )
    if not changes:
        return None
    return ChoiceDifference(new.ident, new.title, Status.CHANGED, changes)


def _choices(old: QuestionData, new: QuestionData) -> list[ChoiceDifference]:
    before = {c.ident: c for c in old.choices}
    after = {c.ident for c in new.choices}
    differences = []
    for choice in new.choices:
        if choice.ident not in before:
            differences.append(ChoiceDifference(choice.ident, choice.title, Status.NEW))
        elif difference := _choice_difference(before[choice.ident], choice):
            differences.append(difference)
    differences += [
        ChoiceDifference(c.ident, c.title, Status.REMOVED)
        for c in old.choices
        if c.ident not in after
    ]
    return differences


def _question_difference(
    old: QuestionData, new: QuestionData, moved_from: str
) -> QuestionDifference | None:
    choices = _choices(old, new)
    changes = list(
        _changed_fields(
            [
                ("title", old.title, new.title),
                ("description", old.description, new.description),
                (
                    "helpful resource",
                    (old.helpful_text, old.helpful_url),
                    (new.helpful_text, new.helpful_url),
                ),
                ("risk rules", _rules(old), _rules(new)),
            ]
        )
    )
    if choices:
        changes.append("choices")
    elif [c.ident for c in old.choices] != [c.ident for c in new.choices]:
        changes.append("choice order")
    if moved_from:
        changes.append(f"moved from {moved_from}")
    if not changes:
        return None
    return QuestionDifference(new.ident, new.title, Status.CHANGED, tuple(changes), tuple(choices))


def compare_lenses(base: LensData, target: LensData) -> LensDifference:
    """What changed from `base` to `target`."""
    old_pillars = {p.ident: p for p in base.pillars}
    new_pillars = {p.ident for p in target.pillars}
    old_questions: dict[str, tuple[PillarData, QuestionData]] = {
        q.ident: (p, q) for p in base.pillars for q in p.questions
    }
    new_questions = {q.ident for p in target.pillars for q in p.questions}

    def removed_from(pillar: PillarData) -> list[QuestionDifference]:
        return [
            QuestionDifference(q.ident, q.title, Status.REMOVED)
            for q in pillar.questions
            if q.ident not in new_questions
        ]

    pillars = []
    for pillar in target.pillars:
        questions: list[QuestionDifference] = []
        for question in pillar.questions:
            if question.ident not in old_questions:
                questions.append(QuestionDifference(question.ident, question.title, Status.NEW))
                continue
            old_pillar, old_question = old_questions[question.ident]
            moved_from = old_pillar.name if old_pillar.ident != pillar.ident else ""
            if difference := _question_difference(old_question, question, moved_from):
                questions.append(difference)
        old = old_pillars.get(pillar.ident)
        if old is None:
            pillars.append(
                PillarDifference(pillar.ident, pillar.name, Status.NEW, (), tuple(questions))
            )
            continue
        questions += removed_from(old)
        changes = list(_changed_fields([("name", old.name, pillar.name)]))
        if questions:
            changes.append("questions")
        both = {q.ident for q in old.questions} & {q.ident for q in pillar.questions}
        if [q.ident for q in old.questions if q.ident in both] != [
            q.ident for q in pillar.questions if q.ident in both
        ]:
            changes.append("question order")
        if changes:
            pillars.append(
                PillarDifference(
                    pillar.ident, pillar.name, Status.CHANGED, tuple(changes), tuple(questions)
                )
            )
    pillars += [
        PillarDifference(p.ident, p.name, Status.REMOVED, (), tuple(removed_from(p)))
        for p in base.pillars
        if p.ident not in new_pillars
    ]
    lens_changes = _changed_fields(
        [
            ("name", base.name, target.name),
            ("description", base.description, target.description),
            ("version label", base.version_label, target.version_label),
        ]
    )
    return LensDifference(lens_changes, tuple(pillars))


def question_changes(base: LensData, target: LensData) -> dict[str, QuestionChange]:
    """Every question of either version, by id: new, removed, changed or unchanged."""
    difference = {q.ident: q for q in compare_lenses(base, target).questions}
    every = [q.ident for p in target.pillars for q in p.questions] + [
        q.ident for p in base.pillars for q in p.questions
    ]
    changes = {}
    for ident in dict.fromkeys(every):
        found = difference.get(ident)
        if found is None:
            changes[ident] = QuestionChange(ident, Status.UNCHANGED)
        else:
            changes[ident] = QuestionChange(
                ident,
                found.status,
                choices_changed=found.status == Status.CHANGED and found.choices_changed,
                changes=found.changes,
            )
    return changes


def lens_difference(*, base: Lens, target: Lens) -> LensDifference:
    """The difference between two stored lens versions."""
    return compare_lenses(lens_data(base), lens_data(target))


def lens_question_changes(*, base: Lens, target: Lens) -> dict[str, QuestionChange]:
    """For each question of either version (by id): its status, and whether its choices
    changed, so that an answer carried over by choice id is flagged for another look."""
    return question_changes(lens_data(base), lens_data(target))
