"""A deterministic stand-in for a model of a given skill, played through the real rollout
engine on the toy env, so leaderboard tests use real episodes and real transcripts."""

from __future__ import annotations

import hashlib
from typing import Any

from callgym.agents.backends.base import Reply
from callgym.agents.base import Turn
from callgym.agents.rollout import rollout
from callgym.episode import Episode
from tests.conftest import TOY_ENV


def _unit(*parts: object) -> float:
    """A stable pseudo-random number in [0, 1) from its parts (no global RNG state)."""
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class SkilledAgent:
    """Solves problem i when a hash of (name, i) falls under ``skill``; a ``sloppiness`` share of
    episodes starts with an invalid call, as small models do (a syntax error on odd problems,
    a call to an unknown function on even ones)."""

    def __init__(
        self, model: str, skill: float, sloppiness: float = 0.2, tokens: int = 12, agent: str = "student"
    ) -> None:
        self.model, self.skill, self.sloppiness, self.tokens, self.name = (
            model,
            skill,
            sloppiness,
            tokens,
            agent,
        )

    def act(self, turns: list[Turn]) -> list[Reply]:
        return [Reply(self._reply(t), tokens_in=200, tokens_out=self.tokens) for t in turns]

    def _reply(self, turn: Turn) -> str:
        index = turn.env.problem.index
        sloppy = _unit(self.model, index, "sloppy") < self.sloppiness
        step = turn.step - (1 if sloppy else 0)
        if sloppy and turn.step == 0:  # an invalid call (the env answers with an error) of two kinds
            return f"Sum(a={index}, b=)" if index % 2 else f"Add(a={index}, b=1)"
        if step == 0:
            return f"Sum(a={index}, b=1)"
        solves = _unit(self.model, index, turn.sample) < self.skill
        return f"Answer({index + 1 if solves else index + 2})"

    def describe(self) -> dict[str, Any]:
        return {
            "agent": self.name,
            "model": self.model,
            "backend": "scripted",
            "sampling": {"temperature": 0.0},
        }


def play(model: str, skill: float, n: int = 30, *, env_kwargs: dict[str, Any] | None = None,
         start: int = 0, samples: int = 1, **agent_kwargs: Any) -> list[Episode]:
    """Roll out ``n`` toy problems with a :class:`SkilledAgent`."""
    agent = SkilledAgent(model, skill, **agent_kwargs)
    result = rollout(
        TOY_ENV, env_kwargs or {}, agent, range(start, start + n), samples=samples, progress=False
    )
    return result.episodes
