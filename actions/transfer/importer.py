"""Import a workload document (export.py) into a team, in one transaction.

Lenses are matched by name and content: a built-in lens, or a lens of the shared library or
of the team, whose content is the same is used; a custom lens found nowhere is imported into
the team's library. People are matched by email: a participant who is a member of the team
takes part again; anyone else becomes a pending invitation to the session (not emailed: the
facilitator sends it from the session page), never an account made up here. Ownership goes
to a member of the team with that email, authorship and history to the account with that
email; otherwise to nobody, and a warning names them.

Every value is checked with its place (reading.Reader); when anything is wrong, the whole
document is refused with every problem, and nothing is saved.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from actions.models import ActionChange, ActionComment, ActionItem, Finding, Rating
from actions.transfer.matching import (
    ImportReport,
    LensMatcher,
    fresh_uuid,
    is_member,
    keep_times,
)
from actions.transfer.reading import Reader, TransferRefused
from questionnaires.models import Question
from questionnaires.risk import Risk
from reviews.invitations import VALID_FOR
from reviews.models import (
    Answer,
    AnswerChange,
    AnswerChoice,
    ChoiceNotApplicable,
    Invitation,
    Milestone,
    NotApplicableReason,
    ParkingLotItem,
    Participant,
    ParticipantRole,
    Phase,
    PhaseChange,
    PillarBudget,
    ReviewSession,
    SessionKind,
    SessionLens,
    Team,
    Workload,
    WorkloadType,
)

__all__ = ["ImportReport", "TransferRefused", "workload_import"]


@transaction.atomic
def workload_import(*, team: Team, user: Any, document: dict[str, Any]) -> ImportReport:
    """Create the workload of `document` (reading.document_read) in `team`, with everything
    in it. Raises TransferRefused, having saved nothing, when anything in it is wrong."""
    r = Reader()
    workload = _workload(r, document, team)
    report = ImportReport(workload=workload)
    lenses = LensMatcher(r, team, user, report)
    lenses.read(document)
    if r.errors:
        raise TransferRefused(r.errors)
    ids = _Ids()
    for place, data in r.objects(document, "sessions", ""):
        _session(
            r, data, place, workload=workload, lenses=lenses, ids=ids, user=user, report=report
        )
    for place, data in r.objects(document, "actions", ""):
        report.actions += _action(r, data, place, workload=workload, lenses=lenses, ids=ids)
    for place, data in r.objects(document, "milestones", ""):
        _milestone(r, data, place, workload=workload, ids=ids)
    if r.errors:
        raise TransferRefused(r.errors)
    if r.unmatched:
        report.warnings.append(
            "No account here has these emails: what they did is kept without their name, and "
            "they are invited where they took part: " + ", ".join(sorted(r.unmatched))
        )
    report.warnings.extend(r.warnings)
    return report


class _Ids:
    """Objects of the document by the id it gives them, for its references inside itself."""

    def __init__(self) -> None:
        self.sessions: dict[uuid.UUID, ReviewSession] = {}
        self.findings: dict[uuid.UUID, Finding] = {}
        self.parking: dict[uuid.UUID, ParkingLotItem] = {}
        self.seen: set[uuid.UUID] = set()

    def new(self, r: Reader, data: dict, place: str) -> uuid.UUID | None:
        value = r.ident(data, "id", place)
        if value is not None:
            if value in self.seen:
                r.error(f"{place}.id", "another object of the document has this id")
                return None
            self.seen.add(value)
        return value

    def find(self, r: Reader, table: dict, data: dict, key: str, place: str) -> Any:
        value = r.ident(data, key, place, required=False)
        if value is None:
            return None
        if value not in table:
            r.error(f"{place}.{key}", f"“{value}” is not the id of an object before it")
            return None
        return table[value]


def _workload(r: Reader, document: dict, team: Team) -> Workload:
    place = "workload"
    data = r.obj(document.get("workload"), place) or {}
    name = r.text(data, "name", place, max_length=100, required=True).strip()
    if name and Workload.objects.filter(team=team, name=name).exists():
        r.error(
            f"{place}.name",
            f"the team {team.name} has a workload named “{name}” already: rename or delete it first",
        )
    owner = r.person(data, "owner", place)
    workload = Workload(
        team=team,
        name=name,
        description=r.text(data, "description", place),
        environment=r.enum(data, "environment", place, Workload.Environment.values),
        workload_type=r.enum(data, "workloadType", place, WorkloadType.values),
        is_critical=r.boolean(data, "isCritical", place),
        owner=owner if owner and is_member(team, owner) else None,
        regions=r.strings(data, "regions", place),
        architecture_url=r.url(data, "architectureUrl", place),
        tags=r.strings(data, "tags", place),
        review_interval_months=r.integer(
            data, "reviewIntervalMonths", place, low=1, high=120, default=12
        ),
        next_review_due_on=r.day(data, "nextReviewDueOn", place),
    )
    created_at = r.moment(data, "createdAt", place)
    if r.errors:
        raise TransferRefused(r.errors)
    workload.save()
    if created_at:
        Workload.objects.filter(pk=workload.pk).update(created_at=created_at)
        workload.created_at = created_at
    return workload


def _session(
    r: Reader,
    data: dict,
    place: str,
    *,
    workload: Workload,
    lenses: LensMatcher,
    ids: _Ids,
    user: Any,
    report: ImportReport,
) -> None:
    mark = r.mark()
    doc_id = ids.new(r, data, place)
    keys = r.strings(data, "lenses", place, max_length=20)
    chosen = []
    for i, key in enumerate(keys):
        if key not in lenses.lenses:
            r.error(f"{place}.lenses[{i}]", f"“{key}” is not a lens listed in lenses")
        elif lenses.lenses[key] not in chosen:
            chosen.append(lenses.lenses[key])
    session = ReviewSession(
        uuid=fresh_uuid(ReviewSession, doc_id),
        workload=workload,
        title=r.text(data, "title", place, max_length=150, required=True),
        kind=r.enum(data, "kind", place, SessionKind.values),
        phase=r.enum(data, "phase", place, Phase.values),
        preparation_starts_on=r.day(data, "preparationStartsOn", place),
        review_starts_at=r.moment(data, "reviewStartsAt", place),
        review_duration_minutes=r.integer(
            data, "reviewDurationMinutes", place, low=0, high=32767, default=300
        ),
        analysis_due_on=r.day(data, "analysisDueOn", place),
        action_plan_due_on=r.day(data, "actionPlanDueOn", place),
        plan_published_at=r.moment(data, "planPublishedAt", place),
        closed_at=r.moment(data, "closedAt", place),
        created_by=r.person(data, "createdBy", place),
    )
    created_at = r.moment(data, "createdAt", place)
    if not r.clean_since(mark):
        return
    session.save()
    if created_at:
        ReviewSession.objects.filter(pk=session.pk).update(created_at=created_at)
    if doc_id is not None:
        ids.sessions[doc_id] = session
    report.sessions += 1
    SessionLens.objects.bulk_create(
        SessionLens(session=session, lens=lens, order=i) for i, lens in enumerate(chosen)
    )
    _people(r, data, place, session=session, user=user, report=report)
    changes: list[tuple[PhaseChange, datetime | None]] = []
    for where, c in r.objects(data, "phaseChanges", place):
        change = PhaseChange(
            session=session,
            from_phase=r.enum(c, "from", where, Phase.values, blank=True),
            to_phase=r.enum(c, "to", where, Phase.values),
            by=r.person(c, "by", where),
        )
        changes.append((change, r.moment(c, "at", where)))
    PhaseChange.objects.bulk_create(change for change, _ in changes)
    keep_times(PhaseChange, changes, "at")
    pillars = {(key, q.pillar.ident): q.pillar for key, q in _questions_of(lenses, chosen)}
    budgets: list[PillarBudget] = []
    for where, b in r.objects(data, "budgets", place):
        key = r.text(b, "lens", where, max_length=20, required=True)
        pillar = pillars.get((key, r.text(b, "pillar", where, max_length=100, required=True)))
        if pillar is None or pillar.pk in {b.pillar_id for b in budgets}:
            r.error(where, "not a pillar of the session's lenses, or a second budget for one")
            continue
        budgets.append(
            PillarBudget(
                session=session,
                pillar=pillar,
                minutes=r.integer(b, "minutes", where, low=0, high=32767, default=0),
                spent_seconds=r.integer(b, "spentSeconds", where, low=0, high=2**31 - 1, default=0),
            )
        )
    PillarBudget.objects.bulk_create(budgets)
    for where, p in r.objects(data, "parkingLot", place):
        item_id = ids.new(r, p, where)
        question = lenses.question_at(p, "question", where)
        item = ParkingLotItem(
            uuid=fresh_uuid(ParkingLotItem, item_id),
            session=session,
            text=r.text(p, "text", where, max_length=500, required=True),
            question=question,
            created_by=r.person(p, "createdBy", where),
            dismissed_at=r.moment(p, "dismissedAt", where),
        )
        created = r.moment(p, "createdAt", where)
        item.save()
        if created:
            ParkingLotItem.objects.filter(pk=item.pk).update(created_at=created)
        if item_id is not None:
            ids.parking[item_id] = item
    report.answers += _answers(r, data, place, session=session, lenses=lenses, chosen=chosen)
    for where, f in r.objects(data, "findings", place):
        _finding(r, f, where, session=session, lenses=lenses, ids=ids)


def _questions_of(lenses: LensMatcher, chosen: list) -> list[tuple[str, Question]]:
    """The questions of the session's lenses, each once, with the key of its lens."""
    seen: set[int] = set()
    out = []
    for (key, _, _), question in lenses.questions.items():
        if lenses.lenses[key] in chosen and question.pk not in seen:
            seen.add(question.pk)
            out.append((key, question))
    return out


