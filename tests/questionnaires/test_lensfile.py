"""Reading lens files: every rejection names its place and creates nothing; what real lenses
do that the spec does not is accepted with a warning."""

import copy
import json

import pytest

from questionnaires.lensfile import LensFileError, read_lens_file
from questionnaires.models import Choice, Lens, Pillar, Question, RiskRule
from questionnaires.services import lens_import


def choice(ident, title=None):
    return {
        "id": ident,
        "title": title or f"Practice {ident}",
        "helpfulResource": {"displayText": "Why it helps.", "url": "https://example.com/help"},
        "improvementPlan": {"displayText": "What to do."},
    }


def question(ident, choices=("a", "b"), rules=None):
    return {
        "id": ident,
        "title": f"Question {ident}?",
        "description": "What this asks.",
        "choices": [choice(f"{c}") for c in choices],
        "riskRules": rules
        if rules is not None
        else [
            {"condition": " && ".join(choices), "risk": "NO_RISK"},
            {"condition": choices[0], "risk": "MEDIUM_RISK"},
            {"condition": "default", "risk": "HIGH_RISK"},
        ],
    }


def lens(**overrides):
    document = {
        "schemaVersion": "2021-11-01",
        "name": "Test lens",
        "description": "A lens for tests.",
        "pillars": [
            {"id": "p1", "name": "Pillar one", "questions": [question("q1"), question("q2")]},
            {"id": "p2", "name": "Pillar two", "questions": [question("q3", ("x", "y", "z"))]},
        ],
    }
    document.update(overrides)
    return document


def raw(document) -> bytes:
    return json.dumps(document).encode()


def rejected(document_or_text) -> list[str]:
    """Import must fail, list its errors, and leave the database as it was."""
    text = document_or_text if isinstance(document_or_text, str | bytes) else raw(document_or_text)
    before = [m.objects.count() for m in (Lens, Pillar, Question, Choice, RiskRule)]
    with pytest.raises(LensFileError) as caught:
        lens_import(raw=text, source_name="test.json")
    assert [m.objects.count() for m in (Lens, Pillar, Question, Choice, RiskRule)] == before
    return caught.value.errors


@pytest.fixture
def existing(db):
    """Something already in the library, which a rejected import must leave alone."""
    return lens_import(raw=raw(lens(name="Already here")), source_name="here.json").lens


def test_a_valid_lens_imports_with_its_tree(db):
    result = lens_import(raw=raw(lens()), source_name="test.json")
    stored = result.lens
    assert result.created and result.warnings == []
    assert (stored.name, stored.version, stored.description) == (
        "Test lens",
        1,
        "A lens for tests.",
    )
    assert [p.ident for p in stored.pillars.all()] == ["p1", "p2"]
    q1 = Question.objects.get(pillar__lens=stored, ident="q1")
    assert [c.ident for c in q1.choices.all()] == ["a", "b"]
    assert [(r.condition, r.risk) for r in q1.risk_rules.all()] == [
        ("a && b", "NONE"),
        ("a", "MEDIUM"),
        ("default", "HIGH"),
    ]
    first = q1.choices.first()
    assert (first.helpful_text, first.helpful_url, first.improvement_text) == (
        "Why it helps.",
        "https://example.com/help",
        "What to do.",
    )


def test_invalid_json_names_line_and_column(existing):
    errors = rejected('{\n  "name": "x",\n  "pillars": [\n}')
    assert errors == ["invalid JSON at line 4, column 1: Expecting value"]


def test_not_utf8_is_rejected(existing):
    assert "not UTF-8" in rejected(b'{"name": "\xff"}')[0]


