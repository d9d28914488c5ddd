"""Teams and their members, workloads, review sessions and everything said in them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone

from questionnaires.models import FrameworkPillar
from questionnaires.structure import question_info
from reviews.jobs import Job, job_index

User = settings.AUTH_USER_MODEL
P = FrameworkPillar


# The hours a team may send its reminders at (never at night), and the defaults.
REMINDER_HOURS = range(6, 21)
DEFAULT_REMINDER_HOUR = 9
DEFAULT_WORKING_DAYS = "12345"  # Monday to Friday
ESCALATION_WEEKS = range(1, 13)
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class Team(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100)
    # An action overdue this many weeks is escalated to its review's facilitator.
    overdue_escalation_weeks = models.PositiveSmallIntegerField(default=3)
    # Date-driven reminders go out at this hour, in each recipient's own time zone, on the
    # team's working days (ISO weekday digits, 1 = Monday ... 7 = Sunday): see actions/sendtime.py.
    reminder_hour = models.PositiveSmallIntegerField(default=DEFAULT_REMINDER_HOUR)
    working_days = models.CharField(max_length=7, default=DEFAULT_WORKING_DAYS)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    reminder_hour__gte=REMINDER_HOURS[0], reminder_hour__lte=REMINDER_HOURS[-1]
                ),
                name="team_reminder_hour_in_working_hours",
            ),
            models.CheckConstraint(
                condition=~models.Q(working_days=""), name="team_has_a_working_day"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MembershipQuerySet(models.QuerySet):
    def for_user(self, user) -> MembershipQuerySet:
        return self.filter(user=user)


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"
        FINANCE = "finance", "Finance"
        VIEWER = "viewer", "Viewer"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["team", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="membership_team_user_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"

    @property
    def can_edit(self) -> bool:
        """Admins and members create and edit workloads; finance and viewers read."""
        return self.role in (self.Role.ADMIN, self.Role.MEMBER)


class WorkloadType(models.TextChoices):
    """The seeds' decision table: each type of workload puts some pillars first."""

    STARTUP_MVP = "startup_mvp", "Startup MVP"
    CRITICAL_ECOMMERCE = "critical_ecommerce", "Critical e-commerce"
    FINANCIAL = "financial", "Financial application"
    BATCH = "batch", "Batch workload"
    PUBLIC_API = "public_api", "Public API"
    INTERNAL = "internal", "Internal application"


# (primary pillars, secondary pillars, why): the seeds' pillar prioritisation table.
PILLAR_PRIORITIES: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    WorkloadType.STARTUP_MVP: ((P.COST, P.PERFORMANCE), (P.RELIABILITY,), "Optimise burn rate, iterate quickly"),
    WorkloadType.CRITICAL_ECOMMERCE: ((P.RELIABILITY, P.SECURITY), (P.PERFORMANCE,), "Downtime is direct revenue loss"),
    WorkloadType.FINANCIAL: ((P.SECURITY, P.RELIABILITY), (P.OPERATIONAL_EXCELLENCE,), "Strict compliance and regulation"),
    WorkloadType.BATCH: ((P.COST, P.SUSTAINABILITY), (P.PERFORMANCE,), "Processing is not time-sensitive"),
    WorkloadType.PUBLIC_API: ((P.PERFORMANCE, P.RELIABILITY), (P.SECURITY,), "User experience is critical"),
    WorkloadType.INTERNAL: ((P.OPERATIONAL_EXCELLENCE, P.COST), (P.PERFORMANCE,), "Development team efficiency"),
}  # fmt: skip


