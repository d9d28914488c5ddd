"""The live session: facilitator focus and pillar timers, presence, blind rounds, the parking
lot, and the read models the live page is drawn from.

Every change commits first, then publishes a small event (reviews.events) so that every open
page re-fetches the fragment that changed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.urls import reverse
from django.utils import timezone

from questionnaires.models import Risk
from questionnaires.structure import question_info
from reviews import events
from reviews.models import (
    Answer,
    AnswerChoice,
    BlindPick,
    BlindRound,
    ParkingLotItem,
    Participant,
    ParticipantRole,
    Phase,
    PillarBudget,
    Presence,
    ReviewSession,
    SessionLens,
)
from reviews.services import ServiceError, _stop_focus_clock, answer_set_exact

PRESENCE_WINDOW = timedelta(seconds=45)


def _publish(session: ReviewSession, kind: str, **data) -> None:
    session_uuid = session.uuid
    transaction.on_commit(lambda: events.publish(session_uuid, kind, **data))


# --- Reading the session for the live page ------------------------------------------------


@dataclass
class PillarNav:
    id: int
    name: str
    lens_name: str
    questions: list[dict] = field(default_factory=list)
    answered: int = 0
    high: int = 0
    medium: int = 0

    @property
    def total(self) -> int:
        return len(self.questions)

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.total) if self.total else 0


def session_outline(session: ReviewSession) -> list[PillarNav]:
    """Every pillar of the session's lenses, in order, with its questions' risks: the left
    column of the live page (one query)."""
    lens_order = dict(SessionLens.objects.filter(session=session).values_list("lens_id", "order"))
    rows = (
        Answer.objects.filter(session=session)
        .values(
            "risk",
            "question_id",
            "question__uuid",
            "question__title",
            "question__order",
            "question__pillar_id",
            "question__pillar__name",
            "question__pillar__order",
            "question__pillar__lens_id",
            "question__pillar__lens__name",
        )
        .order_by()
    )
    pillars: dict[int, PillarNav] = {}
    for row in sorted(
        rows,
        key=lambda r: (
            lens_order.get(r["question__pillar__lens_id"], 99),
            r["question__pillar__order"],
            r["question__order"],
        ),
    ):
        pillar = pillars.get(row["question__pillar_id"])
        if pillar is None:
            pillar = pillars[row["question__pillar_id"]] = PillarNav(
                id=row["question__pillar_id"],
                name=row["question__pillar__name"],
                lens_name=row["question__pillar__lens__name"],
            )
        pillar.questions.append(
            {
                "id": row["question_id"],
                "uuid": row["question__uuid"],
                "title": row["question__title"],
                "risk": row["risk"],
            }
        )
        if row["risk"] != Risk.UNANSWERED:
            pillar.answered += 1
        pillar.high += row["risk"] == Risk.HIGH
        pillar.medium += row["risk"] == Risk.MEDIUM
    return list(pillars.values())


def neighbours(outline: list[PillarNav], question_id: int) -> tuple[dict | None, dict | None]:
    flat = [q for pillar in outline for q in pillar.questions]
    for i, q in enumerate(flat):
        if q["id"] == question_id:
            return (flat[i - 1] if i else None, flat[i + 1] if i + 1 < len(flat) else None)
    return None, None


def selected_idents(answer: Answer) -> set[str]:
    return set(AnswerChoice.objects.filter(answer=answer).values_list("choice__ident", flat=True))


# --- Facilitator focus and pillar timers --------------------------------------------------------


def _require_facilitator(session: ReviewSession, user) -> None:
    if not Participant.objects.filter(
        session=session, user=user, role=ParticipantRole.FACILITATOR
    ).exists():
        raise ServiceError("Only the facilitator can do this.")


@transaction.atomic
def focus_set(*, session: ReviewSession, user, question_id: int | None) -> ReviewSession:
    """Point everyone who follows at a question (None: stop). The time the focus stays on a
    pillar's questions during the review counts against that pillar's budget."""
    session = ReviewSession.objects.select_for_update(of=("self",)).get(pk=session.pk)
    _require_facilitator(session, user)
    if (
        question_id is not None
        and not Answer.objects.filter(session=session, question_id=question_id).exists()
    ):
        raise ServiceError("That question is not part of this review.")
    now = timezone.now()
    _stop_focus_clock(session, now)
    if question_id is not None:
        session.focus_question_id = question_id
        session.focus_since = now
    session.save(update_fields=["focus_question", "focus_since"])
    url = (
        reverse("reviews:question", args=[session.uuid, question_info(question_id).uuid])
        if question_id
        else ""
    )
    _publish(
        session,
        "focus",
        question=question_info(question_id).uuid if question_id else "",
        url=url,
    )
    return session


@dataclass
class PillarTimer:
    pillar_id: int
    name: str
    minutes: int
    spent_seconds: int
    running_since: float | None  # epoch seconds while the focus is on this pillar

    @property
    def over(self) -> bool:
        return self.minutes > 0 and self.spent_seconds > self.minutes * 60


def budgets(session: ReviewSession) -> list[PillarBudget]:
    """The session's pillar budgets in lens and pillar order; `label` names the lens too
    when the session has several."""
    rows = list(PillarBudget.objects.filter(session=session).select_related("pillar__lens"))
    order = dict(SessionLens.objects.filter(session=session).values_list("lens_id", "order"))
    rows.sort(key=lambda b: (order.get(b.pillar.lens_id, 99), b.pillar.order))
    several = len(order) > 1
    for budget in rows:
        budget.label = (
            f"{budget.pillar.name} ({budget.pillar.lens.name})"
            if several and not budget.pillar.lens.is_framework
            else budget.pillar.name
        )
    return rows


def timers(session: ReviewSession) -> list[PillarTimer]:
    running_pillar = (
        question_info(session.focus_question_id).pillar_id
        if session.focus_question_id and session.focus_since and session.phase == Phase.REVIEW
        else None
    )
    now = timezone.now()
    result = []
    for budget in budgets(session):
        spent = budget.spent_seconds
        since = None
        if budget.pillar_id == running_pillar:
            spent += int((now - session.focus_since).total_seconds())
            since = session.focus_since.timestamp()
        result.append(PillarTimer(budget.pillar_id, budget.label, budget.minutes, spent, since))
    return result


# --- Presence --------------------------------------------------------------------------------


def presence_connect(*, session: ReviewSession, user) -> None:
    now = timezone.now()
    with transaction.atomic():
        updated = Presence.objects.filter(session=session, user=user).update(
            streams=F("streams") + 1, last_seen=now
        )
        if not updated:
            try:
                with transaction.atomic():
                    Presence.objects.create(session=session, user=user, last_seen=now, streams=1)
            except IntegrityError:
                Presence.objects.filter(session=session, user=user).update(
                    streams=F("streams") + 1, last_seen=now
                )
    events.publish(session.uuid, "presence")


def presence_disconnect(*, session: ReviewSession, user) -> None:
    Presence.objects.filter(session=session, user=user, streams__gt=0).update(
        streams=F("streams") - 1, last_seen=timezone.now()
    )
    events.publish(session.uuid, "presence")


def presence_heartbeat(*, session: ReviewSession, user) -> None:
    Presence.objects.filter(session=session, user=user).update(last_seen=timezone.now())


def presence_viewing(*, session: ReviewSession, user, question_id: int) -> None:
    """Record which question the user has on screen; tell the others if it changed."""
    now = timezone.now()
    rows = Presence.objects.filter(session=session, user=user)
    changed = rows.exclude(question_id=question_id).update(question_id=question_id, last_seen=now)
    if not changed and not rows.exists():
        # The page loads before its event stream connects: start the row here.
        try:
            with transaction.atomic():
                Presence.objects.create(
                    session=session, user=user, question_id=question_id, last_seen=now
                )
        except IntegrityError:
            rows.update(question_id=question_id, last_seen=now)
        changed = 1
    if changed:
        events.publish(session.uuid, "presence")


@dataclass
class PresenceRow:
    user_id: int
    name: str
    initials: str
    role: str
    online: bool
    question_id: int | None
    question_title: str
    is_facilitator: bool


def presence(session: ReviewSession) -> list[PresenceRow]:
    """Every participant, whether they have the live page open, and on which question."""
    cutoff = timezone.now() - PRESENCE_WINDOW
    seen = {
        p.user_id: p for p in Presence.objects.filter(session=session).select_related("question")
    }
    rows = []
    for participant in Participant.objects.filter(session=session).select_related("user"):
        user = participant.user
        name = user.get_full_name() or user.get_username()
        mark = seen.get(user.pk)
        online = bool(mark and mark.streams > 0 and mark.last_seen >= cutoff)
        rows.append(
            PresenceRow(
                user_id=user.pk,
                name=name,
                initials="".join(part[0] for part in name.split()[:2]).upper(),
                role=participant.get_role_display(),
                online=online,
                question_id=mark.question_id if online and mark else None,
                question_title=mark.question.title if online and mark and mark.question else "",
                is_facilitator=participant.is_facilitator,
            )
        )
    rows.sort(key=lambda r: (not r.online, not r.is_facilitator, r.name))
    return rows


# --- Parking lot -----------------------------------------------------------------------------


@transaction.atomic
def parking_add(
    *, session: ReviewSession, user, text: str, question_id: int | None = None
) -> ParkingLotItem:
    text = " ".join(text.split())
    if not text:
        raise ServiceError("Write what should be parked.")
    if len(text) > 500:
        raise ServiceError(f"Keep it under 500 characters ({len(text)}).")
    item = ParkingLotItem.objects.create(
        session=session, text=text, question_id=question_id, created_by=user
    )
    _publish(session, "parking")
    return item


@transaction.atomic
def parking_dismiss(*, item: ParkingLotItem) -> None:
    ParkingLotItem.objects.filter(pk=item.pk, dismissed_at__isnull=True).update(
        dismissed_at=timezone.now()
    )
    _publish(item.session, "parking")


# --- Blind rounds ----------------------------------------------------------------------------


def open_round(session: ReviewSession, question_id: int) -> BlindRound | None:
    return (
        BlindRound.objects.filter(session=session, question_id=question_id, closed_at__isnull=True)
        .select_related("opened_by")
        .first()
    )


@transaction.atomic
def blind_open(*, session: ReviewSession, user, question_id: int) -> BlindRound:
    _require_facilitator(session, user)
    if session.phase not in (Phase.PREPARATION, Phase.REVIEW):
        raise ServiceError("Blind answering is for the review itself.")
    try:
        with transaction.atomic():
            round_ = BlindRound.objects.create(
                session=session, question_id=question_id, opened_by=user
            )
    except IntegrityError:
        raise ServiceError("A blind round is already open on this question.") from None
    _publish(session, "answer", question=question_info(question_id).uuid)
    return round_


def _locked_round(round_: BlindRound) -> BlindRound:
    return (
        BlindRound.objects.select_for_update(of=("self",))
        .select_related("session")
        .get(pk=round_.pk)
    )


@transaction.atomic
def blind_pick(*, round_: BlindRound, user, choice_ident: str, select: bool) -> BlindPick:
    """Toggle one choice in the user's private pick (saved at once, so nothing is lost if
    their page refreshes)."""
    round_ = _locked_round(round_)
    if round_.revealed_at or round_.closed_at:
        raise ServiceError("The picks have been revealed: this round no longer takes picks.")
    info = question_info(round_.question_id)
    if choice_ident not in {c.ident for c in info.choices}:
        raise ServiceError(f"“{choice_ident}” is not a choice of this question.")
    from questionnaires.risk import next_selection

    pick, _ = BlindPick.objects.select_for_update().get_or_create(round=round_, user=user)
    chosen = next_selection(
        pick.choices, choice_ident, select=select, none_of_these=info.none_idents
    )
    pick.choices = [c.ident for c in info.choices if c.ident in chosen]
    pick.save(update_fields=["choices", "picked_at"])
    _publish(round_.session, "answer", question=info.uuid)
    return pick


@transaction.atomic
def blind_reveal(*, round_: BlindRound, user) -> BlindRound:
    round_ = _locked_round(round_)
    _require_facilitator(round_.session, user)
    if round_.closed_at:
        raise ServiceError("This round is over.")
    if not round_.revealed_at:
        round_.revealed_at = timezone.now()
        round_.save(update_fields=["revealed_at"])
        _publish(round_.session, "answer", question=question_info(round_.question_id).uuid)
    return round_


@transaction.atomic
def blind_agree(*, round_: BlindRound, user, selected: set[str]) -> BlindRound:
    """Record the agreed answer as the session's answer and close the round."""
    round_ = _locked_round(round_)
    _require_facilitator(round_.session, user)
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
    _publish(round_.session, "answer", question=info.uuid)
    return round_


