"""An episode's result as text: what the callgym lm-eval model returns, read back and replayed to
the very verdict the env gave while playing, for answer envs and conversations alike."""

from __future__ import annotations

import doctest
import json

import pytest

import callgym  # noqa: F401  (registers the envs)
from callgym.agents.rollout import rollout
from callgym.agents.scripted import OracleAgent, RandomAgent
from callgym.benchmarks import episode_result, replay
from callgym.envs import make


@pytest.mark.parametrize("module", [episode_result, replay])
def test_docstring_examples_run(module):
    result = doctest.testmod(module)
    assert result.attempted and not result.failed


@pytest.mark.parametrize("env_id, kwargs", [("callgym/FOL-v0", {"split": "test"}), ("callgym/GSM8K-v0", {}),
                                            ("callgym/BFCL-MultiTurnMissFunc-v0", {})])
@pytest.mark.parametrize("agent", [OracleAgent(), RandomAgent(seed=3)])
def test_a_result_replays_to_the_verdict_the_episode_had(env_id, kwargs, agent):
    episodes = rollout(env_id, kwargs, agent, indices=range(4), progress=False).episodes
    env = make(env_id, **kwargs)
    for ep in episodes:
        result = episode_result.loads(episode_result.dumps(ep))
        assert result.replies == tuple(s.action for s in ep.steps) and result.reward == ep.reward
        verdict = replay.replay_replies(env, ep.index, result.replies)
        assert (verdict.correct, verdict.reward, verdict.steps) == (ep.correct, ep.reward, ep.num_steps)
    if isinstance(agent, OracleAgent):
        assert all(ep.correct for ep in episodes)


def test_a_reply_no_utf8_can_hold_survives_the_round_trip():
    from callgym.episode import Episode, Step

    ep = Episode("callgym/GSM8K-v0", 0, steps=[Step("Answer(value=5) \ud800", "Error")], answer=None)
    text = episode_result.dumps(ep)
    text.encode("utf-8")  # lm-eval writes it to UTF-8 files
    assert episode_result.loads(text).replies == ("Answer(value=5) \ud800",)


def test_fields_of_the_wrong_type_do_not_pass_for_a_result():
    good = {"format": episode_result.FORMAT, "answer_call": "", "answer": None, "reward": 1.0,
            "replies": ["x"]}
    assert episode_result.loads(json.dumps(good)) is not None
    for key, value in [("replies", "x"), ("replies", [None]), ("format", "callgym-episode/0")]:
        assert episode_result.loads(json.dumps({**good, key: value})) is None
    odd = episode_result.loads(json.dumps({**good, "reward": True, "answer_call": 3, "answer": 4}))
    assert (odd.reward, odd.answer_call, odd.answer) == (0.0, "", "4")
