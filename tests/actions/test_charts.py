"""The inline SVG charts: valid, accessible, and points drawn where their values say."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from actions.charts import (
    HIGH_FROM,
    MatrixPoint,
    matrix_svg,
    quadrant_for,
    risk_bars_svg,
    trend_svg,
)

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str, role: str = "img") -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == role
    assert root.get("aria-label")
    assert root.find(f"{SVG}title") is not None
    return root


def quadrant_rects(root: ET.Element) -> dict[str, tuple[float, float, float, float]]:
    rects = {}
    for rect in root.iter(f"{SVG}rect"):
        if rect.get("data-quadrant"):
            rects[rect.get("data-quadrant")] = tuple(
                float(rect.get(k)) for k in ("x", "y", "width", "height")
            )
    return rects


def point_circle(root: ET.Element, key: str) -> tuple[float, float]:
    for group in root.iter(f"{SVG}g"):
        if group.get("data-key") == key:
            circle = next(group.iter(f"{SVG}circle"))
            return float(circle.get("cx")), float(circle.get("cy"))
    raise AssertionError(f"no point {key}")


@pytest.mark.parametrize(
    ("impact", "effort", "quadrant"),
    [
        (5, 1, "quick_win"),
        (3, 2.5, "quick_win"),
        (4, 3, "major_project"),
        (3, 3, "major_project"),
        (2.5, 2, "fill_in"),
        (1, 1, "fill_in"),
        (2, 5, "thankless"),
        (2.5, 3, "thankless"),
        (None, 3, "unrated"),
        (3, None, "unrated"),
    ],
)
def test_quadrant_for_uses_three_or_more_as_high(impact, effort, quadrant):
    assert HIGH_FROM == 3
    assert quadrant_for(impact, effort) == quadrant


@pytest.mark.parametrize(
    ("impact", "effort", "quadrant"),
    [
        (5, 1, "quick_win"),
        (3, 3, "major_project"),
        (2.5, 2.5, "fill_in"),
        (1, 5, "thankless"),
        (3, 2.5, "quick_win"),
    ],
)
def test_each_point_is_drawn_inside_its_quadrant(impact, effort, quadrant):
    root = parse(matrix_svg([MatrixPoint("k", "A finding", impact, effort, "HIGH")]))
    x, y, w, h = quadrant_rects(root)[quadrant]
    cx, cy = point_circle(root, "k")
    assert x < cx < x + w and y < cy < y + h


def test_points_on_the_same_spot_are_spread_and_stay_in_their_quadrant():
    points = [MatrixPoint(f"k{i}", f"F{i}", 3, 3, "MEDIUM") for i in range(7)]
    root = parse(matrix_svg(points))
    x, y, w, h = quadrant_rects(root)["major_project"]
    centres = {point_circle(root, f"k{i}") for i in range(7)}
    assert len(centres) == 7
    assert all(x < cx < x + w and y < cy < y + h for cx, cy in centres)


def test_high_impact_is_at_the_top_and_low_effort_on_the_left():
    root = parse(
        matrix_svg(
            [
                MatrixPoint("top-left", "a", 5, 1, "HIGH"),
                MatrixPoint("bottom-right", "b", 1, 5, "HIGH"),
            ]
        )
    )
    (x1, y1), (x2, y2) = point_circle(root, "top-left"), point_circle(root, "bottom-right")
    assert x1 < x2 and y1 < y2


def test_unrated_points_are_listed_beside_not_plotted():
    svg = matrix_svg(
        [
            MatrixPoint("rated", "Rated one", 4, 2, "HIGH"),
            MatrixPoint("u", "Nobody rated me", None, 2, "MEDIUM"),
        ]
    )
    root = parse(svg)
    assert "Not rated yet (1)" in svg
    assert "2. Nobody rated me" in svg
    group = next(g for g in root.iter(f"{SVG}g") if g.get("data-key") == "u")
    assert "matrix-point" not in (group.get("class") or "")
    numbers = [t.text for t in root.iter(f"{SVG}text") if t.get("fill") == "#fff"]
    assert numbers == ["1"]  # only the rated point is drawn
    assert "1 not rated yet" in root.get("aria-label")


def test_points_are_numbered_in_list_order_and_titled():
    svg = matrix_svg(
        [MatrixPoint("a", "First", 4, 2, "HIGH"), MatrixPoint("b", "Second", 2, 4, "MEDIUM")]
    )
    assert "1. First: impact 4, effort 2 (Quick wins)" in svg
    assert "2. Second: impact 2, effort 4 (Thankless tasks)" in svg


def test_labels_are_escaped():
    svg = matrix_svg([MatrixPoint("x", "<script>alert(1)</script> & co", 4, 4, "HIGH")])
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    parse(svg)


def test_interactive_matrix_carries_drag_data_and_links():
    svg = matrix_svg([MatrixPoint("abc", "A", 4, 2, "HIGH", url="#finding-abc")], interactive=True)
    # A group, not an image: it holds links and draggable points.
    root = parse(svg, role="group")
    assert re.fullmatch(r"[\d.]+ [\d.]+ [\d.]+ [\d.]+", root.get("data-plot"))
    assert root.get("data-scale") == "1 5"
    group = next(g for g in root.iter(f"{SVG}g") if g.get("data-key") == "abc")
    assert group.get("class") == "matrix-point"
    assert (group.get("data-impact"), group.get("data-effort")) == ("4", "2")
    assert 'href="#finding-abc"' in svg


def test_static_matrix_has_no_drag_data():
    root = parse(matrix_svg([MatrixPoint("abc", "A", 4, 2, "HIGH")]))
    assert root.get("data-plot") is None


def test_a_static_matrix_with_links_is_a_group():
    parse(matrix_svg([MatrixPoint("abc", "A", 4, 2, "HIGH", url="#finding-abc")]), role="group")


def test_matrix_of_nothing_is_still_a_valid_chart():
    root = parse(matrix_svg([]))
    assert set(quadrant_rects(root)) == {"quick_win", "major_project", "fill_in", "thankless"}
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert {"Quick wins", "Major projects", "Fill-ins", "Thankless tasks"} <= texts


def test_risk_bars_draw_one_bar_per_pillar_with_its_counts():
    rows = [
        ("Security", {"HIGH": 2, "MEDIUM": 1, "NONE": 5, "NOT_APPLICABLE": 0, "UNANSWERED": 3}),
        ("Cost optimization", {"UNANSWERED": 11}),
    ]
    svg = risk_bars_svg(rows)
    root = parse(svg)
    assert "Security: 2 high, 1 medium, 5 no risk, 3 unanswered" in root.get("aria-label")
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert "Security: 2 high" in titles and "Cost optimization: 11 unanswered" in titles
    widths = {
        r.find(f"{SVG}title").text: float(r.get("width"))
        for r in root.iter(f"{SVG}rect")
        if r.find(f"{SVG}title") is not None
    }
    # One scale for all bars: the 11 unanswered are as long as the 11 of Security together.
    security = sum(w for t, w in widths.items() if t.startswith("Security"))
    assert security == pytest.approx(widths["Cost optimization: 11 unanswered"], abs=0.5)


def test_risk_bars_without_answers_say_so():
    svg = risk_bars_svg([])
    parse(svg)
    assert "No answers yet." in svg


def test_trend_draws_a_line_per_risk_over_milestones():
    series = [
        ("Jan", {"HIGH": 9, "MEDIUM": 4}),
        ("Feb", {"HIGH": 5, "MEDIUM": 6}),
        ("Mar", {"HIGH": 1}),
    ]
    root = parse(trend_svg(series))
    lines = list(root.iter(f"{SVG}polyline"))
    assert len(lines) == 2
    high = [tuple(map(float, p.split(","))) for p in lines[0].get("points").split()]
    assert [x for x, _ in high] == sorted(x for x, _ in high)
    assert high[0][1] < high[1][1] < high[2][1]  # fewer high risks: lower on the chart
    assert "high risks 9 → 5 → 1" in root.get("aria-label")
    assert "medium risks 4 → 6 → 0" in root.get("aria-label")


def test_trend_with_one_milestone_has_points_but_no_lines():
    root = parse(trend_svg([("Only", {"HIGH": 3, "MEDIUM": 2})]))
    assert not list(root.iter(f"{SVG}polyline"))
    assert len(list(root.iter(f"{SVG}circle"))) == 2


def test_trend_without_milestones_says_so():
    svg = trend_svg([])
    parse(svg)
    assert "No milestones yet." in svg


def test_the_quadrants_have_the_usual_names_of_the_impact_effort_matrix():
    """High impact for little effort is a quick win, as in the usual action priority matrix;
    the names come from one place, so the page, the PDF and the exports agree."""
    from actions.charts import QUADRANTS, quadrant_for
    from actions.models import Finding

    named = {
        (5, 1): "Quick wins",
        (5, 5): "Major projects",
        (1, 1): "Fill-ins",
        (1, 5): "Thankless tasks",
    }
    for (impact, effort), label in named.items():
        quadrant = quadrant_for(impact, effort)
        assert Finding.Quadrant(quadrant).label == label
        assert QUADRANTS[quadrant][0] == label
