"""The ``callgym`` command: envs, models, rollout, pairs, train, bench, compare, leaderboard,
lm-eval-path and pipeline. Heavy imports live inside each command so ``--help`` is instant.

Bad input (flags, files, names) stops with one line naming the value and the fix, exit 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from callgym.cli_flags import add_agent_flags, agent_options, parse_key_values
from callgym.errors import BackendError, UsageError
from callgym.flags import count, positive_int

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one line that points at --help."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")



# ----------------------------------------------------------------------------- commands


def cmd_envs(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from callgym.envs import ENVS

    table = Table("env id", "description", title="callgym environments")
    for env_id in ENVS.names():  # a plugin that fails to load logs one warning line
        table.add_row(env_id, _first_doc_line(env_id))
    Console().print(table)
    return 0


def _first_doc_line(env_id: str) -> str:
    """The env class's docstring summary; a plugin env that cannot load says why instead."""
    from callgym.envs import ENVS

    try:
        cls = ENVS.get(env_id)
    except UsageError as e:
        return f"(cannot load: {e})"
    doc = (getattr(cls, "__doc__", "") or "").strip().splitlines()
    return doc[0] if doc else ""


def cmd_models(args: argparse.Namespace) -> int:
    from callgym.agents import models

    if args.action == "path":
        if not args.name:
            raise UsageError("callgym models path needs a model name, e.g. callgym models path smollm2-135m")
        print(models.resolve_model(args.name))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table("name", "description", title="known models (any local HF folder or hub id works too)")
    for info in models.list_models():
        table.add_row(info.name, getattr(info, "description", ""))
    Console().print(table)
    return 0


def cmd_rollout(args: argparse.Namespace) -> int:
    from callgym.api import rollout

    result = rollout(
        args.env, args.agent, n=args.n, start=args.start, samples=args.samples, seed=args.seed,
        env_kwargs=parse_key_values(args.env_arg, "--env-arg"), out=args.out, resume=args.resume,
        batch_size=args.batch_size, progress=not args.quiet, **agent_options(args),
    )
    _print_accuracy(result.episodes, result.skipped, args.out)
    return 0


def _print_accuracy(episodes: list[Any], skipped: int, out: str | None) -> None:
    from callgym.benchmarks.stats import wilson_interval

    n = len(episodes)
    k = sum(e.correct for e in episodes)
    low, high = wilson_interval(k, n) if n else (0.0, 0.0)
    resumed = f" ({skipped} already in the file)" if skipped else ""
    where = f" -> {out}" if out else ""
    print(
        f"{n} episodes{resumed}: accuracy {k}/{n} = {k / max(n, 1):.1%} (95% CI {low:.1%}-{high:.1%}){where}"
    )


def cmd_serve(args: argparse.Namespace) -> int:
    from callgym.agents.backends.serve import main as serve

    serve([args.model, *args.vllm_args])
    return 0


def cmd_lm_eval_path(args: argparse.Namespace) -> int:
    from callgym.benchmarks.lm_eval_tasks import task_dir

    print(task_dir())
    return 0


# ----------------------------------------------------------------------------- parser


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="callgym", description="A gym for function-calling reasoning.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    envs = sub.add_parser("envs", help="list the registered environments")
    envs.set_defaults(func=cmd_envs)

    models = sub.add_parser("models", help="list known models; `models path NAME` prints a local HF folder")
    models.add_argument("action", nargs="?", choices=["list", "path"], default="list")
    models.add_argument("name", nargs="?", help="model name, e.g. smollm2-135m")
    models.set_defaults(func=cmd_models)

    _add_rollout(sub)
    _add_later_commands(sub)

    serve = sub.add_parser(
        "serve", help="start an OpenAI-compatible vLLM server on a model (CPU settings included)"
    )
    serve.add_argument("model", help="model name (e.g. smollm2-135m) or local HF folder")
    serve.add_argument(
        "vllm_args", nargs=argparse.REMAINDER, help="more `vllm serve` flags, e.g. --port 8000"
    )
    serve.set_defaults(func=cmd_serve)

    lm_eval_path = sub.add_parser("lm-eval-path", help="print the folder to pass to lm-eval --include_path")
    lm_eval_path.set_defaults(func=cmd_lm_eval_path)
    # Listed for --help only: main() hands `callgym lm-eval ARGS...` to lm-eval untouched.
    sub.add_parser(
        "lm-eval",
        add_help=False,
        help="lm-eval's own CLI with the model `callgym` registered "
        "(whole episodes for callgym_*_agent tasks); every lm-eval flag works, see `callgym lm-eval -h`",
    )
    _add_import_flag(sub)
    return parser


