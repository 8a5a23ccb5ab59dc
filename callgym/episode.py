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

from callgym.errors import DataError
from callgym.field_types import check_fields, shown, value_type
from callgym.text_files import iter_lines, parse_json


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
    def key(self) -> tuple[str, str, int, int]:
        """Identifies one (env, config, problem, sample): what --resume skips."""
        return (self.env_id, json.dumps(self.env_kwargs, sort_keys=True), self.index, self.sample)

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
        raise DataError(f"not an episode: a JSON {value_type(data)}, expected an object with 'env_id' and 'index'")
    for name in ("env_id", "index"):
        if name not in data:
            raise DataError(f"not an episode: no {name!r} field (needs 'env_id' and 'index')")
    check_fields(Episode, data, "")
    for i, message in enumerate(data.get("messages", [])):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise DataError(f"field 'messages[{i}]' must be an object with a 'role' string, got {shown(message)}")
    for i, step in enumerate(data.get("steps", [])):
        if not isinstance(step, dict):
            raise DataError(f"field 'steps[{i}]' must be an object, got {shown(step)}")
        for name in ("action", "observation"):
            if name not in step:
                raise DataError(f"field 'steps[{i}]' has no {name!r} (a step needs 'action' and 'observation')")
        check_fields(Step, step, f"steps[{i}].")


class EpisodeWriter:
    """Appends episodes to a JSONL file, durably, one line each.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "ep.jsonl")
    >>> with EpisodeWriter(path) as w:
    ...     w.write(Episode(env_id="callgym/GSM8K-v0", index=3))
    >>> [e.index for e in read_episodes(path)]
    [3]
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _repair_tail(self.path)
        self._file: IO[str] = self.path.open("a", encoding="utf-8")

    def write(self, episode: Episode | dict[str, Any]) -> None:
        data = episode.to_dict() if isinstance(episode, Episode) else episode
        self._file.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> EpisodeWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _repair_tail(path: Path) -> None:
    """Drop a half-written last line left by a killed process, so appends stay valid JSONL."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb+") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) == b"\n":
            return
        f.seek(0)
        content = f.read()
        f.truncate(content.rfind(b"\n") + 1)


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
