"""What an agent sees and returns: a batch of turns in, one reply per turn out."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any, Protocol

from callgym.agents.backends.base import Reply
from callgym.envs.base import ToolEnv


@dataclass
class Turn:
    """One unfinished episode waiting for the agent's next reply."""

    env: ToolEnv  # the unwrapped env: scripted agents read its problem and tools
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    step: int
    sample: int = 0
    scratch: dict[str, Any] = field(default_factory=dict)  # per-episode agent state
    index: int = 0  # the problem's index

    @property
    def seed_offset(self) -> int:
        """Added to the sampling seed for this turn's reply: one seed per (problem, sample,
        step), so what an episode samples never depends on which other episodes share its
        batch, and a resumed run samples exactly what an uninterrupted one did."""
        return zlib.crc32(f"{self.index}/{self.sample}/{self.step}".encode())


class Agent(Protocol):
    """Anything that answers a batch of turns. ``describe()`` goes into every episode record.

    An agent may also stream (``LMAgent`` over vLLM does): ``streams`` is True and it has
    ``submit(key, turn, seed_offset)``, ``poll() -> [(key, reply)]`` and ``cancel()``; the
    rollout engine then sends each episode's next turn as soon as its reply is in.
    """

    name: str

    def act(self, turns: list[Turn]) -> list[Reply]: ...

    def describe(self) -> dict[str, Any]: ...