class WorkloadQuerySet(models.QuerySet):
    def for_user(self, user) -> WorkloadQuerySet:
        return self.filter(team__memberships__user=user)

    def with_review_dates(self) -> WorkloadQuerySet:
        """Annotate the last review held and the next one planned."""
        now = timezone.now()
        sessions = ReviewSession.objects.filter(workload=models.OuterRef("pk"))
        return self.annotate(
            last_review_at=models.Subquery(
                sessions.filter(review_starts_at__lt=now)
                .order_by("-review_starts_at")
                .values("review_starts_at")[:1]
            ),
            next_review_at=models.Subquery(
                sessions.filter(review_starts_at__gte=now)
                .exclude(phase=Phase.CLOSED)
                .order_by("review_starts_at")
                .values("review_starts_at")[:1]
            ),
        )


class Workload(models.Model):
    class Environment(models.TextChoices):
        PRODUCTION = "production", "Production"
        PREPRODUCTION = "preproduction", "Pre-production"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="workloads")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    environment = models.CharField(
        max_length=16, choices=Environment.choices, default=Environment.PRODUCTION
    )
    workload_type = models.CharField(max_length=24, choices=WorkloadType.choices)
    is_critical = models.BooleanField("critical", default=False)
    owner = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_workloads"
    )
    regions = models.JSONField(default=list, blank=True)
    architecture_url = models.URLField("architecture link", max_length=500, blank=True)
    tags = models.JSONField(default=list, blank=True)
    # The review cadence (reviews/cadence.py): existing workloads every 6 to 12 months;
    # the next review's due date is proposed from it and stays editable.
    review_interval_months = models.PositiveSmallIntegerField(default=12)
    next_review_due_on = models.DateField(null=True, blank=True)
    # The kind of that next review (a SessionKind value), stored with its date.
    next_review_kind = models.CharField(max_length=24, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WorkloadQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="workload_team_name_unique")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def next_review_kind_label(self) -> str:
        return SessionKind(self.next_review_kind).label if self.next_review_kind else ""

    def pillar_priority(self) -> list[tuple[str, str, str]]:
        """Every framework pillar in priority order, as (pillar id, label, rank) with rank
        "primary", "secondary" or "other"."""
        primary, secondary, _ = PILLAR_PRIORITIES[self.workload_type]
        rest = [p for p in FrameworkPillar.values if p not in primary and p not in secondary]
        ranked = [(p, "primary") for p in primary] + [(p, "secondary") for p in secondary]
        ranked += [(p, "other") for p in rest]
        return [(p, FrameworkPillar(p).label, rank) for p, rank in ranked]

    def pillar_rank(self) -> dict[str, int]:
        """Position of each framework pillar in this workload's priority (0 first)."""
        return {pillar: i for i, (pillar, _, _) in enumerate(self.pillar_priority())}

    @property
    def priority_rationale(self) -> str:
        return PILLAR_PRIORITIES[self.workload_type][2]


class SessionKind(models.TextChoices):
    """When a review happens, from the seeds' cadence."""

    NEW_DESIGN = "new_design", "New workload, before detailed design"
    NEW_PRODUCTION = "new_production", "New workload, before production"
    PERIODIC = "periodic", "Periodic review (every 6–12 months)"
    CRITICAL_QUARTERLY = "critical_quarterly", "Critical workload, quarterly"
    MONTHLY_LIGHT = "monthly_light", "Monthly light review"
    POST_INCIDENT = "post_incident", "Post-incident review"


class Phase(models.TextChoices):
    PREPARATION = "preparation", "Preparation"
    REVIEW = "review", "Review"
    ANALYSIS = "analysis", "Analysis"
    ACTION_PLAN = "action_plan", "Action plan"
    FOLLOW_UP = "follow_up", "Follow-up"
    CLOSED = "closed", "Closed"


# The phase machine: where each phase may go next. Forward one step, or back one step to
# reopen the previous phase; a closed review stays closed.
PHASE_MOVES: dict[str, tuple[str, ...]] = {
    Phase.PREPARATION: (Phase.REVIEW,),
    Phase.REVIEW: (Phase.ANALYSIS, Phase.PREPARATION),
    Phase.ANALYSIS: (Phase.ACTION_PLAN, Phase.REVIEW),
    Phase.ACTION_PLAN: (Phase.FOLLOW_UP, Phase.ANALYSIS),
    Phase.FOLLOW_UP: (Phase.CLOSED, Phase.ACTION_PLAN),
    Phase.CLOSED: (),
}
PHASE_ORDER = list(Phase.values)


