"""What a review produces and what people live with afterwards: findings and their
prioritisation, action items, the action-plan PDF."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from reviews.jobs import Job, job_index
from reviews.models import Membership, Participant

User = settings.AUTH_USER_MODEL


class Finding(models.Model):
    """A question answered with high or medium risk in a session: the best practices not in
    place, to be prioritised by business impact and technical effort."""

    class Quadrant(models.TextChoices):
        # The usual impact × effort matrix (the action priority matrix).
        QUICK_WIN = "quick_win", "Quick wins"
        MAJOR_PROJECT = "major_project", "Major projects"
        FILL_IN = "fill_in", "Fill-ins"
        THANKLESS = "thankless", "Thankless tasks"
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


class ActionItemQuerySet(models.QuerySet["ActionItem"]):
    def for_user(self, user) -> ActionItemQuerySet:
        """Actions in the workloads of the user's teams."""
        return self.filter(workload__team__memberships__user=user)

    def open(self) -> ActionItemQuerySet:
        return self.filter(status__in=ActionItem.OPEN_STATUSES)

    def overdue(self, today: date | None = None) -> ActionItemQuerySet:
        """Open actions whose due date has passed (`today`: the local date by default). The
        one definition of overdue; ActionItem.is_overdue says the same of one action."""
        return self.open().filter(due_on__lt=today or timezone.localdate())


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

    def is_overdue(self, today: date | None = None) -> bool:
        """Open and past its due date, as ActionItemQuerySet.overdue selects (`today`: the
        local date by default; templates call it without one)."""
        due_on = self.due_on
        return self.is_open and due_on is not None and due_on < (today or timezone.localdate())