def _people(
    r: Reader, data: dict, place: str, *, session: ReviewSession, user: Any, report: ImportReport
) -> None:
    """Participants who are members of the team take part; everyone else is invited."""
    team = session.workload.team
    invited: set[str] = set()
    for where, p in r.objects(data, "participants", place) + r.objects(data, "invitations", place):
        email = r.text(p, "email", where, max_length=254, required=True).strip().lower()
        role = r.enum(p, "role", where, ParticipantRole.values)
        person = r.person(p, "email", where)
        if not email:
            continue
        if person is not None and is_member(team, person):
            Participant.objects.get_or_create(
                session=session,
                user=person,
                defaults={
                    "role": role,
                    "read_documentation": r.boolean(p, "readDocumentation", where),
                    "brought_metrics": r.boolean(p, "broughtMetrics", where),
                    "confirmed_attendance": r.boolean(p, "confirmedAttendance", where),
                },
            )
        elif email not in invited:
            invited.add(email)
            Invitation.objects.create(
                session=session,
                email=email,
                role=role,
                invited_by=user,
                expires_at=timezone.now() + VALID_FOR,
            )
            report.invitations.append(f"{email} ({session.title})")


def _answers(
    r: Reader, data: dict, place: str, *, session: ReviewSession, lenses: LensMatcher, chosen: list
) -> int:
    rows: dict[int, Answer] = {}
    picks: list[tuple[int, AnswerChoice, datetime | None]] = []
    exclusions: list[tuple[int, ChoiceNotApplicable]] = []
    history: list[tuple[int, AnswerChange, datetime | None]] = []
    for where, a in r.objects(data, "answers", place):
        question = lenses.question(a, where)
        if question is None:
            continue
        if question.pillar.lens not in chosen or question.pk in rows:
            r.error(where, "not a question of the session's lenses, or a second answer to one")
            continue
        picked: set[int] = set()
        rows[question.pk] = Answer(
            session=session,
            question=question,
            risk=r.enum(a, "risk", where, Risk.values),
            not_applicable=r.boolean(a, "notApplicable", where),
            not_applicable_reason=r.enum(
                a, "notApplicableReason", where, NotApplicableReason.values, blank=True
            ),
            notes=r.text(a, "notes", where),
            updated_by=r.person(a, "updatedBy", where),
        )
        for w, s in r.objects(a, "selected", where):
            if (choice := lenses.choice(s, w)) is not None and _once(
                r, picked, choice, question, w
            ):
                pick = AnswerChoice(choice=choice, selected_by=r.person(s, "by", w))
                picks.append((question.pk, pick, r.moment(s, "at", w)))
        for w, x in r.objects(a, "choicesNotApplicable", where):
            if (choice := lenses.choice(x, w)) is not None and _once(
                r, picked, choice, question, w
            ):
                exclusions.append(
                    (
                        question.pk,
                        ChoiceNotApplicable(
                            choice=choice,
                            reason=r.enum(x, "reason", w, NotApplicableReason.values, blank=True),
                            notes=r.text(x, "notes", w, max_length=250),
                            marked_by=r.person(x, "by", w),
                        ),
                    )
                )
        for w, h in r.objects(a, "history", where):
            change = AnswerChange(
                user=r.person(h, "by", w),
                action=r.enum(h, "action", w, AnswerChange.Action.values),
                detail=r.text(h, "detail", w),
                risk_after=r.enum(h, "riskAfter", w, Risk.values, blank=True),
            )
            history.append((question.pk, change, r.moment(h, "at", w)))
    if r.errors:
        return 0
    # Every question of the session's lenses has an answer, as a planned session has.
    for _, question in _questions_of(lenses, chosen):
        rows.setdefault(question.pk, Answer(session=session, question=question))
    Answer.objects.bulk_create(rows.values())
    for question_id, pick, _ in picks:
        pick.answer = rows[question_id]
    for question_id, excluded in exclusions:
        excluded.answer = rows[question_id]
    for question_id, change, _ in history:
        change.answer = rows[question_id]
    AnswerChoice.objects.bulk_create(pick for _, pick, _ in picks)
    keep_times(AnswerChoice, [(pick, at) for _, pick, at in picks], "selected_at")
    ChoiceNotApplicable.objects.bulk_create(excluded for _, excluded in exclusions)
    AnswerChange.objects.bulk_create(change for _, change, _ in history)
    keep_times(AnswerChange, [(change, at) for _, change, at in history], "at")
    return sum(1 for a in rows.values() if a.risk != Risk.UNANSWERED)


