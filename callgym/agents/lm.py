"""Language-model agents: teacher and student roles, and the no-tool baseline.

Teacher and student differ only in role (the student is the model the trainer updates);
both play an env through any backend, with one of two prompt protocols:

* ``text`` (microchain style): the env's system prompt lists each function's signature,
  description and example call; the model replies with one call per message.
* ``native``: the tool schemas go to the chat template's ``tools=`` and the model answers
  with its own tool-call format (a JSON object the call parser reads).
"""

from __future__ import annotations

import inspect
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from callgym.agents.backends.base import Backend, Reply, Sampling
from callgym.agents.base import Turn
from callgym.errors import ConfigError

if TYPE_CHECKING:
    from callgym.agents import AgentOptions

PROTOCOLS = ("text", "native")
NO_TOOL_SYSTEM = "Answer the question. Think briefly, then end with 'The answer is X.'"


def _parameters(method: Any, *names: str) -> set[str]:
    """Which of ``names`` a backend method accepts."""
    return set(names) & set(inspect.signature(method).parameters)


def _check_protocol(protocol: str) -> None:
    if protocol not in PROTOCOLS:
        raise ConfigError(f"protocol={protocol!r}; use one of {', '.join(PROTOCOLS)}")


class LMAgent:
    """A model playing an env through a backend.

    Args:
        backend: any :class:`~callgym.agents.backends.base.Backend`.
        sampling: decoding settings.
        role: "student", "teacher" or any label recorded in the episodes.
        protocol: "text" or "native" (see the module docstring).
        bootstrap: calls executed before the model's first reply, as if it had made them
            (microchain's bootstrap, e.g. ``Reasoning("I need to reason step by step")``).
    """

    def __init__(
        self,
        backend: Backend,
        sampling: Sampling | None = None,
        role: str = "student",
        protocol: str = "text",
        bootstrap: tuple[str, ...] = (),
    ) -> None:
        _check_protocol(protocol)
        self.backend = backend
        self.sampling = sampling or Sampling()
        self.name = role
        self.protocol = protocol
        self.bootstrap = tuple(bootstrap)
        self._waiting: dict[Hashable, Turn] = {}
        # Backends written before per-turn seeds and call names (third-party ones) are called as before.
        self._generate_takes = _parameters(backend.generate, "seed_offsets", "call_names")
        submit = getattr(backend, "submit", None)
        self._submit_takes = _parameters(submit, "call_names") if callable(submit) else set()

    @classmethod
    def from_options(cls, options: AgentOptions) -> LMAgent:
        """The agent ``options.name`` names (its role), over the backend the options name."""
        _check_protocol(options.protocol)  # before the model loads
        return cls(options.make_backend(), options.sampling, role=options.name, protocol=options.protocol,
                   bootstrap=options.bootstrap)

    def act(self, turns: list[Turn]) -> list[Reply]:
        tools = self._tools(turns[0]) if turns else None
        chats = [self._chat(t) for t in turns]
        per_turn = {
            "seed_offsets": [t.seed_offset for t in turns],
            "call_names": [self._call_names(t) for t in turns],
        }
        replies = self.backend.generate(chats, self.sampling, tools,
                                        **{k: v for k, v in per_turn.items() if k in self._generate_takes})
        for turn, reply in zip(turns, replies):
            self._finish(turn, reply)
        return replies

    # Streaming (backends with submit/poll, e.g. vllm): the rollout engine sends each
    # episode's next turn as soon as its previous reply is in, instead of in rounds.

    @property
    def streams(self) -> bool:
        return callable(getattr(self.backend, "submit", None))

    def submit(self, key: Hashable, turn: Turn, seed_offset: int = 0) -> None:
        self._waiting[key] = turn
        names = {"call_names": self._call_names(turn)} if "call_names" in self._submit_takes else {}
        self.backend.submit(key, self._chat(turn), self.sampling, self._tools(turn), seed_offset, **names)

    def poll(self) -> list[tuple[Hashable, Reply]]:
        done = self.backend.poll()
        for key, reply in done:
            self._finish(self._waiting.pop(key), reply)
        return done

    def cancel(self) -> None:
        self._waiting.clear()
        self.backend.cancel()

    def _tools(self, turn: Turn) -> list[dict[str, Any]] | None:
        return turn.tools if self.protocol == "native" else None

    def _call_names(self, turn: Turn) -> frozenset[str]:
        """The functions whose complete call ends a reply: the env's own, when a reply holds
        one call. An env that takes several calls per reply (BFCL) gets none, so the backend
        does not cut a reply after its first call and drop the rest."""
        env = turn.env
        if env.toolset is None or env.max_calls_per_reply != 1:
            return frozenset()
        return frozenset(env.toolset.callable_names)

    def _finish(self, turn: Turn, reply: Reply) -> None:
        """Post-process a reply in place (the no-tool baseline turns prose into a call)."""

    def _chat(self, turn: Turn) -> list[dict[str, Any]]:
        if self.protocol == "text":
            return turn.messages
        return [{"role": "system", "content": turn.env.native_system_prompt()}, *turn.messages[1:]]

    def describe(self) -> dict[str, Any]:
        return {
            "agent": self.name,
            "model": self.backend.model,
            "backend": self.backend.name,
            "sampling": self.sampling.to_dict(),
            "protocol": self.protocol,
        }


class NoToolAgent(LMAgent):
    """Baseline: the model answers in prose without functions; its final answer is
    extracted (the env's ``answer_from_text``) and submitted as the one call."""

    def __init__(self, backend: Backend, sampling: Sampling | None = None, **_: Any) -> None:
        super().__init__(backend, sampling, role="no-tool")

    @classmethod
    def from_options(cls, options: AgentOptions) -> NoToolAgent:
        return cls(options.make_backend(), options.sampling)

    def _tools(self, turn: Turn) -> None:
        return None

    def _call_names(self, turn: Turn) -> frozenset[str]:
        return frozenset()  # prose: never cut at something like f(3)

    def _chat(self, turn: Turn) -> list[dict[str, Any]]:
        return [{"role": "system", "content": NO_TOOL_SYSTEM}, turn.messages[1]]

    def _finish(self, turn: Turn, reply: Reply) -> None:
        answer = turn.env.answer_from_text(reply.text)
        turn.scratch["prose"] = reply.text
        reply.text = f"{turn.env.answer_tool}({answer!r})"
