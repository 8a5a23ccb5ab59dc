"""BFCL's own verdict on a recorded episode, from the bfcl-eval wheel (tests only).

The wheel's checker ``eval()``s call strings; here it only ever sees calls that callgym's
parser already read into literals and wrote back out (``str(Call)``), never model text.
"""

from __future__ import annotations

import uuid
from typing import Any

import gymnasium as gym

from callgym.envs.bfcl.data import Entry


def play(env: gym.Env, index: int, next_reply: Any) -> tuple[dict[str, Any], list[list[list[str]]]]:
    """Play one episode; return the final info and the calls per turn, per reply (BFCL's shape)."""
    tool_env = env.unwrapped
    _, info = env.reset(seed=0, options={"index": index})
    turns: list[list[list[str]]] = [[]]
    done = False
    while not done:
        turn = info["turn"]
        _, _, terminated, truncated, info = env.step(next_reply(tool_env, info))
        done = terminated or truncated
        if tool_env.last_calls:
            turns[turn].append([str(c) for c in tool_env.last_calls])
        if info["turn"] > turn:
            turns.append([])
    return info, turns


def bfcl_verdicts(entry: Entry, turns: list[list[list[str]]]) -> list[bool]:
    """BFCL's verdict after each turn the episode played: the checker on every prefix."""
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker import multi_turn_checker

    test_entry = {
        "id": entry.id,
        "initial_config": entry.initial_config,
        "involved_classes": list(entry.involved_classes),
    }
    truth = [list(t) for t in entry.ground_truth]
    verdicts = []
    for k in range(len(turns)):
        # A fresh model name: BFCL keeps its instances in globals() keyed by it.
        result = multi_turn_checker(
            turns[: k + 1], truth[: k + 1], test_entry, entry.category, f"parity_{uuid.uuid4().hex}"
        )
        verdicts.append(bool(result["valid"]))
    return verdicts


def bfcl_entry_verdict(entry: Entry, turns: list[list[list[str]]]) -> bool:
    """BFCL's runner: an episode that stopped before its last turn was force-terminated."""
    return len(turns) == len(entry.ground_truth) and all(bfcl_verdicts(entry, turns))
