from django.contrib import admin
from django.db import models

from reviews.jobs_admin import JobAdmin, JobStateFilter
from reviews.models import (
    Answer,
    AnswerChange,
    AnswerChoice,
    AuditEntry,
    BlindPick,
    BlindRound,
    ChoiceNotApplicable,
    Invitation,
    InvitationEmail,
    Membership,
    Milestone,
    ParkingLotItem,
    Participant,
    PhaseChange,
    PillarBudget,
    Presence,
    ReviewSession,
    SessionLens,
    Team,
    TeamInvitation,
    TeamInvitationEmail,
    VerifiedEmail,
    Workload,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "role", "joined_at"]
    list_filter = ["role", "team"]


@admin.register(Workload)
class WorkloadAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "team", "workload_type", "environment", "is_critical", "owner"]
    list_filter = ["workload_type", "environment", "is_critical", "team"]
    search_fields = ["name"]


# --- Review sessions -------------------------------------------------------------------------


class SessionLensInline(admin.TabularInline):
    model = SessionLens
    extra = 0
    raw_id_fields = ["lens"]


class ParticipantInline(admin.TabularInline):
    model = Participant
    extra = 0
    raw_id_fields = ["user"]


class PhaseChangeInline(admin.TabularInline):
    """The phase history is a record: read only."""

    model = PhaseChange
    extra = 0
    can_delete = False
    readonly_fields = ["from_phase", "to_phase", "by", "at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ReviewSession)
class ReviewSessionAdmin(admin.ModelAdmin):
    list_display = ["title", "workload", "kind", "phase", "review_starts_at"]
    list_filter = ["phase", "kind"]
    list_select_related = ["workload"]
    search_fields = ["title", "workload__name"]
    date_hierarchy = "review_starts_at"
    raw_id_fields = ["workload", "focus_question", "created_by"]
    readonly_fields = ["uuid", "created_at"]
    inlines = [SessionLensInline, ParticipantInline, PhaseChangeInline]


@admin.register(SessionLens)
class SessionLensAdmin(admin.ModelAdmin):
    list_display = ["session", "lens", "order"]
    list_select_related = ["session", "lens"]
    raw_id_fields = ["session", "lens"]


@admin.register(PhaseChange)
class PhaseChangeAdmin(admin.ModelAdmin):
    list_display = ["session", "from_phase", "to_phase", "by", "at"]
    list_filter = ["to_phase"]
    list_select_related = ["session", "by"]
    raw_id_fields = ["session", "by"]


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = ["user", "session", "role", "confirmed_attendance", "joined_at"]
    list_filter = ["role"]
    list_select_related = ["user", "session"]
    search_fields = ["user__username", "user__email", "session__title"]
    raw_id_fields = ["session", "user"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "session",
        "role",
        "sent_at",
        "expires_at",
        "accepted_at",
        "revoked_at",
    ]
    list_filter = ["role"]
    list_select_related = ["session"]
    search_fields = ["email", "session__title"]
    raw_id_fields = ["session", "invited_by", "accepted_by"]
    readonly_fields = ["uuid", "nonce", "created_at"]


@admin.register(InvitationEmail)
class InvitationEmailAdmin(JobAdmin):
    list_display = ["invitation", "nonce", "status", "attempts", "next_attempt_at", "created_at"]
    list_filter = ["status", JobStateFilter]
    list_select_related = ["invitation__session"]
    search_fields = ["invitation__email"]
    raw_id_fields = ["invitation"]


@admin.register(TeamInvitation)
class TeamInvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "team", "role", "sent_at", "expires_at", "accepted_at", "declined_at"]
    list_filter = ["role"]
    list_select_related = ["team"]
    search_fields = ["email", "team__name"]
    raw_id_fields = ["team", "invited_by", "accepted_by"]
    readonly_fields = ["uuid", "created_at"]


@admin.register(TeamInvitationEmail)
class TeamInvitationEmailAdmin(JobAdmin):
    list_display = ["invitation", "status", "attempts", "next_attempt_at", "created_at"]
    list_filter = ["status", JobStateFilter]
    list_select_related = ["invitation__team"]
    search_fields = ["invitation__email"]
    raw_id_fields = ["invitation"]


