"""Leaderboard and comparison views: rich tables for the terminal, Markdown, JSON, and
:func:`export`, which writes any of them (and the HTML site) to files.

Every view groups runs into comparable sets (see :attr:`RunRecord.group_key`) and ranks
within a set only. Accuracy is shown in percent with its 95% interval as ``±`` half-width
(the Wilson interval is slightly asymmetric; JSON keeps both exact bounds).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

import callgym
from callgym import json_text
from callgym.json_text import without_surrogates
from callgym.leaderboards.records import RunRecord, before_after_pairs, group_runs, now_iso

if TYPE_CHECKING:
    from callgym.benchmarks.compare import Comparison, PairedResult
    from callgym.benchmarks.metrics import MetricsReport

# "constant %": what always giving the most common gold answer scores on the same problems,
# beside every accuracy so that a model collapsed to one label never reads as a gain
_COLUMNS = (
    "#", "model", "params", "agent", "backend", "tag", "n", "accuracy %", "constant %", "valid calls %",
    "steps", "tokens", "s/ep", "run", "date",
)
_TERMINAL_COLUMNS = tuple(c for c in _COLUMNS if c not in ("params", "date"))  # a terminal is narrow
_SHORT = {
    "accuracy %": "acc %",
    "constant %": "const %",
    "valid calls %": "valid %",
    "tokens": "tok",
    "run": "id",
}
_NUMERIC = frozenset(
    ("#", "params", "n", "accuracy %", "constant %", "valid calls %", "steps", "tokens", "s/ep", "run")
)


def fmt_pct(value: float | None, digits: int = 1) -> str:
    """A fraction in percent without the sign: ``0.625`` -> ``"62.5"``; None -> ``"–"``."""
    return "–" if value is None else f"{100 * value:.{digits}f}"


def fmt_ci(value: float | None, low: float | None, high: float | None) -> str:
    """``"62.0 ±4.1"``: the point estimate and the interval's half-width, in percent."""
    if value is None:
        return "–"
    if low is None or high is None:
        return fmt_pct(value)
    return f"{fmt_pct(value)} ±{fmt_pct((high - low) / 2)}"


def fmt_params(size: int | None) -> str:
    """``135_000_000`` -> ``"135M"``, ``7_240_000_000`` -> ``"7.2B"``."""
    if not size:
        return "–"
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if size >= scale:
            value = size / scale
            return f"{value:.1f}{unit}" if value < 10 else f"{value:.0f}{unit}"
    return str(size)


def fmt_num(value: float | None, digits: int = 1) -> str:
    """A plain number with thousands separators; None -> ``"–"``."""
    return "–" if value is None else f"{value:,.{digits}f}"


def run_cells(position: int, run: RunRecord) -> list[str]:
    """One run's cells, in :data:`_COLUMNS` order (shared by the terminal and Markdown)."""
    acc = run.metric("accuracy")
    return [
        str(position),
        run.display_name,
        fmt_params(run.model_size),
        run.agent or "–",
        run.backend or "–",
        run.tag or "–",
        str(run.n) + (f" (−{run.excluded})" if run.excluded else ""),
        fmt_ci(acc.value if acc else None, acc.ci_low if acc else None, acc.ci_high if acc else None),
        fmt_pct(run.value("constant_accuracy")),
        fmt_pct(run.value("valid_call_rate")),
        fmt_num(run.value("mean_steps")),
        fmt_num(run.value("mean_tokens_out"), 0),
        fmt_num(run.value("seconds_per_episode"), 2),
        str(run.id if run.id is not None else "–"),
        run.created[:10],
    ]


# ----------------------------------------------------------------------------- terminal


def leaderboard_table(runs: Iterable[RunRecord], *, title: str = "callgym leaderboard") -> Group:
    """Rich tables, one per comparable set (titled with the benchmark), ranked by accuracy.

    The benchmark label is a table title rather than a column, and the date and size
    columns stay in the exports, so the view fits an 80-column terminal.
    """
    tables: list[Any] = [Text(title, style="bold", justify="center")]
    for label, ranked in group_runs(runs):
        rows = [dict(zip(_COLUMNS, run_cells(position, run))) for position, run in enumerate(ranked, 1)]
        # Columns that say nothing for this set (no tags, say) give their width to the rest.
        columns = [c for c in _TERMINAL_COLUMNS if any(row[c] != "–" for row in rows)]
        table = Table(
            title=label, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, pad_edge=False
        )
        for name in columns:
            table.add_column(_SHORT.get(name, name), justify="right" if name in _NUMERIC else "left",
                             style="cyan" if name == "accuracy %" else None, no_wrap=name != "model",
                             overflow="fold", min_width=10 if name == "model" else None)
        for row in rows:
            table.add_row(*(row[name] for name in columns))
        tables.append(table)
    tables.append(
        Text("accuracy: 95% Wilson interval as ± · n (−k): k training problems excluded", style="dim")
    )
    return Group(*tables)