class ReviewSessionQuerySet(models.QuerySet):
    def for_user(self, user) -> ReviewSessionQuerySet:
        return self.filter(workload__team__memberships__user=user)

    def upcoming(self) -> ReviewSessionQuerySet:
        return self.exclude(phase=Phase.CLOSED)

    def with_risk_counts(self) -> ReviewSessionQuerySet:
        """Annotate high, medium, answered and question counts (one grouped query)."""
        answers = "answers__risk"
        return self.annotate(
            high=models.Count("answers", filter=models.Q(**{answers: "HIGH"})),
            medium=models.Count("answers", filter=models.Q(**{answers: "MEDIUM"})),
            answered=models.Count("answers", filter=~models.Q(**{answers: "UNANSWERED"})),
            questions=models.Count("answers"),
        )


class ReviewSession(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workload = models.ForeignKey(Workload, on_delete=models.CASCADE, related_name="sessions")
    title = models.CharField(max_length=150)
    kind = models.CharField(
        max_length=24, choices=SessionKind.choices, default=SessionKind.PERIODIC
    )
    phase = models.CharField(max_length=16, choices=Phase.choices, default=Phase.PREPARATION)
    lenses: models.ManyToManyField = models.ManyToManyField(
        "questionnaires.Lens", through="SessionLens", related_name="sessions"
    )
    # The plan: each phase's dates, from the seeds' cadence, all editable.
    preparation_starts_on = models.DateField(null=True, blank=True)
    review_starts_at = models.DateTimeField(null=True, blank=True)
    review_duration_minutes = models.PositiveSmallIntegerField(default=300)
    analysis_due_on = models.DateField(null=True, blank=True)
    action_plan_due_on = models.DateField(null=True, blank=True)
    # Live facilitation: the question the facilitator is on, and since when (pillar timers).
    focus_question = models.ForeignKey(
        "questionnaires.Question",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    focus_since = models.DateTimeField(null=True, blank=True)
    plan_published_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReviewSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-review_starts_at", "-created_at"]
        indexes = [
            # The workload page and the workload list: a workload's sessions by date.
            models.Index(fields=["workload", "review_starts_at"], name="session_workload_date_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def allowed_moves(self) -> tuple[str, ...]:
        return PHASE_MOVES[self.phase]

    @property
    def phase_index(self) -> int:
        return PHASE_ORDER.index(self.phase)

    @property
    def is_live(self) -> bool:
        """Answers can change in preparation (pre-answers) and in the review itself."""
        return self.phase in (Phase.PREPARATION, Phase.REVIEW)

    @property
    def focus_pillar_id(self) -> int | None:
        """The pillar whose clock runs: the focused question's, while the review itself is
        under way (time spent on a pillar counts against its budget only then)."""
        if self.focus_question_id and self.focus_since and self.phase == Phase.REVIEW:
            return question_info(self.focus_question_id).pillar_id
        return None

    def stop_focus_clock(self, now: datetime) -> None:
        """Add the time the focus spent on its pillar to that pillar's budget, and clear the
        focus. The caller saves focus_question and focus_since."""
        pillar_id = self.focus_pillar_id
        if pillar_id is not None and self.focus_since is not None:
            elapsed = max(0, int((now - self.focus_since).total_seconds()))
            PillarBudget.objects.filter(session=self, pillar_id=pillar_id).update(
                spent_seconds=models.F("spent_seconds") + elapsed
            )
        self.focus_question = None
        self.focus_since = None


class SessionLens(models.Model):
    session = models.ForeignKey(
        ReviewSession, on_delete=models.CASCADE, related_name="session_lenses"
    )
    lens = models.ForeignKey("questionnaires.Lens", on_delete=models.PROTECT, related_name="+")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["session", "order"]
        constraints = [
            models.UniqueConstraint(fields=["session", "lens"], name="sessionlens_unique")
        ]

    def __str__(self) -> str:
        return f"{self.lens} in {self.session}"


class PhaseChange(models.Model):
    session = models.ForeignKey(
        ReviewSession, on_delete=models.CASCADE, related_name="phase_changes"
    )
    from_phase = models.CharField(max_length=16, choices=Phase.choices, blank=True)
    to_phase = models.CharField(max_length=16, choices=Phase.choices)
    by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    # Why the review was reopened (empty for an ordinary move).
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["session", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_phase or 'start'} → {self.to_phase}"


class ParticipantRole(models.TextChoices):
    FACILITATOR = "facilitator", "Facilitator"
    NOTE_TAKER = "note_taker", "Note-taker"
    WORKLOAD_OWNER = "workload_owner", "Workload owner"
    OPERATIONS = "operations", "Operations"
    SECURITY = "security", "Security"
    FINANCE = "finance", "Finance"
    OBSERVER = "observer", "Observer"


class Participant(models.Model):
    session = models.ForeignKey(
        ReviewSession, on_delete=models.CASCADE, related_name="participants"
    )
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="participations")
    role = models.CharField(max_length=16, choices=ParticipantRole.choices)
    # The preparation checklist.
    read_documentation = models.BooleanField(default=False)
    brought_metrics = models.BooleanField(default=False)
    confirmed_attendance = models.BooleanField(default=False)
    # Follow the facilitator's focus on the live page.
    follows_facilitator = models.BooleanField(default=True)
    # A guest of this one session: invited from outside the team, with no membership. A
    # member's participation never turns into a guest's when they leave the team.
    is_guest = models.BooleanField(default=False)
    joined_at = models.DateTimeField(auto_now_add=True)
    # Attendance: whether they had the live page open during the review phase, and the
    # facilitator's own record where they corrected it (None: as presence says).
    was_present = models.BooleanField(default=False)
    attended = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["session", "role", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "user"], name="participant_session_user_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"

    @property
    def has_attended(self) -> bool:
        """Attended the review: as the facilitator recorded it, else as presence showed."""
        return self.was_present if self.attended is None else self.attended

    @property
    def is_facilitator(self) -> bool:
        return self.role == ParticipantRole.FACILITATOR

    @property
    def is_ready(self) -> bool:
        return self.read_documentation and self.brought_metrics and self.confirmed_attendance


class InvitationQuerySet(models.QuerySet):
    def pending(self) -> InvitationQuerySet:
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True)


class Invitation(models.Model):
    """An emailed invitation to join a review session. Its signed link works once and
    expires after seven days; resending makes the earlier links stop working."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(ReviewSession, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=ParticipantRole.choices)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    # Bumped on resend: links carry it, so only the newest link works.
    nonce = models.PositiveIntegerField(default=0)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["session", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_pending_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.session}"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"


class InvitationEmail(Job):
    """One email of an invitation's link (the first, or a resend with a new link): a job row
    (reviews.jobs). Sending it sets the invitation's sent_at; a link that no longer works
    when its turn comes (accepted, withdrawn, sent again, expired) is skipped."""

    TASK = "reviews.tasks.send_invitation_email"
    # Longer than the sending task's hard time limit (90 s).
    LEASE = timedelta(minutes=2)

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="emails")
    # The link's nonce: the email carries that link.
    nonce = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["invitation", "nonce"], name="invitationemail_one_per_link"
            )
        ]
        indexes = [job_index("invitationemail_job_idx")]

    def __str__(self) -> str:
        return f"Invitation email {self.invitation_id} #{self.nonce} ({self.status})"


class NotApplicableReason(models.TextChoices):
    OUT_OF_SCOPE = "out_of_scope", "Out of scope"
    BUSINESS_PRIORITIES = "business_priorities", "Business priorities"
    ARCHITECTURE_CONSTRAINTS = "architecture_constraints", "Architecture constraints"
    OTHER = "other", "Other"


class AnswerQuerySet(models.QuerySet):
    def with_blind_open(self) -> AnswerQuerySet:
        """Annotate `blind_open`: whether a blind round is open on the answer's question
        (the shared answer then waits for the agreed one)."""
        open_round = BlindRound.objects.filter(
            session=models.OuterRef("session"),
            question=models.OuterRef("question"),
            closed_at__isnull=True,
        )
        return self.annotate(blind_open=models.Exists(open_round))


class Answer(models.Model):
    """The team's shared answer to one question in one session. Selected choices are rows
    (AnswerChoice), so selecting and unselecting are separate operations that never
    overwrite each other; notes carry a revision so a stale save is caught."""

    session = models.ForeignKey(ReviewSession, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(
        "questionnaires.Question", on_delete=models.PROTECT, related_name="+"
    )
    risk = models.CharField(max_length=16, default="UNANSWERED")
    not_applicable = models.BooleanField(default=False)
    not_applicable_reason = models.CharField(
        max_length=32, choices=NotApplicableReason.choices, blank=True
    )
    notes = models.TextField(blank=True)
    notes_revision = models.PositiveIntegerField(default=0)
    # Carried over to a newer version of its lens whose choices for this question changed:
    # someone should look again. Confirming the answer clears it.
    look_again = models.BooleanField(default=False)
    # Pre-filled from a review template and not yet confirmed by anyone.
    from_template = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = AnswerQuerySet.as_manager()

    # Annotated by AnswerQuerySet.with_blind_open(); not a column.
    blind_open: bool

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "question"], name="answer_session_question_unique"
            )
        ]
        indexes = [
            # Risk counts per session (the pillar nav, the workload list, dashboards).
            models.Index(fields=["session", "risk"], name="answer_session_risk_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id}/{self.question_id}: {self.risk}"


class AnswerChoice(models.Model):
    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="selections")
    choice = models.ForeignKey("questionnaires.Choice", on_delete=models.PROTECT, related_name="+")
    selected_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    selected_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["answer", "choice"], name="answerchoice_unique")
        ]

    def __str__(self) -> str:
        return f"{self.choice} in {self.answer}"


class ChoiceNotApplicable(models.Model):
    """One best practice (choice) of an answer marked as not applying to the workload, with
    why and a short note, as the AWS Well-Architected Tool records it. A choice of an answer
    is selected (AnswerChoice), not applicable (this), or neither; the services keep the two
    apart under the answer's row lock. The reason may be blank only when imported without one."""

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="choice_exclusions")
    choice = models.ForeignKey("questionnaires.Choice", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=32, choices=NotApplicableReason.choices, blank=True)
    # AWS keeps at most 250 characters of notes per best practice.
    notes = models.CharField(max_length=250, blank=True)
    marked_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    marked_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["answer", "choice"], name="choicena_answer_choice_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(reason__in=["", *NotApplicableReason.values]),
                name="choicena_reason_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.choice} does not apply in {self.answer}"


class AnswerChange(models.Model):
    """One change to an answer: who, when, what."""

    class Action(models.TextChoices):
        SELECT = "select", "selected"
        UNSELECT = "unselect", "unselected"
        NOT_APPLICABLE = "not_applicable", "marked not applicable"
        APPLICABLE = "applicable", "marked applicable"
        NOTES = "notes", "edited the notes"
        AGREED = "agreed", "recorded the agreed answer"
        CHOICE_NOT_APPLICABLE = "choice_na", "marked a best practice not applicable"
        CHOICE_APPLICABLE = "choice_applies", "marked a best practice applicable again"
        IMPORTED = "imported", "imported the answer from the AWS Well-Architected Tool"
        UPGRADED = "upgraded", "moved the answer to a newer version of its lens"
        TEMPLATE = "template", "pre-filled the answer from a review template"
        CONFIRMED = "confirmed", "confirmed the answer"

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="changes")
    user = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    detail = models.TextField(blank=True)
    risk_after = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["answer", "-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.user} {self.get_action_display()} {self.detail}".strip()


class PillarBudget(models.Model):
    """Time budget for one pillar in a session, and the time spent on it so far (while the
    facilitator's focus was on one of its questions)."""

    session = models.ForeignKey(ReviewSession, on_delete=models.CASCADE, related_name="budgets")
    pillar = models.ForeignKey("questionnaires.Pillar", on_delete=models.CASCADE, related_name="+")
    minutes = models.PositiveSmallIntegerField(default=0)
    spent_seconds = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "pillar"], name="budget_session_pillar_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.pillar}: {self.minutes} min"