def _once(r: Reader, seen: set[int], choice: Any, question: Question, where: str) -> bool:
    """A choice of the answer's question is selected, or not applicable, once."""
    if choice.question_id != question.pk or choice.pk in seen:
        r.error(where, "this choice is named twice in the answer, or is of another question")
        return False
    seen.add(choice.pk)
    return True


def _finding(
    r: Reader, f: dict, where: str, *, session: ReviewSession, lenses: LensMatcher, ids: _Ids
) -> None:
    doc_id = ids.new(r, f, where)
    finding = Finding(
        uuid=fresh_uuid(Finding, doc_id),
        session=session,
        question=lenses.question(f, where),
        risk=r.enum(f, "risk", where, [Risk.HIGH, Risk.MEDIUM]),
        pillar_rank=r.integer(f, "pillarRank", where, low=0, high=100, default=0),
        impact_override=r.integer(f, "impactOverride", where, low=1, high=5),
        effort_override=r.integer(f, "effortOverride", where, low=1, high=5),
        accepted_by=r.person(f, "acceptedBy", where),
        accepted_at=r.moment(f, "acceptedAt", where),
        accepted_reason=r.text(f, "acceptedReason", where),
        accepted_until=r.day(f, "acceptedUntil", where),
        resolved_at=r.moment(f, "resolvedAt", where),
    )
    created = r.moment(f, "createdAt", where)
    ratings, seen = [], set()
    for w, g in r.objects(f, "ratings", where):
        person = r.person(g, "by", w)
        kind = r.enum(g, "kind", w, Rating.Kind.values)
        value = r.integer(g, "value", w, low=1, high=5, default=1)
        if person is not None and (person.pk, kind) not in seen:
            seen.add((person.pk, kind))
            ratings.append(Rating(user=person, kind=kind, value=value))
    if r.errors or finding.question is None:
        return
    if Finding.objects.filter(session=session, question=finding.question).exists():
        r.error(where, "a second finding on the same question")
        return
    finding.save()
    if created:
        Finding.objects.filter(pk=finding.pk).update(created_at=created)
    for rating in ratings:
        rating.finding = finding
    Rating.objects.bulk_create(ratings)
    if doc_id is not None:
        ids.findings[doc_id] = finding