@transaction.atomic
def blind_cancel(*, round_: BlindRound, user) -> None:
    round_ = _locked_round(round_)
    _require_facilitator(round_.session, user)
    if not round_.closed_at:
        round_.closed_at = timezone.now()
        round_.save(update_fields=["closed_at"])
        _publish(round_.session, "answer", question=question_info(round_.question_id).uuid)


@dataclass
class BlindView:
    """A blind round as one participant may see it."""

    round: BlindRound
    revealed: bool
    my_pick: set[str]
    pickers: list[dict]  # every answering participant: name, picked (bool)
    table: list[dict] = field(default_factory=list)  # after reveal: one row per choice
    agreed_default: set[str] = field(default_factory=set)


def blind_view(round_: BlindRound, user) -> BlindView:
    picks = {p.user_id: p for p in BlindPick.objects.filter(round=round_)}
    participants = [
        p
        for p in Participant.objects.filter(session_id=round_.session_id).select_related("user")
        if p.can_answer or p.user_id in picks
    ]
    pickers = [
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
        view.voters = voters  # type: ignore[attr-defined]
    return view


# --- Progress for the session page ---------------------------------------------------------


def risk_counts(session: ReviewSession) -> dict[str, int]:
    counts = dict(
        Answer.objects.filter(session=session)
        .values_list("risk")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {risk: counts.get(risk, 0) for risk in Risk.values}


def readiness(session: ReviewSession) -> dict:
    participants = list(Participant.objects.filter(session=session).select_related("user"))
    ready = [p for p in participants if p.is_ready]
    return {"participants": participants, "ready": len(ready), "total": len(participants)}
