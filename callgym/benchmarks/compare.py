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
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from callgym.benchmarks.metrics import UsedKey, exclude
from callgym.benchmarks.stats import mcnemar_exact, proportion
from callgym.episode import Episode, read_episodes
from callgym.errors import DataError

ALL_ENVS = "all"
_RUN_IDS = re.compile(r"^\d+(,\d+)*$")


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


@dataclass(frozen=True)
class RunEpisodes:
    """Episodes of one side of a comparison, with a label saying where they came from."""

    episodes: list[Episode]
    label: str
    excluded: int = 0  # problems the run itself excluded when it was benchmarked


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


def _outcomes(episodes: list[Episode], label: str) -> dict[tuple[str, str, int, int], bool]:
    outcomes: dict[tuple[str, str, int, int], bool] = {}
    for e in episodes:
        key = e.key
        if key in outcomes:
            raise DataError(
                f"run {label} holds {e.env_id} index {e.index} sample {e.sample} twice; "
                "compare one run per side (a resumed file never repeats a problem)"
            )
        outcomes[key] = bool(e.correct)
    return outcomes


def _paired(config: tuple[str, str], a: dict[tuple, bool], b: dict[tuple, bool]) -> PairedResult:
    keys_a = {k for k in a if k[:2] == config}
    keys_b = {k for k in b if k[:2] == config}
    both = keys_a & keys_b
    b_only_right = sum(a[k] and not b[k] for k in both)
    c_only_right = sum(b[k] and not a[k] for k in both)
    return PairedResult(
        env_id=config[0], n=len(both), correct_a=sum(a[k] for k in both), correct_b=sum(b[k] for k in both),
        b=b_only_right, c=c_only_right, p_value=mcnemar_exact(b_only_right, c_only_right),
        unpaired_a=len(keys_a - both), unpaired_b=len(keys_b - both), env_kwargs=json.loads(config[1]),
    )


def _pooled(rows: list[PairedResult]) -> PairedResult:
    b, c = sum(r.b for r in rows), sum(r.c for r in rows)
    return PairedResult(
        env_id=ALL_ENVS, n=sum(r.n for r in rows), correct_a=sum(r.correct_a for r in rows),
        correct_b=sum(r.correct_b for r in rows), b=b, c=c, p_value=mcnemar_exact(b, c),
        unpaired_a=sum(r.unpaired_a for r in rows), unpaired_b=sum(r.unpaired_b for r in rows),
    )


# ----------------------------------------------------------------------------- run references


def load_run(ref: str | Path, *, db: str | Path | None = None) -> RunEpisodes:
    """Episodes named by a reference: an episodes JSONL path, or leaderboard run ids.

    Args:
        ref: a JSONL file written by ``callgym rollout``/``bench``, a folder of them (what
            ``callgym bench --out`` writes), or a run id (``12``) or
            several ids of one benchmark (``12,13``) from ``callgym leaderboard show``.
        db: the leaderboard file (default: the user's data directory).
    """
    run = _load_run(str(ref), db)
    if not run.episodes:
        raise DataError(f"{ref}: holds no episodes; pass a file or run that `callgym rollout` or `callgym bench` filled")
    return run


def _load_run(text: str, db: str | Path | None) -> RunEpisodes:
    path = Path(text)
    if path.is_file():
        return RunEpisodes(read_episodes(path), str(path))  # the folder tells runs apart
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else []
    if files:
        return RunEpisodes(read_episodes(files), str(path))
    if not _RUN_IDS.match(text):
        raise DataError(
            f"{text!r} is neither an episodes file, a folder of them nor a leaderboard run id; pass a "
            "JSONL path, a `callgym bench --out` folder or ids such as 12 or 12,13 (see `callgym leaderboard show`)"
        )
    from callgym.leaderboards.store import Leaderboard

    with Leaderboard(db, readonly=True) as board:
        runs = [board.get_run(int(run_id)) for run_id in text.split(",")]
        episodes = [e for run in runs for e in board.outcomes(run.id)]
    models = sorted({run.model or run.agent for run in runs})
    return RunEpisodes(episodes, f"run {text} ({', '.join(models)})", sum(run.excluded for run in runs))


def compare_runs(
    ref_a: str | Path,
    ref_b: str | Path,
    *,
    db: str | Path | None = None,
    used: Iterable[UsedKey] | None = None,
) -> Comparison:
    """:func:`compare` two runs named by path or leaderboard id (``callgym compare A B``)."""
    a, b = load_run(ref_a, db=db), load_run(ref_b, db=db)
    result = compare(a.episodes, b.episodes, used=used, label_a=a.label, label_b=b.label)
    if not a.excluded and not b.excluded:
        return result
    # Problems a run excluded at benchmark time count as excluded here too: the report says so.
    return Comparison(
        result.label_a, result.label_b, result.rows, result.total,
        result.excluded_a + a.excluded, result.excluded_b + b.excluded,
    )

