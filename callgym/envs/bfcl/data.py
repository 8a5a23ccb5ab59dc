"""BFCL's multi-turn entries, read from the ``bfcl-eval`` wheel.

>>> entry = load_entries("base")[0]
>>> entry.id, entry.involved_classes, len(entry.turns) == len(entry.ground_truth)
('multi_turn_base_0', ('TwitterAPI', 'GorillaFileSystem'), True)
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from callgym.calls import Call, parse_call
from callgym.errors import DataError

CATEGORIES = ("base", "miss_func", "miss_param", "long_context")
INSTALL_HINT = "install it with: pip install --no-deps bfcl-eval==2026.3.23"


@dataclass(frozen=True)
class Entry:
    """One BFCL multi-turn conversation.

    ``turns`` holds each turn's user text ("" for a turn that only announces held-out
    functions); ``missed_functions`` maps such a turn to the names it makes available.
    """

    id: str
    category: str
    turns: tuple[str, ...]
    initial_config: dict[str, Any]
    involved_classes: tuple[str, ...]
    ground_truth: tuple[tuple[str, ...], ...]
    missed_functions: dict[int, tuple[str, ...]] = field(default_factory=dict)

    @property
    def long_context(self) -> bool:
        """BFCL loads the backends' long-context scenario for this category."""
        return "long_context" in self.category

    @functools.cached_property
    def ground_truth_calls(self) -> tuple[tuple[Call, ...], ...]:
        """The ground truth parsed by callgym's parser (literals only, never evaluated)."""
        return tuple(tuple(parse_call(text) for text in turn) for turn in self.ground_truth)


def wheel_root() -> Any:
    """The installed ``bfcl_eval`` package folder."""
    try:
        return resources.files("bfcl_eval")
    except ModuleNotFoundError as e:
        raise DataError(f"the bfcl-eval wheel is not installed; {INSTALL_HINT}") from e


@functools.lru_cache(maxsize=None)
def load_entries(category: str) -> tuple[Entry, ...]:
    """Every entry of a multi-turn category, in the file's order."""
    if category not in CATEGORIES:
        raise DataError(f"BFCL category {category!r} is not wrapped; use one of {', '.join(CATEGORIES)}")
    data = wheel_root() / "data"
    questions = _read_jsonl(data / f"BFCL_v4_multi_turn_{category}.json")
    answers = {
        row["id"]: row["ground_truth"]
        for row in _read_jsonl(data / "possible_answer" / f"BFCL_v4_multi_turn_{category}.json")
    }
    return tuple(_entry(row, answers[row["id"]], category) for row in questions)


def _entry(row: dict[str, Any], ground_truth: list[list[str]], category: str) -> Entry:
    turns = tuple("\n\n".join(m["content"] for m in messages) for messages in row["question"])
    missed = {int(turn): tuple(names) for turn, names in row.get("missed_function", {}).items()}
    return Entry(
        row["id"],
        category,
        turns,
        row["initial_config"],
        tuple(row["involved_classes"]),
        tuple(tuple(turn) for turn in ground_truth),
        missed,
    )


@functools.lru_cache(maxsize=None)
def function_docs(class_name: str) -> tuple[dict[str, Any], ...]:
    """BFCL's documentation of one backend class's functions (its ``multi_turn_func_doc``)."""
    from bfcl_eval.constants.executable_backend_config import MULTI_TURN_FUNC_DOC_FILE_MAPPING

    path = wheel_root() / "data" / "multi_turn_func_doc" / MULTI_TURN_FUNC_DOC_FILE_MAPPING[class_name]
    return tuple(_read_jsonl(path))


def _read_jsonl(path: Any) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise DataError(f"{path}: cannot read BFCL data ({e}); {INSTALL_HINT}") from e
    return [json.loads(line) for line in text.splitlines() if line.strip()]
