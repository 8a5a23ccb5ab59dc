"""Runs named by reference for `callgym compare`: episodes files, bench folders, leaderboard ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from callgym.benchmarks.compare import compare
from callgym.episode import Episode, EpisodeWriter
from callgym.errors import DataError
from callgym.leaderboards import Leaderboard, runs_from_episodes
from callgym.leaderboards.references import compare_runs, load_run
from tests.leaderboards.scripted import play


def write(path: Path, episodes: list[Episode]) -> Path:
    with EpisodeWriter(path) as writer:
        for e in episodes:
            writer.write(e)
    return path


def test_compare_two_jsonl_files(tmp_path: Path) -> None:
    before = play("student", 0.3, 40)
    after = play("student-dpo", 0.7, 40)
    result = compare_runs(write(tmp_path / "before.jsonl", before), write(tmp_path / "after.jsonl", after))
    direct = compare(before, after)
    assert result.rows[0] == direct.rows[0]
    assert (result.label_a, result.label_b) == (str(tmp_path / "before.jsonl"), str(tmp_path / "after.jsonl"))


def test_compare_bench_folders(tmp_path: Path) -> None:
    before, after = play("student", 0.3, 40), play("student-dpo", 0.7, 40)
    for name, episodes in (("before", before), ("after", after)):
        (tmp_path / name).mkdir()
        write(tmp_path / name / "callgym-test_Toy-v0.jsonl", episodes)
    assert compare_runs(tmp_path / "before", tmp_path / "after").rows[0] == compare(before, after).rows[0]


def test_compare_leaderboard_run_ids_and_their_exclusions(tmp_path: Path) -> None:
    db = tmp_path / "lb.db"
    before = play("student", 0.3, 40)
    after = play("student-dpo", 0.7, 40)
    with Leaderboard(db) as board:
        (before_id,) = board.add_runs(runs_from_episodes(before, tag="before-dpo"))
        (after_id,) = board.add_runs(
            runs_from_episodes(after, tag="after-dpo", used={("callgym-test/Toy-v0", i) for i in range(5)})
        )
    result = compare_runs(str(before_id), str(after_id), db=db)
    row = result.rows[0]
    assert (row.n, row.unpaired_a, result.excluded_b) == (35, 5, 5)
    expected = compare(before, after, used={("callgym-test/Toy-v0", i) for i in range(5)}).rows[0]
    assert (row.b, row.c, row.p_value) == (expected.b, expected.c, expected.p_value)
    assert "student-dpo" in result.label_b
    both = load_run(f"{before_id},{after_id}", db=db)
    assert len(both.episodes) == 75


def test_bad_references_say_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(
        DataError, match="neither an episodes file, a folder of them nor a leaderboard run id"
    ):
        load_run(tmp_path / "missing.jsonl")
    with pytest.raises(DataError, match="a `callgym bench --out` folder"):
        load_run(tmp_path)  # a folder without episodes files
    with pytest.raises(DataError, match="no leaderboard here yet"):
        load_run("3", db=tmp_path / "none.db")
    with Leaderboard(tmp_path / "lb.db"):
        pass
    with pytest.raises(DataError, match="no run with id 3"):
        load_run("3", db=tmp_path / "lb.db")