def metrics_table(report: MetricsReport, *, title: str = "benchmark") -> Table:
    """A rich Table of :func:`callgym.benchmarks.metrics.compute_metrics` (``callgym bench``)."""
    caption = f"{report.excluded} episodes excluded (training problems)" if report.excluded else None
    table = Table(title=title, caption=caption)
    for name in ("env", "difficulty", "n", "accuracy % (95% CI)", "valid calls %", "steps", "tokens", "s/ep",
                 "top answer"):
        table.add_column(name, justify="left" if name in ("env", "difficulty", "top answer") else "right")
    for g in report.groups:
        top = "–" if g.top_answer is None else f"{g.top_answer[:12]} {fmt_pct(g.top_answer_share, 0)}%"
        table.add_row(
            g.env_id,
            g.difficulty,
            str(g.n),
            fmt_ci(g.accuracy, g.ci_low, g.ci_high),
            fmt_pct(g.valid_call_rate),
            fmt_num(g.mean_steps),
            fmt_num(g.mean_tokens_out, 0),
            fmt_num(g.seconds_per_episode, 2),
            top,
            style="bold" if g.difficulty == "all" else "dim",
        )
    return table


# ----------------------------------------------------------------------------- step budgets, error types

BUDGETS = (1, 2, 5, 10, 20)  # the step budgets the tables show (the store keeps every k)


def shown_budgets(runs: Iterable[RunRecord]) -> list[int]:
    """:data:`BUDGETS` up to the longest stored curve, and that curve's end."""
    longest = max((curve[-1][0] for run in runs if (curve := run.budget_curve())), default=0)
    budgets = [k for k in BUDGETS if k <= longest]
    return budgets + [longest] if longest and longest not in budgets else budgets


def budget_cell(run: RunRecord, k: int) -> str:
    """accuracy@k with its interval; past a run's longest episode its curve is flat."""
    curve = dict(run.budget_curve())
    if not curve:
        return "–"
    row = curve[min(k, max(curve))]
    return fmt_ci(row.value, row.ci_low, row.ci_high)


def error_cells(run: RunRecord, types: list[str]) -> list[str]:
    """Invalid replies (count, % of all replies), then each type's count and share of them."""
    counts = run.error_counts()
    invalid, calls = sum(counts.values()), run.value("calls")
    cells = [f"{invalid} ({fmt_pct(invalid / calls, 0)}%)" if calls else str(invalid)]
    cells += [f"{counts[t]} ({fmt_pct(counts[t] / invalid, 0)}%)" if counts.get(t) else "–" for t in types]
    return cells


def error_types_of(runs: Iterable[RunRecord]) -> list[str]:
    """The error types any of ``runs`` has, in the taxonomy's order."""
    from callgym.error_types import ERROR_TYPES

    seen = {name for run in runs for name in run.error_counts()}
    return [t for t in ERROR_TYPES if t in seen] + sorted(seen - set(ERROR_TYPES))


def _per_run_table(runs: list[RunRecord], title: str, caption: str, columns: list[str],
                   cells: Callable[[RunRecord], list[str]]) -> Table:
    """A row per run, labelled by env (its short id), model and tag (when any run has one)."""
    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAD, pad_edge=False)
    tagged = any(run.tag for run in runs)
    for name in ("env", "model", *(["tag"] if tagged else []), *columns):
        table.add_column(
            name,
            justify="left" if name in ("env", "model", "tag") else "right",
            no_wrap=name != "model",
            min_width=10 if name == "model" else None,
            overflow="fold",
        )
    for run in runs:
        label = [run.env_id.rpartition("/")[2], run.display_name, *([run.tag or "–"] if tagged else [])]
        table.add_row(*label, *cells(run))
    return table


def budget_table(runs: Iterable[RunRecord], *, title: str = "accuracy % within k steps (95% CI)") -> Table:
    """accuracy@k for a few step budgets k, one row per run (``callgym bench``)."""
    runs = list(runs)
    budgets = shown_budgets(runs)
    return _per_run_table(runs, title, "an episode counts at k when it answered correctly by step k",
                          [f"@{k}" for k in budgets], lambda run: [budget_cell(run, k) for k in budgets])


