"""Helpers for the analysis, plan, milestone and dashboard tests: answers with a given
risk, participants in each role, and findings ready to rate."""

from __future__ import annotations

import re

from actions import findings
from actions.models import Finding
from reviews.answers import answer_set_exact
from reviews.models import Answer, Participant, Phase, ReviewSession
from tests.conftest import make_user


def framework_answer(review: ReviewSession, ident: str) -> Answer:
    return review.answers.select_related("question").get(
        question__ident=ident, question__pillar__lens__is_framework=True
    )


def selection_for(answer: Answer, risk: str) -> set[str]:
    """A selection of the answer's question that gives `risk` (HIGH, MEDIUM or NONE)."""
    question = answer.question
    choices = list(question.choices.order_by("order"))
    if risk == "HIGH":
        return {c.ident for c in choices if c.is_none_of_these}
    if risk == "NONE":
        return {c.ident for c in choices if not c.is_none_of_these}
    rule = question.risk_rules.get(risk=risk)
    if rule.condition.strip() == "default":
        return {c.ident for c in choices if c.is_none_of_these}
    known = {c.ident for c in choices}
    return {token for token in re.findall(r"[\w-]+", rule.condition) if token in known}


def set_risk(review: ReviewSession, ident: str, risk: str, user) -> Answer:
    """Give an answer a risk, as if it had been answered during the review (answers are
    closed in later phases, so the answer is written in a copy of the session in review)."""
    answer = framework_answer(review, ident)
    answer.session = ReviewSession.objects.get(pk=review.pk)
    answer.session.phase = Phase.REVIEW
    answer_set_exact(answer=answer, user=user, selected=selection_for(answer, risk))
    answer.refresh_from_db()
    assert answer.risk == risk, (ident, risk, answer.risk)
    return answer


def move_to(review: ReviewSession, phase: str) -> ReviewSession:
    ReviewSession.objects.filter(pk=review.pk).update(phase=phase)
    review.refresh_from_db()
    return review


def join(review: ReviewSession, user, role: str, **extra) -> Participant:
    participant, _ = Participant.objects.update_or_create(
        session=review, user=user, defaults={"role": role, **extra}
    )
    return participant


def operations_engineer(cast, username: str = "omar"):
    """A team member who takes part in the review as operations."""
    from reviews.models import Membership

    user = make_user(username, first_name=username.capitalize(), last_name="Ops")
    Membership.objects.create(team=cast.team, user=user, role=Membership.Role.MEMBER)
    return user


def analysed(review: ReviewSession, cast, risks: dict[str, str] | None = None) -> list[Finding]:
    """The review in analysis with the given answers (question ident -> risk) and its
    findings synced; by default two findings: a high reliability one and a medium
    security one."""
    risks = risks or {"manage-service-limits": "HIGH", "identities": "MEDIUM"}
    for ident, risk in risks.items():
        set_risk(review, ident, risk, cast.admin)
    move_to(review, Phase.ANALYSIS)
    findings.findings_sync(session=review)
    return list(findings.findings_ordered(review))
