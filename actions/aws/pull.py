"""Read a workload from the AWS Well-Architected Tool into the document the importer takes:
one JSON object whose keys are the `aws wellarchitected` commands and whose values are what
they print (see the README, "Working with the AWS Well-Architected Tool"):

    get-workload       GetWorkload
    list-lens-reviews  ListLensReviews, every page
    list-answers       ListAnswers for every lens, every pillar and every page: a list of outputs
    get-answer         GetAnswer for every question (the summaries carry no notes): a list
    list-milestones    ListMilestones, every page
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from actions.aws.export import Call
from actions.aws.push import PAGE_SIZE, _call


def _plain(value: Any) -> Any:
    """The SDK's output as the CLI prints it: no ResponseMetadata, dates as text."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _pages(client, operation: str, **params: Any) -> list[dict[str, Any]]:
    pages = []
    token = None
    while True:
        page_params = {**params, "MaxResults": PAGE_SIZE}
        if token:
            page_params["NextToken"] = token
        page = _plain(_call(client, Call(operation, page_params, place=operation), page_params))
        pages.append(page)
        token = page.get("NextToken")
        if not token:
            return pages


def _merged(pages: list[dict[str, Any]], key: str) -> dict[str, Any]:
    merged = {k: v for k, v in pages[0].items() if k != "NextToken"}
    merged[key] = [item for page in pages for item in page.get(key, [])]
    return merged


def aws_fetch(*, client, workload_id: str) -> dict[str, Any]:
    """Everything the importer needs about one workload, as the CLI commands print it."""
    get = Call("GetWorkload", {"WorkloadId": workload_id}, place=workload_id)
    document: dict[str, Any] = {"get-workload": _plain(_call(client, get, get.params))}
    reviews = _merged(
        _pages(client, "ListLensReviews", WorkloadId=workload_id), "LensReviewSummaries"
    )
    document["list-lens-reviews"] = reviews
    answers: list[dict[str, Any]] = []
    details: list[dict[str, Any]] = []
    for review in reviews["LensReviewSummaries"]:
        # AWS's own lenses by alias; a custom lens's alias is its ARN.
        alias = review.get("LensAlias") or review["LensArn"]
        pages = _pages(client, "ListAnswers", WorkloadId=workload_id, LensAlias=alias)
        answers += pages
        for page in pages:
            for summary in page.get("AnswerSummaries", []):
                params = {
                    "WorkloadId": workload_id,
                    "LensAlias": alias,
                    "QuestionId": summary["QuestionId"],
                }
                call = Call("GetAnswer", params, place=f"{alias} {summary['QuestionId']}")
                details.append(_plain(_call(client, call, params)))
    document["list-answers"] = answers
    document["get-answer"] = details
    document["list-milestones"] = _merged(
        _pages(client, "ListMilestones", WorkloadId=workload_id), "MilestoneSummaries"
    )
    return document
