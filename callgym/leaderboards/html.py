"""The leaderboard as a self-contained static site: one ``index.html`` with inline CSS, JS,
SVG and data, so it opens from disk or any static host with no network at view time.

The page holds a ranked, sortable table per comparable set; plots (accuracy per env with
interval bars, before/after pairs, accuracy against model size, accuracy per difficulty,
accuracy against the step budget per model with before and after DPO on one plot, and
invalid replies by error type as stacked bars); and
an episode viewer: clicking a row shows its sample transcripts, system prompt collapsed,
then each assistant call and the environment's answer. Tables and plots are rendered here in
Python, so they show even with JS off; the script adds sorting and the viewer.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from html import escape
from importlib.resources import files
from pathlib import Path
from typing import Any

import callgym
from callgym import json_text
from callgym.benchmarks.metrics import difficulty_order
from callgym.errors import DataError
from callgym.json_text import without_surrogates
from callgym.leaderboards import plots
from callgym.leaderboards.plots import ErrorBar, Estimate, Pair
from callgym.leaderboards.records import ALL, RunRecord, before_after_pairs, group_runs, now_iso
from callgym.leaderboards.render import error_types_of, fmt_ci, fmt_num, fmt_params, fmt_pct

_HEADERS = (("#", "num"), ("model", "text"), ("params", "num"), ("agent", "text"), ("backend", "text"),
            ("tag", "text"), ("n", "num"), ("accuracy % (95% CI)", "num"), ("valid calls %", "num"),
            ("steps", "num"), ("tokens", "num"), ("s/ep", "num"), ("date", "text"))


def write_site(runs: Iterable[RunRecord], out_dir: str | os.PathLike[str]) -> Path:
    """Write ``index.html`` into ``out_dir`` (created if needed); returns the file's path."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise DataError(f"{out} is a file; pass --html a directory for the site's index.html")
    out.mkdir(parents=True, exist_ok=True)
    target = out / "index.html"
    target.write_text(without_surrogates(render_page(list(runs))), encoding="utf-8")
    return target


def render_page(runs: list[RunRecord], *, title: str = "callgym leaderboard") -> str:
    """The whole page as one HTML string."""
    keys = {id(run): _run_key(run, i) for i, run in enumerate(runs)}
    groups = group_runs(runs)
    sections = [_rankings(groups, keys), _plots(runs, groups)]
    subtitle = (f"{len(runs)} runs · {len(groups)} benchmark{'s' * (len(groups) != 1)} · "
                f"generated {now_iso()} · callgym {callgym.__version__}")
    return _PAGE.format(
        title=escape(title), subtitle=escape(subtitle), css=_asset("style.css"), js=_asset("app.js"),
        body="\n".join(sections), data=_json_for_script({keys[id(r)]: r.to_dict(samples=True) for r in runs}),
    )


def _asset(name: str) -> str:
    return files("callgym.leaderboards").joinpath("assets", name).read_text(encoding="utf-8")


def _run_key(run: RunRecord, position: int) -> str:
    return str(run.id) if run.id is not None else f"r{position}"


def _json_for_script(data: Any) -> str:
    """JSON safe inside ``<script>``: ``<`` escaped so no transcript text can close the tag."""
    text = json_text.dumps(data, default=str)  # a transcript may hold a lone surrogate
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


# ----------------------------------------------------------------------------- rankings


def _rankings(groups: list[tuple[str, list[RunRecord]]], keys: dict[int, str]) -> str:
    cards = [_table_card(i, label, ranked, keys) for i, (label, ranked) in enumerate(groups)]
    empty = '<p class="empty">No runs yet: <code>callgym bench</code> adds them.</p>'
    return (
        '<section id="rankings"><h2>Rankings</h2><p class="hint">Runs are ranked only against runs of '
        "the same benchmark (env and version, suite and version, env settings). Click a column header "
        f"to sort; click a row to read that run's episodes.</p>{''.join(cards) or empty}</section>"
    )


def _table_card(index: int, label: str, ranked: list[RunRecord], keys: dict[int, str]) -> str:
    head = "".join(f'<th data-type="{kind}" scope="col"><button type="button">{escape(name)}</button></th>'
                   for name, kind in _HEADERS)
    rows = "".join(_table_row(position, run, keys[id(run)]) for position, run in enumerate(ranked, 1))
    return (
        f'<div class="card"><h3>{escape(label)}</h3><div class="table-scroll">'
        f'<table class="board" id="board-{index}"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
        "</div></div>"
    )


