"""Benchmark suites: data (YAML) naming envs, their kwargs, how many problems, a seed and a
version. Shipped suites live in ``callgym/benchmarks/suites/``; any YAML file works too.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from callgym.errors import ConfigError, DataError
from callgym.field_types import check_fields, check_keys
from callgym.yaml_files import import_yaml_modules, read_yaml_mapping, shipped_or_path

SUITES_DIR = Path(__file__).parent / "suites"


@dataclass(frozen=True)
class SuiteEnv:
    """One env of a suite: its id, kwargs and which problem indices to play."""

    id: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    n: int = 100
    start: int = 0

    def __post_init__(self) -> None:
        if self.n < 1 or self.start < 0:
            raise ConfigError(f"env {self.id}: n={self.n} must be >= 1 and start={self.start} >= 0")

    @property
    def indices(self) -> range:
        return range(self.start, self.start + self.n)


@dataclass(frozen=True)
class Suite:
    """A versioned set of envs to benchmark on."""

    name: str
    version: int
    envs: tuple[SuiteEnv, ...]
    seed: int = 0
    description: str = ""
    metrics: tuple[str, ...] = ()

    def with_n(self, n: int | None) -> Suite:
        """The same suite with every env capped at ``n`` problems (``--n``)."""
        if n is None:
            return self
        envs = tuple(SuiteEnv(e.id, e.kwargs, min(n, e.n), e.start) for e in self.envs)
        return Suite(self.name, self.version, envs, self.seed, self.description, self.metrics)


def suite_names() -> list[str]:
    return sorted(p.stem for p in SUITES_DIR.glob("*.yaml"))


def load_suite(name_or_path: str | Path) -> Suite:
    """Load a shipped suite by name (``smoke``, ``default``) or any suite YAML file."""
    path = shipped_or_path(name_or_path, SUITES_DIR, "suite")
    data = read_yaml_mapping(
        path, f"pass a shipped suite name ({', '.join(suite_names())}) or a YAML path", "suite file"
    )
    return _suite_from_dict(data, path)


def _suite_from_dict(data: dict[str, Any], path: Path) -> Suite:
    """Build a suite, refusing unknown keys and wrong types, and checking each env's kwargs
    against the env's constructor, so a typo fails on load with its place named."""
    from callgym.preflight import check_env_kwargs

    check_keys(data, _SUITE_KEYS, str(path))
    check_fields(_SuiteFile, data, label=f"{path}: ")
    import_yaml_modules(data.get("imports"), path)  # plugins' env ids, before they are checked
    if not data.get("envs"):
        raise DataError(
            f"{path}: 'envs' is missing or empty; list at least one env, "
            "see callgym/benchmarks/suites/smoke.yaml"
        )
    envs = []
    for i, env in enumerate(data["envs"]):
        where = f"{path}: envs[{i}]"
        check_keys(env, _ENV_KEYS, where)
        if "id" not in env:
            raise DataError(f"{where} has no 'id'; give the env id, e.g. id: callgym/FOL-v0")
        check_fields(SuiteEnv, env, f"envs[{i}].", label=f"{path}: ")
        kwargs = env.get("kwargs") or {}
        check_env_kwargs(env["id"], kwargs, f"{where}.kwargs")
        try:
            envs.append(SuiteEnv(env["id"], dict(kwargs), env.get("n", 100), env.get("start", 0)))
        except ConfigError as e:
            raise ConfigError(f"{where}: {e}") from e
    return Suite(
        name=data.get("name", path.stem), version=data.get("version", 1), envs=tuple(envs),
        seed=data.get("seed", 0), description=data.get("description", ""),
        metrics=tuple(data.get("metrics", ())),
    )


@dataclass(frozen=True)
class _SuiteFile:
    """The keys of a suite file and their types (checked on load)."""

    name: str = ""
    version: int = 1
    envs: list[dict[str, Any]] = field(default_factory=list)
    seed: int = 0
    description: str = ""
    metrics: list[str] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)  # modules that register envs, agents or backends


_SUITE_KEYS = [f.name for f in fields(_SuiteFile)]
_ENV_KEYS = [f.name for f in fields(SuiteEnv)]
