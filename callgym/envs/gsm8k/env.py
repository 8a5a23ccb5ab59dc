"""``callgym/GSM8K-v0``: grade-school math word problems solved through function calls."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, ClassVar

from callgym.envs.base import Problem, ToolEnv
from callgym.envs.gsm8k import gold
from callgym.envs.gsm8k.data import SYMBOLIC, Item, open_source, parse_number
from callgym.envs.gsm8k.tools import DEFAULT_TOOLSET, toolset
from callgym.errors import ConfigError
from callgym.tools import Toolset

DEFAULT_SYMBOLIC_SIZE = 1000


class GSM8KEnv(ToolEnv):
    """Grade-school math: the model computes with function calls and calls ``Answer``.

    Args:
        data: where problems come from: ``"gsm_symbolic"`` (default; reasoning-gym's
            templates, offline and seeded), a GSM8K-format JSONL path, a directory holding
            ``{split}.jsonl``, ``"gsm8k"`` (the directory in ``$CALLGYM_GSM8K_DIR``, else
            the hub) or ``"openai/gsm8k"`` (the Hugging Face hub, online).
        split: which split a directory or the hub provides: ``"test"`` or ``"train"``.
        tools: ``"study"`` (Sum, Subtraction, Product, Division), ``"calculator"``
            (Calculator) or ``"all"`` (both); each adds ``Reasoning`` and ``Answer``.
        size: use only the first ``size`` problems (GSM-Symbolic: how many to generate,
            default 1000).
        data_seed: the GSM-Symbolic seed; problem ``i`` is rebuilt from ``data_seed + i``.
        max_steps: calls per episode before it is truncated.
        max_invalid: invalid calls per episode before it is truncated.
        render_mode: ``None`` or ``"ansi"``.

    ``info["difficulty"]`` is the number of calculation steps in the gold solution.
    Answers score 1.0 when numerically equal to the gold answer (``"$1,000.00"`` = 1000).

    >>> env = GSM8KEnv(tools="study", size=10)
    >>> obs, info = env.reset(seed=0, options={"index": 2})
    >>> info["index"], info["difficulty"], env.problem.gold_calls
    (2, 2, ('Product(a=2, b=52)', 'Answer(value=104)'))
    >>> obs, reward, terminated, truncated, info = env.step("Product(a=2, b=52)")
    >>> obs, reward, terminated
    ('104', 0.0, False)
    >>> env.step("Answer(value=104)")[1:3]
    (1.0, True)
    """

    instructions: ClassVar[str] = (
        "Solve the grade-school math problem. Do every calculation with a function call "
        "instead of in your head, then give the final number (without units) to Answer."
    )

    def __init__(
        self,
        data: str | os.PathLike[str] = SYMBOLIC,
        *,
        split: str = "test",
        tools: str = DEFAULT_TOOLSET,
        size: int | None = None,
        data_seed: int = 0,
        max_steps: int = 20,
        max_invalid: int = 5,
        render_mode: str | None = None,
    ) -> None:
        super().__init__(max_steps=max_steps, max_invalid=max_invalid, render_mode=render_mode)
        self.tools_name = tools
        self._toolset = toolset(tools)  # checks the name before any data is read
        self.items = self._open(data, split, size, data_seed)
        self.data, self.split, self.data_seed = data, split, data_seed

    @staticmethod
    def _open(data: Any, split: str, size: int | None, seed: int) -> Sequence[Item]:
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 1):
            raise ConfigError(f"size={size!r} must be a positive integer (or None for all problems)")
        if not isinstance(split, str) or not split:
            raise ConfigError(f"split={split!r}; use 'test' or 'train'")
        items = open_source(data, split, seed=seed, size=size or DEFAULT_SYMBOLIC_SIZE)
        return items[:size] if size is not None and size < len(items) else items

    # ------------------------------------------------------------------ ToolEnv hooks

    def num_problems(self) -> int:
        return len(self.items)

    def load_problem(self, index: int) -> Problem:
        item = self.items[index]
        steps = gold.solution_steps(item.solution)
        return Problem(
            index=index,
            prompt=item.question,
            answer=item.answer,
            gold_calls=gold.gold_calls(steps, item.answer, self.tools_name),
            difficulty=gold.difficulty(item.solution),
            meta={"source": item.source, "solution": item.solution},
        )

    def make_toolset(self, problem: Problem) -> Toolset:
        return self._toolset  # stateless tools: one shared toolset

    def score(self, answer: Any, problem: Problem) -> float:
        """1.0 when ``answer`` equals the gold answer as a number, else 0.0 (pure)."""
        return score_answer(answer, problem.answer)


def score_answer(answer: Any, gold_answer: Any) -> float:
    """Numeric equality: ``"$1,000.00"`` = ``1000``, ``18.0`` = ``"18"``; text that is not a
    number scores 0.0. Floats compare with a 1e-9 relative tolerance (binary noise such as
    ``0.1 + 0.2``); everything else compares exactly.
    """
    got, want = parse_number(answer), parse_number(gold_answer)
    if got is None or want is None:
        return 0.0
    if got == want:
        return 1.0
    if isinstance(answer, float):
        return float(abs(got - want) <= abs(want) * 1e-9)
    return 0.0
