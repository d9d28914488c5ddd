"""Forms of the actions app. Each coerces and validates the types of one request; the
services apply the rules and raise ServiceError with the field, which the view puts on the
form."""

from __future__ import annotations

from typing import cast

from django import forms
from django.core.validators import URLValidator
from django.utils.text import slugify

from actions.dashboards import MY_DUE_FILTERS
from actions.followups import NOTE_MAX_LENGTH
from actions.items import COMMENT_MAX_LENGTH, owner_choices
from actions.models import ActionItem, NotificationPreference, Occasion, PlanDocument, Rating
from actions.notifications import OCCASIONS
from reviews.forms import PersonChoiceField

# --- Analysis, action items, the plan, milestones, dashboards ---------------------------------

SCALE = [
    (1, "1 · very low"),
    (2, "2 · low"),
    (3, "3 · medium"),
    (4, "4 · high"),
    (5, "5 · very high"),
]


def _scale_field(label: str, empty: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=[("", empty), *SCALE],
        coerce=int,
        empty_value=None,
        required=False,
    )


class RatingForm(forms.Form):
    kind = forms.ChoiceField(choices=Rating.Kind.choices)
    value = _scale_field("Rating", "— not rated —")


class MoveForm(forms.Form):
    """Place a finding on the matrix; an empty axis follows the ratings."""

    impact = _scale_field("Business impact", "follow the ratings")
    effort = _scale_field("Technical effort", "follow the ratings")


class AcceptRiskForm(forms.Form):
    reason = forms.CharField(
        label="Why is the risk accepted?",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Recorded with your name and today's date.",
    )
    until = forms.DateField(
        label="Accepted until",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The acceptance is reviewed on this date.",
    )


class PracticeActionForm(forms.Form):
    """One click per missing best practice: which practice (the choice's id in the lens)."""

    choice = forms.CharField(max_length=100)


