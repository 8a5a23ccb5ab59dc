"""Single-turn play: the model writes its whole chain of calls in one reply; the env replays it.

Single-turn harnesses such as lm-evaluation-harness ask a model once and score the text it
returns. :func:`single_turn_messages` turns an env's multi-turn prompt into a single-turn
one (write every call now, one per line, ending with the answer call), and
:func:`replay_chain` steps the calls of the reply through the env in order, as if the model
had sent them one per turn, stopping at the answer call or at the env's limits
(``max_steps``, ``max_invalid``). The model never sees the results, so it has to foresee
them: this measures planning with functions, not reacting to them.

:func:`replay_replies` steps a whole recorded episode's replies through a fresh env (any
env, conversations included): how lm-eval's agent tasks score the episodes the ``callgym``
model played, by the env's own verdict.

>>> from callgym.envs import make
>>> env = make("callgym/FOL-v0", split="test")
>>> _ = env.reset(options={"index": 3})
>>> gold = "\\n".join(env.unwrapped.problem.gold_calls)
>>> result = replay_chain(env, 3, gold)
>>> result.correct, result.valid_call_rate
(True, 1.0)
>>> replay_chain(env, 3, "I think it is true.").reward
0.0
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym

from callgym.calls import MAX_REPLY_CHARS, parse_calls
from callgym.envs.base import PROTOCOL, ToolEnv
from callgym.errors import CallParseError

SINGLE_TURN_PROTOCOL = (
    "You solve the task by writing the whole chain of function calls in this one reply, one "
    "call per line and nothing else, in the order they should run, for example {example}. "
    "You will not see the results of the calls, so work out what each call returns and use "
    "it in the calls that follow. The last line must be {answer_tool}(...) with the final "
    "answer."
)
CUE = "Write the whole chain of calls now, one call per line, ending with {answer_tool}(...)."

# A line that opens like a call ("Name(", perhaps after a bullet or "1.") but names no tool
# of the env is a call to an unknown function: an invalid call, not prose.
_CALL_LIKE = re.compile(r"^\s*(?:[-*>•]\s*|\d+[.):]\s*)?`?[A-Za-z_][A-Za-z0-9_]*\s*\(")


@dataclass(frozen=True)
class ReplayResult:
    """How a single-turn chain of calls, or a recorded episode's replies, played out in the env.

    Attributes:
        reward: the env's reward at the end (1.0 for a correct episode, else 0.0).
        correct: the env's verdict: the answer call gave the correct answer, or every user
            turn of a conversation passed.
        calls: the call attempts found in the reply, or the replies given (those after the
            end are not run).
        valid_calls: the steps the env ran without an error.
        steps: the env steps taken (each attempt or reply run is one step).
    """

    reward: float
    correct: bool
    calls: int
    valid_calls: int
    steps: int

    @property
    def valid_call_rate(self) -> float:
        """Valid calls over the calls the env ran; 0.0 for a reply that made no call."""
        return self.valid_calls / self.steps if self.steps else 0.0


def replay_chain(env: gym.Env, index: int, reply: str) -> ReplayResult:
    """Reset ``env`` to problem ``index`` and step every call of ``reply`` through it, in order.

    Never raises for a bad reply: malformed calls, calls to unknown functions and prose are
    what the env would make of them (an invalid step, or nothing).

    Args:
        env: a callgym env (wrapped or not).
        index: the problem to play.
        reply: the model's whole reply.
    """
    env.reset(options={"index": index})
    return _play(env, chain_calls(reply, _tool_env(env).toolset.names))


def replay_replies(env: gym.Env, index: int, replies: Sequence[str]) -> ReplayResult:
    """Reset ``env`` to problem ``index`` and step ``replies`` through it, one reply per step,
    until the episode ends (later replies are not run). An episode that does not end within
    them is not correct: a conversation's later turns, or an answer, are missing.

    >>> from callgym.envs import make
    >>> env = make("callgym/BFCL-MultiTurnBase-v0")
    >>> _ = env.reset(options={"index": 1})
    >>> gold = env.unwrapped.problem.gold_calls
    >>> replay_replies(env, 1, gold).correct, replay_replies(env, 1, gold[:2]).correct
    (True, False)
    """
    env.reset(options={"index": index})
    return _play(env, replies)


def _play(env: gym.Env, replies: Sequence[str]) -> ReplayResult:
    reward, correct, steps, invalid = 0.0, False, 0, 0
    for reply in replies:
        _, reward, terminated, truncated, info = env.step(reply)
        steps, invalid = info["step"], info["invalid_calls"]
        if terminated or truncated:
            correct = bool(info.get("correct", False))
            break
    return ReplayResult(float(reward), correct, len(replies), steps - invalid, steps)


def chain_calls(reply: str, names: Collection[str]) -> list[str]:
    """The call attempts of a single-turn reply, in order, each as text the env can step.

    Lines are read one at a time, so one malformed call does not hide the calls around it.
    A line with well-formed calls gives each of them; a line with a malformed call to a
    known tool, or a call-shaped line naming an unknown function, is one attempt the env
    will reject with its usual message; other lines are prose and ignored. A reply whose
    calls span lines (pretty-printed JSON tool calls) is read whole when no line held one.
    """
    if not isinstance(reply, str):
        return []
    if len(reply) > MAX_REPLY_CHARS:
        return [reply]  # one invalid attempt: the env explains the length limit
    attempts = [a for line in reply.splitlines() for a in _line_attempts(line, names)]
    if attempts:
        return attempts
    try:
        return [str(call) for call in parse_calls(reply, names)]
    except CallParseError:
        return [reply]


def _line_attempts(line: str, names: Collection[str]) -> list[str]:
    try:
        calls = parse_calls(line, names)
    except CallParseError:
        return [line]
    if calls:
        # str(call) is the canonical Python spelling: JSON tool calls replay the same way.
        return [str(call) for call in calls]
    return [line] if _CALL_LIKE.match(line) else []


def single_turn_messages(env: gym.Env, index: int) -> list[dict[str, Any]]:
    """Reset ``env`` to problem ``index`` and return its opening messages, rewritten for
    single-turn play.

    The system prompt keeps the env's instructions and tool help text; its multi-turn
    protocol ("one call per reply, the result is sent back") becomes the single-turn one.
    The user message is the task followed by a short reminder of the format.
    """
    _, info = env.reset(options={"index": index})
    system, user = (m["content"] for m in info["messages"][:2])
    tool_env = _tool_env(env)
    example = next(iter(tool_env.toolset.tools.values())).example
    fields = {"example": example, "answer_tool": tool_env.answer_tool}
    multi_turn = PROTOCOL.split("\n\n", 1)[0].format(**fields)
    single_turn = SINGLE_TURN_PROTOCOL.format(**fields)
    if multi_turn in system:
        system = system.replace(multi_turn, single_turn)
    else:  # an env with its own protocol text: state the single-turn rule after it
        system = f"{system}\n\n{single_turn}"
    cue = CUE.format(**fields)
    return [{"role": "system", "content": system}, {"role": "user", "content": f"{user}\n\n{cue}"}]


def _tool_env(env: gym.Env) -> ToolEnv:
    tool_env = env.unwrapped
    if not isinstance(tool_env, ToolEnv) or tool_env.toolset is None:
        raise TypeError(f"expected a callgym ToolEnv after reset(), got {type(tool_env).__name__}")
    return tool_env