class ActionComment(models.Model):
    action = models.ForeignKey(ActionItem, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["action", "created_at"]

    def __str__(self) -> str:
        return self.body[:50]


# How each field of an action reads in its history.
FIELD_LABELS = {
    "title": "title",
    "description": "description",
    "measurable_outcome": "measurable outcome",
    "owner": "owner",
    "due_on": "due date",
    "status": "status",
    "percent_complete": "percent complete",
    "effort": "effort",
    "monthly_saving": "monthly saving",
    "currency": "currency",
    "external_key": "tracker key",
    "external_url": "tracker link",
}


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

    @property
    def label(self) -> str:
        """The changed field, as the history names it."""
        return FIELD_LABELS.get(self.field, self.field.replace("_", " "))


class PlanRecap(Job):
    """The recap email sent to a session's participants when its plan is published: a job
    row (reviews.jobs), so the email goes out once however many times its message is
    delivered. Its content is frozen at publication."""

    TASK = "actions.tasks.send_plan_recap"
    # Longer than the sending task's hard time limit (90 s).
    LEASE = timedelta(minutes=2)

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Sending"
        DONE = "done", "Sent"
        FAILED = "failed", "Failed"

    session = models.ForeignKey(
        "reviews.ReviewSession", on_delete=models.CASCADE, related_name="plan_recaps"
    )
    milestone = models.ForeignKey(
        "reviews.Milestone", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    context = models.JSONField(default=dict)
    recipients = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session", "-created_at"]
        indexes = [job_index("planrecap_job_idx")]

    def __str__(self) -> str:
        return f"Plan recap of {self.session_id} ({self.status})"


class PlanDocument(Job):
    """One generation of a session's action-plan PDF: a job row (reviews.jobs), so a
    duplicate or retried message does no harm. Earlier versions stay listed."""

    TASK = "actions.tasks.generate_plan_document"
    # The generating task's hard time limit (PDF_TIME_LIMIT) stops the worker child; the
    # lease outlasts it by a fifth, so a claim is taken again only when its worker is gone.
    LEASE = timedelta(seconds=settings.PDF_TIME_LIMIT * 1.2)
    LOST_AFTER = timedelta(minutes=1)

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Generating"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    class Paper(models.TextChoices):
        # The values are CSS page-size keywords.
        A4 = "A4", "A4"
        LETTER = "letter", "US Letter"

    ACTIVE_STATUSES = (Status.PENDING, Status.RUNNING)

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(
        "reviews.ReviewSession", on_delete=models.CASCADE, related_name="plan_documents"
    )
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    # Rendering is heavy: a database or storage error is tried again a few times only.
    max_attempts = models.PositiveSmallIntegerField(default=4)
    paper = models.CharField(max_length=8, choices=Paper.choices, default=Paper.A4)
    # Stored through the default storage under plans/ (see storage_name); served only by an
    # access-checked view, never from a public media URL.
    file = models.FileField(upload_to="plans/", blank=True)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    size_bytes = models.PositiveIntegerField(null=True, blank=True)
    requested_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["session", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "version"], name="plandocument_version_unique"
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | ~Q(file=""), name="plandocument_done_has_file"
            ),
        ]
        indexes = [job_index("plandocument_job_idx")]

    def __str__(self) -> str:
        return f"Action plan v{self.version} ({self.status})"

    @property
    def is_active(self) -> bool:
        """Waiting for a worker or being generated: the page keeps polling."""
        return self.status in self.ACTIVE_STATUSES

    def storage_name(self) -> str:
        """Where the file goes in the storage: plans/<workload>-<session uuid8>-v<n>.pdf."""
        workload = slugify(self.session.workload.name) or "workload"
        return f"plans/{workload}-{self.session.uuid.hex[:8]}-v{self.version}.pdf"

    @property
    def download_name(self) -> str:
        return self.file.name.rsplit("/", 1)[-1] if self.file else ""

    @property
    def seconds_taken(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


# --- The cadence: reminders, notifications, calendar feeds, follow-ups -----------------------


class Occasion(models.TextChoices):
    """Why Pillarwise writes to someone. Each person chooses, per occasion, how (or whether)
    they hear about it (NotificationPreference). The invitation is sent when someone is
    invited, and the weekly digest collects what people chose to hear about weekly."""

    PHASE_START = "phase_start", "A phase of a review starts"
    PREPARATION = "preparation", "Preparation not done"
    REVIEW_TOMORROW = "review_tomorrow", "The review is tomorrow"
    ANALYSIS_DUE = "analysis_due", "Analysis due"
    ACTION_PLAN_DUE = "action_plan_due", "Action plan due"
    ACTION_DUE = "action_due", "Action due soon"
    ACTION_OVERDUE = "action_overdue", "Action overdue"
    ACTIONS_BLOCKED = "actions_blocked", "Actions blocked"
    PLAN_PUBLISHED = "plan_published", "Action plan published"
    FOLLOW_UP_DIGEST = "follow_up_digest", "Monthly follow-up digest"
    FOLLOW_UP_SUMMARY = "follow_up_summary", "Follow-up summary"
    FOLLOW_UP_NUDGE = "follow_up_nudge", "Follow-up not held"
    NEXT_REVIEW_DUE = "next_review_due", "Next review due"
    RISK_EXPIRING = "risk_expiring", "Risk acceptance expiring"
    WEEKLY_DIGEST = "weekly_digest", "Weekly digest"
    SESSION_ADDED = "session_added", "Added to a review"
    SESSION_INVITED = "session_invited", "Invited to a review"
    TEAM_INVITED = "team_invited", "Invited to a team"
    ACTION_ASSIGNED = "action_assigned", "Action assigned to you"


class Reminder(Job):
    """One message to one person for one occasion. The key is unique per recipient and
    occasion (and whatever makes the occasion recur, such as the week), so the dispatcher
    can insert the same reminder any number of times and it exists once; it is a job row
    (reviews.jobs), claimed by a conditional update, so it is sent once."""

    TASK = "actions.tasks.send_reminder"
    # Longer than the sending task's hard time limit (90 s).
    LEASE = timedelta(minutes=2)

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    key = models.CharField(max_length=200)
    occasion = models.CharField(max_length=24, choices=Occasion.choices)
    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    # How it reached the person: "email" (and the app), "app", "digest", or "" when skipped.
    delivered = models.CharField(max_length=8, blank=True)
    # Ids and dates the message is built from when it is sent.
    payload = models.JSONField(default=dict)
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["key"], name="reminder_key_unique")]
        indexes = [job_index("reminder_job_idx")]

    def __str__(self) -> str:
        return f"{self.get_occasion_display()} to {self.recipient_id} ({self.status})"


