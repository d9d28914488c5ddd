"""Import a workload from the AWS Well-Architected Tool: the document that pull.py makes, or
that the `aws wellarchitected` commands print (README, "Working with the AWS
Well-Architected Tool"), into a team.

The document is checked whole first: anything malformed is refused with every problem and
its place, and nothing is written. Then, in one transaction: the workload of that name in
the team is updated (or created), a review session is created with every answer, choice
status, reason, note and risk, it moves to the review phase for the team to check, and a
milestone freezes it. Lenses map by alias (the framework), by a given ARN, or by name; a
lens, question or choice with no counterpart here is reported with its place, never dropped
silently. The risk is the one AWS gave; where our rules would give another, it is said.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from actions.aws import CHOICE_NOTES_MAX_LENGTH, FRAMEWORK_ALIAS
from actions.aws.export import REASONS
from actions.milestones import milestone_create
from questionnaires.models import Lens, Question, Risk
from questionnaires.structure import question_info
from reviews.answers import NOTES_MAX_LENGTH
from reviews.errors import ServiceError
from reviews.models import (
    PILLAR_PRIORITIES,
    Answer,
    AnswerChange,
    AnswerChoice,
    ChoiceNotApplicable,
    Membership,
    Milestone,
    Phase,
    ReviewSession,
    SessionKind,
    Team,
    Workload,
    WorkloadType,
)
from reviews.sessions import session_create, session_move

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
KEYS = ("get-workload", "list-lens-reviews", "list-answers", "get-answer", "list-milestones")
AWS_REASONS = {value: key for key, value in REASONS.items()}  # NONE: no reason given
REASON_VALUES = {*REASONS.values(), "NONE"}
CHOICE_STATUSES = {"SELECTED", "NOT_APPLICABLE", "UNSELECTED"}
ENVIRONMENTS = {"PRODUCTION": "production", "PREPRODUCTION": "preproduction"}


class ImportRefused(ServiceError):
    """The document cannot be imported; `errors` lists every problem with its place."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass
class AwsAnswer:
    """One question's answer there, from list-answers and, when given, get-answer."""

    place: str
    lens: str
    pillar: str
    question: str
    selected: list[str] = field(default_factory=list)
    statuses: dict[str, tuple[str, str]] = field(default_factory=dict)  # choice -> status, reason
    choice_notes: dict[str, str] = field(default_factory=dict)
    is_applicable: bool = True
    reason: str = ""
    risk: str = ""
    notes: str | None = None


@dataclass
class ImportReport:
    workload: Workload
    session: ReviewSession
    workload_created: bool
    milestone: Milestone | None = None
    answers: int = 0
    not_applicable_choices: int = 0
    unknown: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# --- Reading and checking the document --------------------------------------------------------


def document_parse(raw: bytes | str) -> dict[str, Any]:
    """The uploaded file as a JSON object; ImportRefused when it is not one."""
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise ImportRefused([f"The file is larger than {MAX_DOCUMENT_BYTES // 2**20} MB."])
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImportRefused([f"The file is not JSON ({exc})."]) from None
    if not isinstance(data, dict):
        raise ImportRefused(["The file must hold one JSON object whose keys are the commands."])
    return data


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def get(
        self, obj: dict, key: str, kind: type | tuple, place: str, *, required: bool = False
    ) -> Any:
        value = obj.get(key)
        if value is None:
            if required:
                self.errors.append(f"{place}.{key}: missing.")
            return None
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.errors.append(f"{place}.{key}: expected {_kind(kind)}.")
            return None
        return value

    def strings(self, obj: dict, key: str, place: str) -> list[str]:
        value = self.get(obj, key, list, place) or []
        if not all(isinstance(item, str) for item in value):
            self.errors.append(f"{place}.{key}: expected a list of strings.")
            return []
        return value

    def enum(self, obj: dict, key: str, values: set[str], place: str) -> str:
        value = self.get(obj, key, str, place)
        if value is not None and value not in values:
            self.errors.append(
                f"{place}.{key}: “{value}” is not one of {', '.join(sorted(values))}."
            )
            return ""
        return value or ""

    def outputs(
        self, document: dict, key: str, *, required: bool = False
    ) -> list[tuple[str, dict]]:
        """A command's output, or a list of them (one per page, lens or pillar)."""
        value = document.get(key)
        if value is None:
            if required:
                self.errors.append(f"{key}: missing (the output of `aws wellarchitected {key}`).")
            return []
        items = value if isinstance(value, list) else [value]
        result = []
        for i, item in enumerate(items):
            place = f"{key}[{i}]" if isinstance(value, list) else key
            if isinstance(item, dict):
                result.append((place, item))
            else:
                self.errors.append(f"{place}: expected an object (a command's output).")
        return result


