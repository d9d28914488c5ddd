"""Risk labels come from one place, the Risk choices: pages, charts and the PDF use them."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from actions import charts
from questionnaires.risk import Risk


def render(text: str, **context) -> str:
    return Template("{% load pillarwise %}" + text).render(Context(context))


@pytest.mark.parametrize("risk", list(Risk))
def test_the_filters_give_the_risk_labels(risk):
    assert render("{{ r|risk_label }}", r=risk.value) == risk.label
    assert render("{{ r|risk_short }}", r=risk.value) == risk.short_label


def test_short_labels_drop_the_word_risk_only_where_it_goes_without_saying():
    assert [r.short_label for r in Risk] == [
        "High",
        "Medium",
        "No risk",
        "Not applicable",
        "Unanswered",
    ]


def test_an_unknown_value_is_shown_as_it_is():
    assert render("{{ r|risk_label }}/{{ r|risk_short }}", r="ODD") == "ODD/ODD"


def test_the_risk_chart_legend_uses_the_short_labels():
    svg = charts.risk_bars_svg([("Security", {"HIGH": 1, "NONE": 2})], width=420)
    for risk in Risk:
        assert f">{risk.short_label}</text>" in svg
