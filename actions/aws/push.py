"""Run a PushPlan (export.py) against the AWS Well-Architected Tool with a boto3 client.

1. Find the workload by name (ListWorkloads, every page) or create it (CreateWorkload, with
   a token fixed per workload, so that a retried or repeated push never makes a second one).
   An existing workload gets the lenses it lacks (GetWorkload, AssociateLenses).
2. List each lens's questions there (ListAnswers, every page): a question or a choice with
   no counterpart in the account's lens is reported and left out, never sent blind.
3. UpdateAnswer for each answered question, UpdateLensReview for each lens, CreateMilestone
   (a milestone of that name, from an earlier push the same day, is reported, not an error).

The client does its own retries (the SDK's standard mode, client.py); any other error stops
the push with AwsError, saying which call failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from actions.aws.export import WORKLOAD_ID, Call, PushPlan
from reviews.errors import ServiceError

PAGE_SIZE = 50


class AwsError(ServiceError):
    """A call to the AWS Well-Architected Tool failed (after the SDK's retries)."""


@dataclass
class PushResult:
    workload_id: str
    created: bool
    updated: list[str] = field(default_factory=list)
    not_exported: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    milestone_number: int | None = None


def _call(client, call: Call, params: dict[str, Any]) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    method = getattr(client, _snake(call.operation))
    try:
        return method(**params)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise AwsError(
            f"{call.operation} ({call.place or 'no detail'}) failed: "
            f"{error.get('Code', 'error')}: {error.get('Message', str(exc))}"
        ) from exc
    except BotoCoreError as exc:
        raise AwsError(f"{call.operation} ({call.place or 'no detail'}) failed: {exc}") from exc


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


def _pages(client, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a listing, following NextToken."""
    items: list[dict[str, Any]] = []
    token = None
    while True:
        page_params = {**params, "MaxResults": PAGE_SIZE}
        if token:
            page_params["NextToken"] = token
        page = _call(client, Call(operation, page_params, place=key), page_params)
        items += page.get(key, [])
        token = page.get("NextToken")
        if not token:
            return items


def workload_find(client, name: str) -> str | None:
    """The id of the workload with this name (AWS compares names without case), or None."""
    for summary in _pages(
        client, "ListWorkloads", "WorkloadSummaries", WorkloadNamePrefix=name[:100]
    ):
        if summary.get("WorkloadName", "").casefold() == name.casefold():
            return summary["WorkloadId"]
    return None


def lens_questions(client, workload_id: str, alias: str) -> dict[str, set[str]]:
    """The questions of a lens in the workload there: question id -> its choice ids."""
    answers = _pages(
        client, "ListAnswers", "AnswerSummaries", WorkloadId=workload_id, LensAlias=alias
    )
    return {
        a["QuestionId"]: {c["ChoiceId"] for c in a.get("Choices", []) if "ChoiceId" in c}
        for a in answers
    }


def _with_id(params: dict[str, Any], workload_id: str) -> dict[str, Any]:
    return {k: (workload_id if v == WORKLOAD_ID else v) for k, v in params.items()}


def _answer_params(
    call: Call, known: set[str], workload_id: str, result: PushResult
) -> dict[str, Any]:
    """The call's parameters without the choices the lens there does not have (reported)."""
    params = _with_id(call.params, workload_id)
    missing = [c for c in call.choice_ids if c not in known]
    if missing:
        result.not_exported.append(
            f"{call.place}: no such choice in the lens there: {', '.join(missing)}."
        )
        params["SelectedChoices"] = [c for c in params["SelectedChoices"] if c in known]
        if "ChoiceUpdates" in params:
            updates = {k: v for k, v in params["ChoiceUpdates"].items() if k in known}
            if updates:
                params["ChoiceUpdates"] = updates
            else:
                del params["ChoiceUpdates"]
    return params


def aws_push(*, client, plan: PushPlan) -> PushResult:
    """Recreate the planned session in the AWS Well-Architected Tool (see the module)."""
    workload_id = workload_find(client, plan.workload_name)
    result = PushResult(
        workload_id=workload_id or "",
        created=workload_id is None,
        not_exported=list(plan.not_exported),
        warnings=list(plan.warnings),
    )
    if workload_id is None:
        created = _call(client, plan.create_workload, plan.create_workload.params)
        workload_id = result.workload_id = created["WorkloadId"]
    else:
        get = Call("GetWorkload", {"WorkloadId": workload_id}, place=plan.workload_name)
        present = set(_call(client, get, get.params)["Workload"].get("Lenses", []))
        lacking = [alias for alias in plan.lens_aliases if alias not in present]
        if lacking:
            associate = Call(
                "AssociateLenses",
                {"WorkloadId": workload_id, "LensAliases": lacking},
                place=plan.workload_name,
            )
            _call(client, associate, associate.params)
    questions = {alias: lens_questions(client, workload_id, alias) for alias in plan.lens_aliases}
    for call in plan.answers:
        known = questions[call.lens_alias]
        if call.question_id not in known:
            result.not_exported.append(f"{call.place}: no such question in the lens there.")
            continue
        _call(client, call, _answer_params(call, known[call.question_id], workload_id, result))
        result.updated.append(call.place)
    for call in plan.lens_notes:
        _call(client, call, _with_id(call.params, workload_id))
    try:
        milestone = _call(client, plan.milestone, _with_id(plan.milestone.params, workload_id))
    except AwsError as exc:
        if "ConflictException" not in str(exc):
            raise
        result.warnings.append(
            f"A milestone named “{plan.milestone.params['MilestoneName']}” exists there "
            "already: no new one was made."
        )
    else:
        result.milestone_number = milestone.get("MilestoneNumber")
    return result
