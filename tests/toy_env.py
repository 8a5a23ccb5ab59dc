"""A tiny arithmetic env for engine tests: problem i asks for i + 1 (no data files)."""

from __future__ import annotations

from fractions import Fraction

from callgym.envs.base import Problem, ToolEnv
from callgym.tools import Number, Toolset, tool


@tool
def Sum(a: Number, b: Number) -> Number:
    """Add two numbers.

    Example: Sum(a=2, b=3)
    """
    return a + b


@tool
def Answer(value: Number) -> Number:
    """Give the final answer.

    Example: Answer(5)
    """
    return value


class ToyEnv(ToolEnv):
    """Problem i: what is i + 1? Gold chain: Sum(i, 1), then Answer(i + 1)."""

    instructions = "Add the numbers."

    def __init__(self, size: int = 100, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.size = size
        self._tools = Toolset([Sum, Answer])

    def num_problems(self) -> int:
        return self.size

    def load_problem(self, index: int) -> Problem:
        gold = (f"Sum(a={index}, b=1)", f"Answer({index + 1})")
        return Problem(index, f"What is {index} + 1?", Fraction(index + 1), gold, difficulty=index % 3)

    def make_toolset(self, problem: Problem) -> Toolset:
        return self._tools

    def score(self, answer: object, problem: Problem) -> float:
        return float(answer == problem.answer)
