"""Parsers and handlers of the commands that build on the whole pipeline."""

from __future__ import annotations

from typing import Any


def add_parsers(sub: Any) -> None:
    """Add bench, compare, leaderboard, pairs, train and pipeline to the ``callgym`` parser."""
