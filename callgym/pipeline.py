"""The main job: benchmark the student, roll out teacher and student on training problems,
build preference pairs, train DPO, benchmark again, publish both rows, compare, report.

Every stage writes into its own folder under ``out`` and marks itself done there with its
key (:mod:`callgym.pipeline_keys`: a hash of the settings that decide it and of the stages
it reads). A rerun skips the stages done with the same key (and the rollout stages resume
inside); a stage whose key changed is rerun, its earlier outputs moved aside (never mixed
with the new ones, never deleted). So a failure loses nothing that earlier stages produced,
and a changed config reruns exactly what it changes. A stage that fails says which one and
why. One process runs in ``out`` at a time.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from callgym.errors import CallgymError, ConfigError, UsageError
from callgym.pipeline_config import AgentSpec, PipelineConfig

log = logging.getLogger(__name__)
DONE = "DONE.json"
STAGE = "STAGE.json"  # the key a stage folder's outputs belong to, written before the stage runs


class StageError(UsageError):
    """A pipeline stage failed; earlier stages' outputs are kept."""


def run_pipeline(
    config: PipelineConfig, out: str | Path, db: str | Path | None = None, verbose: bool = False
) -> dict[str, Any]:
    """Run (or continue) every stage; return what each produced.

    What libraries print (vLLM, transformers, TRL) goes to ``out/callgym.log`` (its tail is
    shown if a stage fails), unless ``verbose``: the terminal keeps callgym's own output.
    """
    from rich import get_console

    from callgym.cpu import describe_cpu
    from callgym.library_log import library_output_to
    from callgym.pipeline_keys import stage_keys
    from callgym.runs import claim_folder

    out = Path(out)
    _dpo_config(config, out)  # a bad DPO setting fails now, not after an hour of rollouts
    _check_envs(config)
    keys = stage_keys(config, db)
    with claim_folder(out):
        (out / "config.json").write_text(json.dumps(config.to_dict(), indent=2), encoding="utf-8")
        log_file = out / "callgym.log"
        with nullcontext(get_console()) if verbose else library_output_to(log_file) as console:
            console.print(f"CPU: {describe_cpu()}", highlight=False)
            if not verbose:
                console.print(f"library logs: {log_file} (`callgym -v pipeline ...` shows them here)",
                              highlight=False, markup=False)
            return _run_stages(config, out, db, keys, console)


def _run_stages(
    config: PipelineConfig, out: Path, db: Any, keys: dict[str, str], console: Any
) -> dict[str, Any]:
    stages: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        (
            "bench-before",
            lambda: _bench(config, config.student, out / "bench-before", db, "before-dpo", None),
        ),
        ("rollout-teacher", lambda: _rollouts(config, config.teacher, out / "rollout-teacher", teacher=True)),
        (
            "rollout-student",
            lambda: _rollouts(config, config.student, out / "rollout-student", teacher=False),
        ),
        ("pairs", lambda: _pairs(config, out)),
        ("train", lambda: _train(config, out)),
        ("bench-after", lambda: _bench_after(config, out, db)),
        ("report", lambda: _report(out, db, console)),
    ]
    results: dict[str, Any] = {}
    for number, (name, stage) in enumerate(stages, 1):
        console.rule(f"[bold][{number}/{len(stages)}] {name}")
        results[name] = _run_stage(out / name, name, keys[name], stage, console)
    return results


def _check_envs(config: PipelineConfig) -> None:
    """Build every env of every stage once, with its problem range and bootstrap calls, so a
    bad kwarg, data file or range fails before the first stage instead of after three."""
    from callgym.preflight import check_run

    student, teacher = config.student.bootstrap, config.teacher.bootstrap
    for i, env in enumerate(config.envs):
        check_run(
            env.id, env.train_kwargs, 0, config.rollouts.n, [*student, *teacher], f"envs[{i}].train_kwargs"
        )
        check_run(env.id, env.test_kwargs, 0, config.bench_n, student, f"envs[{i}].test_kwargs")


