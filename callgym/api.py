"""The public Python API: everything the CLI does, from ``import callgym``, with its defaults.

>>> import callgym
>>> result = callgym.rollout("callgym/FOL-v0", agent="oracle", n=3)
>>> result.accuracy
1.0

Each function builds the env once before any model loads (a bad id, env argument or data
file fails in a second, not after a model download), and writes nothing the caller did not
ask for: ``bench`` publishes to a leaderboard only with ``publish=True``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PathLike = str | os.PathLike[str]


def _agent(agent: Any, seed: int, options: dict[str, Any]) -> Any:
    """An agent object as given, or one built by name (``oracle``, ``student``, a plugin's)."""
    if not isinstance(agent, str):
        return agent
    from callgym.agents import make_agent

    return make_agent(agent, seed=seed, **options)


def _bootstrap(agent: Any, options: dict[str, Any]) -> tuple[str, ...]:
    """The calls played before the agent's first reply (checked against each env's tools)."""
    return tuple(options.get("bootstrap") or getattr(agent, "bootstrap", ()) or ())


def rollout(
    env: str,
    agent: Any = "oracle",
    *,
    n: int = 10,
    start: int = 0,
    samples: int = 1,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
    out: PathLike | None = None,
    resume: bool = False,
    batch_size: int = 32,
    progress: bool = False,
    **agent_options: Any,
) -> Any:
    """Play problems ``start .. start+n-1`` of ``env`` (``callgym rollout``).

    Args:
        env: an env id (callgym's, a plugin's, gymnasium's ``module:id`` form).
        agent: an agent name or object; a name is built with ``agent_options``
            (``model``, ``backend``, ``sampling``, ``protocol``, ``bootstrap``, ``backend_kwargs``).
        out: JSONL file the episodes are appended to (None: in memory only).

    Returns:
        a :class:`~callgym.agents.rollout.RolloutResult` (``episodes``, ``accuracy``).
    """
    from callgym.agents.rollout import rollout as play
    from callgym.episode import check_episode_file
    from callgym.preflight import check_output_file, check_resumable, check_run

    if out:
        check_output_file(out, "--out")
        check_episode_file(out)  # a file that is not an episodes file stays untouched
    if resume:
        check_resumable(out)
    check_run(env, env_kwargs or {}, start, n, _bootstrap(agent, agent_options))
    built = _agent(agent, seed, agent_options)
    return play(env, env_kwargs, built, range(start, start + n), samples=samples, seed=seed, out=out,
                resume=resume, batch_size=batch_size, progress=progress)


@dataclass
class BenchResult:
    """A benchmark: one leaderboard row per env (``records``) and its episodes folder."""

    records: list[Any]
    out: Path
    used: set[Any] = field(default_factory=set)

    @property
    def accuracy(self) -> dict[str, float]:
        return {r.env_id: r.accuracy for r in self.records}


def bench(
    suite: str | PathLike = "smoke",
    agent: Any = "student",
    *,
    n: int | None = None,
    out: PathLike | None = None,
    exclude: PathLike | None = None,
    tag: str = "",
    lineage: str = "",
    publish: bool = False,
    db: PathLike | None = None,
    batch_size: int = 32,
    progress: bool = False,
    seed: int = 0,
    **agent_options: Any,
) -> BenchResult:
    """Benchmark an agent on a suite (``callgym bench``); publish only when asked.

    Args:
        suite: a shipped suite name (``smoke``, ``default``) or a suite YAML file.
        agent: an agent name or object (see :func:`rollout`).
        n: cap the problems per env.
        out: episodes folder (default ``runs/bench/<suite>/<model-agent-backend>/<run key>-<k>``,
            a folder of its own per run, so parallel runs never collide).
        exclude: a pairs folder (or ``used_problems.json``) whose training problems are left out.
        publish: add the rows to the leaderboard ``db`` (None: the user's default leaderboard).
    """
    from callgym.benchmarks.runner import load_used_problems, run_suite
    from callgym.benchmarks.suites import load_suite
    from callgym.leaderboards.records import runs_from_suite
    from callgym.leaderboards.store import publish as publish_rows
    from callgym.preflight import check_run
    from callgym.runs import mark_finished

    loaded = load_suite(suite).with_n(n)
    for env in loaded.envs:  # every env, problem range and bootstrap call, before a model loads
        check_run(
            env.id, env.kwargs, env.start, env.n, _bootstrap(agent, agent_options), f"suite {loaded.name}"
        )
    used = load_used_problems(exclude)
    label = agent if isinstance(agent, str) else agent.describe().get("agent", "agent")
    label = f"{agent_options.get('model', 'smollm2-135m')}-{label}-{agent_options.get('backend', 'hf')}"
    built = _agent(agent, seed, agent_options)
    with bench_folder(out, loaded, built, used, label) as folder:
        played = run_suite(loaded, built, out_dir=folder, used=used, batch_size=batch_size, progress=progress)
        records = runs_from_suite(played, tag=tag, lineage=lineage)
        if publish:
            publish_rows(records, db)
        mark_finished(
            folder, {"leaderboard_runs": [r.id for r in records], "db": str(db) if db else None, "tag": tag}
        )
    return BenchResult(records, folder, used)


def bench_folder(out: PathLike | None, suite: Any, agent: Any, used: set[Any], label: str) -> Any:
    """Own the episodes folder: ``out``, or a new one under ``runs/bench/<suite>/<label>``
    named by the run's identity (one per run, so parallel runs never collide; an identical
    rerun resumes a killed one)."""
    from callgym.benchmarks.runner import bench_key
    from callgym.runs import claim_folder, claim_new_folder, slug

    if out:
        return claim_folder(out)
    return claim_new_folder(Path("runs", "bench", suite.name, slug(label)), bench_key(suite, agent, used))


def train_dpo(config: Any = None, **fields: Any) -> Path:
    """Train the student with DPO (``callgym train dpo``); returns the model folder.

    Args:
        config: a :class:`~callgym.trainers.dpo_config.DPOConfig`, a YAML file or a shipped
            config name (``dpo``); None for the defaults.
        **fields: config fields that override it (``model``, ``pairs``, ``output_dir``, ``beta``...).
    """
    from callgym.trainers.dpo import train_dpo as train
    from callgym.trainers.dpo_config import DPOConfig

    if not isinstance(config, DPOConfig):
        config = DPOConfig.from_yaml(config)
    return train(config.with_overrides(fields))


def compare(run_a: Any, run_b: Any, *, exclude: PathLike | None = None, db: PathLike | None = None) -> Any:
    """Paired comparison with an exact McNemar test (``callgym compare``).

    Each run is a :class:`BenchResult`, an episodes file or folder, or leaderboard run ids
    (``"3"`` or ``"3,4"``, read from ``db``). A BenchResult's excluded training problems stay
    excluded.
    """
    from callgym.leaderboards.references import compare_runs
    from callgym.benchmarks.runner import load_used_problems

    used = load_used_problems(exclude)
    refs = []
    for run in (run_a, run_b):
        if isinstance(run, BenchResult):
            used |= run.used
            run = run.out
        refs.append(run)
    return compare_runs(refs[0], refs[1], db=db, used=used)
