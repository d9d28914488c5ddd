"""Lens import and export: between lens files and the database."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.db.models import Prefetch

from questionnaires.lensfile import (
    ChoiceData,
    LensData,
    PillarData,
    QuestionData,
    lens_document,
    read_lens_file,
)
from questionnaires.models import Choice, FrameworkPillar, Lens, Pillar, Question, RiskRule

BUILTIN_DIR = Path(__file__).resolve().parent / "lenses"
FRAMEWORK_FILE = "well-architected-framework.json"


@dataclass
class ImportResult:
    lens: Lens
    created: bool
    warnings: list[str]


def lens_import(
    *,
    raw: bytes | str,
    source_name: str = "",
    user=None,
    builtin: bool = False,
    framework: bool = False,
) -> ImportResult:
    """Validate a lens file and store it. A name that exists gets a new version; a file
    identical in content to the newest version of its name creates nothing. Raises
    LensFileError (and writes nothing) when the file is rejected."""
    data = read_lens_file(raw)
    digest = data.digest()
    with transaction.atomic():
        newest = Lens.objects.filter(name=data.name).order_by("-version").first()
        if newest and newest.source_digest == digest:
            return ImportResult(lens=newest, created=False, warnings=data.warnings)
        lens = Lens.objects.create(
            name=data.name,
            version=newest.version + 1 if newest else 1,
            description=data.description,
            schema_version=data.schema_version,
            is_builtin=builtin,
            # A new version of the framework lens is still the framework lens.
            is_framework=framework or bool(newest and newest.is_framework),
            source_name=source_name[:255],
            source_digest=digest,
            import_warnings=data.warnings,
            imported_by=user,
        )
        _store_pillars(lens, data.pillars)
    return ImportResult(lens=lens, created=True, warnings=data.warnings)


def _store_pillars(lens: Lens, pillars: list[PillarData]) -> None:
    pillar_rows = Pillar.objects.bulk_create(
        Pillar(
            lens=lens,
            ident=p.ident,
            name=p.name,
            order=i,
            framework_pillar=FrameworkPillar.guess(p.ident, p.name),
        )
        for i, p in enumerate(pillars)
    )
    questions, question_data = [], []
    for pillar_row, pillar in zip(pillar_rows, pillars, strict=True):
        for i, q in enumerate(pillar.questions):
            questions.append(
                Question(
                    pillar=pillar_row,
                    ident=q.ident,
                    order=i,
                    title=q.title,
                    description=q.description,
                    helpful_text=q.helpful_text,
                    helpful_url=q.helpful_url,
                )
            )
            question_data.append(q)
    question_rows = Question.objects.bulk_create(questions)
    choices, rules = [], []
    for question_row, q in zip(question_rows, question_data, strict=True):
        choices.extend(
            Choice(
                question=question_row,
                order=i,
                ident=c.ident,
                title=c.title,
                description=c.description,
                helpful_text=c.helpful_text,
                helpful_url=c.helpful_url,
                improvement_text=c.improvement_text,
                improvement_url=c.improvement_url,
                additional_resources=c.additional_resources,
                is_none_of_these=c.is_none_of_these,
            )
            for i, c in enumerate(q.choices)
        )
        rules.extend(
            RiskRule(question=question_row, order=i, condition=condition, risk=risk)
            for i, (condition, risk) in enumerate(q.rules)
        )
    Choice.objects.bulk_create(choices)
    RiskRule.objects.bulk_create(rules)


def lens_load(lens: Lens) -> Lens:
    """The lens with its whole tree prefetched (pillars, questions, choices, rules)."""
    return (
        Lens.objects.filter(pk=lens.pk)
        .prefetch_related(
            Prefetch(
                "pillars__questions",
                Question.objects.order_by("order").prefetch_related("choices", "risk_rules"),
            )
        )
        .get()
    )


def lens_data(lens: Lens) -> LensData:
    lens = lens_load(lens)
    return LensData(
        name=lens.name,
        description=lens.description,
        schema_version=lens.schema_version,
        pillars=[
            PillarData(
                ident=pillar.ident,
                name=pillar.name,
                questions=[
                    QuestionData(
                        ident=q.ident,
                        title=q.title,
                        description=q.description,
                        helpful_text=q.helpful_text,
                        helpful_url=q.helpful_url,
                        choices=[
                            ChoiceData(
                                ident=c.ident,
                                title=c.title,
                                description=c.description,
                                helpful_text=c.helpful_text,
                                helpful_url=c.helpful_url,
                                improvement_text=c.improvement_text,
                                improvement_url=c.improvement_url,
                                additional_resources=c.additional_resources,
                                is_none_of_these=c.is_none_of_these,
                            )
                            for c in q.choices.all()
                        ],
                        rules=[(r.condition, r.risk) for r in q.risk_rules.all()],
                    )
                    for q in pillar.questions.all()
                ],
            )
            for pillar in lens.pillars.all()
        ],
    )


def lens_export(lens: Lens) -> str:
    """The lens as lens-file JSON text."""
    return json.dumps(lens_document(lens_data(lens)), indent=2, ensure_ascii=False) + "\n"


def lenses_load_builtin() -> list[ImportResult]:
    """Load the lens files shipped with Pillarwise; loading them again changes nothing."""
    results = []
    for path in sorted(BUILTIN_DIR.glob("*.json")):
        results.append(
            lens_import(
                raw=path.read_bytes(),
                source_name=path.name,
                builtin=True,
                framework=path.name == FRAMEWORK_FILE,
            )
        )
    return results
