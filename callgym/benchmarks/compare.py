"""Paired comparison of two runs on the same problems: the before/after-DPO view.

Episodes pair when they share ``(env_id, env_kwargs, index, sample)``. Per env config the
report gives the paired n, both accuracies, their difference (B - A), the discordant counts
(b: A right and B wrong; c: A wrong and B right) and the exact McNemar p-value. Pairing
removes the problem-to-problem variance that two independent accuracies would carry, so a
small real improvement shows up with far fewer problems.

>>> from callgym.episode import Episode
>>> a = [Episode(env_id="e-v0", index=i, correct=i < 2) for i in range(10)]
>>> b = [Episode(env_id="e-v0", index=i, correct=i < 9) for i in range(10)]
>>> row = compare(a, b).rows[0]
>>> (row.n, row.b, row.c, round(row.difference, 2), round(row.p_value, 4))
(10, 0, 7, 0.7, 0.0156)
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from callgym.benchmarks.metrics import UsedKey, constant_accuracy, exclude
from callgym.benchmarks.stats import mcnemar_exact, proportion
from callgym.episode import Episode
from callgym.errors import DataError

ALL_ENVS = "all"


@dataclass(frozen=True)
class PairedResult:
    """Paired outcome counts of one env config (or of all envs pooled)."""

    env_id: str
    n: int  # paired problems
    correct_a: int
    correct_b: int
    b: int  # A right, B wrong
    c: int  # A wrong, B right
    p_value: float
    unpaired_a: int = 0  # episodes of A with no partner in B (and the reverse)
    unpaired_b: int = 0
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    constant: float | None = None  # accuracy of always the most common gold answer, on the paired problems

    @property
    def acc_a(self) -> float:
        return proportion(self.correct_a, self.n)

    @property
    def acc_b(self) -> float:
        return proportion(self.correct_b, self.n)

    @property
    def difference(self) -> float:
        """B's accuracy minus A's: positive when B (e.g. after DPO) is better."""
        return self.acc_b - self.acc_a

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "acc_a": self.acc_a, "acc_b": self.acc_b, "difference": self.difference}


@dataclass(frozen=True)
class Comparison:
    """Every env config's paired result, the pooled total, and what was excluded."""

    label_a: str
    label_b: str
    rows: list[PairedResult]
    total: PairedResult | None  # pooled over env configs; None when there is only one
    excluded_a: int = 0
    excluded_b: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "label_a": self.label_a, "label_b": self.label_b,
            "excluded_a": self.excluded_a, "excluded_b": self.excluded_b,
            "rows": [r.to_dict() for r in self.rows],
            "total": self.total.to_dict() if self.total else None,
        }


def compare(
    run_a: Iterable[Episode | dict[str, Any]],
    run_b: Iterable[Episode | dict[str, Any]],
    *,
    used: Iterable[UsedKey] | None = None,
    label_a: str = "A",
    label_b: str = "B",
) -> Comparison:
    """Pair two runs' episodes on the same problems and test the difference per env config.

    Args:
        run_a: episodes of the baseline (e.g. before DPO).
        run_b: episodes of the candidate (e.g. after DPO).
        used: problems to exclude from both sides first (training problems).
        label_a: how reports name run A.
        label_b: how reports name run B.
    """
    used = list(used) if used is not None else []
    kept_a, excluded_a = exclude(run_a, used)
    kept_b, excluded_b = exclude(run_b, used)
    outcomes_a, outcomes_b = _outcomes(kept_a, label_a), _outcomes(kept_b, label_b)
    configs = sorted({key[:2] for key in outcomes_a} | {key[:2] for key in outcomes_b})
    rows = [_paired(config, outcomes_a, outcomes_b) for config in configs]
    total = _pooled(rows) if len(rows) > 1 else None
    return Comparison(label_a, label_b, rows, total, excluded_a, excluded_b)


def _outcomes(episodes: list[Episode], label: str) -> dict[tuple[str, str, int, int], Episode]:
    outcomes: dict[tuple[str, str, int, int], Episode] = {}
    for e in episodes:
        key = e.key
        if key in outcomes:
            raise DataError(
                f"run {label} holds {e.env_id} index {e.index} sample {e.sample} twice; "
                "compare one run per side (a resumed file never repeats a problem)"
            )
        outcomes[key] = e
    return outcomes


def _paired(
    config: tuple[str, str], episodes_a: dict[tuple, Episode], episodes_b: dict[tuple, Episode]
) -> PairedResult:
    keys_a = {k for k in episodes_a if k[:2] == config}
    keys_b = {k for k in episodes_b if k[:2] == config}
    both = sorted(keys_a & keys_b)
    a = {k: bool(episodes_a[k].correct) for k in both}
    b = {k: bool(episodes_b[k].correct) for k in both}
    b_only_right = sum(a[k] and not b[k] for k in both)
    c_only_right = sum(b[k] and not a[k] for k in both)
    return PairedResult(
        env_id=config[0], n=len(both), correct_a=sum(a.values()), correct_b=sum(b.values()),
        b=b_only_right, c=c_only_right, p_value=mcnemar_exact(b_only_right, c_only_right),
        unpaired_a=len(keys_a - keys_b), unpaired_b=len(keys_b - keys_a), env_kwargs=json.loads(config[1]),
        constant=constant_accuracy([episodes_a[k] for k in both]),
    )


def _pooled(rows: list[PairedResult]) -> PairedResult:
    b, c = sum(r.b for r in rows), sum(r.c for r in rows)
    return PairedResult(
        env_id=ALL_ENVS, n=sum(r.n for r in rows), correct_a=sum(r.correct_a for r in rows),
        correct_b=sum(r.correct_b for r in rows), b=b, c=c, p_value=mcnemar_exact(b, c),
        unpaired_a=sum(r.unpaired_a for r in rows), unpaired_b=sum(r.unpaired_b for r in rows),
        constant=_pooled_constant(rows),
    )


def _pooled_constant(rows: list[PairedResult]) -> float | None:
    """Each env config answered with its own most common gold answer, over all paired problems."""
    if not rows or any(r.constant is None for r in rows) or not sum(r.n for r in rows):
        return None
    return sum(r.constant * r.n for r in rows) / sum(r.n for r in rows)  # type: ignore[operator]
