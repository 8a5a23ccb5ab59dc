"""The main job's configuration: which student, teacher, envs, and how much of each stage.

A YAML file fills :class:`PipelineConfig`; ``key=value`` overrides (dotted keys such as
``student.model=PATH`` or ``rollouts.n=20``) win over the file.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from callgym.errors import ConfigError, UsageError
from callgym.field_types import check_fields, check_keys, shown
from callgym.runs import slug
from callgym.yaml_files import CONFIGS_DIR, import_yaml_modules, read_yaml_mapping, shipped_or_path


@dataclass
class AgentSpec:
    """How to build an agent (see ``callgym rollout --help`` for the same flags)."""

    agent: str = "student"
    model: str = "smollm2-135m"
    backend: str = "hf"
    protocol: str = "text"
    temperature: float = 0.0
    max_tokens: int = 96
    batch_size: int = 32
    bootstrap: list[str] = field(default_factory=list)  # calls run before the model's first reply
    backend_args: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from callgym.agents import AGENTS
        from callgym.agents.backends import check_backend_options
        from callgym.agents.backends.base import Sampling
        from callgym.agents.lm import PROTOCOLS

        AGENTS.get(self.agent)  # an unknown name fails with a "did you mean"
        if self.protocol not in PROTOCOLS:
            raise ConfigError(f"protocol={self.protocol!r}; use one of {', '.join(PROTOCOLS)}")
        Sampling(temperature=self.temperature, max_tokens=self.max_tokens)  # checks both
        if self.batch_size < 1:
            raise ConfigError(f"batch_size={self.batch_size} must be at least 1")
        if self.agent not in ("oracle", "random"):  # scripted agents have no backend
            check_backend_options(self.backend, self.backend_args)


@dataclass
class EnvSpec:
    """One env of the pipeline: its id and the kwargs of its training and held-out splits."""

    id: str
    train_kwargs: dict[str, Any] = field(default_factory=dict)
    test_kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class RolloutSpec:
    """Rollouts on training problems that become preference pairs."""

    n: int = 32  # training problems per env
    samples: int = 4  # student episodes per problem
    temperature: float = 0.8
    teacher_samples: int = 1

    def __post_init__(self) -> None:
        if self.n < 1 or self.samples < 1 or self.teacher_samples < 1:
            raise ConfigError(
                f"rollouts: n={self.n}, samples={self.samples}, "
                f"teacher_samples={self.teacher_samples} must be >= 1"
            )
        if not (math.isfinite(self.temperature) and self.temperature >= 0):
            raise ConfigError(
                f"rollouts: temperature={self.temperature} must be a finite number >= 0 (0 is greedy)"
            )


_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")


@dataclass
class PipelineConfig:
    """Benchmark the student, roll out teacher and student, build pairs, train DPO,
    benchmark again, publish both rows and write the report."""

    name: str = "demo"
    imports: list[str] = field(default_factory=list)  # modules that register envs, agents or backends
    student: AgentSpec = field(default_factory=AgentSpec)
    teacher: AgentSpec = field(default_factory=lambda: AgentSpec(agent="oracle"))
    envs: list[EnvSpec] = field(default_factory=list)
    bench_n: int = 40  # held-out problems per env, before and after
    seed: int = 0
    rollouts: RolloutSpec = field(default_factory=RolloutSpec)
    pairs: dict[str, Any] = field(default_factory=dict)  # build_pairs options (cap, seed, ...)
    dpo: dict[str, Any] = field(default_factory=dict)  # DPO config fields (learning_rate, beta, lora, ...)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise ConfigError(
                f"name={self.name!r} must be a folder name (letters, digits, '_', '-', '.'), e.g. name: demo"
            )
        if not self.envs:
            raise ConfigError("envs is empty; list at least one env id with its train_kwargs and test_kwargs")
        if self.bench_n < 1:
            raise ConfigError(f"bench_n={self.bench_n} must be at least 1")
        self._check_pairs_options()

    def _check_pairs_options(self) -> None:
        import inspect

        from callgym.trainers.pairs import build_pairs

        known = [
            p.name for p in inspect.signature(build_pairs).parameters.values() if p.kind is p.KEYWORD_ONLY
        ]
        check_keys(self.pairs, known, "pairs")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_pipeline_config(path: str | Path, overrides: dict[str, Any] | None = None) -> PipelineConfig:
    """Read a pipeline YAML file and apply dotted ``overrides``; ``name`` defaults to the file's stem."""
    path = shipped_or_path(path, CONFIGS_DIR, "pipeline config")
    data = read_yaml_mapping(path, "pass a shipped config name (demo, study-gpu) or a YAML path")
    for key, value in (overrides or {}).items():
        _set_dotted(data, key, value)
    data.setdefault("name", slug(Path(path).stem) or "pipeline")  # the default run folder: runs/<name>
    import_yaml_modules(data.get("imports"), path)
    try:
        return _build(PipelineConfig, data, "")
    except UsageError as e:
        raise type(e)(f"{path}: {e}") from e
    except TypeError as e:
        raise ConfigError(f"{path}: {e}") from e


def _set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    *parents, last = key.split(".")
    for i, part in enumerate(parents):
        data = data.setdefault(part, {})
        if not isinstance(data, dict):
            raise ConfigError(
                f"override {key}=...: {'.'.join(parents[: i + 1])} is not a mapping, "
                f"so it has no key {last!r}"
            )
    data[last] = value


def _build(cls: type, data: Any, where: str) -> Any:
    """Build a (nested) dataclass from plain data, naming any unknown key."""
    known = {f.name: f for f in fields(cls)}
    check_keys(data, list(known), where.rstrip(".") or "the config")
    check_fields(cls, data, where, label="")
    kwargs = {}
    for name, value in data.items():
        default = (
            known[name].default_factory() if callable(known[name].default_factory) else known[name].default
        )  # type: ignore[misc]
        if is_dataclass(default):
            value = _build(type(default), value, f"{where}{name}.")
        elif name == "envs":
            if not isinstance(value, list):
                raise ConfigError(
                    f"envs must be a list of envs (id, train_kwargs, test_kwargs), got {shown(value)}"
                )
            value = [_build(EnvSpec, v, f"envs[{i}].") for i, v in enumerate(value)]
        kwargs[name] = value
    try:
        return cls(**kwargs)
    except UsageError as e:  # a value a section's own checks refused: say which section
        raise type(e)(f"{where.rstrip('.')}: {e}" if where else str(e)) from e
