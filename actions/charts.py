"""Inline SVG charts for pages, emails and the PDF: the impact × effort matrix, risk counts
per pillar, and the risk trend over milestones.

Every chart is self-contained SVG markup: presentation attributes only (no stylesheet, no
script), a <title> and an aria-label, so it renders the same in a browser and in WeasyPrint.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from actions.models import Finding
from questionnaires.risk import Risk

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
TEXT = "#1d2330"
MUTED = "#5b6474"
GRID = "#dde1e7"
RISK_COLOURS = {
    "HIGH": "#c62f3a",
    "MEDIUM": "#b86a00",
    "NONE": "#1e7d4f",
    "NOT_APPLICABLE": "#6b7280",
    "UNANSWERED": "#cfd4dc",
}

# The matrix: business impact and technical effort are rated 1 to 5. A value of 3 or more
# is "high" on its axis (HIGH_FROM); the median of an even number of ratings can be x.5, so
# the dividing line is drawn at 2.75, between 2.5 (low) and 3 (high).
SCALE_MIN, SCALE_MAX = 1, 5
HIGH_FROM = 3
DIVIDER = 2.75
Q = Finding.Quadrant
QUADRANTS: dict[str, tuple[str, str, str, bool, bool]] = {
    # name: (label, fill, text colour, high impact?, high effort?); the labels are the
    # quadrants' display names, the same on the page, in the PDF and in exports.
    Q.QUICK_WIN: (Q.QUICK_WIN.label, "#e2f4ea", "#1e7d4f", True, False),
    Q.MAJOR_PROJECT: (Q.MAJOR_PROJECT.label, "#e7eefc", "#2347a8", True, True),
    Q.FILL_IN: (Q.FILL_IN.label, "#fff7e6", "#8a5200", False, False),
    Q.THANKLESS: (Q.THANKLESS.label, "#eceef1", "#5b6474", False, True),
}


@dataclass
class MatrixPoint:
    """One finding on the matrix. `impact` and `effort` are 1 to 5 (medians may be halves);
    None for either means not rated yet: listed beside the matrix, not plotted."""

    key: str
    label: str
    impact: float | None
    effort: float | None
    risk: str
    url: str = ""
    # The finding's own number; None: numbered by position in the list drawn.
    number: int | None = None

    @property
    def is_rated(self) -> bool:
        return self.impact is not None and self.effort is not None


def quadrant_for(impact: float | None, effort: float | None) -> str:
    """The quadrant of a point: quick_win, major_project, fill_in, thankless, or unrated."""
    if impact is None or effort is None:
        return "unrated"
    high_impact, high_effort = impact >= HIGH_FROM, effort >= HIGH_FROM
    if high_impact:
        return "major_project" if high_effort else "quick_win"
    return "thankless" if high_effort else "fill_in"


def _svg(
    width: float, height: float, label: str, body: list[str], *, role: str = "img", **attrs: str
) -> SafeString:
    extra = "".join(
        f' {name.rstrip("_").replace("_", "-")}="{escape(value)}"' for name, value in attrs.items()
    )
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(width)} {_n(height)}" '
        f'width="{_n(width)}" height="{_n(height)}" role="{role}" aria-label="{escape(label)}" '
        f'font-family="{escape(FONT)}"{extra}>'
        f"<title>{escape(label)}</title>" + "".join(body) + "</svg>"
    )


def _n(value: float) -> str:
    """A coordinate, short: 12, 12.5."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _text(x: float, y: float, text: str, *, size: float = 11, fill: str = TEXT, **attrs) -> str:
    extra = "".join(
        f' {name.rstrip("_").replace("_", "-")}="{escape(str(value))}"'
        for name, value in attrs.items()
    )
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}" fill="{fill}"{extra}>'
        f"{escape(text)}</text>"
    )


def _truncate(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: max(chars - 1, 1)].rstrip() + "…"


# --- The impact × effort matrix ----------------------------------------------------------------


