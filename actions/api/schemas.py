"""What the API reads and writes. Output schemas read model instances (dotted aliases follow
foreign keys); input schemas validate before any view runs, so a bad field is a 400 that
names it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from ninja import Field, Schema
from pydantic import model_validator

from actions.models import ActionItem, Finding
from reviews.answers import NOTES_MAX_LENGTH
from reviews.choices import NOTES_MAX_LENGTH as CHOICE_NOTES_MAX_LENGTH
from reviews.models import Milestone, NotApplicableReason, Phase, SessionKind, Workload


class FieldError(Schema):
    field: str = Field(description="Where: the field, or `body` for the whole request.")
    message: str


class ErrorOut(Schema):
    detail: str
    errors: list[FieldError] = Field(default_factory=list)


class ConflictOut(ErrorOut):
    notes: str | None = Field(None, description="The notes as they stand now.")
    notes_revision: int | None = None


# Every operation may answer these (the docs and the property tests rely on the list).
ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    429: ErrorOut,
}


def _username(user) -> str | None:
    return user.username if user is not None else None


class WorkloadOut(Schema):
    uuid: UUID
    name: str
    description: str
    team: str = Field(alias="team.name")
    team_uuid: UUID = Field(alias="team.uuid")
    environment: Workload.Environment
    workload_type: str
    is_critical: bool
    owner: str | None
    review_interval_months: int
    next_review_due_on: date | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_owner(obj) -> str | None:
        return _username(obj.owner)


class SessionOut(Schema):
    uuid: UUID
    workload_uuid: UUID = Field(alias="workload.uuid")
    title: str
    kind: SessionKind
    phase: Phase
    review_starts_at: datetime | None
    plan_published_at: datetime | None
    closed_at: datetime | None
    created_at: datetime


class ChoiceMark(Schema):
    """A best practice that does not apply, with why."""

    choice: str = Field(description="The choice's ident.")
    reason: NotApplicableReason
    notes: str = Field("", max_length=CHOICE_NOTES_MAX_LENGTH)


class AnswerOut(Schema):
    question_uuid: UUID = Field(alias="question.uuid")
    question_ident: str = Field(alias="question.ident")
    question_title: str = Field(alias="question.title")
    pillar: str = Field(alias="question.pillar.name")
    lens: str = Field(alias="question.pillar.lens.name")
    risk: str
    selected: list[str] = Field(description="Idents of the selected choices.")
    not_applicable_choices: list[ChoiceMark] = Field(
        description="The best practices marked not applicable."
    )
    not_applicable: bool
    not_applicable_reason: NotApplicableReason | None
    notes: str
    notes_revision: int
    updated_at: datetime

    @staticmethod
    def resolve_selected(obj) -> list[str]:
        return sorted(s.choice.ident for s in obj.selections.all())

    @staticmethod
    def resolve_not_applicable_choices(obj) -> list[dict]:
        marks = sorted(obj.choice_exclusions.all(), key=lambda x: x.choice.order)
        return [{"choice": x.choice.ident, "reason": x.reason, "notes": x.notes} for x in marks]

    @staticmethod
    def resolve_not_applicable_reason(obj) -> str | None:
        return obj.not_applicable_reason or None


class AnswerPatch(Schema):
    """Changes to one answer, applied as the live page applies them: each choice selected
    or unselected is one operation, so changes others make to other choices stay."""

    select: list[str] = Field(default_factory=list, max_length=100)
    unselect: list[str] = Field(default_factory=list, max_length=100)
    mark_not_applicable: list[ChoiceMark] = Field(default_factory=list, max_length=100)
    clear_not_applicable: list[str] = Field(
        default_factory=list, max_length=100, description="Best practices that apply again."
    )
    not_applicable: bool | None = None
    not_applicable_reason: NotApplicableReason | None = None
    notes: str | None = Field(None, max_length=NOTES_MAX_LENGTH)
    notes_revision: int | None = Field(
        None, ge=0, description="The revision the notes were read at (required with notes)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> AnswerPatch:
        if self.notes is not None and self.notes_revision is None:
            raise ValueError("notes_revision is required with notes")
        if self.not_applicable and self.not_applicable_reason is None:
            raise ValueError("not_applicable_reason is required when not_applicable is true")
        if set(self.select) & set(self.unselect):
            raise ValueError("a choice cannot be both selected and unselected")
        marked = {mark.choice for mark in self.mark_not_applicable}
        if marked & (set(self.select) | set(self.clear_not_applicable)):
            raise ValueError("a choice marked not applicable cannot also be selected or cleared")
        return self


class FindingOut(Schema):
    uuid: UUID
    session_uuid: UUID = Field(alias="session.uuid")
    question_uuid: UUID = Field(alias="question.uuid")
    question_title: str = Field(alias="question.title")
    pillar: str = Field(alias="question.pillar.name")
    risk: str
    accepted: bool
    accepted_until: date | None
    resolved_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_accepted(obj: Finding) -> bool:
        return obj.accepted_at is not None


class ActionOut(Schema):
    uuid: UUID
    workload_uuid: UUID = Field(alias="workload.uuid")
    session_uuid: UUID | None
    finding_uuid: UUID | None
    title: str
    description: str
    measurable_outcome: str
    owner: str | None
    due_on: date | None
    status: ActionItem.Status
    percent_complete: int
    effort: str
    monthly_saving: Decimal | None
    currency: str
    external_key: str
    external_url: str
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None

    @staticmethod
    def resolve_owner(obj) -> str | None:
        return _username(obj.owner)

    @staticmethod
    def resolve_session_uuid(obj) -> UUID | None:
        return obj.session.uuid if obj.session_id else None

    @staticmethod
    def resolve_finding_uuid(obj) -> UUID | None:
        return obj.finding.uuid if obj.finding_id else None


class ActionPatch(Schema):
    status: ActionItem.Status | None = None
    percent_complete: int | None = Field(None, ge=0, le=100)

    @model_validator(mode="after")
    def _something(self) -> ActionPatch:
        if self.status is None and self.percent_complete is None:
            raise ValueError("give status or percent_complete")
        return self


class MilestoneOut(Schema):
    uuid: UUID
    workload_uuid: UUID = Field(alias="workload.uuid")
    session_uuid: UUID | None
    name: str
    kind: Milestone.Kind
    created_at: datetime

    @staticmethod
    def resolve_session_uuid(obj) -> UUID | None:
        return obj.session.uuid if obj.session_id else None


class MilestoneDetailOut(MilestoneOut):
    snapshot: dict[str, Any] = Field(
        description="The answers, risk counts per pillar and actions when it was saved."
    )


class PillarRiskCounts(Schema):
    pillar: str
    counts: dict[str, int]


class RiskCountsOut(Schema):
    session_uuid: UUID
    total: dict[str, int]
    pillars: list[PillarRiskCounts]