def error_table(runs: Iterable[RunRecord], *, title: str = "invalid replies by error type") -> Table:
    """Counts and shares of each error type, one row per run (``callgym bench``, ``leaderboard show``)."""
    runs = list(runs)
    types = error_types_of(runs)
    return _per_run_table(
        runs,
        title,
        "count (% of replies; per type: % of invalid ones)",
        ["invalid", *types],
        lambda run: error_cells(run, types),
    )


def difficulty_table(runs: Iterable[RunRecord], *, title: str = "accuracy % by difficulty (95% CI)") -> Table:
    """Per run and difficulty level: accuracy beside the constant-answer baseline, and the
    share of episodes that called each tool (``callgym bench``)."""
    caption = "const: always the most common gold answer · tools: % of episodes calling each at least once"
    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("env", "model", "level", "n", "acc %", "const %", "tools"):
        table.add_column(name, justify="left" if name in ("env", "model", "tools") else "right",
                         no_wrap=name != "model", overflow="fold")
    for run in runs:
        for level in ["all", *run.difficulties()]:
            acc = run.metric("accuracy", level)
            table.add_row(
                run.env_id.rpartition("/")[2],
                run.display_name,
                level,
                fmt_num(run.value("n", level), 0),
                fmt_ci(acc.value, acc.ci_low, acc.ci_high) if acc else "–",
                fmt_pct(run.value("constant_accuracy", level)),
                tool_cell(run, level),
                style="bold" if level == "all" else None,
            )
    return table


def tool_cell(run: RunRecord, level: str = "all", most: int = 4) -> str:
    """``"Prove 82% · Premise 80%"``: the most used tools and their share of episodes."""
    from callgym.benchmarks.metrics import TOOL_METRIC

    shares = [(m.name[len(TOOL_METRIC):], m.value) for m in run.metrics
              if m.difficulty == level and m.name.startswith(TOOL_METRIC)]
    return " · ".join(f"{name} {fmt_pct(share, 0)}%" for name, share in shares[:most]) or "–"


def comparison_table(comparison: Comparison) -> Table:
    """A rich Table of a paired comparison (``callgym compare A B``)."""
    notes = [f"A = {comparison.label_a}", f"B = {comparison.label_b}", "p: exact McNemar, two-sided"]
    if comparison.excluded_a or comparison.excluded_b:
        notes.append(f"excluded (training problems): A {comparison.excluded_a}, B {comparison.excluded_b}")
    notes.append("b/c: problems only A/only B solved; unpaired: problems in one run only")
    table = Table(title="paired comparison", caption=" · ".join(notes), box=box.SIMPLE_HEAD)
    notes.append("const: always the most common gold answer")
    for name in ("env", "n", "A %", "B %", "const %", "Δ pts", "b", "c", "p", "unpaired"):
        table.add_column(name, justify="left" if name == "env" else "right", no_wrap=name != "env",
                         min_width=16 if name == "env" else None)
    rows = [*comparison.rows, *([comparison.total] if comparison.total else [])]
    for row in rows:
        cells = _comparison_cells(row)
        colour = "green" if row.difference > 0 and row.p_value < 0.05 else "red" if row.p_value < 0.05 else ""
        cells[5] = f"[{colour}]{cells[5]}[/]" if colour else cells[5]
        table.add_row(*cells, style="bold" if row.env_id == "all" else None)
    return table


def _comparison_cells(row: PairedResult) -> list[str]:
    env = row.env_id + (
        f" ({', '.join(f'{k}={v}' for k, v in sorted(row.env_kwargs.items()))})" if row.env_kwargs else ""
    )
    return [
        env, str(row.n), fmt_pct(row.acc_a), fmt_pct(row.acc_b), fmt_pct(row.constant),
        f"{100 * row.difference:+.1f}", str(row.b), str(row.c),
        fmt_p(row.p_value), f"{row.unpaired_a}/{row.unpaired_b}",
    ]


def fmt_p(p: float) -> str:
    """A p-value with the precision that matters: ``"0.031"``, ``"0.0042"``, ``"<0.0001"``."""
    return "<0.0001" if p < 1e-4 else f"{p:.4f}" if p < 0.01 else f"{p:.3f}"


# ----------------------------------------------------------------------------- Markdown and JSON


