"""The FOL env: its tools working together, its sources and its config errors."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest

import callgym  # noqa: F401  (registers the ids)
from callgym.errors import ConfigError, DataError


def reset(**kwargs):
    env = gym.make("callgym/FOL-v0", **kwargs)
    env.reset(seed=0, options={"index": 0})
    return env


def test_premise_then_prove_reports_what_follows():
    env = reset()
    assert env.step('Premise("∀x (Man(x) → Mortal(x))")')[0].startswith("Premise 1 added: ∀x")
    assert env.step("Premise('Man(socrates)')")[0].startswith("Premise 2 added")
    assert env.step('Prove("Mortal(socrates)")')[0].startswith("True")
    assert env.step('Prove("¬Mortal(socrates)")')[0].startswith("False")
    assert env.step('Prove("Mortal(plato)")')[0].startswith("Unknown")


def test_ascii_notation_is_accepted():
    env = reset()
    env.step('Premise("forall x (Dog(x) -> Animal(x))")')
    env.step('Premise("Dog(rex) & ~Cat(rex)")')
    assert env.step('Prove("Animal(rex)")')[0].startswith("True")


def test_malformed_formula_is_an_error_the_model_can_act_on():
    env = reset()
    obs, *_ , info = env.step('Premise("∀x (Man(x) → )")')
    assert obs.startswith("Error: Not a formula") and "position" in obs and info["invalid_calls"] == 1


def test_knowledge_base_is_fresh_every_episode():
    env = reset()
    env.step('Premise("Man(socrates)")')
    env.reset(seed=0, options={"index": 0})
    assert env.step('Prove("Man(socrates)")')[0].startswith("Unknown")


@pytest.mark.parametrize("label, expected", [("Uncertain", "Unknown"), ("true", "True"), (False, "False")])
def test_answer_labels_are_normalised(label, expected):
    env = reset()
    gold = env.unwrapped.problem.answer
    obs, reward, terminated, truncated, info = env.step(f"Answer({label!r})")
    assert terminated and info["answer"] == expected and reward == float(expected == gold)


def test_a_label_outside_the_three_is_refused():
    env = reset()
    obs, reward, terminated, *_ = env.step('Answer("Maybe")')
    assert obs.startswith("Error:") and "True" in obs and not terminated


def test_train_and_test_splits_do_not_share_problems():
    train, test = reset(split="train").unwrapped, reset(split="test").unwrapped
    prompts = {train.load_problem(i).prompt for i in range(200)}
    assert not prompts & {test.load_problem(i).prompt for i in range(200)}


def test_labels_are_balanced_and_levels_cycle():
    env = reset(split="test").unwrapped
    problems = [env.load_problem(i) for i in range(60)]
    assert {p.answer for p in problems} == {"True", "False", "Unknown"}
    assert max(sum(p.answer == label for p in problems) for label in ("True", "False", "Unknown")) <= 24
    assert [p.difficulty for p in problems[:5]] == [1, 2, 3, 4, 5]


def test_answer_only_toolset_has_a_one_call_gold_chain():
    env = reset(tools="answer")
    assert set(env.unwrapped.toolset.names) == {"Reasoning", "Answer"}
    assert len(env.unwrapped.problem.gold_calls) == 1


def test_folio_jsonl_problems(tmp_path):
    record = {
        "premises": "All dogs are animals.\nRex is a dog.",
        "premises-FOL": ["∀x (Dog(x) → Animal(x))", "Dog(rex)"],
        "conclusion": "Rex is an animal.",
        "conclusion-FOL": "Animal(rex)",
        "label": "True",
    }
    path = tmp_path / "folio.jsonl"
    path.write_text(
        json.dumps(record)
        + "\n"
        + json.dumps({**record, "label": "Uncertain", "conclusion-FOL": "Cat(rex)"})
        + "\n"
    )
    env = gym.make("callgym/FOL-v0", data=str(path))
    assert env.unwrapped.num_problems() == 2
    for index, gold in ((0, "True"), (1, "Unknown")):
        env.reset(options={"index": index})
        assert env.unwrapped.problem.answer == gold
        for call in env.unwrapped.problem.gold_calls:
            *_, info = env.step(call)
        assert info["correct"]


def test_folio_quantifier_groups_are_read_as_written(tmp_path):
    """FOLIO's release format (one string, a formula per line); '∃y (...)' scopes over its group."""
    rule = "∀x (Chef(x) ∧ ∃y (Owns(x, y) ∧ Restaurant(y)) → Busy(x))"
    record = {
        "premises": "Every chef who owns a restaurant is busy.\nMia is a chef.\nMia owns Lupa.\n"
        "Lupa is a restaurant.",
        "premises-FOL": f"{rule}\nChef(mia)\nOwns(mia, lupa)\nRestaurant(lupa)",
        "conclusion": "Mia is busy.",
        "conclusion-FOL": "Busy(mia)",
        "label": "True",
        "story_id": 1,
    }
    path = tmp_path / "folio.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    env = gym.make("callgym/FOL-v0", data=str(path))
    env.reset(options={"index": 0})
    steps = [env.step(call) for call in env.unwrapped.problem.gold_calls]
    assert steps[0][0] == f"Premise 1 added: {rule}"
    assert steps[-2][0].startswith("True: the premises entail it")
    assert steps[-1][-1]["correct"]


def test_bad_kwargs_and_files_are_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="split='dev'"):
        gym.make("callgym/FOL-v0", split="dev")
    with pytest.raises(ConfigError, match="difficulty=9"):
        gym.make("callgym/FOL-v0", difficulty=9)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"premises": []}\n')
    with pytest.raises(DataError, match="bad.jsonl:1"):
        gym.make("callgym/FOL-v0", data=str(bad))


def test_no_tool_answers_are_read_from_prose():
    env = reset().unwrapped
    assert env.answer_from_text("So it is uncertain. The answer is Uncertain.") == "Unknown"
    assert env.answer_from_text("The answer is true.") == "True"
    assert env.answer_from_text("no idea") == ""
