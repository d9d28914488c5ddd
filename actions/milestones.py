"""Milestones: a workload frozen as it is (answers, risk counts per pillar, actions), the
risk trend over milestones, and the comparison of two."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Subquery
from django.utils import dateformat, timezone

from actions.models import ActionItem
from questionnaires.risk import Risk
from reviews.errors import ServiceError
from reviews.models import Answer, AnswerChoice, Milestone, ReviewSession, SessionLens, Workload

SNAPSHOT_VERSION = 1
RISK_KEYS = tuple(Risk.values)
# The risks a comparison of milestones shows, side by side.
COMPARE_RISKS = (Risk.HIGH.value, Risk.MEDIUM.value, Risk.NONE.value)


def long_date(value: date | None) -> str:
    """A date as people write it: 4 March 2027 ("" for none)."""
    return dateformat.format(value, "j F Y") if value else ""


def latest_answered_session(workload: Workload) -> ReviewSession | None:
    """The workload's most recent session with at least one answered question."""
    answered = Answer.objects.filter(session=OuterRef("pk")).exclude(risk=Risk.UNANSWERED)
    return (
        ReviewSession.objects.filter(workload=workload)
        .filter(Exists(answered))
        .order_by(F("review_starts_at").desc(nulls_last=True), "-created_at")
        .first()
    )


def snapshot_build(workload: Workload, session: ReviewSession | None) -> dict[str, Any]:
    """A plain copy (JSON) of the session's answers, the risk counts per pillar and the
    workload's actions, as they are now."""
    answers = []
    pillars: dict[str, dict[str, Any]] = {}
    if session is not None:
        lens_order = dict(
            SessionLens.objects.filter(session=session).values_list("lens_id", "order")
        )
        rows = list(
            Answer.objects.filter(session=session)
            .select_related("question__pillar__lens")
            .prefetch_related(Prefetch("selections", AnswerChoice.objects.select_related("choice")))
        )
        rows.sort(
            key=lambda a: (
                lens_order.get(a.question.pillar.lens_id, 0),
                a.question.pillar.order,
                a.question.order,
            )
        )
        for answer in rows:
            q = answer.question
            pillar_key = f"{q.pillar.lens.name}/{q.pillar.ident}"
            answers.append(
                {
                    "key": f"{pillar_key}/{q.ident}",
                    "lens": q.pillar.lens.name,
                    "lens_version": q.pillar.lens.version,
                    "pillar": q.pillar.ident,
                    "pillar_name": q.pillar.name,
                    "question": q.ident,
                    "title": q.title,
                    "risk": answer.risk,
                    "choices": sorted(s.choice.ident for s in answer.selections.all()),
                    "not_applicable": answer.not_applicable,
                    "notes": answer.notes,
                }
            )
            entry = pillars.setdefault(
                pillar_key,
                {
                    "key": pillar_key,
                    "label": q.pillar.name,
                    "lens": q.pillar.lens.name,
                    "framework_pillar": q.pillar.framework_pillar,
                    "counts": dict.fromkeys(RISK_KEYS, 0),
                },
            )
            entry["counts"][answer.risk] = entry["counts"].get(answer.risk, 0) + 1
    totals = dict.fromkeys(RISK_KEYS, 0)
    for entry in pillars.values():
        for key, value in entry["counts"].items():
            totals[key] = totals.get(key, 0) + value
    actions = [
        {
            "uuid": str(a.uuid),
            "title": a.title,
            "owner": a.owner.username if a.owner else "",
            "status": a.status,
            "percent": a.percent_complete,
            "due_on": a.due_on.isoformat() if a.due_on else None,
        }
        for a in ActionItem.objects.filter(workload=workload)
        .select_related("owner")
        .order_by(F("due_on").asc(nulls_last=True), "created_at")
    ]
    return {
        "version": SNAPSHOT_VERSION,
        "taken_at": timezone.now().isoformat(),
        "workload": {"name": workload.name, "type": workload.workload_type},
        "session": (
            {"uuid": str(session.uuid), "title": session.title, "phase": session.phase}
            if session
            else None
        ),
        "answers": answers,
        "pillars": list(pillars.values()),
        "totals": totals,
        "actions": actions,
    }


@transaction.atomic
def milestone_create(
    *,
    workload: Workload,
    session: ReviewSession | None = None,
    user: User,
    kind: str,
    name: str = "",
) -> Milestone:
    """Freeze the workload as it is now: the answers of `session` (or, when None, of its
    most recent session with answers), risk counts per pillar and its actions."""
    if kind not in Milestone.Kind.values:
        raise ServiceError(f"“{kind}” is not a kind of milestone.")
    if session is not None and session.workload_id != workload.pk:
        raise ServiceError("That review belongs to another workload.")
    source = session or latest_answered_session(workload)
    name = (name or "").strip()[:150] or (
        f"{Milestone.Kind(kind).label} · {long_date(timezone.localdate())}"
    )
    return Milestone.objects.create(
        workload=workload,
        session=source,
        name=name,
        kind=kind,
        created_by=user,
        snapshot=snapshot_build(workload, source),
    )


