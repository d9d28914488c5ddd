"""Every published lens in the shared folder imports, and exporting it gives back the same
pillars, questions, choices and rules; export → import → export is a fixed point."""

import json
from pathlib import Path

import pytest

from questionnaires.services import lens_export, lens_import
from tests.conftest import PUBLISHED_LENSES as SHARED
from tests.conftest import needs_published_lenses

pytestmark = needs_published_lenses
BUILTIN = Path(__file__).resolve().parents[2] / "questionnaires" / "lenses"
FILES = sorted(SHARED.glob("*.json")) + sorted(BUILTIN.glob("*.json"))


def test_the_shared_lenses_are_there():
    assert len(sorted(SHARED.glob("*.json"))) >= 7, f"expected the published lenses in {SHARED}"


def normalised(document: dict) -> list:
    """What must survive a round trip: ids, titles, texts, links, rules; in order."""

    def resource(obj):
        obj = obj or {}
        return (obj.get("displayText", ""), obj.get("url", obj.get("Url", "")))

    out = []
    for pillar in document["pillars"]:
        questions = []
        for q in pillar["questions"]:
            help_text, help_url = resource(q.get("helpfulResource"))
            questions.append(
                (
                    q["id"],
                    q["title"],
                    q.get("description", ""),
                    help_text,
                    help_url or q.get("url", ""),
                    [
                        (
                            c["id"],
                            c["title"],
                            c.get("description", ""),
                            resource(c.get("helpfulResource")),
                            resource(c.get("improvementPlan")),
                            c.get("additionalResources", []),
                        )
                        for c in q["choices"]
                    ],
                    [(r["condition"], r["risk"]) for r in q["riskRules"]],
                )
            )
        out.append((pillar["id"], pillar["name"], questions))
    return out


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_lens_round_trips(db, path):
    original = json.loads(path.read_text(encoding="utf-8"))
    result = lens_import(raw=path.read_bytes(), source_name=path.name)
    exported = json.loads(lens_export(result.lens))
    assert exported["name"] == original["name"]
    assert exported.get("description", "") == original.get("description", "")
    assert normalised(exported) == normalised(original)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_export_import_export_is_a_fixed_point(db, path):
    first = lens_export(lens_import(raw=path.read_bytes()).lens)
    renamed = json.loads(first)
    renamed["name"] = renamed["name"][:100] + " (copy)"
    second = lens_export(lens_import(raw=json.dumps(renamed)).lens)
    assert json.loads(second) == renamed
