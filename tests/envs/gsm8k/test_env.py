"""callgym/GSM8K-v0 against the env contract: check_env, determinism, scoring, hostile replies."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import callgym  # noqa: F401  (registers the ids)
from callgym.envs.base import Problem
from callgym.envs.gsm8k import GSM8KEnv, score_answer
from callgym.errors import ConfigError, DataError

GSM8K_DIR = os.environ.get("CALLGYM_GSM8K_DIR", "")
HAVE_GSM8K = os.path.isfile(os.path.join(GSM8K_DIR, "test.jsonl"))
needs_gsm8k = pytest.mark.skipif(not HAVE_GSM8K, reason="GSM8K files not present")

# Every data source that works offline, with each toolset somewhere.
SOURCES = [
    pytest.param({"size": 20}, id="gsm_symbolic-all"),
    pytest.param({"data": "gsm8k", "tools": "study"}, id="gsm8k-dir-study", marks=needs_gsm8k),
    pytest.param(
        {"data": os.path.join(GSM8K_DIR, "test.jsonl"), "tools": "calculator"},
        id="jsonl-calculator",
        marks=needs_gsm8k,
    ),
    pytest.param({"data": GSM8K_DIR, "split": "train", "size": 100}, id="dir-train", marks=needs_gsm8k),
]


@pytest.fixture(scope="module")
def env() -> GSM8KEnv:
    return GSM8KEnv(tools="all", size=20)


def episode(env: gym.Env, seed: int | None, index: int | None, replies: list[str]) -> list[object]:
    options = {"index": index} if index is not None else None
    trace: list[object] = [env.reset(seed=seed, options=options)[0]]
    for reply in replies:
        trace.append(env.step(reply)[:4])
    return trace


@pytest.mark.parametrize("kwargs", SOURCES)
def test_check_env_passes(kwargs: dict[str, object]) -> None:
    env = gym.make("callgym/GSM8K-v0", **kwargs)
    check_env(env.unwrapped, skip_render_check=False)


@pytest.mark.parametrize("kwargs", SOURCES)
def test_same_seed_and_index_same_episode(kwargs: dict[str, object]) -> None:
    replies = ["Sum(a=2, b=3)", "Calculator(expression=\"1/0\")", "nonsense", "Answer(value=5)"]
    first = episode(gym.make("callgym/GSM8K-v0", **kwargs), 3, 7, replies)
    second = episode(gym.make("callgym/GSM8K-v0", **kwargs), 3, 7, replies)
    assert first == second
    # Without an index, the seed picks the problem, reproducibly.
    assert episode(gym.make("callgym/GSM8K-v0", **kwargs), 11, None, []) == episode(
        gym.make("callgym/GSM8K-v0", **kwargs), 11, None, [])


@pytest.mark.parametrize("kwargs", SOURCES)
def test_gold_chain_scores_one(kwargs: dict[str, object]) -> None:
    env = gym.make("callgym/GSM8K-v0", **kwargs)
    for index in range(5):
        env.reset(options={"index": index})
        problem = env.unwrapped.problem
        for call in problem.gold_calls:
            _, reward, terminated, truncated, info = env.step(call)
        assert (reward, terminated, truncated) == (1.0, True, False)
        assert info["correct"] and info["gold"] == problem.answer
        assert info["index"] == index and info["difficulty"] == problem.difficulty


def test_info_and_prompt(env: GSM8KEnv) -> None:
    obs, info = env.reset(seed=0, options={"index": 2})
    assert obs == env.problem.prompt and info["messages"][1]["content"] == obs
    assert "Calculator(expression: str)" in info["messages"][0]["content"]
    assert {t["function"]["name"] for t in info["tools"]} == {
        "Sum", "Subtraction", "Product", "Division", "Calculator", "Reasoning", "Answer"}
    assert isinstance(info["difficulty"], int) and info["difficulty"] >= 1
    assert env.problem.meta["source"] == "gsm_symbolic(seed=0)[2]"


def test_tools_compute_and_answer_terminates(env: GSM8KEnv) -> None:
    env.reset(options={"index": 0})
    assert env.step("Division(a=7, b=2)")[0] == "3.5"
    assert env.step('Calculator(expression="(48 + 12) / 8")')[0] == "7.5"
    assert env.step('Reasoning(thought="Half of 48 is 24.")')[0] == "The reasoning has been recorded."
    obs, reward, terminated, truncated, info = env.step("Answer(value=-1)")
    assert (obs, reward, terminated, truncated) == ("Your answer has been recorded.", 0.0, True, False)
    assert info["correct"] is False and info["answer"] == -1


@pytest.mark.parametrize(
    ("answer", "gold", "score"),
    [
        ("$1,000.00", "1000", 1.0), (1000, "1000", 1.0), (Fraction(1000), "1000", 1.0),
        ("18.0", "18", 1.0), (18.0, "18", 1.0), ("18", "18.0", 1.0), ("60%", "60", 1.0),
        ("2.5", "5/2", 1.0), (0.1 + 0.2, "0.3", 1.0), ("0.30000000000000004", "0.3", 0.0),
        ("17", "18", 0.0), ("eighteen", "18", 0.0), (None, "18", 0.0), (True, "1", 0.0), ("", "0", 0.0),
    ],
)
def test_score_compares_numbers(answer: object, gold: str, score: float) -> None:
    assert score_answer(answer, gold) == score
    problem = Problem(index=0, prompt="", answer=gold)
    assert GSM8KEnv.score(None, answer, problem) == score  # type: ignore[arg-type]  # pure: no env state


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("__import__('os').system('touch {marker}')", "Error: "),
        ("Sum(a=open('{marker}', 'w'), b=1)", "Error: In Sum(...), argument 'a' is a nested call"),
        ("Sum(a=2, b=3", "Error: The call to Sum is missing its closing ')'"),
        ('Reasoning(thought="unclosed)', 'Error: The call to Reasoning has an unclosed " quote'),
        ("Sum(a=().__class__, b=1)", "Error: In Sum(...), argument 'a' uses attribute access"),
        ("Calculator(expression=\"__import__('os').system('touch {marker}')\")", "Error: __import__"),
        ('Calculator(expression="9**99999999")', "Error: 9**99999999 would have about"),
        ("Product(a=1e308, b=1e308)", "Error: Product gave a result it cannot return"),
        ("Division(a=1, b=0)", "Error: Division by zero"),
        ("Sum(a=2, a=3)", "Error: In Sum(...), argument 'a' is given twice"),
        ("Power(a=9, b=99999999)", "Error: No function call found"),
        ("x" * 1_000_000, "Error: Your reply is 1,000,000 characters long"),
        ("Sum(" + "[" * 50 + "]" * 50 + ")", "Error: The call to Sum nests brackets"),
        (
            'Reasoning(thought="' + "x" * 5000 + '")',
            "Error: Reasoning: argument 'thought' (str): the text is 5,000",
        ),
    ],
)
def test_hostile_replies_are_error_observations(
    env: GSM8KEnv, tmp_path: Path, reply: str, expected: str
) -> None:
    marker = tmp_path / "side-effect"
    env.reset(options={"index": 0})
    obs, reward, terminated, truncated, info = env.step(reply.replace("{marker}", str(marker)))
    assert obs.startswith(expected), obs
    assert (reward, terminated, info["invalid_calls"]) == (0.0, False, 1)
    assert not marker.exists()


def test_invalid_calls_and_step_limit_truncate() -> None:
    env = GSM8KEnv(size=3, max_steps=4, max_invalid=2)
    env.reset(options={"index": 0})
    assert env.step("junk")[3] is False
    obs, _, terminated, truncated, _ = env.step("more junk")
    assert (terminated, truncated) == (False, True) and "2 invalid calls" in obs
    env.reset(options={"index": 0})
    for _ in range(3):
        assert env.step("Sum(a=1, b=1)")[3] is False
    assert env.step("Sum(a=1, b=1)")[3] is True


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"tools": "calc"}, ConfigError, "tools='calc' is not a GSM8K toolset. Did you mean 'calculator'"),
        ({"size": 0}, ConfigError, "size=0 must be a positive integer"),
        ({"size": "10"}, ConfigError, "size='10' must be a positive integer"),
        ({"split": ""}, ConfigError, "split=''"),
        ({"data": "/no/such/file.jsonl"}, DataError, "/no/such/file.jsonl: no such GSM8K file"),
    ],
)
def test_bad_kwargs_are_clear_errors(kwargs: dict[str, object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        GSM8KEnv(**kwargs)  # type: ignore[arg-type]


@needs_gsm8k
def test_size_takes_the_first_problems_of_a_file() -> None:
    env = GSM8KEnv("gsm8k", split="train", size=10)
    assert env.num_problems() == 10
    env.reset(options={"index": 9})
    with pytest.raises(ConfigError, match="out of range"):
        env.reset(options={"index": 10})


@needs_gsm8k
def test_gsm8k_problem_zero() -> None:
    env = gym.make("callgym/GSM8K-v0", data="gsm8k", split="test", tools="study")
    obs, info = env.reset(options={"index": 0})
    assert obs.startswith("Janet’s ducks lay 16 eggs per day.") and info["difficulty"] == 2
    assert env.unwrapped.problem.gold_calls == (
        "Subtraction(a=16, b=3)", "Subtraction(a=13, b=4)", "Product(a=9, b=2)", "Answer(value=18)")
