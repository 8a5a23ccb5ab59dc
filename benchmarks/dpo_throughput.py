"""DPO throughput: TRL's stock DPOTrainer against callgym's prefix-tree packed trainer.

Same pairs, same batch size, same steps, same model (the embedded SmolLM2-135M, float32),
each run in its own subprocess through ``callgym.trainers.train_dpo`` (``dpo.packing=false``
then ``true``) so peak RSS is its own. Two pair sets, built from real episodes:

(a) the demo's: on GSM8K and FOL training problems, the oracle's chain chosen against
    failures of a second agent (the random agent here, for speed: the demo uses the
    student's), two per problem, cap 2 (the demo's pairs settings);
(b) |Dw| = 2, |Dl| = 4 per problem: the oracle's chain with and without the study's bootstrap
    call, against four random agent failures, all 8 pairs kept.

For each run it prints the reference pass (the seconds TRL's init spends tokenizing and
computing reference log-probs) and the training steps: pairs/s, tokens computed per pair
(stock: the rows' real tokens, padding not counted, so the figure favours stock; packed:
the tree's slots), and the process's peak RSS; the ratios come last.

    python benchmarks/dpo_throughput.py                       # ~30-60 min on 2 cores
    python benchmarks/dpo_throughput.py --steps 1 --problems-a 4 --problems-b 1   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BOOTSTRAP = 'Reasoning("I need to reason step by step")'


@dataclass
class Run:
    """What one training subprocess measured."""

    pairs_name: str
    packing: bool
    num_pairs: int
    trained_pairs: int
    prepare_s: float
    train_s: float
    peak_mb: float
    ref_tokens_per_pair: float
    train_tokens_per_pair: float
    ref_row_tokens_per_pair: float

    @property
    def train_pairs_per_s(self) -> float:
        return self.trained_pairs / self.train_s

    @property
    def ref_pairs_per_s(self) -> float:
        return self.num_pairs / self.prepare_s


def make_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="smollm2-135m", help="model name or local HF folder")
    p.add_argument("--batch-size", type=int, default=8, help="pairs per step, both trainers (default 8)")
    p.add_argument("--steps", type=int, default=2, help="optimizer steps, both trainers (default 2)")
    p.add_argument(
        "--problems-a", type=int, default=8, help="training problems per env for set (a) (default 8)"
    )
    p.add_argument(
        "--problems-b", type=int, default=2, help="training problems per env for set (b) (default 2)"
    )
    p.add_argument("--threads", type=int, default=2, help="torch threads of each run (default 2)")
    p.add_argument("--workdir", default=None, help="where pairs and runs go (default: a temporary folder)")
    p.add_argument("--sets", nargs="*", default=["a", "b"], choices=["a", "b"], help="pair sets to run")
    return p


# ----------------------------------------------------------------------------- pairs


def env_kwargs() -> dict[str, dict[str, Any]]:
    """The demo's training envs (GSM8K from local files when CALLGYM_GSM8K_DIR is set)."""
    gsm8k = "gsm8k" if os.environ.get("CALLGYM_GSM8K_DIR") else "gsm_symbolic"
    return {
        "callgym/GSM8K-v0": {"data": gsm8k, "split": "train", "tools": "study", "max_invalid": 2},
        "callgym/FOL-v0": {"split": "train", "max_invalid": 2},
    }


def make_pairs(
    out: Path, problems: int, bootstraps: list[tuple[str, ...]], rejected: int, cap: int | None
) -> Path:
    """Oracle chains (one per bootstrap) against ``rejected`` random agent failures per problem."""
    import callgym  # noqa: F401 (registers the envs)
    from callgym.agents.rollout import rollout
    from callgym.agents.scripted import OracleAgent, RandomAgent
    from callgym.trainers import build_pairs, save_pairs

    episodes = []
    for env_id, kwargs in env_kwargs().items():
        indices = range(problems)
        for bootstrap in bootstraps:
            episodes += rollout(
                env_id, kwargs, OracleAgent(), indices, progress=False, bootstrap=bootstrap
            ).episodes
        episodes += rollout(
            env_id, kwargs, RandomAgent(seed=1), indices, samples=rejected, progress=False
        ).episodes
    pairs = build_pairs(episodes, rejected_agents=["random"], cap=cap)
    save_pairs(pairs, out)
    return out


# ----------------------------------------------------------------------------- runs

_CHILD = """
import json, sys
from callgym.trainers import DPOConfig, train_dpo
out = train_dpo(DPOConfig(**json.loads(sys.argv[1])))
print(out)
"""


