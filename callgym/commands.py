"""Parsers and handlers of bench, compare, leaderboard, pairs, train and pipeline.

Each handler imports what it needs inside, so ``callgym --help`` stays instant.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from callgym.cli_flags import add_agent_flags, agent_options, parse_key_values
from callgym.errors import UsageError
from callgym.flags import count, positive_int


def add_parsers(sub: Any) -> None:
    """Add bench, compare, leaderboard, pairs, train and pipeline to the ``callgym`` parser."""
    _add_bench(sub)
    _add_compare(sub)
    _add_leaderboard(sub)
    _add_pairs(sub)
    _add_train(sub)
    _add_pipeline(sub)


# ----------------------------------------------------------------------------- bench


def _add_bench(sub: Any) -> None:
    p = sub.add_parser("bench", help="benchmark an agent on a suite and publish the rows to the leaderboard")
    p.add_argument(
        "--suite", default="smoke", help="shipped suite name (smoke, default) or a suite YAML file"
    )
    add_agent_flags(p)
    p.add_argument("--n", type=positive_int, help="cap the problems per env (default: the suite's)")
    p.add_argument("--db", help="leaderboard SQLite file (default: in the user's data directory)")
    p.add_argument(
        "--out",
        help="episodes folder (default runs/bench/<suite>/<model>-<agent>-<backend>/<run key>-<n>: "
        "one per run; an identical rerun resumes a killed one)",
    )
    p.add_argument("--tag", default="", help="label for the rows, e.g. before-dpo")
    p.add_argument("--lineage", default="", help="base model a trained model descends from")
    p.add_argument("--exclude", help="pairs folder (or used_problems.json) whose problems are left out")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    from rich.console import Console

    from callgym.api import bench
    from callgym.leaderboards.render import budget_table, difficulty_table, error_table, leaderboard_table
    from callgym.leaderboards.store import check_db
    from callgym.preflight import check_output_dir

    check_output_dir(args.out, "--out")
    check_db(args.db)
    result = bench(args.suite, args.agent, n=args.n, out=args.out, exclude=args.exclude, tag=args.tag,
                   lineage=args.lineage, publish=True, db=args.db, batch_size=args.batch_size,
                   progress=not args.quiet, seed=args.seed, **agent_options(args))
    records = result.records
    console = Console()
    console.print(leaderboard_table(records, title=f"suite {records[0].suite} v{records[0].suite_version}"))
    console.print(difficulty_table(records))
    console.print(budget_table(records))
    console.print(error_table(records))
    print(f"episodes -> {result.out}; leaderboard run ids {', '.join(str(r.id) for r in records)}")
    for record in records:
        if record.excluded:
            print(f"{record.env_id}: {record.excluded} problems used for training were excluded")
    return 0


# ----------------------------------------------------------------------------- compare


def _add_compare(sub: Any) -> None:
    p = sub.add_parser("compare", help="paired comparison of two runs (exact McNemar test)")
    p.add_argument("run_a", help="episodes JSONL file or leaderboard run id(s), e.g. 3 or 3,4")
    p.add_argument("run_b", help="the other run, same forms")
    p.add_argument("--db", help="leaderboard SQLite file for run ids")
    p.add_argument("--exclude", help="pairs folder whose training problems are left out")
    p.add_argument("--md", help="also write the comparison as Markdown to this file")
    p.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    from rich.console import Console

    from callgym.leaderboards.references import compare_runs
    from callgym.benchmarks.runner import load_used_problems
    from callgym.leaderboards.render import comparison_markdown, comparison_table
    from callgym.preflight import check_existing_dir

    _refuse_overwriting_inputs({"--md": args.md}, [args.run_a, args.run_b, args.db, args.exclude])
    check_existing_dir(args.md, "--md")
    comparison = compare_runs(args.run_a, args.run_b, db=args.db, used=load_used_problems(args.exclude))
    Console().print(comparison_table(comparison))
    if args.md:
        Path(args.md).write_text(comparison_markdown(comparison), encoding="utf-8")
    return 0


def _refuse_overwriting_inputs(outputs: dict[str, str | None], inputs: list[Any]) -> None:
    """Stop before any work when an output flag names one of the command's own input files."""
    existing = [Path(i) for i in inputs if i and Path(i).is_file()]
    for flag, out in outputs.items():
        if out and Path(out).is_file() and any(Path(out).samefile(i) for i in existing):
            raise UsageError(
                f"{flag} {out} is one of this command's inputs and would be overwritten; pass another path"
            )