class NotificationQuerySet(models.QuerySet):
    def visible(self) -> NotificationQuerySet:
        """Leave out the notifications of a team their person no longer belongs to (nor
        takes part in a session of, as a guest): leaving a team hides them at once."""
        member = Membership.objects.filter(
            team=models.OuterRef("team"), user=models.OuterRef("user")
        )
        guest = Participant.objects.filter(
            session__workload__team=models.OuterRef("team"), user=models.OuterRef("user")
        )
        return self.filter(Q(team__isnull=True) | models.Exists(member) | models.Exists(guest))


class Notification(models.Model):
    """An in-app notification (the bell), mirroring an email."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    occasion = models.CharField(max_length=24, choices=Occasion.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    # Where to act: a path inside the app.
    url = models.CharField(max_length=500, blank=True)
    reminder = models.OneToOneField(
        Reminder, null=True, blank=True, on_delete=models.SET_NULL, related_name="notification"
    )
    # The team whose work it is about (None: about no team's, like the weekly digest).
    team = models.ForeignKey(
        "reviews.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # The person takes this occasion as a weekly digest; digested_at: the digest went out.
    via_digest = models.BooleanField(default=False)
    digested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The bell on every page: a user's unread count.
            models.Index(
                fields=["user"],
                condition=Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
            # The notifications page: a user's notifications, newest first.
            models.Index(fields=["user", "-created_at"], name="notification_user_created_idx"),
            # The weekly digest: what each user still has to receive in it.
            models.Index(
                fields=["user"],
                condition=Q(via_digest=True, digested_at__isnull=True),
                name="notification_digest_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_unread(self) -> bool:
        return self.read_at is None


class NotificationPreference(models.Model):
    """How one person hears about one occasion. No row: by email and in the app."""

    class Mode(models.TextChoices):
        EMAIL_AND_APP = "email_and_app", "Email and in the app"
        APP_ONLY = "app_only", "In the app only"
        WEEKLY_DIGEST = "weekly_digest", "In a weekly email digest"
        OFF = "off", "Off"

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    occasion = models.CharField(max_length=24, choices=Occasion.choices)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.EMAIL_AND_APP)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "occasion"], name="notificationpreference_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.occasion}: {self.mode}"


class UserPreferences(models.Model):
    """A person's own settings. The time zone every date is shown and mailed in: empty until
    the browser tells it at the first sign-in (the server's TIME_ZONE meanwhile)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="preferences")
    time_zone = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.time_zone or '-'}"


class CalendarFeed(models.Model):
    """A person's private calendar feed: their sessions and action due dates. The token in
    the URL is the only key; resetting it makes the old URL stop working."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    reset_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user_id}"


class FollowUp(models.Model):
    """A monthly follow-up of a published action plan: a light review of where each action
    stands. Due each month after publishing, until every action is done, cancelled or
    accepted as a risk."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(
        "reviews.ReviewSession", on_delete=models.CASCADE, related_name="follow_ups"
    )
    # 1 for the first month after publishing, 2 for the second, ...
    number = models.PositiveSmallIntegerField()
    due_on = models.DateField()
    held_at = models.DateTimeField(null=True, blank=True)
    held_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    milestone = models.ForeignKey(
        "reviews.Milestone", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Where each action stood when the monthly digest went out ({action id: [status,
    # percent]}): next month's digest tells what moved since.
    snapshot = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["session", "number"]
        constraints = [
            models.UniqueConstraint(fields=["session", "number"], name="followup_session_number")
        ]
        indexes = [
            # The dispatcher: follow-ups not held yet that fall due (the monthly digest).
            models.Index(fields=["due_on", "held_at"], name="followup_due_idx"),
        ]

    def __str__(self) -> str:
        return f"Follow-up {self.number} of {self.session_id}"

    @property
    def is_held(self) -> bool:
        return self.held_at is not None


class FollowUpNote(models.Model):
    """What was said about one action in a follow-up, and where it stood afterwards."""

    follow_up = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="notes")
    action = models.ForeignKey(ActionItem, on_delete=models.CASCADE, related_name="+")
    note = models.TextField(blank=True)
    status_after = models.CharField(max_length=16, choices=ActionItem.Status.choices)
    percent_after = models.PositiveSmallIntegerField()
    by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["follow_up", "at"]
        constraints = [
            models.UniqueConstraint(fields=["follow_up", "action"], name="followupnote_unique")
        ]

    def __str__(self) -> str:
        return self.note[:50] or f"{self.status_after} {self.percent_after}%"
