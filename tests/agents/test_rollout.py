"""The rollout engine with scripted agents (the model backends have their own tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from callgym.agents.backends.base import Reply
from callgym.agents.rollout import rollout
from callgym.agents.scripted import OracleAgent, RandomAgent
from callgym.episode import read_episodes
from tests.conftest import TOY_ENV

REPO = Path(__file__).resolve().parents[2]


class CountingAgent(OracleAgent):
    """The oracle, recording how many turns each batched call carried."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def act(self, turns):
        self.batches.append(len(turns))
        return super().act(turns)


def test_oracle_solves_every_problem_and_records_everything(tmp_path):
    out = tmp_path / "e.jsonl"
    result = rollout(TOY_ENV, {}, OracleAgent(), range(12), out=out, progress=False)
    assert result.accuracy == 1.0
    episodes = read_episodes(out)
    assert sorted(e.index for e in episodes) == list(range(12))
    ep = episodes[0]
    assert ep.agent == "oracle" and ep.terminated and not ep.truncated and ep.invalid_calls == 0
    assert [s.call for s in ep.steps] == [f"Sum(a={ep.index}, b=1)", f"Answer({ep.index + 1})"]
    assert ep.messages[0]["role"] == "system" and ep.messages[-2] == {
        "role": "assistant",
        "content": ep.steps[-1].action,
    }


def test_the_oracle_plays_its_gold_chain_after_bootstrap_calls():
    result = rollout(TOY_ENV, {}, OracleAgent(), range(3), bootstrap=("Sum(a=0, b=0)",), progress=False)
    assert result.accuracy == 1.0
    assert [s.call for s in result.episodes[1].steps] == ["Sum(a=0, b=0)", "Sum(a=1, b=1)", "Answer(2)"]


def test_episodes_advance_together_in_batches():
    agent = CountingAgent()
    rollout(TOY_ENV, {}, agent, range(10), batch_size=4, progress=False)
    assert max(agent.batches) == 4
    assert sum(agent.batches) == 20  # two calls per episode, each answered once


def test_samples_and_resume_neither_lose_nor_repeat(tmp_path):
    out = tmp_path / "e.jsonl"
    first = rollout(TOY_ENV, {}, RandomAgent(seed=1), range(5), samples=2, out=out, progress=False)
    again = rollout(
        TOY_ENV, {}, RandomAgent(seed=1), range(8), samples=2, out=out, resume=True, progress=False
    )
    assert len(first.episodes) == 10 and again.skipped == 10 and len(again.episodes) == 6
    keys = [(e.index, e.sample) for e in read_episodes(out)]
    assert sorted(keys) == [(i, k) for i in range(8) for k in range(2)]


class Garbage:
    name = "garbage"

    def act(self, turns):
        return [Reply("I refuse to call anything.") for _ in turns]

    def describe(self):
        return {"agent": "garbage"}


def test_a_model_that_never_calls_is_truncated_with_errors_fed_back():
    result = rollout(TOY_ENV, {"max_invalid": 3}, Garbage(), range(2), progress=False)
    ep = result.episodes[0]
    assert ep.truncated and not ep.correct and ep.invalid_calls == 3
    assert ep.steps[0].observation.startswith("Error: No function call found")
    assert "invalid calls" in ep.steps[-1].observation


def test_a_killed_run_resumes_where_it_stopped(tmp_path):
    out = tmp_path / "killed.jsonl"
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(REPO)!r})
        import tests.conftest
        from callgym.agents.rollout import rollout
        from callgym.agents.scripted import OracleAgent

        class Slow(OracleAgent):
            def act(self, turns):
                time.sleep(0.05)
                return super().act(turns)

        rollout({TOY_ENV!r}, {{}}, Slow(), range(100), out={str(out)!r}, batch_size=1, progress=False)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO)
    deadline = time.time() + 60
    while time.time() < deadline and (not out.exists() or out.read_text().count("\n") < 3):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    written = len(read_episodes(out))
    assert 3 <= written < 100
    result = rollout(TOY_ENV, {}, OracleAgent(), range(100), out=out, resume=True, progress=False)
    assert result.skipped == written
    assert sorted(e.index for e in read_episodes(out)) == list(range(100))


class StreamingOracle(OracleAgent):
    """The oracle through the streaming protocol, answering out of order, one reply per poll."""

    streams = True

    def __init__(self) -> None:
        self.waiting: dict = {}
        self.most_in_flight = 0
        self.cancelled = False

    def submit(self, key, turn, seed_offset=0):
        assert key not in self.waiting  # one request per episode at a time
        self.waiting[key] = turn
        self.most_in_flight = max(self.most_in_flight, len(self.waiting))

    def poll(self):
        key = max(self.waiting)  # the newest first: episodes finish out of order
        (reply,) = super().act([self.waiting.pop(key)])
        return [(key, reply)]

    def cancel(self):
        self.cancelled = True


def test_streaming_agents_get_each_next_turn_as_soon_as_its_reply_is_in(tmp_path):
    agent = StreamingOracle()
    out = tmp_path / "e.jsonl"
    result = rollout(TOY_ENV, {}, agent, range(9), samples=2, batch_size=4, out=out, progress=False)
    assert result.accuracy == 1.0 and agent.most_in_flight == 4 and not agent.waiting
    assert sorted((e.index, e.sample) for e in read_episodes(out)) == [
        (i, k) for i in range(9) for k in range(2)
    ]


def test_a_failing_streaming_agent_cancels_what_is_in_flight():
    class Broken(StreamingOracle):
        def poll(self):
            raise KeyboardInterrupt

    agent = Broken()
    with pytest.raises(KeyboardInterrupt):
        rollout(TOY_ENV, {}, agent, range(3), progress=False)
    assert agent.cancelled


def test_episodes_that_end_in_their_bootstrap_never_reach_a_streaming_agent():
    agent = StreamingOracle()
    result = rollout(TOY_ENV, {}, agent, range(3), bootstrap=("Answer(1)",), progress=False)
    assert [e.correct for e in result.episodes] == [True, False, False] and agent.most_in_flight == 0