def test_top_level_must_be_an_object(existing):
    assert rejected("[1, 2]") == ["the file must hold a JSON object, not a list"]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.pop("name"), "missing required field 'name'"),
        (lambda d: d.pop("schemaVersion"), "missing required field 'schemaVersion'"),
        (lambda d: d.pop("pillars"), "missing required field 'pillars'"),
        (lambda d: d["pillars"][1].pop("name"), "pillars[1]: missing required field 'name'"),
        (
            lambda d: d["pillars"][0]["questions"][1].pop("title"),
            "pillars[0].questions[1]: missing required field 'title'",
        ),
        (
            lambda d: d["pillars"][0]["questions"][0].pop("riskRules"),
            "pillars[0].questions[0]: missing required field 'riskRules'",
        ),
        (
            lambda d: d["pillars"][0]["questions"][0]["choices"][1].pop("id"),
            "pillars[0].questions[0].choices[1]: missing required field 'id'",
        ),
        (
            lambda d: d["pillars"][0]["questions"][0]["riskRules"][0].pop("risk"),
            "pillars[0].questions[0].riskRules[0]: missing required field 'risk'",
        ),
    ],
)
def test_missing_required_fields_are_named(existing, mutate, expected):
    document = lens()
    mutate(document)
    assert expected in rejected(document)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.update(name=42), "name: expected a string, got a number"),
        (lambda d: d.update(pillars={"id": "p"}), "pillars: expected a list, got an object"),
        (
            lambda d: d["pillars"].__setitem__(0, "p1"),
            "pillars[0]: expected an object, got a string",
        ),
        (
            lambda d: d["pillars"][0]["questions"][0].update(choices="a, b"),
            "pillars[0].questions[0].choices: expected a list, got a string",
        ),
        (
            lambda d: d["pillars"][0]["questions"][0]["choices"][0].update(title=None),
            "pillars[0].questions[0].choices[0]: missing required field 'title'",
        ),
        (
            lambda d: d["pillars"][0]["questions"][0]["choices"][0].update(
                helpfulResource="see docs"
            ),
            "pillars[0].questions[0].choices[0].helpfulResource: expected an object, got a string",
        ),
        (
            lambda d: d["pillars"][0]["questions"][0]["riskRules"][0].update(condition=True),
            "pillars[0].questions[0].riskRules[0].condition: expected a string, got a boolean",
        ),
        (
            lambda d: d["pillars"][0]["questions"][0].update(riskRules={}),
            "pillars[0].questions[0].riskRules: expected a list, got an object",
        ),
    ],
)
def test_wrong_types_are_named(existing, mutate, expected):
    document = lens()
    mutate(document)
    assert expected in rejected(document)


def test_duplicate_ids_are_rejected(existing):
    document = lens()
    document["pillars"][1]["id"] = "p1"
    document["pillars"][1]["questions"][0]["id"] = "q1"
    document["pillars"][0]["questions"][1]["choices"][1]["id"] = "a"
    errors = rejected(document)
    assert "pillars[1].id: duplicate pillar id 'p1' (also pillars[0])" in errors
    assert (
        "pillars[1].questions[0].id: duplicate question id 'q1' (also pillars[0].questions[0])"
        in errors
    )
    assert (
        "pillars[0].questions[1].choices[1].id: duplicate choice id 'a' "
        "(also pillars[0].questions[1].choices[0])" in errors
    )


def test_a_condition_that_does_not_parse_is_rejected(existing):
    document = lens()
    document["pillars"][0]["questions"][0]["riskRules"][0]["condition"] = "a && (b"
    assert rejected(document) == [
        "pillars[0].questions[0].riskRules[0].condition: cannot parse 'a && (b': "
        "missing ')' at character 8"
    ]


def test_a_condition_naming_an_unknown_choice_is_rejected(existing):
    document = lens()
    document["pillars"][1]["questions"][0]["riskRules"][1]["condition"] = "x && w"
    assert rejected(document) == [
        "pillars[1].questions[0].riskRules[1].condition: names unknown choice 'w'"
    ]


def test_an_unknown_risk_is_rejected(existing):
    document = lens()
    document["pillars"][0]["questions"][0]["riskRules"][0]["risk"] = "LOW_RISK"
    assert rejected(document) == [
        "pillars[0].questions[0].riskRules[0].risk: 'LOW_RISK' is not one of "
        "HIGH_RISK, MEDIUM_RISK, NO_RISK"
    ]


def test_limits_on_counts(existing):
    too_many_pillars = lens(
        pillars=[{"id": f"p{i}", "name": "P", "questions": [question(f"q{i}")]} for i in range(11)]
    )
    assert rejected(too_many_pillars) == ["pillars[10]: more than 10 pillars"]

    too_many_questions = lens()
    too_many_questions["pillars"][1]["questions"] = [question(f"n{i}") for i in range(21)]
    assert rejected(too_many_questions) == ["pillars[1].questions[20]: more than 20 questions"]

    too_many_choices = lens()
    too_many_choices["pillars"][0]["questions"][1] = question(
        "q2", tuple(f"c{i}" for i in range(16))
    )
    assert rejected(too_many_choices) == [
        "pillars[0].questions[1].choices[15]: more than 15 choices"
    ]


