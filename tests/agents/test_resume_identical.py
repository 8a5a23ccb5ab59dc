"""A run killed with SIGKILL and resumed ends with exactly the file an uninterrupted run writes
(every field but the timings, in the same order), whatever the batch size of either run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

TIMINGS = ("seconds", "timestamp")


def _rollout(out: Path, batch_size: int, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "callgym.cli", "rollout", "--env", "callgym/FOL-v0", "--env-arg", "split=train",
        "--agent", "random", "--seed", "3", "--n", "150", "--samples", "2", "--batch-size", str(batch_size),
        "--out", str(out), "--quiet", *extra,
    ]


def _without_timings(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for row in rows:
        for key in TIMINGS:
            row.pop(key)
    return rows


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


@pytest.mark.slow  # three real processes, 300 fsynced episodes each (about 30 s here)
def test_kill_9_then_resume_writes_the_uninterrupted_file(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    full, cut = tmp_path / "full.jsonl", tmp_path / "cut.jsonl"
    subprocess.run(_rollout(full, 16), env=env, check=True, capture_output=True, timeout=600)
    assert _lines(full) == 300

    victim = subprocess.Popen(
        _rollout(cut, 16), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 300
    while _lines(cut) < 60 and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert victim.returncode == -signal.SIGKILL
    assert 60 <= _lines(cut) < 300, "the run should have been killed half-way"

    # Resume with another batch size: batches must not change what any episode samples.
    done = subprocess.run(_rollout(cut, 7, "--resume"), env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "already in the file" in done.stdout
    assert _without_timings(cut) == _without_timings(full)
    rows = _without_timings(full)
    differ = sum(a["steps"] != b["steps"] for a, b in zip(rows[::2], rows[1::2]))
    assert differ > 100  # the two samples of a problem differ: the agent really samples


def test_resume_refuses_a_file_of_another_run(tmp_path, capsys):
    """--resume with another agent or seed would mix two runs in one file: stopped, file untouched."""
    from tests.test_cli import run

    out = tmp_path / "e.jsonl"
    base = ["rollout", "--env", "callgym/FOL-v0", "--n", "3", "--out", str(out), "--quiet"]
    assert run(capsys, *base, "--agent", "random")[0] == 0
    before = out.read_bytes()
    for other in (["--agent", "oracle"], ["--agent", "random", "--seed", "1"]):
        code, _, err = run(capsys, *base, *other, "--resume")
        assert code == 2 and "episodes of another run" in err and len(err.strip().splitlines()) == 1, err
    assert out.read_bytes() == before
    code, stdout, _ = run(capsys, *base, "--agent", "random", "--n", "4", "--resume")
    assert code == 0 and "(3 already in the file)" in stdout
