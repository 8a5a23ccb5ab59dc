"""BFCL multi-turn envs: one BFCL entry's conversation per episode.

Each user turn is sent in order; within a turn the model makes calls (one or several per
reply, BFCL's ``[f(a=1), g(b=2)]`` or JSON tool calls) until it replies without a call,
which ends the turn. BFCL's step limit applies per turn: it force-quits once a turn has
more than 20 steps with calls, which fails the entry unless that was the last turn.
After each turn BFCL's state and response checks judge it (:mod:`.checker`); the episode
stops at the first turn that fails. ``info["answer"]`` is the number of turns that passed,
``info["gold"]`` the number of turns, and reward 1.0 means every turn passed: BFCL's verdict.

>>> import gymnasium as gym, callgym
>>> env = gym.make("callgym/BFCL-MultiTurnBase-v0")
>>> obs, info = env.reset(options={"index": 1})
>>> obs[:41]
'I am alex. Check if the current directory'
>>> env.step("[ls(a=True)]")[0]
'{"current_directory_content": ["workspace"]}'
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from callgym.calls import MAX_CANDIDATES
from callgym.envs.base import Problem, ToolEnv
from callgym.envs.bfcl.backends import Scenario
from callgym.envs.bfcl.checker import TurnChecker
from callgym.envs.bfcl.data import Entry, function_docs, load_entries
from callgym.envs.bfcl.tools import BfclToolset

# What the oracle replies to end a turn: any reply without a call.
TURN_DONE = "Done."
ASK_FOR_DETAILS = "I cannot do this with the functions and details I have; please tell me what is missing."


def _bfcl_step_limit() -> int:
    from bfcl_eval.constants.default_prompts import MAXIMUM_STEP_LIMIT

    # BFCL quits when a turn's count of steps with calls *exceeds* the limit: the 21st runs.
    return MAXIMUM_STEP_LIMIT + 1


class BFCLMultiTurnEnv(ToolEnv):
    """One BFCL multi-turn category; the subclasses below name the four wrapped ones.

    Args:
        max_steps: replies per user turn (default BFCL's: 20 steps, force-quit on the 21st).
        max_invalid: unreadable replies per episode before it is truncated.
        render_mode: None or "ansi".
    """

    category: ClassVar[str] = "base"
    answer_tool = None
    max_calls_per_reply = MAX_CANDIDATES

    def __init__(
        self, *, max_steps: int | None = None, max_invalid: int = 5, render_mode: str | None = None
    ) -> None:
        super().__init__(
            max_steps=_bfcl_step_limit() if max_steps is None else max_steps,
            max_invalid=max_invalid,
            render_mode=render_mode,
        )
        self.entries = load_entries(self.category)
        self.checker: TurnChecker | None = None
        self.verdict: dict[str, Any] = {}

    @property
    def entry(self) -> Entry:
        assert self.problem is not None
        return self.entries[self.problem.index]

    # ------------------------------------------------------------------ ToolEnv hooks

    def num_problems(self) -> int:
        return len(self.entries)

    def load_problem(self, index: int) -> Problem:
        entry = self.entries[index]
        texts = tuple(self._turn_text(entry, t) for t in range(len(entry.turns)))
        gold: list[str] = []
        for calls in entry.ground_truth:
            gold += [f"[{', '.join(calls)}]", TURN_DONE] if calls else [ASK_FOR_DETAILS]
        meta = {"id": entry.id, "involved_classes": list(entry.involved_classes)}
        return Problem(
            index, texts[0], len(texts), tuple(gold), difficulty=len(texts), meta=meta, follow_ups=texts[1:]
        )

    def make_toolset(self, problem: Problem) -> BfclToolset:
        entry = self.entries[problem.index]
        scenario = Scenario(entry)
        self.checker = TurnChecker(entry, scenario)
        self.verdict = {}
        held_out = {name for names in entry.missed_functions.values() for name in names}
        docs = [d for c in entry.involved_classes for d in function_docs(c) if d["name"] not in held_out]
        return BfclToolset(docs, scenario)

    def start_turn(self, turn: int) -> str:
        assert isinstance(self.toolset, BfclToolset)
        self.toolset.add(_docs_named(self.entry, self.entry.missed_functions.get(turn, ())))
        return super().start_turn(turn)

    def check_turn(self, turn: int) -> bool:
        assert self.checker is not None
        self.verdict = self.checker.check(turn)
        return bool(self.verdict["valid"])

    def score(self, answer: Any, problem: Problem) -> float:
        return float(answer == problem.answer)

    # ------------------------------------------------------------------ prompts and info

    def system_prompt(self) -> str:
        from bfcl_eval.constants.default_prompts import _DEFAULT_SYSTEM_PROMPT

        assert self.toolset is not None
        return _DEFAULT_SYSTEM_PROMPT.format(functions=self.toolset.help_text())

    def native_system_prompt(self) -> str:
        from bfcl_eval.constants.default_prompts import PROMPT_STYLE_TEMPLATES

        style = PROMPT_STYLE_TEMPLATES["classic"]
        return f"{style['persona']} {style['task']}\n\n{style['multiturn_behavior']}"

    def _turn_text(self, entry: Entry, turn: int) -> str:
        """The user message of a turn; a turn that only adds held-out functions says so, as BFCL's does."""
        names = entry.missed_functions.get(turn)
        if not names:
            return entry.turns[turn]
        from bfcl_eval.constants.default_prompts import DEFAULT_USER_PROMPT_FOR_ADDITIONAL_FUNCTION_PROMPTING

        return DEFAULT_USER_PROMPT_FOR_ADDITIONAL_FUNCTION_PROMPTING.format(
            functions=json.dumps(_docs_named(entry, names), indent=4)
        )

    def _info(self) -> dict[str, Any]:
        info = super()._info()
        info["bfcl_id"] = self.entry.id
        if self.verdict and not self.verdict["valid"]:
            info["bfcl_error_type"] = self.verdict["error_type"]
        return info


def _docs_named(entry: Entry, names: tuple[str, ...]) -> list[dict[str, Any]]:
    docs = {d["name"]: d for c in entry.involved_classes for d in function_docs(c)}
    return [docs[n] for n in names]


class BFCLMultiTurnBaseEnv(BFCLMultiTurnEnv):
    """BFCL ``multi_turn_base``: every turn can be done with the offered functions."""

    env_id = "callgym/BFCL-MultiTurnBase-v0"
    category = "base"


class BFCLMultiTurnMissFuncEnv(BFCLMultiTurnEnv):
    """BFCL ``multi_turn_miss_func``: a function is held out until a later turn announces it;
    before that the model should not manage the task."""

    env_id = "callgym/BFCL-MultiTurnMissFunc-v0"
    category = "miss_func"


class BFCLMultiTurnMissParamEnv(BFCLMultiTurnEnv):
    """BFCL ``multi_turn_miss_param``: a turn lacks a needed detail, given in the next turn."""

    env_id = "callgym/BFCL-MultiTurnMissParam-v0"
    category = "miss_param"


class BFCLMultiTurnLongContextEnv(BFCLMultiTurnEnv):
    """BFCL ``multi_turn_long_context``: the backends hold long, distracting state."""

    env_id = "callgym/BFCL-MultiTurnLongContext-v0"
    category = "long_context"