class ActionForm(forms.Form):
    """An action item's fields. A plain form (not a ModelForm) so that the instance stays
    untouched until action_update compares old and new values for the history."""

    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    measurable_outcome = forms.CharField(
        label="Measurable outcome",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="How everyone will know it is done, e.g. “p95 latency under 300 ms”. "
        "Needed to publish the plan.",
    )
    owner = PersonChoiceField(
        queryset=None, required=False, empty_label="— nobody yet —", help_text="A team member."
    )
    due_on = forms.DateField(
        label="Due date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    status = forms.ChoiceField(choices=ActionItem.Status.choices, initial=ActionItem.Status.OPEN)
    percent_complete = forms.IntegerField(
        label="Percent complete", min_value=0, max_value=100, initial=0
    )
    effort = forms.ChoiceField(
        choices=[("", "— not sized —"), *ActionItem.Effort.choices], required=False
    )
    monthly_saving = forms.DecimalField(
        label="Estimated monthly saving",
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text="For cost findings: what this saves per month once done.",
    )
    currency = forms.CharField(
        max_length=3, initial="USD", help_text="Three-letter code (ISO 4217), e.g. EUR."
    )
    external_key = forms.CharField(
        label="Tracker key", max_length=64, required=False, help_text="e.g. OPS-123"
    )
    external_url = forms.CharField(
        label="Tracker link",
        max_length=500,
        required=False,
        validators=[URLValidator(schemes=["http", "https"])],
        widget=forms.URLInput,
        help_text="The issue in your tracker (http or https).",
    )

    def __init__(self, *args, workload, **kwargs):
        super().__init__(*args, **kwargs)
        owner = cast(forms.ModelChoiceField, self.fields["owner"])
        owner.queryset = owner_choices(workload)
        self.fields["title"].widget.attrs["autofocus"] = True

    @classmethod
    def initial_from(cls, action: ActionItem) -> dict:
        return {
            "title": action.title,
            "description": action.description,
            "measurable_outcome": action.measurable_outcome,
            "owner": action.owner_id,
            "due_on": action.due_on,
            "status": action.status,
            "percent_complete": action.percent_complete,
            "effort": action.effort,
            "monthly_saving": action.monthly_saving,
            "currency": action.currency,
            "external_key": action.external_key,
            "external_url": action.external_url,
        }


class ReassignForm(forms.Form):
    """A new owner for an action whose owner left (the workload page)."""

    owner = PersonChoiceField(queryset=None, label="New owner")

    def __init__(self, *args, workload, **kwargs):
        super().__init__(*args, **kwargs)
        cast(PersonChoiceField, self.fields["owner"]).queryset = owner_choices(workload)


class ProgressForm(forms.Form):
    """The inline update on "My actions": status and percent complete."""

    status = forms.ChoiceField(choices=ActionItem.Status.choices)
    percent_complete = forms.IntegerField(label="Percent complete", min_value=0, max_value=100)


class PlanRowForm(forms.Form):
    """One row of the plan table: what the publish gate asks of an action, and its status."""

    owner = PersonChoiceField(queryset=None, required=False, empty_label="— nobody yet —")
    due_on = forms.DateField(label="Due date", required=False)
    measurable_outcome = forms.CharField(label="Measurable outcome", required=False)
    status = forms.ChoiceField(choices=ActionItem.Status.choices)

    def __init__(self, *args, workload, **kwargs):
        super().__init__(*args, **kwargs)
        cast(PersonChoiceField, self.fields["owner"]).queryset = owner_choices(workload)


class PlanBulkForm(forms.Form):
    """Several actions of a plan at once: an empty field keeps each action's own value."""

    actions = forms.MultipleChoiceField(
        label="Selected actions",
        error_messages={"required": "Select the actions to change."},
    )
    owner = PersonChoiceField(queryset=None, required=False, empty_label="— keep —")
    due_on = forms.DateField(label="Due date", required=False)
    status = forms.ChoiceField(
        choices=[("", "— keep —"), *ActionItem.Status.choices], required=False
    )

    def __init__(self, *args, workload, action_uuids, **kwargs):
        super().__init__(*args, **kwargs)
        cast(PersonChoiceField, self.fields["owner"]).queryset = owner_choices(workload)
        choices = [(str(u), str(u)) for u in action_uuids]
        cast(forms.MultipleChoiceField, self.fields["actions"]).choices = choices

    def changes(self) -> dict:
        """The fields to set (those filled in)."""
        return {
            name: self.cleaned_data[name]
            for name in ("owner", "due_on", "status")
            if self.cleaned_data[name]
        }


class PlanDefaultsForm(forms.Form):
    """What "Fill in defaults" fills: an owner per pillar (for its actions without one) and
    the due dates by quadrant (for the actions without one)."""

    due_dates = forms.BooleanField(
        label="Due dates by quadrant, for the actions without one", required=False
    )

    def __init__(self, *args, workload, pillars: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.pillars = {f"owner-{slugify(name) or 'none'}": name for name in pillars}
        for field_name, pillar in self.pillars.items():
            self.fields[field_name] = PersonChoiceField(
                queryset=owner_choices(workload),
                required=False,
                label=pillar,
                empty_label="— leave as is —",
            )

    def owners(self) -> dict:
        """Pillar name -> the owner chosen for its actions without one."""
        return {
            pillar: self.cleaned_data[field_name]
            for field_name, pillar in self.pillars.items()
            if self.cleaned_data.get(field_name) is not None
        }

    def pillar_fields(self) -> list:
        return [self[field_name] for field_name in self.pillars]


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Add a comment",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=COMMENT_MAX_LENGTH,
    )


class MilestoneForm(forms.Form):
    name = forms.CharField(
        label="Milestone name",
        max_length=150,
        required=False,
        help_text="Leave empty to name it after today's date.",
    )


class CompareForm(forms.Form):
    a = forms.ChoiceField(label="Compare")
    b = forms.ChoiceField(label="with")

    def __init__(self, *args, milestones, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(str(m.uuid), m.name) for m in milestones]
        cast(forms.ChoiceField, self.fields["a"]).choices = choices
        cast(forms.ChoiceField, self.fields["b"]).choices = choices

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("a") and cleaned.get("a") == cleaned.get("b"):
            self.add_error("b", "Choose two different milestones.")
        return cleaned


class MyActionsFilterForm(forms.Form):
    status = forms.MultipleChoiceField(
        choices=ActionItem.Status.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    due = forms.ChoiceField(choices=[("", "Any time"), *MY_DUE_FILTERS.items()], required=False)


# --- The action-plan PDF ---------------------------------------------------------------------


class PlanDocumentForm(forms.Form):
    paper = forms.ChoiceField(
        label="Paper size",
        choices=PlanDocument.Paper.choices,
        initial=PlanDocument.Paper.A4,
        widget=forms.RadioSelect,
    )


# --- Cadence: notification preferences, follow-ups --------------------------------------------


class NotificationPreferencesForm(forms.Form):
    """How the person hears about each occasion: one choice per occasion."""

    def __init__(self, *args, modes: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        for occasion, who in OCCASIONS.items():
            self.fields[occasion] = forms.ChoiceField(
                label=Occasion(occasion).label,
                choices=NotificationPreference.Mode.choices,
                initial=modes[occasion],
                help_text=who,
                widget=forms.RadioSelect,
            )

    def modes(self) -> dict[str, str]:
        return {occasion: self.cleaned_data[occasion] for occasion in OCCASIONS}


class FollowUpActionForm(forms.Form):
    status = forms.ChoiceField(choices=ActionItem.Status.choices)
    percent_complete = forms.IntegerField(label="Percent complete", min_value=0, max_value=100)
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class FollowUpFinishForm(forms.Form):
    note = forms.CharField(
        label="Summary",
        required=False,
        max_length=NOTE_MAX_LENGTH * 5,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the team agreed. It opens the summary email to the participants.",
    )
