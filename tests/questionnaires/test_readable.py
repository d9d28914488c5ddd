"""Risk rules in readable text, rendered from the parsed condition, and the lens page that
shows a lens as its pillars, questions, choices and rules."""

import pytest
from django.urls import reverse

from questionnaires.readable import RuleText, rules_text
from questionnaires.services import lens_import
from tests.questionnaires.test_lensfile import lens, raw

TITLES = {"a": "Alpha", "b": "Beta", "c": "Gamma"}


@pytest.mark.parametrize(
    ("condition", "text"),
    [
        ("a", "High risk when “Alpha” is selected."),
        ("!a", "High risk when “Alpha” is not selected."),
        ("a && b", "High risk when all of “Alpha”, “Beta” are selected."),
        ("!a && !b", "High risk when none of “Alpha”, “Beta” is selected."),
        ("!(a || b || c)", "High risk when none of “Alpha”, “Beta”, “Gamma” is selected."),
        ("a || b", "High risk when any of “Alpha”, “Beta” is selected."),
        ("!a || !b", "High risk when not all of “Alpha”, “Beta” are selected."),
        ("!(a && b)", "High risk when not all of “Alpha”, “Beta” are selected."),
        ("a && !b", "High risk when “Alpha” is selected and “Beta” is not selected."),
        (
            "(a && b) || c",
            "High risk when “Gamma” is selected or (all of “Alpha”, “Beta” are selected).",
        ),
        (
            "!(a && (b || c))",
            "High risk when not (“Alpha” is selected and (any of “Beta”, “Gamma” is selected)).",
        ),
        ("zz", "High risk when “zz” is selected."),
    ],
)
def test_a_condition_reads_as_a_sentence(condition, text):
    assert rules_text([(condition, "HIGH"), ("default", "NONE")], TITLES)[0].text == text


def test_rules_read_in_order_with_otherwise_and_the_engines_last_rule():
    assert rules_text([("a && b", "NONE"), ("a", "MEDIUM"), ("default", "HIGH")], TITLES) == [
        RuleText("NONE", "No risk when all of “Alpha”, “Beta” are selected.", "a && b"),
        RuleText("MEDIUM", "Medium risk when “Alpha” is selected.", "a"),
        RuleText("HIGH", "High risk otherwise.", "default"),
    ]
    # With no default rule, the engine gives HIGH when nothing holds: say so.
    assert [r.text for r in rules_text([("a", "NONE")], TITLES)] == [
        "No risk when “Alpha” is selected.",
        "High risk otherwise.",
    ]
    assert [r.text for r in rules_text([("default", "MEDIUM"), ("a", "NONE")], TITLES)] == [
        "Medium risk in every case.",
        "No risk when “Alpha” is selected. Never reached: an earlier rule always holds.",
    ]
    assert [r.text for r in rules_text([], TITLES)] == ["High risk whatever is selected."]
    assert rules_text([("a &&", "NONE")], TITLES)[0].text.startswith("No risk: cannot be read")


def test_the_lens_page_shows_the_rules_in_words(client, cast):
    document = lens()
    document["pillars"][0]["questions"][0]["riskRules"] = [
        {"condition": "!a && !b", "risk": "HIGH_RISK"},
        {"condition": "a && b", "risk": "NO_RISK"},
        {"condition": "default", "risk": "MEDIUM_RISK"},
    ]
    stored = lens_import(raw=raw(document)).lens
    client.force_login(cast.viewer)
    body = client.get(reverse("questionnaires:lens_detail", args=[stored.uuid])).content.decode()
    assert "High risk when none of “Practice a”, “Practice b” is selected." in body
    assert "No risk when all of “Practice a”, “Practice b” are selected." in body
    assert "Medium risk otherwise." in body
    assert (
        '<code class="rule muted" title="The rule as written in the lens file">!a &amp;&amp; !b</code>'
        in body
    )


def test_the_framework_lens_page_reads_in_words(
    client, cast, lenses, django_assert_max_num_queries
):
    client.force_login(cast.member)
    with django_assert_max_num_queries(10):
        response = client.get(
            reverse("questionnaires:lens_detail", args=[lenses["Well-Architected Framework"].uuid])
        )
    body = response.content.decode()
    assert body.count(" risk otherwise.") == 57  # every question ends with a default rule
    assert "&amp;&amp;" in body and "No risk when all of “" in body