def matrix_svg(points: list[MatrixPoint], *, interactive: bool = False, width: int = 520) -> str:
    """The impact × effort matrix: business impact up the y axis (1 to 5, high at the top),
    technical effort along the x axis (1 to 5, low on the left), the four quadrants named and
    shaded. Each point carries its finding's number, or is numbered by its position in
    `points` (so a list beside the chart can use the same numbers); points without both ratings are listed beside, not plotted.

    interactive=True marks points for drag-and-drop (class "matrix-point" with data-key,
    data-impact, data-effort) and records the plot geometry on the <svg> (data-plot="x y
    width height", data-scale="min max") so a script can turn a drop position into values."""
    numbered = [(p.number or n, p) for n, p in enumerate(points, start=1)]
    unrated = [(n, p) for n, p in numbered if not p.is_rated]
    rated = [(n, p) for n, p in numbered if p.is_rated]

    side = max(150.0, width * 0.32) if unrated else 0.0
    left, top, right, bottom = 46.0, 10.0, 10.0, 42.0
    plot = max(width - side - left - right, 160.0)
    x0, y0 = left, top
    span = SCALE_MAX - SCALE_MIN + 1  # 0.5 of margin on each side of the scale

    def px(effort: float) -> float:
        return x0 + (effort - SCALE_MIN + 0.5) / span * plot

    def py(impact: float) -> float:
        return y0 + plot - (impact - SCALE_MIN + 0.5) / span * plot

    body: list[str] = []
    # Quadrants, shaded and named.
    dx, dy = px(DIVIDER), py(DIVIDER)
    areas = {
        "quick_win": (x0, y0, dx - x0, dy - y0),
        "major_project": (dx, y0, x0 + plot - dx, dy - y0),
        "fill_in": (x0, dy, dx - x0, y0 + plot - dy),
        "thankless": (dx, dy, x0 + plot - dx, y0 + plot - dy),
    }
    for name, (x, y, w, h) in areas.items():
        label, fill, ink, _, _ = QUADRANTS[name]
        body.append(
            f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" fill="{fill}" '
            f'data-quadrant="{name}"/>'
        )
        # Each name sits in the quadrant's outer corner, away from the points near the middle.
        right_side, bottom_side = (
            name in ("major_project", "thankless"),
            name in ("fill_in", "thankless"),
        )
        body.append(
            _text(
                x + w - 6 if right_side else x + 6,
                y + h - 7 if bottom_side else y + 15,
                label,
                size=11.5,
                fill=ink,
                font_weight="700",
                text_anchor="end" if right_side else "start",
            )
        )
    body.append(
        f'<rect x="{_n(x0)}" y="{_n(y0)}" width="{_n(plot)}" height="{_n(plot)}" fill="none" '
        f'stroke="{GRID}"/>'
    )
    body.append(
        f'<line x1="{_n(dx)}" y1="{_n(y0)}" x2="{_n(dx)}" y2="{_n(y0 + plot)}" stroke="#9aa3b2" '
        f'stroke-dasharray="4 3"/>'
        f'<line x1="{_n(x0)}" y1="{_n(dy)}" x2="{_n(x0 + plot)}" y2="{_n(dy)}" stroke="#9aa3b2" '
        f'stroke-dasharray="4 3"/>'
    )
    # Ticks and axis titles.
    for v in range(SCALE_MIN, SCALE_MAX + 1):
        body.append(_text(px(v), y0 + plot + 14, str(v), size=10, fill=MUTED, text_anchor="middle"))
        body.append(_text(x0 - 8, py(v) + 3.5, str(v), size=10, fill=MUTED, text_anchor="end"))
    body.append(
        _text(
            x0 + plot / 2,
            y0 + plot + 32,
            "Technical effort →",
            size=11,
            fill=MUTED,
            text_anchor="middle",
        )
    )
    cy = y0 + plot / 2
    body.append(
        _text(
            14,
            cy,
            "Business impact →",
            size=11,
            fill=MUTED,
            text_anchor="middle",
            transform=f"rotate(-90 14 {_n(cy)})",
        )
    )

    # Points: those on the same spot are spread in a small grid around it.
    groups: dict[tuple[float, float], list[tuple[int, MatrixPoint]]] = defaultdict(list)
    for n, p in rated:
        groups[(float(p.impact), float(p.effort))].append((n, p))  # type: ignore[arg-type]
    cell = plot / span
    for (impact, effort), members in groups.items():
        cols = math.ceil(math.sqrt(len(members)))
        rows = math.ceil(len(members) / cols)
        step = min(21.0, cell * 0.9 / cols)
        radius = min(9.0, step * 0.45)
        # Keep the whole group inside the quadrant its values put it in.
        half_w = (cols - 1) / 2 * step + radius + 1
        half_h = (rows - 1) / 2 * step + radius + 1
        x_lo, x_hi = (dx, x0 + plot) if effort >= HIGH_FROM else (x0, dx)
        y_lo, y_hi = (y0, dy) if impact >= HIGH_FROM else (dy, y0 + plot)
        gx = min(max(px(effort), x_lo + half_w), x_hi - half_w)
        gy = min(max(py(impact), y_lo + half_h), y_hi - half_h)
        for i, (n, p) in enumerate(members):
            cx = gx + (i % cols - (cols - 1) / 2) * step
            cy_ = gy + (i // cols - (rows - 1) / 2) * step
            body.append(_point(n, p, cx, cy_, radius, interactive))

    if unrated:
        body.extend(_unrated_list(unrated, x=x0 + plot + right + 12, y=y0, width=side - 16))

    rows_needed = len(unrated) + 2
    height = max(y0 + plot + bottom, y0 + rows_needed * 16 + 20 if unrated else 0)
    counts: defaultdict[str, int] = defaultdict(int)
    for _, p in numbered:
        counts[quadrant_for(p.impact, p.effort)] += 1
    summary = ", ".join(
        f"{QUADRANTS[name][0].lower()} {counts[name]}" for name in QUADRANTS if counts[name]
    )
    label = f"Impact × effort matrix of {len(points)} finding{'s' if len(points) != 1 else ''}"
    if summary:
        label += f": {summary}"
    if unrated:
        label += f"; {len(unrated)} not rated yet"
    attrs = {"class_": "matrix-chart"}
    if interactive:
        attrs.update(
            data_plot=f"{_n(x0)} {_n(y0)} {_n(plot)} {_n(plot)}",
            data_scale=f"{SCALE_MIN} {SCALE_MAX}",
        )
    # A chart with links or draggable points is a group of them: an image holds nothing
    # one can focus.
    role = "group" if interactive or any(p.url for p in points) else "img"
    return _svg(width, height, label, body, role=role, **attrs)


def _point(n: int, p: MatrixPoint, cx: float, cy: float, r: float, interactive: bool) -> str:
    colour = RISK_COLOURS.get(p.risk, RISK_COLOURS["UNANSWERED"])
    quadrant = QUADRANTS[quadrant_for(p.impact, p.effort)][0]
    tip = (
        f"{n}. {p.label}: impact {_n(float(p.impact))}, "  # type: ignore[arg-type]
        f"effort {_n(float(p.effort))} ({quadrant})"  # type: ignore[arg-type]
    )
    attrs = f' data-key="{escape(p.key)}"'
    if interactive:
        attrs += (
            f' class="matrix-point" data-impact="{_n(float(p.impact))}"'  # type: ignore[arg-type]
            f' data-effort="{_n(float(p.effort))}" data-number="{n}" style="cursor:grab"'  # type: ignore[arg-type]
        )
    inner = (
        f"<title>{escape(tip)}</title>"
        f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r)}" fill="{colour}" stroke="#fff" '
        f'stroke-width="1.5"/>'
        + _text(
            cx,
            cy + r * 0.38,
            str(n),
            size=max(r * 1.05, 6),
            fill="#fff",
            text_anchor="middle",
            font_weight="700",
        )
    )
    if p.url:
        inner = f'<a href="{escape(p.url)}">{inner}</a>'
    return f"<g{attrs}>{inner}</g>"