def _kind(kind: type | tuple) -> str:
    names = {str: "text", list: "a list", dict: "an object", bool: "true or false", int: "a number"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _lens_key(output: dict) -> str:
    """The lens an output is about: AWS's framework by its alias, any other by its ARN."""
    key = output.get("LensArn") or output.get("LensAlias") or ""
    if not isinstance(key, str):
        return ""
    if key == FRAMEWORK_ALIAS or key.endswith(f":lens/{FRAMEWORK_ALIAS}"):
        return FRAMEWORK_ALIAS
    return key


def _summary(check: _Checker, item: dict, place: str, lens: str) -> AwsAnswer | None:
    question = check.get(item, "QuestionId", str, place, required=True)
    if question is None:
        return None
    answer = AwsAnswer(
        place=place,
        lens=lens,
        pillar=check.get(item, "PillarId", str, place) or "",
        question=question,
        selected=check.strings(item, "SelectedChoices", place),
        is_applicable=check.get(item, "IsApplicable", bool, place) is not False,
        reason=check.enum(item, "Reason", REASON_VALUES, place),
        risk=check.enum(item, "Risk", set(Risk.values), place),
    )
    for key in ("ChoiceAnswerSummaries", "ChoiceAnswers"):
        for j, choice in enumerate(check.get(item, key, list, place) or []):
            where = f"{place}.{key}[{j}]"
            if not isinstance(choice, dict):
                check.errors.append(f"{where}: expected an object.")
                continue
            ident = check.get(choice, "ChoiceId", str, where, required=True)
            status = check.enum(choice, "Status", CHOICE_STATUSES, where)
            reason = check.enum(choice, "Reason", REASON_VALUES, where)
            notes = check.get(choice, "Notes", str, where)
            if ident:
                answer.statuses[ident] = (status, reason)
                if notes:
                    answer.choice_notes[ident] = notes
    return answer


def _answers(check: _Checker, document: dict) -> list[AwsAnswer]:
    """Every answer, once per lens and question; get-answer adds the notes."""
    answers: dict[tuple[str, str], AwsAnswer] = {}
    for place, output in check.outputs(document, "list-answers", required=True):
        lens = _lens_key(output)
        if not lens:
            check.errors.append(f"{place}: names no lens (LensAlias or LensArn).")
        for j, item in enumerate(check.get(output, "AnswerSummaries", list, place) or []):
            where = f"{place}.AnswerSummaries[{j}]"
            if not isinstance(item, dict):
                check.errors.append(f"{where}: expected an object.")
                continue
            answer = _summary(check, item, where, lens)
            if answer:
                answers[(lens, answer.question)] = answer
    for place, output in check.outputs(document, "get-answer"):
        lens = _lens_key(output)
        item = check.get(output, "Answer", dict, place, required=True)
        if item is None:
            continue
        detail = _summary(check, item, f"{place}.Answer", lens)
        if detail is None:
            continue
        detail.notes = check.get(item, "Notes", str, f"{place}.Answer") or ""
        summary = answers.get((lens, detail.question))
        if summary is not None:
            # The detail is the fuller answer; anything only the summary names still counts.
            detail.place, detail.pillar = summary.place, detail.pillar or summary.pillar
            detail.selected = list(dict.fromkeys([*detail.selected, *summary.selected]))
            detail.statuses = {**summary.statuses, **detail.statuses}
        answers[(lens, detail.question)] = detail
    return list(answers.values())


@dataclass
class _Document:
    workload: dict
    lens_names: dict[str, str]
    answers: list[AwsAnswer]
    milestones: list[dict]
    has_details: bool


def _checked(document: dict[str, Any]) -> _Document:
    check = _Checker()
    unknown_keys = sorted(set(document) - set(KEYS))
    if unknown_keys:
        check.errors.append(
            f"Unknown keys: {', '.join(unknown_keys)} (expected {', '.join(KEYS)})."
        )
    workload: dict = {}
    outputs = check.outputs(document, "get-workload", required=True)
    if outputs:
        place, output = outputs[0]
        found = check.get(output, "Workload", dict, place, required=True)
        workload = found or {}
        where = f"{place}.Workload"
        if found is not None:
            name = check.get(workload, "WorkloadName", str, where, required=True)
            if name is not None and not name.strip():
                check.errors.append(f"{where}.WorkloadName: empty.")
            for key in ("Description", "ArchitecturalDesign", "ReviewOwner", "WorkloadId"):
                check.get(workload, key, str, where)
            check.enum(workload, "Environment", set(ENVIRONMENTS), where)
            for key in ("AwsRegions", "NonAwsRegions", "PillarPriorities"):
                check.strings(workload, key, where)
    lens_names: dict[str, str] = {}
    for place, output in check.outputs(document, "list-lens-reviews"):
        for j, item in enumerate(check.get(output, "LensReviewSummaries", list, place) or []):
            if isinstance(item, dict) and isinstance(item.get("LensName"), str):
                for key in ("LensArn", "LensAlias"):
                    if isinstance(item.get(key), str):
                        lens_names[item[key]] = item["LensName"]
            elif not isinstance(item, dict):
                check.errors.append(f"{place}.LensReviewSummaries[{j}]: expected an object.")
    lens_names = {
        (FRAMEWORK_ALIAS if key.endswith(f":lens/{FRAMEWORK_ALIAS}") else key): name
        for key, name in lens_names.items()
    }
    answers = _answers(check, document)
    milestones: list[dict] = []
    for place, output in check.outputs(document, "list-milestones"):
        items = check.get(output, "MilestoneSummaries", list, place) or []
        milestones += [item for item in items if isinstance(item, dict)]
    if check.errors:
        raise ImportRefused(check.errors)
    return _Document(workload, lens_names, answers, milestones, "get-answer" in document)


# --- Mapping onto our lenses, questions and choices --------------------------------------------


def _our_lens(key: str, name: str, lens_arns: dict[str, str]) -> Lens | None:
    latest = Lens.objects.latest_versions()
    if key in (FRAMEWORK_ALIAS,) or key.endswith(f":lens/{FRAMEWORK_ALIAS}"):
        return latest.filter(is_framework=True).first()
    for our_name, arn in lens_arns.items():
        if arn == key:
            return latest.filter(name=our_name).first()
    return latest.filter(name=name).first() if name else None


def _guess_type(priorities: list[str]) -> str | None:
    """The workload type whose pillar priority AWS's PillarPriorities follows."""
    for kind, (primary, secondary, _) in PILLAR_PRIORITIES.items():
        if priorities[: len(primary) + len(secondary)] == [*primary, *secondary]:
            return kind
    for kind, (primary, _, _) in PILLAR_PRIORITIES.items():
        if set(priorities[: len(primary)]) == set(primary):
            return kind
    return None


def _owner(team: Team, review_owner: str, fallback: User) -> User:
    if not review_owner:
        return fallback
    membership = (
        Membership.objects.filter(team=team)
        .filter(Q(user__email__iexact=review_owner) | Q(user__username__iexact=review_owner))
        .select_related("user")
        .first()
    )
    return membership.user if membership else fallback


def _workload_upsert(
    *, team: Team, user: User, data: dict, report_warnings: list[str]
) -> tuple[Workload, bool]:
    name = data["WorkloadName"].strip()[:100]
    found = Workload.objects.filter(team=team, name__iexact=name).first()
    created = found is None
    workload = Workload(team=team, name=name, owner=user) if found is None else found
    priorities = data.get("PillarPriorities") or []
    kind = _guess_type(priorities)
    if kind:
        workload.workload_type = kind
    elif created:
        workload.workload_type = WorkloadType.INTERNAL
        report_warnings.append(
            "The pillar priorities there match no workload type here: the new workload is an "
            "internal application; change its type if that is wrong."
        )
    if data.get("Description"):
        workload.description = data["Description"]
    if data.get("Environment"):
        workload.environment = ENVIRONMENTS[data["Environment"]]
    regions = [*(data.get("AwsRegions") or []), *(data.get("NonAwsRegions") or [])]
    if regions:
        workload.regions = [r[:50] for r in dict.fromkeys(regions)]
    design = data.get("ArchitecturalDesign") or ""
    if design:
        try:
            URLValidator(schemes=["http", "https"])(design)
            if len(design) > 500:
                raise ValidationError("too long")
            workload.architecture_url = design
        except ValidationError:
            report_warnings.append(
                "The architectural design link is not an http(s) address of at most 500 "
                "characters: not imported."
            )
    workload.owner = _owner(team, data.get("ReviewOwner") or "", workload.owner or user)
    workload.save()
    return workload, created


def _questions(lens: Lens) -> tuple[dict[tuple[str, str], Question], dict[str, list[Question]]]:
    questions = list(Question.objects.filter(pillar__lens=lens).select_related("pillar"))
    by_pillar = {(q.pillar.ident, q.ident): q for q in questions}
    by_ident: dict[str, list[Question]] = {}
    for q in questions:
        by_ident.setdefault(q.ident, []).append(q)
    return by_pillar, by_ident


# --- The import ---------------------------------------------------------------------------


@transaction.atomic
def aws_import(
    *,
    team: Team,
    user: User,
    document: dict[str, Any],
    lens_arns: dict[str, str] | None = None,
) -> ImportReport:
    """Import a workload's review from the AWS Well-Architected Tool (see the module).
    Raises ImportRefused, with every problem, before writing anything."""
    parsed = _checked(document)
    lens_arns = dict(lens_arns or {})
    warnings: list[str] = []
    unknown: list[str] = []
    # Map the lenses first: a session pins its lenses when it is created.
    lenses: dict[str, Lens] = {}
    for key in dict.fromkeys(a.lens for a in parsed.answers):
        name = parsed.lens_names.get(key, "")
        lens = _our_lens(key, name, lens_arns)
        if lens is None:
            count = sum(a.lens == key for a in parsed.answers)
            unknown.append(
                f"Lens “{name or key}” ({key}): no lens of that name here; its {count} "
                "answers were not imported. Import the lens first, or name it with its ARN."
            )
        else:
            lenses[key] = lens
    workload, created = _workload_upsert(
        team=team, user=user, data=parsed.workload, report_warnings=warnings
    )
    session = session_create(
        workload=workload,
        user=user,
        title=f"{workload.name}: imported from the AWS Well-Architected Tool"[:150],
        kind=SessionKind.PERIODIC,
        review_starts_at=timezone.now(),
        lenses=[lens for lens in lenses.values() if not lens.is_framework],
    )
    report = ImportReport(
        workload=workload,
        session=session,
        workload_created=created,
        unknown=unknown,
        warnings=warnings,
    )
    if not parsed.has_details:
        warnings.append("No get-answer outputs: the notes were not imported.")
    _answers_import(session=session, user=user, parsed=parsed, lenses=lenses, report=report)
    session = report.session = session_move(session=session, user=user, to_phase=Phase.REVIEW)
    milestone = milestone_create(
        workload=workload,
        session=session,
        user=user,
        kind=Milestone.Kind.IMPORTED,
        name=f"Imported from the AWS Well-Architected Tool · {timezone.localdate().isoformat()}",
    )
    milestone.snapshot["aws"] = {
        "workload_id": parsed.workload.get("WorkloadId", ""),
        "workload_arn": parsed.workload.get("WorkloadArn", ""),
        "milestones": [
            {
                "number": m.get("MilestoneNumber"),
                "name": m.get("MilestoneName", ""),
                "recorded_at": str(m.get("RecordedAt", "")),
            }
            for m in parsed.milestones
        ],
    }
    milestone.save(update_fields=["snapshot"])
    report.milestone = milestone
    return report


def _answers_import(
    *,
    session: ReviewSession,
    user: User,
    parsed: _Document,
    lenses: dict[str, Lens],
    report: ImportReport,
) -> None:
    answers = {a.question_id: a for a in Answer.objects.filter(session=session)}
    questions = {key: _questions(lens) for key, lens in lenses.items()}
    selections: list[AnswerChoice] = []
    marks: list[ChoiceNotApplicable] = []
    changes: list[AnswerChange] = []
    updated: list[Answer] = []
    for aws in parsed.answers:
        if aws.lens not in lenses:
            continue
        by_pillar, by_ident = questions[aws.lens]
        question = by_pillar.get((aws.pillar, aws.question))
        if question is None and len(by_ident.get(aws.question, [])) == 1:
            question = by_ident[aws.question][0]
        if question is None:
            report.unknown.append(
                f"{aws.place}: question “{aws.question}” is not in {lenses[aws.lens]}: "
                "not imported."
            )
            continue
        answer = answers.pop(question.pk, None)
        if answer is None:
            report.warnings.append(
                f"{aws.place}: question “{aws.question}” is answered twice in the file; "
                "the first answer was kept."
            )
            continue
        info = question_info(question.pk)
        choices = info.by_ident
        where = f"{aws.place} (question “{aws.question}”)"
        excluded = {
            ident: reason
            for ident, (status, reason) in aws.statuses.items()
            if status == "NOT_APPLICABLE"
        }
        for ident in [*aws.selected, *aws.statuses]:
            if ident not in choices:
                report.unknown.append(
                    f"{where}: choice “{ident}” is not a choice here: not imported."
                )
        for ident in list(excluded):
            if ident in choices and choices[ident].is_none_of_these:
                report.warnings.append(
                    f"{where}: “{choices[ident].title}” is not a best practice: its not "
                    "applicable mark was not imported."
                )
                del excluded[ident]
        excluded = {i: r for i, r in excluded.items() if i in choices}
        selected = [
            c.ident for c in info.choices if c.ident in aws.selected and c.ident not in excluded
        ]
        for ident in excluded:
            notes = aws.choice_notes.get(ident, "")
            if len(notes) > CHOICE_NOTES_MAX_LENGTH:
                report.warnings.append(f"{where}: the note on “{ident}” was cut to 250 characters.")
            marks.append(
                ChoiceNotApplicable(
                    answer=answer,
                    choice_id=choices[ident].id,
                    reason=AWS_REASONS.get(excluded[ident], ""),
                    notes=notes[:CHOICE_NOTES_MAX_LENGTH],
                    marked_by=user,
                )
            )
        selections += [
            AnswerChoice(answer=answer, choice_id=choices[i].id, selected_by=user) for i in selected
        ]
        notes = aws.notes or ""
        if len(notes) > NOTES_MAX_LENGTH:
            report.warnings.append(
                f"{where}: the notes were cut to {NOTES_MAX_LENGTH:,} characters."
            )
            notes = notes[:NOTES_MAX_LENGTH]
        answer.not_applicable = not aws.is_applicable
        answer.not_applicable_reason = (
            AWS_REASONS.get(aws.reason, "") if answer.not_applicable else ""
        )
        ours = info.evaluate(
            set(selected),
            not_applicable=answer.not_applicable,
            not_applicable_choices=set(excluded),
        )
        answer.risk = aws.risk if aws.risk and aws.risk != Risk.UNANSWERED else ours
        if answer.not_applicable:
            answer.risk = Risk.NOT_APPLICABLE
        if answer.risk != ours:
            report.warnings.append(
                f"{where}: {Risk(answer.risk).label.lower()} there; our rules give "
                f"{Risk(ours).label.lower()}. The risk from AWS was kept."
            )
        if answer.risk == Risk.UNANSWERED and not notes and not excluded:
            continue
        answer.notes = notes
        answer.notes_revision += 1 if notes else 0
        answer.updated_by = user
        answer.updated_at = timezone.now()
        updated.append(answer)
        changes.append(
            AnswerChange(
                answer=answer,
                user=user,
                action=AnswerChange.Action.IMPORTED,
                detail=", ".join(choices[i].title for i in selected)[:500],
                risk_after=answer.risk,
            )
        )
    AnswerChoice.objects.bulk_create(selections)
    ChoiceNotApplicable.objects.bulk_create(marks)
    Answer.objects.bulk_update(
        updated,
        [
            "risk",
            "not_applicable",
            "not_applicable_reason",
            "notes",
            "notes_revision",
            "updated_by",
            "updated_at",
        ],
    )
    AnswerChange.objects.bulk_create(changes)
    report.answers = len(updated)
    report.not_applicable_choices = len(marks)
