"""Gold chains from worked solutions, and the oracle's replay over the full GSM8K test set."""

from __future__ import annotations

import os

import pytest

from callgym.envs.gsm8k import GSM8KEnv
from callgym.envs.gsm8k.data import load_jsonl
from callgym.envs.gsm8k.gold import Unspellable, audit, difficulty, gold_calls, solution_steps, study_calls
from callgym.envs.gsm8k.tools import toolset

GSM8K_TEST = os.path.join(os.environ.get("CALLGYM_GSM8K_DIR", ""), "test.jsonl")
needs_gsm8k = pytest.mark.skipif(not os.path.isfile(GSM8K_TEST), reason="GSM8K test.jsonl not present")

JANET = (
    "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\n"
    "She makes 9 * 2 = $<<9*2=18>>18 every day at the farmer’s market.\n#### 18"
)


def replay(env: GSM8KEnv, index: int) -> tuple[float, list[str]]:
    """Send problem ``index``'s gold calls in order: (reward, observations)."""
    env.reset(options={"index": index})
    observations, reward = [], 0.0
    for call in env.problem.gold_calls:
        observation, reward, terminated, truncated, _ = env.step(call)
        observations.append(observation)
        if terminated or truncated:
            break
    return reward, observations


def test_steps_come_from_annotations() -> None:
    steps = solution_steps(JANET)
    assert [(s.expression, s.result) for s in steps] == [("16-3-4", 9), ("9*2", 18)]
    assert all(s.annotated and s.stated == s.result for s in steps)
    assert difficulty(JANET) == 2


def test_gold_calls_for_each_toolset() -> None:
    steps = solution_steps(JANET)
    assert gold_calls(steps, "18", "study") == (
        "Subtraction(a=16, b=3)", "Subtraction(a=13, b=4)", "Product(a=9, b=2)", "Answer(value=18)")
    expected = ('Calculator(expression="16-3-4")', 'Calculator(expression="9*2")', "Answer(value=18)")
    assert gold_calls(steps, "18", "calculator") == expected
    assert gold_calls(steps, "18", "all") == expected


@pytest.mark.parametrize(
    ("expression", "calls"),
    [
        ("2+3*4", ["Product(a=3, b=4)", "Sum(a=2, b=12)"]),
        ("(2+3)*4", ["Sum(a=2, b=3)", "Product(a=5, b=4)"]),
        ("20*20/100", ["Product(a=20, b=20)", "Division(a=400, b=100)"]),
        ("10/3*3", ["Division(a=10, b=3)", "Product(a=3.3333333333, b=3)"]),  # what the env printed
        ("-(2+3)", ["Sum(a=2, b=3)", "Subtraction(a=0, b=5)"]),
        ("-2*.5", ["Product(a=-2, b=0.5)"]),
        ("3**3", ["Product(a=3, b=3)", "Product(a=9, b=3)"]),
        ("7", []),
    ],
)
def test_study_calls_follow_evaluation_order(expression: str, calls: list[str]) -> None:
    assert study_calls(expression) == calls


@pytest.mark.parametrize("expression", ["7//2", "7%2", "2**20", "2**0.5"])
def test_study_calls_refuse_what_four_functions_cannot_spell(expression: str) -> None:
    with pytest.raises(Unspellable):
        study_calls(expression)


def test_unspellable_steps_are_skipped_but_the_answer_stays() -> None:
    steps = solution_steps("He has 560//10=<<560//10=56>>56 boxes.\n#### 56")
    assert gold_calls(steps, "56", "study") == ("Answer(value=56)",)
    assert gold_calls(steps, "56", "calculator") == ('Calculator(expression="560//10")', "Answer(value=56)")


def test_plain_text_calculations_count_only_when_exact() -> None:
    solution = ("The boots cost 99 + 5 = $104.\nSo 2/3 * x = 12.\nThen 10 x 3 = 30 and 7 - 2 = 4 (a typo).\n"
                "It is $400,000 x 8/100 = $32,000.\n#### 104")
    steps = solution_steps(solution)
    assert [(s.expression, s.result) for s in steps] == [
        ("99 + 5", 104),
        ("10 * 3", 30),
        ("$400,000 * 8/100", 32000),
    ]
    assert not any(s.annotated for s in steps)
    assert difficulty(solution) == 4  # no annotations: the lines holding "="


def test_restating_annotations_make_no_call() -> None:
    steps = solution_steps("He has <<8=8>>8 apples and 8+2=<<8+2=10>>10 pears\n#### 10")
    assert gold_calls(steps, "10", "calculator") == ('Calculator(expression="8+2")', "Answer(value=10)")
    assert difficulty("<<8=8>> <<8+2=10>>") == 2


def test_answer_literals() -> None:
    assert gold_calls([], "-2.5", "all") == ("Answer(value=-2.5)",)
    assert gold_calls([], "1/3", "all") == ('Answer(value="1/3")',)


def test_audit_explains_chains_that_do_not_derive_the_answer() -> None:
    assert audit(JANET, "18") == []
    assert audit("So 25-2 = 23 jewels.\n#### 23", "23") == []
    assert audit("It is 5.\n#### 5", "5") == ["no calculation is annotated or written out"]
    assert audit("2*3=<<2*3=7>>7\n#### 7", "7") == [
        "annotation <<2*3=7>> computes 6", "no step computes the final answer 7 (last step: 2*3 = 6)"]
    assert (
        audit("<<x+1=2>>\n#### 2", "2")[0] == "annotation <<x+1=2>> is not arithmetic the calculator accepts"
    )


def test_gold_chains_replay_on_symbolic_problems() -> None:
    pytest.importorskip("reasoning_gym")
    for tools in ("study", "calculator", "all"):
        env = GSM8KEnv(tools=tools, size=60)
        assert [replay(env, i)[0] for i in range(60)] == [1.0] * 60


# ----------------------------------------------------------------------------- full test set


@needs_gsm8k
@pytest.mark.parametrize("tools", ["study", "calculator", "all"])
def test_oracle_scores_on_all_gsm8k_test_problems(tools: str) -> None:
    env = GSM8KEnv(GSM8K_TEST, tools=tools)
    assert env.num_problems() == 1319
    failures = {}
    for index in range(env.num_problems()):
        reward, observations = replay(env, index)
        errors = [o for o in observations if o.startswith("Error")]
        if reward < 1.0 or errors:
            failures[index] = errors or observations[-1:]
    # The issue asks for at least 99%; every chain scores today, so any failure is news.
    assert failures == {}, f"score {1 - len(failures) / 1319:.2%}: {failures}"


@needs_gsm8k
def test_audit_of_the_gsm8k_test_set_is_stable() -> None:
    """Solutions whose annotated (or exact plain-text) steps never compute the final answer.

    The oracle still scores on these (its chain ends with the gold answer); the list is
    pinned so a parser change that loses steps shows up here.
    """
    items = load_jsonl(GSM8K_TEST)
    flagged = {i for i, item in enumerate(items) if audit(item.solution, item.answer)}
    assert len(flagged) == 62
    assert {24, 88, 136} <= flagged  # no annotation at all
    assert {13, 14, 43} <= flagged  # the last step is done in prose without an annotation


def test_toolsets_hold_the_study_functions() -> None:
    assert toolset("study").names == ["Sum", "Subtraction", "Product", "Division", "Reasoning", "Answer"]
    assert toolset("calculator").names == ["Calculator", "Reasoning", "Answer"]
    assert set(toolset("all").names) == set(toolset("study").names) | {"Calculator"}