@admin.register(VerifiedEmail)
class VerifiedEmailAdmin(admin.ModelAdmin):
    list_display = ["email", "user", "verified_at"]
    list_select_related = ["user"]
    search_fields = ["email", "user__username"]
    raw_id_fields = ["user"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit log is read here, never written: it records what happened."""

    list_display = ["created_at", "team", "actor_name", "action", "subject"]
    list_filter = ["action"]
    list_select_related = ["team"]
    search_fields = ["subject", "actor_name", "team__name"]
    raw_id_fields = ["team", "actor"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- Answers ---------------------------------------------------------------------------------


class AnswerChoiceInline(admin.TabularInline):
    model = AnswerChoice
    extra = 0
    raw_id_fields = ["choice", "selected_by"]


@admin.register(Answer)
class AnswerAdmin(admin.ModelAdmin):
    list_display = ["question", "session", "risk", "not_applicable", "updated_at"]
    list_filter = ["risk", "not_applicable"]
    list_select_related = ["question", "session"]
    search_fields = ["question__ident", "session__title"]
    raw_id_fields = ["session", "question", "updated_by"]
    inlines = [AnswerChoiceInline]


@admin.register(AnswerChoice)
class AnswerChoiceAdmin(admin.ModelAdmin):
    list_display = ["answer", "choice", "selected_by", "selected_at"]
    list_select_related = ["answer__question", "choice", "selected_by"]
    raw_id_fields = ["answer", "choice", "selected_by"]


@admin.register(ChoiceNotApplicable)
class ChoiceNotApplicableAdmin(admin.ModelAdmin):
    list_display = ["answer", "choice", "reason", "marked_by", "marked_at"]
    list_filter = ["reason"]
    list_select_related = ["answer__question", "choice", "marked_by"]
    raw_id_fields = ["answer", "choice", "marked_by"]


@admin.register(AnswerChange)
class AnswerChangeAdmin(admin.ModelAdmin):
    list_display = ["answer", "user", "action", "risk_after", "at"]
    list_filter = ["action", "risk_after"]
    list_select_related = ["answer__question", "user"]
    raw_id_fields = ["answer", "user"]


# --- Facilitation ----------------------------------------------------------------------------


@admin.register(PillarBudget)
class PillarBudgetAdmin(admin.ModelAdmin):
    list_display = ["session", "pillar", "minutes", "spent_seconds"]
    list_select_related = ["session", "pillar"]
    raw_id_fields = ["session", "pillar"]


@admin.register(ParkingLotItem)
class ParkingLotItemAdmin(admin.ModelAdmin):
    list_display = ["text", "session", "created_by", "created_at", "dismissed_at"]
    list_select_related = ["session", "created_by"]
    search_fields = ["text"]
    raw_id_fields = ["session", "question", "created_by"]
    readonly_fields = ["uuid"]


class BlindPickInline(admin.TabularInline):
    model = BlindPick
    extra = 0
    raw_id_fields = ["user"]


@admin.register(BlindRound)
class BlindRoundAdmin(admin.ModelAdmin):
    list_display = ["question", "session", "opened_by", "opened_at", "revealed_at", "closed_at"]
    list_select_related = ["question", "session", "opened_by"]
    raw_id_fields = ["session", "question", "opened_by"]
    readonly_fields = ["uuid"]
    inlines = [BlindPickInline]


@admin.register(BlindPick)
class BlindPickAdmin(admin.ModelAdmin):
    list_display = ["round", "user", "picked_at"]
    list_select_related = ["round__question", "user"]
    raw_id_fields = ["round", "user"]


@admin.register(Presence)
class PresenceAdmin(admin.ModelAdmin):
    list_display = ["user", "session", "question", "streams", "last_seen"]
    list_select_related = ["user", "session", "question"]
    raw_id_fields = ["session", "user", "question"]


@admin.register(Milestone)
class MilestoneAdmin(admin.ModelAdmin):
    """A milestone is a frozen snapshot: its contents are shown, never edited."""

    list_display = ["name", "workload", "kind", "created_by", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["workload", "created_by"]
    search_fields = ["name", "workload__name"]
    raw_id_fields = ["workload", "session", "created_by"]
    readonly_fields = ["uuid", "snapshot", "created_at"]
