"""Episode records and their append-only JSONL files.

One JSON object per line, written when an episode ends (flush + fsync), so a killed run
loses at most the episodes in flight and ``--resume`` continues where it stopped.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import IO, Any

from callgym import json_text
from callgym.errors import DataError
from callgym.field_types import check_fields, shown, value_type
from callgym.text_files import iter_lines, parse_json


# (env id, canonical env kwargs, index): the one identity of a problem, for resuming,
# pairing, excluding training problems and comparing runs.
ProblemKey = tuple[str, str, int]


def kwargs_key(env_kwargs: Any) -> str:
    """Canonical text of an env config, so equal kwargs compare equal whatever their order."""
    if isinstance(env_kwargs, str):
        return env_kwargs
    return json.dumps(env_kwargs or {}, sort_keys=True, default=str)


def problem_key(env_id: str, env_kwargs: Any, index: int) -> ProblemKey:
    """The identity of problem ``index`` of ``env_id`` under ``env_kwargs`` (dict or its JSON)."""
    return (env_id, kwargs_key(env_kwargs), index)


@dataclass
class Step:
    """One env step: the model's reply and what the env answered."""

    action: str
    observation: str
    call: str | None = None  # canonical call text, None when the reply held no valid call
    valid: bool = True
    reward: float = 0.0
    # Why the reply was invalid (a name from callgym.error_types), None for a valid one.
    # Files written before error types existed have no such field: see error_type_of().
    error_type: str | None = None


def error_type_of(step: Step) -> str | None:
    """The step's error type; ``"unclassified"`` for an invalid step of an older file."""
    if step.valid:
        return None
    return step.error_type or "unclassified"


@dataclass
class Episode:
    """A finished episode, self-describing enough to compare and to train on."""

    env_id: str
    index: int
    seed: int | None = None
    agent: str = ""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    sample: int = 0  # which of the K samples of this problem
    difficulty: Any = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    reward: float = 0.0
    correct: bool = False
    answer: Any = None
    gold: Any = None
    terminated: bool = False
    truncated: bool = False
    invalid_calls: int = 0
    model: str = ""
    backend: str = ""
    sampling: dict[str, Any] = field(default_factory=dict)
    tokens_in: int = 0
    tokens_out: int = 0
    seconds: float = 0.0
    version: str = ""
    timestamp: float = field(default_factory=time.time)

    @property
    def num_steps(self) -> int:
        return len(self.steps)

    @property
    def problem_key(self) -> ProblemKey:
        """Which problem this episode played (env, config, index)."""
        return problem_key(self.env_id, self.env_kwargs, self.index)

    @property
    def key(self) -> tuple[str, str, int, int]:
        """Identifies one (env, config, problem, sample): what --resume skips."""
        return (*self.problem_key, self.sample)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["num_steps"] = self.num_steps
        data["valid_calls"] = sum(s.valid for s in self.steps)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Episode:
        """Build from a record; unknown keys (``num_steps``, newer fields) are ignored.

        Raises:
            DataError: a field of the wrong type, naming the field (see :func:`check_record`).
        """
        check_record(data)
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["steps"] = [s if isinstance(s, Step) else _step(s) for s in data.get("steps", [])]
        return cls(**kwargs)


def _step(data: dict[str, Any]) -> Step:
    known = {f.name for f in fields(Step)}
    return Step(**{k: v for k, v in data.items() if k in known})


# ----------------------------------------------------------------------------- validation

def check_record(data: Any) -> None:
    """Check an episode record's field types, so bad data fails on read, naming the field.

    Raises:
        DataError: not an object, a missing ``env_id``/``index``, or a field whose value
            has the wrong type (``"steps": "nope"``, ``"env_id": null``, a bool as index, a
            number past 2**63, a step without ``action``).
    """
    if not isinstance(data, dict):
        raise DataError(
            f"not an episode: a JSON {value_type(data)}, expected an object with 'env_id' and 'index'"
        )
    for name in ("env_id", "index"):
        if name not in data:
            raise DataError(f"not an episode: no {name!r} field (needs 'env_id' and 'index')")
    check_fields(Episode, data, "")
    for i, message in enumerate(data.get("messages", [])):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise DataError(
                f"field 'messages[{i}]' must be an object with a 'role' string, got {shown(message)}"
            )
    for i, step in enumerate(data.get("steps", [])):
        if not isinstance(step, dict):
            raise DataError(f"field 'steps[{i}]' must be an object, got {shown(step)}")
        for name in ("action", "observation"):
            if name not in step:
                raise DataError(
                    f"field 'steps[{i}]' has no {name!r} (a step needs 'action' and 'observation')"
                )
        check_fields(Step, step, f"steps[{i}].")


