"""Contract tests over every registered env id (gymnasium's checker, determinism, gold chains,
hostile replies), in the style of gymnasium's and reasoning-gym's common tests."""

from __future__ import annotations

import os
import warnings

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import callgym
from callgym.envs.base import ToolEnv

ENV_IDS = [e for e in callgym.envs.env_ids() if e.startswith("callgym/")]
HOSTILE = [
    "__import__('os').system('touch /tmp/callgym-pwned')",
    "Sum(a=open('/etc/passwd'), b=1)",
    'Premise("unclosed',
    "Answer(" + "(" * 5000,
    "x" * 1_000_000,
    "Calculator('9**99999999')",
    "Answer(9**99999999)",
    "Product(1e308, 1e308)",
    '{"name": "Answer", "arguments": {"value": {"__class__": 1}}}',
    "",
]


def make(env_id: str) -> gym.Env:
    return gym.make(env_id)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_gymnasium_env_checker_passes(env_id):
    env = make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a checker warning is a contract break too
        check_env(env.unwrapped, skip_render_check=False)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_same_seed_and_index_give_the_same_episode(env_id):
    def play():
        env = make(env_id)
        obs, info = env.reset(seed=7, options={"index": 5})
        trace = [obs, info["messages"], info["difficulty"]]
        for call in env.unwrapped.problem.gold_calls:
            trace.append(env.step(call)[:4])
        return trace

    assert play() == play()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_reset_without_index_is_seeded(env_id):
    env = make(env_id)
    first = env.reset(seed=3)[1]["index"]
    assert env.reset(seed=3)[1]["index"] == first


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_gold_chain_scores_one_on_every_difficulty(env_id):
    env = make(env_id)
    for index in range(25):
        obs, info = env.reset(seed=0, options={"index": index})
        assert {"messages", "tools", "index", "difficulty"} <= set(info)
        assert info["index"] == index
        for call in env.unwrapped.problem.gold_calls:
            obs, reward, terminated, truncated, info = env.step(call)
            assert not obs.startswith("Error"), (index, call, obs)
        assert terminated and not truncated and reward == 1.0 and info["correct"], (index, info)


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("reply", HOSTILE, ids=lambda r: r[:24])
def test_hostile_replies_become_error_observations(env_id, reply):
    env = make(env_id)
    env.reset(seed=0, options={"index": 0})
    obs, reward, terminated, truncated, info = env.step(reply)
    assert reward == 0.0 and info["call"] is None
    if env.unwrapped.answer_tool is None and info["invalid_calls"] == 0:
        assert info["turn"] == 1 or terminated  # a conversation: a reply without a call ends the turn
    else:
        assert obs.startswith("Error:") and not terminated and info["invalid_calls"] == 1
    assert not os.path.exists("/tmp/callgym-pwned")


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_limits_truncate(env_id):
    env = make(env_id)
    env.unwrapped.max_invalid = 2
    _, info = env.reset(seed=0, options={"index": 0})
    unreadable = info["tools"][0]["function"]["name"] + '("unclosed'  # a known function, badly called
    env.step(unreadable)
    obs, reward, terminated, truncated, info = env.step(unreadable)
    assert truncated and not terminated and info["correct"] is False and "invalid calls" in obs


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_every_env_is_a_tool_env_with_tools_in_the_prompt(env_id):
    env = make(env_id).unwrapped
    assert isinstance(env, ToolEnv)
    _, info = env.reset(seed=0, options={"index": 0})
    system = info["messages"][0]["content"]
    for schema in info["tools"]:
        name = schema["function"]["name"]
        assert name + "(" in system or f'"{name}"' in system  # a signature, or a JSON doc (BFCL)
