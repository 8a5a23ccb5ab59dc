"""Fixtures: a real leaderboard file filled with runs of scripted models on the toy env."""

from __future__ import annotations

from pathlib import Path

import pytest

from callgym.leaderboards import Leaderboard, RunRecord, runs_from_episodes
from tests.leaderboards.scripted import play

# (model, skill, parameters, tag, lineage): a ladder of sizes, a before/after-DPO pair, a baseline.
MODELS = (
    ("Llama-3-70B-Instruct", 0.92, 70_600_000_000, "teacher", ""),
    ("Mistral-7B-Instruct-v0.2", 0.71, 7_240_000_000, "", ""),
    ("SmolLM2-135M-Instruct", 0.33, 134_500_000, "before-dpo", ""),
    ("SmolLM2-135M-Instruct-dpo", 0.55, 134_500_000, "after-dpo", "SmolLM2-135M-Instruct"),
    ("random-calls", 0.05, None, "baseline", ""),
)


def build_runs(n: int = 30) -> list[RunRecord]:
    """Runs on two benchmarks that must never share a ranking (different env settings)."""
    runs = []
    for model, skill, size, tag, lineage in MODELS:
        for kwargs, suite_version, harder in (({}, 1, 0.0), ({"max_steps": 4}, 2, 0.08)):
            episodes = play(
                model,
                max(0.0, skill - harder),
                n,
                env_kwargs=kwargs,
                agent="random" if tag == "baseline" else "student",
                sloppiness=0.25 if "135M" in model else 0.05,
            )
            runs += runs_from_episodes(episodes, suite="smoke", suite_version=suite_version, tag=tag,
                                       model_size=size, lineage=lineage)
    return runs


@pytest.fixture
def board_path(tmp_path: Path) -> Path:
    """A leaderboard file holding :func:`build_runs`."""
    path = tmp_path / "leaderboard.db"
    with Leaderboard(path) as board:
        board.add_runs(build_runs())
    return path
