"""Run a benchmark suite with one agent: the episodes of every env, nothing published.

Episodes go to ``OUT/<env>.jsonl`` as they finish (a killed benchmark resumes). The
leaderboard package sits above this one: its ``runs_from_suite`` turns a :class:`SuiteRun`
into one self-describing row per env, and ``publish`` stores the rows. ``callgym bench``
picks OUT from the run's identity (:func:`bench_key`, see :mod:`callgym.runs`), so parallel
runs never share it. Problems that were used to build training pairs
(``used_problems.json`` from ``callgym pairs``) are excluded before any episode is played,
and each env's run records how many were left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callgym.benchmarks.metrics import UsedKey
from callgym.episode import Episode, kwargs_key, problem_key
from callgym.benchmarks.suites import Suite, SuiteEnv
from callgym.errors import DataError
from callgym.text_files import parse_json, read_text
from callgym.runs import slug


@dataclass(frozen=True)
class EnvRun:
    """One suite env's benchmark episodes, and how many training problems it left out."""

    env: SuiteEnv
    episodes: list[Episode]
    excluded: int


@dataclass(frozen=True)
class SuiteRun:
    """What :func:`run_suite` played: every env's episodes, with the suite and model size."""

    suite: Suite
    envs: list[EnvRun]
    model_size: int | None = None  # parameters of the agent's local model, when known


def load_used_problems(path: str | Path | None) -> set[UsedKey]:
    """Read ``used_problems.json`` (written by ``callgym pairs``), or nothing."""
    if not path:
        return set()
    path = Path(path)
    if path.is_dir():
        path = path / "used_problems.json"
    if not path.is_file():
        raise DataError(f"{path}: no such file; pass the pairs folder written by `callgym pairs --out`")
    rows = parse_json(read_text(path, "used-problems file"), str(path))
    try:
        return {problem_key(r["env_id"], r.get("env_kwargs", {}), int(r["index"])) for r in rows}
    except (ValueError, KeyError, TypeError) as e:
        raise DataError(f"{path}: not a used-problems list ({e}); rebuild it with `callgym pairs`") from e


def run_suite(
    suite: Suite,
    agent: Any,
    *,
    out_dir: str | Path,
    model_size: int | None = None,
    used: set[UsedKey] | None = None,
    batch_size: int = 32,
    progress: bool = True,
) -> SuiteRun:
    """Benchmark ``agent`` on every env of ``suite``; return every env's episodes.

    Nothing is published here: building leaderboard rows and publishing them are the
    separate steps above (see the module docstring).
    """
    from callgym.agents.rollout import rollout

    model_size = model_size or _model_size(agent)
    envs = []
    for env in suite.envs:
        indices, excluded = _held_out(env.id, env.kwargs, env.indices, used or set())
        out = Path(out_dir) / f"{slug(env.id)}.jsonl"
        rollout(env.id, env.kwargs, agent, indices, seed=suite.seed, out=out, resume=True,
                         batch_size=batch_size, progress=progress)
        envs.append(EnvRun(env, _episodes_for(out, env.id, env.kwargs, indices), excluded))
    return SuiteRun(suite, envs, model_size)


def bench_key(suite: Suite, agent: Any, used: set[UsedKey] | None = None) -> str:
    """The identity of a benchmark run: everything that decides its episodes."""
    from dataclasses import asdict

    from callgym.runs import run_key

    return run_key({"suite": asdict(suite), "agent": agent.describe(), "used": sorted(used or ())})


def _model_size(agent: Any) -> int | None:
    """The agent's parameter count when its model is a local folder (for the size plot)."""
    from callgym.agents.models import count_parameters

    path = getattr(getattr(agent, "backend", None), "path", None)
    return count_parameters(path) if path else None


def _held_out(
    env_id: str, env_kwargs: dict[str, Any], indices: range, used: set[UsedKey]
) -> tuple[list[int], int]:
    kept = [i for i in indices if problem_key(env_id, env_kwargs, i) not in used]
    return kept, len(indices) - len(kept)


def _episodes_for(out: Path, env_id: str, env_kwargs: dict[str, Any], indices: list[int]) -> list[Episode]:
    """The file's episodes of exactly this benchmark (a resumed file may hold others too)."""
    from callgym.episode import read_episodes

    wanted, key = set(indices), kwargs_key(env_kwargs)
    episodes: dict[tuple[int, int], Episode] = {}
    for e in read_episodes(out):  # the first of any duplicate (left by older versions) counts
        if e.env_id == env_id and kwargs_key(e.env_kwargs) == key and e.index in wanted:
            episodes.setdefault((e.index, e.sample), e)
    return list(episodes.values())