def _table_row(position: int, run: RunRecord, key: str) -> str:
    acc = run.metric("accuracy")
    value, low, high = (acc.value, acc.ci_low, acc.ci_high) if acc else (0.0, None, None)
    bar = (
        f'<span class="acc"><span class="acc-bar"><span class="acc-ci" style="left:{100 * (low or 0):.1f}%;'
        f'width:{100 * ((high or 0) - (low or 0)):.1f}%"></span>'
        f'<span class="acc-fill" style="width:{100 * value:.1f}%">'
        f"</span></span><span>{escape(fmt_ci(value, low, high))}</span></span>"
    )
    n_text = f"{run.n}" + (
        f' <span class="muted" title="training problems excluded">−{run.excluded}</span>'
        if run.excluded
        else ""
    )
    tag = f'<span class="tag">{escape(run.tag)}</span>' if run.tag else ""
    cells = [
        (position, str(position)),
        (run.display_name, f'<span class="model">{escape(run.display_name)}</span>'),
        (run.model_size or 0, fmt_params(run.model_size)),
        (run.agent, escape(run.agent or "–")),
        (run.backend, escape(run.backend or "–")),
        (run.tag, tag),
        (run.n, n_text),
        (value, bar),
        (run.value("valid_call_rate") or 0, fmt_pct(run.value("valid_call_rate"))),
        (run.value("mean_steps") or 0, fmt_num(run.value("mean_steps"))),
        (run.value("mean_tokens_out") or 0, fmt_num(run.value("mean_tokens_out"), 0)),
        (run.value("seconds_per_episode") or 0, fmt_num(run.value("seconds_per_episode"), 2)),
        (run.created, escape(run.created[:10])),
    ]
    tds = "".join(f'<td data-sort="{escape(str(sort))}">{html}</td>' for sort, html in cells)
    return f'<tr data-run="{escape(key)}" tabindex="0" title="Show episodes of run {escape(key)}">{tds}</tr>'


# ----------------------------------------------------------------------------- plots


def _plots(runs: list[RunRecord], groups: list[tuple[str, list[RunRecord]]]) -> str:
    figures = [
        _figure(
            f"Accuracy · {label}",
            plots.accuracy_bars([_estimate(r) for r in ranked], title=label),
            "accuracy",
        )
        for label, ranked in groups
    ]
    figures.append(_before_after_figure(runs))
    figures.append(_size_figure(groups))
    figures += [_difficulty_figure(label, ranked) for label, ranked in groups]
    figures += [figure for label, ranked in groups for figure in _budget_figures(label, ranked)]
    figures += [_error_figure(label, ranked) for label, ranked in groups]
    return f'<section id="plots"><h2>Plots</h2><div class="plots">{"".join(figures)}</div></section>'


def _figure(caption: str, svg: str | None, kind: str, empty: str = "") -> str:
    inner = svg if svg else f'<p class="empty">{escape(empty)}</p>'
    return (
        f'<figure class="card plot" data-plot="{kind}"><figcaption>{escape(caption)}</figcaption>'
        f"{inner}</figure>"
    )


def _estimate(run: RunRecord, difficulty: str = ALL, label: str | None = None) -> Estimate:
    acc = run.metric("accuracy", difficulty)
    value = acc.value if acc else 0.0
    low = acc.ci_low if acc and acc.ci_low is not None else value
    high = acc.ci_high if acc and acc.ci_high is not None else value
    n = run.value("n", difficulty)
    note = f"n={int(n) if n is not None else run.n} · run {run.id if run.id is not None else '–'}"
    return Estimate(label or _short_name(run), value, low, high, note)


def _short_name(run: RunRecord) -> str:
    return run.display_name + (f" [{run.tag}]" if run.tag else "")


def _short_group(run: RunRecord) -> str:
    """``Toy-v0 · smoke v2 · max_steps=4``: what tells comparable sets apart, in little space."""
    parts = [run.env_id.rpartition("/")[2]]
    if run.suite:
        parts.append(f"{run.suite} v{run.suite_version}" if run.suite_version else run.suite)
    parts += [f"{k}={v}" for k, v in sorted(run.env_kwargs.items())]
    return " · ".join(parts)


