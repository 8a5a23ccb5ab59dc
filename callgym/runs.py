"""Run identity: what a run computes names its output, and one process owns an output at a time.

A run's *key* is a short hash of everything that decides its results (resolved config and
inputs). ``callgym bench`` writes to ``<parent>/<key>-<n>``: the first such folder that no
live process holds and that holds no finished run. So parallel identical runs each get their
own folder, a killed run is resumed by the next identical command, and a finished run is
never appended to. Ownership is an OS lock on ``<folder>/.lock``: it dies with its process,
so a kill -9 never leaves a folder stuck.

>>> import tempfile
>>> parent = Path(tempfile.mkdtemp())
>>> key = run_key({"suite": "smoke", "agent": "oracle"})
>>> with claim_new_folder(parent, key) as a, claim_new_folder(parent, key) as b:
...     [p.name == f"{key}-{n}" for p, n in ((a, 1), (b, 2))]
[True, True]
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from callgym.errors import DataError

LOCK = ".lock"
FINISHED = "FINISHED.json"


def slug(text: str) -> str:
    """``"callgym/FOL-v0"`` -> ``"callgym_FOL-v0"``: text made safe as a file or folder name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")


def run_key(what: Any, length: int = 12) -> str:
    """A short, stable hash of ``what`` (plain data: dicts, lists, strings, numbers)."""
    text = json.dumps(what, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:length]


@contextmanager
def claim_folder(folder: str | os.PathLike[str]) -> Iterator[Path]:
    """Own ``folder`` for the ``with`` block; another live process owning it is an error."""
    folder = Path(folder)
    lock = _try_lock(folder)
    if lock is None:
        raise DataError(
            f"{folder} is in use by another callgym run; wait for it or pass another output folder"
        )
    try:
        yield folder
    finally:
        lock.close()


@contextmanager
def claim_new_folder(parent: str | os.PathLike[str], key: str) -> Iterator[Path]:
    """Own ``parent/<key>-<n>`` for the first n whose folder is free and unfinished."""
    for n in itertools.count(1):
        folder = Path(parent) / f"{key}-{n}"
        lock = _try_lock(folder)
        if lock is None:
            continue  # a live run of the same computation: take the next one
        if (folder / FINISHED).exists():
            lock.close()
            continue
        try:
            yield folder
        finally:
            lock.close()
        return


def mark_finished(folder: Path, summary: dict[str, Any]) -> None:
    """Say the run in ``folder`` is complete, so no later run resumes into it."""
    (folder / FINISHED).write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")


def lock_exclusively(file: IO[Any]) -> bool:
    """Take an exclusive OS lock on an open file, held until it is closed (the OS drops it
    when the process dies, even on kill -9); False when another open file holds it."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; every file counts as free
        return True
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _try_lock(folder: Path) -> IO[str] | None:
    """An open lock file holding an exclusive OS lock on ``folder``, or None if another process holds it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        file = (folder / LOCK).open("a", encoding="utf-8")
    except OSError as e:
        raise DataError(f"{folder}: cannot create the output folder ({e}); pass a writable path") from e
    if lock_exclusively(file):
        return file
    file.close()
    return None
