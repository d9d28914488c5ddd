"""Findings: one per high or medium risk answer, kept in step with the answers, ordered by
the workload's pillar priority, then risk, then the lens order; and the best practices
each one lacks."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from actions import findings
from actions.models import Finding
from questionnaires.models import Choice, FrameworkPillar, Lens, Pillar, Question, RiskRule
from reviews import sessions
from reviews.answers import answer_set_applicability, answer_set_exact
from reviews.models import PILLAR_PRIORITIES, Answer, Phase, SessionLens, WorkloadType
from tests.actions.analysis_helpers import framework_answer, move_to, set_risk

# Two questions per framework pillar: the first answered with medium risk, the second with
# high risk (sustainability questions have no high risk in the framework lens).
PER_PILLAR = {
    FrameworkPillar.OPERATIONAL_EXCELLENCE: (("priorities", "MEDIUM"), ("ops-model", "HIGH")),
    FrameworkPillar.SECURITY: (("securely-operate", "MEDIUM"), ("identities", "HIGH")),
    FrameworkPillar.RELIABILITY: (
        ("manage-service-limits", "MEDIUM"),
        ("planning-network-topology", "HIGH"),
    ),
    FrameworkPillar.PERFORMANCE: (
        ("performing-architecture", "MEDIUM"),
        ("compute-hardware", "HIGH"),
    ),
    FrameworkPillar.COST: (("cloud-financial-management", "MEDIUM"), ("govern-usage", "HIGH")),
    FrameworkPillar.SUSTAINABILITY: (("sus_region", "MEDIUM"), ("sus_user", "MEDIUM")),
}


def answer_every_pillar(review, user):
    for answers in PER_PILLAR.values():
        for ident, risk in answers:
            set_risk(review, ident, risk, user)


def expected_order(workload) -> list[str]:
    """Pillars in the workload type's priority; within one, high before medium, then
    questionnaire order."""
    order = []
    for pillar, _, _ in workload.pillar_priority():
        answers = PER_PILLAR[pillar]
        order += [i for i, r in answers if r == "HIGH"] + [i for i, r in answers if r == "MEDIUM"]
    return order


@pytest.mark.parametrize("workload_type", WorkloadType.values)
def test_findings_follow_the_pillar_priority_of_each_workload_type(review, cast, workload_type):
    cast.workload.workload_type = workload_type
    cast.workload.save(update_fields=["workload_type"])
    review.refresh_from_db()
    answer_every_pillar(review, cast.admin)
    findings.findings_sync(session=review)
    idents = [f.question.ident for f in findings.findings_ordered(review)]
    assert idents == expected_order(cast.workload)
    primary, secondary, _ = PILLAR_PRIORITIES[workload_type]
    first_pillars = [f.question.pillar.framework_pillar for f in findings.findings_ordered(review)]
    assert first_pillars[0] == primary[0]
    assert list(dict.fromkeys(first_pillars))[:3] == [*primary, *secondary]


def test_pillar_rank_is_stored_per_finding(review, cast):
    set_risk(review, "manage-service-limits", "HIGH", cast.admin)  # reliability: first
    set_risk(review, "sus_region", "MEDIUM", cast.admin)  # sustainability: among the rest
    findings.findings_sync(session=review)
    ranks = dict(Finding.objects.values_list("question__ident", "pillar_rank"))
    expected = cast.workload.pillar_rank()
    assert ranks == {
        "manage-service-limits": expected[FrameworkPillar.RELIABILITY],
        "sus_region": expected[FrameworkPillar.SUSTAINABILITY],
    }


def test_only_high_and_medium_risks_become_findings(review, cast):
    set_risk(review, "priorities", "HIGH", cast.admin)
    set_risk(review, "ops-model", "MEDIUM", cast.admin)
    set_risk(review, "identities", "NONE", cast.admin)
    answer = framework_answer(review, "securely-operate")
    answer_set_applicability(
        answer=answer, user=cast.admin, not_applicable=True, reason="out_of_scope"
    )
    result = findings.findings_sync(session=review)
    assert result.created == 2
    assert dict(Finding.objects.values_list("question__ident", "risk")) == {
        "priorities": "HIGH",
        "ops-model": "MEDIUM",
    }


def test_sync_twice_changes_nothing(review, cast):
    set_risk(review, "priorities", "HIGH", cast.admin)
    findings.findings_sync(session=review)
    before = list(Finding.objects.values_list("pk", "risk", "updated_at"))
    assert findings.findings_sync(session=review) == findings.SyncResult()
    assert list(Finding.objects.values_list("pk", "risk", "updated_at")) == before


def test_a_finding_follows_its_risk_is_resolved_and_comes_back(review, cast):
    set_risk(review, "priorities", "HIGH", cast.admin)
    findings.findings_sync(session=review)
    finding = Finding.objects.get()
    finding.impact_override = 4
    finding.save(update_fields=["impact_override"])

    set_risk(review, "priorities", "MEDIUM", cast.admin)
    assert findings.findings_sync(session=review).updated == 1
    finding.refresh_from_db()
    assert finding.risk == "MEDIUM" and finding.resolved_at is None

    set_risk(review, "priorities", "NONE", cast.admin)
    assert findings.findings_sync(session=review).resolved == 1
    finding.refresh_from_db()
    assert finding.resolved_at is not None
    assert not findings.findings_ordered(review).exists()

    set_risk(review, "priorities", "HIGH", cast.admin)
    findings.findings_sync(session=review)
    finding.refresh_from_db()
    assert finding.resolved_at is None and finding.risk == "HIGH"
    assert finding.impact_override == 4, "the same finding comes back, with its placement"
    assert Finding.objects.count() == 1


def test_sync_uses_the_same_number_of_queries_however_many_answers(review, cast):
    set_risk(review, "priorities", "HIGH", cast.admin)
    with CaptureQueriesContext(connection) as few:
        findings.findings_sync(session=review)
    answer_every_pillar(review, cast.admin)
    Finding.objects.all().delete()
    set_risk(review, "ops-model", "NONE", cast.admin)
    findings.findings_sync(session=review)
    for ident in ("identities", "compute-hardware", "govern-usage"):
        set_risk(review, ident, "NONE", cast.admin)
    set_risk(review, "ops-model", "HIGH", cast.admin)
    with CaptureQueriesContext(connection) as many:
        result = findings.findings_sync(session=review)
    assert result.created == 1 and result.resolved == 3
    assert len(many) <= len(few) + 2  # one bulk update and one resolve at most


def test_a_lens_pillar_outside_the_framework_ranks_after_all_six(review, cast):
    lens = Lens.objects.create(name="House rules", version=1)
    pillar = Pillar.objects.create(lens=lens, ident="house", name="House rules", order=0)
    question = Question.objects.create(pillar=pillar, ident="h1", order=0, title="House question")
    Choice.objects.create(question=question, ident="h1_a", order=0, title="A")
    RiskRule.objects.create(question=question, order=0, condition="default", risk="HIGH")
    SessionLens.objects.create(session=review, lens=lens, order=5)
    Answer.objects.create(session=review, question=question, risk="HIGH")
    set_risk(review, "sus_region", "MEDIUM", cast.admin)  # the last framework pillar here
    findings.findings_sync(session=review)
    ordered = list(findings.findings_ordered(review))
    assert [f.question.ident for f in ordered] == ["sus_region", "h1"]
    assert ordered[1].pillar_rank == findings.OTHER_PILLAR_RANK == 6


def test_lens_order_breaks_ties_within_a_pillar(cast, lenses):
    serverless = lenses["Serverless Lens"]
    review = sessions.session_create(
        workload=cast.workload,
        user=cast.admin,
        title="With the Serverless lens",
        kind="periodic",
        review_starts_at=timezone.now(),
        lenses=[serverless],
    )
    sls = review.answers.get(question__ident="sls_sec_least_privilege")
    sls_choices = set(
        sls.question.choices.filter(is_none_of_these=True).values_list("ident", flat=True)
    )
    answer_set_exact(answer=sls, user=cast.admin, selected=sls_choices)
    set_risk(review, "securely-operate", "HIGH", cast.admin)
    sls.refresh_from_db()
    assert sls.risk == "HIGH"
    findings.findings_sync(session=review)
    idents = [f.question.ident for f in findings.findings_ordered(review)]
    assert idents == ["securely-operate", "sls_sec_least_privilege"]


def test_missing_practices_are_the_unselected_choices_without_none_of_these(review, cast):
    answer = set_risk(review, "priorities", "MEDIUM", cast.admin)
    selected = set(answer.selections.values_list("choice__ident", flat=True))
    findings.findings_sync(session=review)
    (info,) = findings.analysis_findings(review)
    missing = [p.choice.ident for p in info.practices]
    all_choices = list(answer.question.choices.order_by("order"))
    assert missing == [
        c.ident for c in all_choices if c.ident not in selected and not c.is_none_of_these
    ]
    assert missing == ["ops_priorities_eval_threat_landscape", "ops_priorities_eval_tradeoffs"]
    practice = info.practices[0]
    assert practice.choice.improvement_text
    assert practice.links == [("Improvement guidance", practice.choice.improvement_url)]


def test_a_high_risk_with_none_of_these_lacks_every_practice(review, cast):
    set_risk(review, "priorities", "HIGH", cast.admin)
    findings.findings_sync(session=review)
    (info,) = findings.analysis_findings(review)
    assert len(info.practices) == 6
    assert not any(p.choice.is_none_of_these for p in info.practices)


def test_additional_resources_become_links(review, cast):
    set_risk(review, "priorities", "HIGH", cast.admin)
    choice = Choice.objects.get(ident="ops_priorities_ext_cust_needs")
    choice.additional_resources = [
        {
            "type": "IMPROVEMENT_PLAN",
            "content": [
                {"displayText": "A talk", "url": "https://example.com/talk"},
                {"displayText": "Bad", "url": "javascript:alert(1)"},
            ],
        }
    ]
    choice.save(update_fields=["additional_resources"])
    links = findings.practice_links(choice)
    assert ("A talk", "https://example.com/talk") in links
    assert all(url.startswith("https://") for _, url in links)


def test_the_preview_before_analysis_saves_nothing(review, cast):
    set_risk(review, "identities", "MEDIUM", cast.admin)
    set_risk(review, "manage-service-limits", "HIGH", cast.admin)
    infos = findings.analysis_findings(review, saved=False)
    assert [i.finding.question.ident for i in infos] == ["manage-service-limits", "identities"]
    assert not Finding.objects.exists()


def test_accepting_a_risk_renumbers_nothing(review, cast):
    """A finding keeps its number when it, or another, is accepted as a risk: the matrix, the
    plan and the PDF refer to findings by number, and people write the numbers down."""
    move_to(review, Phase.ANALYSIS)
    set_risk(review, "manage-service-limits", "HIGH", cast.admin)
    set_risk(review, "identities", "MEDIUM", cast.admin)
    findings.findings_sync(session=review)
    before = {i.finding.question.ident: i.number for i in findings.analysis_findings(review)}
    assert before == {"manage-service-limits": 1, "identities": 2}
    first = findings.findings_ordered(review).first()
    findings.finding_accept(
        finding=first,
        user=cast.admin,
        reason="Vendor limit",
        until=timezone.localdate() + timezone.timedelta(days=90),
    )
    infos = findings.analysis_findings(review)
    # Accepted risks are listed last, with the number they had; the matrix leaves them off.
    assert [(i.finding.question.ident, i.number) for i in infos] == [
        ("identities", 2),
        ("manage-service-limits", 1),
    ]
    assert [p.key for p in findings.matrix_points(infos)] == [str(infos[0].finding.uuid)]
