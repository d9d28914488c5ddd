from django.contrib import admin
from django.db import models

from questionnaires.models import Choice, Lens, Pillar, Question, RiskRule


class PillarInline(admin.TabularInline):
    model = Pillar
    extra = 0
    fields = ["order", "ident", "name", "framework_pillar"]


@admin.register(Lens)
class LensAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "version_label", "library", "is_builtin", "created_at"]
    list_filter = ["is_builtin", "is_framework", "library"]
    search_fields = ["name"]
    readonly_fields = ["uuid", "source_digest", "import_warnings", "created_at"]
    inlines = [PillarInline]


@admin.register(Pillar)
class PillarAdmin(admin.ModelAdmin):
    list_display = ["name", "ident", "lens", "order", "framework_pillar"]
    list_filter = ["lens"]


class ChoiceInline(admin.StackedInline):
    model = Choice
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    extra = 0


class RiskRuleInline(admin.TabularInline):
    model = RiskRule
    extra = 0


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["title", "ident", "pillar"]
    list_filter = ["pillar__lens"]
    search_fields = ["title", "ident"]
    inlines = [ChoiceInline, RiskRuleInline]


@admin.register(Choice)
class ChoiceAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["title", "ident", "question", "is_none_of_these"]
    search_fields = ["title", "ident"]


@admin.register(RiskRule)
class RiskRuleAdmin(admin.ModelAdmin):
    list_display = ["question", "order", "condition", "risk"]
