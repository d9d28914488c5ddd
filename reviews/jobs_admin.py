"""The admin of every job model (reviews.jobs): a filter that finds the jobs that need a
look (exhausted, waiting to retry, their worker lost) and a "requeue" action."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from reviews.jobs import Job, JobQuerySet, job_requeue

JOB_FIELDS = [
    "status",
    "attempts",
    "max_attempts",
    "next_attempt_at",
    "queued_at",
    "lease_expires_at",
    "started_at",
    "finished_at",
    "last_error",
]


class JobStateFilter(admin.SimpleListFilter):
    title = "job"
    parameter_name = "job"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("exhausted", "Exhausted: failed after every attempt"),
            ("retrying", "Waiting to try again"),
            ("lease_expired", "Worker lost: lease expired"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        assert isinstance(queryset, JobQuerySet)
        if self.value() == "exhausted":
            return queryset.exhausted()
        if self.value() == "retrying":
            return queryset.retrying()
        if self.value() == "lease_expired":
            return queryset.lease_expired(timezone.now())
        return None


@admin.action(description="Requeue the selected failed jobs", permissions=["change"])
def requeue(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any]) -> None:
    model: type[Job] = queryset.model
    selected = list(queryset.values_list("pk", flat=True))
    taken = job_requeue(model, selected)
    if taken:
        model_admin.message_user(
            request, f"{len(taken)} job(s) put back in line, with their attempts afresh."
        )
    if len(taken) < len(selected):
        model_admin.message_user(
            request,
            f"{len(selected) - len(taken)} job(s) left as they are: only failed jobs are requeued.",
            messages.WARNING,
        )


class JobAdmin(admin.ModelAdmin):
    """Base admin of a job model: the job filter and the requeue action, and the job
    fields read-only (the mechanism owns them)."""

    actions = [requeue]
    readonly_fields = JOB_FIELDS
