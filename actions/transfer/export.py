"""Export a whole workload as one JSON document (schema: actions.transfer.SCHEMA_VERSION).

The document holds the workload, its review sessions with their participants (by email),
pending invitations, phase changes, time budgets, parking lot, answers (selections, per-choice
"not applicable", history), findings with their ratings, the workload's action items with
their comments and history, and its milestones. People are named by email, questions and
choices by their lens's ids, and every object the document refers to inside itself by an
"id" of its own (the object's uuid). Built-in lenses are named (name and a digest of their
content); every other lens travels whole, as a lens file. Follow-ups, blind rounds, PDFs and
emails already sent are not part of it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from actions.models import ActionChange, ActionComment, ActionItem, Finding, Rating
from actions.transfer import FORMAT, SCHEMA_VERSION
from questionnaires.lensdata import lens_document
from questionnaires.models import Choice, Lens, Question
from questionnaires.services import lens_data
from reviews.models import (
    Answer,
    AnswerChange,
    AnswerChoice,
    ChoiceNotApplicable,
    Invitation,
    Milestone,
    ParkingLotItem,
    Participant,
    PhaseChange,
    PillarBudget,
    ReviewSession,
    SessionLens,
    Workload,
)


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _email(user: Any) -> str | None:
    return (user.email or None) if user is not None else None


class _Lenses:
    """Each lens the workload uses gets a short key ("L1", "L2", ...) that questions and
    choices name; the document lists every lens once under its key."""

    def __init__(self) -> None:
        self.keys: dict[int, str] = {}
        self.entries: list[dict[str, Any]] = []

    def key(self, lens: Lens) -> str:
        if lens.pk not in self.keys:
            key = f"L{len(self.keys) + 1}"
            self.keys[lens.pk] = key
            data = lens_data(lens)
            entry: dict[str, Any] = {
                "key": key,
                "name": lens.name,
                "builtin": lens.is_builtin,
                "digest": data.digest(),
            }
            if not lens.is_builtin:
                entry["file"] = lens_document(data)
            self.entries.append(entry)
        return self.keys[lens.pk]

    def question(self, question: Question) -> dict[str, str]:
        return {
            "lens": self.key(question.pillar.lens),
            "pillar": question.pillar.ident,
            "question": question.ident,
        }

    def choice(self, choice: Choice) -> dict[str, str]:
        return {**self.question(choice.question), "choice": choice.ident}


def workload_export(workload: Workload) -> dict[str, Any]:
    """The workload and everything said about it, as one JSON-ready document."""
    lenses = _Lenses()
    sessions = list(
        ReviewSession.objects.filter(workload=workload)
        .select_related("created_by")
        .order_by("created_at", "pk")
    )
    document: dict[str, Any] = {
        "format": FORMAT,
        "schemaVersion": SCHEMA_VERSION,
        "exportedAt": timezone.now().isoformat(),
        # Filled as the sessions, answers and actions below name their lenses.
        "lenses": lenses.entries,
        "workload": {
            "name": workload.name,
            "description": workload.description,
            "environment": workload.environment,
            "workloadType": workload.workload_type,
            "isCritical": workload.is_critical,
            "owner": _email(workload.owner),
            "regions": workload.regions,
            "architectureUrl": workload.architecture_url,
            "tags": workload.tags,
            "reviewIntervalMonths": workload.review_interval_months,
            "nextReviewDueOn": _when(workload.next_review_due_on),
            "createdAt": _when(workload.created_at),
        },
        "sessions": [_session(session, lenses) for session in sessions],
        "actions": _actions(workload, lenses),
        "milestones": [
            {
                "id": str(m.uuid),
                "name": m.name,
                "kind": m.kind,
                "session": str(m.session.uuid) if m.session else None,
                "createdBy": _email(m.created_by),
                "createdAt": _when(m.created_at),
                "snapshot": m.snapshot,
            }
            for m in Milestone.objects.filter(workload=workload)
            .select_related("session", "created_by")
            .order_by("created_at", "pk")
        ],
    }
    return document


QUESTION = "question__pillar__lens"
CHOICE = "choice__question__pillar__lens"


def _session(session: ReviewSession, lenses: _Lenses) -> dict[str, Any]:
    session_lenses = [
        lenses.key(sl.lens)
        for sl in SessionLens.objects.filter(session=session)
        .select_related("lens")
        .order_by("order")
    ]
    answers = list(
        Answer.objects.filter(session=session)
        .select_related(QUESTION, "updated_by")
        .order_by("question__pillar__lens_id", "question__pillar__order", "question__order")
    )
    selections: dict[int, list] = {}
    for row in (
        AnswerChoice.objects.filter(answer__session=session)
        .select_related(CHOICE, "selected_by")
        .order_by("choice__order")
    ):
        selections.setdefault(row.answer_id, []).append(
            {
                **lenses.choice(row.choice),
                "by": _email(row.selected_by),
                "at": _when(row.selected_at),
            }
        )
    exclusions: dict[int, list] = {}
    for excluded in (
        ChoiceNotApplicable.objects.filter(answer__session=session)
        .select_related(CHOICE, "marked_by")
        .order_by("choice__order")
    ):
        exclusions.setdefault(excluded.answer_id, []).append(
            {
                **lenses.choice(excluded.choice),
                "reason": excluded.reason,
                "notes": excluded.notes,
                "by": _email(excluded.marked_by),
            }
        )
    history: dict[int, list] = {}
    for change in (
        AnswerChange.objects.filter(answer__session=session)
        .select_related("user")
        .order_by("at", "pk")
    ):
        history.setdefault(change.answer_id, []).append(
            {
                "by": _email(change.user),
                "at": _when(change.at),
                "action": change.action,
                "detail": change.detail,
                "riskAfter": change.risk_after,
            }
        )
    return {
        "id": str(session.uuid),
        "title": session.title,
        "kind": session.kind,
        "phase": session.phase,
        "lenses": session_lenses,
        "preparationStartsOn": _when(session.preparation_starts_on),
        "reviewStartsAt": _when(session.review_starts_at),
        "reviewDurationMinutes": session.review_duration_minutes,
        "analysisDueOn": _when(session.analysis_due_on),
        "actionPlanDueOn": _when(session.action_plan_due_on),
        "planPublishedAt": _when(session.plan_published_at),
        "closedAt": _when(session.closed_at),
        "createdBy": _email(session.created_by),
        "createdAt": _when(session.created_at),
        "participants": [
            {
                "email": _email(p.user),
                "role": p.role,
                "readDocumentation": p.read_documentation,
                "broughtMetrics": p.brought_metrics,
                "confirmedAttendance": p.confirmed_attendance,
            }
            for p in Participant.objects.filter(session=session)
            .select_related("user")
            .order_by("user__email", "pk")
            if p.user.email
        ],
        "invitations": [
            {"email": i.email, "role": i.role}
            for i in Invitation.objects.filter(session=session).pending().order_by("email")
        ],
        "phaseChanges": [
            {"from": c.from_phase, "to": c.to_phase, "by": _email(c.by), "at": _when(c.at)}
            for c in PhaseChange.objects.filter(session=session)
            .select_related("by")
            .order_by("at", "pk")
        ],
        "budgets": [
            {
                "lens": lenses.key(b.pillar.lens),
                "pillar": b.pillar.ident,
                "minutes": b.minutes,
                "spentSeconds": b.spent_seconds,
            }
            for b in PillarBudget.objects.filter(session=session)
            .select_related("pillar__lens")
            .order_by("pillar__lens_id", "pillar__order")
        ],
        "parkingLot": [
            {
                "id": str(item.uuid),
                "text": item.text,
                "question": lenses.question(item.question) if item.question else None,
                "createdBy": _email(item.created_by),
                "createdAt": _when(item.created_at),
                "dismissedAt": _when(item.dismissed_at),
            }
            for item in ParkingLotItem.objects.filter(session=session)
            .select_related(QUESTION, "created_by")
            .order_by("created_at", "pk")
        ],
        "answers": [
            {
                **lenses.question(a.question),
                "risk": a.risk,
                "notApplicable": a.not_applicable,
                "notApplicableReason": a.not_applicable_reason,
                "notes": a.notes,
                "updatedBy": _email(a.updated_by),
                "selected": selections.get(a.pk, []),
                "choicesNotApplicable": exclusions.get(a.pk, []),
                "history": history.get(a.pk, []),
            }
            for a in answers
        ],
        "findings": _findings(session, lenses),
    }


def _findings(session: ReviewSession, lenses: _Lenses) -> list[dict[str, Any]]:
    ratings: dict[int, list] = {}
    for r in (
        Rating.objects.filter(finding__session=session)
        .select_related("user")
        .order_by("user__email", "kind")
    ):
        ratings.setdefault(r.finding_id, []).append(
            {"by": _email(r.user), "kind": r.kind, "value": r.value}
        )
    return [
        {
            "id": str(f.uuid),
            **lenses.question(f.question),
            "risk": f.risk,
            "pillarRank": f.pillar_rank,
            "impactOverride": f.impact_override,
            "effortOverride": f.effort_override,
            "acceptedBy": _email(f.accepted_by),
            "acceptedAt": _when(f.accepted_at),
            "acceptedReason": f.accepted_reason,
            "acceptedUntil": _when(f.accepted_until),
            "resolvedAt": _when(f.resolved_at),
            "createdAt": _when(f.created_at),
            "ratings": [r for r in ratings.get(f.pk, []) if r["by"]],
        }
        for f in Finding.objects.filter(session=session)
        .select_related(QUESTION, "accepted_by")
        .order_by("created_at", "pk")
    ]


def _actions(workload: Workload, lenses: _Lenses) -> list[dict[str, Any]]:
    comments: dict[int, list] = {}
    for c in (
        ActionComment.objects.filter(action__workload=workload)
        .select_related("author")
        .order_by("created_at", "pk")
    ):
        comments.setdefault(c.action_id, []).append(
            {"by": _email(c.author), "at": _when(c.created_at), "body": c.body}
        )
    history: dict[int, list] = {}
    for h in (
        ActionChange.objects.filter(action__workload=workload)
        .select_related("user")
        .order_by("at", "pk")
    ):
        history.setdefault(h.action_id, []).append(
            {
                "by": _email(h.user),
                "at": _when(h.at),
                "field": h.field,
                "old": h.old_value,
                "new": h.new_value,
            }
        )
    items = (
        ActionItem.objects.filter(workload=workload)
        .select_related(
            "session", "finding", QUESTION, CHOICE, "parking_item", "owner", "created_by"
        )
        .order_by("created_at", "pk")
    )
    return [
        {
            "id": str(a.uuid),
            "session": str(a.session.uuid) if a.session else None,
            "finding": str(a.finding.uuid) if a.finding else None,
            "question": lenses.question(a.question) if a.question else None,
            "choice": lenses.choice(a.choice) if a.choice else None,
            "parkingItem": str(a.parking_item.uuid) if a.parking_item else None,
            "title": a.title,
            "description": a.description,
            "measurableOutcome": a.measurable_outcome,
            "owner": _email(a.owner),
            "dueOn": _when(a.due_on),
            "status": a.status,
            "percentComplete": a.percent_complete,
            "effort": a.effort,
            "monthlySaving": str(a.monthly_saving)
            if isinstance(a.monthly_saving, Decimal)
            else None,
            "currency": a.currency,
            "externalKey": a.external_key,
            "externalUrl": a.external_url,
            "createdBy": _email(a.created_by),
            "createdAt": _when(a.created_at),
            "completedAt": _when(a.completed_at),
            "comments": comments.get(a.pk, []),
            "history": history.get(a.pk, []),
        }
        for a in items
    ]