class EpisodeWriter:
    """Appends episodes to a JSONL file, durably, one line each.

    The file must be new, empty or a callgym episode file (anything else is refused and left
    untouched), and only one writer may hold it at a time: a second process appending to
    the same file is refused instead of interleaving its lines.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "ep.jsonl")
    >>> with EpisodeWriter(path) as w:
    ...     w.write(Episode(env_id="callgym/GSM8K-v0", index=3))
    >>> [e.index for e in read_episodes(path)]
    [3]
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        check_episode_file(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = self.path.open("a", encoding="utf-8")
        try:
            _lock(self._file, self.path)
            _repair_tail(self.path)  # under the lock: the torn line is ours, not a live writer's
        except BaseException:
            self._file.close()
            raise

    def write(self, episode: Episode | dict[str, Any]) -> None:
        data = episode.to_dict() if isinstance(episode, Episode) else episode
        self._file.write(json_text.dumps(data, default=str) + "\n")  # any reply text, surrogates too
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> EpisodeWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# A first line longer than this is not an episode line callgym wrote (they are kilobytes).
_MAX_FIRST_LINE = 64 * 1024 * 1024


def check_episode_file(path: str | os.PathLike[str]) -> None:
    """Raise :class:`DataError` unless ``path`` is missing, empty or a callgym episode file.

    Reads only the first line (and the torn tail a killed run may leave), so it is cheap
    on large files; nothing is written.
    """
    path = Path(path)
    if not path.exists() or (path.is_file() and path.stat().st_size == 0):
        return
    if not path.is_file():
        raise DataError(f"{path} is not a regular file; pass --out a .jsonl file path")
    refusal = DataError(
        f"{path} holds something other than callgym episodes; it was left untouched: "
        "pass --out a new .jsonl path"
    )
    with path.open("rb") as f:
        first = f.readline(_MAX_FIRST_LINE)
    # One line without a newline may be a run killed during its first write.
    torn = not first.endswith(b"\n") and _is_torn_episode(first)
    if not (torn or _is_episode_line(first)):
        raise refusal


def _is_episode_line(line: bytes) -> bool:
    try:
        data = json.loads(line)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        return False
    return isinstance(data, dict) and "env_id" in data and "index" in data


def _is_torn_episode(tail: bytes) -> bool:
    """What a process killed mid-write leaves: the start of a JSON object, cut short."""
    return tail.startswith(b"{") and not _is_episode_line(tail)


def _lock(file: IO[str], path: Path) -> None:
    """Hold an exclusive lock on the open file until it is closed, so two runs never interleave."""
    from callgym.runs import lock_exclusively

    if not lock_exclusively(file):
        raise DataError(
            f"{path} is being written by another callgym run; wait for it or pass --out another file"
        )


def _repair_tail(path: Path) -> None:
    """Drop a half-written last line left by a killed process, so appends stay valid JSONL.

    A complete episode that only lacks its newline gets one; anything else that does not
    look like a cut episode is refused (the file is not ours to edit).
    """
    size = path.stat().st_size
    if size == 0:
        return
    with path.open("rb+") as f:
        start = _last_line_start(f, size)
        f.seek(start)
        tail = f.read()
        if tail.endswith(b"\n"):
            return
        if _is_episode_line(tail):
            f.write(b"\n")
        elif _is_torn_episode(tail):
            f.truncate(start)
        else:
            raise DataError(
                f"{path}: its last line is not a callgym episode; it was left untouched: fix or remove it"
            )


def _last_line_start(f: IO[bytes], size: int, chunk: int = 1 << 16) -> int:
    """Offset just after the last newline before the final byte (0 if none), reading backwards."""
    end = size - 1  # a newline as the very last byte ends the last line; it does not start one
    while end > 0:
        start = max(0, end - chunk)
        f.seek(start)
        found = f.read(end - start).rfind(b"\n")
        if found >= 0:
            return start + found + 1
        end = start
    return 0


def iter_episode_dicts(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Yield the checked records of an episodes file; a cut last line is skipped, others must parse.

    Raises:
        DataError: a missing, non-UTF-8 or malformed file; the message names ``file:line``
            and the field.
    """
    hint = "pass the JSONL written by `callgym rollout --out`"
    for lineno, line, complete in iter_lines(path, "episodes file", hint):
        where = f"{path}:{lineno}"
        try:
            data = parse_json(line, where)
        except DataError:
            if not complete:
                return  # the run was killed mid-write: that episode was never finished
            raise
        try:
            check_record(data)
        except DataError as e:
            raise DataError(f"{where}: {e}; fix or remove that line") from None
        yield data


def read_episodes(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[Episode]:
    """Read one or more episodes files."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    return [Episode.from_dict(d) for p in paths for d in iter_episode_dicts(p)]
