"""ToolEnv: a gymnasium environment whose actions are function calls.

The action is the model's reply text; the observation is the text the model reads next
(the task at reset, a function's result or an error after a step, the next user message
when a turn ends). ``info`` carries the full chat ``messages``, the ``tools`` schemas,
``index``, ``difficulty``, ``turn`` and, once the episode ends, ``correct``, ``answer`` and
``gold``. Reward is 1.0 for a correct episode, else 0.0.

Two shapes of episode share this one loop:

* **Answer envs** (FOL, GSM8K): one user turn, one call per reply; calling the answer tool
  terminates and :meth:`ToolEnv.score` judges the answer.
* **Conversation envs** (``answer_tool = None``, e.g. BFCL multi-turn): the problem holds
  several user turns (``Problem.follow_ups``); a reply may hold several calls
  (``max_calls_per_reply``); a reply that holds no call ends the turn, :meth:`ToolEnv.check_turn`
  judges it, and the next user message becomes the observation. The episode's answer is the
  number of turns that passed; it stops at the first turn that fails (nothing later can
  change the verdict).

``max_steps`` limits the replies of one user turn (for answer envs: of the episode); too many
steps or too many invalid replies truncate. Subclasses say where problems come from and how
answers and turns score; everything about calls, tools, messages and limits lives here once.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import Any, ClassVar

import gymnasium as gym
from gymnasium import spaces

from callgym.calls import MAX_REPLY_CHARS, Call, iter_calls
from callgym.error_types import ErrorType
from callgym.errors import ConfigError, ModelError
from callgym.tools import Toolset, format_result

MAX_OBSERVATION_CHARS = 64_000

PROTOCOL = """\
You solve the task by calling functions, one call per reply. Reply with the call only, \
for example {example}. The result of each call is sent back to you. When you know the \
final answer, call {answer_tool}(...).

The functions:

