"""The backend protocol: a batch of chats in, one reply per chat out, with token counts."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from callgym.errors import ConfigError

Messages = list[dict[str, Any]]


@dataclass
class Sampling:
    """Sampling settings shared by every backend (vLLM's names).

    Args:
        temperature: 0 means greedy decoding.
        top_p: nucleus sampling mass.
        max_tokens: generated tokens per reply; a reply cut here has finish_reason "length".
        seed: per-request seed for sampled decoding (None: backend default).
        stop: extra stop strings.
    """

    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 192
    seed: int | None = None
    stop: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise ConfigError(f"temperature={self.temperature} must be >= 0 (0 is greedy)")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"top_p={self.top_p} must be in (0, 1]")
        if self.max_tokens < 1:
            raise ConfigError(f"max_tokens={self.max_tokens} must be at least 1")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Reply:
    """One generated reply."""

    text: str
    tokens_in: int = 0
    tokens_out: int = 0
    finish_reason: str = "stop"  # "stop", "length" or "error"


@runtime_checkable
class Backend(Protocol):
    """What every backend provides. ``tools`` are OpenAI tool schemas, passed to the chat
    template for native tool calling (None: the text protocol, tools described in the prompt).
    ``call_names`` are, per chat, the functions whose complete call ends its reply (the
    agent passes its env's toolset; see :mod:`callgym.agents.backends.stopping`)."""

    name: str
    model: str

    def generate(self, chats: list[Messages], sampling: Sampling, tools: list[dict[str, Any]] | None = None,
                 seed_offsets: list[int] | None = None,
                 call_names: list[Collection[str]] | None = None) -> list[Reply]:
        """One reply per chat. A backend that seeds sampled decoding seeds chat *i* with
        ``sampling.seed + seed_offsets[i]`` (None: its position), so a reply never depends on
        which other chats share its batch. (Backends that take no ``seed_offsets`` or
        ``call_names`` still work.)"""
        ...

    def close(self) -> None: ...
