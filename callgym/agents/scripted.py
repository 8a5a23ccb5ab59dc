"""Baselines that need no model: the oracle (gold chains) and random valid calls."""

from __future__ import annotations

import random
import string
from typing import TYPE_CHECKING, Any

from callgym.agents.backends.base import Reply
from callgym.agents.base import Turn
from callgym.tools import Number, Parameter, Tool

if TYPE_CHECKING:
    from callgym.agents import AgentOptions


class OracleAgent:
    """Replays each problem's gold chain of calls: the ceiling every env must reach.

    >>> import callgym
    >>> from callgym.agents.rollout import rollout
    >>> result = rollout("callgym/GSM8K-v0", {}, OracleAgent(), indices=[0, 1], progress=False)
    >>> [e.correct for e in result.episodes]
    [True, True]
    """

    name = "oracle"
    uses_model = False  # model and sampling settings cannot change its episodes
    bootstrap: tuple[str, ...] = ()  # calls the rollout plays before the gold chain

    @classmethod
    def from_options(cls, options: AgentOptions) -> OracleAgent:
        agent = cls()
        agent.bootstrap = options.bootstrap  # played first, as for model agents
        return agent

    def act(self, turns: list[Turn]) -> list[Reply]:
        return [Reply(self._next_call(t)) for t in turns]

    def _next_call(self, turn: Turn) -> str:
        # Count its own replies, not env steps: bootstrap calls come before the gold chain.
        step = turn.scratch["oracle_step"] = turn.scratch.get("oracle_step", -1) + 1
        problem = turn.env.problem
        calls = problem.gold_calls if problem is not None else ()
        return calls[step] if step < len(calls) else f"{turn.env.answer_tool}({problem.answer!r})"

    def describe(self) -> dict[str, Any]:
        return {"agent": self.name, "model": "oracle", "backend": "scripted"}


class RandomAgent:
    """Random well-formed calls with random literal arguments; answers at a random step.

    Args:
        answer_prob: chance of calling the answer tool at each step (in a conversation env,
            of ending the user turn with a reply without a call).
        seed: with the turn's problem, sample and step, seeds each reply, so a run is
            reproducible and a resumed run replies exactly as an uninterrupted one.
    """

    name = "random"
    uses_model = False
    bootstrap: tuple[str, ...] = ()

    def __init__(self, answer_prob: float = 0.25, seed: int = 0) -> None:
        self.answer_prob = answer_prob
        self.seed = seed

    @classmethod
    def from_options(cls, options: AgentOptions) -> RandomAgent:
        agent = cls(seed=options.seed)
        agent.bootstrap = options.bootstrap
        return agent

    def act(self, turns: list[Turn]) -> list[Reply]:
        return [
            Reply(self._random_call(t, random.Random(f"{self.seed}/{t.index}/{t.sample}/{t.step}")))
            for t in turns
        ]

    def _random_call(self, turn: Turn, rng: random.Random) -> str:
        if turn.env.answer_tool is None and rng.random() < self.answer_prob:
            return "Done."  # a conversation env: a reply without a call ends the user turn
        tools = turn.env.toolset.tools
        answer = tools.get(turn.env.answer_tool)
        others = [t for name, t in tools.items() if name != turn.env.answer_tool]
        if answer is not None and (not others or rng.random() < self.answer_prob):
            choices = getattr(turn.env, "answer_choices", None)
            if choices:
                return f"{answer.name}({rng.choice(choices)!r})"
            return _call_text(answer, rng)
        return _call_text(rng.choice(others), rng)

    def describe(self) -> dict[str, Any]:
        return {"agent": self.name, "model": "random", "backend": "scripted"}


def _call_text(tool: Tool, rng: random.Random) -> str:
    args = ", ".join(f"{p.name}={_literal(p, rng)!r}" for p in tool.parameters if p.required)
    return f"{tool.name}({args})"


def _literal(param: Parameter, rng: random.Random) -> Any:
    if param.annotation in (Number, int, float):
        return rng.randint(0, 100)
    if param.annotation is bool:
        return rng.random() < 0.5
    return "".join(rng.choices(string.ascii_lowercase, k=6))
