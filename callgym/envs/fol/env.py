"""``callgym/FOL-v0``: decide whether a conclusion follows from natural-language premises.

The model may formalise each premise in first-order logic (``Premise``), ask the prover
whether a formula follows (``Prove``) and must finish with ``Answer("True" | "False" |
"Unknown")``. Problems come from the built-in generator (seeded, five difficulty levels,
balanced labels) or from a JSONL file with FOLIO's field names.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from callgym.envs.base import Problem, ToolEnv
from callgym.envs.fol.generator import FOLProblem, generate, load_folio_jsonl
from callgym.envs.fol.prover import LABELS
from callgym.envs.fol.tools import TOOLSETS, make_tools, normalize_label
from callgym.errors import ConfigError
from callgym.tools import Toolset

# Generated splits use disjoint seeds, so train and test never share a problem.
SPLIT_SEEDS = {"train": 0, "validation": 1, "test": 2}
GENERATED_SIZE = 100_000

INSTRUCTIONS = (
    "Decide whether the conclusion follows from the premises. Translate the premises into "
    "first-order logic with Premise, check the conclusion with Prove, then answer True (it "
    "follows), False (its negation follows) or Unknown (neither follows)."
)


class FOLEnv(ToolEnv):
    """First-order-logic reasoning through function calls.

    Args:
        split: "train", "validation" or "test" (generated problems use disjoint seeds).
        seed: offset added to the split's generator seed.
        difficulty: 1-5 for a fixed level; None mixes levels (problem i has level i % 5 + 1).
        data: a JSONL file with FOLIO's fields instead of generated problems.
        tools: "formal" (Premise, Prove, Reasoning, Answer) or "answer" (Reasoning, Answer).
        max_steps, max_invalid, render_mode: see :class:`~callgym.envs.base.ToolEnv`.

    >>> import gymnasium as gym, callgym
    >>> env = gym.make("callgym/FOL-v0", split="test")
    >>> obs, info = env.reset(options={"index": 3})
    >>> for call in env.unwrapped.problem.gold_calls:
    ...     obs, reward, terminated, truncated, info = env.step(call)
    >>> reward, terminated, info["correct"]
    (1.0, True, True)
    """

    instructions = INSTRUCTIONS
    answer_choices = LABELS

    def __init__(
        self,
        split: str = "train",
        seed: int = 0,
        difficulty: int | None = None,
        data: str | None = None,
        tools: str = "formal",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if split not in SPLIT_SEEDS:
            raise ConfigError(f"split={split!r}; use one of {', '.join(SPLIT_SEEDS)}")
        if difficulty is not None and difficulty not in range(1, 6):
            raise ConfigError(f"difficulty={difficulty!r}; use 1-5, or leave it out to mix levels")
        if tools not in TOOLSETS:
            raise ConfigError(f"tools={tools!r}; use one of {', '.join(TOOLSETS)}")
        self.split, self.seed, self.difficulty, self.tools = split, seed, difficulty, tools
        self._custom = load_folio_jsonl(data) if data else None

    def num_problems(self) -> int:
        return len(self._custom) if self._custom is not None else GENERATED_SIZE

    def load_problem(self, index: int) -> Problem:
        if self._custom is not None:
            fol = self._custom[index]
        else:
            level = self.difficulty or index % 5 + 1
            fol = _generated(index, SPLIT_SEEDS[self.split] * 1_000_003 + self.seed, level)
        return to_problem(fol, index, formal=self.tools == "formal")

    def make_toolset(self, problem: Problem) -> Toolset:
        return Toolset(make_tools(self.tools))

    def score(self, answer: Any, problem: Problem) -> float:
        return float(normalize_label(answer) == problem.answer)

    def answer_from_text(self, text: str) -> str:
        labels = re.findall(r"\b(true|false|unknown|uncertain)\b", text, flags=re.IGNORECASE)
        return normalize_label(labels[-1]) or "" if labels else ""


@lru_cache(maxsize=4096)
def _generated(index: int, seed: int, difficulty: int) -> FOLProblem:
    return generate(index, seed=seed, difficulty=difficulty)


def to_problem(fol: FOLProblem, index: int, formal: bool = True) -> Problem:
    """The env's view of a FOL problem: prompt, label and the gold chain of calls
    (the gold formalisation and a proof query when ``formal``, else just the answer)."""
    premises = "\n".join(f"{i}. {p}" for i, p in enumerate(fol.premises, 1))
    prompt = (
        f"Premises:\n{premises}\n\nConclusion: {fol.conclusion}\n\nIs the conclusion True, False or Unknown?"
    )
    gold: tuple[str, ...] = ()
    if formal:
        gold = tuple(f"Premise({json.dumps(f, ensure_ascii=False)})" for f in fol.premises_fol)
        gold += (f"Prove({json.dumps(fol.conclusion_fol, ensure_ascii=False)})",)
    gold += (f'Answer("{fol.label}")',)
    meta = {"premises_fol": list(fol.premises_fol), "conclusion_fol": fol.conclusion_fol}
    return Problem(index, prompt, fol.label, gold, fol.difficulty, meta)
