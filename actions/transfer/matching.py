"""Matching what a workload document names to what is here: its lenses (by name and
content), their questions and choices, and the helpers the importer shares."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from django.db import models

from actions.transfer.reading import Reader
from questionnaires.lensfile import LensFileError, read_lens_file
from questionnaires.models import BUILTIN_LIBRARY, SHARED_LIBRARY, Choice, Lens, Question
from questionnaires.services import lens_data, lens_import
from reviews.models import Membership, Team, Workload

M = TypeVar("M", bound=models.Model)


@dataclass
class ImportReport:
    workload: Workload
    sessions: int = 0
    answers: int = 0
    actions: int = 0
    lenses_reused: list[str] = field(default_factory=list)
    lenses_imported: list[str] = field(default_factory=list)
    invitations: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def fresh_uuid(model: type[models.Model], wanted: uuid.UUID | None) -> uuid.UUID:
    """The document's id when no object here has it yet (a backup restored keeps its links
    and its tracker ids), else a new one."""
    if wanted is not None and not model._default_manager.filter(uuid=wanted).exists():
        return wanted
    return uuid.uuid4()


def keep_times(model: type[M], rows: list[tuple[M, datetime | None]], field_name: str) -> None:
    """Set the time the document gives (paired with each row) on rows just created (their
    automatic time is now)."""
    kept = [row for row, at in rows if at is not None]
    for row, at in rows:
        if at is not None:
            setattr(row, field_name, at)
    if kept:
        model._default_manager.bulk_update(kept, [field_name], batch_size=500)


class LensMatcher:
    """The document's lenses (by key) matched or imported here, and their questions."""

    def __init__(self, reader: Reader, team: Team, user: Any, report: ImportReport) -> None:
        self.r, self.team, self.user, self.report = reader, team, user, report
        self.lenses: dict[str, Lens] = {}
        self.questions: dict[tuple[str, str, str], Question] = {}
        self.choices: dict[tuple[str, str, str, str], Choice] = {}

    def read(self, document: dict) -> None:
        for place, entry in self.r.objects(document, "lenses", ""):
            key = self.r.text(entry, "key", place, max_length=20, required=True)
            name = self.r.text(entry, "name", place, max_length=128, required=True)
            digest = self.r.text(entry, "digest", place, max_length=64)
            if not key or not name:
                continue
            if key in self.lenses:
                self.r.error(f"{place}.key", f"“{key}” is used by another lens already")
                continue
            if self.r.boolean(entry, "builtin", place):
                lens = self._builtin(name, digest, place)
            else:
                lens = self._custom(entry.get("file"), place)
            if lens is not None:
                self.lenses[key] = lens
                self._load(key, lens)

    def _same(self, candidates: models.QuerySet, digest: str) -> Lens | None:
        for lens in candidates.order_by("-version"):
            if lens.source_digest == digest or lens_data(lens).digest() == digest:
                return lens
        return None

    def _builtin(self, name: str, digest: str, place: str) -> Lens | None:
        builtin = Lens.objects.builtin().filter(name=name)
        lens = self._same(builtin, digest)
        if lens is None:
            lens = builtin.order_by("-version").first()
            if lens is None:
                self.r.error(f"{place}.name", f"no built-in lens here is named “{name}”")
                return None
            self.r.warnings.append(
                f"{place}: the built-in lens “{name}” here is another version than the "
                f"exported one; answers are matched to {lens} by their ids"
            )
        self.report.lenses_reused.append(str(lens))
        return lens

    def _custom(self, file: Any, place: str) -> Lens | None:
        if self.r.obj(file, f"{place}.file") is None:
            return None
        raw = json.dumps(file, ensure_ascii=False)
        try:
            data = read_lens_file(raw)
        except LensFileError as exc:
            for problem in exc.errors:
                self.r.error(f"{place}.file", problem)
            return None
        digest = data.digest()
        libraries = [BUILTIN_LIBRARY, SHARED_LIBRARY, str(self.team.uuid)]
        same = self._same(Lens.objects.filter(library__in=libraries, name=data.name), digest)
        if same is not None:
            self.report.lenses_reused.append(str(same))
            return same
        result = lens_import(
            raw=raw, library=str(self.team.uuid), source_name=f"{data.name}.json", user=self.user
        )
        self.report.lenses_imported.append(str(result.lens))
        return result.lens

    def _load(self, key: str, lens: Lens) -> None:
        for q in Question.objects.filter(pillar__lens=lens).select_related("pillar"):
            self.questions[(key, q.pillar.ident, q.ident)] = q
        for c in Choice.objects.filter(question__pillar__lens=lens).select_related(
            "question__pillar"
        ):
            self.choices[(key, c.question.pillar.ident, c.question.ident, c.ident)] = c

    def _ref(self, obj: dict, place: str, keys: tuple[str, ...]) -> tuple[str, ...] | None:
        parts = tuple(self.r.text(obj, k, place, max_length=100, required=True) for k in keys)
        if not all(parts):
            return None
        if parts[0] not in self.lenses:
            self.r.error(f"{place}.lens", f"“{parts[0]}” is not a lens listed in lenses")
            return None
        return parts

    def question(self, obj: dict, place: str) -> Question | None:
        ref = self._ref(obj, place, ("lens", "pillar", "question"))
        if ref is None:
            return None
        if (found := self.questions.get(ref)) is None:  # type: ignore[arg-type]
            self.r.error(place, f"no question “{ref[2]}” in pillar “{ref[1]}” of {ref[0]}")
        return found

    def question_at(self, parent: dict, key: str, place: str) -> Question | None:
        """The question named under `key`, when there is one (null: none)."""
        if parent.get(key) is None:
            return None
        obj = self.r.obj(parent[key], f"{place}.{key}")
        return self.question(obj, f"{place}.{key}") if obj is not None else None

    def choice_at(self, parent: dict, key: str, place: str) -> Choice | None:
        if parent.get(key) is None:
            return None
        obj = self.r.obj(parent[key], f"{place}.{key}")
        return self.choice(obj, f"{place}.{key}") if obj is not None else None

    def choice(self, obj: dict, place: str) -> Choice | None:
        ref = self._ref(obj, place, ("lens", "pillar", "question", "choice"))
        if ref is None:
            return None
        if (found := self.choices.get(ref)) is None:  # type: ignore[arg-type]
            self.r.error(place, f"no choice “{ref[3]}” in question “{ref[2]}” of {ref[0]}")
        return found


def is_member(team: Team, user: Any) -> bool:
    return Membership.objects.filter(team=team, user=user).exists()
