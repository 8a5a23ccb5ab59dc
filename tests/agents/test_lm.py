"""LMAgent hands each request the functions its env offers; the backend stops on those only."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from callgym.agents.backends.base import Reply, Sampling
from callgym.agents.backends.stopping import finish_text, names_per_chat, offered_names
from callgym.agents.base import Turn
from callgym.agents.lm import LMAgent, NoToolAgent
from tests.toy_env import ToyEnv

CHATTY = "Sum(a=1, b=2) and then I will call Answer(3)"


class ScriptedModel:
    """A deterministic backend: every reply is the same text, cut where a real backend cuts it."""

    name = model = "scripted"

    def __init__(self, text: str = CHATTY) -> None:
        self.text = text
        self.names: list[frozenset[str]] = []
        self.ready: list[tuple[Hashable, Reply]] = []

    def generate(self, chats: list[Any], sampling: Sampling, tools: Any = None, seed_offsets: Any = None,
                 call_names: Any = None) -> list[Reply]:
        names = names_per_chat(chats, tools, call_names)
        self.names += names
        return [Reply(finish_text(self.text, n)[0]) for n in names]

    def submit(self, key: Hashable, chat: Any, sampling: Sampling, tools: Any = None, seed_offset: int = 0,
               call_names: Any = None) -> None:
        names = offered_names(tools, call_names)
        self.names.append(names)
        self.ready.append((key, Reply(finish_text(self.text, names)[0])))

    def poll(self) -> list[tuple[Hashable, Reply]]:
        ready, self.ready = self.ready, []
        return ready

    def cancel(self) -> None:
        self.ready.clear()

    def close(self) -> None:
        pass


class LegacyModel:
    """A third-party backend written before per-turn seeds and call names."""

    name = model = "legacy"

    def generate(self, chats: list[Any], sampling: Sampling, tools: Any = None) -> list[Reply]:
        return [Reply(CHATTY) for _ in chats]

    def close(self) -> None:
        pass


class MultiCallEnv(ToyEnv):
    """A reply may hold several calls (as BFCL's do): cutting after the first would drop the rest."""

    max_calls_per_reply = 4


def turn(env: ToyEnv | None = None) -> Turn:
    env = env or ToyEnv()
    _, info = env.reset(options={"index": 1})
    return Turn(env, info["messages"], info["tools"], step=0, index=1)


def test_the_text_protocol_stops_on_the_env_tools_not_on_names_read_from_the_prompt() -> None:
    model = ScriptedModel()
    for protocol in ("text", "native"):
        (reply,) = LMAgent(model, protocol=protocol).act([turn()])
        assert reply.text == "Sum(a=1, b=2)"
    assert model.names == [{"Sum", "Answer"}] * 2
    (reply,) = LMAgent(ScriptedModel("Answer(3) then Other(1)")).act([turn()])
    assert reply.text == "Answer(3)"


def test_streaming_requests_carry_the_names_too() -> None:
    model = ScriptedModel()
    agent = LMAgent(model)
    agent.submit("k", turn())
    ((key, reply),) = agent.poll()
    assert (key, reply.text, model.names) == ("k", "Sum(a=1, b=2)", [{"Sum", "Answer"}])


def test_no_names_when_nothing_should_cut_the_reply() -> None:
    model = ScriptedModel()
    (several,) = LMAgent(model).act([turn(MultiCallEnv())])
    assert several.text == CHATTY  # both calls reach the env
    NoToolAgent(model).act([turn()])  # prose: f(3) in an explanation is no call
    assert model.names == [frozenset(), frozenset()]


def test_a_backend_without_call_names_still_plays() -> None:
    (reply,) = LMAgent(LegacyModel()).act([turn()])
    assert reply.text == CHATTY
