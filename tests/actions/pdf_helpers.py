"""Helpers for the action-plan PDF tests: a review with answers, findings, ratings and
actions (built like the benchmark's, smaller), and reading a PDF back."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from actions.models import ActionItem, PlanDocument
from reviews.models import Participant, ReviewSession
from tests.bench.pdf import populate


def plan_session(cast, review: ReviewSession, *, actions: int = 3, answers: int = 12):
    """The cast's review with `answers` questions answered (mixed risks, notes on some),
    its findings rated and `actions` actions owned by Bob and Fay in turn."""
    for user, role in ((cast.member, "workload_owner"), (cast.finance, "finance")):
        Participant.objects.create(session=review, user=user, role=role, confirmed_attendance=True)
    return populate(
        session=review,
        facilitator=cast.admin,
        owners=[cast.member, cast.finance],
        raters={"impact": [cast.member, cast.finance], "effort": [cast.admin]},
        actions=actions,
        answer_limit=answers,
    )


def pending_document(review: ReviewSession, *, version: int = 1, **fields) -> PlanDocument:
    from django.utils import timezone

    return PlanDocument.objects.create(
        session=review, version=version, queued_at=timezone.now(), **fields
    )


def pdf_text(content: bytes) -> str:
    """The PDF's text, whitespace collapsed (table cells wrap names and titles)."""
    reader = PdfReader(io.BytesIO(content))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() or "" for page in reader.pages))


def page_texts(content: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(content))
    return [re.sub(r"\s+", " ", page.extract_text() or "") for page in reader.pages]


def person(user) -> str:
    return user.get_full_name() or user.username


def owners_of(actions: list[ActionItem]) -> set[str]:
    return {person(a.owner) for a in actions if a.owner}
