"""The calls that recreate a review session in the AWS Well-Architected Tool.

`plan_build` reads the session and returns a PushPlan: CreateWorkload (run only when no
workload of that name exists), one UpdateAnswer per answered question, one UpdateLensReview
per lens (the review's context as lens notes) and CreateMilestone. It calls nothing: the
download from the session page is this plan as JSON, and push.py runs it.

Mapping:
- The framework lens goes to the `wellarchitected` lens by its ids. Any other lens (the
  built-in Serverless and SaaS lenses are our own words, with our own ids) maps through the
  ARN of a lens that already exists in the AWS account, given by its name; a lens without
  one has no counterpart and every answered question in it is reported as not exported.
- Notes longer than AWS's 2,084 characters are cut, with a visible marker and a warning.
- A question that does not apply is sent as IsApplicable false with its reason; a best
  practice that does not apply as a ChoiceUpdate NOT_APPLICABLE with its reason and notes.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from actions.aws import FRAMEWORK_ALIAS, NOTES_MAX_LENGTH
from questionnaires.models import Lens, Risk
from reviews.errors import ServiceError
from reviews.models import (
    Answer,
    AnswerChoice,
    ChoiceNotApplicable,
    Participant,
    ReviewSession,
    SessionLens,
    Workload,
)

FORMAT = "pillarwise-aws-push"
FORMAT_VERSION = 1
# Stands for the id of the workload (created or found) in the calls of a download.
WORKLOAD_ID = "${WorkloadId}"
CUT_MARKER = "\n\n[Cut to fit the AWS Well-Architected Tool: the full notes are in Pillarwise.]"
REASONS = {
    "out_of_scope": "OUT_OF_SCOPE",
    "business_priorities": "BUSINESS_PRIORITIES",
    "architecture_constraints": "ARCHITECTURE_CONSTRAINTS",
    "other": "OTHER",
}
ENVIRONMENTS = {
    Workload.Environment.PRODUCTION: "PRODUCTION",
    Workload.Environment.PREPRODUCTION: "PREPRODUCTION",
}
# eu-west-1, us-gov-east-1, ap-southeast-3 ... anything else is a region outside AWS.
AWS_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
LENS_ARN_RE = re.compile(r"^arn:aws[a-z-]*:wellarchitected:[a-z0-9-]+:\d{12}:lens/[A-Za-z0-9]+$")
MAX_AWS_REGIONS = 50
MAX_OTHER_REGIONS = 5
OTHER_REGION_LENGTH = (3, 25)


@dataclass
class Call:
    """One API call: the operation and its parameters, plus what it is about (for reports
    and for checking the question and its choices against the lens in the account)."""

    operation: str
    params: dict[str, Any]
    place: str = ""
    lens_alias: str = ""
    question_id: str = ""
    choice_ids: list[str] = field(default_factory=list)


@dataclass
class PushPlan:
    session_uuid: str
    workload_name: str
    create_workload: Call
    lens_aliases: list[str]
    answers: list[Call]
    lens_notes: list[Call]
    milestone: Call
    warnings: list[str] = field(default_factory=list)
    not_exported: list[str] = field(default_factory=list)

    def calls(self) -> list[Call]:
        return [self.create_workload, *self.answers, *self.lens_notes, self.milestone]

    def as_json(self) -> dict[str, Any]:
        """The download: every call in order, and what could not be exported."""
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "session": self.session_uuid,
            "workload": self.workload_name,
            "note": (
                "CreateWorkload runs only when no workload of this name exists; "
                f"{WORKLOAD_ID} stands for the id of the workload created or found."
            ),
            "warnings": self.warnings,
            "not_exported": self.not_exported,
            "calls": [
                {k: v for k, v in asdict(call).items() if k in ("operation", "params", "place")}
                for call in self.calls()
            ],
        }


def cut_notes(text: str, limit: int = NOTES_MAX_LENGTH) -> tuple[str, bool]:
    """The text within `limit` characters; when cut, it ends with a visible marker."""
    text = text.replace("\r\n", "\n")
    if len(text) <= limit:
        return text, False
    return text[: limit - len(CUT_MARKER)].rstrip() + CUT_MARKER, True


def parse_lens_arns(pairs: list[str]) -> dict[str, str]:
    """`NAME=ARN` pairs (the command's --lens-arn) as {lens name: ARN}."""
    result: dict[str, str] = {}
    for pair in pairs:
        name, sep, arn = pair.rpartition("=")
        if not sep or not name.strip():
            raise ServiceError(f"“{pair}”: give a lens as NAME=ARN.")
        result[name.strip()] = arn.strip()
    return result


def _check_arns(lenses: list[Lens], lens_arns: dict[str, str]) -> None:
    names = {lens.name for lens in lenses}
    for name, arn in lens_arns.items():
        if name not in names:
            raise ServiceError(f"This review has no lens named “{name}”.")
        if not LENS_ARN_RE.match(arn):
            raise ServiceError(
                f"“{arn}” is not the ARN of a lens (arn:aws:wellarchitected:REGION:ACCOUNT:lens/ID)."
            )


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def _regions(workload: Workload, warnings: list[str]) -> dict[str, list[str]]:
    aws = [r for r in workload.regions if AWS_REGION_RE.match(r)]
    other = [r for r in workload.regions if not AWS_REGION_RE.match(r)]
    low, high = OTHER_REGION_LENGTH
    fitting = [r for r in other if low <= len(r) <= high]
    if len(fitting) < len(other):
        warnings.append(
            f"Regions outside AWS must be {low} to {high} characters; left out: "
            + ", ".join(r for r in other if r not in fitting)
            + "."
        )
    if len(fitting) > MAX_OTHER_REGIONS:
        warnings.append(
            f"AWS takes at most {MAX_OTHER_REGIONS} regions outside AWS; left out: "
            + ", ".join(fitting[MAX_OTHER_REGIONS:])
            + "."
        )
    result: dict[str, list[str]] = {}
    if aws:
        result["AwsRegions"] = aws[:MAX_AWS_REGIONS]
    if fitting:
        result["NonAwsRegions"] = fitting[:MAX_OTHER_REGIONS]
    if not result:
        warnings.append("The workload names no region: AWS asks for one, so none is sent.")
    return result


def _workload_call(workload: Workload, aliases: list[str], warnings: list[str]) -> Call:
    name = workload.name if len(workload.name) >= 3 else f"{workload.name} workload"
    description = workload.description.strip() or (
        f"{workload.name}: {workload.get_workload_type_display()}"
    )
    if len(description) > 250:
        warnings.append("The description was cut to AWS's 250 characters.")
        description = description[:249].rstrip() + "…"
    if len(description) < 3:
        description = f"{description} workload"
    owner = workload.owner
    review_owner = (owner.email or _person(owner)) if owner else ""
    params: dict[str, Any] = {
        "WorkloadName": name,
        "Description": description,
        "Environment": ENVIRONMENTS.get(Workload.Environment(workload.environment), "PRODUCTION"),
        "Lenses": aliases,
        "PillarPriorities": [pillar for pillar, _, _ in workload.pillar_priority()],
        # The same workload always sends the same token: AWS then never creates it twice.
        "ClientRequestToken": f"pillarwise-workload-{workload.uuid}",
        **_regions(workload, warnings),
    }
    if len(review_owner) >= 3:
        params["ReviewOwner"] = review_owner[:255]
    if workload.architecture_url:
        params["ArchitecturalDesign"] = workload.architecture_url
    return Call("CreateWorkload", params, place=f"Workload “{workload.name}”")


def _answers(session: ReviewSession) -> list[Answer]:
    """The answered questions (a risk, a best practice marked not applicable or notes)."""
    answers = (
        Answer.objects.filter(session=session)
        .select_related("question__pillar__lens")
        .prefetch_related(
            Prefetch(
                "selections",
                queryset=AnswerChoice.objects.select_related("choice").order_by("choice__order"),
            ),
            Prefetch(
                "choice_exclusions",
                queryset=ChoiceNotApplicable.objects.select_related("choice").order_by(
                    "choice__order"
                ),
            ),
        )
    )
    result = [
        answer
        for answer in answers
        if answer.risk != Risk.UNANSWERED or answer.notes.strip() or answer.choice_exclusions.all()
    ]
    lens_order = dict(SessionLens.objects.filter(session=session).values_list("lens_id", "order"))
    result.sort(
        key=lambda a: (
            lens_order.get(a.question.pillar.lens_id, 0),
            a.question.pillar.order,
            a.question.order,
        )
    )
    return result


def _answer_call(answer: Answer, alias: str, place: str, warnings: list[str]) -> Call:
    selected = [s.choice.ident for s in answer.selections.all()]
    params: dict[str, Any] = {
        "WorkloadId": WORKLOAD_ID,
        "LensAlias": alias,
        "QuestionId": answer.question.ident,
        "SelectedChoices": selected,
        "IsApplicable": not answer.not_applicable,
    }
    if answer.not_applicable:
        params["Reason"] = REASONS.get(answer.not_applicable_reason, "NONE")
    updates = {}
    for mark in answer.choice_exclusions.all():
        update = {"Status": "NOT_APPLICABLE", "Reason": REASONS.get(mark.reason, "NONE")}
        if mark.notes:
            update["Notes"] = mark.notes
        updates[mark.choice.ident] = update
    if updates:
        params["ChoiceUpdates"] = updates
    notes, cut = cut_notes(answer.notes)
    if cut:
        warnings.append(
            f"{place}: the notes were cut from {len(answer.notes):,} to "
            f"{NOTES_MAX_LENGTH:,} characters, ending with a marker."
        )
    params["Notes"] = notes
    return Call(
        "UpdateAnswer",
        params,
        place=place,
        lens_alias=alias,
        question_id=answer.question.ident,
        choice_ids=[*selected, *updates],
    )


def _lens_notes(session: ReviewSession) -> str:
    people = Participant.objects.filter(session=session).select_related("user")
    who = "; ".join(f"{_person(p.user)} ({p.get_role_display().lower()})" for p in people)
    when = (
        timezone.localtime(session.review_starts_at).strftime("%d %B %Y")
        if session.review_starts_at
        else "not scheduled"
    )
    text = (
        f"Reviewed with Pillarwise: “{session.title}” ({session.get_kind_display()}), "
        f"held {when}, now in {session.get_phase_display().lower()}.\nParticipants: {who or 'none'}."
    )
    return cut_notes(text)[0]


def plan_build(
    *, session: ReviewSession, lens_arns: dict[str, str] | None = None, today: date | None = None
) -> PushPlan:
    """The calls that recreate the session in the AWS Well-Architected Tool (nothing is
    called). Raises ServiceError for a lens ARN that names no lens of the review or is not
    an ARN."""
    lens_arns = dict(lens_arns or {})
    session = ReviewSession.objects.select_related("workload__owner").get(pk=session.pk)
    workload = session.workload
    lenses = [sl.lens for sl in SessionLens.objects.filter(session=session).select_related("lens")]
    _check_arns(lenses, lens_arns)
    alias_of: dict[int, str] = {}
    for lens in lenses:
        if lens.is_framework:
            alias_of[lens.pk] = FRAMEWORK_ALIAS
        elif lens.name in lens_arns:
            alias_of[lens.pk] = lens_arns[lens.name]
    aliases = list(dict.fromkeys(alias_of.values()))
    warnings: list[str] = []
    not_exported: list[str] = []
    create = _workload_call(workload, aliases, warnings)
    calls: list[Call] = []
    for answer in _answers(session):
        question = answer.question
        lens = question.pillar.lens
        place = f"{lens.name} / {question.pillar.name} / {question.ident}: {question.title}"
        alias = alias_of.get(lens.pk)
        if alias is None:
            not_exported.append(
                f"{place}: the lens “{lens.name}” has no counterpart (give the ARN of the "
                "lens in your AWS account)."
            )
            continue
        calls.append(_answer_call(answer, alias, place, warnings))
    notes = _lens_notes(session)
    lens_notes = [
        Call(
            "UpdateLensReview",
            {"WorkloadId": WORKLOAD_ID, "LensAlias": alias, "LensNotes": notes},
            place=f"Lens {alias}",
            lens_alias=alias,
        )
        for alias in aliases
    ]
    day = (today or timezone.localdate()).isoformat()
    milestone_name = f"{session.title[: 100 - len(day) - 3]} · {day}"
    milestone = Call(
        "CreateMilestone",
        {
            "WorkloadId": WORKLOAD_ID,
            "MilestoneName": milestone_name if len(milestone_name) >= 3 else f"Review {day}",
            "ClientRequestToken": f"pillarwise-milestone-{session.uuid}-{day}",
        },
        place="Milestone",
    )
    return PushPlan(
        session_uuid=str(session.uuid),
        workload_name=create.params["WorkloadName"],
        create_workload=create,
        lens_aliases=aliases,
        answers=calls,
        lens_notes=lens_notes,
        milestone=milestone,
        warnings=warnings,
        not_exported=not_exported,
    )
