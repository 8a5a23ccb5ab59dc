"""One small registry pattern for envs, backends, agents and models.

Entries are registered by name with either an object or a lazy ``"module:attr"``
reference, so heavy dependencies (torch, vllm) load only when an entry is used.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

from callgym.errors import UnknownNameError

T = TypeVar("T")


def load_reference(reference: str) -> Any:
    """Import ``"package.module:attr"`` and return the attribute."""
    module_name, _, attr = reference.partition(":")
    if not attr:
        raise ValueError(f"reference {reference!r} must look like 'package.module:attr'")
    return getattr(importlib.import_module(module_name), attr)


def did_you_mean(name: str, choices: list[str]) -> str:
    """Return a " Did you mean ...?" hint for the closest known names, or ""."""
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.5)
    if not close:
        lowered = {c.lower(): c for c in choices}
        close = [lowered[c] for c in difflib.get_close_matches(name.lower(), list(lowered), n=3)]
    return f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


class Registry(Generic[T]):
    """Maps names to objects; refuses collisions and suggests near names.

    >>> backends = Registry("backend")
    >>> backends.register("json", "json:dumps")
    >>> backends.get("json")([1])
    '[1]'
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T | str] = {}

    def register(self, name: str, entry: T | str) -> None:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = entry

    def get(self, name: str) -> T:
        if name not in self._entries:
            known = ", ".join(sorted(self._entries)) or "none"
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}.{did_you_mean(name, list(self._entries))}"
                f" Known: {known}."
            )
        entry = self._entries[name]
        if isinstance(entry, str):
            entry = load_reference(entry)
            self._entries[name] = entry
        return entry

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
