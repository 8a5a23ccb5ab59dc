"""Leaderboard records: one self-describing row per (env config, model config) benchmark.

A :class:`RunRecord` says everything needed to judge whether two results are comparable:
env id and version, env kwargs (the split), suite and its version, model (and its size and
lineage), agent, backend, sampling, seed, n, package version and time. Rankings group runs by
:attr:`RunRecord.group_key` and never mix groups.
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from callgym.benchmarks.metrics import (
    ALL,
    BUDGET_METRIC,
    ERROR_METRIC,
    UsedKey,
    as_episodes,
    compute_metrics,
    exclude,
    kwargs_key,
)
from callgym.benchmarks.runner import SuiteRun
from callgym.episode import Episode
from callgym.errors import DataError

_VERSION_SUFFIX = re.compile(r"-v(\d+)$")
PHASES = ("before", "after")  # tags "before-dpo" / "after-dpo" mark a before/after pair


@dataclass(frozen=True)
class MetricRow:
    """One metric of a run at one difficulty level (``"all"`` for the whole env)."""

    env_id: str
    difficulty: str
    name: str
    value: float
    ci_low: float | None = None
    ci_high: float | None = None


@dataclass(frozen=True)
class Outcome:
    """One episode's result, kept for every episode so runs can be paired later."""

    index: int
    sample: int
    correct: bool
    difficulty: str | None = None
    num_steps: int = 0
    valid_calls: int = 0
    tokens_out: int = 0
    seconds: float = 0.0


@dataclass
class RunRecord:
    """A benchmark of one model config on one env config, with its metrics."""

    env_id: str
    model: str = ""
    agent: str = ""
    backend: str = ""
    env_version: str = ""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    suite: str = ""
    suite_version: str = ""
    model_size: int | None = None  # parameters; None when unknown
    lineage: str = ""  # the base model a trained model descends from (pairs before/after)
    sampling: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    n: int = 0  # episodes
    problems: int = 0  # distinct problems (n / problems samples each)
    version: str = ""  # callgym package version
    created: str = ""  # ISO 8601, UTC
    tag: str = ""  # e.g. "before-dpo", "after-dpo", "baseline"
    notes: str = ""
    excluded: int = 0  # problems left out because they were used for training
    metrics: list[MetricRow] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)  # a few full transcripts
    id: int | None = None

    def __post_init__(self) -> None:
        self.env_version = self.env_version or env_version_of(self.env_id)
        self.lineage = self.lineage or self.model
        self.created = self.created or now_iso()

    def metric(self, name: str, difficulty: str = ALL) -> MetricRow | None:
        return next((m for m in self.metrics if m.name == name and m.difficulty == difficulty), None)

    def value(self, name: str, difficulty: str = ALL) -> float | None:
        row = self.metric(name, difficulty)
        return row.value if row else None

    @property
    def accuracy(self) -> float:
        return self.value("accuracy") or 0.0

    def budget_curve(self) -> list[tuple[int, MetricRow]]:
        """``(k, accuracy within k steps)`` for every stored step budget, k ascending."""
        rows = [
            (int(m.name[len(BUDGET_METRIC) :]), m)
            for m in self.metrics
            if m.difficulty == ALL
            and m.name.startswith(BUDGET_METRIC)
            and m.name[len(BUDGET_METRIC) :].isdigit()
        ]
        return sorted(rows, key=lambda row: row[0])

    def error_counts(self) -> dict[str, int]:
        """Invalid replies per error type (:mod:`callgym.error_types`), in stored order."""
        return {m.name[len(ERROR_METRIC):]: int(m.value) for m in self.metrics
                if m.difficulty == ALL and m.name.startswith(ERROR_METRIC)}

    def difficulties(self) -> list[str]:
        """The difficulty levels this run has accuracy for, in order, without ``"all"``."""
        return [m.difficulty for m in self.metrics if m.name == "accuracy" and m.difficulty != ALL]

    @property
    def group_key(self) -> tuple[str, str, str, str, str]:
        """Runs rank together only when the benchmark itself is identical: the env and its
        version, its kwargs (split, data, limits) and the suite and its version. Seed and n
        may differ: they estimate the same accuracy, and the interval shows the precision."""
        return (self.env_id, self.env_version, kwargs_key(self.env_kwargs), self.suite, self.suite_version)

    @property
    def group_label(self) -> str:
        parts = [f"{self.env_id} (env v{self.env_version})"]
        if self.suite:
            parts.append(
                f"suite {self.suite} v{self.suite_version}" if self.suite_version else f"suite {self.suite}"
            )
        if self.env_kwargs:
            parts.append(", ".join(f"{k}={v}" for k, v in sorted(self.env_kwargs.items())))
        return " · ".join(parts)

    @property
    def display_name(self) -> str:
        return self.model or self.agent or f"run {self.id}"

    def to_dict(self, *, outcomes: bool = False, samples: bool = False) -> dict[str, Any]:
        data = asdict(self)
        data["group"] = self.group_label
        if not outcomes:
            data.pop("outcomes")
        if not samples:
            data.pop("samples")
        return data


