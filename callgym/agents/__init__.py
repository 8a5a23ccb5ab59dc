"""Agents: teacher and student roles over any backend, and baselines (oracle, random, no-tool).

Every agent class builds itself from :class:`AgentOptions` (``from_options``), so
:func:`make_agent` treats callgym's agents and other packages' alike. Other packages add
agents through the entry-point group ``callgym.agents`` (name = agent name, value =
``"package.module:Class"``, a class with a ``from_options`` classmethod).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from callgym.agents.backends.base import Backend, Sampling
from callgym.registry import Registry


@dataclass(frozen=True)
class AgentOptions:
    """Everything an agent may be built from; each agent takes what it needs."""

    name: str
    model: str = "smollm2-135m"
    backend: str = "hf"
    sampling: Sampling = field(default_factory=Sampling)
    protocol: str = "text"
    bootstrap: tuple[str, ...] = ()
    seed: int = 0
    backend_kwargs: dict[str, Any] = field(default_factory=dict)

    def make_backend(self) -> Backend:
        """The model backend these options name (loads the model)."""
        from callgym.agents.backends import make_backend

        return make_backend(self.backend, self.model, **self.backend_kwargs)


AGENTS: Registry[Any] = Registry("agent", group="callgym.agents")  # + other packages' entry points
AGENTS.register("oracle", "callgym.agents.scripted:OracleAgent")
AGENTS.register("random", "callgym.agents.scripted:RandomAgent")
AGENTS.register("no-tool", "callgym.agents.lm:NoToolAgent")
AGENTS.register("student", "callgym.agents.lm:LMAgent")
AGENTS.register("teacher", "callgym.agents.lm:LMAgent")


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
    """Build agent ``name`` (callgym's or a plugin's); model agents load their backend."""
    options = AgentOptions(name, model or "smollm2-135m", backend, sampling or Sampling(), protocol,
                           tuple(bootstrap), seed, dict(backend_kwargs or {}))
    return AGENTS.get(name).from_options(options)