def _add_import_flag(sub: Any) -> None:
    """``--import MODULE`` on every command (and sub-command) that runs."""
    for command in sub.choices.values():
        nested = [a for a in command._actions if isinstance(a, argparse._SubParsersAction)]
        if nested:
            _add_import_flag(nested[0])
            continue
        command.add_argument("--import", dest="imports", action="append", metavar="MODULE", default=[],
                             help="import a module that registers envs, agents or backends (repeatable)")


def _add_rollout(sub: Any) -> None:
    p = sub.add_parser("rollout", help="play episodes and append them to a JSONL file")
    p.add_argument("--env", required=True, help="env id, e.g. callgym/GSM8K-v0 (see `callgym envs`)")
    p.add_argument("--env-arg", action="append", metavar="K=V", help="env keyword argument (repeatable)")
    add_agent_flags(p)
    p.add_argument("--n", type=positive_int, default=10, help="number of problems (default 10)")
    p.add_argument("--start", type=count, default=0, help="first problem index (default 0)")
    p.add_argument("--samples", type=positive_int, default=1, help="episodes per problem (default 1)")
    p.add_argument("--out", help="JSONL file the episodes are appended to")
    p.add_argument("--resume", action="store_true", help="skip episodes --out already holds")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_rollout)


def _add_later_commands(sub: Any) -> None:
    """Commands implemented in their own modules (bench, compare, leaderboard, pairs, train, pipeline)."""
    from callgym import commands

    commands.add_parsers(sub)


# ----------------------------------------------------------------------------- entry point


def main(argv: Sequence[str] | None = None) -> int:
    # Before torch loads: idle OpenMP threads sleep instead of spinning (on a shared CPU a
    # spinning thread that loses its core slows torch tenfold).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["lm-eval"]:  # lm-eval's flags, passed on unchanged (argparse here would refuse them)
        return _lm_eval(argv[1:])
    args = make_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    prog = f"callgym {args.command}"
    try:
        from callgym.plugins import import_modules

        import_modules(args.imports)
        return args.func(args)
    except UsageError as e:
        return _fail(prog, "error", e, EXIT_USAGE)
    except OSError as e:  # a path the user named cannot be read or written
        where = f"{e.filename}: " if e.filename else ""
        return _fail(
            prog, "error", f"{where}{e.strerror or e}; check the path and its permissions", EXIT_USAGE
        )
    except BackendError as e:
        return _fail(prog, "backend error", f"{e} (finished episodes are kept)", 1)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; rerun with --resume to continue", file=sys.stderr)
        return 130
    except Exception as e:  # a bug: still one line, the traceback with -v
        logging.getLogger("callgym").debug("traceback", exc_info=True)
        hint = "" if args.verbose else "; rerun with -v for the traceback"
        return _fail(prog, "internal error", f"{type(e).__name__}: {e}{hint}", 1)


def _lm_eval(argv: list[str]) -> int:
    try:
        from callgym.benchmarks.lm_eval_model import main as lm_eval_main
    except ImportError as e:
        return _fail(
            "callgym lm-eval", "error", f"needs lm-eval: pip install 'callgym[lm-eval]' ({e})", EXIT_USAGE
        )
    try:
        return lm_eval_main(argv)
    except UsageError as e:
        return _fail("callgym lm-eval", "error", e, EXIT_USAGE)
    except BackendError as e:
        return _fail("callgym lm-eval", "backend error", e, 1)


def _fail(prog: str, kind: str, message: object, status: int) -> int:
    """Print one line to stderr: whatever the message holds, it never spans several lines."""
    text = " ".join(str(message).split())
    print(f"{prog}: {kind}: {text}", file=sys.stderr)
    return status

if __name__ == "__main__":
    sys.exit(main())
