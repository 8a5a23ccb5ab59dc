"""The identity of each pipeline stage: a hash of the settings that decide its output and of
the keys of the stages it reads.

A stage is "done" only for the key it was computed with, so a changed config reruns exactly
the stages whose settings (or upstream stages) changed, and an unchanged one is skipped.
Settings that cannot change a stage's output are left out of its key: the model and sampling
of an agent class that says ``uses_model = False`` (oracle, random), any agent's batch size
(per-turn seeds make results independent of it).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from callgym.pipeline_config import AgentSpec, PipelineConfig
from callgym.runs import run_key

STAGES = ("bench-before", "rollout-teacher", "rollout-student", "pairs", "train", "bench-after", "report")


def stage_keys(config: PipelineConfig, db: Any = None) -> dict[str, str]:
    """One key per stage, in stage order; each includes the keys of the stages it reads."""
    from callgym.agents import AGENTS

    def agent(spec: AgentSpec, **override: Any) -> dict[str, Any]:
        if getattr(AGENTS.get(spec.agent), "uses_model", True) is False:
            return {"agent": spec.agent, "bootstrap": list(spec.bootstrap)}
        fields = {**asdict(spec), **override}
        fields.pop("batch_size")
        return fields

    rollouts = config.rollouts
    train_envs = [[e.id, e.train_kwargs] for e in config.envs]
    bench = {"suite": config.name, "student": agent(config.student), "seed": config.seed, "n": config.bench_n,
             "envs": [[e.id, e.test_kwargs] for e in config.envs]}
    keys = {"bench-before": run_key(bench)}
    keys["rollout-teacher"] = run_key(
        {
            "teacher": agent(config.teacher),
            "envs": train_envs,
            "seed": config.seed,
            "n": rollouts.n,
            "samples": rollouts.teacher_samples,
        }
    )
    keys["rollout-student"] = run_key({"student": agent(config.student, temperature=rollouts.temperature),
                                       "envs": train_envs, "seed": config.seed, "n": rollouts.n,
                                       "samples": rollouts.samples})
    keys["pairs"] = run_key({"pairs": config.pairs, "rejected_agent": config.student.agent,
                             "from": [keys["rollout-teacher"], keys["rollout-student"]]})
    keys["train"] = run_key({"dpo": config.dpo, "model": config.student.model, "from": keys["pairs"]})
    keys["bench-after"] = run_key({**bench, "from": [keys["train"], keys["pairs"]]})
    keys["report"] = run_key(
        {"db": str(db), "from": [keys["bench-before"], keys["bench-after"], keys["pairs"]]}
    )
    return keys
