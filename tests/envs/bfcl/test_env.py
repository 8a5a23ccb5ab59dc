"""The BFCL multi-turn envs: every entry's gold chain passes, calls run as BFCL runs them,
held-out functions arrive on their turn, and no call can run for long."""

from __future__ import annotations

import time
import uuid

import gymnasium as gym
import pytest

import callgym  # noqa: F401  (registers the envs)
from callgym.calls import Call, parse_calls
from callgym.envs.bfcl.backends import Scenario
from callgym.envs.bfcl.data import CATEGORIES, load_entries
from tests.envs.bfcl.test_parity import ENV_IDS


@pytest.mark.parametrize("category", CATEGORIES)
def test_oracle_passes_every_entry(category):
    env = gym.make(ENV_IDS[category])
    failed = []
    for index in range(env.unwrapped.num_problems()):
        env.reset(options={"index": index})
        for reply in env.unwrapped.problem.gold_calls:
            obs, reward, terminated, truncated, info = env.step(reply)
        if not (terminated and not truncated and reward == 1.0 and info["answer"] == info["gold"]):
            failed.append((index, info.get("bfcl_error_type")))
    assert env.unwrapped.num_problems() == 200 and failed == []


CALLS = [
    "ls(a=True)",
    "cd(folder='workspace')",
    "cd(folder='nowhere')",
    "cd(folder=3)",
    "cd(fold='x')",
    "cd()",
    "mkdir(dir_name='new')",
    "touch(file_name='a.txt')",
    "echo(content='hi', file_name='a.txt')",
    "cat('a.txt')",
    "wc(file_name='a.txt', mode='w')",
    "post_tweet(content='hello', tags=['#a'], mentions=[])",
    "authenticate_twitter(username='analyst_pro', password='wrong')",
    "sort(file_name='missing.txt')",
]


def test_calls_give_bfcls_results_and_errors():
    """Dispatch by name gives the text BFCL's eval() path gives, errors included."""
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_utils import execute_multi_turn_func_call

    entry = load_entries("base")[1]
    entry = type(entry)(
        entry.id,
        entry.category,
        entry.turns,
        entry.initial_config,
        ("GorillaFileSystem", "TwitterAPI"),
        entry.ground_truth,
    )
    ours = Scenario(entry)
    texts = [str(c) for c in parse_calls("\n".join(CALLS))]
    theirs, _ = execute_multi_turn_func_call(
        texts, entry.initial_config, list(entry.involved_classes), f"dispatch_{uuid.uuid4().hex}", entry.id
    )
    assert [ours.run(c) for c in parse_calls("\n".join(CALLS))] == theirs
    assert any(t.startswith("Error during execution") for t in theirs)


def test_unknown_names_do_not_reach_python():
    scenario = Scenario(load_entries("base")[0])
    for name in ("eval", "__import__", "kill", "_load_scenario", "print"):
        assert scenario.run(Call(name, ("x",))).startswith("Error during execution")


def test_costly_arguments_are_refused_fast():
    entry = next(e for e in load_entries("base") if "MathAPI" in e.involved_classes)
    scenario = Scenario(entry)
    start = time.perf_counter()
    assert "too large" in scenario.run(Call("power", (), {"base": 7, "exponent": 10**12}))
    assert "too large" in scenario.run(Call("logarithm", (), {"value": 3, "base": 2, "precision": 10**9}))
    assert "too large" in scenario.run(Call("square_root", (), {"number": 2, "precision": 10**9}))
    assert scenario.run(Call("power", (), {"base": 2, "exponent": 10})) == '{"result": 1024}'
    assert time.perf_counter() - start < 1.0


def test_held_out_functions_arrive_on_their_turn():
    env = gym.make(ENV_IDS["miss_func"])
    entry = load_entries("miss_func")[0]
    ((turn, names),) = entry.missed_functions.items()
    _, info = env.reset(options={"index": 0})
    offered = lambda info: {t["function"]["name"] for t in info["tools"]}  # noqa: E731
    assert not set(names) & offered(info)
    gold = iter(env.unwrapped.problem.gold_calls)
    while info["turn"] < turn:
        obs, _, _, _, info = env.step(next(gold))
    assert set(names) <= offered(info) and "I have updated some more functions" in obs


def test_several_calls_per_reply_with_dict_arguments():
    env = gym.make(ENV_IDS["base"])
    index = next(i for i, e in enumerate(load_entries("base")) if "TicketAPI" in e.involved_classes)
    env.reset(options={"index": index})
    obs, *_, info = env.step(
        "[get_user_tickets(status='Open'), edit_ticket(ticket_id=1, updates={'priority': 2})]"
    )
    assert info["call"].startswith("[get_user_tickets(") and obs.count(" -> ") == 2


def test_both_protocols_offer_bfcls_docs():
    env = gym.make(ENV_IDS["base"])
    _, info = env.reset(options={"index": 0})
    system = info["messages"][0]["content"]
    assert system.startswith("You are an expert in composing functions.") and '"name": "mv"' in system
    mv = next(t["function"] for t in info["tools"] if t["function"]["name"] == "mv")
    assert mv["parameters"]["type"] == "object" and mv["parameters"]["required"] == ["source", "destination"]
    assert "composing functions" in env.unwrapped.native_system_prompt()


@pytest.mark.parametrize("module", ["data", "backends", "env"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"callgym.envs.bfcl.{module}"))
    assert result.attempted and not result.failed


def test_step_limit_defaults_to_bfcls_and_bad_values_are_refused():
    from callgym.errors import ConfigError

    assert gym.make(ENV_IDS["base"]).unwrapped.max_steps == 21  # BFCL force-quits on the 21st step
    with pytest.raises(ConfigError, match="max_steps=0"):
        gym.make(ENV_IDS["base"], max_steps=0)
