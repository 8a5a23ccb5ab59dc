"""Benchmark suites: data (YAML) naming envs, their kwargs, how many problems, a seed and a
version. Shipped suites live in ``callgym/benchmarks/suites/``; any YAML file works too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callgym.errors import ConfigError, DataError
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
    data = read_yaml_mapping(path, f"pass a shipped suite name ({', '.join(suite_names())}) or a YAML path", "suite file")
    return _suite_from_dict(data, path)


def _suite_from_dict(data: Any, path: Path) -> Suite:
    if not isinstance(data, dict) or not isinstance(data.get("envs"), list) or not data["envs"]:
        raise DataError(f"{path}: a suite needs 'name', 'version' and a non-empty 'envs' list")
    import_yaml_modules(data.get("imports"), path)
    try:
        envs = tuple(
            SuiteEnv(e["id"], dict(e.get("kwargs") or {}), int(e.get("n", 100)), int(e.get("start", 0)))
            for e in data["envs"]
        )
        return Suite(
            name=str(data.get("name", path.stem)), version=int(data.get("version", 1)), envs=envs,
            seed=int(data.get("seed", 0)), description=str(data.get("description", "")),
            metrics=tuple(data.get("metrics", ())),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise DataError(f"{path}: malformed suite ({e}); see callgym/benchmarks/suites/smoke.yaml") from e
