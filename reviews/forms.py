from __future__ import annotations

import re
from typing import Any, cast

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.models import User
from django.utils import timezone

from questionnaires.models import Lens
from reviews import accounts
from reviews.access import editable_teams
from reviews.cadence import INTERVAL_MAX_MONTHS, INTERVAL_MIN_MONTHS
from reviews.models import (
    ESCALATION_WEEKS,
    REMINDER_HOURS,
    WEEKDAY_NAMES,
    Membership,
    NotApplicableReason,
    ParticipantRole,
    ReviewTemplate,
    SessionKind,
    Team,
    Workload,
)
from reviews.sessions import INCIDENT_SUMMARY_MAX_LENGTH


class PersonChoiceField(forms.ModelChoiceField):
    """People by full name, or username when they gave none."""

    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name() or obj.username


class LensChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Lens) -> str:
        return f"{obj.name} (v{obj.version})"


class ListField(forms.CharField):
    """A comma-separated list in one text box, stored as a list of strings."""

    def __init__(self, *, item_max_length: int = 50, **kwargs):
        self.item_max_length = item_max_length
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value

    def to_python(self, value) -> list[str]:  # type: ignore[override]
        if isinstance(value, list | tuple):
            return list(value)
        items = [item.strip() for item in re.split(r"[,\n]", value or "") if item.strip()]
        return list(dict.fromkeys(items))

    def validate(self, value: list[str]) -> None:
        super().validate(value)
        for item in value:
            if len(item) > self.item_max_length:
                raise forms.ValidationError(
                    f"“{item[:20]}…” is longer than {self.item_max_length} characters."
                )


class WorkloadForm(forms.ModelForm):
    regions = ListField(help_text="Comma-separated, e.g. eu-west-1, eu-central-1", max_length=500)
    tags = ListField(help_text="Comma-separated, e.g. payments, tier-1", max_length=500)
    architecture_url = forms.URLField(
        label="Architecture link", required=False, max_length=500, assume_scheme="https"
    )

    class Meta:
        model = Workload
        fields = [
            "team",
            "name",
            "description",
            "workload_type",
            "environment",
            "is_critical",
            "owner",
            "regions",
            "architecture_url",
            "tags",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        field_classes = {"owner": PersonChoiceField}
        help_texts = {
            "workload_type": "Sets which pillars come first when findings are prioritised.",
            "is_critical": "Critical workloads are reviewed quarterly, with monthly light reviews.",
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        teams = editable_teams(user)
        team_field = cast(forms.ModelChoiceField, self.fields["team"])
        team_field.queryset = teams
        team_field.empty_label = None
        if self.instance.pk:
            # Moving a workload between teams would move its reviews too: not offered.
            self.fields["team"].disabled = True
        owner_field = cast(forms.ModelChoiceField, self.fields["owner"])
        owner_field.queryset = (
            User.objects.filter(memberships__team__in=teams).distinct().order_by("username")
        )
        self.fields["owner"].required = True

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        team, owner, name = cleaned.get("team"), cleaned.get("owner"), cleaned.get("name")
        if team and owner and not Membership.objects.filter(team=team, user=owner).exists():
            self.add_error("owner", f"{owner} is not a member of {team}.")
        if team and name:
            clash = Workload.objects.filter(team=team, name__iexact=name).exclude(
                pk=self.instance.pk
            )
            if clash.exists():
                self.add_error("name", f"{team} already has a workload called “{name}”.")
        return cleaned


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name"]

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()


class TeamSettingsForm(forms.Form):
    """When the team's reminders go out; the service checks the ranges."""

    reminder_hour = forms.TypedChoiceField(
        label="Reminders at",
        coerce=int,
        choices=[(hour, f"{hour:02d}:00") for hour in REMINDER_HOURS],
        help_text="In each person's own time zone.",
    )
    working_days = forms.TypedMultipleChoiceField(
        label="Working days",
        coerce=int,
        choices=list(enumerate(WEEKDAY_NAMES, start=1)),
        widget=forms.CheckboxSelectMultiple,
        required=False,  # the service says what is missing
        help_text="A reminder for another day waits for the next working day.",
    )
    overdue_escalation_weeks = forms.TypedChoiceField(
        label="Escalate overdue actions after",
        coerce=int,
        choices=[(weeks, f"{weeks} week{'s' if weeks != 1 else ''}") for weeks in ESCALATION_WEEKS],
        help_text="Then the review's facilitator is told too.",
    )

    @classmethod
    def for_team(cls, team: Team, data: Any = None) -> TeamSettingsForm:
        initial = {
            "reminder_hour": team.reminder_hour,
            "working_days": [int(day) for day in team.working_days],
            "overdue_escalation_weeks": team.overdue_escalation_weeks,
        }
        return cls(data, initial=initial)


class TeamInvitationForm(forms.Form):
    email = forms.EmailField(
        max_length=254, help_text="They join when they accept the invitation emailed to them."
    )
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)


# --- Review sessions -------------------------------------------------------------------------


class DateTimeLocalField(forms.DateTimeField):
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "input_formats", ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
        )
        super().__init__(**kwargs)


