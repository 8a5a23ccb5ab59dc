"""The rollout engine: many episodes advance together.

Each round gathers the reply every unfinished episode needs into a single ``agent.act``
call (one batched generate on the backend) and steps every env. With an agent whose backend
streams (vLLM), there are no rounds: each episode's next turn is submitted the moment its
reply arrives, so the engine never idles behind the slowest episode of a round.

Episodes are appended to the JSONL file (flush + fsync) in the order they were queued, each
as soon as it and every earlier one have ended, and every sampled reply is seeded per
(problem, sample, step). So ``resume=True``, which skips the episodes the file already
holds, ends with exactly the file an uninterrupted run writes (timing fields aside).
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import callgym
from callgym.agents.base import Agent, Turn
from callgym.envs import make
from callgym.envs.base import ToolEnv
from callgym.episode import Episode, EpisodeWriter, Step, read_episodes
from callgym.errors import BackendError, ConfigError
from callgym.tools import format_result

log = logging.getLogger(__name__)


@dataclass
class _Slot:
    """One running episode: its env, its record so far and the agent's scratch space."""

    env: Any  # the gymnasium-wrapped env; .unwrapped is the ToolEnv
    episode: Episode
    started: float
    position: int  # in the order episodes were queued, which is the order they are written in
    messages: list[dict[str, Any]] = field(default_factory=list)
    tools: list[dict[str, Any]] = field(default_factory=list)
    scratch: dict[str, Any] = field(default_factory=dict)

    @property
    def tool_env(self) -> ToolEnv:
        return self.env.unwrapped


@dataclass
class RolloutResult:
    """What a rollout produced: the new episodes and how many the file already held."""

    episodes: list[Episode]
    skipped: int = 0
    out: Path | None = None

    @property
    def accuracy(self) -> float:
        return sum(e.correct for e in self.episodes) / len(self.episodes) if self.episodes else 0.0


def rollout(
    env_id: str,
    env_kwargs: dict[str, Any] | None,
    agent: Agent,
    indices: Iterable[int],
    *,
    samples: int = 1,
    seed: int = 0,
    out: str | Path | None = None,
    resume: bool = False,
    batch_size: int = 32,
    progress: bool = True,
    bootstrap: tuple[str, ...] = (),
    on_episode: Callable[[Episode], None] | None = None,
) -> RolloutResult:
    """Play ``samples`` episodes of each problem index and write them as they end.

    Args:
        env_id: a registered env id, e.g. ``"callgym/GSM8K-v0"``.
        env_kwargs: keyword arguments for the env (data source, toolset, limits).
        agent: answers batches of turns (oracle, random, teacher, student, ...).
        indices: the problem indices to play.
        samples: episodes per problem (use temperature > 0 for distinct samples).
        seed: passed to every ``env.reset``; recorded in each episode.
        out: JSONL file to append to; None keeps episodes in memory only.
        resume: skip (problem, sample) pairs that ``out`` already holds.
        batch_size: how many episodes run at once (the batch each backend call sees).
        progress: show a rich progress bar.
        bootstrap: calls executed at the start of each episode (defaults to the agent's).
        on_episode: called with each finished episode (after it is written).
    """
    if samples < 1 or batch_size < 1:
        raise ConfigError(f"samples={samples} and batch_size={batch_size} must be at least 1")
    env_kwargs = dict(env_kwargs or {})
    bootstrap = bootstrap or tuple(getattr(agent, "bootstrap", ()))
    queue = deque((i, k) for i in indices for k in range(samples))
    skipped = (
        _drop_finished(queue, env_id, env_kwargs, out, _identity(agent.describe(), seed))
        if resume and out
        else 0
    )
    writer = EpisodeWriter(out) if out else None
    engine = _Engine(env_id, env_kwargs, agent, seed, bootstrap, writer, on_episode)
    try:
        with _Bar(progress, total=len(queue), skipped=skipped) as bar:
            engine.run(queue, batch_size, bar)
    finally:
        engine.close()
        if writer:
            writer.close()
    return RolloutResult(engine.finished, skipped, Path(out) if out else None)


