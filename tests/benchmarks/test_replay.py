"""Single-turn replay: chains of calls written in one reply, stepped through real envs."""

from __future__ import annotations

import json
import os

import pytest

from callgym.benchmarks.replay import ReplayResult, chain_calls, replay_chain, single_turn_messages
from callgym.calls import MAX_REPLY_CHARS
from callgym.envs import make
from tests.conftest import TOY_ENV

TOY_NAMES = ("Sum", "Answer")
GSM8K_DIR = os.environ.get("CALLGYM_GSM8K_DIR")


@pytest.fixture()
def toy():
    return make(TOY_ENV, max_steps=5, max_invalid=2)


def _gold(env, index: int) -> str:
    env.reset(options={"index": index})
    return "\n".join(env.unwrapped.problem.gold_calls)


# ----------------------------------------------------------------------------- chain_calls


def test_chain_calls_one_per_line_with_prose_and_bullets():
    reply = "Let me add.\n1. Sum(a=2, b=1)\n- Answer(3)\nDone."
    assert chain_calls(reply, TOY_NAMES) == ["Sum(a=2, b=1)", "Answer(3)"]


def test_chain_calls_keeps_malformed_and_unknown_calls_as_attempts():
    reply = "Sum(a=2, b=\nMultiply(2, 3)\nAnswer(3)"
    assert chain_calls(reply, TOY_NAMES) == ["Sum(a=2, b=", "Multiply(2, 3)", "Answer(3)"]


def test_chain_calls_reads_json_calls_on_one_line_and_across_lines():
    one_line = '{"name": "Sum", "arguments": {"a": 2, "b": 1}}\n{"name": "Answer", "arguments": [3]}'
    assert chain_calls(one_line, TOY_NAMES) == ["Sum(a=2, b=1)", "Answer(3)"]
    pretty = json.dumps({"name": "Answer", "arguments": {"value": 3}}, indent=2)
    assert chain_calls(pretty, TOY_NAMES) == ["Answer(value=3)"]


def test_chain_calls_of_prose_is_empty_and_a_huge_reply_is_one_attempt():
    assert chain_calls("The answer is three.", TOY_NAMES) == []
    huge = "Sum(1, 2)\n" * (MAX_REPLY_CHARS // 5)
    assert chain_calls(huge, TOY_NAMES) == [huge]


# ----------------------------------------------------------------------------- replay_chain


def test_gold_chain_scores_one(toy):
    result = replay_chain(toy, 4, _gold(toy, 4))
    assert result == ReplayResult(reward=1.0, correct=True, calls=2, valid_calls=2, steps=2)
    assert result.valid_call_rate == 1.0


def test_replay_stops_at_the_answer_call(toy):
    result = replay_chain(toy, 4, "Answer(5)\nSum(1, 2)\nAnswer(99)")
    assert (result.correct, result.calls, result.steps, result.valid_call_rate) == (True, 3, 1, 1.0)


def test_wrong_answer_and_invalid_calls_count(toy):
    result = replay_chain(toy, 4, "Sum(a=4, b=1)\nSum(a=4, b=x)\nAnswer(6)")
    assert (result.reward, result.correct, result.valid_calls, result.steps) == (0.0, False, 2, 3)
    assert result.valid_call_rate == pytest.approx(2 / 3)


def test_replay_stops_at_the_env_limits(toy):
    too_many = replay_chain(toy, 0, "Sum(1, 1)\n" * 9 + "Answer(1)")
    assert (too_many.correct, too_many.calls, too_many.steps) == (False, 10, 5)  # max_steps=5
    invalid = replay_chain(toy, 0, "Nope(1)\nNope(2)\nAnswer(1)")
    assert (invalid.correct, invalid.steps, invalid.valid_calls) == (False, 2, 0)  # max_invalid=2


@pytest.mark.parametrize(
    "reply",
    [
        "",
        "I do not know.",
        "Answer(",
        'Answer(__import__("os").system("echo hi"))',
        "Answer(1 + 2)",
        "Sum(a=9**9**9, b=1)\nAnswer(10**10**10)",
        "((((((((((((((((((((Sum(" * 50,
        '{"name": "Answer", "arguments": "{not json"}',
        "\x00\udcff\u202e Answer(\"3\u0000\")",
        "Answer(1)" * 5000,
    ],
)
def test_hostile_replies_score_zero_without_raising(toy, reply):
    result = replay_chain(toy, 4, reply)
    assert result.reward == 0.0 and not result.correct
    assert 0.0 <= result.valid_call_rate <= 1.0


def test_the_same_env_replays_many_problems_in_a_row(toy):
    results = [replay_chain(toy, i, _gold(toy, i)) for i in range(5)]
    assert all(r.correct for r in results)


# ----------------------------------------------------------------------------- prompts


def test_single_turn_messages_rewrite_the_protocol(toy):
    system, user = single_turn_messages(toy, 7)
    assert system["role"] == "system" and user["role"] == "user"
    assert "one call per reply" not in system["content"]
    assert "whole chain of function calls" in system["content"]
    assert "Sum(a: number, b: number)" in system["content"]  # the tool help text survives
    assert user["content"].startswith("What is 7 + 1?")
    assert user["content"].endswith("ending with Answer(...).")


# ----------------------------------------------------------------------------- real envs


@pytest.mark.parametrize(
    ("env_id", "kwargs"),
    [
        ("callgym/FOL-v0", {"split": "test"}),
        pytest.param(
            "callgym/GSM8K-v0",
            {"data": "gsm8k", "split": "test"},
            marks=pytest.mark.skipif(not GSM8K_DIR, reason="CALLGYM_GSM8K_DIR is not set"),
        ),
        ("callgym/GSM8K-v0", {}),  # the embedded offline source
    ],
)
def test_gold_chains_of_the_real_envs_score_one(env_id, kwargs):
    env = make(env_id, **kwargs)
    for index in range(0, 50, 7):
        result = replay_chain(env, index, _gold(env, index))
        assert result.correct, (env_id, index)
        assert result.valid_call_rate == 1.0