def _unrated_list(items: list[tuple[int, MatrixPoint]], *, x: float, y: float, width: float):
    chars = max(int(width / 6.2) - 4, 8)
    yield _text(x, y + 12, f"Not rated yet ({len(items)})", size=11.5, font_weight="700")
    for i, (n, p) in enumerate(items):
        line_y = y + 32 + i * 16
        colour = RISK_COLOURS.get(p.risk, RISK_COLOURS["UNANSWERED"])
        item = f'<circle cx="{_n(x + 4)}" cy="{_n(line_y - 3.5)}" r="4" fill="{colour}"/>' + _text(
            x + 12, line_y, f"{n}. {_truncate(p.label, chars)}", size=10.5
        )
        if p.url:
            item = f'<a href="{escape(p.url)}">{item}</a>'
        yield f'<g data-key="{escape(p.key)}"><title>{escape(f"{n}. {p.label}")}</title>{item}</g>'


# --- Risk counts per pillar ----------------------------------------------------------------------

BAR_ORDER = tuple(Risk.values)


def risk_bars_svg(rows: list[tuple[str, dict[str, int]]], *, width: int = 520) -> str:
    """One horizontal stacked bar per pillar: counts of high, medium, no risk, not applicable
    and unanswered questions, with a legend. Bars share one scale (the largest pillar)."""
    label_w = min(170.0, width * 0.34)
    legend_h, row_h, bar_h = 24.0, 26.0, 16.0
    bar_x = label_w + 8
    bar_w = width - bar_x - 34
    longest = max((sum(counts.get(k, 0) for k in BAR_ORDER) for _, counts in rows), default=0)
    body: list[str] = []
    x = 0.0
    for key in BAR_ORDER:
        body.append(
            f'<rect x="{_n(x)}" y="4" width="10" height="10" rx="2" fill="{RISK_COLOURS[key]}"/>'
        )
        body.append(_text(x + 14, 13, Risk(key).short_label, size=10.5, fill=MUTED))
        x += 14 + len(Risk(key).short_label) * 6.0 + 14
    if not rows or longest == 0:
        body.append(_text(0, legend_h + 18, "No answers yet.", size=11.5, fill=MUTED))
        return _svg(width, legend_h + 30, "Risk counts per pillar: no answers yet", body)
    summary = []
    for i, (label, counts) in enumerate(rows):
        y = legend_h + i * row_h
        total = sum(counts.get(k, 0) for k in BAR_ORDER)
        body.append(
            _text(0, y + bar_h - 4, _truncate(label, int(label_w / 6.3)), size=11.5, fill=TEXT)
        )
        seg_x = bar_x
        parts = []
        for key in BAR_ORDER:
            value = counts.get(key, 0)
            if not value:
                continue
            w = value / longest * bar_w
            body.append(
                f'<rect x="{_n(seg_x)}" y="{_n(y + 2)}" width="{_n(w)}" height="{_n(bar_h)}" '
                f'fill="{RISK_COLOURS[key]}"><title>{escape(label)}: {value} '
                f"{escape(Risk(key).short_label.lower())}</title></rect>"
            )
            ink = TEXT if key == "UNANSWERED" else "#fff"
            if w >= 8 + 6 * len(str(value)):
                body.append(
                    _text(
                        seg_x + w / 2,
                        y + bar_h - 1.5,
                        str(value),
                        size=10,
                        fill=ink,
                        text_anchor="middle",
                        font_weight="700",
                    )
                )
            seg_x += w
            parts.append(f"{value} {Risk(key).short_label.lower()}")
        body.append(_text(seg_x + 5, y + bar_h - 1.5, str(total), size=10, fill=MUTED))
        summary.append(f"{label}: {', '.join(parts) or 'none'}")
    height = legend_h + len(rows) * row_h + 4
    return _svg(width, height, "Risk counts per pillar. " + "; ".join(summary), body)


