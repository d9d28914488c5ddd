"""Lenses: the question banks a review is answered against.

A lens row is one version of a lens; importing a lens whose name already exists in the same
library adds a new version, so reviews stay pinned to the version they started with.

Every lens is in one library. The built-in library ("") holds the lenses that ship with
Pillarwise: it is global and read-only (only `load_lenses` adds to it). Any other library is
one owner's, named by an opaque string (the reviews app uses a team's uuid). Uploads made
before there were team libraries whose team could not be told stay in SHARED_LIBRARY, a
legacy library everyone sees; the import command still writes there by default.
"""

import uuid
from collections.abc import Iterable

from django.conf import settings
from django.db import models
from django.db.models import Count, Max, OuterRef, Subquery

from questionnaires.risk import Risk, evaluate_rules


class FrameworkPillar(models.TextChoices):
    """The six pillars of the framework, by the identifiers the framework lens uses."""

    OPERATIONAL_EXCELLENCE = "operationalExcellence", "Operational excellence"
    SECURITY = "security", "Security"
    RELIABILITY = "reliability", "Reliability"
    PERFORMANCE = "performance", "Performance efficiency"
    COST = "costOptimization", "Cost optimization"
    SUSTAINABILITY = "sustainability", "Sustainability"

    @classmethod
    def guess(cls, ident: str, name: str) -> str:
        """The framework pillar a custom lens's pillar belongs to, from its id or name
        ("PERF", "Performance Efficiency", "costOptimization", ...); "" when none fits."""
        text = f"{ident} {name}".lower()
        for value, needles in (
            (cls.OPERATIONAL_EXCELLENCE, ("operat", "opeat", "ops")),
            (cls.SECURITY, ("secur", "sec")),
            (cls.RELIABILITY, ("reliab", "realiab", "rel")),
            (cls.PERFORMANCE, ("perf",)),
            (cls.COST, ("cost",)),
            (cls.SUSTAINABILITY, ("sustain", "sus")),
        ):
            if any(needle in text for needle in needles):
                return value
        return ""


BUILTIN_LIBRARY = ""
SHARED_LIBRARY = "shared"


class LensQuerySet(models.QuerySet):
    def builtin(self) -> "LensQuerySet":
        return self.filter(library=BUILTIN_LIBRARY)

    def visible_in(self, libraries: Iterable[str]) -> "LensQuerySet":
        """The built-in lenses and those of the given libraries."""
        if isinstance(libraries, str):
            raise TypeError("visible_in() takes a list of libraries, not one string")
        return self.filter(library__in={BUILTIN_LIBRARY, *libraries})

    def latest_versions(self) -> "LensQuerySet":
        """One row per lens (library and name): its newest version."""
        newest = (
            self.model.objects.filter(library=OuterRef("library"), name=OuterRef("name"))
            .order_by("-version")
            .values("version")[:1]
        )
        return self.filter(version=Subquery(newest))

    def with_counts(self) -> "LensQuerySet":
        return self.annotate(
            pillar_count=Count("pillars", distinct=True),
            question_count=Count("pillars__questions", distinct=True),
            choice_count=Count("pillars__questions__choices", distinct=True),
        )

    def next_version_for(self, name: str, *, library: str) -> int:
        current = self.filter(library=library, name=name).aggregate(top=Max("version"))["top"]
        return (current or 0) + 1


