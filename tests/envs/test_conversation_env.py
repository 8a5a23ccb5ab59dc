"""ToolEnv's conversation shape (several user turns, several calls per reply, turns that end
with a reply without a call), on a tiny counter env written for this test."""

from __future__ import annotations

from callgym.envs.base import Problem, ToolEnv
from callgym.tools import Toolset, tool


class CounterEnv(ToolEnv):
    """Turn t asks to add t + 1 to a counter; a turn passes when the counter is right."""

    env_id = "callgym-test/Counter-v0"
    answer_tool = None
    max_calls_per_reply = 4

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.counter = 0

    def num_problems(self) -> int:
        return 3

    def load_problem(self, index: int) -> Problem:
        turns = ("Add 1.", "Add 2.", "Add 3.")
        gold = ("[Add(n=1)]", "Done.", "Add(n=1) Add(n=1)", "Done.", "[Add(n=3)]", "Done.")
        return Problem(index, turns[0], 3, gold, follow_ups=turns[1:])

    def make_toolset(self, problem: Problem) -> Toolset:
        self.counter = 0

        @tool
        def Add(n: int) -> int:
            """Add n to the counter.

            Example: Add(n=1)
            """
            self.counter += n
            return self.counter

        return Toolset([Add])

    def check_turn(self, turn: int) -> bool:
        return self.counter == [1, 3, 6][turn]

    def score(self, answer: object, problem: Problem) -> float:
        return float(answer == problem.answer)


def play(env: CounterEnv, replies: list[str]) -> list[tuple]:
    env.reset(seed=0, options={"index": 0})
    return [env.step(r) for r in replies]


def test_gold_conversation_passes_every_turn():
    env = CounterEnv()
    steps = play(env, list(env.load_problem(0).gold_calls))
    obs, reward, terminated, truncated, info = steps[-1]
    assert terminated and not truncated and reward == 1.0 and info["correct"] and info["answer"] == 3
    assert [s[0] for s in steps[:4]] == ["1", "Add 2.", "Add(n=1) -> 2\nAdd(n=1) -> 3", "Add 3."]
    assert steps[2][4]["call"] == "[Add(n=1), Add(n=1)]" and steps[3][4]["turn"] == 2


def test_a_failed_turn_ends_the_episode_with_the_turns_passed():
    env = CounterEnv()
    obs, reward, terminated, truncated, info = play(env, ["Add(n=1)", "Done.", "Add(n=5)", "ok"])[-1]
    assert terminated and reward == 0.0 and info["answer"] == 1 and not info["correct"]


def test_bad_calls_are_error_observations_and_keep_the_turn():
    env = CounterEnv()
    obs, reward, terminated, truncated, info = play(env, ["Add(n=", "Add(n='x', m=2)"])[-1]
    assert obs.startswith("Error:") and not terminated and info["turn"] == 0 and info["invalid_calls"] == 2


def test_step_limit_is_per_turn_and_the_last_turn_is_still_judged():
    env = CounterEnv(max_steps=2)
    replies = ["Add(n=1)", "", "Add(n=2)", "", "Add(n=2)", "Add(n=1)"]
    obs, reward, terminated, truncated, info = play(env, replies)[-1]
    assert truncated and info["correct"] and info["answer"] == 3
    obs, reward, terminated, truncated, info = play(env, ["Add(n=1)", "Add(n=0)"])[-1]
    assert truncated and not info["correct"] and info["answer"] == 0
