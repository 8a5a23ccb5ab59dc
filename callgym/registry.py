"""One small registry pattern for envs, backends, agents and models.

Entries are registered by name with either an object or a lazy ``"module:attr"``
reference, so heavy dependencies (torch, vllm) load only when an entry is used. A registry
may also ``discover`` entries from other packages (entry points): once, the first time it
is asked for a name it does not hold or for the list of its names.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from callgym.errors import UnknownNameError, UsageError

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

    def __init__(
        self, kind: str, discover: Callable[[], None] | None = None, group: str | None = None
    ) -> None:
        """
        Args:
            kind: what the entries are ("env", "agent"), for messages.
            discover: loads other packages' entries, once, when first needed.
            group: an entry-point group whose entries register by name (``name = "pkg.mod:Class"``);
                shorthand for the ``discover`` that does so.
        """
        self.kind = kind
        self._entries: dict[str, T | str] = {}
        self._discover = discover
        if group is not None:
            from callgym.plugins import register_named_plugins

            self._discover = lambda: register_named_plugins(group, self)

    def discover(self) -> None:
        """Load the plugins of this registry (once; later calls do nothing)."""
        discover, self._discover = self._discover, None
        if discover is not None:
            discover()

    def register(self, name: str, entry: T | str) -> None:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = entry

    def holds(self, name: str) -> bool:
        """Whether ``name`` is registered already, without discovering plugins."""
        return name in self._entries

    def get(self, name: str) -> T:
        if name not in self:
            raise UnknownNameError(self.unknown_message(name))
        entry = self._entries[name]
        if isinstance(entry, str):
            try:
                entry = load_reference(entry)
            except (ImportError, AttributeError) as e:
                raise UsageError(
                    f"{self.kind} {name!r}: cannot load {entry} ({type(e).__name__}: {e})"
                ) from e
            self._entries[name] = entry
        return entry

    def unknown_message(self, name: str) -> str:
        """"unknown env 'x'. Did you mean ...? Known: ...", plus any plugin that failed to load."""
        from callgym.plugins import FAILURES

        known = ", ".join(self.names()) or "none"
        message = f"unknown {self.kind} {name!r}.{did_you_mean(name, self.names())} Known: {known}."
        if FAILURES:
            message += " Plugins that failed to load: " + "; ".join(f"{k}: {v}" for k, v in FAILURES.items())
        return message

    def names(self) -> list[str]:
        self.discover()
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        if name not in self._entries:
            self.discover()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
