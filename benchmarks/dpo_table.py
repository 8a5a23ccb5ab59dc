"""The table of DPO attempts: each trained run against the same untrained student.

    python benchmarks/dpo_table.py runs/attempts/before runs/demo runs/attempts/nomask ...

BEFORE is a ``callgym bench --out`` folder of the untrained student; each RUN is a pipeline
folder holding ``train/results.json`` and ``h200/`` (its held-out benchmark, as
``benchmarks/dpo_attempts.sh`` writes). Prints one Markdown row per run: pairs, training
time and peak memory, accuracy with 95% intervals and the exact McNemar p per env, valid
calls, mean steps, and the most common answer with its share (a collapse shows there).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ENVS = ("callgym/FOL-v0", "callgym/GSM8K-v0")


def row(name: str, before: list, after: list, results: dict | None) -> str:
    from callgym.benchmarks.compare import compare
    from callgym.benchmarks.metrics import compute_metrics

    p = {r.env_id: r.p_value for r in compare(before, after).rows} if results else {}
    m = {g.env_id: g for g in compute_metrics(after).overall()}
    cells = [name, *(["–"] * 3)]
    if results:
        cells[1:] = [
            str(results["num_pairs"]),
            f"{results['total_seconds']:.0f}",
            f"{results['peak_rss_mb'] / 1024:.1f}",
        ]
    for env in ENVS:
        g = m[env]
        pv = p.get(env)
        cells += [f"{g.accuracy:.1%} ({g.ci_low:.1%}-{g.ci_high:.1%})",
                  "–" if pv is None else "< 0.0001" if pv < 1e-4 else f"{pv:.3g}"]
    cells.append(" / ".join(f"{m[e].valid_call_rate:.0%}" for e in ENVS))
    cells.append(" / ".join(f"{m[e].mean_steps:.1f}" for e in ENVS))
    cells.append(
        " / ".join(f"{m[e].top_answer} {m[e].top_answer_share:.0%}" if m[e].top_answer else "–" for e in ENVS)
    )
    return "| " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="bench folder of the untrained student")
    parser.add_argument("runs", type=Path, nargs="+", help="pipeline folders with train/ and h200/")
    args = parser.parse_args(argv)
    from callgym.episode import read_episodes

    before = read_episodes(sorted(args.before.glob("*.jsonl")))
    print("| run | pairs | train s | peak GB | FOL acc (95% CI) | p | GSM8K acc (95% CI) | p "
          "| valid calls FOL / GSM8K | steps FOL / GSM8K | top answer FOL / GSM8K |")
    print("|" + "---|" * 11)
    print(row("untrained student", before, before, None))
    for run in args.runs:
        if (run / "h200").is_dir() and (run / "train" / "results.json").is_file():
            after = read_episodes(sorted((run / "h200").glob("*.jsonl")))
            print(
                row(
                    run.name,
                    before,
                    after,
                    json.loads((run / "train" / "results.json").read_text(encoding="utf-8")),
                )
            )
        else:
            print(f"| {run.name} | (no train/results.json or h200/ yet) |")


if __name__ == "__main__":
    main()