def train_run(args: argparse.Namespace, pairs: Path, name: str, packing: bool, workdir: Path) -> Run:
    """Train in a subprocess (its own peak RSS) and read its results.json."""
    out = workdir / f"run-{pairs.name}-{'packed' if packing else 'stock'}"
    config = {
        "model": args.model,
        "pairs": str(pairs),
        "output_dir": str(out),
        "packing": packing,
        "max_steps": args.steps,
        "batch_size": args.batch_size,
        "gradient_accumulation_steps": 1,
        "max_length": 1024,
        "gradient_checkpointing": False,  # as the demo
        "save_steps": 10_000,  # no checkpoints: they would time the disk
        "num_threads": args.threads,
        "bf16": False,
        "resume": False,
        "learning_rate": 1e-5,
    }
    env = {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE"), "TQDM_DISABLE": "1"}
    print(f"  training on {name} ({'packed' if packing else 'stock TRL'}) ...", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "train.log", "w", encoding="utf-8") as log:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, json.dumps(config)], env=env, stdout=log, stderr=log
        )
    if done.returncode:
        tail = (out / "train.log").read_text(encoding="utf-8").splitlines()[-15:]
        raise SystemExit(
            f"the {name} run failed (exit {done.returncode}); end of {out / 'train.log'}:\n" + "\n".join(tail)
        )
    results = json.loads((out / "results.json").read_text())
    return _run_from_results(name, packing, results, args)


def _run_from_results(name: str, packing: bool, results: dict[str, Any], args: argparse.Namespace) -> Run:
    pairs = results["num_pairs"]
    trained = args.steps * args.batch_size
    computed = results["computed_tokens"]
    return Run(
        pairs_name=name,
        packing=packing,
        num_pairs=pairs,
        trained_pairs=trained,
        prepare_s=results["dpo_prepare_seconds"],
        train_s=results["dpo_train_seconds"],
        peak_mb=results["peak_rss_mb"],
        ref_tokens_per_pair=(computed["reference"] / pairs) if packing else float("nan"),
        train_tokens_per_pair=computed["train"] / trained,
        ref_row_tokens_per_pair=(computed["reference_rows"] or 0) / pairs,
    )


# ----------------------------------------------------------------------------- report


def _side_by_side(runs: list[Run]) -> list[tuple[str, Run, Run]]:
    """(pair set, stock run, packed run) for each set that has both."""
    found = []
    for name in dict.fromkeys(r.pairs_name for r in runs):
        stock = next((r for r in runs if r.pairs_name == name and not r.packing), None)
        packed = next((r for r in runs if r.pairs_name == name and r.packing), None)
        if stock and packed:
            stock.ref_tokens_per_pair = packed.ref_row_tokens_per_pair  # the rows TRL's own pass runs
            found.append((name, stock, packed))
    return found


def report(runs: list[Run], model: str) -> None:
    from rich.console import Console
    from rich.table import Table

    pairs = _side_by_side(runs)
    table = Table(title=f"DPO throughput (same pairs, batch size and steps; {model}, float32)")
    columns = ("set", "trainer", "pairs", "ref. pass s", "ref. pairs/s", "ref. tokens/pair",
               "train s", "train pairs/s", "train tokens/pair", "peak RSS MB")
    for col in columns:
        table.add_column(col, justify="left" if col in ("trainer",) else "right")
    for r in runs:
        table.add_row(r.pairs_name, "callgym packed" if r.packing else "TRL stock", str(r.num_pairs),
                      f"{r.prepare_s:.1f}", f"{r.ref_pairs_per_s:.2f}", f"{r.ref_tokens_per_pair:.0f}",
                      f"{r.train_s:.1f}", f"{r.train_pairs_per_s:.3f}", f"{r.train_tokens_per_pair:.0f}",
                      f"{r.peak_mb:.0f}")
    Console(width=160).print(table)
    goals = {"(a)": 1.5, "(b)": 3.0}
    for name, stock, packed in pairs:
        print(
            f"{name}: packed / stock: training "
            f"{packed.train_pairs_per_s / stock.train_pairs_per_s:.2f}x pairs/s "
            f"(goal >= {goals[name[:3]]}x), reference pass "
            f"{stock.prepare_s / packed.prepare_s:.2f}x faster, tokens computed per pair "
            f"{stock.train_tokens_per_pair / packed.train_tokens_per_pair:.2f}x fewer "
            f"(reference {stock.ref_tokens_per_pair / packed.ref_tokens_per_pair:.2f}x), "
            f"peak RSS {packed.peak_mb / stock.peak_mb:.2f}x"
        )


def main(argv: list[str] | None = None) -> None:
    args = make_parser().parse_args(argv)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="dpo-throughput-"))
    workdir.mkdir(parents=True, exist_ok=True)
    sets = {
        "a": ("(a) demo-style", lambda out: make_pairs(out, args.problems_a, [()], rejected=2, cap=2)),
        "b": (
            "(b) |Dw|=2 |Dl|=4",
            lambda out: make_pairs(out, args.problems_b, [(), (BOOTSTRAP,)], rejected=4, cap=None),
        ),
    }
    runs: list[Run] = []
    for key in args.sets:
        name, build = sets[key]
        pairs = workdir / f"pairs-{key}"
        if not (pairs / "summary.json").is_file():
            build(pairs)
        for packing in (False, True):
            runs.append(train_run(args, pairs, name, packing, workdir))
    print(f"runs in {workdir}")
    report(runs, args.model)


if __name__ == "__main__":
    main()