def _before_after_figure(runs: list[RunRecord]) -> str:
    pairs = [
        Pair(b.lineage, _short_group(b), _estimate(b), _estimate(a)) for b, a in before_after_pairs(runs)
    ]
    svg = plots.before_after(pairs, title="before and after") if pairs else None
    return _figure("Before → after (runs tagged before-X / after-X of one lineage)", svg, "before-after",
                   "No before/after pairs yet: tag runs before-dpo and after-dpo (same lineage).")


def _size_figure(groups: list[tuple[str, list[RunRecord]]]) -> str:
    series = {label: [(r.model_size, _estimate(r)) for r in ranked if r.model_size]
              for label, ranked in groups}
    series = {label: points for label, points in series.items() if points}
    svg = plots.size_scatter(series, title="accuracy against model size") if series else None
    return _figure(
        "Accuracy against model size", svg, "size", "No run records its model size (parameters) yet."
    )


def _difficulty_figure(label: str, ranked: list[RunRecord]) -> str:
    levels = sorted({d for run in ranked for d in run.difficulties()}, key=difficulty_order)
    series: dict[str, list[tuple[str, Estimate]]] = {}
    for run in ranked[:8]:  # more lines than colours would be unreadable; the table has the rest
        points = [(d, _estimate(run, d)) for d in levels if run.metric("accuracy", d)]
        if points:
            series[f"{_short_name(run)} (run {run.id})" if run.id is not None else _short_name(run)] = points
    svg = (
        plots.difficulty_lines(series, levels, title=f"accuracy per difficulty, {label}") if series else None
    )
    return _figure(
        f"Accuracy per difficulty · {label}", svg, "difficulty", "This benchmark has no difficulty levels."
    )


def _budget_figures(label: str, ranked: list[RunRecord]) -> list[str]:
    """One plot per model lineage in a comparable set: its runs' accuracy against the step
    budget, so a model before and after DPO share a plot (the before run dashed)."""
    lineages: dict[str, list[RunRecord]] = {}
    for run in ranked:
        if run.budget_curve():
            lineages.setdefault(run.lineage or run.display_name, []).append(run)
    figures = []
    for lineage, runs in lineages.items():
        # the latest, as many as there are colours
        runs = sorted(runs, key=lambda r: (r.created, r.id or 0))[-8:]
        series = {
            _series_name(run): [(k, _metric_estimate(run, row)) for k, row in run.budget_curve()]
            for run in runs
        }
        dashed = frozenset(_series_name(r) for r in runs if r.tag.partition("-")[0] == "before")
        svg = plots.budget_lines(series, title=f"accuracy by step budget, {lineage}, {label}", dashed=dashed)
        figures.append(_figure(f"Accuracy by step budget · {lineage} · {label}", svg, "budget"))
    return figures


def _series_name(run: RunRecord) -> str:
    return f"{_short_name(run)} (run {run.id})" if run.id is not None else _short_name(run)


def _metric_estimate(run: RunRecord, row: Any) -> Estimate:
    low = row.ci_low if row.ci_low is not None else row.value
    high = row.ci_high if row.ci_high is not None else row.value
    return Estimate(_short_name(run), row.value, low, high, f"{row.name} · n={run.n}")


def _error_figure(label: str, ranked: list[RunRecord]) -> str:
    types = error_types_of(ranked)
    bars = [ErrorBar(_short_name(run), run.error_counts(), int(run.value("calls") or 0)) for run in ranked]
    svg = plots.error_stacks(bars, types, title=f"invalid replies by error type, {label}") if types else None
    return _figure(f"Invalid replies by error type · {label}", svg, "errors",
                   "No invalid replies in this benchmark (or only runs recorded before error types).")


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="callgym">
<title>{title}</title>
<style>
{css}
</style>
</head>
<body>
<header class="top"><div class="wrap">
<h1>{title}</h1>
<p class="sub">{subtitle}</p>
<nav><a href="#rankings">Rankings</a><a href="#plots">Plots</a></nav>
</div></header>
<main class="wrap">
{body}
</main>
<div id="scrim" hidden></div>
<aside id="viewer" aria-label="Episode viewer" hidden></aside>
<footer class="wrap foot">Accuracy with 95% Wilson intervals · valid calls: well-formed calls over all calls ·
self-contained page: no network needed to view it.</footer>
<script type="application/json" id="callgym-data">{data}</script>
<script>
{js}
</script>
</body>
</html>
"""