class ParkingLotItem(models.Model):
    """Something raised in the session that is out of scope for now; it becomes a candidate
    action item in the analysis."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(ReviewSession, on_delete=models.CASCADE, related_name="parking_lot")
    text = models.CharField(max_length=500)
    question = models.ForeignKey(
        "questionnaires.Question",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session", "created_at"]

    def __str__(self) -> str:
        return self.text


class BlindRound(models.Model):
    """Blind answering of one question: each participant picks privately, then the
    facilitator reveals everyone's picks and records the agreed answer."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(
        ReviewSession, on_delete=models.CASCADE, related_name="blind_rounds"
    )
    question = models.ForeignKey(
        "questionnaires.Question", on_delete=models.CASCADE, related_name="+"
    )
    opened_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)
    revealed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session", "-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "question"],
                condition=models.Q(closed_at__isnull=True),
                name="blindround_one_open_per_question",
            )
        ]

    def __str__(self) -> str:
        return f"Blind round on {self.question}"


class BlindPick(models.Model):
    round = models.ForeignKey(BlindRound, on_delete=models.CASCADE, related_name="picks")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    choices = models.JSONField(default=list)
    picked_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "user"], name="blindpick_round_user_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user}: {', '.join(self.choices)}"


class Presence(models.Model):
    """Who has the live page open, and on which question. Refreshed by the event stream's
    heartbeat; a row older than the heartbeat window means gone."""

    session = models.ForeignKey(ReviewSession, on_delete=models.CASCADE, related_name="presences")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    question = models.ForeignKey(
        "questionnaires.Question",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    last_seen = models.DateTimeField()
    streams = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="presence_session_user_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.session}"


class Milestone(models.Model):
    """A frozen snapshot of a workload's answers, risk counts per pillar and actions."""

    class Kind(models.TextChoices):
        PUBLISHED = "published", "Action plan published"
        FOLLOW_UP = "follow_up", "Follow-up"
        MANUAL = "manual", "Saved by hand"
        IMPORTED = "imported", "Imported from the AWS Well-Architected Tool"
        LENS_UPGRADE = "lens_upgrade", "Before a lens upgrade"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workload = models.ForeignKey(Workload, on_delete=models.CASCADE, related_name="milestones")
    session = models.ForeignKey(
        ReviewSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="milestones"
    )
    name = models.CharField(max_length=150)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.MANUAL)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    snapshot = models.JSONField()

    class Meta:
        ordering = ["workload", "created_at"]

    def __str__(self) -> str:
        return self.name