def test_names_titles_and_ids_are_held_to_their_columns(existing):
    document = lens(name="N" * 129)
    document["pillars"][0]["id"] = "p" * 101
    document["pillars"][0]["questions"][0]["title"] = "T" * 129
    document["pillars"][0]["questions"][0]["choices"][0]["helpfulResource"]["url"] = (
        "https://example.com/" + "u" * 2030
    )
    assert rejected(document) == [
        "name: longer than 128 characters (129)",
        "pillars[0].id: longer than 100 characters (101)",
        "pillars[0].questions[0].title: longer than 128 characters (129)",
        "pillars[0].questions[0].choices[0].helpfulResource.url: "
        "longer than 2,048 characters (2,050)",
    ]


def test_texts_beyond_the_hard_cap_are_rejected(existing):
    document = lens(description="D" * 10_001)
    q1 = document["pillars"][0]["questions"][0]
    q1["description"] = "d" * 10_000  # at the cap: a warning only
    q1["choices"][0]["improvementPlan"]["displayText"] = "I" * 10_001
    q1["choices"][1]["helpfulResource"]["displayText"] = "H" * 12_000
    assert rejected(document) == [
        "description: longer than 10,000 characters (10,001)",
        "pillars[0].questions[0].choices[0].improvementPlan.displayText: "
        "longer than 10,000 characters (10,001)",
        "pillars[0].questions[0].choices[1].helpfulResource.displayText: "
        "longer than 10,000 characters (12,000)",
    ]


def test_texts_over_aws_limits_import_with_warnings_naming_the_places(db):
    document = lens(description="D" * 2049)
    q1 = document["pillars"][0]["questions"][0]
    q1["helpfulResource"] = {"displayText": "Q" * 2100, "url": "https://example.com/q1"}
    q1["choices"][0]["helpfulResource"]["displayText"] = "H" * 1025
    q1["choices"][1]["improvementPlan"]["displayText"] = "I" * 9_999
    q1["choices"][1]["description"] = "C" * 3000
    result = lens_import(raw=raw(document))
    assert result.created
    assert result.warnings == [
        "description: longer than AWS's limit of 2,048 characters (2,049); imported as it is",
        "pillars[0].questions[0].helpfulResource.displayText: longer than AWS's limit of "
        "2,048 characters (2,100); imported as it is",
        "pillars[0].questions[0].choices[0].helpfulResource.displayText: longer than AWS's "
        "limit of 1,024 characters (1,025); imported as it is",
        "pillars[0].questions[0].choices[1].description: longer than AWS's limit of "
        "2,048 characters (3,000); imported as it is",
        "pillars[0].questions[0].choices[1].improvementPlan.displayText: longer than AWS's "
        "limit of 1,024 characters (9,999); imported as it is",
    ]
    stored = Choice.objects.get(question__pillar__lens=result.lens, question__ident="q1", ident="b")
    assert stored.improvement_text == "I" * 9_999 and stored.description == "C" * 3000
    assert result.lens.import_warnings == result.warnings


def test_a_file_over_2_mb_is_rejected(existing):
    document = lens(description="x" * 2000)
    document["_padding"] = "x" * (2 * 1024 * 1024)
    assert rejected(document) == ["the file is 2.0 MB; the limit is 2 MB"]


def test_a_file_over_500_kb_imports_with_a_warning(db):
    document = lens()
    document["_padding"] = "x" * (600 * 1024)
    size = len(raw(document)) // 1024
    assert size == 602
    result = lens_import(raw=raw(document))
    assert result.created
    assert result.warnings[0] == (
        "the file is 602 KB, over AWS's limit of 500 KB; imported all the same"
    )


def test_empty_lists_and_bad_urls_are_rejected(existing):
    document = lens()
    document["pillars"][1]["questions"] = []
    document["pillars"][0]["questions"][0]["choices"][0]["helpfulResource"]["url"] = "javascript:x"
    assert rejected(document) == [
        "pillars[0].questions[0].choices[0].helpfulResource.url: must be an http or https address",
        "pillars[1].questions: needs at least one question",
    ]


