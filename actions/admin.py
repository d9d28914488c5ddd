from django.contrib import admin

from actions.models import ActionChange, ActionComment, ActionItem, Finding, PlanDocument, Rating


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    list_display = ["question", "session", "risk", "pillar_rank", "accepted_at", "resolved_at"]
    list_filter = ["risk"]


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ["finding", "user", "kind", "value"]


class ActionCommentInline(admin.TabularInline):
    model = ActionComment
    extra = 0


@admin.register(ActionItem)
class ActionItemAdmin(admin.ModelAdmin):
    list_display = ["title", "workload", "owner", "due_on", "status", "percent_complete"]
    list_filter = ["status", "effort"]
    search_fields = ["title", "external_key"]
    inlines = [ActionCommentInline]


@admin.register(ActionComment)
class ActionCommentAdmin(admin.ModelAdmin):
    list_display = ["action", "author", "created_at"]


@admin.register(ActionChange)
class ActionChangeAdmin(admin.ModelAdmin):
    list_display = ["action", "user", "field", "old_value", "new_value", "at"]


@admin.register(PlanDocument)
class PlanDocumentAdmin(admin.ModelAdmin):
    list_display = ["session", "version", "status", "page_count", "created_at", "finished_at"]
    list_filter = ["status"]
