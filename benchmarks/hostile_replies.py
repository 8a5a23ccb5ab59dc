"""The slowest step over a corpus of hostile model replies: parse, tools, calculator, prover.

Every reply of ``callgym.testing.hostile`` (runs of one character at the reply limit,
unclosed brackets, quotes and JSON, code, huge numbers, calculator towers, formulas at their
bounds, lone surrogates) goes through ``parse_call`` and through ``env.step`` on both envs
(GSM8K with every tool, calculator included; FOL with Premise and Prove); then each hostile
FOL problem (a ~1,800-link implication chain, a pigeonhole set, grounding near its limit)
is stated with Premise and asked with Prove. The slowest of several runs is kept for each
(the worst case is what matters), both as wall clock and as this process's CPU time (which
other jobs on the machine do not inflate). The streaming stop check is timed on each shape
fed a few characters at a time, as a backend sees a reply grow.

    python benchmarks/hostile_replies.py --repeat 3 --top 10
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each step; the slowest counts")
    parser.add_argument("--top", type=int, default=10, help="how many of the slowest steps to list")
    parser.add_argument("--size", type=int, default=31_999, help="characters of each shaped reply")
    return parser


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of the slowest of ``repeat`` runs."""
    wall = cpu = 0.0
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = max(wall, time.perf_counter() - w), max(cpu, time.process_time() - c)
    return wall, cpu


def _parse(text: str, names: list[str]) -> None:
    from callgym.calls import parse_call
    from callgym.errors import CallParseError

    try:
        parse_call(text, names)
    except CallParseError:
        pass


def _step(env: Any, text: str) -> None:
    env.reset(seed=0, options={"index": 0})
    env.step(text)


def _watch(text: str, names: frozenset[str], piece: int = 4) -> None:
    from callgym.agents.backends.stopping import CallWatcher

    watcher = CallWatcher(names)
    for end in range(piece, len(text) + piece, piece):
        watcher.end(text[:end])


def _prove(env: Any, replies: list[str]) -> Callable[[], None]:
    """A callable timing only the final Prove, after the premises are stated."""

    def run() -> None:
        env.step(replies[-1])

    env.reset(seed=0, options={"index": 0})
    for reply in replies[:-1]:
        env.step(reply)
    return run


def measure(repeat: int, size: int) -> list[tuple[float, float, str, str]]:
    """(wall, cpu, what, case) for every timed step."""
    import gymnasium as gym

    import callgym  # noqa: F401  (registers the ids)
    from callgym.envs.fol.prover import _entails
    from callgym.testing.hostile import FOL_PROBLEMS, SHAPES, fol_episode, replies

    names = ["Sum", "Answer", "Premise", "Prove", "Calculator", "Reasoning"]
    envs = {
        "FOL step": gym.make("callgym/FOL-v0", max_steps=10**6, max_invalid=10**6).unwrapped,
        "GSM8K step": gym.make("callgym/GSM8K-v0", data="gsm8k", split="test", tools="all",
                               max_steps=10**6, max_invalid=10**6).unwrapped,
    }
    rows = []
    for case, text in replies(size):
        rows.append((*_timed(lambda: _parse(text, names), repeat), "parse", case))
        for what, env in envs.items():
            rows.append((*_timed(lambda: _step(env, text), repeat), what, case))
    for case, shape in SHAPES.items():
        text = shape(size)
        rows.append((*_timed(lambda: _watch(text, frozenset(names)), 1), "stream check (whole reply)", case))
    for case, make in FOL_PROBLEMS.items():
        for _ in range(repeat):
            _entails.cache_clear()  # time the prover, not its cache
            prove = _prove(envs["FOL step"], fol_episode(*make()))
            rows.append((*_timed(prove, 1), "Prove step", case))
    return rows


def main(argv: list[str] | None = None) -> None:
    args = make_parser().parse_args(argv)
    rows = sorted(measure(args.repeat, args.size), reverse=True)
    kinds = sorted({what for _, _, what, _ in rows})
    print(f"{len(rows)} timed steps over the hostile corpus ({args.size:,}-character shapes, slowest of "
          f"{args.repeat} runs each)")
    print(f"\n{'slowest per kind':<28} {'wall ms':>9} {'cpu ms':>9}  case")
    for kind in kinds:
        wall, cpu, _, case = max(r for r in rows if r[2] == kind)
        print(f"{kind:<28} {wall * 1e3:9.2f} {cpu * 1e3:9.2f}  {case}")
    print(f"\n{'slowest steps':<28} {'wall ms':>9} {'cpu ms':>9}  case")
    for wall, cpu, what, case in rows[: args.top]:
        print(f"{what:<28} {wall * 1e3:9.2f} {cpu * 1e3:9.2f}  {case}")


if __name__ == "__main__":
    main()
