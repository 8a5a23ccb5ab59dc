"""The SQLite leaderboard: round trips, self-describing rows, foreign files, concurrent writers."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from callgym.errors import DataError
from callgym.leaderboards import Leaderboard, RunRecord, default_db_path, runs_from_episodes
from callgym.leaderboards.records import MetricRow, Outcome
from callgym.leaderboards.store import SCHEMA_VERSION
from tests.leaderboards.conftest import MODELS
from tests.leaderboards.scripted import play


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    episodes = play("SmolLM2-135M-Instruct", 0.4, 20, env_kwargs={"max_steps": 6})
    (run,) = runs_from_episodes(episodes, suite="smoke", suite_version=3, tag="before-dpo", notes="first try",
                                model_size=134_500_000, used={("callgym-test/Toy-v0", 0)})
    with Leaderboard(tmp_path / "lb.db") as board:
        run_id = board.add_run(run)
        got = board.get_run(run_id, samples=True)
    assert got.id == run_id == run.id
    for name in (
        "env_id", "env_version", "env_kwargs", "suite", "suite_version", "model", "model_size", "lineage",
        "agent", "backend", "sampling", "seed", "n", "problems", "version", "created", "tag", "notes",
        "excluded", "metrics", "samples",
    ):
        assert getattr(got, name) == getattr(run, name), name
    assert (got.env_version, got.suite_version, got.excluded, got.n) == ("0", "3", 1, 19)
    assert got.metric("accuracy").ci_low is not None


def test_outcomes_come_back_as_pairable_episodes(tmp_path: Path) -> None:
    episodes = play("m", 0.5, 12)
    with Leaderboard(tmp_path / "lb.db") as board:
        (run_id,) = board.add_runs(runs_from_episodes(episodes))
        back = board.outcomes(run_id)
    assert [(e.index, e.sample, e.correct) for e in back] == sorted(
        (e.index, e.sample, e.correct) for e in episodes
    )
    assert {e.env_id for e in back} == {"callgym-test/Toy-v0"}


def test_filters_and_counts(board_path: Path) -> None:
    with Leaderboard(board_path, readonly=True) as board:
        assert board.count() == 2 * len(MODELS)
        assert board.count("outcomes") == 2 * len(MODELS) * 30
        assert board.count("samples") == 2 * len(MODELS) * 4
        tagged = board.runs(tag="after-dpo")
        assert [r.lineage for r in tagged] == ["SmolLM2-135M-Instruct"] * 2
        assert all(r.metrics for r in tagged)  # metrics follow the same filter
        assert len(board.runs(env_id="callgym-test/Toy-v0", model="random-calls")) == 2
        assert board.schema_version == SCHEMA_VERSION
        with pytest.raises(DataError, match="not a leaderboard table"):
            board.count("sqlite_master")


def test_file_is_in_wal_mode(tmp_path: Path) -> None:
    with Leaderboard(tmp_path / "lb.db"):
        pass
    conn = sqlite3.connect(tmp_path / "lb.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_add_runs_is_all_or_nothing(tmp_path: Path) -> None:
    good = RunRecord(env_id="e-v0", model="a", outcomes=[Outcome(0, 0, True)])
    clash = RunRecord(env_id="e-v0", model="b", outcomes=[Outcome(0, 0, True), Outcome(0, 0, False)])
    with Leaderboard(tmp_path / "lb.db") as board:
        with pytest.raises(sqlite3.IntegrityError):
            board.add_runs([good, clash])
        assert board.count() == 0 and board.count("outcomes") == 0


def test_default_path_follows_callgym_home_then_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CALLGYM_HOME", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_db_path() == tmp_path / "home" / ".local" / "share" / "callgym" / "leaderboard.db"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_db_path() == tmp_path / "xdg" / "callgym" / "leaderboard.db"
    monkeypatch.setenv("CALLGYM_HOME", str(tmp_path / "cg"))
    assert default_db_path() == tmp_path / "cg" / "leaderboard.db"
    with Leaderboard() as board:  # creates the directory on first use
        assert board.path == tmp_path / "cg" / "leaderboard.db" and board.path.exists()


def test_files_that_are_not_leaderboards_are_refused_untouched(tmp_path: Path) -> None:
    text = tmp_path / "notes.db"
    text.write_text("this is not SQLite at all, just some text that is long enough" * 20)
    with pytest.raises(DataError, match="not a callgym leaderboard"):
        Leaderboard(text)
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE users (name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(DataError, match=r"not a callgym leaderboard \(it holds other tables\)"):
        Leaderboard(other)
    conn = sqlite3.connect(other)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # we did not switch it to WAL
    conn.close()
    with pytest.raises(DataError, match="is a directory"):
        Leaderboard(tmp_path)
    with pytest.raises(DataError, match="no leaderboard here yet"):
        Leaderboard(tmp_path / "missing.db", readonly=True)
    with pytest.raises(DataError, match="cannot open it"):
        Leaderboard(text / "lb.db")  # its parent is a file


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lb.db"
    with Leaderboard(path):
        pass
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    conn.commit()
    conn.close()
    with pytest.raises(DataError, match="newer than this callgym"):
        Leaderboard(path)


# ----------------------------------------------------------------------------- concurrency

RUNS_PER_WRITER = 40
OUTCOMES_PER_RUN = 25


def _writer(path: str, writer: int, barrier: multiprocessing.synchronize.Barrier) -> None:
    """One benchmark process: opens the (maybe not yet created) file and writes runs one by one."""
    barrier.wait()  # both processes create/open the file and write at the same moment
    with Leaderboard(path, timeout=30) as board:
        for i in range(RUNS_PER_WRITER):
            board.add_run(RunRecord(
                env_id="callgym/FOL-v0", model=f"writer{writer}", tag=str(i), n=OUTCOMES_PER_RUN,
                metrics=[MetricRow("callgym/FOL-v0", "all", "accuracy", i / 100, 0.0, 1.0)],
                outcomes=[Outcome(k, 0, k % 2 == 0) for k in range(OUTCOMES_PER_RUN)],
                samples=[{"env_id": "callgym/FOL-v0", "index": 0, "writer": writer, "run": i}],
            ))


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    # Two OS processes, each opening its own connection after the fork (none is open before it).
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(2)
    writers = [context.Process(target=_writer, args=(path, w, barrier)) for w in (1, 2)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=120)
    assert [p.exitcode for p in writers] == [0, 0]
    with Leaderboard(path, readonly=True) as board:
        runs = board.runs()
        assert len(runs) == 2 * RUNS_PER_WRITER
        assert len({r.id for r in runs}) == 2 * RUNS_PER_WRITER
        for writer in (1, 2):
            mine = [r for r in runs if r.model == f"writer{writer}"]
            assert sorted(int(r.tag) for r in mine) == list(range(RUNS_PER_WRITER))
            assert all(len(r.metrics) == 1 and r.metrics[0].value == int(r.tag) / 100 for r in mine)
        assert board.count("outcomes") == 2 * RUNS_PER_WRITER * OUTCOMES_PER_RUN
        assert board.count("samples") == 2 * RUNS_PER_WRITER
        assert all(len(board.outcomes(r.id)) == OUTCOMES_PER_RUN for r in runs)


def test_the_step_budget_curve_and_error_counts_are_stored(tmp_path: Path) -> None:
    episodes = play("sloppy", 0.6, 24, sloppiness=0.5)
    (run,) = runs_from_episodes(episodes, suite="smoke")
    with Leaderboard(tmp_path / "lb.db") as board:
        got = board.get_run(board.add_run(run))
    curve = [(k, row.value) for k, row in got.budget_curve()]
    longest = max(e.num_steps for e in episodes)
    assert [k for k, _ in curve] == list(range(1, longest + 1))
    assert curve == [
        (k, sum(e.correct and e.num_steps <= k for e in episodes) / 24) for k in range(1, longest + 1)
    ]
    assert curve[-1][1] == got.accuracy and all(row.ci_low is not None for _, row in got.budget_curve())
    invalid = [s.error_type for e in episodes for s in e.steps if not s.valid]
    assert got.error_counts() == {t: invalid.count(t) for t in ("syntax_error", "unknown_function")}
    assert got.value("calls") == sum(e.num_steps for e in episodes)