# --- Accepted with warnings ---------------------------------------------------------------------


def test_extra_keys_are_warnings_reported_once_per_key(db):
    document = lens(_release_date="2024-01-01", _release_note="fixes")
    for q in document["pillars"][0]["questions"]:
        q["_note"] = "internal"
    data = read_lens_file(raw(document))
    assert data.warnings == [
        "the top level: extra key '_release_date' ignored",
        "the top level: extra key '_release_note' ignored",
        "pillars[0].questions[0]: extra key '_note' ignored and 1 more places",
    ]


def test_question_without_default_rule_warns_and_evaluates_high(db):
    document = lens()
    document["pillars"][0]["questions"][0]["riskRules"] = [
        {"condition": "a && b", "risk": "NO_RISK"}
    ]
    result = lens_import(raw=raw(document))
    assert result.warnings == [
        "pillars[0].questions[0]: no 'default' rule: when no rule matches, the risk is HIGH"
    ]
    q1 = Question.objects.prefetch_related("risk_rules").get(pillar__lens=result.lens, ident="q1")
    assert q1.evaluate({"a"}) == "HIGH"
    assert q1.evaluate({"a", "b"}) == "NONE"


def test_none_of_these_in_a_condition_is_a_warning(db):
    document = lens()
    q1 = document["pillars"][0]["questions"][0]
    q1["choices"].append(choice("q1_no", "None of these"))
    q1["riskRules"].insert(0, {"condition": "q1_no", "risk": "HIGH_RISK"})
    result = lens_import(raw=raw(document))
    assert result.warnings == [
        "pillars[0].questions[0].riskRules[0].condition: names the 'None of these' choice 'q1_no'"
    ]
    stored = Choice.objects.get(question__pillar__lens=result.lens, ident="q1_no")
    assert stored.is_none_of_these


def test_an_undeclared_none_of_these_choice_is_added(db):
    document = lens()
    document["pillars"][0]["questions"][1]["riskRules"].insert(
        0, {"condition": "q2_no", "risk": "HIGH_RISK"}
    )
    result = lens_import(raw=raw(document))
    assert (
        "pillars[0].questions[1]: added the implicit 'None of these' choice 'q2_no'"
        in result.warnings
    )
    assert Choice.objects.get(question__ident="q2", ident="q2_no").is_none_of_these


def test_question_level_url_and_capitalised_Url_are_kept_with_warnings(db):
    document = lens()
    document["pillars"][0]["questions"][0]["url"] = "https://example.com/q1"
    document["pillars"][0]["questions"][1]["choices"][0]["helpfulResource"] = {
        "displayText": "Help",
        "Url": "https://example.com/Url",
    }
    result = lens_import(raw=raw(document))
    assert result.warnings == [
        "pillars[0].questions[0]: question-level 'url' is not part of the format; kept as its "
        "helpful resource link",
        "pillars[0].questions[1].choices[0].helpfulResource: 'Url' read as 'url'",
    ]
    assert Question.objects.get(ident="q1").helpful_url == "https://example.com/q1"
    assert (
        Choice.objects.get(question__ident="q2", ident="a").helpful_url == "https://example.com/Url"
    )


def test_other_schema_version_is_a_warning(db):
    data = read_lens_file(raw(lens(schemaVersion="2023-01-01")))
    assert data.warnings == ["schemaVersion: is '2023-01-01'; this importer reads '2021-11-01'"]


# --- Versions ----------------------------------------------------------------------------------


def test_same_name_creates_a_new_version_and_identical_content_creates_nothing(no_lenses):
    first = lens_import(raw=raw(lens())).lens
    again = lens_import(raw=json.dumps(lens(), indent=4))
    assert not again.created and again.lens == first
    changed = copy.deepcopy(lens())
    changed["pillars"][0]["questions"][0]["title"] = "Reworded?"
    second = lens_import(raw=raw(changed)).lens
    assert (first.version, second.version) == (1, 2)
    assert Question.objects.get(pillar__lens=first, ident="q1").title == "Question q1?"
    assert Question.objects.get(pillar__lens=second, ident="q1").title == "Reworded?"
    assert list(Lens.objects.latest_versions()) == [second]
