from django.contrib import admin
from django.db import models

from actions.models import (
    ActionChange,
    ActionComment,
    ActionItem,
    CalendarFeed,
    Finding,
    FollowUp,
    FollowUpNote,
    Notification,
    NotificationPreference,
    PlanDocument,
    PlanRecap,
    Rating,
    Reminder,
    UserPreferences,
)
from reviews.jobs_admin import JOB_FIELDS, JobAdmin, JobStateFilter


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
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
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
class PlanDocumentAdmin(JobAdmin):
    list_display = [
        "session",
        "version",
        "paper",
        "status",
        "attempts",
        "page_count",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", JobStateFilter, "paper"]
    list_select_related = ["session"]


@admin.register(PlanRecap)
class PlanRecapAdmin(JobAdmin):
    list_display = ["session", "status", "attempts", "next_attempt_at", "created_at", "sent_at"]
    list_filter = ["status", JobStateFilter]
    list_select_related = ["session"]


# --- The cadence: reminders, notifications, calendar feeds, follow-ups -----------------------


@admin.register(Reminder)
class ReminderAdmin(JobAdmin):
    list_display = ["key", "occasion", "recipient", "status", "delivered", "attempts", "sent_at"]
    list_filter = ["status", JobStateFilter, "occasion", "delivered"]
    list_select_related = ["recipient"]
    search_fields = ["key", "recipient__username", "recipient__email"]
    readonly_fields = [*JOB_FIELDS, "created_at", "sent_at"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "user", "occasion", "created_at", "read_at", "via_digest"]
    list_filter = ["occasion", "via_digest"]
    search_fields = ["title", "user__username"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "occasion", "mode"]
    list_filter = ["occasion", "mode"]


@admin.register(UserPreferences)
class UserPreferencesAdmin(admin.ModelAdmin):
    list_display = ["user", "time_zone"]
    search_fields = ["user__username", "user__email", "time_zone"]
    list_select_related = ["user"]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at", "reset_at"]
    exclude = ["token"]  # the secret stays with its owner


class FollowUpNoteInline(admin.TabularInline):
    model = FollowUpNote
    extra = 0


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ["session", "number", "due_on", "held_at", "held_by"]
    list_filter = ["due_on"]
    inlines = [FollowUpNoteInline]


@admin.register(FollowUpNote)
class FollowUpNoteAdmin(admin.ModelAdmin):
    list_display = ["action", "follow_up", "status_after", "percent_after", "by", "at"]
    list_filter = ["status_after"]
    list_select_related = ["action", "follow_up", "by"]
    raw_id_fields = ["follow_up", "action", "by"]
