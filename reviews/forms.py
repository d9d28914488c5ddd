from __future__ import annotations

import re

from django import forms
from django.contrib.auth import get_user_model

from reviews.access import editable_teams
from reviews.models import Membership, Team, Workload

User = get_user_model()


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

    def to_python(self, value) -> list[str]:
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
        help_texts = {
            "workload_type": "Sets which pillars come first when findings are prioritised.",
            "is_critical": "Critical workloads are reviewed quarterly, with monthly light reviews.",
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        teams = editable_teams(user)
        self.fields["team"].queryset = teams
        self.fields["team"].empty_label = None
        if self.instance.pk:
            # Moving a workload between teams would move its reviews too: not offered.
            self.fields["team"].disabled = True
        self.fields["owner"].queryset = (
            User.objects.filter(memberships__team__in=teams).distinct().order_by("username")
        )
        self.fields["owner"].label_from_instance = lambda u: u.get_full_name() or u.username
        self.fields["owner"].required = True

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean(self):
        cleaned = super().clean()
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


class MemberAddForm(forms.Form):
    who = forms.CharField(
        label="Username or email", max_length=254, help_text="The person must have an account."
    )
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team

    def clean_who(self):
        who = self.cleaned_data["who"].strip()
        field = "email__iexact" if "@" in who else "username"
        user = User.objects.filter(**{field: who}).order_by("pk").first()
        if user is None:
            raise forms.ValidationError(f"No account matches “{who}”.")
        if Membership.objects.filter(team=self.team, user=user).exists():
            raise forms.ValidationError(f"{user.username} is already a member of {self.team}.")
        return user


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)