class Lens(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # BUILTIN_LIBRARY ("") for the built-in lenses, otherwise the owner's library.
    library = models.CharField(max_length=64, blank=True, default=SHARED_LIBRARY)
    name = models.CharField(max_length=128)
    # Numbered in import order per (library, name).
    version = models.PositiveIntegerField(default=1)
    # The file's own label for its version ("2.0", from `_version`), shown beside the number.
    version_label = models.CharField(max_length=32, blank=True)
    description = models.TextField(blank=True)
    schema_version = models.CharField(max_length=20, default="2021-11-01")
    is_builtin = models.BooleanField(default=False)
    # The framework lens is part of every review.
    is_framework = models.BooleanField(default=False)
    source_name = models.CharField(max_length=255, blank=True)
    # sha256 of the imported file, so that loading the built-in lenses again is a no-op.
    source_digest = models.CharField(max_length=64, blank=True)
    import_warnings = models.JSONField(default=list, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LensQuerySet.as_manager()

    class Meta:
        ordering = ["name", "-version"]
        verbose_name_plural = "lenses"
        constraints = [
            # Also serves visible_in(), latest_versions() and the next version number.
            models.UniqueConstraint(
                fields=["library", "name", "version"], name="lens_library_name_version_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(is_builtin=True, library=BUILTIN_LIBRARY)
                | (models.Q(is_builtin=False) & ~models.Q(library=BUILTIN_LIBRARY)),
                name="lens_builtin_iff_builtin_library",
            ),
            models.CheckConstraint(
                condition=models.Q(is_framework=False) | models.Q(is_builtin=True),
                name="lens_framework_is_builtin",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version_display}"

    @property
    def version_display(self) -> str:
        """ "v3", or "v3 · 2.0" when the file labelled its version."""
        label = f" · {self.version_label}" if self.version_label else ""
        return f"v{self.version}{label}"


class Pillar(models.Model):
    lens = models.ForeignKey(Lens, on_delete=models.CASCADE, related_name="pillars")
    ident = models.CharField(max_length=100)
    name = models.CharField(max_length=128)
    order = models.PositiveSmallIntegerField()
    # Which framework pillar this is (for custom lenses, guessed from the id and name); the
    # workload type's pillar priority orders findings by it.
    framework_pillar = models.CharField(max_length=32, choices=FrameworkPillar.choices, blank=True)

    class Meta:
        ordering = ["lens", "order"]
        constraints = [
            models.UniqueConstraint(fields=["lens", "ident"], name="pillar_lens_ident_unique")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        """The pillar's name, and its lens's unless that is the framework: the Serverless
        lens has a "Security" pillar too."""
        return self.name if self.lens.is_framework else f"{self.name} ({self.lens.name})"


class Question(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    pillar = models.ForeignKey(Pillar, on_delete=models.CASCADE, related_name="questions")
    ident = models.CharField(max_length=100)
    order = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=128)
    description = models.TextField(blank=True)
    helpful_text = models.TextField(blank=True)
    helpful_url = models.URLField(max_length=2048, blank=True)

    class Meta:
        ordering = ["pillar__order", "order"]
        constraints = [
            models.UniqueConstraint(fields=["pillar", "ident"], name="question_pillar_ident_unique")
        ]

    def __str__(self) -> str:
        return self.title

    def evaluate(self, selected: set[str], *, not_applicable: bool = False) -> str:
        """The risk for this question given the selected choice ids (rules prefetched)."""
        return evaluate_rules(
            [(rule.condition, rule.risk) for rule in self.risk_rules.all()],
            selected,
            not_applicable=not_applicable,
        )


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    ident = models.CharField(max_length=100)
    order = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=128)
    description = models.TextField(blank=True)
    helpful_text = models.TextField(blank=True)
    helpful_url = models.URLField(max_length=2048, blank=True)
    improvement_text = models.TextField(blank=True)
    improvement_url = models.URLField(max_length=2048, blank=True)
    additional_resources = models.JSONField(default=list, blank=True)
    is_none_of_these = models.BooleanField(default=False)

    class Meta:
        ordering = ["question", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["question", "ident"], name="choice_question_ident_unique"
            )
        ]

    def __str__(self) -> str:
        return self.title


class RiskRule(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="risk_rules")
    order = models.PositiveSmallIntegerField()
    condition = models.TextField()
    risk = models.CharField(
        max_length=16, choices=[(r.value, r.label) for r in (Risk.HIGH, Risk.MEDIUM, Risk.NONE)]
    )

    class Meta:
        ordering = ["question", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["question", "order"], name="riskrule_question_order_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.condition} → {self.risk}"