class DateField(forms.DateField):
    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class SessionCreateForm(forms.Form):
    title = forms.CharField(max_length=150)
    kind = forms.ChoiceField(label="Kind of review", choices=SessionKind.choices)
    review_starts_at = DateTimeLocalField(
        label="Review starts", help_text="The live session; it usually takes four to six hours."
    )
    review_duration_minutes = forms.IntegerField(
        label="Length (minutes)", min_value=30, max_value=720, initial=300
    )
    preparation_days = forms.IntegerField(
        label="Preparation (days before)",
        min_value=7,
        max_value=14,
        initial=14,
        help_text="Preparation takes one to two weeks: documentation, metrics, the right people.",
    )
    lenses = LensChoiceField(
        label="Extra lenses",
        queryset=Lens.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The Well-Architected Framework lens is always part of the review.",
    )

    template = forms.ModelChoiceField(
        label="Start from a template",
        queryset=ReviewTemplate.objects.none(),
        required=False,
        to_field_name="uuid",
        help_text="Its answers are pre-filled, each marked “from template” until confirmed.",
    )

    def __init__(self, *args, lenses=None, templates=None, **kwargs):
        """`lenses`: the lenses the team may use (the built-in ones and the team's own);
        `templates`: the team's review templates."""
        super().__init__(*args, **kwargs)
        if templates is not None:
            template_field = cast(forms.ModelChoiceField, self.fields["template"])
            template_field.queryset = templates
        else:
            del self.fields["template"]
        available = Lens.objects.builtin() if lenses is None else lenses
        lenses_field = cast(LensChoiceField, self.fields["lenses"])
        lenses_field.queryset = (
            available.latest_versions().filter(is_framework=False).order_by("name")
        )

    def clean_title(self) -> str:
        return self.cleaned_data["title"].strip()


class SessionPlanForm(forms.Form):
    title = forms.CharField(max_length=150)
    kind = forms.ChoiceField(label="Kind of review", choices=SessionKind.choices)
    preparation_starts_on = DateField(label="Preparation starts")
    review_starts_at = DateTimeLocalField(label="Review starts")
    review_duration_minutes = forms.IntegerField(
        label="Length (minutes)", min_value=30, max_value=720
    )
    analysis_due_on = DateField(label="Analysis due", help_text="Within a week of the review.")
    action_plan_due_on = DateField(
        label="Action plan due", help_text="Within two weeks after the analysis."
    )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        start = cleaned.get("review_starts_at")
        prep, analysis, plan = (
            cleaned.get("preparation_starts_on"),
            cleaned.get("analysis_due_on"),
            cleaned.get("action_plan_due_on"),
        )
        if start:
            day = timezone.localdate(start)
            if prep and prep > day:
                self.add_error("preparation_starts_on", "Preparation must start before the review.")
            if analysis and analysis < day:
                self.add_error("analysis_due_on", "The analysis cannot be due before the review.")
        if analysis and plan and plan < analysis:
            self.add_error(
                "action_plan_due_on", "The action plan cannot be due before the analysis."
            )
        return cleaned


class InvitationForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=ParticipantRole.choices, initial=ParticipantRole.OPERATIONS)


class ParticipantRoleForm(forms.Form):
    role = forms.ChoiceField(choices=ParticipantRole.choices)


class ChecklistForm(forms.Form):
    read_documentation = forms.BooleanField(
        label="I have read the workload's documentation", required=False
    )
    brought_metrics = forms.BooleanField(label="I have current metrics at hand", required=False)
    confirmed_attendance = forms.BooleanField(label="I will attend the review", required=False)