# --- The risk trend over milestones ----------------------------------------------------------------

TREND_KEYS = tuple((risk.value, f"{risk.short_label} risks") for risk in (Risk.HIGH, Risk.MEDIUM))


def trend_svg(series: list[tuple[str, dict[str, int]]], *, width: int = 520) -> str:
    """High and medium risk counts over milestones (oldest first), one line each."""
    height = 200.0
    left, top, right, bottom = 34.0, 26.0, 14.0, 44.0
    body: list[str] = []
    x = left
    for key, label in TREND_KEYS:
        body.append(
            f'<line x1="{_n(x)}" y1="9" x2="{_n(x + 16)}" y2="9" stroke="{RISK_COLOURS[key]}" '
            f'stroke-width="2.5"/>'
        )
        body.append(_text(x + 20, 13, label, size=10.5, fill=MUTED))
        x += 20 + len(label) * 6.0 + 18
    if not series:
        body.append(_text(left, top + 40, "No milestones yet.", size=11.5, fill=MUTED))
        return _svg(width, top + 60, "Risk trend: no milestones yet", body)
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = max(max(c.get(k, 0) for k, _ in TREND_KEYS) for _, c in series)
    nice = max(_nice_ceiling(top_value), 1)

    def gx(i: int) -> float:
        return left + (plot_w / 2 if len(series) == 1 else i * plot_w / (len(series) - 1))

    def gy(value: int) -> float:
        return top + plot_h - value / nice * plot_h

    ticks = [0, nice // 2, nice] if nice % 2 == 0 else [0, nice]
    for tick in ticks:
        body.append(
            f'<line x1="{_n(left)}" y1="{_n(gy(tick))}" x2="{_n(left + plot_w)}" '
            f'y2="{_n(gy(tick))}" stroke="{GRID}"/>'
        )
        body.append(
            _text(left - 6, gy(tick) + 3.5, str(tick), size=10, fill=MUTED, text_anchor="end")
        )
    chars = max(int(plot_w / max(len(series), 1) / 6.0), 4)
    for i, (label, _) in enumerate(series):
        anchor = "middle"
        if len(series) > 1 and i == 0:
            anchor = "start"
        elif len(series) > 1 and i == len(series) - 1:
            anchor = "end"
        body.append(
            _text(
                gx(i),
                top + plot_h + 16,
                _truncate(label, chars),
                size=10,
                fill=MUTED,
                text_anchor=anchor,
            )
        )
    summary = []
    for key, label in TREND_KEYS:
        colour = RISK_COLOURS[key]
        coords = [(gx(i), gy(c.get(key, 0))) for i, (_, c) in enumerate(series)]
        if len(coords) > 1:
            body.append(
                f'<polyline points="{" ".join(f"{_n(a)},{_n(b)}" for a, b in coords)}" '
                f'fill="none" stroke="{colour}" stroke-width="2.5" stroke-linejoin="round"/>'
            )
        for (cx, cy), (name, counts) in zip(coords, series, strict=True):
            value = counts.get(key, 0)
            body.append(
                f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="3.5" fill="{colour}">'
                f"<title>{escape(name)}: {value} {label.lower()}</title></circle>"
            )
            # The larger count's label goes above its point, the other's below.
            other = counts.get("MEDIUM" if key == "HIGH" else "HIGH", 0)
            above = value > other or (value == other and key == "HIGH")
            offset = -7 if above else 14
            body.append(
                _text(cx, cy + offset, str(value), size=10, fill=colour, text_anchor="middle")
            )
        summary.append(f"{label.lower()} " + " → ".join(str(c.get(key, 0)) for _, c in series))
    aria = (
        f"Risk trend over {len(series)} milestone{'s' if len(series) != 1 else ''}: "
        + "; ".join(summary)
    )
    return _svg(width, height, aria, body)


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... at or above value (an even tick step)."""
    if value <= 0:
        return 0
    magnitude = 10 ** int(math.floor(math.log10(value)))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude
