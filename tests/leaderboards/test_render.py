"""Terminal, Markdown and JSON views, and export to files."""

from __future__ import annotations

from typing import Any

import json
import re
from pathlib import Path

import pytest

from rich.console import Console

from callgym.benchmarks.compare import compare
from callgym.benchmarks.metrics import compute_metrics
from callgym.leaderboards import (
    Leaderboard,
    comparison_markdown,
    comparison_table,
    export,
    leaderboard_data,
    leaderboard_markdown,
    leaderboard_table,
    metrics_table,
)
from callgym.leaderboards.render import fmt_ci, fmt_params
from tests.leaderboards.conftest import MODELS
from tests.leaderboards.scripted import play


def text_of(table: Any) -> str:
    console = Console(record=True, width=240, color_system=None)
    console.print(table)
    return console.export_text()


def test_formatting() -> None:
    assert fmt_ci(0.62, 0.578, 0.66) == "62.0 ±4.1"
    assert fmt_ci(None, None, None) == "–"
    assert [fmt_params(v) for v in (None, 134_500_000, 7_240_000_000, 70_600_000_000)] == [
        "–",
        "134M",
        "7.2B",
        "71B",
    ]


def test_terminal_table_groups_and_ranks(board_path: Path) -> None:
    with Leaderboard(board_path) as board:
        table = leaderboard_table(board.runs())
    text = text_of(table)
    assert text.count("Llama-3-70B-Instruct") == 2  # once per comparable set
    assert "suite smoke v1" in text and "suite smoke v2 · max_steps=4" in text
    first_set = text.split("suite smoke v2")[0]
    order = [
        first_set.index(model)
        for model in ("Llama-3-70B", "Mistral-7B", "SmolLM2-135M-Instruct-dpo", "random-calls")
    ]
    assert order == sorted(order)
    assert "±" in text


def test_markdown_has_a_ranked_table_per_set(board_path: Path) -> None:
    with Leaderboard(board_path) as board:
        md = leaderboard_markdown(board.runs())
    sections = md.split("\n## ")[1:]
    assert len(sections) == 2
    rows = [line for line in sections[0].splitlines() if line.startswith("| 1 ") or line.startswith("| 5 ")]
    assert "Llama-3-70B-Instruct" in rows[0] and "random-calls" in rows[1]


def test_json_describes_every_run(board_path: Path) -> None:
    with Leaderboard(board_path) as board:
        data = json.loads(json.dumps(leaderboard_data(board.runs())))
    assert [len(g["runs"]) for g in data["groups"]] == [len(MODELS), len(MODELS)]
    run = data["groups"][0]["runs"][0]
    for field in (
        "env_id", "env_version", "env_kwargs", "suite", "suite_version", "model", "agent", "backend",
        "sampling", "seed", "n", "version", "created", "metrics", "rank",
    ):
        assert field in run
    assert len(data["before_after"]) == 2


def test_export_writes_each_requested_file(board_path: Path, tmp_path: Path) -> None:
    with Leaderboard(board_path) as board:
        written = export(
            board, md=tmp_path / "out" / "lb.md", json_path=tmp_path / "lb.json", html_dir=tmp_path / "site"
        )
    assert [p.name for p in written] == ["lb.md", "lb.json", "index.html"]
    assert all(p.stat().st_size > 0 for p in written)
    assert export([], md=tmp_path / "empty.md") == [tmp_path / "empty.md"]


def test_metrics_and_comparison_tables() -> None:
    before, after = play("s", 0.3, 30), play("s-dpo", 0.8, 30)
    text = text_of(metrics_table(compute_metrics(before, used={("callgym-test/Toy-v0", 0)})))
    assert "1 episodes excluded" in text and "callgym-test/Toy-v0" in text
    result = compare(before, after, label_a="before", label_b="after")
    text = text_of(comparison_table(result))
    row = result.rows[0]
    assert f"{100 * row.difference:+.1f}" in text and "McNemar" in text
    md = comparison_markdown(result)
    assert "| callgym-test/Toy-v0 | 30 |" in md


def test_step_budget_and_error_tables(board_path: Path) -> None:
    from callgym.leaderboards.render import budget_table, error_table, shown_budgets

    with Leaderboard(board_path) as board:
        runs = board.runs(env_id="callgym-test/Toy-v0")
    assert shown_budgets(runs) == [1, 2, 3]  # the toy episodes take at most 3 steps
    budgets = text_of(budget_table(runs))
    # nobody answers at step 1
    assert "@1" in budgets and "@3" in budgets and "@5" not in budgets and "0.0 ±" in budgets
    smol = next(r for r in runs if r.model == "SmolLM2-135M-Instruct")
    counts = smol.error_counts()
    invalid = sum(counts.values())
    errors = text_of(error_table([smol]))
    assert f"{invalid} (" in errors
    for name, count in counts.items():
        assert name in errors and f"{count} ({100 * count / invalid:.0f}%)" in errors
    md = leaderboard_markdown(runs)
    assert "Accuracy within k steps" in md and "Invalid replies by error type" in md and "syntax_error" in md


HOSTILE_NAMES = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "a | b || c",
    "two\nlines\r\nand more",
    "[click](javascript:alert(1))",
    "![pixel](https://example.invalid/p.png)",
    "`code` and \\| escaped",
    "&lt;already&gt; an entity",
    "lone \ud800 surrogate",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_markdown_keeps_names_and_tags_as_text(board_path: Path, tmp_path: Path, name: str) -> None:
    with Leaderboard(board_path) as board:
        runs = board.runs(env_id="callgym-test/Toy-v0")
    for run in runs:
        run.model, run.tag = name, name
    written = export(runs, md=tmp_path / "lb.md")[0].read_text(encoding="utf-8")
    comparison = comparison_markdown(
        compare(play("s", 0.3, 10), play("t", 0.5, 10), label_a=name, label_b=name)
    )
    for md in (written, comparison):
        assert "<script" not in md and "<img" not in md and "\ud800" not in md
        assert not re.search(r"(?<!\\)\]\(", md)  # no link or image syntax
        table_lines = [line for line in md.splitlines() if line.startswith("|")]
        assert table_lines and all(line.endswith(" |") for line in table_lines)
        for table in _tables(md):  # every row has the header's number of cells
            assert len({_cells(line) for line in table}) == 1, table


def _tables(md: str) -> list[list[str]]:
    tables, current = [], []
    for line in md.splitlines() + [""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    return tables


def _cells(line: str) -> int:
    """Cell separators: pipes not escaped by a backslash (itself not escaped)."""
    return len(re.findall(r"(?<!\\)(?:\\\\)*\|", line))
