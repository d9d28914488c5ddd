"""The built-in lenses: the framework lens keeps AWS's identifiers and derives its risk rules
from the best practices' risk levels; Serverless and SaaS ship with at least ten questions."""

import csv
import json
from collections import defaultdict
from pathlib import Path

import pytest

from questionnaires.lensfile import read_lens_file
from questionnaires.models import Choice, Lens, Question
from questionnaires.services import BUILTIN_DIR, FRAMEWORK_FILE, lenses_load_builtin

CSV = Path(__file__).resolve().parents[1] / "data" / "framework-ids.csv"


@pytest.fixture(scope="module")
def framework() -> dict:
    return json.loads((BUILTIN_DIR / FRAMEWORK_FILE).read_text())


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    with CSV.open() as f:
        return list(csv.DictReader(f))


def test_framework_has_six_pillars_and_57_questions(framework):
    assert [p["id"] for p in framework["pillars"]] == [
        "operationalExcellence",
        "security",
        "reliability",
        "performance",
        "costOptimization",
        "sustainability",
    ]
    assert sum(len(p["questions"]) for p in framework["pillars"]) == 57


def test_framework_uses_exactly_the_identifiers_of_the_csv(framework, rows):
    expected = [(r["pillar_id"], r["question_id"], r["choice_id"]) for r in rows]
    actual = [
        (p["id"], q["id"], c["id"])
        for p in framework["pillars"]
        for q in p["questions"]
        for c in q["choices"]
    ]
    assert actual == expected


def test_each_best_practice_links_to_its_documentation_page(framework, rows):
    urls = {r["choice_id"]: r["doc_url"] for r in rows}
    for pillar in framework["pillars"]:
        for q in pillar["questions"]:
            for c in q["choices"]:
                if urls[c["id"]]:
                    assert c["helpfulResource"]["url"] == urls[c["id"]]
                    assert c["improvementPlan"]["url"] == urls[c["id"]]
                    assert c["improvementPlan"]["displayText"]
                else:
                    assert c["id"].endswith("_no") and c["title"] == "None of these"


def test_framework_risk_rules_follow_the_best_practice_risk_levels(framework, rows):
    levels = defaultdict(dict)
    for r in rows:
        levels[r["question_id"]][r["choice_id"]] = r["risk_if_missing"]
    for pillar in framework["pillars"]:
        for q in pillar["questions"]:
            high = [c for c, level in levels[q["id"]].items() if level == "HIGH"]
            medium = [c for c, level in levels[q["id"]].items() if level == "MEDIUM"]
            expected = []
            if high or medium:
                expected.append({"condition": " && ".join(high + medium), "risk": "NO_RISK"})
            if high:
                expected.append({"condition": " && ".join(high), "risk": "MEDIUM_RISK"})
            expected.append(
                {
                    "condition": "default",
                    "risk": "HIGH_RISK" if high else "MEDIUM_RISK" if medium else "NO_RISK",
                }
            )
            assert q["riskRules"] == expected, q["id"]


def test_framework_risk_examples(lenses):
    q = Question.objects.prefetch_related("risk_rules").get(
        pillar__lens=lenses["Well-Architected Framework"], ident="priorities"
    )
    high = ["ops_priorities_ext_cust_needs", "ops_priorities_int_cust_needs",
            "ops_priorities_governance_reqs", "ops_priorities_compliance_reqs"]  # fmt: skip
    medium = ["ops_priorities_eval_threat_landscape", "ops_priorities_eval_tradeoffs"]
    assert q.evaluate(set(high + medium)) == "NONE"
    assert q.evaluate(set(high + medium[:1])) == "MEDIUM"
    assert q.evaluate(set(high[:3] + medium)) == "HIGH"
    assert q.evaluate({"ops_priorities_no"}) == "HIGH"


@pytest.mark.parametrize("name", ["serverless.json", "saas.json"])
def test_serverless_and_saas_lenses_have_at_least_ten_questions(name):
    data = read_lens_file((BUILTIN_DIR / name).read_bytes())
    assert data.warnings == []
    assert sum(len(p.questions) for p in data.pillars) >= 10
    assert all(
        any(c.is_none_of_these for c in q.choices) for p in data.pillars for q in p.questions
    )


def test_builtin_files_import_without_warnings():
    for path in sorted(BUILTIN_DIR.glob("*.json")):
        assert read_lens_file(path.read_bytes()).warnings == [], path.name


def test_loading_builtin_lenses_is_idempotent(no_lenses):
    first = lenses_load_builtin()
    assert all(r.created for r in first)
    counts = (Lens.objects.count(), Question.objects.count(), Choice.objects.count())
    second = lenses_load_builtin()
    assert not any(r.created for r in second)
    assert (Lens.objects.count(), Question.objects.count(), Choice.objects.count()) == counts
    framework = Lens.objects.get(is_framework=True)
    assert framework.name == "Well-Architected Framework" and framework.is_builtin
    assert (
        Choice.objects.filter(question__pillar__lens=framework, is_none_of_these=True).count() == 57
    )
