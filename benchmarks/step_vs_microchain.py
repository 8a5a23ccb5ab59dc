"""How long one full callgym ``env.step`` takes, next to microchain's bare ``Engine.execute``.

microchain (PyPI ``microchain-python``) is the agent engine of the original study: it parses
a reply with ``ast.parse`` and calls a registered function. A callgym step does more: it
parses the reply (Python or JSON syntax), checks and coerces every argument to an exact
rational, runs the tool with bounded cost, formats the result, appends both chat messages
and builds ``info`` (messages, tool schemas, index, difficulty). The goal is that all of
that costs no more than microchain's execute alone.

Both run the same calls, interleaved round by round so machine load hits both alike; the
best round counts (as ``timeit`` does). Resets happen outside the timed part.

    python benchmarks/step_vs_microchain.py --repeat 200 --rounds 30
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable, Sequence
from contextlib import redirect_stdout
from typing import Any

CALLS = (
    "Sum(a=2, b=3)",
    "Subtraction(a=10, b=4)",
    "Product(a=6, b=7)",
    "Division(a=48, b=2)",
    "Product(a=80000, b=1.5)",
    'Reasoning(thought="Half of 48 is 24, so she sells 24 clips in May.")',
    "Sum(a=24, b=48)",
    "Division(a=7, b=3)",
)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="episodes (passes over the calls) per round")
    parser.add_argument("--rounds", type=int, default=30, help="timed rounds; the best one counts")
    parser.add_argument("--only", choices=["sum", "mix"], default=None, help="run one call set only")
    return parser


def microchain_engine() -> Any:
    """A microchain Engine with the study's functions, set up as its Agent would."""
    from microchain import Engine, Function

    # microchain reads the annotations as types; this module's are strings (PEP 563), so
    # each __call__ gets real ones, as in a module without the __future__ import.
    def binary(name: str, description: str, op: Callable[[float, float], float]) -> Function:
        def call(self: Function, a: float, b: float) -> float:
            return op(a, b)

        call.__annotations__ = {"a": float, "b": float, "return": float}
        cls = type(name, (Function,), {"description": description, "example_args": [2, 2], "__call__": call})
        return cls()

    class Reasoning(Function):
        description = "Use this function for your internal reasoning"
        example_args = ["The next step to take is..."]

        def __call__(self, thought: str) -> str:
            return "The reasoning has been recorded"

    Reasoning.__call__.__annotations__ = {"thought": str, "return": str}

    engine = Engine()
    use = "Use this function to compute the"
    for function in (
        binary("Sum", f"{use} sum of two numbers", lambda a, b: a + b),
        binary("Subtraction", f"{use} subtraction of two numbers", lambda a, b: a - b),
        binary("Product", f"{use} product of two numbers", lambda a, b: a * b),
        binary("Division", f"{use} division of two numbers", lambda a, b: a / b),
        Reasoning(),
    ):
        engine.register(function)
    engine.bind(object())  # execute() insists on an agent; it is not used
    _ = engine.help  # ...and on the help text having been read
    return engine


def time_microchain(engine: Any, calls: Sequence[str], repeat: int) -> float:
    """Seconds per call of ``engine.execute``."""
    start = time.perf_counter()
    for _ in range(repeat):
        for call in calls:
            engine.execute(call)
    return (time.perf_counter() - start) / (repeat * len(calls))


def time_callgym(env: Any, calls: Sequence[str], repeat: int) -> float:
    """Seconds per call of ``env.step``: one episode per pass, resets not timed."""
    total = 0.0
    for _ in range(repeat):
        env.reset(options={"index": 0})
        start = time.perf_counter()
        for call in calls:
            env.step(call)
        total += time.perf_counter() - start
    return total / (repeat * len(calls))


def check_same_results(env: Any, engine: Any, calls: Sequence[str]) -> None:
    """Both engines must accept every call (a benchmark of error paths would mislead)."""
    env.reset(options={"index": 0})
    for call in calls:
        observation = env.step(call)[0]
        if observation.startswith("Error"):
            raise SystemExit(f"callgym rejected {call}: {observation}")
        result, output = engine.execute(call)
        if result.name != "SUCCESS":
            raise SystemExit(f"microchain rejected {call}: {output}")


def compare(label: str, calls: Sequence[str], repeat: int, rounds: int) -> None:
    import gymnasium as gym

    import callgym  # noqa: F401  (registers the ids)

    # The same env a rollout steps: gym.make with its wrappers, study tools, offline data.
    env = gym.make("callgym/GSM8K-v0", tools="study", size=1, max_steps=len(calls) + 1)
    engine = microchain_engine()
    check_same_results(env, engine, calls)
    best_env = best_bare = best_micro = float("inf")
    with redirect_stdout(io.StringIO()):  # microchain prints; keep the table readable
        time_callgym(env, calls, max(1, repeat // 10))  # warm up all three
        time_callgym(env.unwrapped, calls, max(1, repeat // 10))
        time_microchain(engine, calls, max(1, repeat // 10))
        for _ in range(rounds):
            best_env = min(best_env, time_callgym(env, calls, repeat))
            best_bare = min(best_bare, time_callgym(env.unwrapped, calls, repeat))
            best_micro = min(best_micro, time_microchain(engine, calls, repeat))
    print(f"{label:<22} callgym env.step {best_env * 1e6:6.2f} us (unwrapped {best_bare * 1e6:6.2f} us)   "
          f"microchain execute {best_micro * 1e6:6.2f} us   ratio {best_env / best_micro:.2f} "
          f"(unwrapped {best_bare / best_micro:.2f})")


def main(argv: list[str] | None = None) -> None:
    args = make_parser().parse_args(argv)
    if args.repeat < 1 or args.rounds < 1:
        raise SystemExit("--repeat and --rounds must be at least 1")
    print(f"{len(CALLS)} calls, {args.repeat} passes x {args.rounds} rounds (best round); "
          "ratio = callgym / microchain, goal <= 1.00; env.step goes through gym.make's wrappers")
    if args.only in (None, "sum"):
        compare("Sum(a=2, b=3)", CALLS[:1], args.repeat, args.rounds)
    if args.only in (None, "mix"):
        compare(f"mix of {len(CALLS)} calls", CALLS, args.repeat, args.rounds)


if __name__ == "__main__":
    main()
