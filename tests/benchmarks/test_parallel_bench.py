"""Benchmarks run in parallel from one folder: every run gets its own episodes folder and all
its rows land in one real SQLite leaderboard; an identical rerun resumes a killed run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from callgym.episode import read_episodes
from callgym.leaderboards import Leaderboard
from tests.test_cli import run

BENCH = ["bench", "--suite", "smoke", "--agent", "oracle", "--n", "4", "--db", "lb.db", "--quiet"]
ENVS = ("callgym_FOL-v0.jsonl", "callgym_GSM8K-v0.jsonl")


def _run_folders(root: Path) -> list[Path]:
    return sorted(p.parent for p in root.glob("runs/bench/smoke/*/*/FINISHED.json"))


def _assert_complete(folder: Path) -> None:
    for name in ENVS:
        episodes = read_episodes(folder / name)
        assert sorted((e.index, e.sample) for e in episodes) == [(i, 0) for i in range(4)], folder / name


@pytest.mark.slow  # eight real processes (about 6 s of imports each on this machine)
def test_eight_parallel_benchmarks_land_eight_complete_runs(tmp_path):
    workers = 8
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "callgym.cli", *BENCH, "--tag", f"w{w}"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(workers)
    ]
    results = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0] * workers, [err for _, err in results]
    folders = _run_folders(tmp_path)
    assert len(folders) == workers
    for folder in folders:
        _assert_complete(folder)
    with Leaderboard(tmp_path / "lb.db", readonly=True) as board:
        runs = board.runs()
        assert sorted(r.tag for r in runs) == sorted(f"w{w}" for w in range(workers) for _ in ENVS)
        assert all(len(board.outcomes(r.id)) == 4 for r in runs)
        assert board.count("outcomes") == workers * len(ENVS) * 4


def test_an_identical_rerun_resumes_a_killed_run_and_a_finished_one_is_never_reused(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *BENCH)
    assert code == 0, err
    (first,) = _run_folders(tmp_path)
    assert first.name.endswith("-1") and f"episodes -> {first.relative_to(tmp_path)}" in out
    # Make it look killed: not finished, and its FOL file cut after two episodes.
    (first / "FINISHED.json").unlink()
    fol = first / ENVS[0]
    fol.write_text("".join(fol.read_text().splitlines(keepends=True)[:2]))
    code, out, err = run(capsys, *BENCH)
    assert code == 0, err
    assert _run_folders(tmp_path) == [first]  # resumed in place
    _assert_complete(first)
    code, out, err = run(capsys, *BENCH)
    assert code == 0, err
    folders = _run_folders(tmp_path)
    assert [f.name[-2:] for f in folders] == ["-1", "-2"]
    for folder in folders:
        _assert_complete(folder)


def test_an_explicit_out_in_use_is_refused(tmp_path, capsys, monkeypatch):
    from callgym.runs import claim_folder

    monkeypatch.chdir(tmp_path)
    with claim_folder(tmp_path / "mine"):  # another run holds it
        code, _, err = run(capsys, *BENCH, "--out", "mine")
    assert code == 2 and "is in use by another callgym run" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "lb.db").exists() and list((tmp_path / "mine").iterdir()) == [
        tmp_path / "mine" / ".lock"
    ]


def test_a_folder_with_duplicate_episodes_from_older_versions_still_publishes(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *BENCH, "--out", "old")
    assert code == 0, err
    fol = tmp_path / "old" / ENVS[0]
    fol.write_text(fol.read_text() * 2)  # what concurrent runs into one folder used to leave
    code, _, err = run(capsys, *BENCH, "--out", "old")
    assert code == 0, err
    with Leaderboard(tmp_path / "lb.db", readonly=True) as board:
        assert [len(board.outcomes(r.id)) for r in board.runs()] == [4] * 4
