"""The study's held-out report: every model on the same problems, side by side.

    python benchmarks/study_table.py untrained=runs/study-cpu/h200-untrained \\
        sft=runs/study-cpu/h200-sft sft+dpo=runs/study-cpu/h200

Each argument is NAME=FOLDER, a ``callgym bench --out`` folder of episode files (the same
suite for all, e.g. ``configs/heldout-200.yaml``); the first is the reference (the untrained
student). Prints three Markdown tables: per model and env the accuracy with its 95% interval,
the constant-answer baseline beside it, the exact McNemar p against the reference, the share
of episodes calling each env's reasoning tool and the top answer's share; FOL accuracy per
difficulty level; and the exact McNemar test between every two trained models.
"""

from __future__ import annotations

import argparse
from itertools import combinations
from pathlib import Path
from typing import Any

# the tool whose use says "the model reasoned through the env" rather than guessed
REASONING_TOOL = {"callgym/FOL-v0": "Prove", "callgym/GSM8K-v0": "Sum"}


def _p(value: float | None) -> str:
    from callgym.leaderboards.render import fmt_p

    return "–" if value is None else fmt_p(value)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def overall_table(runs: dict[str, list], reports: dict[str, Any]) -> list[str]:
    from callgym.benchmarks.compare import compare

    names = list(runs)
    reference = runs[names[0]]
    lines = ["| model | env | n | accuracy (95% CI) | constant answer | p vs " + names[0]
             + " | b / c | calls the tool | top answer (share) | valid calls | mean steps |",
             "|" + "---|" * 11]
    for name in names:
        paired = {r.env_id: r for r in compare(reference, runs[name]).rows} if name != names[0] else {}
        for g in reports[name].overall():
            tool = REASONING_TOOL.get(g.env_id)
            pr = paired.get(g.env_id)
            lines.append("| " + " | ".join([
                name, g.env_id, str(g.n), f"{g.accuracy:.1%} ({g.ci_low:.1%}-{g.ci_high:.1%})",
                _pct(g.constant_accuracy), _p(pr.p_value if pr else None),
                f"{pr.b} / {pr.c}" if pr else "–",
                f"{tool} {g.tool_use.get(tool, 0.0):.0%}" if tool else "–",
                f"{g.top_answer} ({g.top_answer_share:.0%})" if g.top_answer else "–",
                _pct(g.valid_call_rate), f"{g.mean_steps:.1f}",
            ]) + " |")
    return lines


def difficulty_table(reports: dict[str, Any], env_id: str = "callgym/FOL-v0") -> list[str]:
    from callgym.benchmarks.metrics import ALL, difficulty_order

    per_run = {
        name: {
            g.difficulty: g for g in report.groups if g.env_id == env_id and g.difficulty != ALL
        }
        for name, report in reports.items()
    }
    levels = sorted({level for groups in per_run.values() for level in groups}, key=difficulty_order)
    if not levels:
        return []
    first = next(iter(per_run.values()))
    lines = [
        "| model | "
        + " | ".join(f"level {lv} (n={first[lv].n if lv in first else '?'})" for lv in levels)
        + " |",
        "|" + "---|" * (len(levels) + 1),
    ]
    for name, groups in per_run.items():
        lines.append("| " + name + " | " + " | ".join(
            f"{groups[lv].accuracy:.0%}" if lv in groups else "–" for lv in levels) + " |")
    return lines


def pairwise_table(runs: dict[str, list]) -> list[str]:
    from callgym.benchmarks.compare import compare

    lines = ["| A | B | env | A acc | B acc | b / c | exact McNemar p |", "|" + "---|" * 7]
    for a, b in combinations(list(runs)[1:], 2):
        for r in compare(runs[a], runs[b]).rows:
            lines.append(
                f"| {a} | {b} | {r.env_id} | {r.acc_a:.1%} | {r.acc_b:.1%} "
                f"| {r.b} / {r.c} | {_p(r.p_value)} |"
            )
    return lines


def _named_folder(text: str) -> tuple[str, Path]:
    name, sep, folder = text.partition("=")
    if not sep or not Path(folder).is_dir():
        raise argparse.ArgumentTypeError(f"{text!r}: give NAME=FOLDER, FOLDER a `callgym bench --out` folder")
    return name, Path(folder)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=_named_folder, nargs="+", help="NAME=FOLDER, the reference first")
    args = parser.parse_args(argv)
    from callgym.benchmarks.metrics import compute_metrics
    from callgym.episode import read_episodes

    from callgym.errors import UsageError

    try:
        runs = {name: read_episodes(sorted(folder.glob("*.jsonl"))) for name, folder in args.runs}
    except UsageError as e:  # a damaged episode file: its one-line message, exit 2
        parser.error(str(e))
    reports = {name: compute_metrics(episodes) for name, episodes in runs.items()}  # once per run
    for table in (overall_table(runs, reports), difficulty_table(reports), pairwise_table(runs)):
        print("\n".join(table) + "\n")


if __name__ == "__main__":
    main()
