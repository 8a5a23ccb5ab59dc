"""Library output goes to the run's log file; callgym's own output stays on the terminal."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import logging, os, subprocess, sys
    from rich.progress import Progress
    from callgym.library_log import bars_take_prints, library_output_to

    logging.basicConfig(level=logging.WARNING)
    with library_output_to(sys.argv[1]) as console:
        print("python print from a library")
        os.write(2, b"C-level stderr write\\n")
        subprocess.run([sys.executable, "-c", "print('child process output')"], check=True)
        logging.getLogger("vllm.engine").warning("library warning")
        logging.getLogger("callgym.pipeline").warning("callgym warning")
        console.print("stage header")
        with Progress(redirect_stdout=bars_take_prints(), redirect_stderr=bars_take_prints()):
            print("printed under a progress bar")  # a bar must not pull it onto the terminal
        if sys.argv[2] == "fail":
            raise RuntimeError("stage failed")
    print("after the block")
    """
)


def _run(tmp_path: Path, mode: str) -> tuple[subprocess.CompletedProcess[str], str]:
    log = tmp_path / "run" / "callgym.log"
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(log), mode], capture_output=True, text=True)
    return done, log.read_text(encoding="utf-8")


def test_libraries_write_to_the_log_and_callgym_to_the_terminal(tmp_path: Path) -> None:
    done, log = _run(tmp_path, "ok")
    assert done.returncode == 0, done.stderr
    for line in (
        "python print from a library",
        "C-level stderr write",
        "child process output",
        "library warning",
        "printed under a progress bar",
    ):
        assert line in log and line not in done.stdout + done.stderr
    assert "stage header" in done.stdout and "stage header" not in log
    assert "callgym warning" in done.stdout and "callgym warning" in log  # shown, and kept
    assert "after the block" in done.stdout  # the terminal is restored


def test_bars_take_prints_outside_the_log() -> None:
    from callgym.library_log import bars_take_prints

    assert bars_take_prints()  # rich's default: prints go above the bar


def test_a_failure_shows_the_log_tail_on_the_terminal(tmp_path: Path) -> None:
    done, log = _run(tmp_path, "fail")
    assert done.returncode == 1
    assert "RuntimeError: stage failed" in done.stderr  # the traceback reaches the real stderr
    assert "child process output" in done.stdout  # the log's tail, shown before it
    assert "after the block" not in done.stdout
