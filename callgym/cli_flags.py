"""Flags several ``callgym`` commands share, and their translation into library arguments.

Kept apart from ``cli.py`` (the entry point) and ``commands.py`` (more commands) so both
import it and neither imports the other.
"""

from __future__ import annotations

import argparse
from typing import Any

from callgym.flags import count, non_negative_float, positive_int
from callgym.yaml_files import parse_key_values


def add_agent_flags(p: argparse.ArgumentParser) -> None:
    """Flags that choose and configure an agent (shared by rollout and bench)."""
    p.add_argument("--agent", default="student",
                   help="oracle, random, no-tool, student, teacher or a plugin's agent (default student)")
    p.add_argument("--model", default="smollm2-135m", help="model name, local HF folder or hub id")
    p.add_argument(
        "--backend", default="hf", help="hf, vllm, openai, lm_eval or a plugin's backend (default hf)"
    )
    p.add_argument("--base-url", action="append", help="OpenAI-compatible endpoint (repeat for round-robin)")
    p.add_argument(
        "--backend-arg", action="append", metavar="K=V", help="backend keyword argument (repeatable)"
    )
    p.add_argument(
        "--protocol", default="text", choices=["text", "native"], help="prompt protocol (default text)"
    )
    p.add_argument(
        "--bootstrap", action="append", metavar="CALL", help="call run before the model's first reply"
    )
    p.add_argument("--temperature", type=non_negative_float, default=0.0, help="0 is greedy (default 0)")
    p.add_argument("--max-tokens", type=positive_int, default=192, help="tokens per reply (default 192)")
    p.add_argument("--seed", type=count, default=0, help="seed for envs and sampling (default 0)")
    p.add_argument(
        "--batch-size", type=positive_int, default=32, help="episodes advanced together (default 32)"
    )


def agent_options(args: argparse.Namespace) -> dict[str, Any]:
    """The agent flags as keyword arguments of :func:`callgym.agents.make_agent`."""
    from callgym.agents.backends.base import Sampling

    backend_kwargs = parse_key_values(args.backend_arg, "--backend-arg")
    if args.base_url:
        backend_kwargs["base_url"] = args.base_url
    return {
        "model": args.model, "backend": args.backend, "protocol": args.protocol,
        "sampling": Sampling(temperature=args.temperature, max_tokens=args.max_tokens, seed=args.seed),
        "bootstrap": tuple(args.bootstrap or ()), "backend_kwargs": backend_kwargs,
    }