# ----------------------------------------------------------------------------- leaderboard


def _add_leaderboard(sub: Any) -> None:
    p = sub.add_parser("leaderboard", help="show or export the leaderboard")
    actions = p.add_subparsers(dest="action", required=True, parser_class=type(p))
    show = actions.add_parser("show", help="print the ranked runs, grouped by comparable benchmark")
    show.add_argument("--db", help="leaderboard SQLite file")
    show.add_argument("--env", help="only this env id")
    show.add_argument("--model", help="only this model")
    show.set_defaults(func=cmd_leaderboard_show)
    export = actions.add_parser("export", help="write Markdown, JSON and/or the static HTML site")
    export.add_argument("--db", help="leaderboard SQLite file")
    export.add_argument("--md", help="Markdown file")
    export.add_argument("--json", dest="json_path", help="JSON file")
    export.add_argument("--html", help="folder for the static site (index.html)")
    export.set_defaults(func=cmd_leaderboard_export)


def cmd_leaderboard_show(args: argparse.Namespace) -> int:
    from rich.console import Console

    from callgym.leaderboards.render import error_table, leaderboard_table
    from callgym.leaderboards.store import Leaderboard

    with Leaderboard(args.db, readonly=True) as board:
        runs = board.runs(env_id=args.env, model=args.model)
    console = Console()
    console.print(leaderboard_table(runs))
    if any(run.error_counts() for run in runs):
        console.print(error_table(runs))
    return 0


def cmd_leaderboard_export(args: argparse.Namespace) -> int:
    from callgym.leaderboards.export import export
    from callgym.leaderboards.store import Leaderboard, default_db_path
    from callgym.preflight import check_output_dir, check_output_file

    if not (args.md or args.json_path or args.html):
        raise UsageError("nothing to export: pass --md FILE, --json FILE and/or --html DIR")
    check_output_file(args.md, "--md")
    check_output_file(args.json_path, "--json")
    check_output_dir(args.html, "--html")
    db = args.db or default_db_path()
    _refuse_overwriting_inputs({"--md": args.md, "--json": args.json_path}, [db])
    with Leaderboard(args.db, readonly=True) as board:
        for path in export(board, md=args.md, json_path=args.json_path, html_dir=args.html):
            print(f"wrote {path}")
    return 0


# ----------------------------------------------------------------------------- pairs, train


def _add_pairs(sub: Any) -> None:
    p = sub.add_parser("pairs", help="turn episodes into DPO preference pairs (TRL conversational format)")
    p.add_argument("runs", nargs="+", help="episodes JSONL files written by `callgym rollout --out`")
    p.add_argument(
        "--out", required=True, help="output folder (dataset, pairs.jsonl, summary.json, used_problems.json)"
    )
    p.add_argument(
        "--cap", type=positive_int, default=None, help="at most this many pairs per problem (seeded sample)"
    )
    p.add_argument("--seed", type=count, default=0, help="seed of the per-problem sampling")
    p.add_argument(
        "--no-augment",
        dest="augment",
        action="store_false",
        help="one pair per chain, min(|Dw|,|Dl|) per problem, instead of all |Dw|x|Dl| combinations",
    )
    p.add_argument(
        "--chosen-agents",
        default=None,
        help="comma-separated agents whose correct chains may be chosen (default: any)",
    )
    p.add_argument(
        "--rejected-agents",
        default="student",
        help="comma-separated agents whose failures are rejected; 'any' for all",
    )
    p.add_argument(
        "--strict-chosen", action="store_true", help="chosen chains must also have no invalid calls"
    )
    p.add_argument(
        "--rejected-error-type",
        action="append",
        metavar="TYPE",
        help="reject only chains with an invalid reply of this error type, e.g. syntax_error (repeatable or "
        "comma-separated; the types are listed in callgym/error_types.py). Every pair is labelled with its "
        "rejected chain's types either way (rejected_error_type, rejected_error_types)",
    )
    p.set_defaults(func=cmd_pairs)


