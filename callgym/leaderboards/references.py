"""Runs named by reference for ``callgym compare``: an episodes file or folder, or leaderboard ids.

Reading a run back from the leaderboard needs the store, so references live here, above
:mod:`callgym.benchmarks.compare` (which pairs episodes and knows nothing of the store).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from callgym.benchmarks.compare import Comparison, compare
from callgym.benchmarks.metrics import UsedKey
from callgym.episode import Episode, read_episodes
from callgym.errors import DataError
from callgym.leaderboards.store import Leaderboard

_RUN_IDS = re.compile(r"^\d+(,\d+)*$")


@dataclass(frozen=True)
class RunEpisodes:
    """Episodes of one side of a comparison, with a label saying where they came from."""

    episodes: list[Episode]
    label: str
    excluded: int = 0  # problems the run itself excluded when it was benchmarked


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
        raise DataError(
            f"{ref}: holds no episodes; pass a file or run that `callgym rollout` or `callgym bench` filled"
        )
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
            "JSONL path, a `callgym bench --out` folder or ids such as 12 or 12,13 "
            "(see `callgym leaderboard show`)"
        )
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