{help}"""

NATIVE_SYSTEM = (
    "Solve the task by calling the provided functions, one call per reply. "
    "Call {answer}(...) with the final answer."
)


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
    """One task: what the model reads, the gold answer and the oracle's chain of replies.

    ``follow_ups`` are the user messages of later turns (conversation envs); ``gold_calls``
    then holds every turn's replies, each turn closed by a reply without a call.
    """

    index: int
    prompt: str
    answer: Any
    gold_calls: tuple[str, ...] = ()
    difficulty: Any = None
    meta: dict[str, Any] = field(default_factory=dict)
    follow_ups: tuple[str, ...] = ()

    @property
    def num_turns(self) -> int:
        return 1 + len(self.follow_ups)


@dataclass(frozen=True)
class ReplyOutcome:
    """What one reply did: the text sent back, and how it bears on the episode."""

    observation: str
    calls: tuple[Call, ...] = ()
    answered: bool = False
    answer: Any = None
    ends_turn: bool = False


class ToolEnv(gym.Env[str, str]):
    """Base class of callgym's environments; see the module docstring for the contract.

    Subclasses implement :meth:`num_problems`, :meth:`load_problem`, :meth:`make_toolset`
    and :meth:`score`, and set :attr:`instructions`; conversation envs
    also set ``answer_tool = None`` and implement :meth:`check_turn`. Their id is the one they
    are registered under (:func:`callgym.envs.register`); :attr:`env_id` reads it back.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"], "render_fps": 1}
    instructions: ClassVar[str] = ""
    answer_tool: ClassVar[str | None] = "Answer"
    max_calls_per_reply: ClassVar[int] = 1

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
        self.steps = self.invalid_calls = self.turn = self.turn_steps = self.turns_passed = 0
        self.last_calls: tuple[Call, ...] = ()
        self.last_error_type: ErrorType | None = None  # why the last reply (or a call in it) was invalid
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
        """Pure scoring: 1.0 for a correct answer, else 0.0 (or documented partial credit).
        Conversation envs get the number of turns that passed as ``answer``."""
        raise NotImplementedError

    def check_turn(self, turn: int) -> bool:
        """Conversation envs: whether user turn ``turn`` (0-based), just ended, passed."""
        return True

    def start_turn(self, turn: int) -> str:
        """The user message that opens turn ``turn`` >= 1 (override to change the tools too)."""
        assert self.problem is not None
        return self.problem.follow_ups[turn - 1]

    def answer_from_text(self, text: str) -> str:
        """The final answer in free text (for the no-tool baseline): the last number."""
        numbers = re.findall(r"-?\$?\d[\d,]*(?:\.\d+)?", text)
        return numbers[-1].replace("$", "").replace(",", "") if numbers else ""

    # ------------------------------------------------------------------ gymnasium API

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        self.problem = self.load_problem(self._choose_index(options or {}))
        self.toolset = self.make_toolset(self.problem)
        self._messages = [
            {"role": "system", "content": self.system_prompt()},
            {"role": "user", "content": self.problem.prompt},
        ]
        self.steps = self.invalid_calls = self.turn = self.turn_steps = self.turns_passed = 0
        self.last_calls = ()
        self.last_error_type = None
        self._done = False
        return self.problem.prompt, self._info()

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if self._done or self.problem is None or self.toolset is None:
            raise RuntimeError("the episode is over: call reset() before step()")
        self.steps += 1
        self.turn_steps += 1
        outcome = self._execute(action)
        observation, answer = outcome.observation, outcome.answer
        terminated = judged = outcome.answered
        truncated = False
        self._messages.append({"role": "assistant", "content": action})
        if outcome.ends_turn:
            observation, terminated = self._end_turn()
            answer, judged = self.turns_passed, terminated
        elif not terminated and (self.turn_steps >= self.max_steps or self.invalid_calls >= self.max_invalid):
            truncated = True
            answer = self._judge_truncated_turn()
            judged = answer is not None
            observation += f"\nThe episode is over: {self._truncation_reason()}."
        if len(observation) > MAX_OBSERVATION_CHARS:  # several long results in one reply
            observation = _clip(observation)
        self._messages.append({"role": "user", "content": observation})
        self._done = terminated or truncated
        correct = judged and self.score(answer, self.problem) >= 1.0
        info = self._info()
        if self._done:
            info.update(correct=correct, answer=answer, gold=self.problem.answer)
        return observation, float(correct), terminated, truncated, info

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        return "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in self._messages)

    # ------------------------------------------------------------------ prompts

    def system_prompt(self) -> str:
        assert self.toolset is not None  # set in reset() before this is called
        toolset = self.toolset
        protocol = PROTOCOL.format(
            example=toolset.example, answer_tool=self.answer_tool, help=toolset.help_text()
        )
        return f"{self.instructions}\n\n{protocol}" if self.instructions else protocol

    def native_system_prompt(self) -> str:
        """The system message when the tools go to the chat template's ``tools=`` instead."""
        system = NATIVE_SYSTEM.format(answer=self.answer_tool)
        return f"{self.instructions}\n\n{system}" if self.instructions else system

    # ------------------------------------------------------------------ helpers

    def _choose_index(self, options: dict[str, Any]) -> int:
        total = self.num_problems()
        if "index" in options:
            index = options["index"]
            if not isinstance(index, int) or index < 0 or (total is not None and index >= total):
                raise ConfigError(
                    f"options['index']={index!r} is out of range; use 0..{(total or 2**31) - 1}"
                )
            return index
        return int(self.np_random.integers(total if total else 2**31))

    def parse_reply(self, action: str) -> list[Call]:
        """The calls of one reply, in order; [] means the reply holds none (which ends the
        turn of a conversation env). Answer envs take the first call and refuse a reply without one."""
        assert self.toolset is not None
        if self.max_calls_per_reply == 1:
            return [self.toolset.parse(action)]
        calls = list(iter_calls(action, self.toolset.callable_names, self.toolset.example))
        if len(calls) > self.max_calls_per_reply:
            raise ModelError(
                f"Your reply holds {len(calls)} calls; the limit is {self.max_calls_per_reply} per reply.",
                ErrorType.TOO_LONG,
            )
        return calls

    def _execute(self, action: Any) -> ReplyOutcome:
        """Run the reply's calls in order; a call that fails is reported and counted invalid."""
        assert self.toolset is not None
        self.last_error_type = None
        try:
            if not isinstance(action, str):
                raise ModelError(f"The action must be text, got {type(action).__name__}.", ErrorType.NO_CALL)
            calls = self.parse_reply(action)
        except ModelError as e:
            self.invalid_calls += 1
            self.last_calls = ()
            self.last_error_type = e.error_type
            return ReplyOutcome(f"Error: {e}")
        if not calls:
            self.last_calls = ()
            return ReplyOutcome("", ends_turn=True)
        results, ran = [], []
        for call in calls:
            try:
                result = self.toolset.execute(call)
            except ModelError as e:
                self.invalid_calls += 1
                self.last_error_type = self.last_error_type or self._error_type(e, call)
                results.append(f"Error: {e}")
                continue
            ran.append(call)
            if call.name == self.answer_tool:
                self.last_calls = tuple(ran)
                recorded = "Your answer has been recorded."
                return ReplyOutcome(recorded, self.last_calls, answered=True, answer=result)
            results.append(format_result(result))
        self.last_calls = tuple(ran)
        if len(calls) == 1:
            return ReplyOutcome(results[0], tuple(ran))
        return ReplyOutcome("\n".join(f"{c} -> {r}" for c, r in zip(calls, results)), tuple(ran))

    def _error_type(self, error: ModelError, call: Call) -> ErrorType:
        """The env's answer check: a value the answer tool cannot read is an answer_format
        error (``Answer(value="many")``), whatever the coercion that caught it."""
        if call.name == self.answer_tool and error.error_type is ErrorType.WRONG_TYPE:
            return ErrorType.ANSWER_FORMAT
        return error.error_type

    def _end_turn(self) -> tuple[str, bool]:
        """Judge the turn that just ended; open the next one unless the episode is decided."""
        assert self.problem is not None
        passed = self.check_turn(self.turn)
        self.turns_passed += passed
        if not passed or self.turn + 1 >= self.problem.num_turns:
            return "The conversation is over.", True
        self.turn += 1
        self.turn_steps = 0
        return self.start_turn(self.turn), False

    def _judge_truncated_turn(self) -> int | None:
        """A conversation cut short in its last turn is still judged on its calls (BFCL judges
        a force-quit last turn); an earlier cut, or an answer env without an answer, fails."""
        assert self.problem is not None
        if self.answer_tool is not None:
            return None
        last = self.turn + 1 >= self.problem.num_turns
        return self.turns_passed + (last and self.check_turn(self.turn))

    def _truncation_reason(self) -> str:
        if self.invalid_calls >= self.max_invalid:
            return f"{self.invalid_calls} invalid calls (limit {self.max_invalid})"
        if self.answer_tool is None:
            return f"{self.turn_steps} steps in one turn (limit {self.max_steps})"
        return f"no answer after {self.steps} steps (limit {self.max_steps})"

    def _info(self) -> dict[str, Any]:
        assert self.problem is not None and self.toolset is not None
        calls = self.last_calls
        return {
            "messages": list(self._messages),
            "tools": self.toolset.schemas(),
            "index": self.problem.index,
            "difficulty": self.problem.difficulty,
            "step": self.steps,
            "turn": self.turn,
            "invalid_calls": self.invalid_calls,
            "call": _calls_text(calls),
            "error_type": self.last_error_type.value if self.last_error_type else None,
        }


def _clip(observation: str) -> str:
    """Several long results in one reply can outgrow the observation space: cut, and say so."""
    keep = MAX_OBSERVATION_CHARS - 60
    return observation[:keep] + f"... [{len(observation) - keep:,} more characters cut]"


def _calls_text(calls: tuple[Call, ...]) -> str | None:
    """``f(a=1)`` for one call, ``[f(a=1), g(b=2)]`` for several (BFCL's list form), None for none."""
    if not calls:
        return None
    return str(calls[0]) if len(calls) == 1 else "[" + ", ".join(str(c) for c in calls) + "]"
