"""Benchmark metrics from finished episodes: per env config and per difficulty level.

Each group reports n, accuracy with a 95% Wilson interval, the valid-call rate (valid calls
over all calls), mean steps, mean generated tokens, seconds per episode, and the most common
answer with its share of the answered episodes: a model that collapsed to one answer
("True" every time) shows it there, whatever its accuracy. With K samples
per problem, accuracy over all episodes is mean pass@1.

Two more views of each env config, from the same episodes:

* **accuracy at every step budget**: an episode is solved within k steps when it answered
  correctly by step k (steps count every env step, bootstrap calls included, as the env's
  ``max_steps`` does), so ``accuracy@k`` is what the same run would have scored with a step
  limit of k, for every k up to the longest episode, each with its Wilson interval;
* **invalid replies by error type** (:mod:`callgym.error_types`): counts per type.

The interval treats episodes as independent trials; with K > 1 samples of each problem they
are not (samples of one problem are correlated) and the interval is too narrow; benchmark
with one sample per problem for a calibrated one.

Problems used to build training pairs must not count in a benchmark of the trained model:
:func:`exclude` drops them and every report says how many went.

>>> from callgym.episode import Episode
>>> eps = [Episode(env_id="callgym/FOL-v0", index=i, correct=i % 2 == 0) for i in range(4)]
>>> report = compute_metrics(eps, used={("callgym/FOL-v0", 3)})
>>> (report.excluded, report.groups[0].n, round(report.groups[0].accuracy, 3))
(1, 3, 0.667)
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Union

from callgym.benchmarks.stats import proportion, wilson_interval
from callgym.episode import Episode, error_type_of, kwargs_key, problem_key
from callgym.error_types import ERROR_TYPES
from callgym.errors import DataError

ALL = "all"  # the difficulty label of a whole env group
BUDGET_METRIC = "accuracy@"  # "accuracy@5": accuracy within a budget of 5 steps
ERROR_METRIC = "error:"  # "error:syntax_error": how many replies had that error type
TOOL_METRIC = "uses:"  # "uses:Prove": the share of episodes that called Prove (validly) at least once
# A used-problem key: (env_id, index) matches every config of the env (the safe default when
# the split is unknown); (env_id, env_kwargs, index) matches one config only, so training on
# split=train does not exclude the same index of split=test.
UsedKey = Union[tuple[str, int], tuple[str, Any, int]]


@dataclass(frozen=True)
class GroupMetrics:
    """The metrics of one env config at one difficulty level (or ``"all"``)."""

    env_id: str
    difficulty: str
    n: int
    correct: int
    accuracy: float
    ci_low: float
    ci_high: float
    valid_call_rate: float | None  # None when the episodes made no calls at all
    calls: int
    mean_steps: float
    mean_tokens_out: float
    seconds_per_episode: float
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    top_answer: str | None = None  # the most common answer, None when no episode answered
    top_answer_share: float | None = None  # its share of the episodes that answered
    # (k, accuracy within k steps, ci_low, ci_high) for k = 1 .. the longest episode
    budget_curve: list[tuple[int, float, float, float]] = field(default_factory=list)
    error_counts: dict[str, int] = field(default_factory=dict)  # invalid replies per error type
    # what always giving the most common gold answer scores here: a collapse to one label
    # can reach it without any reasoning, so an accuracy means something only above it
    constant_accuracy: float | None = None
    tool_use: dict[str, float] = field(default_factory=dict)  # share of episodes calling each tool

    def metric_rows(self) -> list[tuple[str, float, float | None, float | None]]:
        """``(name, value, ci_low, ci_high)`` rows, the shape the leaderboard stores."""
        rows: list[tuple[str, float, float | None, float | None]] = [
            ("n", float(self.n), None, None),
            ("accuracy", self.accuracy, self.ci_low, self.ci_high),
            ("mean_steps", self.mean_steps, None, None),
            ("mean_tokens_out", self.mean_tokens_out, None, None),
            ("seconds_per_episode", self.seconds_per_episode, None, None),
        ]
        if self.valid_call_rate is not None:
            rows.insert(2, ("valid_call_rate", self.valid_call_rate, None, None))
        if self.top_answer_share is not None:
            rows.append(("top_answer_share", self.top_answer_share, None, None))
        if self.constant_accuracy is not None:
            rows.append(("constant_accuracy", self.constant_accuracy, None, None))
        rows += [(f"{TOOL_METRIC}{name}", share, None, None) for name, share in self.tool_use.items()]
        if self.difficulty == ALL:  # the curve and the breakdown are per env config only
            rows.append(("calls", float(self.calls), None, None))
            rows += [(f"{BUDGET_METRIC}{k}", value, low, high) for k, value, low, high in self.budget_curve]
            rows += [
                (f"{ERROR_METRIC}{name}", float(count), None, None)
                for name, count in self.error_counts.items()
            ]
        return rows

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MetricsReport:
    """Metrics of every group, plus how many episodes were excluded before computing them."""

    groups: list[GroupMetrics]
    excluded: int = 0

    @property
    def n(self) -> int:
        return sum(g.n for g in self.groups if g.difficulty == ALL)

    def overall(self) -> list[GroupMetrics]:
        """One group per env config, difficulty ``"all"``."""
        return [g for g in self.groups if g.difficulty == ALL]

    def to_dict(self) -> dict[str, Any]:
        return {"excluded": self.excluded, "n": self.n, "groups": [g.to_dict() for g in self.groups]}


def as_episodes(items: Iterable[Episode | dict[str, Any]]) -> list[Episode]:
    """Episodes from Episode objects or their dicts (``Episode.to_dict`` or a JSONL line)."""
    episodes = []
    for position, item in enumerate(items):
        if isinstance(item, Episode):
            episodes.append(item)
            continue
        try:
            episodes.append(Episode.from_dict(item))
        except DataError as e:
            raise DataError(f"episode #{position} is malformed: {e}") from None
    return episodes


def used_problems(episodes: Iterable[Episode | dict[str, Any]]) -> set[UsedKey]:
    """The ``(env_id, env_kwargs, index)`` keys of problems that training episodes played."""
    return {e.problem_key for e in as_episodes(episodes)}


def exclude(
    episodes: Iterable[Episode | dict[str, Any]], used: Iterable[UsedKey]
) -> tuple[list[Episode], int]:
    """Drop episodes of problems in ``used``; returns ``(kept, number excluded)``.

    Args:
        episodes: benchmark episodes.
        used: keys of problems used for training, ``(env_id, index)`` (any config of the env)
            or ``(env_id, env_kwargs, index)`` (that config only; kwargs as dict or JSON).
    """
    any_config: set[tuple[str, int]] = set()
    one_config: set[tuple[str, str, int]] = set()
    for key in used:
        if not isinstance(key, (tuple, list)):
            raise DataError(
                f"used problem {key!r} must be a tuple (env_id, index) or (env_id, env_kwargs, index)"
            )
        if len(key) == 2:
            any_config.add((key[0], key[1]))
        elif len(key) == 3:
            one_config.add(problem_key(*key))
        else:
            raise DataError(f"used problem {key!r} must be (env_id, index) or (env_id, env_kwargs, index)")
    episodes = as_episodes(episodes)
    kept = [
        e for e in episodes
        if (e.env_id, e.index) not in any_config and e.problem_key not in one_config
    ]
    return kept, len(episodes) - len(kept)


def compute_metrics(
    episodes: Iterable[Episode | dict[str, Any]],
    *,
    used: Iterable[UsedKey] | None = None,
    by_difficulty: bool = True,
    z: float = 1.96,
) -> MetricsReport:
    """Metrics per env config (``env_id`` + ``env_kwargs``) and per difficulty level.

    Args:
        episodes: finished episodes (objects or dicts).
        used: problems to exclude first (see :func:`exclude`); the report counts them.
        by_difficulty: also report each difficulty level, not only ``"all"``.
        z: normal quantile of the accuracy interval (1.96: 95%).
    """
    kept, excluded = exclude(episodes, used) if used is not None else (as_episodes(episodes), 0)
    groups: dict[tuple[str, str], list[Episode]] = defaultdict(list)
    for e in kept:
        groups[(e.env_id, kwargs_key(e.env_kwargs))].append(e)
    result = []
    # configs: first seen first
    for (env_id, _), members in sorted(groups.items(), key=lambda item: item[0][0]):
        result.append(group_metrics(env_id, ALL, members, z=z))
        if by_difficulty:
            result.extend(group_metrics(env_id, level, eps, z=z) for level, eps in _by_difficulty(members))
    return MetricsReport(result, excluded)


def group_metrics(env_id: str, difficulty: str, episodes: list[Episode], *, z: float = 1.96) -> GroupMetrics:
    """The metrics of one group of episodes (one env config, one difficulty level)."""
    n = len(episodes)
    correct = sum(bool(e.correct) for e in episodes)
    calls = sum(len(e.steps) for e in episodes)
    valid = sum(bool(s.valid) for e in episodes for s in e.steps)
    low, high = wilson_interval(correct, n, z)
    answers = Counter(e.answer for e in episodes if e.answer is not None)
    top, top_count = answers.most_common(1)[0] if answers else (None, 0)
    return GroupMetrics(
        env_id=env_id, difficulty=difficulty, n=n, correct=correct, accuracy=proportion(correct, n),
        ci_low=low, ci_high=high, valid_call_rate=valid / calls if calls else None, calls=calls,
        mean_steps=_mean(len(e.steps) for e in episodes),
        mean_tokens_out=_mean(e.tokens_out for e in episodes),
        seconds_per_episode=_mean(e.seconds for e in episodes),
        env_kwargs=dict(episodes[0].env_kwargs) if episodes else {},
        top_answer=top, top_answer_share=top_count / answers.total() if answers else None,
        budget_curve=budget_curve(episodes, z=z) if difficulty == ALL else [],
        error_counts=error_counts(episodes),
        constant_accuracy=constant_accuracy(episodes),
        tool_use=tool_use(episodes),
    )


def constant_accuracy(episodes: list[Episode]) -> float | None:
    """The accuracy of always giving the most common gold answer; None when no episode has one.

    >>> eps = [Episode(env_id="e", index=i, gold=g) for i, g in enumerate(["True", "True", "False"])]
    >>> round(constant_accuracy(eps), 3)
    0.667
    """
    golds = Counter(str(e.gold) for e in episodes if e.gold is not None)
    return max(golds.values()) / len(episodes) if golds else None


def tool_use(episodes: list[Episode]) -> dict[str, float]:
    """Per tool, the share of episodes with at least one valid call of it, most used first."""
    counts: Counter[str] = Counter()
    for e in episodes:
        counts.update({s.call.split("(", 1)[0] for s in e.steps if s.valid and s.call})
    return {name: count / len(episodes) for name, count in counts.most_common()} if episodes else {}


def solved_at(episode: Episode) -> int | None:
    """The step at which the episode answered correctly (its last one), None if it did not."""
    return len(episode.steps) if episode.correct else None


def budget_curve(episodes: list[Episode], *, z: float = 1.96) -> list[tuple[int, float, float, float]]:
    """``(k, accuracy@k, ci_low, ci_high)`` for k = 1 .. the longest episode: the share of
    episodes that answered correctly within k steps. At the longest episode's length it is
    the run's accuracy; an episode counts as unsolved at budgets below its answer step."""
    n = len(episodes)
    longest = max((len(e.steps) for e in episodes), default=0)
    solved = Counter(k for k in map(solved_at, episodes) if k is not None)
    curve, within = [], 0
    for k in range(1, longest + 1):
        within += solved[k]
        low, high = wilson_interval(within, n, z)
        curve.append((k, proportion(within, n), low, high))
    return curve


