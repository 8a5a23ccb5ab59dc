"""Commands never write to their inputs: refused files stay byte-identical (same mtime), and
read-only commands open SQLite with ``mode=ro`` and create nothing."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from tests.test_cli import run

NOTES = "first line of my notes\nsecond line\nlast line without a newline"


def _sqlite(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def _inputs(tmp: Path) -> dict[str, Path]:
    """Files a user may point a command at by mistake."""
    files = {
        name: tmp / name
        for name in ("notes.txt", "empty.db", "blank.db", "users.db", "meta.db", "half.jsonl")
    }
    files["notes.txt"].write_text(NOTES)
    files["empty.db"].write_bytes(b"")
    _sqlite(files["blank.db"], "PRAGMA user_version = 7")  # a valid SQLite file without tables
    _sqlite(files["users.db"], "CREATE TABLE users (name TEXT)", "INSERT INTO users VALUES ('ada')")
    _sqlite(
        files["meta.db"], "CREATE TABLE meta (key TEXT, value TEXT)", "INSERT INTO meta VALUES ('app', 'x')"
    )
    # An episode file someone appended a note to: its last line is not a cut episode.
    files["half.jsonl"].write_text('{"env_id": "callgym/FOL-v0", "index": 0}\nremember to rerun this')
    return files


ROLLOUT = ["rollout", "--env", "callgym/FOL-v0", "--agent", "oracle", "--n", "2", "--quiet", "--out"]


@pytest.mark.parametrize(
    "argv, message",
    [
        ([*ROLLOUT, "notes.txt"], "holds something other than callgym episodes"),
        ([*ROLLOUT, "notes.txt", "--resume"], "holds something other than callgym episodes"),
        ([*ROLLOUT, "half.jsonl"], "last line is not a callgym episode"),
        (
            ["leaderboard", "show", "--db", "empty.db"],
            "not a callgym leaderboard (it holds no tables at all)",
        ),
        (
            ["leaderboard", "show", "--db", "blank.db"],
            "not a callgym leaderboard (it holds no tables at all)",
        ),
        (["leaderboard", "show", "--db", "users.db"], "not a callgym leaderboard (it holds other tables)"),
        (["leaderboard", "show", "--db", "meta.db"], "its meta table does not name callgym"),
        (["leaderboard", "show", "--db", "notes.txt"], "not a callgym leaderboard"),
        (["leaderboard", "export", "--db", "blank.db", "--md", "out.md"], "not a callgym leaderboard"),
        (["compare", "1", "2", "--db", "users.db"], "not a callgym leaderboard"),
        (
            ["bench", "--agent", "oracle", "--n", "1", "--quiet", "--db", "meta.db", "--out", "b"],
            "meta table",
        ),
        (
            ["bench", "--agent", "oracle", "--n", "1", "--quiet", "--db", "users.db", "--out", "b"],
            "other tables",
        ),
    ],
)
def test_refused_inputs_stay_byte_identical(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    files = _inputs(tmp_path)
    before = {name: (path.read_bytes(), path.stat().st_mtime_ns) for name, path in files.items()}
    listing = sorted(p.name for p in tmp_path.iterdir())
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert {name: (path.read_bytes(), path.stat().st_mtime_ns) for name, path in files.items()} == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "b") == listing  # no -wal, -shm, out.md
    conn = sqlite3.connect(files["meta.db"])
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # never switched to WAL
    conn.close()


def test_a_database_that_is_not_a_regular_file_is_refused_at_once(tmp_path, capsys):
    fifo = tmp_path / "lb.db"
    os.mkfifo(fifo)  # opening it would block until a writer came along
    for argv in (
        ["leaderboard", "show"],
        ["bench", "--agent", "oracle", "--n", "1", "--quiet", "--out", str(tmp_path / "b")],
    ):
        code, _, err = run(capsys, *argv, "--db", str(fifo))
        assert code == 2 and "is not a regular file" in err, err


@pytest.mark.parametrize(
    "argv", [["leaderboard", "show"], ["leaderboard", "export", "--md", "lb.md"], ["compare", "1", "2"]]
)
def test_read_only_commands_do_not_create_a_missing_database(tmp_path, capsys, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *argv, "--db", "missing.db")
    assert code == 2 and "no leaderboard here yet" in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_read_only_commands_leave_a_real_leaderboard_byte_identical(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for agent in ("oracle", "random"):
        code, _, _ = run(
            capsys, "bench", "--agent", agent, "--n", "3", "--db", "lb.db", "--out", agent, "--quiet"
        )
        assert code == 0
    db = tmp_path / "lb.db"
    episodes = tmp_path / "oracle" / "callgym_FOL-v0.jsonl"
    before = [(p.read_bytes(), p.stat().st_mtime_ns) for p in (db, episodes)]
    for argv in (["leaderboard", "show", "--db", "lb.db"],
                 ["leaderboard", "export", "--db", "lb.db", "--md", "lb.md", "--json", "lb.json"],
                 ["compare", "1", "3", "--db", "lb.db"],
                 ["compare", str(episodes), "random/callgym_FOL-v0.jsonl"]):
        code, _, err = run(capsys, *argv)
        assert code == 0, err
    assert [(p.read_bytes(), p.stat().st_mtime_ns) for p in (db, episodes)] == before


def test_a_torn_episode_tail_is_still_repaired(tmp_path, capsys):
    """The repair the refusals above must not break: a run killed mid-write resumes."""
    out = tmp_path / "e.jsonl"
    code, _, _ = run(capsys, *ROLLOUT, str(out))
    assert code == 0
    complete = out.read_text()
    out.write_text(complete + '{"env_id": "callgym/FOL-v0", "index": 2, "se')
    code, stdout, err = run(capsys, *ROLLOUT, str(out), "--n", "3", "--resume")
    assert code == 0, err
    assert out.read_text().startswith(complete) and len(out.read_text().splitlines()) == 3


def test_an_output_flag_naming_an_input_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, _ = run(
        capsys, "bench", "--agent", "oracle", "--n", "2", "--db", "lb.db", "--out", "b", "--quiet"
    )
    assert code == 0
    episodes = "b/callgym_FOL-v0.jsonl"
    inputs = [tmp_path / "lb.db", tmp_path / episodes]
    before = [(p.read_bytes(), p.stat().st_mtime_ns) for p in inputs]
    for argv in (["leaderboard", "export", "--db", "lb.db", "--md", "lb.db"],
                 ["leaderboard", "export", "--db", "lb.db", "--json", "./lb.db"],
                 ["compare", episodes, episodes, "--md", episodes],
                 ["compare", "1", "2", "--db", "lb.db", "--md", "lb.db"]):
        code, _, err = run(capsys, *argv)
        assert code == 2 and "would be overwritten" in err and len(err.strip().splitlines()) == 1, (argv, err)
    assert [(p.read_bytes(), p.stat().st_mtime_ns) for p in inputs] == before