class AuditEntry(models.Model):
    """Something that changed who is trusted with a team's data: roles, joining, leaving,
    reopened reviews, imported lenses. Written in the same transaction as the change
    (reviews/audit.py); only the team's admins read it."""

    class Action(models.TextChoices):
        ROLE_CHANGED = "role_changed", "changed a role"
        JOINED = "joined", "joined the team"
        REMOVED = "removed", "removed from the team"
        INVITED = "invited", "invited to the team"
        INVITATION_DECLINED = "declined", "declined the invitation"
        SESSION_REOPENED = "session_reopened", "reopened a review"
        LENS_IMPORTED = "lens_imported", "imported a lens"
        SETTINGS_CHANGED = "settings_changed", "changed the settings"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="audit_entries")
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The actor's name when it was written: the entry outlives the account.
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=24, choices=Action.choices)
    subject = models.CharField(max_length=300)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The team page's audit log: a team's entries, newest first.
            models.Index(fields=["team", "-created_at"], name="audit_team_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_name or 'Pillarwise'} {self.get_action_display()}: {self.subject}"


class TeamInvitationQuerySet(models.QuerySet):
    def pending(self) -> TeamInvitationQuerySet:
        return self.filter(
            accepted_at__isnull=True, declined_at__isnull=True, revoked_at__isnull=True
        )


class TeamInvitation(models.Model):
    """An admin's invitation to join a team with a role. Nobody joins a team without
    accepting one: the emailed link (signed, single-use, seven days) lets the invitee
    accept or decline, setting up an account first if they have none."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Membership.Role.choices)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    declined_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = TeamInvitationQuerySet.as_manager()

    class Meta:
        ordering = ["team", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "email"],
                condition=models.Q(
                    accepted_at__isnull=True, declined_at__isnull=True, revoked_at__isnull=True
                ),
                name="teaminvitation_one_pending_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.team}"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.declined_at:
            return "declined"
        if self.revoked_at:
            return "withdrawn"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"


class TeamInvitationEmail(Job):
    """The email of a team invitation's link: a job row (reviews.jobs)."""

    TASK = "reviews.tasks.send_team_invitation_email"
    LEASE = timedelta(minutes=2)

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    invitation = models.OneToOneField(
        TeamInvitation, on_delete=models.CASCADE, related_name="email_job"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [job_index("teaminvitationemail_job_idx")]

    def __str__(self) -> str:
        return f"Team invitation email {self.invitation_id} ({self.status})"


class VerifiedEmail(models.Model):
    """An email address its account has proved it receives: by accepting an emailed
    invitation or resetting the password through an emailed link. Signing in by email
    finds only such addresses, so a lookalike username or an unproved address never
    takes someone else's sign-in."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="verified_email")
    email = models.EmailField()
    verified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # Sign-in by email: the account that proved this address.
            models.Index(Upper("email"), name="verifiedemail_email_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.user})"


class ReviewTemplate(models.Model):
    """A team's pre-filled answers, notes and N/A reasons for one lens (a platform team's
    shared answers, say). A new review made from it starts with them, each marked "from
    template" until someone confirms it. Answers are kept by question and choice id, so a
    template also fills a newer version of its lens."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="review_templates")
    name = models.CharField(max_length=150)
    description = models.TextField(blank=True)
    lens = models.ForeignKey("questionnaires.Lens", on_delete=models.PROTECT, related_name="+")
    source_session = models.ForeignKey(
        ReviewSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team", "name"]
        indexes = [
            # A team's template list.
            models.Index(fields=["team", "name"], name="reviewtemplate_team_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class TemplateAnswer(models.Model):
    """One pre-filled answer of a template, by question id (ident) within the lens."""

    template = models.ForeignKey(ReviewTemplate, on_delete=models.CASCADE, related_name="answers")
    question_ident = models.CharField(max_length=100)
    # The question's title when the template was made, to show it without the lens.
    title = models.CharField(max_length=128, blank=True)
    choices = models.JSONField(default=list, blank=True)
    not_applicable = models.BooleanField(default=False)
    not_applicable_reason = models.CharField(
        max_length=32, choices=NotApplicableReason.choices, blank=True
    )
    notes = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["template", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "question_ident"], name="templateanswer_question_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.question_ident} in {self.template}"
