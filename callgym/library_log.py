"""Send what libraries print to a log file, and keep the terminal for callgym's own output.

vLLM, transformers, TRL and their engine processes write hundreds of lines (load warnings,
their own progress bars) to the process's stdout and stderr, from C, Python and child
processes alike; only redirecting the file descriptors catches all of it. callgym's stage
headers, progress bars, results and warnings go to a console on the original terminal.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

TAIL_LINES = 40
_capturing = False  # inside library_output_to


def bars_take_prints() -> bool:
    """Whether a rich progress bar should route Python prints above itself (its default).

    Not while library output goes to the log: the bar would pull transformers' tqdm lines and
    printed dicts back onto the terminal.
    """
    return not _capturing


@contextmanager
def library_output_to(log_path: str | Path) -> Iterator[Any]:
    """Within the block, file descriptors 1 and 2 write to ``log_path``; yields the terminal console.

    On an exception the log's last lines are shown on the terminal before it propagates.
    """
    import rich

    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    terminal = _redirect(log_path)
    rich.reconfigure(file=terminal)  # so rich progress bars without an explicit console use it too
    console = rich.get_console()
    handler = _callgym_warnings_to(terminal)
    global _capturing
    _capturing = True
    try:
        yield console
    except Exception:
        _show_tail(console, log_path)
        raise
    finally:
        _capturing = False
        logging.getLogger("callgym").removeHandler(handler)
        _restore(terminal)
        rich.reconfigure()


def _redirect(log_path: Path) -> IO[str]:
    """Point fds 1 and 2 at the log file; return a text stream on the old stdout (the terminal)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = (os.dup(1), os.dup(2))
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
    finally:
        os.close(log_fd)
    terminal = open(saved[0], "w", encoding="utf-8", errors="replace", buffering=1)  # noqa: SIM115
    terminal.saved_stderr = saved[1]  # type: ignore[attr-defined]
    return terminal


def _restore(terminal: IO[str]) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    terminal.flush()
    os.dup2(terminal.fileno(), 1)
    os.dup2(terminal.saved_stderr, 2)  # type: ignore[attr-defined]
    os.close(terminal.saved_stderr)  # type: ignore[attr-defined]
    terminal.close()


def _callgym_warnings_to(terminal: IO[str]) -> logging.Handler:
    """callgym's own warnings still reach the user (they also stay in the log)."""
    handler = logging.StreamHandler(terminal)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.getLogger("callgym").addHandler(handler)
    return handler


def _show_tail(console: Any, log_path: Path) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-TAIL_LINES:]
    except OSError:
        return
    if lines:
        console.rule(f"last {len(lines)} lines of {log_path}")
        for line in lines:
            console.print(line, markup=False, highlight=False)
        console.rule()
