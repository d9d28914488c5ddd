"""Lens import and export: between lens files and the database.

Imports go into a library (see questionnaires.models): an owner's library, or the shared one
by default. Only `lenses_load_builtin` imports into the built-in library, so an upload named
like a built-in lens makes a lens of its own, never a new version of the built-in one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Prefetch

from questionnaires.lensdata import ChoiceData, LensData, PillarData, QuestionData, lens_document
from questionnaires.lensfile import LensFileError, read_lens_file
from questionnaires.models import (
    BUILTIN_LIBRARY,
    SHARED_LIBRARY,
    Choice,
    FrameworkPillar,
    Lens,
    Pillar,
    Question,
    RiskRule,
)

BUILTIN_DIR = Path(__file__).resolve().parent / "lenses"
FRAMEWORK_FILE = "well-architected-framework.json"
MAX_LIBRARY = 64


class LensLibraryError(ValueError):
    """Not a library an import may go into."""


@dataclass
class ImportResult:
    lens: Lens
    created: bool
    warnings: list[str]


@dataclass
class CheckResult:
    """What importing a file would do, found without importing it."""

    data: LensData | None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # When the file is valid: the version it would become, or the version that already holds
    # exactly this content (then importing changes nothing).
    next_version: int | None = None
    same_as: Lens | None = None


def library_check(library: str) -> str:
    """The library an upload may go into; raises LensLibraryError otherwise."""
    if library == BUILTIN_LIBRARY:
        raise LensLibraryError(
            "the built-in library is read-only: only load_lenses adds built-in lenses"
        )
    if len(library) > MAX_LIBRARY or library != library.strip() or not library.isprintable():
        raise LensLibraryError(
            f"a library is named by up to {MAX_LIBRARY} printable characters, "
            "with no space at either end"
        )
    return library


def _clean_name(name: str) -> str:
    """A file name as it may be stored: no NUL, no unpaired surrogate, 255 characters."""
    return "".join(ch for ch in name if ch != "\x00" and not "\ud800" <= ch <= "\udfff")[:255]


def lens_check(*, raw: bytes | str, library: str = SHARED_LIBRARY) -> CheckResult:
    """Read a lens file as lens_import would, and say what importing it into `library` would
    do, without writing anything."""
    library_check(library)
    try:
        data = read_lens_file(raw)
    except LensFileError as exc:
        return CheckResult(data=None, errors=exc.errors, warnings=exc.warnings)
    newest = Lens.objects.filter(library=library, name=data.name).order_by("-version").first()
    same = newest is not None and newest.source_digest == data.digest()
    return CheckResult(
        data=data,
        warnings=data.warnings,
        next_version=None if same else (newest.version + 1 if newest else 1),
        same_as=newest if same else None,
    )


def lens_import(
    *,
    raw: bytes | str,
    library: str = SHARED_LIBRARY,
    source_name: str = "",
    user: User | None = None,
    builtin: bool = False,
    framework: bool = False,
) -> ImportResult:
    """Validate a lens file and store it in `library`. A name that exists there gets a new
    version; a file identical in content to the newest version of its name creates nothing.
    `builtin` imports into the built-in library instead (lenses_load_builtin does). Raises
    LensFileError (and writes nothing) when the file is rejected, LensLibraryError when the
    library is not one an upload may go into."""
    if builtin:
        library = BUILTIN_LIBRARY
    else:
        library_check(library)
        if framework:
            raise LensLibraryError("only a built-in lens is the framework lens")
    data = read_lens_file(raw)
    digest = data.digest()
    with transaction.atomic():
        newest = Lens.objects.filter(library=library, name=data.name).order_by("-version").first()
        if newest and newest.source_digest == digest:
            return ImportResult(lens=newest, created=False, warnings=data.warnings)
        lens = Lens.objects.create(
            library=library,
            name=data.name,
            version=newest.version + 1 if newest else 1,
            version_label=data.version_label,
            description=data.description,
            schema_version=data.schema_version,
            is_builtin=builtin,
            # A new version of the framework lens is still the framework lens.
            is_framework=builtin and (framework or bool(newest and newest.is_framework)),
            source_name=_clean_name(source_name),
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
    choices: list[Choice] = []
    rules: list[RiskRule] = []
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
    loaded: Lens = (
        Lens.objects.filter(pk=lens.pk)
        .prefetch_related(
            Prefetch(
                "pillars__questions",
                Question.objects.order_by("order").prefetch_related("choices", "risk_rules"),
            )
        )
        .get()
    )
    return loaded


def lens_data(lens: Lens, *, loaded: bool = False) -> LensData:
    """The lens as plain data; `loaded` says its tree is prefetched already (lens_load)."""
    if not loaded:
        lens = lens_load(lens)
    return LensData(
        name=lens.name,
        description=lens.description,
        schema_version=lens.schema_version,
        version_label=lens.version_label,
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
