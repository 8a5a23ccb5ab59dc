"""Inline SVG charts for the static leaderboard site, drawn in Python (no JS, no network).

Each function returns one ``<svg>`` element as text. Marks carry classes the stylesheet and
the browser test rely on (``bar``, ``whisker``, ``point``, ``line``) and a ``<title>`` child,
which browsers show as a tooltip. All accuracies are fractions drawn on a 0-100% axis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1", "#edc948", "#9c755f")
WIDTH = 640
CHAR_PX = 6.4  # average glyph width of the 12px UI font: enough to size label columns
SMALL_CHAR_PX = 5.9  # the same for the 11px tick font


@dataclass(frozen=True)
class Estimate:
    """A labelled accuracy with its interval."""

    label: str
    value: float
    low: float
    high: float
    note: str = ""  # extra tooltip text (n, model, run id)


def _svg(height: float, body: list[str], label: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height:.0f}" role="img" aria-label="{escape(label)}" '
        f'preserveAspectRatio="xMinYMin meet">{"".join(body)}</svg>'
    )


def _text(x: float, y: float, text: str, cls: str = "tick", anchor: str = "start", extra: str = "") -> str:
    return f'<text class="{cls}" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {extra}>{escape(text)}</text>'


def _clip(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "…"


def _tooltip(e: Estimate) -> str:
    extra = f" · {e.note}" if e.note else ""
    interval = f"95% CI {100 * e.low:.1f}–{100 * e.high:.1f}"
    return f"<title>{escape(e.label)}: {100 * e.value:.1f}% ({interval}){extra}</title>"


def _x_axis(x0: float, x1: float, y_top: float, y_bottom: float) -> list[str]:
    """Vertical grid lines and labels every 20% on a horizontal 0-100% axis."""
    body = []
    for pct in range(0, 101, 20):
        x = x0 + (x1 - x0) * pct / 100
        body.append(f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{y_top:.1f}" y2="{y_bottom:.1f}"/>')
        body.append(_text(x, y_bottom + 14, f"{pct}%", anchor="middle"))
    return body


def _y_axis(x0: float, x1: float, y_top: float, y_bottom: float) -> list[str]:
    """Horizontal grid lines and labels every 20% on a vertical 0-100% axis."""
    body = []
    for pct in range(0, 101, 20):
        y = y_bottom - (y_bottom - y_top) * pct / 100
        body.append(f'<line class="grid" x1="{x0:.1f}" x2="{x1:.1f}" y1="{y:.1f}" y2="{y:.1f}"/>')
        body.append(_text(x0 - 6, y + 4, f"{pct}%", anchor="end"))
    return body


def _whisker_h(x_low: float, x_high: float, y: float, cap: float = 5) -> str:
    return (
        f'<path class="whisker" d="M{x_low:.1f},{y:.1f}H{x_high:.1f}M{x_low:.1f},{y - cap:.1f}V{y + cap:.1f}'
        f'M{x_high:.1f},{y - cap:.1f}V{y + cap:.1f}"/>'
    )


def _whisker_v(x: float, y_low: float, y_high: float, cap: float = 4) -> str:
    return (
        f'<path class="whisker" d="M{x:.1f},{y_low:.1f}V{y_high:.1f}M{x - cap:.1f},{y_low:.1f}H{x + cap:.1f}'
        f'M{x - cap:.1f},{y_high:.1f}H{x + cap:.1f}"/>'
    )


def accuracy_bars(estimates: list[Estimate], *, title: str) -> str:
    """Horizontal accuracy bars, best first, with 95% interval whiskers."""
    label_px = min(230, max((len(_clip(e.label, 34)) for e in estimates), default=4) * CHAR_PX + 12)
    x0, x1, row, top = label_px, WIDTH - 56, 26, 8
    bottom = top + row * len(estimates)
    body = _x_axis(x0, x1, top, bottom)
    for i, e in enumerate(estimates):
        y = top + i * row
        colour = PALETTE[0] if i else PALETTE[1]  # the leader stands out
        body.append(f'<g class="mark">{_tooltip(e)}')
        body.append(_text(x0 - 8, y + row / 2 + 4, _clip(e.label, 34), cls="label", anchor="end"))
        body.append(f'<rect class="bar" x="{x0:.1f}" y="{y + 5:.1f}" width="{(x1 - x0) * e.value:.1f}" '
                    f'height="{row - 10:.1f}" fill="{colour}" rx="2"/>')
        body.append(_whisker_h(x0 + (x1 - x0) * e.low, x0 + (x1 - x0) * e.high, y + row / 2))
        body.append(_text(x1 + 6, y + row / 2 + 4, f"{100 * e.value:.1f}%", cls="value"))
        body.append("</g>")
    return _svg(bottom + 24, body, title)


@dataclass(frozen=True)
class Pair:
    """A before/after pair: the lineage, the benchmark it ran on, and both estimates."""

    label: str
    sublabel: str
    before: Estimate
    after: Estimate


def before_after(pairs: list[Pair], *, title: str) -> str:
    """A dumbbell per pair: before (hollow) to after (filled), both with intervals, and Δ."""
    widest = max(
        (max(min(len(p.label), 34) * CHAR_PX, min(len(p.sublabel), 44) * SMALL_CHAR_PX) for p in pairs),
        default=20,
    )
    x0, x1, row, top = min(260, widest + 14), WIDTH - 64, 44, 8
    bottom = top + row * len(pairs)
    body = _x_axis(x0, x1, top, bottom)
    scale = x1 - x0
    for i, pair in enumerate(pairs):
        y = top + i * row + row / 2
        gain = pair.after.value - pair.before.value
        body.append(_text(x0 - 8, y - 2, _clip(pair.label, 34), cls="label", anchor="end"))
        body.append(
            _text(
                x0 - 8, y + 12, _clip(pair.sublabel, int((x0 - 14) / SMALL_CHAR_PX)), cls="tick", anchor="end"
            )
        )
        for e, cls, dy in ((pair.before, "before", -6), (pair.after, "after", 6)):
            body.append(
                f'<g class="mark {cls}">{_tooltip(e)}'
                f"{_whisker_h(x0 + scale * e.low, x0 + scale * e.high, y + dy, 3)}"
                f'<circle class="point {cls}" cx="{x0 + scale * e.value:.1f}" cy="{y + dy:.1f}" r="5"/></g>'
            )
        body.append(f'<line class="link" x1="{x0 + scale * pair.before.value:.1f}" y1="{y - 6:.1f}" '
                    f'x2="{x0 + scale * pair.after.value:.1f}" y2="{y + 6:.1f}"/>')
        body.append(
            _text(x1 + 6, y + 4, f"{100 * gain:+.1f} pts", cls="value gain" if gain >= 0 else "value loss")
        )
    legend = [
        f'<circle class="key before" cx="{x0 + 6}" cy="{bottom + 30}" r="5"/>',
        _text(x0 + 16, bottom + 34, "before"),
        f'<circle class="key after" cx="{x0 + 76}" cy="{bottom + 30}" r="5"/>',
        _text(x0 + 86, bottom + 34, "after"),
    ]
    return _svg(bottom + 44, body + legend, title)


def size_scatter(series: dict[str, list[tuple[int, Estimate]]], *, title: str) -> str:
    """Accuracy against parameter count (log axis), one colour per comparable set."""
    sizes = [size for points in series.values() for size, _ in points]
    lo, hi = math.floor(math.log10(min(sizes))), math.ceil(math.log10(max(sizes)))
    hi = hi if hi > lo else lo + 1
    x0, x1, top, bottom = 52, WIDTH - 16, 10, 250
    body = _y_axis(x0, x1, top, bottom)
    for power in range(lo, hi + 1):
        x = x0 + (x1 - x0) * (power - lo) / (hi - lo)
        body.append(f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}"/>')
        body.append(_text(x, bottom + 16, _power_label(power), anchor="middle"))
    body.append(
        _text((x0 + x1) / 2, bottom + 34, "parameters (log scale)", cls="axis-title", anchor="middle")
    )
    for s, points in enumerate(series.values()):
        colour = PALETTE[s % len(PALETTE)]
        offset = (s - (len(series) - 1) / 2) * 5  # nudge sets apart: one model often runs on several
        for size, e in points:
            x = x0 + (x1 - x0) * (math.log10(size) - lo) / (hi - lo) + offset
            y_of = lambda v: bottom - (bottom - top) * v  # noqa: E731 - local scale
            body.append(
                f'<g class="mark">{_tooltip(e)}{_whisker_v(x, y_of(e.low), y_of(e.high))}'
                f'<circle class="point" cx="{x:.1f}" cy="{y_of(e.value):.1f}" r="5" fill="{colour}"/></g>'
            )
    return _svg(bottom + 44 + 18 * len(series), body + _legend(list(series), x0, bottom + 54), title)


def difficulty_lines(series: dict[str, list[tuple[str, Estimate]]], levels: list[str], *, title: str) -> str:
    """Accuracy per difficulty level: a line per run across the levels, with intervals."""
    x0, x1, top, bottom = 52, WIDTH - 16, 10, 230
    step = (x1 - x0) / max(len(levels), 1)
    x_of = {level: x0 + step * (i + 0.5) for i, level in enumerate(levels)}
    body = _y_axis(x0, x1, top, bottom)
    body += [_text(x, bottom + 16, level, anchor="middle") for level, x in x_of.items()]
    body.append(_text((x0 + x1) / 2, bottom + 34, "difficulty level", cls="axis-title", anchor="middle"))
    for s, points in enumerate(series.values()):
        colour = PALETTE[s % len(PALETTE)]
        offset = (s - (len(series) - 1) / 2) * 4  # nudge series apart so whiskers do not overlap
        coords = [(x_of[level] + offset, bottom - (bottom - top) * e.value) for level, e in points]
        path = "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        body.append(f'<path class="line" d="{path}" stroke="{colour}"/>')
        for (x, y), (_, e) in zip(coords, points):
            y_low, y_high = (bottom - (bottom - top) * v for v in (e.low, e.high))
            body.append(f'<g class="mark">{_tooltip(e)}{_whisker_v(x, y_low, y_high, 3)}'
                        f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/></g>')
    return _svg(bottom + 44 + 18 * len(series), body + _legend(list(series), x0, bottom + 54), title)


def _legend(names: list[str], x: float, y: float) -> list[str]:
    body = []
    for i, name in enumerate(names):
        colour = PALETTE[i % len(PALETTE)]
        body.append(
            f'<rect x="{x:.1f}" y="{y + 18 * i - 9:.1f}" width="10" height="10" rx="2" fill="{colour}"/>'
        )
        body.append(_text(x + 16, y + 18 * i, _clip(name, 90), cls="legend"))
    return body


def _power_label(power: int) -> str:
    for unit, exponent in (("T", 12), ("B", 9), ("M", 6), ("K", 3)):
        if power >= exponent:
            return f"{10 ** (power - exponent):g}{unit}"
    return f"{10 ** power:g}"


def budget_lines(
    series: dict[str, list[tuple[int, Estimate]]], *, title: str, dashed: frozenset[str] = frozenset()
) -> str:
    """Accuracy against the step budget k (1 .. the longest curve): a line per run with its
    95% interval as a band; ``dashed`` names the runs drawn dashed (the "before" of a pair)."""
    longest = max((points[-1][0] for points in series.values() if points), default=1)
    x0, x1, top, bottom = 52, WIDTH - 28, 10, 230
    x_of = lambda k: x0 + (x1 - x0) * ((k - 1) / max(longest - 1, 1))  # noqa: E731 - local scale
    y_of = lambda v: bottom - (bottom - top) * v  # noqa: E731
    body = _y_axis(x0, x1, top, bottom)
    ticks = sorted({1, longest, *range(5, longest + 1, 5)})
    body += [_text(x_of(k), bottom + 16, str(k), anchor="middle") for k in ticks]
    body.append(
        _text(
            (x0 + x1) / 2,
            bottom + 34,
            "step budget k (accuracy within k steps)",
            cls="axis-title",
            anchor="middle",
        )
    )
    for s, (name, points) in enumerate(series.items()):
        colour = PALETTE[s % len(PALETTE)]
        upper = "L".join(f"{x_of(k):.1f},{y_of(e.high):.1f}" for k, e in points)
        lower = "L".join(f"{x_of(k):.1f},{y_of(e.low):.1f}" for k, e in reversed(points))
        body.append(f'<path class="band" d="M{upper}L{lower}Z" fill="{colour}"/>')
        dash = ' stroke-dasharray="6 4"' if name in dashed else ""
        line = "M" + "L".join(f"{x_of(k):.1f},{y_of(e.value):.1f}" for k, e in points)
        body.append(f'<path class="line" d="{line}" stroke="{colour}"{dash}/>')
        for k, e in points:
            body.append(f'<g class="mark">{_tooltip(e)}<circle class="point" cx="{x_of(k):.1f}" '
                        f'cy="{y_of(e.value):.1f}" r="3" fill="{colour}" data-k="{k}"/></g>')
    return _svg(bottom + 44 + 18 * len(series), body + _legend(list(series), x0, bottom + 54), title)


# A fixed colour per error type (callgym.error_types order), so plots agree with each other.
ERROR_PALETTE = ("#9c755f", "#e15759", "#f28e2b", "#bab0ac", "#b07aa1", "#edc948", "#ff9da7",
                 "#4e79a7", "#76b7b2", "#59a14f", "#af7aa1", "#7f7f7f")


@dataclass(frozen=True)
class ErrorBar:
    """One run's invalid replies by error type, and how many replies it made in all."""

    label: str
    counts: dict[str, int]
    calls: int


