"""check_env names each broken clause: envs that break one clause each, built on the toy env."""

from __future__ import annotations

import random
import time

import pytest

from callgym.envs import check_env
from callgym.envs.checker import STEP_SECONDS
from callgym.envs.base import Problem
from callgym.errors import ContractError
from tests.toy_env import ToyEnv


class Unseeded(ToyEnv):
    """Problem i changes from one reset to the next."""

    def load_problem(self, index: int) -> Problem:
        return Problem(
            index, f"What is {index} + 1? ({random.random()})", index + 1, (f"Answer({index + 1})",)
        )


class WrongGold(ToyEnv):
    """Problem 2's gold chain answers wrong."""

    def load_problem(self, index: int) -> Problem:
        problem = super().load_problem(index)
        return Problem(
            index, problem.prompt, problem.answer, ("Answer(0)",) if index == 2 else problem.gold_calls
        )


class Crashes(ToyEnv):
    """An empty reply crashes the env instead of becoming an observation."""

    def step(self, action):
        if action == "":
            raise IndexError("list index out of range")
        return super().step(action)


class Slow(ToyEnv):
    """A long reply takes seconds (an unbounded parse)."""

    def step(self, action):
        if len(action) > 100_000:
            time.sleep(STEP_SECONDS + 0.5)
        return super().step(action)


class NoInfo(ToyEnv):
    """info lacks the difficulty that the leaderboard groups by."""

    def _info(self):
        info = super()._info()
        del info["difficulty"]
        return info


def test_a_good_env_passes_as_instance_and_as_id():
    check_env(ToyEnv(size=5), n=5)
    check_env("callgym-test/Toy-v0", n=5, size=5)


@pytest.mark.parametrize(("env", "clause", "detail"), [
    (Unseeded(), "reset by seed and index", "gave different episodes"),
    (WrongGold(), "oracle chain", "problem 2: the gold chain scored 0.0"),
    (Crashes(), "hostile replies", "raised IndexError: list index out of range"),
    (Slow(), "hostile replies", f"took {STEP_SECONDS:.0f}."),
    (NoInfo(), "oracle chain", "info at reset lacks difficulty"),
], ids=lambda v: type(v).__name__ if not isinstance(v, str) else v[:12])
def test_each_broken_clause_is_named(env, clause, detail):
    with pytest.raises(ContractError) as caught:
        check_env(env, n=4)
    lines = str(caught.value).splitlines()
    assert lines[0].endswith("breaks the env contract:")
    assert any(line.startswith(f"- {clause}: ") and detail in line for line in lines), lines


def test_a_plain_gymnasium_env_is_told_what_to_subclass():
    with pytest.raises(ContractError, match="not a callgym ToolEnv .*subclass callgym.envs.base.ToolEnv"):
        check_env("CartPole-v1")
