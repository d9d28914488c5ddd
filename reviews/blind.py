"""Blind rounds: each participant picks privately, then the facilitator reveals everyone's
picks and records the agreed answer."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from questionnaires.risk import next_selection
from questionnaires.structure import question_info
from reviews import events
from reviews.access import Rights, require_open, session_rights
from reviews.answers import answer_set_exact
from reviews.errors import ServiceError
from reviews.eventkinds import EventKind
from reviews.models import (
    Answer,
    BlindPick,
    BlindRound,
    Membership,
    Participant,
    Phase,
    ReviewSession,
)
from reviews.sessions import require_facilitator


def open_round(session: ReviewSession, question_id: int) -> BlindRound | None:
    return (
        BlindRound.objects.filter(session=session, question_id=question_id, closed_at__isnull=True)
        .select_related("opened_by")
        .first()
    )


@transaction.atomic
def blind_open(*, session: ReviewSession, user: User, question_id: int) -> BlindRound:
    require_open(session)
    require_facilitator(session, user)
    try:
        with transaction.atomic():
            round_ = BlindRound.objects.create(
                session=session, question_id=question_id, opened_by=user
            )
    except IntegrityError:
        raise ServiceError("A blind round is already open on this question.") from None
    events.publish_on_commit(
        session.uuid, EventKind.ANSWER, question=question_info(question_id).uuid
    )
    return round_


def _locked_round(round_: BlindRound) -> BlindRound:
    return (
        BlindRound.objects.select_for_update(of=("self",))
        .select_related("session")
        .get(pk=round_.pk)
    )


@transaction.atomic
def blind_pick(*, round_: BlindRound, user: User, choice_ident: str, select: bool) -> BlindPick:
    """Toggle one choice in the user's private pick (saved at once, so nothing is lost if
    their page refreshes)."""
    round_ = _locked_round(round_)
    require_open(round_.session)
    if round_.revealed_at or round_.closed_at:
        raise ServiceError("The picks have been revealed: this round no longer takes picks.")
    info = question_info(round_.question_id)
    session_rights(round_.session, user).require_answer(info)
    if choice_ident not in {c.ident for c in info.choices}:
        raise ServiceError(f"“{choice_ident}” is not a choice of this question.")
    pick, _ = BlindPick.objects.select_for_update().get_or_create(round=round_, user=user)
    chosen = next_selection(
        pick.choices, choice_ident, select=select, none_of_these=info.none_idents
    )
    pick.choices = [c.ident for c in info.choices if c.ident in chosen]
    pick.save(update_fields=["choices", "picked_at"])
    events.publish_on_commit(round_.session.uuid, EventKind.ANSWER, question=info.uuid)
    return pick


@transaction.atomic
def blind_reveal(*, round_: BlindRound, user: User) -> BlindRound:
    round_ = _locked_round(round_)
    require_open(round_.session)
    require_facilitator(round_.session, user)
    if round_.closed_at:
        raise ServiceError("This round is over.")
    if not round_.revealed_at:
        round_.revealed_at = timezone.now()
        round_.save(update_fields=["revealed_at"])
        events.publish_on_commit(
            round_.session.uuid, EventKind.ANSWER, question=question_info(round_.question_id).uuid
        )
    return round_


@transaction.atomic
def blind_agree(*, round_: BlindRound, user: User, selected: set[str]) -> BlindRound:
    """Record the agreed answer as the session's answer and close the round."""
    round_ = _locked_round(round_)
    require_open(round_.session)
    require_facilitator(round_.session, user)
    if not round_.revealed_at or round_.closed_at:
        raise ServiceError("Reveal the picks before recording the agreed answer.")
    info = question_info(round_.question_id)
    unknown = selected - {c.ident for c in info.choices}
    if unknown:
        raise ServiceError(f"Not choices of this question: {', '.join(sorted(unknown))}.")
    answer = Answer.objects.get(session=round_.session, question_id=round_.question_id)
    answer_set_exact(answer=answer, user=user, selected=selected)
    round_.closed_at = timezone.now()
    round_.save(update_fields=["closed_at"])
    events.publish_on_commit(round_.session.uuid, EventKind.ANSWER, question=info.uuid)
    return round_


@transaction.atomic
def blind_cancel(*, round_: BlindRound, user: User) -> None:
    round_ = _locked_round(round_)
    require_open(round_.session)
    require_facilitator(round_.session, user)
    if not round_.closed_at:
        round_.closed_at = timezone.now()
        round_.save(update_fields=["closed_at"])
        events.publish_on_commit(
            round_.session.uuid, EventKind.ANSWER, question=question_info(round_.question_id).uuid
        )


@dataclass
class BlindView:
    """A blind round as one participant may see it."""

    round: BlindRound
    revealed: bool
    my_pick: set[str]
    pickers: list[dict[str, Any]]  # every answering participant: name, picked (bool)
    table: list[dict[str, Any]] = field(default_factory=list)  # after reveal: one row per choice
    agreed_default: set[str] = field(default_factory=set)
    voters: list[dict[str, Any]] = field(default_factory=list)  # after reveal: who picked, in order


def blind_view(round_: BlindRound, user: User) -> BlindView:
    """Who takes part: everyone who may answer the question (and whoever already picked)."""
    picks = {p.user_id: p for p in BlindPick.objects.filter(round=round_)}
    info = question_info(round_.question_id)
    team_role = Membership.objects.filter(
        team__workloads__sessions=OuterRef("session_id"), user_id=OuterRef("user_id")
    ).values("role")[:1]
    participants = [
        p
        for p in Participant.objects.filter(session_id=round_.session_id)
        .select_related("user")
        .annotate(team_role=Subquery(team_role))
        if (p.team_role is not None or p.is_guest)
        and (
            Rights(team_role=p.team_role, session_role=p.role, phase=Phase.REVIEW).may_answer(info)
            or p.user_id in picks
        )
    ]
    pickers: list[dict[str, Any]] = [
        {
            "user_id": p.user_id,
            "name": p.user.get_full_name() or p.user.get_username(),
            "picked": p.user_id in picks and bool(picks[p.user_id].choices),
        }
        for p in participants
    ]
    view = BlindView(
        round=round_,
        revealed=round_.revealed_at is not None,
        my_pick=set(picks[user.pk].choices) if user.pk in picks else set(),
        pickers=pickers,
    )
    if view.revealed:
        info = question_info(round_.question_id)
        voters = [p for p in pickers if p["picked"]]
        counts = Counter(c for uid in (p["user_id"] for p in voters) for c in picks[uid].choices)
        for choice in info.choices:
            marks = [choice.ident in picks[p["user_id"]].choices for p in voters]
            view.table.append(
                {
                    "ident": choice.ident,
                    "title": choice.title,
                    "marks": marks,
                    "count": counts[choice.ident],
                    "disagree": 0 < counts[choice.ident] < len(voters),
                }
            )
        majority = {c for c, n in counts.items() if voters and n * 2 > len(voters)}
        nones = info.none_idents
        view.agreed_default = majority - nones if majority - nones else majority
        view.voters = voters
    return view
