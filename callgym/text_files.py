"""Reading the text files users hand to callgym (episodes, data, configs): one place for
the errors a hostile or damaged file can cause, each turned into a one-line DataError that
names the file, the line and the fix.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from callgym.errors import DataError


def read_bytes(path: str | os.PathLike[str], what: str = "file", fix: str = "") -> bytes:
    """The file's bytes, or a DataError for a missing, unreadable file or a directory.

    Args:
        path: the file.
        what: what the file is, for the message ("episodes file", "suite file").
        fix: what to do when it is missing, e.g. "pass the JSONL written by `callgym rollout --out`".
    """
    path = Path(path)
    fix = f"; {fix}" if fix else ""
    if path.is_dir():
        raise DataError(f"{path} is a directory, not a {what}{fix}")
    if not path.exists():
        raise DataError(f"{path}: no such {what}{fix}")
    if not path.is_file():  # a device or a pipe: reading it may never end
        raise DataError(f"{path} is not a regular file; pass a {what}")
    try:
        return path.read_bytes()
    except OSError as e:
        raise DataError(f"{path}: cannot read the {what} ({e.strerror}); check its permissions") from e


def read_text(path: str | os.PathLike[str], what: str = "file", fix: str = "") -> str:
    """The whole file as text; a DataError for a missing, unreadable or non-UTF-8 file."""
    return decode_utf8(read_bytes(path, what, fix), str(path))


def decode_utf8(data: bytes, where: str, first_line: int = 1) -> str:
    """``data`` as UTF-8 text; a DataError names the line and column of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + first_line
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise DataError(
            f"{where}:{line}:{column}: not UTF-8 text (byte 0x{data[e.start]:02x}); save the file as UTF-8"
        ) from None


def iter_lines(
    path: str | os.PathLike[str], what: str = "file", fix: str = ""
) -> Iterator[tuple[int, str, bool]]:
    """Yield ``(line number, text, complete)`` for every non-blank line of a UTF-8 text file.

    ``complete`` is False only for a last line without its newline: a writer killed
    mid-line leaves one, possibly cut inside a multi-byte character, so that line is
    decoded leniently and the caller decides whether to skip it.
    """
    lines = read_bytes(path, what, fix).split(b"\n")
    for lineno, raw in enumerate(lines, 1):
        complete = lineno < len(lines)
        text = decode_utf8(raw, str(path), lineno) if complete else raw.decode("utf-8", errors="replace")
        if text.strip():
            yield lineno, text, complete


def parse_json(text: str, where: str) -> Any:
    """One JSON value; every way ``json.loads`` can fail on hostile text becomes a DataError.

    Besides malformed JSON this covers integers longer than Python converts (ValueError),
    nesting deep enough to exhaust the stack (RecursionError) and NaN/Infinity, which are
    not JSON and would poison every mean computed from them.
    """
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        raise DataError(
            f"{where}: not valid JSON ({e.msg} at column {e.colno}); fix or remove that line"
        ) from None
    except RecursionError:
        raise DataError(f"{where}: JSON nested too deeply; fix or remove that line") from None
    except _NotJSONNumber as e:
        raise DataError(f"{where}: {e} is not a JSON number; write a number or null") from None
    except ValueError:  # an integer with more digits than Python converts (thousands)
        raise DataError(f"{where}: a number has too many digits; fix or remove that line") from None


class _NotJSONNumber(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _NotJSONNumber(name)