def _action(
    r: Reader, a: dict, where: str, *, workload: Workload, lenses: LensMatcher, ids: _Ids
) -> int:
    doc_id = ids.new(r, a, where)
    owner = r.person(a, "owner", where)
    action = ActionItem(
        uuid=fresh_uuid(ActionItem, doc_id),
        workload=workload,
        session=ids.find(r, ids.sessions, a, "session", where),
        finding=ids.find(r, ids.findings, a, "finding", where),
        question=lenses.question_at(a, "question", where),
        choice=lenses.choice_at(a, "choice", where),
        parking_item=ids.find(r, ids.parking, a, "parkingItem", where),
        title=r.text(a, "title", where, max_length=200, required=True),
        description=r.text(a, "description", where),
        measurable_outcome=r.text(a, "measurableOutcome", where),
        owner=owner if owner and is_member(workload.team, owner) else None,
        due_on=r.day(a, "dueOn", where),
        status=r.enum(a, "status", where, ActionItem.Status.values),
        percent_complete=r.integer(a, "percentComplete", where, low=0, high=100, default=0),
        effort=r.enum(a, "effort", where, ActionItem.Effort.values, blank=True),
        monthly_saving=r.money(a, "monthlySaving", where),
        currency=r.text(a, "currency", where, max_length=3) or "USD",
        external_key=r.text(a, "externalKey", where, max_length=64),
        external_url=r.url(a, "externalUrl", where),
        created_by=r.person(a, "createdBy", where),
        completed_at=r.moment(a, "completedAt", where),
    )
    created = r.moment(a, "createdAt", where)
    comments: list[tuple[ActionComment, datetime | None]] = []
    changes: list[tuple[ActionChange, datetime | None]] = []
    for w, c in r.objects(a, "comments", where):
        comment = ActionComment(
            author=r.person(c, "by", w), body=r.text(c, "body", w, required=True)
        )
        comments.append((comment, r.moment(c, "at", w)))
    for w, h in r.objects(a, "history", where):
        change = ActionChange(
            user=r.person(h, "by", w),
            field=r.text(h, "field", w, max_length=32, required=True),
            old_value=r.text(h, "old", w),
            new_value=r.text(h, "new", w),
        )
        changes.append((change, r.moment(h, "at", w)))
    if r.errors:
        return 0
    action.save()
    if created:
        ActionItem.objects.filter(pk=action.pk).update(created_at=created)
    for comment, _ in comments:
        comment.action = action
    for change, _ in changes:
        change.action = action
    ActionComment.objects.bulk_create(comment for comment, _ in comments)
    keep_times(ActionComment, comments, "created_at")
    ActionChange.objects.bulk_create(change for change, _ in changes)
    keep_times(ActionChange, changes, "at")
    return 1


def _milestone(r: Reader, m: dict, where: str, *, workload: Workload, ids: _Ids) -> None:
    doc_id = ids.new(r, m, where)
    snapshot = r.obj(m.get("snapshot"), f"{where}.snapshot")
    milestone = Milestone(
        uuid=fresh_uuid(Milestone, doc_id),
        workload=workload,
        session=ids.find(r, ids.sessions, m, "session", where),
        name=r.text(m, "name", where, max_length=150, required=True),
        kind=r.enum(m, "kind", where, Milestone.Kind.values),
        created_by=r.person(m, "createdBy", where),
        snapshot=snapshot,
    )
    created = r.moment(m, "createdAt", where)
    if r.errors:
        return
    milestone.save()
    if created:
        Milestone.objects.filter(pk=milestone.pk).update(created_at=created)