def milestone_trend(milestones: Iterable[Milestone]) -> list[tuple[str, dict[str, int]]]:
    """(label, counts of HIGH and MEDIUM) per milestone, oldest first, for the trend chart."""
    series = []
    seen: Counter[str] = Counter()
    for m in sorted(milestones, key=lambda m: m.created_at):
        totals = m.snapshot.get("totals", {})
        label = dateformat.format(timezone.localtime(m.created_at), "j M y")
        seen[label] += 1
        if seen[label] > 1:  # several milestones on one day: number them
            label = f"{label} ({seen[label]})"
        series.append((label, {"HIGH": totals.get("HIGH", 0), "MEDIUM": totals.get("MEDIUM", 0)}))
    return series


@dataclass
class PillarDelta:
    label: str
    before: dict[str, int]
    after: dict[str, int]

    @property
    def cells(self) -> list[tuple[str, int, int, int]]:
        """(risk, before, after, change) for the risks the comparison shows."""
        return [
            (
                k,
                self.before.get(k, 0),
                self.after.get(k, 0),
                self.after.get(k, 0) - self.before.get(k, 0),
            )
            for k in COMPARE_RISKS
        ]


@dataclass
class QuestionChange:
    pillar: str
    title: str
    before: str | None  # None: the question was not in that milestone
    after: str | None

    @property
    def before_label(self) -> str:
        return Risk(self.before).label if self.before in Risk.values else ""

    @property
    def after_label(self) -> str:
        return Risk(self.after).label if self.after in Risk.values else ""


@dataclass
class Comparison:
    before: Milestone
    after: Milestone
    pillars: list[PillarDelta]
    totals: PillarDelta
    changed: list[QuestionChange]
    actions_before: list[tuple[str, int]]
    actions_after: list[tuple[str, int]]


def milestone_compare(a: Milestone, b: Milestone) -> Comparison:
    """Compare two milestones of a workload, the earlier as "before" whatever the order
    given: risk counts per pillar side by side, and the questions whose risk changed."""
    before, after = sorted((a, b), key=lambda m: (m.created_at, m.pk))
    old, new = before.snapshot, after.snapshot
    old_pillars = {p["key"]: p for p in old.get("pillars", [])}
    new_pillars = {p["key"]: p for p in new.get("pillars", [])}
    keys = list(new_pillars) + [k for k in old_pillars if k not in new_pillars]
    empty = dict.fromkeys(RISK_KEYS, 0)
    pillars = [
        PillarDelta(
            label=(new_pillars.get(k) or old_pillars[k])["label"],
            before=old_pillars.get(k, {}).get("counts", empty),
            after=new_pillars.get(k, {}).get("counts", empty),
        )
        for k in keys
    ]
    totals = PillarDelta(
        label="All pillars", before=old.get("totals", empty), after=new.get("totals", empty)
    )
    old_answers = {x["key"]: x for x in old.get("answers", [])}
    new_answers = {x["key"]: x for x in new.get("answers", [])}
    changed = []
    for key in list(new_answers) + [k for k in old_answers if k not in new_answers]:
        was, now = old_answers.get(key), new_answers.get(key)
        if was and now and was["risk"] == now["risk"]:
            continue
        ref = now or was
        assert ref is not None  # the key came from one of the two
        changed.append(
            QuestionChange(
                pillar=ref["pillar_name"],
                title=ref["title"],
                before=was["risk"] if was else None,
                after=now["risk"] if now else None,
            )
        )
    return Comparison(
        before=before,
        after=after,
        pillars=pillars,
        totals=totals,
        changed=changed,
        actions_before=_status_counts(old.get("actions", [])),
        actions_after=_status_counts(new.get("actions", [])),
    )


def _status_counts(actions: list[dict[str, Any]]) -> list[tuple[str, int]]:
    counts = Counter(a["status"] for a in actions)
    return [(label, counts[value]) for value, label in ActionItem.Status.choices if counts[value]]


def risk_counts_by_pillar(session: ReviewSession) -> list[tuple[str, dict[str, int]]]:
    """(pillar label, counts per risk) for a session's pillars, in lens and pillar order; a
    pillar of a lens other than the framework is labelled with its lens too."""
    rows = (
        Answer.objects.filter(session=session)
        .values(
            "question__pillar_id",
            "question__pillar__name",
            "question__pillar__lens__name",
            "question__pillar__lens__is_framework",
            "risk",
        )
        .annotate(
            n=Count("pk"),
            lens_order=Subquery(
                SessionLens.objects.filter(
                    session=session, lens=OuterRef("question__pillar__lens")
                ).values("order")[:1]
            ),
        )
        .order_by("lens_order", "question__pillar__lens_id", "question__pillar__order")
    )
    pillars: dict[int, tuple[str, dict[str, int]]] = {}
    for row in rows:
        label = row["question__pillar__name"]
        if not row["question__pillar__lens__is_framework"]:
            label = f"{label} ({row['question__pillar__lens__name']})"
        _, counts = pillars.setdefault(
            row["question__pillar_id"], (label, dict.fromkeys(RISK_KEYS, 0))
        )
        counts[row["risk"]] = counts.get(row["risk"], 0) + row["n"]
    return list(pillars.values())
