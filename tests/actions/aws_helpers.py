"""A stubbed AWS Well-Architected Tool for the tests: botocore clients with a Stubber, which
checks every request and every canned response against the service model botocore ships,
and the responses of a workload there built from our own lens rows."""

from __future__ import annotations

from typing import Any

import botocore.session
from botocore.stub import Stubber

from questionnaires.models import Lens, Question

WORKLOAD_ID = "0123456789abcdef0123456789abcdef"
WORKLOAD_ARN = f"arn:aws:wellarchitected:us-east-1:123456789012:workload/{WORKLOAD_ID}"
CUSTOM_ARN = "arn:aws:wellarchitected:us-east-1:123456789012:lens/0a1b2c3d4e5f60718293a4b5c6d7e8f9"


def stubbed_client() -> tuple[Any, Stubber]:
    client = botocore.session.get_session().create_client(
        "wellarchitected",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return client, Stubber(client)


def questions(lens: Lens) -> list[Question]:
    return list(
        Question.objects.filter(pillar__lens=lens)
        .select_related("pillar")
        .prefetch_related("choices")
        .order_by("pillar__order", "order")
    )


def summary(question: Question, **answer: Any) -> dict[str, Any]:
    """An AnswerSummary of one of our questions as AWS lists it."""
    return {
        "QuestionId": question.ident,
        "PillarId": question.pillar.ident,
        "QuestionTitle": question.title[:128],
        "Choices": [{"ChoiceId": c.ident, "Title": c.title} for c in question.choices.all()],
        "SelectedChoices": [],
        "ChoiceAnswerSummaries": [],
        "IsApplicable": True,
        "Risk": "UNANSWERED",
        **answer,
    }


def stub_pages(
    stub: Stubber,
    method: str,
    key: str,
    items: list[dict],
    expected: dict,
    *,
    size: int,
    extra: dict | None = None,
) -> None:
    """Queue a listing served in pages of `size`, each asking for the next with NextToken."""
    chunks = [items[i : i + size] for i in range(0, len(items), size)] or [[]]
    for n, chunk in enumerate(chunks):
        response = {key: chunk, **(extra or {})}
        if n + 1 < len(chunks):
            response["NextToken"] = f"page{n + 2}"
        params = {**expected, "MaxResults": 50}
        if n:
            params["NextToken"] = f"page{n + 1}"
        stub.add_response(method, response, params)
