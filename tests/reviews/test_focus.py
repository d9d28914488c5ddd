"""The focus clock on the session: the time the facilitator's focus stays on a pillar's
questions, during the review itself, counts against that pillar's budget."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from reviews import focus, sessions
from reviews.models import Answer, Phase, PillarBudget


@pytest.fixture
def question(review):
    return Answer.objects.filter(session=review).select_related("question").first().question


def spent(review, question) -> int:
    return PillarBudget.objects.get(session=review, pillar_id=question.pillar_id).spent_seconds


def focus_on(review, question, *, seconds_ago: int, phase: str = Phase.REVIEW):
    review.phase = phase
    review.focus_question = question
    review.focus_since = timezone.now() - timedelta(seconds=seconds_ago)
    review.save(update_fields=["phase", "focus_question", "focus_since"])


def test_the_clock_runs_on_the_focused_pillar_during_the_review(review, question):
    assert review.focus_pillar_id is None, "no focus, no clock"
    focus_on(review, question, seconds_ago=10)
    assert review.focus_pillar_id == question.pillar_id


@pytest.mark.parametrize("phase", [Phase.PREPARATION, Phase.ANALYSIS])
def test_the_clock_stands_still_outside_the_review(review, question, phase):
    focus_on(review, question, seconds_ago=10, phase=phase)
    assert review.focus_pillar_id is None
    review.stop_focus_clock(timezone.now())
    assert spent(review, question) == 0
    assert review.focus_question is None and review.focus_since is None


def test_stopping_the_clock_adds_the_time_to_the_pillar_and_clears_the_focus(review, question):
    focus_on(review, question, seconds_ago=90)
    now = review.focus_since + timedelta(seconds=90)
    review.stop_focus_clock(now)
    assert spent(review, question) == 90
    assert review.focus_question is None and review.focus_since is None
    review.stop_focus_clock(now)  # no focus any more: nothing more is counted
    assert spent(review, question) == 90


def test_moving_the_focus_stops_the_clock_of_the_pillar_left(cast, review, question):
    with time_machine.travel(timezone.now(), tick=False):
        focus_on(review, question, seconds_ago=30)
        review = focus.focus_set(session=review, user=cast.admin, question_id=None)
    assert spent(review, question) == 30
    assert review.focus_question_id is None


def test_budgets_name_the_lens_of_extra_lenses_only(cast, lenses, review):
    assert all(b.label == b.pillar.name for b in focus.budgets(review)), "one lens: pillar names"
    several = sessions.session_create(
        workload=cast.workload,
        user=cast.admin,
        title="With the Serverless Lens",
        kind="periodic",
        review_starts_at=timezone.now() + timedelta(days=10),
        lenses=[lenses["Serverless Lens"]],
    )
    labels = {(b.pillar.lens.is_framework, b.pillar.name): b.label for b in focus.budgets(several)}
    assert labels[(True, "Security")] == "Security"
    assert labels[(False, "Security")] == "Security (Serverless Lens)"