def error_counts(episodes: Iterable[Episode]) -> dict[str, int]:
    """Invalid replies per error type, in the taxonomy's order (names from elsewhere after it);
    types that never occur are left out."""
    counts = Counter(error_type_of(s) for e in episodes for s in e.steps)
    counts.pop(None, None)
    order = [*ERROR_TYPES, *sorted(set(counts) - set(ERROR_TYPES))]
    return {name: counts[name] for name in order if counts[name]}


def difficulty_label(value: Any) -> str:
    """Difficulty as the text the leaderboard stores: ``3`` -> ``"3"``, None -> ``"unknown"``."""
    if value is None:
        return "unknown"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def difficulty_order(label: str) -> tuple[int, float, str]:
    """Sort key: numeric levels in numeric order, then text levels, ``"unknown"`` last."""
    if label == "unknown":
        return (2, 0.0, label)
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def _by_difficulty(episodes: list[Episode]) -> list[tuple[str, list[Episode]]]:
    levels: dict[str, list[Episode]] = defaultdict(list)
    for e in episodes:
        levels[difficulty_label(e.difficulty)].append(e)
    if set(levels) == {"unknown"}:
        return []  # an env without difficulty levels: "all" says everything
    return sorted(levels.items(), key=lambda item: difficulty_order(item[0]))


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0