class BudgetForm(forms.Form):
    """Minutes per pillar; built from the session's budgets."""

    def __init__(self, *args, budgets, **kwargs):
        super().__init__(*args, **kwargs)
        for budget in budgets:
            self.fields[f"pillar_{budget.pillar_id}"] = forms.IntegerField(
                label=getattr(budget, "label", budget.pillar.name),
                min_value=0,
                max_value=600,
                initial=budget.minutes,
            )

    def minutes(self) -> dict[int, int]:
        return {int(name.split("_")[1]): value for name, value in self.cleaned_data.items()}


class NewAccountForm(forms.Form):
    """Someone new to Pillarwise accepting an invitation sets up their account."""

    username = forms.CharField(max_length=150, help_text="Letters, digits and @/./+/-/_ only.")
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label="Password again", widget=forms.PasswordInput, strip=False)

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        User._meta.get_field("username").run_validators(username)
        accounts.validate_username(username, email=self.email)
        return username

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The two passwords differ.")
        elif p1:
            candidate = User(
                username=cleaned.get("username", ""),
                email=self.email,
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
            try:
                password_validation.validate_password(p1, candidate)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class NotesForm(forms.Form):
    text = forms.CharField(
        required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 6})
    )
    revision = forms.IntegerField(min_value=0, widget=forms.HiddenInput)


class ApplicabilityForm(forms.Form):
    not_applicable = forms.BooleanField(label="This question does not apply", required=False)
    reason = forms.ChoiceField(
        choices=[("", "Why not?"), *NotApplicableReason.choices], required=False
    )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("not_applicable") and not cleaned.get("reason"):
            self.add_error("reason", "Say why this question does not apply.")
        return cleaned


class ChoiceApplicabilityForm(forms.Form):
    """One best practice: not applicable (with why and a note), or applicable again."""

    status = forms.ChoiceField(
        choices=[("not_applicable", "Not applicable"), ("applicable", "Applies")]
    )
    reason = forms.ChoiceField(
        choices=[("", "Why not?"), *NotApplicableReason.choices], required=False
    )
    notes = forms.CharField(max_length=250, required=False, strip=True)

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("status") == "not_applicable" and not cleaned.get("reason"):
            self.add_error("reason", "Say why this best practice does not apply.")
        return cleaned


class ParkingForm(forms.Form):
    text = forms.CharField(label="Park an item", max_length=500)


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label="Why reopen the review?",
        max_length=500,
        error_messages={"required": "Say why the review is reopened."},
    )


# --- Cadence ---------------------------------------------------------------------------------


class CadenceForm(forms.Form):
    review_interval_months = forms.IntegerField(
        label="Review every (months)",
        min_value=INTERVAL_MIN_MONTHS,
        max_value=INTERVAL_MAX_MONTHS,
        help_text=f"Existing workloads are reviewed every {INTERVAL_MIN_MONTHS} to "
        f"{INTERVAL_MAX_MONTHS} months. Critical ones are reviewed quarterly whatever this says.",
        error_messages={
            "min_value": f"Review at least every {INTERVAL_MIN_MONTHS} months: choose "
            f"{INTERVAL_MIN_MONTHS} to {INTERVAL_MAX_MONTHS}.",
            "max_value": f"Review at least once a year: choose {INTERVAL_MIN_MONTHS} to "
            f"{INTERVAL_MAX_MONTHS} months.",
        },
    )
    next_review_due_on = DateField(
        label="Next review due",
        required=False,
        help_text="Proposed from the cadence when a review closes; change it as you need.",
    )


class IncidentForm(forms.Form):
    occurred_on = DateField(label="When did it happen?")
    summary = forms.CharField(
        label="What happened",
        max_length=INCIDENT_SUMMARY_MAX_LENGTH,
        help_text="One sentence, e.g. “Checkout down for 40 minutes: expired certificate”.",
    )

    def clean_occurred_on(self):
        occurred_on = self.cleaned_data["occurred_on"]
        if occurred_on > timezone.localdate():
            raise forms.ValidationError("The incident date cannot be in the future.")
        return occurred_on

    def clean_summary(self) -> str:
        summary = " ".join(self.cleaned_data["summary"].split())
        if not summary:
            raise forms.ValidationError("Say in a sentence what happened.")
        return summary
