"""Rollout throughput: the original study's sequential loop against callgym's batched engine.

On the same GSM8K problems and the embedded model (greedy, same token limit), it measures
episodes/s and generated tokens/s of:

(a) a sequential microchain-style loop: one episode at a time, transformers ``generate``,
    the whole history re-rendered and re-sent at every step, no stop at a finished call;
(b) callgym ``hf``: every unfinished episode in one left-padded batch per round, each reply
    stopped as soon as its call is complete;
(c) callgym ``vllm``: offline vLLM with prefix caching; each episode's next turn is submitted
    the moment its reply arrives (no rounds), each reply stopped at its complete call;
(d) raw ``vllm.LLM.generate`` on exactly the prompts (c) sent, all at once, starting from an
    empty prefix cache as (c) did: the ceiling;
(e) the same with the prefix cache (c) left behind (almost no prefill): for reference;
(f) raw ``LLM.generate`` in waves, step 1 of every episode, then step 2, ...: what vLLM
    alone does under the rollout's dependencies (a step's prompt exists only after the
    previous reply), so (c) against (f) is callgym's own overhead.

and prints the ratios the goals are about: (c)/(a) episodes/s (goal >= 5x) and callgym's
overhead over raw vLLM in tokens/s (goal <= 20%).

    python benchmarks/rollout_throughput.py --n 64
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from typing import Any

from callgym.cpu import cpu_dtype, describe_cpu

ENV_ID = "callgym/GSM8K-v0"


@dataclass
class Measure:
    name: str
    episodes: int
    tokens: int
    seconds: float
    accuracy: float

    @property
    def eps(self) -> float:
        return self.episodes / self.seconds

    @property
    def tps(self) -> float:
        return self.tokens / self.seconds


def make_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=64, help="GSM8K test problems (default 64)")
    p.add_argument("--model", default="smollm2-135m", help="model name or local HF folder")
    p.add_argument("--max-tokens", type=int, default=64, help="tokens per reply (default 64)")
    p.add_argument("--max-steps", type=int, default=6, help="env step limit (default 6)")
    p.add_argument(
        "--sequential-n", type=int, default=None, help="problems for (a), which is slow (default --n)"
    )
    p.add_argument(
        "--skip", nargs="*", default=[], choices=["sequential", "hf", "vllm", "raw"], help="parts to skip"
    )
    return p


def env_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    data = "gsm8k" if os.environ.get("CALLGYM_GSM8K_DIR") else "gsm_symbolic"
    return {"data": data, "split": "test", "tools": "study", "max_steps": args.max_steps}


# ----------------------------------------------------------------------------- (a)


def sequential_loop(args: argparse.Namespace, n: int) -> Measure:
    """The study's loop: one episode at a time, full history re-sent each step."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    import callgym.envs
    from callgym.agents.models import resolve_model

    path = resolve_model(args.model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, cpu_dtype())).eval()
    env = callgym.envs.make(ENV_ID, **env_kwargs(args))
    tokens = correct = 0
    started = time.perf_counter()
    for index in range(n):
        _, info = env.reset(seed=0, options={"index": index})
        done = False
        while not done:
            ids = tokenizer.apply_chat_template(
                info["messages"], add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
            with torch.inference_mode():
                out = model.generate(**ids, max_new_tokens=args.max_tokens, do_sample=False,
                                     pad_token_id=tokenizer.eos_token_id)
            new = out[0, ids["input_ids"].shape[1]:]
            tokens += len(new)
            reply = tokenizer.decode(new, skip_special_tokens=True)
            _, _, terminated, truncated, info = env.step(reply)
            done = terminated or truncated
        correct += bool(info["correct"])
    return Measure(
        "(a) sequential microchain-style loop", n, tokens, time.perf_counter() - started, correct / n
    )


# ----------------------------------------------------------------------------- (b), (c)


class RecordingAgent:
    """Wraps an agent and keeps every chat it sent, for the raw-vLLM ceiling."""

    def __init__(self, agent: Any) -> None:
        self.agent, self.name, self.chats = agent, agent.name, []
        self.streams = agent.streams  # vllm: each episode's next turn is sent when its reply is in

    def act(self, turns: list[Any]) -> list[Any]:
        self.chats.extend([list(t.messages) for t in turns])
        return self.agent.act(turns)

    def submit(self, key: Any, turn: Any, seed_offset: int = 0) -> None:
        self.chats.append(list(turn.messages))
        self.agent.submit(key, turn, seed_offset)

    def poll(self) -> list[Any]:
        return self.agent.poll()

    def cancel(self) -> None:
        self.agent.cancel()

    def describe(self) -> dict[str, Any]:
        return self.agent.describe()


def callgym_rollout(args: argparse.Namespace, backend: str) -> tuple[Measure, RecordingAgent, Any]:
    from callgym.agents.backends import make_backend
    from callgym.agents.backends.base import Sampling
    from callgym.agents.lm import LMAgent
    from callgym.agents.rollout import rollout

    engine = make_backend(backend, args.model)
    timer = StepTimer(engine) if backend == "vllm" else None
    agent = RecordingAgent(LMAgent(engine, Sampling(max_tokens=args.max_tokens)))
    started = time.perf_counter()
    result = rollout(ENV_ID, env_kwargs(args), agent, range(args.n), batch_size=args.n, progress=False)
    seconds = time.perf_counter() - started
    tokens = sum(e.tokens_out for e in result.episodes)
    if timer is not None:
        print(f"(c): {timer.seconds:.1f} s of {seconds:.1f} s inside the vLLM engine's step(), "
              f"{seconds - timer.seconds:.1f} s ({1 - timer.seconds / seconds:.0%}) on callgym's side")
    how = "streamed" if agent.streams else "batched rounds"
    return Measure(f"callgym {backend} ({how})", args.n, tokens, seconds, result.accuracy), agent, engine


# ----------------------------------------------------------------------------- (d)


RAW = {
    "cold": "(d) raw vllm.LLM.generate, all prompts at once",
    "warm": "(e) raw, all at once, prefix cache left by (c)",
    "waves": "(f) raw, in waves: every episode's step 1, then step 2, ...",
}


def raw_vllm(engine: Any, chats: list[list[dict[str, Any]]], max_tokens: int, how: str) -> Measure:
    """Plain ``LLM.generate`` on the prompts (c) sent: no env, no stopping logic.

    cold (the ceiling the goal names): all prompts in one call, the prefix cache emptied
    first, as (c) started. warm: the same with the cache (c) left, so almost no prefill; for
    reference only. waves: one call per step number, so a prompt runs only with the prompts
    that could exist at the same time in a rollout (at most one per episode): the same
    dependencies as (c) without callgym, so (c) against (f) is callgym's own overhead.
    """
    from vllm import SamplingParams

    llm = engine.llm  # the backend's own engine: same weights, same prefix cache settings
    if how != "warm":
        llm.reset_prefix_cache()
    tokenizer = llm.get_tokenizer()
    waves: dict[int, list[str]] = {}
    for chat in chats:
        step = sum(m["role"] == "assistant" for m in chat) if how == "waves" else 0
        waves.setdefault(step, []).append(
            tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
        )
    params = SamplingParams(temperature=0.0, max_tokens=max_tokens)
    started = time.perf_counter()
    outputs = [o for step in sorted(waves) for o in llm.generate(waves[step], params, use_tqdm=False)]
    seconds = time.perf_counter() - started
    tokens = sum(len(o.outputs[0].token_ids) for o in outputs)
    return Measure(RAW[how], 0, tokens, seconds, float("nan"))


class StepTimer:
    """Times the engine's own ``step()`` calls during (c): the rest of the wall clock is
    callgym's side (rendering, tokenising, env steps, stop checks), partly overlapped with
    the engine process computing."""

    def __init__(self, engine: Any) -> None:
        self.llm_engine, self.seconds = engine.llm.llm_engine, 0.0
        self._step = self.llm_engine.step
        self.llm_engine.step = self._timed

    def _timed(self) -> Any:
        started = time.perf_counter()
        try:
            return self._step()
        finally:
            self.seconds += time.perf_counter() - started


# ----------------------------------------------------------------------------- report


def report(measures: list[Measure]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="rollout throughput (same problems, same model, greedy)")
    for col in ("setup", "episodes", "gen. tokens", "seconds", "episodes/s", "tokens/s", "accuracy"):
        table.add_column(col, justify="left" if col == "setup" else "right")
    for m in measures:
        table.add_row(m.name, str(m.episodes or "–"), str(m.tokens), f"{m.seconds:.1f}",
                      f"{m.eps:.3f}" if m.episodes else "–", f"{m.tps:.1f}",
                      "–" if m.accuracy != m.accuracy else f"{m.accuracy:.1%}")
    Console(width=130).print(table)  # wide enough for the setup names, even in a log file
    by = {m.name[:3]: m for m in measures}
    for key in ("(b)", "(c)"):
        if "(a)" in by and key in by:
            print(
                f"{by[key].name}: {by[key].eps / by['(a)'].eps:.1f}x the sequential loop in episodes/s "
                "(goal for (c): >= 5x)"
            )
    if "(c)" in by and "(d)" in by:
        share = by["(c)"].tps / by["(d)"].tps
        print(
            f"callgym vllm reaches {share:.0%} of raw vLLM tokens/s (overhead {1 - share:.0%}; goal <= 20%)"
        )
    if "(c)" in by and "(f)" in by:
        print(
            f"callgym vllm reaches {by['(c)'].tps / by['(f)'].tps:.0%} of raw vLLM run in waves, "
            "the same dependencies "
            f"without callgym; all prompts at once (d) is {by['(d)'].tps / by['(f)'].tps:.2f}x the waves (f)"
        )


def main(argv: list[str] | None = None) -> None:
    args = make_parser().parse_args(argv)
    print(f"CPU: {describe_cpu()} (every setup runs in that dtype)")
    measures: list[Measure] = []
    if "sequential" not in args.skip:
        measures.append(sequential_loop(args, args.sequential_n or args.n))
    if "hf" not in args.skip:
        m, _, engine = callgym_rollout(args, "hf")
        engine.close()
        measures.append(m)
    if "vllm" not in args.skip:
        m, agent, engine = callgym_rollout(args, "vllm")
        measures.append(m)
        if "raw" not in args.skip:
            # warm first: it needs the cache (c) left behind; cold and waves empty it
            measures += [
                raw_vllm(engine, agent.chats, args.max_tokens, how) for how in ("warm", "cold", "waves")
            ]
    for m in measures:
        if m.name.startswith("callgym"):
            m.name = ("(b) " if "hf" in m.name else "(c) ") + m.name
    report(measures)


if __name__ == "__main__":
    main()