def env_version_of(env_id: str) -> str:
    """``"callgym/FOL-v0"`` -> ``"0"``: gymnasium ids carry the version; "" when absent."""
    match = _VERSION_SUFFIX.search(env_id)
    return match.group(1) if match else ""


def now_iso() -> str:
    """The current UTC time as ISO 8601 to the second, e.g. ``2026-05-09T07:35:25Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def runs_from_episodes(
    episodes: Iterable[Episode | dict[str, Any]],
    *,
    suite: str = "",
    suite_version: str | int = "",
    tag: str = "",
    notes: str = "",
    model_size: int | None = None,
    lineage: str = "",
    used: Iterable[UsedKey] | None = None,
    excluded: dict[str, int] | None = None,
    samples: int = 4,
) -> list[RunRecord]:
    """Build one :class:`RunRecord` per (env config, model config) in ``episodes``.

    Args:
        episodes: finished benchmark episodes (objects or dicts).
        suite: the suite name, e.g. ``"default"``.
        suite_version: the suite's version.
        tag: a label such as ``"before-dpo"`` / ``"after-dpo"`` (pairs in the HTML plots).
        notes: free text kept with the row.
        model_size: the model's parameter count, when known.
        lineage: the base model a trained model descends from (defaults to the model).
        used: training problems to exclude now (see :func:`callgym.benchmarks.metrics.exclude`).
        excluded: per env id, problems the caller already left out (e.g. never rolled out).
        samples: how many full transcripts each run keeps for the viewer.
    """
    used = list(used or [])
    records = []
    for members in _group_by_config(as_episodes(episodes)).values():
        kept, dropped = exclude(members, used)
        if not kept:
            raise DataError(
                f"all {len(members)} episodes of {members[0].env_id} played training problems; "
                "benchmark held-out problems (another split or --start past the training indices)"
            )
        record = _record(kept, suite=suite, suite_version=str(suite_version), tag=tag, notes=notes,
                         model_size=model_size, lineage=lineage, samples=samples)
        record.excluded = dropped + (excluded or {}).get(record.env_id, 0)
        records.append(record)
    return records


def runs_from_suite(run: SuiteRun, *, tag: str = "", lineage: str = "") -> list[RunRecord]:
    """One :class:`RunRecord` per env of a benchmark (:func:`callgym.benchmarks.runner.run_suite`).

    Args:
        run: the suite's episodes, env by env.
        tag: a label such as ``"before-dpo"`` (see :func:`runs_from_episodes`).
        lineage: the base model a trained model descends from.
    """
    records = []
    for env in run.envs:
        records += runs_from_episodes(
            env.episodes, suite=run.suite.name, suite_version=run.suite.version, tag=tag, lineage=lineage,
            model_size=run.model_size, excluded={env.env.id: env.excluded},
        )
    return records


def _group_by_config(episodes: list[Episode]) -> dict[tuple[Any, ...], list[Episode]]:
    groups: dict[tuple[Any, ...], list[Episode]] = defaultdict(list)
    for e in episodes:
        sampling = json.dumps(e.sampling, sort_keys=True, default=str)
        groups[(e.env_id, kwargs_key(e.env_kwargs), e.model, e.agent, e.backend, sampling, e.seed)].append(e)
    return dict(sorted(groups.items(), key=lambda item: tuple(map(str, item[0]))))


def _record(episodes: list[Episode], *, samples: int, **fields: Any) -> RunRecord:
    first = episodes[0]
    report = compute_metrics(episodes)
    metrics = [
        MetricRow(g.env_id, g.difficulty, name, value, low, high)
        for g in report.groups for name, value, low, high in g.metric_rows()
    ]
    return RunRecord(
        env_id=first.env_id, model=first.model, agent=first.agent, backend=first.backend,
        env_kwargs=dict(first.env_kwargs), sampling=dict(first.sampling), seed=first.seed,
        n=len(episodes), problems=len({e.index for e in episodes}),
        version=",".join(sorted({e.version for e in episodes if e.version})),
        metrics=metrics, outcomes=[_outcome(e) for e in episodes],
        samples=[e.to_dict() for e in pick_samples(episodes, samples)], **fields,
    )


def _outcome(e: Episode) -> Outcome:
    difficulty = None if e.difficulty is None else str(e.difficulty)
    valid = sum(bool(s.valid) for s in e.steps)
    return Outcome(
        e.index, e.sample, bool(e.correct), difficulty, len(e.steps), valid, e.tokens_out, e.seconds
    )


def pick_samples(episodes: list[Episode], k: int) -> list[Episode]:
    """Up to ``k`` episodes for the viewer: half correct, half not (readers learn most from
    both), the lowest indices first so the choice is stable across reruns."""
    ordered = sorted(episodes, key=lambda e: (e.index, e.sample))
    right = [e for e in ordered if e.correct]
    wrong = [e for e in ordered if not e.correct]
    take_right = min(len(right), max(k - len(wrong), (k + 1) // 2))
    chosen = right[:take_right] + wrong[: k - take_right]
    return sorted(chosen, key=lambda e: (e.index, e.sample))


# ----------------------------------------------------------------------------- grouping


def rank(runs: Iterable[RunRecord]) -> list[RunRecord]:
    """Best first: accuracy, then the lower interval bound (more evidence wins a tie), then n."""
    def key(run: RunRecord) -> tuple[float, float, int, int]:
        acc = run.metric("accuracy")
        low = acc.ci_low if acc and acc.ci_low is not None else 0.0
        return (-run.accuracy, -low, -run.n, run.id or 0)

    return sorted(runs, key=key)


def group_runs(runs: Iterable[RunRecord]) -> list[tuple[str, list[RunRecord]]]:
    """Comparable sets as ``(label, ranked runs)``, ordered by env id then suite."""
    groups: dict[tuple[str, ...], list[RunRecord]] = defaultdict(list)
    for run in runs:
        groups[run.group_key].append(run)
    def order(key: tuple[str, ...]) -> tuple[Any, ...]:  # env, suite, then settings (defaults first)
        env_id, env_version, kwargs, suite, suite_version = key
        return (env_id, env_version, suite, suite_version, kwargs != "{}", kwargs)

    return [(groups[key][0].group_label, rank(groups[key])) for key in sorted(groups, key=order)]


def before_after_pairs(runs: Iterable[RunRecord]) -> list[tuple[RunRecord, RunRecord]]:
    """Before/after pairs derived from tags: within one comparable set and one lineage,
    the latest run tagged ``before[-X]`` pairs with the latest tagged ``after[-X]``."""
    latest: dict[tuple[Any, ...], RunRecord] = {}
    for run in sorted(runs, key=lambda r: (r.created, r.id or 0)):
        phase, _, method = run.tag.partition("-")
        if phase in PHASES:
            latest[(run.group_key, run.lineage, method, phase)] = run
    pairs = []
    for (group, lineage, method, phase), before in sorted(latest.items(), key=lambda item: str(item[0])):
        after = latest.get((group, lineage, method, "after"))
        if phase == "before" and after is not None:
            pairs.append((before, after))
    return pairs