def leaderboard_markdown(runs: Iterable[RunRecord]) -> str:
    """The leaderboard as GitHub Markdown: a heading and a ranked table per comparable set."""
    lines = ["# callgym leaderboard", "", f"Generated {now_iso()} by callgym {callgym.__version__}. "
             "Accuracy in percent with the 95% Wilson interval as ± half-width; "
             "n (−k): k training problems excluded.", ""]
    for label, ranked in group_runs(runs):
        lines += [
            f"## {md_text(label)}",
            "",
            _md_row(_COLUMNS),
            _md_row(["---:" if c in _NUMERIC else "---" for c in _COLUMNS]),
        ]
        lines += [_md_row(run_cells(position, run)) for position, run in enumerate(ranked, 1)]
        lines.append("")
        lines += _budget_markdown(ranked) + _errors_markdown(ranked)
    return "\n".join(lines)


def _budget_markdown(runs: list[RunRecord]) -> list[str]:
    budgets = shown_budgets(runs)
    if not budgets:
        return []
    head = ["model", "tag", *(f"acc % @{k} steps" for k in budgets)]
    rows = [
        _md_row([run.display_name, run.tag or "–", *(budget_cell(run, k) for k in budgets)]) for run in runs
    ]
    return [
        "Accuracy within k steps (95% CI):",
        "",
        _md_row(head),
        _md_row(["---"] * 2 + ["---:"] * len(budgets)),
        *rows,
        "",
    ]


def _errors_markdown(runs: list[RunRecord]) -> list[str]:
    types = error_types_of(runs)
    if not types:
        return []
    head = ["model", "tag", "invalid (% of replies)", *types]
    rows = [_md_row([run.display_name, run.tag or "–", *error_cells(run, types)]) for run in runs]
    return ["Invalid replies by error type (count, % of invalid replies):", "", _md_row(head),
            _md_row(["---"] * 2 + ["---:"] * (len(types) + 1)), *rows, ""]


def comparison_markdown(comparison: Comparison) -> str:
    """A paired comparison as a Markdown table."""
    head = [
        "env", "paired n", "acc A %", "acc B %", "constant %", "Δ (B−A) pts", "b", "c", "McNemar p",
        "unpaired A/B",
    ]
    rows = [*comparison.rows, *([comparison.total] if comparison.total else [])]
    lines = [f"A = {md_text(comparison.label_a)}; B = {md_text(comparison.label_b)}.", "", _md_row(head),
             _md_row(["---"] * len(head))]
    lines += [_md_row(_comparison_cells(row)) for row in rows]
    if comparison.excluded_a or comparison.excluded_b:
        lines += ["", f"Excluded (training problems): A {comparison.excluded_a}, B {comparison.excluded_b}."]
    return "\n".join(lines) + "\n"


# Names, tags, labels and env arguments are anyone's text: in Markdown they must stay text.
# HTML is written as entities (no <script>, no <img onerror>), the syntax of links, images
# and code is backslash-escaped, and "|" and line breaks (which would end a table row or the
# table) become "\|" and spaces. Emphasis is left alone: at worst it shows a name in italics.
_MD_ESCAPES = str.maketrans({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", "|": "\\|", "\\": "\\\\", "`": "\\`", "[": "\\[", "]": "\\]",
    "\n": " ", "\r": " ", "\u2028": " ", "\u2029": " ",
})


def md_text(value: object) -> str:
    """``value`` as literal Markdown text, safe in a table cell or a heading."""
    return without_surrogates(str(value)).translate(_MD_ESCAPES)


def _md_row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(md_text(c) for c in cells) + " |"


def leaderboard_data(runs: Iterable[RunRecord], *, samples: bool = False) -> dict[str, Any]:
    """The leaderboard as plain data: comparable groups of ranked runs, and before/after pairs."""
    runs = list(runs)
    groups = [
        {
            "label": label,
            "runs": [{"rank": i, **run.to_dict(samples=samples)} for i, run in enumerate(ranked, 1)],
        }
        for label, ranked in group_runs(runs)
    ]
    pairs = [{"before": b.id, "after": a.id, "group": b.group_label, "lineage": b.lineage, "tag": a.tag}
             for b, a in before_after_pairs(runs)]
    return {
        "generated": now_iso(),
        "callgym_version": callgym.__version__,
        "groups": groups,
        "before_after": pairs,
    }


def leaderboard_json(runs: Iterable[RunRecord]) -> str:
    """:func:`leaderboard_data` as indented JSON text."""
    return json_text.dumps(leaderboard_data(runs), indent=2, default=str) + "\n"