def _drop_finished(
    queue: deque[tuple[int, int]],
    env_id: str,
    env_kwargs: dict[str, Any],
    out: str | Path,
    identity: tuple[Any, ...],
) -> int:
    """Drop the (problem, sample) pairs ``out`` already holds; they must come from the same run."""
    if not Path(out).exists():
        return 0
    probe = Episode(env_id=env_id, index=0, env_kwargs=env_kwargs)
    done = set()
    for e in read_episodes(out):
        if e.key[:2] != probe.key[:2]:
            continue  # another env or env config: not this run's business
        theirs = _identity(
            {"agent": e.agent, "model": e.model, "backend": e.backend, "sampling": e.sampling}, e.seed
        )
        if theirs != identity:  # resuming would mix two runs' episodes in one file
            raise ConfigError(
                f"{out} holds {env_id} episodes of another run ({_show(theirs)}); "
                "--resume continues only the "
                f"same agent, model, sampling and seed ({_show(identity)}): pass another --out"
            )
        done.add(e.key)
    before = len(queue)
    kept = [(i, k) for i, k in queue if (probe.key[0], probe.key[1], i, k) not in done]
    queue.clear()
    queue.extend(kept)
    return before - len(kept)


def _identity(described: dict[str, Any], seed: int | None) -> tuple[Any, ...]:
    """What decides a run's episodes besides the env: agent, model, backend, sampling, seed."""
    sampling = json.dumps(described.get("sampling", {}), sort_keys=True, default=str)
    return (
        described.get("agent", ""),
        described.get("model", ""),
        described.get("backend", ""),
        sampling,
        seed,
    )


def _show(identity: tuple[Any, ...]) -> str:
    agent, model, backend, sampling, seed = identity
    return f"agent {agent}, model {model}, backend {backend}, sampling {sampling}, seed {seed}"


class _Engine:
    """Advances a pool of episodes, round by round or streaming; envs are reused across episodes."""

    def __init__(
        self,
        env_id: str,
        env_kwargs: dict[str, Any],
        agent: Agent,
        seed: int,
        bootstrap: tuple[str, ...],
        writer: EpisodeWriter | None,
        on_episode: Callable[[Episode], None] | None,
    ) -> None:
        self.env_id, self.env_kwargs, self.agent, self.seed = env_id, env_kwargs, agent, seed
        self.bootstrap, self.writer, self.on_episode = bootstrap, writer, on_episode
        self.described = agent.describe()
        self.spare_envs: list[Any] = []
        self.finished: list[Episode] = []
        self.tokens_out = 0
        self.started = 0  # episodes started so far: the next one's position
        self.unwritten: dict[int, Episode] = {}  # finished, waiting for an earlier one to finish

    def run(self, queue: deque[tuple[int, int]], batch_size: int, bar: _Bar) -> None:
        if getattr(self.agent, "streams", False):
            self._run_streaming(queue, batch_size, bar)
        else:
            self._run_rounds(queue, batch_size, bar)

    def _run_streaming(self, queue: deque[tuple[int, int]], batch_size: int, bar: _Bar) -> None:
        """Keep ``batch_size`` episodes in flight; step each one as soon as its reply is in."""
        agent: Any = self.agent
        active: dict[int, _Slot] = {}
        keys = itertools.count()

        def submit(key: int, slot: _Slot) -> None:
            turn = self._turn(slot)
            agent.submit(key, turn, seed_offset=turn.seed_offset)

        try:
            while queue or active:
                for slot in self._start_more(queue, batch_size - len(active), bar):
                    key = next(keys)
                    active[key] = slot
                    submit(key, slot)
                if not active:
                    continue
                for key, reply in agent.poll():
                    slot = active[key]
                    if self._finish_if_done(slot, self._step(slot, reply.text, reply), bar):
                        del active[key]
                    else:
                        submit(key, slot)
        except BaseException:
            agent.cancel()  # nothing keeps generating for episodes nobody will record
            raise

    def _run_rounds(self, queue: deque[tuple[int, int]], batch_size: int, bar: _Bar) -> None:
        active: list[_Slot] = []
        while queue or active:
            active += self._start_more(queue, batch_size - len(active), bar)
            if not active:
                continue
            turns = [self._turn(s) for s in active]
            replies = self.agent.act(turns)
            if len(replies) != len(turns):
                raise BackendError(f"the agent answered {len(replies)} of {len(turns)} turns")
            active = [
                slot
                for slot, reply in zip(active, replies)
                if not self._finish_if_done(slot, self._step(slot, reply.text, reply), bar)
            ]

    def _start_more(self, queue: deque[tuple[int, int]], free: int, bar: _Bar) -> list[_Slot]:
        """Start up to ``free`` episodes that still need the agent; those that end in their
        bootstrap calls are recorded at once and do not count."""
        started: list[_Slot] = []
        while queue and len(started) < free:
            slot, final = self._start(*queue.popleft())
            if not self._finish_if_done(slot, final, bar):
                started.append(slot)
        return started

    def _start(self, index: int, sample: int) -> tuple[_Slot, dict[str, Any] | None]:
        env = self.spare_envs.pop() if self.spare_envs else make(self.env_id, **self.env_kwargs)
        _, info = env.reset(seed=self.seed, options={"index": index})
        episode = Episode(
            env_id=self.env_id, index=index, seed=self.seed, env_kwargs=self.env_kwargs, sample=sample,
            difficulty=info.get("difficulty"), version=callgym.__version__,
            agent=self.described.get("agent", ""), model=self.described.get("model", ""),
            backend=self.described.get("backend", ""), sampling=self.described.get("sampling", {}),
        )
        slot = _Slot(env, episode, time.perf_counter(), self.started, info["messages"], info["tools"])
        self.started += 1
        for call in self.bootstrap:
            final = self._step(slot, call, None)
            if final is not None:
                return slot, final
        return slot, None

    def _turn(self, slot: _Slot) -> Turn:
        ep = slot.episode
        return Turn(slot.tool_env, slot.messages, slot.tools, ep.num_steps, ep.sample, slot.scratch, ep.index)

    def _step(self, slot: _Slot, action: str, reply: Any) -> dict[str, Any] | None:
        """Step the env; return the final info when the episode ended, else None."""
        obs, reward, terminated, truncated, info = slot.env.step(action)
        call, error_type = info["call"], info.get("error_type")
        # Invalid means the env reported an error type (a reply that only ends a conversation's
        # turn has no call and no error); envs that report no types: invalid means no call ran.
        valid = error_type is None if "error_type" in info else call is not None
        slot.episode.steps.append(Step(action, obs, call, valid, reward, error_type))
        slot.messages = info["messages"]
        if reply is not None:
            slot.episode.tokens_in += reply.tokens_in
            slot.episode.tokens_out += reply.tokens_out
            self.tokens_out += reply.tokens_out
        if not (terminated or truncated):
            return None
        slot.episode.terminated, slot.episode.truncated = terminated, truncated
        return info

    def _finish_if_done(self, slot: _Slot, info: dict[str, Any] | None, bar: _Bar) -> bool:
        if info is None:
            return False
        ep = slot.episode
        ep.messages, ep.correct = info["messages"], bool(info["correct"])
        ep.reward = float(ep.correct)
        ep.answer = None if info["answer"] is None else format_result(info["answer"])
        ep.gold = format_result(info["gold"])
        ep.invalid_calls = info["invalid_calls"]
        ep.seconds = time.perf_counter() - slot.started
        self.spare_envs.append(slot.env)
        bar.advance(ep, self.tokens_out)
        self.unwritten[slot.position] = ep
        self._write_in_order()
        return True

    def _write_in_order(self) -> None:
        """Write finished episodes in queue order, each as soon as all earlier ones are written.

        So the file is always the same prefix of one canonical order, however batches and
        replies interleave: a killed run resumed with ``--resume`` ends with exactly the file
        an uninterrupted run writes (timings aside). A kill loses only episodes not yet
        written, which the resumed run plays again, identically (per-turn seeds).
        """
        written = len(self.finished)
        while written in self.unwritten:
            ep = self.unwritten.pop(written)
            if self.writer:
                self.writer.write(ep)
            self.finished.append(ep)
            if self.on_episode:
                self.on_episode(ep)
            written += 1

    def close(self) -> None:
        for env in self.spare_envs:
            env.close()


