"""Agents: teacher and student roles over any backend, and baselines (oracle, random, no-tool)."""

from __future__ import annotations

from typing import Any

from callgym.agents.backends.base import Sampling
from callgym.registry import Registry

AGENTS: Registry[Any] = Registry("agent")
AGENTS.register("oracle", "callgym.agents.scripted:OracleAgent")
AGENTS.register("random", "callgym.agents.scripted:RandomAgent")
AGENTS.register("no-tool", "callgym.agents.lm:NoToolAgent")
AGENTS.register("student", "callgym.agents.lm:LMAgent")
AGENTS.register("teacher", "callgym.agents.lm:LMAgent")

SCRIPTED = ("oracle", "random")


def make_agent(
    name: str,
    *,
    model: str | None = None,
    backend: str = "hf",
    sampling: Sampling | None = None,
    protocol: str = "text",
    bootstrap: tuple[str, ...] = (),
    seed: int = 0,
    backend_kwargs: dict[str, Any] | None = None,
) -> Any:
    """Build an agent by name; model agents get a backend built from ``backend``/``model``."""
    cls = AGENTS.get(name)
    if name in SCRIPTED:
        agent = cls(seed=seed) if name == "random" else cls()
        agent.bootstrap = tuple(bootstrap)  # played before the first reply, as for model agents
        return agent
    from callgym.agents.backends import make_backend

    engine = make_backend(backend, model or "smollm2-135m", **(backend_kwargs or {}))
    if name == "no-tool":
        return cls(engine, sampling)
    return cls(engine, sampling, role=name, protocol=protocol, bootstrap=bootstrap)