def error_stacks(bars: list[ErrorBar], types: list[str], *, title: str) -> str:
    """A stacked bar per run: its invalid replies split by error type (shares of the invalid
    replies), and on the right how many there were and their share of all replies."""
    # The 12px value font: "123 (45% of replies)" is about 125 px, hence the right margin.
    label_px = min(230, max((len(_clip(b.label, 34)) for b in bars), default=4) * CHAR_PX + 12)
    x0, x1, row, top = label_px, WIDTH - 136, 26, 8
    bottom = top + row * len(bars)
    body = _x_axis(x0, x1, top, bottom)
    colour = {t: ERROR_PALETTE[i % len(ERROR_PALETTE)] for i, t in enumerate(types)}
    for i, bar in enumerate(bars):
        y, invalid = top + i * row, sum(bar.counts.values())
        body.append(_text(x0 - 8, y + row / 2 + 4, _clip(bar.label, 34), cls="label", anchor="end"))
        x = x0
        for name in types:
            count = bar.counts.get(name, 0)
            if not count:
                continue
            width = (x1 - x0) * count / invalid
            share = f"{100 * count / invalid:.1f}% of invalid replies"
            body.append(
                f'<g class="mark"><title>{escape(bar.label)} · {escape(name)}: {count} ({share})</title>'
                f'<rect class="segment" data-type="{escape(name)}" data-count="{count}" x="{x:.1f}" '
                f'y="{y + 5:.1f}" width="{width:.1f}" height="{row - 10:.1f}" fill="{colour[name]}"/></g>'
            )
            x += width
        rate = f" ({100 * invalid / bar.calls:.0f}% of replies)" if bar.calls else ""
        body.append(_text(x1 + 6, y + row / 2 + 4, f"{invalid}{rate}" if invalid else "no invalid replies",
                          cls="value"))
    legend = []
    for j, name in enumerate(types):  # two columns of keys under the axis
        lx, ly = x0 + (j % 2) * 220, bottom + 40 + 18 * (j // 2)
        legend.append(
            f'<rect class="key" x="{lx:.1f}" y="{ly - 9:.1f}" width="10" height="10" rx="2" '
            f'fill="{colour[name]}"/>'
        )
        legend.append(_text(lx + 16, ly, name, cls="legend"))
    return _svg(bottom + 40 + 18 * ((len(types) + 1) // 2), body + legend, title)
