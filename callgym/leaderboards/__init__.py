"""The leaderboard: an SQLite store of self-describing benchmark runs, and its views (a rich
table, Markdown, JSON, and a static HTML site with plots and an episode viewer).

Typical use, after a benchmark produced ``episodes``::

    with Leaderboard(db_path) as board:          # None: the user's data directory
        board.add_runs(runs_from_episodes(episodes, suite="default", suite_version=1))
        console.print(leaderboard_table(board.runs()))
        export(board, md="lb.md", json_path="lb.json", html_dir="site/")
"""

from __future__ import annotations

from callgym.leaderboards.records import (
    MetricRow,
    Outcome,
    RunRecord,
    before_after_pairs,
    group_runs,
    rank,
    runs_from_episodes,
    runs_from_suite,
)
from callgym.leaderboards.render import (
    comparison_markdown,
    comparison_table,
    leaderboard_data,
    leaderboard_json,
    leaderboard_markdown,
    leaderboard_table,
    metrics_table,
)
from callgym.leaderboards.export import export
from callgym.leaderboards.store import Leaderboard, default_db_path, publish

__all__ = [
    "Leaderboard", "MetricRow", "Outcome", "RunRecord", "before_after_pairs", "comparison_markdown",
    "comparison_table", "default_db_path", "export", "group_runs", "leaderboard_data", "leaderboard_json",
    "leaderboard_markdown", "leaderboard_table", "metrics_table", "publish", "rank", "runs_from_episodes",
    "runs_from_suite",
]
