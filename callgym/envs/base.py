"""ToolEnv: a gymnasium environment whose actions are function calls.

The action is the model's reply text; the observation is the text the model reads next
(the task at reset, a function's result or an error after a step). ``info`` carries the
full chat ``messages``, the ``tools`` schemas, ``index``, ``difficulty`` and, once the
episode ends, ``correct``, ``answer`` and ``gold``. Reward is 1.0 for a correct final
answer, else 0.0. Calling the answer tool terminates; too many steps or too many invalid
calls truncate.

Subclasses say where problems come from and how answers score; everything about calls,
tools, messages and limits lives here once.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import Any, ClassVar

import gymnasium as gym
from gymnasium import spaces

from callgym.calls import MAX_REPLY_CHARS, Call
from callgym.errors import ConfigError, ModelError
from callgym.tools import Toolset, format_result

MAX_OBSERVATION_CHARS = 64_000

PROTOCOL = """\
You solve the task by calling functions, one call per reply. Reply with the call only, \
for example {example}. The result of each call is sent back to you. When you know the \
final answer, call {answer_tool}(...).

The functions:

{help}"""


class UnicodeText(spaces.Text):
    """A Text space that holds any string up to ``max_length`` (gymnasium's Text checks a
    fixed charset, which would refuse ``∀`` in a formula). Samples are printable ASCII."""

    def __init__(self, max_length: int, *, seed: int | None = None) -> None:
        super().__init__(max_length, min_length=0, charset=string.printable, seed=seed)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and len(x) <= self.max_length

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnicodeText) and other.max_length == self.max_length


@dataclass(frozen=True)
class Problem:
    """One task: what the model reads, the gold answer and the oracle's chain of replies."""

    index: int
    prompt: str
    answer: Any
    gold_calls: tuple[str, ...] = ()
    difficulty: Any = None
    meta: dict[str, Any] = field(default_factory=dict)


class ToolEnv(gym.Env[str, str]):
    """Base class of callgym's environments; see the module docstring for the contract.

    Subclasses implement :meth:`num_problems`, :meth:`load_problem`, :meth:`make_toolset`
    and :meth:`score`, and set :attr:`instructions`. Their id is the one they are registered
    under (:func:`callgym.envs.register`); :attr:`env_id` reads it back.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"], "render_fps": 1}
    instructions: ClassVar[str] = ""
    answer_tool: ClassVar[str] = "Answer"

    def __init__(self, *, max_steps: int = 20, max_invalid: int = 5, render_mode: str | None = None) -> None:
        if max_steps < 1:
            raise ConfigError(f"max_steps={max_steps} must be at least 1")
        if max_invalid < 1:
            raise ConfigError(f"max_invalid={max_invalid} must be at least 1")
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ConfigError(f"render_mode={render_mode!r}; use None or 'ansi'")
        self.max_steps = max_steps
        self.max_invalid = max_invalid
        self.render_mode = render_mode
        self.action_space = UnicodeText(MAX_REPLY_CHARS)
        self.observation_space = UnicodeText(MAX_OBSERVATION_CHARS)
        self.problem: Problem | None = None
        self.toolset: Toolset | None = None
        self._messages: list[dict[str, Any]] = []
        self.steps = self.invalid_calls = 0
        self.last_call: Call | None = None
        self._done = True

    @property
    def env_id(self) -> str | None:
        """The id this env was made under (None when built without ``make``)."""
        return self.spec.id if self.spec is not None else None

    # ------------------------------------------------------------------ subclass hooks

    def num_problems(self) -> int | None:
        """How many problems the source holds (None: unbounded generator)."""
        raise NotImplementedError

    def load_problem(self, index: int) -> Problem:
        """Build problem ``index``, deterministically."""
        raise NotImplementedError

    def make_toolset(self, problem: Problem) -> Toolset:
        """The tools for one episode (fresh per episode when tools keep state)."""
        raise NotImplementedError

    def score(self, answer: Any, problem: Problem) -> float:
        """Pure scoring: 1.0 for a correct answer, else 0.0 (or documented partial credit)."""
        raise NotImplementedError

    def answer_from_text(self, text: str) -> str:
        """The final answer in free text (for the no-tool baseline): the last number."""
        numbers = re.findall(r"-?\$?\d[\d,]*(?:\.\d+)?", text)
        return numbers[-1].replace("$", "").replace(",", "") if numbers else ""

    # ------------------------------------------------------------------ gymnasium API

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        self.problem = self.load_problem(self._choose_index(options or {}))
        self.toolset = self.make_toolset(self.problem)
        self._messages = [
            {"role": "system", "content": self.system_prompt()},
            {"role": "user", "content": self.problem.prompt},
        ]
        self.steps = 0
        self.invalid_calls = 0
        self.last_call = None
        self._done = False
        return self.problem.prompt, self._info()

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if self._done or self.problem is None or self.toolset is None:
            raise RuntimeError("the episode is over: call reset() before step()")
        self.steps += 1
        observation, answer, answered = self._execute(action)
        reward = self.score(answer, self.problem) if answered else 0.0
        terminated = answered
        truncated = not answered and (self.steps >= self.max_steps or self.invalid_calls >= self.max_invalid)
        if truncated:
            observation += f"\nThe episode is over: {self._truncation_reason()}."
        self._messages.append({"role": "assistant", "content": action})
        self._messages.append({"role": "user", "content": observation})
        self._done = terminated or truncated
        info = self._info()
        if self._done:
            info.update(correct=reward >= 1.0, answer=answer, gold=self.problem.answer)
        return observation, float(reward >= 1.0), terminated, truncated, info

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        return "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in self._messages)

    # ------------------------------------------------------------------ helpers

    def system_prompt(self) -> str:
        assert self.toolset is not None  # set in reset() before this is called
        example = next(iter(self.toolset.tools.values())).example
        protocol = PROTOCOL.format(example=example, answer_tool=self.answer_tool, help=self.toolset.help_text())
        return f"{self.instructions}\n\n{protocol}" if self.instructions else protocol

    def _choose_index(self, options: dict[str, Any]) -> int:
        total = self.num_problems()
        if "index" in options:
            index = options["index"]
            if not isinstance(index, int) or index < 0 or (total is not None and index >= total):
                raise ConfigError(f"options['index']={index!r} is out of range; use 0..{(total or 2**31) - 1}")
            return index
        return int(self.np_random.integers(total if total else 2**31))

    def _execute(self, action: Any) -> tuple[str, Any, bool]:
        """Run the reply's call: (observation, answer value, whether it was the answer)."""
        assert self.toolset is not None
        try:
            if not isinstance(action, str):
                raise ModelError(f"The action must be text, got {type(action).__name__}.")
            call = self.toolset.parse(action)
            result = self.toolset.execute(call)
        except ModelError as e:
            self.invalid_calls += 1
            self.last_call = None
            return f"Error: {e}", None, False
        self.last_call = call
        if call.name == self.answer_tool:
            return "Your answer has been recorded.", result, True
        return format_result(result), None, False

    def _truncation_reason(self) -> str:
        if self.invalid_calls >= self.max_invalid:
            return f"{self.invalid_calls} invalid calls (limit {self.max_invalid})"
        return f"no answer after {self.steps} steps (limit {self.max_steps})"

    def _info(self) -> dict[str, Any]:
        assert self.problem is not None and self.toolset is not None
        return {
            "messages": list(self._messages),
            "tools": self.toolset.schemas(),
            "index": self.problem.index,
            "difficulty": self.problem.difficulty,
            "step": self.steps,
            "invalid_calls": self.invalid_calls,
            "call": str(self.last_call) if self.last_call else None,
        }
