"""Hostile model replies (callgym.testing.hostile): every parse and every step is bounded and
linear, every reply is stored and read back, the prover gives up within its counted budget."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

import callgym  # noqa: F401  (registers the ids)
from callgym.agents.backends.base import Reply
from callgym.agents.backends.stopping import CallWatcher, finish_text
from callgym.agents.rollout import rollout
from callgym.calls import MAX_REPLY_CHARS, parse_call
from callgym.envs.fol import sat
from callgym.envs.fol.formula import MAX_CHARS
from callgym.envs.fol.prover import entails
from callgym.envs.fol.tools import MAX_PREMISES
from callgym.episode import read_episodes
from callgym.errors import CallParseError
from callgym.testing.hostile import FOL_PROBLEMS, SHAPES, fol_episode, replies

_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")
NAMES = ["Sum", "Answer", "Premise", "Prove", "Calculator", "Reasoning"]
REPLIES = replies()
ENVS = {
    "callgym/FOL-v0": {"max_steps": 1_000, "max_invalid": 1_000},
    "callgym/GSM8K-v0": {
        "data": "gsm8k",
        "split": "test",
        "tools": "all",
        "max_steps": 1_000,
        "max_invalid": 1_000,
    },
}


def _cpu_seconds(fn: Callable[[], Any], repeat: int = 3) -> float:
    """The least CPU time of a few runs (CPU time, not wall clock: other jobs do not count)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def _parse(text: str) -> None:
    try:
        parse_call(text, NAMES)
    except CallParseError:
        pass


@pytest.mark.parametrize("name", list(SHAPES))
def test_parsing_costs_linear_time(name: str) -> None:
    """8x the text may cost about 8x; a quadratic scan costs 64x (32k letters took 15 s)."""
    small, large = SHAPES[name](MAX_REPLY_CHARS // 8), SHAPES[name](MAX_REPLY_CHARS - 1)
    assert len(large) <= MAX_REPLY_CHARS
    assert _cpu_seconds(lambda: _parse(large)) <= 16 * _cpu_seconds(lambda: _parse(small)) + 0.02


def _watch(text: str, piece: int = 4) -> None:
    """Check the reply for a complete call at every piece, as a streaming backend does."""
    watcher = CallWatcher(frozenset(NAMES))
    for end in range(piece, len(text) + piece, piece):
        watcher.end(text[:end])


@pytest.mark.parametrize("name", list(SHAPES))
def test_the_streaming_stop_check_costs_linear_time(name: str) -> None:
    small, large = SHAPES[name](MAX_REPLY_CHARS // 8), SHAPES[name](MAX_REPLY_CHARS - 1)
    assert large.startswith(finish_text(large, NAMES)[0])  # a fresh check reads it all, no recursion
    # The slicing above is itself quadratic in C (8k copies), cheap next to a rescan in Python.
    assert _cpu_seconds(lambda: _watch(large), 1) <= 16 * _cpu_seconds(lambda: _watch(small)) + 0.05


def test_a_reply_past_the_limit_is_refused_before_parsing() -> None:
    text = "a" * 64_000
    with pytest.raises(CallParseError, match="limit 32,000"):
        parse_call(text, NAMES)
    assert _cpu_seconds(lambda: _parse(text)) < 0.01


@pytest.fixture(scope="module")
def envs() -> dict[str, Any]:
    return {env_id: gym.make(env_id, **kwargs).unwrapped for env_id, kwargs in ENVS.items()}


@pytest.mark.parametrize("name, reply", REPLIES, ids=[name for name, _ in REPLIES])
def test_every_reply_gets_an_observation_at_bounded_cost(envs: dict[str, Any], name: str, reply: str) -> None:
    for env in envs.values():
        env.reset(seed=0, options={"index": 0})
        start = time.process_time()
        observation, reward, terminated, truncated, info = env.step(reply)
        assert time.process_time() - start < 0.5, name  # microseconds to milliseconds in fact
        assert isinstance(observation, str) and observation
        assert reward in (0.0, 1.0) and info["step"] == 1
        assert not truncated  # one bad reply is one invalid call, never the end


class _Replay:
    """A scripted agent that sends the hostile corpus, one reply per step."""

    name = "hostile"

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts

    def act(self, turns: list[Any]) -> list[Reply]:
        return [Reply(self.texts[t.step % len(self.texts)]) for t in turns]

    def describe(self) -> dict[str, Any]:
        return {"agent": self.name, "model": "hostile-corpus", "backend": "scripted"}


@pytest.mark.parametrize("env_id", list(ENVS))
def test_every_reply_is_stored_and_read_back(tmp_path: Path, env_id: str) -> None:
    texts = [text for _, text in REPLIES]
    out = tmp_path / "episodes.jsonl"
    kwargs = {**ENVS[env_id], "max_steps": len(texts)}
    written = rollout(env_id, kwargs, _Replay(texts), indices=[0], out=out, progress=False).episodes
    (episode,) = read_episodes(out)
    assert len(episode.steps) == len(written[0].steps)
    for step, original in zip(episode.steps, written[0].steps):
        # Exactly what was written, except what JSON itself defines otherwise: a high
        # surrogate followed by a low one reads back as the character the pair encodes.
        assert step.observation == json.loads(json.dumps(original.observation))
        if _SURROGATE_PAIR.search(original.action):
            assert step.action == json.loads(json.dumps(original.action))
        else:
            assert step.action == original.action
    assert "Answer(value=5) \ud800" in [s.action for s in episode.steps]


@pytest.mark.parametrize("name", list(FOL_PROBLEMS))
def test_the_prover_stops_within_its_counted_budget(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    premises, conclusion = FOL_PROBLEMS[name]()
    assert len(premises) <= MAX_PREMISES and max(map(len, premises)) <= MAX_CHARS  # inside the stated limits
    spent: list[dict[str, int]] = []
    close = sat.Clauses.close

    def record(self: sat.Clauses) -> None:
        close(self)
        spent.append(self.spent())

    monkeypatch.setattr(sat.Clauses, "close", record)
    try:
        verdict = entails(premises, conclusion, max_seconds=None)
    except sat.ProverGaveUp as e:
        verdict = "gave up"
        assert "propagations" in str(e)  # the counter, not the clock: the same on any machine
    assert (
        verdict == {"implication chain": "True", "pigeonhole": "gave up", "wide grounding": "Unknown"}[name]
    )
    assert spent and spent[0]["propagations"] <= 1.1 * sat.MAX_PROPAGATIONS
    assert spent[0]["conflicts"] <= sat.MAX_CONFLICTS + 1


def test_a_prover_that_gives_up_answers_unknown_and_the_episode_goes_on() -> None:
    env = gym.make("callgym/FOL-v0", max_steps=50).unwrapped
    env.reset(seed=0, options={"index": 0})
    for reply in fol_episode(*FOL_PROBLEMS["pigeonhole"]()):
        observation, reward, terminated, truncated, info = env.step(reply)
    assert observation.startswith("Unknown: the prover gave up")
    assert info["invalid_calls"] == 0 and not terminated and not truncated
    assert env.step('Answer("Unknown")')[2]  # the model can still answer
