"""callgym's BFCL verdict equals bfcl_eval's own checker, entry for entry, turn for turn:
on the oracle, on deliberately wrong chains, on random agents and on recorded replies of
the embedded model."""

from __future__ import annotations

import json
import random
from pathlib import Path

import gymnasium as gym
import pytest

import callgym  # noqa: F401  (registers the envs)
from callgym.agents.base import Turn
from callgym.agents.scripted import RandomAgent
from callgym.envs.bfcl.data import CATEGORIES, load_entries
from tests.envs.bfcl.reference import bfcl_entry_verdict, bfcl_verdicts, play

ENV_IDS = {
    "base": "callgym/BFCL-MultiTurnBase-v0",
    "miss_func": "callgym/BFCL-MultiTurnMissFunc-v0",
    "miss_param": "callgym/BFCL-MultiTurnMissParam-v0",
    "long_context": "callgym/BFCL-MultiTurnLongContext-v0",
}
RECORDED = Path(__file__).parent / "data" / "smollm2_replies.jsonl"


def assert_parity(category: str, index: int, info: dict, turns: list) -> bool:
    entry = load_entries(category)[index]
    verdicts = bfcl_verdicts(entry, turns)
    passed = info["answer"]
    assert verdicts[:passed] == [True] * passed, (entry.id, verdicts, passed)
    if passed < len(turns):  # the turn callgym failed (or cut short) is the one BFCL fails
        assert not verdicts[passed] or len(turns) < len(entry.ground_truth), (entry.id, verdicts, passed)
    assert info["correct"] == bfcl_entry_verdict(entry, turns), (entry.id, verdicts, info["answer"])
    return info["correct"]


def replay(replies: list[str]):
    queue = iter(replies)
    return lambda env, info: next(queue, "Done.")


# ------------------------------------------------------------------ deliberately wrong chains


def wrong_chain(category: str, index: int, rng: random.Random) -> list[str]:
    """The gold chain with one mistake BFCL should (or, for harmless ones, should not) catch."""
    truth = [list(t) for t in load_entries(category)[index].ground_truth]
    turn = rng.choice([i for i, t in enumerate(truth) if t])
    calls = truth[turn]
    kind = rng.choice(["drop", "skip_turn", "duplicate", "reverse", "one_per_reply", "early", "argument"])
    if kind == "drop":
        calls.pop(rng.randrange(len(calls)))
    elif kind == "skip_turn":
        calls.clear()
    elif kind == "duplicate":
        calls.insert(0, calls[0])
    elif kind == "reverse":
        calls.reverse()
    elif kind == "early" and turn + 1 < len(truth):
        calls += truth[turn + 1]
    elif kind == "argument":
        calls[-1] = calls[-1].replace("'", "'x", 1) if "'" in calls[-1] else calls[-1].replace("=", "=1", 1)
    replies: list[str] = []
    for i, t in enumerate(truth):
        if kind == "one_per_reply" and i == turn:
            replies += t
        elif t:
            replies.append(f"[{', '.join(t)}]")
        replies.append("Done.")
    return replies


@pytest.mark.parametrize("category", CATEGORIES)
def test_wrong_chains_get_bfcls_verdict(category):
    env = gym.make(ENV_IDS[category])
    rng = random.Random(category)
    verdicts = []
    for index in rng.sample(range(len(load_entries(category))), 25):
        info, turns = play(env, index, replay(wrong_chain(category, index, rng)))
        verdicts.append(assert_parity(category, index, info, turns))
    assert True in verdicts and False in verdicts  # the chains exercise both outcomes


@pytest.mark.parametrize("category", CATEGORIES)
def test_oracle_gets_bfcls_verdict(category):
    env = gym.make(ENV_IDS[category])
    for index in range(0, len(load_entries(category)), 20):
        info, turns = play(env, index, replay(list(env.unwrapped.load_problem(index).gold_calls)))
        assert assert_parity(category, index, info, turns)


@pytest.mark.parametrize("category", CATEGORIES)
def test_random_agent_gets_bfcls_verdict(category):
    env = gym.make(ENV_IDS[category])
    agent = RandomAgent(answer_prob=0.3, seed=1)

    def act(tool_env, info):
        return agent.act(
            [Turn(tool_env, info["messages"], info["tools"], info["step"], index=info["index"])]
        )[0].text

    for index in range(0, len(load_entries(category)), 25):
        info, turns = play(env, index, act)
        assert_parity(category, index, info, turns)


def test_recorded_model_replies_get_bfcls_verdict():
    """SmolLM2-135M-Instruct's replies, recorded from `callgym bench --suite bfcl-multi-turn
    --agent student --model smollm2-135m --backend vllm --n 10` (greedy): the replay gives the
    verdict the live run recorded, and that verdict is BFCL's."""
    rows = [json.loads(line) for line in RECORDED.read_text(encoding="utf-8").splitlines()]
    assert {r["category"] for r in rows} == set(CATEGORIES)
    for row in rows:
        env = gym.make(ENV_IDS[row["category"]])
        info, turns = play(env, row["index"], replay(row["replies"]))
        assert info["correct"] == row["correct"]
        assert_parity(row["category"], row["index"], info, turns)