def cmd_pairs(args: argparse.Namespace) -> int:
    from callgym.preflight import check_output_dir
    from callgym.trainers.pairs import build_pairs
    from callgym.trainers.pairs_io import save_pairs, summarize

    check_output_dir(args.out, "--out")
    pairs = build_pairs(
        args.runs, augment=args.augment, cap=args.cap, seed=args.seed, chosen_agents=args.chosen_agents,
        rejected_agents=args.rejected_agents, strict_chosen=args.strict_chosen,
        rejected_error_types=",".join(args.rejected_error_type) if args.rejected_error_type else None,
    )
    save_pairs(pairs, args.out)
    summary = summarize(pairs)
    print(f"{summary['num_pairs']} pairs from {summary['num_problems']} problems -> {args.out}")
    return 0


def _add_train(sub: Any) -> None:
    from callgym.trainers.dpo_config import DPOConfig

    p = sub.add_parser("train", help="train the student")
    algos = p.add_subparsers(dest="algo", required=True, parser_class=type(p))
    dpo = algos.add_parser(
        "dpo", help="DPO with TRL (full fine-tuning or LoRA) on a pairs folder",
        description="DPO on preference pairs (TRL): full fine-tuning or LoRA, env tokens masked, resumable.",
        epilog="settings (YAML keys, or KEY=VALUE overrides):\n" + DPOConfig.help_text(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dpo.add_argument(
        "--config",
        default=None,
        help="a shipped config (dpo) or a YAML file of settings (see below); default: the defaults",
    )
    dpo.add_argument(
        "overrides", nargs="*", metavar="KEY=VALUE", help="settings that win over the file, e.g. beta=0.2"
    )
    dpo.add_argument("--print-config", action="store_true", help="print the resolved settings and exit")
    dpo.set_defaults(func=cmd_train_dpo)


def cmd_train_dpo(args: argparse.Namespace) -> int:
    from callgym.trainers.dpo import train_dpo
    from callgym.trainers.dpo_config import DPOConfig

    config = DPOConfig.from_yaml(args.config, args.overrides)
    if args.print_config:
        sys.stdout.write(config.to_yaml())
        return 0
    print(f"trained model -> {train_dpo(config)}")
    return 0


# ----------------------------------------------------------------------------- pipeline


def _add_pipeline(sub: Any) -> None:
    p = sub.add_parser("pipeline", help="the main job: bench, rollouts, pairs, DPO, bench again, report")
    p.add_argument("--config", default="demo",
                   help="a shipped config (demo, study-gpu) or a pipeline YAML file (default demo)")
    p.add_argument("--db", help="leaderboard SQLite file (default: in the user's data directory)")
    p.add_argument("--out", help="output folder (default runs/<config name>, else runs/<config file name>)")
    p.add_argument(
        "overrides", nargs="*", metavar="KEY=VALUE", help="override a config value, e.g. bench_n=20"
    )
    p.set_defaults(func=cmd_pipeline)


def cmd_pipeline(args: argparse.Namespace) -> int:
    from callgym.pipeline import run_pipeline
    from callgym.leaderboards.store import check_db
    from callgym.pipeline_config import load_pipeline_config
    from callgym.preflight import check_output_dir

    config = load_pipeline_config(args.config, parse_key_values(args.overrides, "override"))
    out = args.out or Path("runs", config.name)
    check_output_dir(out, "--out")
    check_db(args.db)
    run_pipeline(config, out=out, db=args.db, verbose=args.verbose)
    return 0
