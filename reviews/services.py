"""Work on teams, workloads and reviews that spans several rows: one transaction each."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from questionnaires.models import Lens, Question
from reviews.models import (
    Answer,
    Membership,
    Participant,
    ParticipantRole,
    Phase,
    PhaseChange,
    PillarBudget,
    ReviewSession,
    SessionLens,
    Team,
    Workload,
)


class ServiceError(ValueError):
    """A request that the rules refuse; the message says why, for the person who asked."""


@transaction.atomic
def team_create(*, name: str, user) -> Team:
    team = Team.objects.create(name=name)
    Membership.objects.create(team=team, user=user, role=Membership.Role.ADMIN)
    return team


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str) -> Membership:
    if membership.role == Membership.Role.ADMIN and role != Membership.Role.ADMIN:
        _keep_an_admin(membership)
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    if membership.role == Membership.Role.ADMIN:
        _keep_an_admin(membership)
    membership.delete()


def _keep_an_admin(membership: Membership) -> None:
    admins = Membership.objects.select_for_update().filter(
        team_id=membership.team_id, role=Membership.Role.ADMIN
    )
    if not admins.exclude(pk=membership.pk).exists():
        raise ServiceError("A team needs at least one admin: make someone else admin first.")


# --- Review sessions -------------------------------------------------------------------------

PREPARATION_DAYS = 14  # the seeds: preparation takes one to two weeks
ANALYSIS_DAYS = 7  # analysis within a week of the review
ACTION_PLAN_DAYS = 14  # the action plan within two weeks after the analysis


def plan_dates(review_starts_at: datetime, *, preparation_days: int = PREPARATION_DAYS) -> dict:
    """Each phase's planned dates around the review itself, from the seeds' cadence."""
    review_day = timezone.localdate(review_starts_at)
    analysis = review_day + timedelta(days=ANALYSIS_DAYS)
    return {
        "preparation_starts_on": review_day - timedelta(days=preparation_days),
        "analysis_due_on": analysis,
        "action_plan_due_on": analysis + timedelta(days=ACTION_PLAN_DAYS),
    }


@transaction.atomic
def session_create(
    *,
    workload: Workload,
    user,
    title: str,
    kind: str,
    review_starts_at: datetime,
    lenses: Iterable[Lens] = (),
    review_duration_minutes: int = 300,
    **dates,
) -> ReviewSession:
    """Create a review session in preparation, with the framework lens first and the chosen
    lenses after it (each pinned to its current version), an empty answer for every
    question, a time budget per pillar and the creator as facilitator."""
    framework = Lens.objects.filter(is_framework=True).order_by("-version").first()
    chosen = [framework] if framework else []
    chosen += [lens for lens in lenses if lens not in chosen]
    if not chosen:
        raise ServiceError("No lens is loaded: run `python manage.py load_lenses` first.")
    planned = plan_dates(review_starts_at)
    planned.update({key: value for key, value in dates.items() if value})
    session = ReviewSession.objects.create(
        workload=workload,
        title=title,
        kind=kind,
        review_starts_at=review_starts_at,
        review_duration_minutes=review_duration_minutes,
        created_by=user,
        **planned,
    )
    SessionLens.objects.bulk_create(
        SessionLens(session=session, lens=lens, order=i) for i, lens in enumerate(chosen)
    )
    questions = list(
        Question.objects.filter(pillar__lens__in=chosen)
        .select_related("pillar")
        .order_by("pillar__lens_id", "pillar__order", "order")
    )
    Answer.objects.bulk_create(Answer(session=session, question=q) for q in questions)
    per_pillar: dict[int, int] = {}
    for q in questions:
        per_pillar[q.pillar_id] = per_pillar.get(q.pillar_id, 0) + 1
    minutes_per_question = review_duration_minutes / max(len(questions), 1)
    PillarBudget.objects.bulk_create(
        PillarBudget(
            session=session,
            pillar_id=pillar_id,
            minutes=max(1, round(count * minutes_per_question)),
        )
        for pillar_id, count in per_pillar.items()
    )
    Participant.objects.create(session=session, user=user, role=ParticipantRole.FACILITATOR)
    PhaseChange.objects.create(session=session, from_phase="", to_phase=Phase.PREPARATION, by=user)
    return session
