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
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["steps"] = [s if isinstance(s, Step) else Step(**s) for s in data.get("steps", [])]
        return cls(**kwargs)


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
    """Yield the JSON objects of an episodes file; a cut last line is skipped, others must parse."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such episodes file; pass the JSONL written by `callgym rollout --out`")
    with path.open(encoding="utf-8") as f:
        lines = f.readlines()
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as e:
            if lineno == len(lines) and not line.endswith("\n"):
                return  # the run was killed mid-write: that episode was never finished
            raise DataError(f"{path}:{lineno}: not valid JSON ({e.msg}); remove or fix that line") from e
        if not isinstance(data, dict) or "env_id" not in data or "index" not in data:
            raise DataError(f"{path}:{lineno}: not an episode (needs 'env_id' and 'index')")
        yield data


def read_episodes(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[Episode]:
    """Read one or more episodes files."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    return [Episode.from_dict(d) for p in paths for d in iter_episode_dicts(p)]