def _run_stage(
    folder: Path, name: str, key: str, stage: Callable[[], dict[str, Any]], console: Any
) -> dict[str, Any]:
    marker = folder / DONE
    earlier = _stage_key(folder)
    if marker.exists() and earlier == key:
        console.print(f"{name}: done in an earlier run, skipped ({marker})")
        return json.loads(marker.read_text(encoding="utf-8"))
    if earlier != key and folder.exists() and any(folder.iterdir()):
        aside = _set_aside(folder, earlier)
        console.print(f"{name}: settings changed since the earlier run; its outputs moved to {aside}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / STAGE).write_text(json.dumps({"stage": name, "key": key}), encoding="utf-8")
    started = time.perf_counter()
    try:
        result = stage()
    except (CallgymError, OSError, RuntimeError, ValueError) as e:
        raise StageError(
            f"stage '{name}' failed: {e}. Outputs of earlier stages are kept; rerun to continue"
        ) from e
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["key"] = key
    marker.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    console.print(f"{name}: done in {result['seconds']:.0f} s")
    return result


def _stage_key(folder: Path) -> str | None:
    """The key the folder's outputs were computed with (None: unknown, e.g. an older callgym)."""
    try:
        key = json.loads((folder / STAGE).read_text(encoding="utf-8")).get("key")
    except (OSError, ValueError, AttributeError):
        return None
    return key if isinstance(key, str) else None


def _set_aside(folder: Path, key: str | None) -> Path:
    """Rename ``folder`` to ``<name>.<old key>`` (or ``.stale-<n>``) so nothing reads it again."""
    suffix = key or "stale"
    aside = folder.with_name(f"{folder.name}.{suffix}")
    n = 1
    while aside.exists():
        n += 1
        aside = folder.with_name(f"{folder.name}.{suffix}-{n}")
    folder.rename(aside)
    return aside


# ----------------------------------------------------------------------------- stages


def _make_agent(
    spec: AgentSpec, seed: int, temperature: float | None = None, model: str | None = None
) -> Any:
    from callgym.agents import make_agent
    from callgym.agents.backends.base import Sampling

    sampling = Sampling(temperature=spec.temperature if temperature is None else temperature,
                        max_tokens=spec.max_tokens, seed=seed)
    return make_agent(spec.agent, model=model or spec.model, backend=spec.backend, sampling=sampling,
                      protocol=spec.protocol, bootstrap=tuple(spec.bootstrap), seed=seed,
                      backend_kwargs=spec.backend_args)


def _close(agent: Any) -> None:
    """Free the model before the next stage loads another (this machine has no memory to spare)."""
    backend = getattr(agent, "backend", None)
    if backend is not None:
        backend.close()


def _suite(config: PipelineConfig) -> Any:
    from callgym.benchmarks.suites import Suite, SuiteEnv

    envs = tuple(SuiteEnv(e.id, e.test_kwargs, config.bench_n) for e in config.envs)
    return Suite(f"pipeline-{config.name}", 1, envs, seed=config.seed)


def _bench(config: PipelineConfig, spec: AgentSpec, folder: Path, db: Any, tag: str, model: str | None,
           used: Any = None) -> dict[str, Any]:
    from callgym.benchmarks.runner import run_suite
    from callgym.leaderboards.records import runs_from_suite
    from callgym.leaderboards.store import publish

    agent = _make_agent(spec, config.seed, model=model)
    try:
        played = run_suite(_suite(config), agent, out_dir=folder, used=used, batch_size=spec.batch_size)
        records = publish(runs_from_suite(played, tag=tag, lineage=spec.model), db)
    finally:
        _close(agent)
    return {
        "runs": [r.id for r in records],
        "episodes": str(folder),
        "accuracy": {r.env_id: r.accuracy for r in records},
        "excluded": {r.env_id: r.excluded for r in records},
    }


def _rollouts(config: PipelineConfig, spec: AgentSpec, folder: Path, teacher: bool) -> dict[str, Any]:
    from callgym.agents.rollout import rollout

    samples = config.rollouts.teacher_samples if teacher else config.rollouts.samples
    temperature = None if teacher else config.rollouts.temperature
    agent = _make_agent(spec, config.seed, temperature=temperature)
    files, accuracy = [], {}
    try:
        for env in config.envs:
            path = folder / f"{env.id.replace('/', '_')}.jsonl"
            result = rollout(env.id, env.train_kwargs, agent, range(config.rollouts.n), samples=samples,
                             seed=config.seed, out=path, resume=True, batch_size=spec.batch_size,
                             bootstrap=tuple(spec.bootstrap))
            files.append(str(path))
            accuracy[env.id] = result.accuracy
    finally:
        _close(agent)
    return {"files": files, "accuracy_new_episodes": accuracy}


def _pairs(config: PipelineConfig, out: Path) -> dict[str, Any]:
    from callgym.trainers.pairs import build_pairs
    from callgym.trainers.pairs_io import save_pairs, summarize

    files = sorted(
        str(p) for stage in ("rollout-teacher", "rollout-student") for p in (out / stage).glob("*.jsonl")
    )
    # On-policy: the rejected chains are the student's own failures (whatever agent plays it).
    options = {"rejected_agents": [config.student.agent], **config.pairs}
    pairs = build_pairs(files, **options)
    save_pairs(pairs, out / "pairs")
    summary = summarize(pairs)
    return {
        "folder": str(out / "pairs"),
        "num_pairs": summary["num_pairs"],
        "num_problems": summary["num_problems"],
    }


def _dpo_config(config: PipelineConfig, out: Path) -> Any:
    from callgym.trainers.dpo_config import DPOConfig

    return DPOConfig.from_dict({"model": config.student.model, "pairs": str(out / "pairs"),
                                "output_dir": str(out / "train"), **config.dpo}, where="dpo")


def _train(config: PipelineConfig, out: Path) -> dict[str, Any]:
    from callgym.trainers.dpo import train_dpo

    return {"model": str(train_dpo(_dpo_config(config, out)))}


def _bench_after(config: PipelineConfig, out: Path, db: Any) -> dict[str, Any]:
    from callgym.benchmarks.runner import load_used_problems

    trained = json.loads((out / "train" / DONE).read_text(encoding="utf-8"))["model"]
    used = load_used_problems(out / "pairs")
    return _bench(config, config.student, out / "bench-after", db, "after-dpo", trained, used)


def _report(out: Path, db: Any, console: Any) -> dict[str, Any]:
    from callgym.benchmarks.compare import compare
    from callgym.benchmarks.runner import load_used_problems
    from callgym.episode import read_episodes
    from callgym.leaderboards.export import export
    from callgym.leaderboards.render import comparison_markdown, comparison_table
    from callgym.leaderboards.store import Leaderboard

    before = read_episodes(sorted((out / "bench-before").glob("*.jsonl")))
    after = read_episodes(sorted((out / "bench-after").glob("*.jsonl")))
    if not before or not after:
        raise ConfigError("no benchmark episodes to compare; rerun the bench stages")
    comparison = compare(
        before, after, used=load_used_problems(out / "pairs"), label_a="before DPO", label_b="after DPO"
    )
    console.print(comparison_table(comparison))
    report = out / "report"
    (report / "comparison.md").parent.mkdir(parents=True, exist_ok=True)
    (report / "comparison.md").write_text(comparison_markdown(comparison), encoding="utf-8")
    with Leaderboard(db, readonly=True) as board:
        written = export(
            board,
            md=report / "leaderboard.md",
            json_path=report / "leaderboard.json",
            html_dir=report / "html",
        )
    console.print(f"report: {report / 'html' / 'index.html'}")
    return {"comparison": comparison.to_dict(), "files": [str(p) for p in written]}