# ----------------------------------------------------------------------------- progress


class _Bar:
    """A rich progress bar showing episodes, episodes/s, tokens/s and accuracy so far."""

    def __init__(self, enabled: bool, total: int, skipped: int) -> None:
        self.enabled, self.total, self.skipped = enabled, total, skipped
        self.done = self.correct = 0
        self.t0 = time.perf_counter()
        self._progress: Any = None

    def __enter__(self) -> _Bar:
        if self.enabled and self.total:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            from callgym.library_log import bars_take_prints

            self._progress = Progress(
                TextColumn("[bold]rollout"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                TextColumn("{task.fields[stats]}"), transient=False,
                redirect_stdout=bars_take_prints(), redirect_stderr=bars_take_prints(),
            )
            self._progress.start()
            note = f" (resumed: {self.skipped} already done)" if self.skipped else ""
            self._task = self._progress.add_task("rollout", total=self.total, stats=note)
        return self

    def advance(self, episode: Episode, tokens_out: int) -> None:
        self.done += 1
        self.correct += episode.correct
        if self._progress is not None:
            elapsed = max(time.perf_counter() - self.t0, 1e-9)
            stats = (f"{self.done / elapsed:.2f} ep/s  {tokens_out / elapsed:.0f} tok/s  "
                     f"acc {self.correct / self.done:.1%}")
            self._progress.update(self._task, advance=1, stats=stats)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
