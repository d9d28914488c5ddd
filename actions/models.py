"""What a review produces and what people live with afterwards: findings and their
prioritisation, action items, the action-plan PDF."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

User = settings.AUTH_USER_MODEL


class Finding(models.Model):
    """A question answered with high or medium risk in a session: the best practices not in
    place, to be prioritised by business impact and technical effort."""

    class Quadrant(models.TextChoices):
        DO_FIRST = "do_first", "Do first"
        PLAN = "plan", "Plan"
        QUICK_WIN = "quick_win", "Quick wins"
        DEFER = "defer", "Defer"
        UNRATED = "unrated", "Not rated yet"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(
        "reviews.ReviewSession", on_delete=models.CASCADE, related_name="findings"
    )
    question = models.ForeignKey(
        "questionnaires.Question", on_delete=models.PROTECT, related_name="+"
    )
    risk = models.CharField(max_length=16)
    # Position of the question's pillar in the workload's pillar priority (0 first).
    pillar_rank = models.PositiveSmallIntegerField(default=0)
    # Where the facilitator placed the finding on the impact × effort matrix, overriding the
    # median of the ratings (1–5; null: follow the ratings).
    impact_override = models.PositiveSmallIntegerField(null=True, blank=True)
    effort_override = models.PositiveSmallIntegerField(null=True, blank=True)
    # Accepted as a risk instead of acted on.
    accepted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_reason = models.TextField(blank=True)
    accepted_until = models.DateField(null=True, blank=True)
    # The answer no longer carries a high or medium risk.
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["session", "pillar_rank", "risk", "question__pillar__order", "question__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "question"], name="finding_session_question_unique"
            ),
            models.CheckConstraint(
                condition=Q(impact_override__isnull=True) | Q(impact_override__range=(1, 5)),
                name="finding_impact_override_1_5",
            ),
            models.CheckConstraint(
                condition=Q(effort_override__isnull=True) | Q(effort_override__range=(1, 5)),
                name="finding_effort_override_1_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question} ({self.risk})"


class Rating(models.Model):
    """One person's rating of a finding: business impact (owner, finance) or technical
    effort (engineers), 1 to 5."""

    class Kind(models.TextChoices):
        IMPACT = "impact", "Business impact"
        EFFORT = "effort", "Technical effort"

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="ratings")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    value = models.PositiveSmallIntegerField()
    rated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["finding", "user", "kind"], name="rating_unique"),
            models.CheckConstraint(condition=Q(value__range=(1, 5)), name="rating_value_1_5"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.kind} {self.value}"


class ActionItemQuerySet(models.QuerySet):
    def for_user(self, user) -> ActionItemQuerySet:
        """Actions in the workloads of the user's teams."""
        return self.filter(workload__team__memberships__user=user)

    def open(self) -> ActionItemQuerySet:
        return self.filter(status__in=ActionItem.OPEN_STATUSES)


class ActionItem(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        BLOCKED = "blocked", "Blocked"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"
        RISK_ACCEPTED = "risk_accepted", "Risk accepted"

    class Effort(models.TextChoices):
        XS = "xs", "XS (hours)"
        S = "s", "S (days)"
        M = "m", "M (a week or two)"
        L = "l", "L (weeks)"
        XL = "xl", "XL (months)"

    OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS, Status.BLOCKED)

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workload = models.ForeignKey(
        "reviews.Workload", on_delete=models.CASCADE, related_name="actions"
    )
    session = models.ForeignKey(
        "reviews.ReviewSession",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="actions",
    )
    finding = models.ForeignKey(
        Finding, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions"
    )
    question = models.ForeignKey(
        "questionnaires.Question",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The missing best practice this action puts in place.
    choice = models.ForeignKey(
        "questionnaires.Choice", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    parking_item = models.ForeignKey(
        "reviews.ParkingLotItem",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="actions",
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    measurable_outcome = models.TextField(
        blank=True, help_text="How everyone will know it is done, e.g. 'p95 latency under 300 ms'."
    )
    owner = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_actions"
    )
    due_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    percent_complete = models.PositiveSmallIntegerField(default=0)
    effort = models.CharField(max_length=2, choices=Effort.choices, blank=True)
    monthly_saving = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    external_key = models.CharField("tracker key", max_length=64, blank=True)
    external_url = models.URLField("tracker link", max_length=500, blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = ActionItemQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent_complete__range=(0, 100)), name="action_percent_0_100"
            ),
            models.CheckConstraint(
                condition=Q(monthly_saving__isnull=True) | Q(monthly_saving__gte=0),
                name="action_saving_not_negative",
            ),
        ]
        indexes = [
            # "My actions": a user's actions by status and due date.
            models.Index(fields=["owner", "status", "due_on"], name="action_owner_status_due_idx"),
            # Due-date and overdue reminders: open actions by due date.
            models.Index(fields=["status", "due_on"], name="action_status_due_idx"),
            # The workload page, dashboards and the cost view: a workload's actions by status.
            models.Index(fields=["workload", "status"], name="action_workload_status_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class ActionComment(models.Model):
    action = models.ForeignKey(ActionItem, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["action", "created_at"]

    def __str__(self) -> str:
        return self.body[:50]


class ActionChange(models.Model):
    """One changed field of an action item: who, when, from what to what."""

    action = models.ForeignKey(ActionItem, on_delete=models.CASCADE, related_name="changes")
    user = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    field = models.CharField(max_length=32)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)

    class Meta:
        ordering = ["action", "-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.field}: {self.old_value} → {self.new_value}"


class PlanDocument(models.Model):
    """One generation of a session's action-plan PDF: a job row claimed by a conditional
    update, so a duplicate or retried message does no harm. Earlier versions stay listed."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Generating"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(
        "reviews.ReviewSession", on_delete=models.CASCADE, related_name="plan_documents"
    )
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    file = models.FileField(upload_to="plans/%Y/%m/", blank=True)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    size_bytes = models.PositiveIntegerField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    requested_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "version"], name="plandocument_version_unique"
            )
        ]
        indexes = [
            # The sweep that re-queues jobs a lost message left behind.
            models.Index(fields=["status", "created_at"], name="plandocument_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Action plan v{self.version} ({self.status})"
