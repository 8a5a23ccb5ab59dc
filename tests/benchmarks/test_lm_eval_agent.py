"""Whole episodes inside lm-eval: the agent tasks and the ``callgym`` lm-eval model report what
``callgym bench`` reports on the same problems, for answer envs (FOL, GSM8K) and BFCL's
conversations alike; the slow test does it with the embedded model through the command users
run, ``callgym lm-eval``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from callgym.benchmarks import episode_result
from callgym.benchmarks.episode_result import final_answer_call
from callgym.benchmarks.lm_eval_tasks import task_dir, utils
from callgym.cli import main as cli_main

lm_eval = pytest.importorskip("lm_eval", reason="needs lm-eval: pip install callgym[lm-eval]")
from lm_eval.tasks import TaskManager  # noqa: E402

from callgym.benchmarks.lm_eval_model import CallgymLM  # noqa: E402

AGENT_TASKS = ("callgym_fol_agent", "callgym_gsm8k_agent")
BFCL_TASKS = {  # task: env
    f"callgym_bfcl_multi_turn_{category}_agent": f"callgym/BFCL-MultiTurn{name}-v0" for category, name in
    (("base", "Base"), ("miss_func", "MissFunc"), ("miss_param", "MissParam"),
     ("long_context", "LongContext"))
}


def _evaluate(model_args: str, limit: int, tasks=AGENT_TASKS, **metadata: object) -> dict:
    manager = TaskManager(include_path=task_dir(), include_defaults=False, metadata=metadata or None)
    return lm_eval.simple_evaluate(model="callgym", model_args=model_args, tasks=list(tasks),
                                   task_manager=manager, limit=limit, log_samples=True)


def _answers(samples: list[dict]) -> dict[int, str]:
    """Each doc's final answer call, from the episode results lm-eval logged."""
    return {s["doc"]["index"]: episode_result.loads(s["resps"][0][0]).answer_call for s in samples}


def _suite_envs(n: int, **env_extra: object) -> list[dict]:
    """The FOL and GSM8K agent tasks' first ``n`` problems as a suite's envs (the configs their docs name)."""
    fol = utils.load_agent_docs("callgym/FOL-v0", env_kwargs={"split": "test", **env_extra}, n=1)["test"][0]
    gsm = utils.load_gsm8k_agent_docs(env_kwargs={"split": "test", **env_extra}, n=1)["test"][0]
    return [{"id": doc["env_id"], "kwargs": json.loads(doc["env_kwargs"]), "n": n} for doc in (gsm, fol)]


def _episodes(out: Path) -> dict[str, list]:
    """The episodes ``callgym bench --out OUT`` wrote, per env, by problem index."""
    from callgym.episode import read_episodes

    episodes = read_episodes(sorted(out.rglob("*.jsonl")))
    return {env: sorted((e for e in episodes if e.env_id == env), key=lambda e: e.index)
            for env in {e.env_id for e in episodes}}


def _bench(tmp_path: Path, envs: list[dict], *flags: str) -> dict[str, list]:
    """``callgym bench`` on a suite of ``envs``: its episodes per env."""
    suite = tmp_path / "parity.yaml"
    suite.write_text(yaml.safe_dump({"name": "parity", "version": 1, "seed": 0, "envs": envs}), "utf-8")
    out, db = tmp_path / "bench", tmp_path / "lb.db"
    code = cli_main(["bench", "--suite", str(suite), *flags, "--db", str(db), "--out", str(out), "--quiet"])
    assert code == 0
    return _episodes(out)


def test_lm_eval_indexes_the_agent_tasks_and_their_groups() -> None:
    manager = TaskManager(include_path=task_dir(), include_defaults=False)
    groups = {"callgym_agent", "callgym_bfcl_multi_turn_agent"}
    assert {*groups, *AGENT_TASKS, *BFCL_TASKS} <= set(manager.all_tasks)


def test_the_gold_answer_call_scores_one_and_prose_zero() -> None:
    """Another lm-eval model's reply to an answer env's agent task: its answer call is replayed."""
    for docs in (utils.load_agent_docs("callgym/FOL-v0", env_kwargs={"split": "test"}, n=3),
                 utils.load_gsm8k_agent_docs(env_kwargs={"split": "test"}, n=3)):
        for doc in docs["test"]:
            assert utils.process_agent_results(doc, [doc["target"]]) == {"accuracy": 1.0}
            assert utils.process_agent_results(doc, [f"I think it is {doc['answer']}."]) == {"accuracy": 0.0}
            assert utils.process_agent_results(doc, [""]) == {"accuracy": 0.0}


def _result(replies: list[str], reward: float = 0.0) -> str:
    return json.dumps({"format": episode_result.FORMAT, "answer_call": "", "answer": None, "reward": reward,
                       "replies": replies})


@pytest.mark.parametrize("task", sorted(BFCL_TASKS))
def test_a_bfcl_conversation_scores_bfcls_verdict_on_its_replies(task) -> None:
    """The episode's replies are judged by the env (BFCL's checks), whatever the result claims."""
    docs = utils.load_agent_docs(BFCL_TASKS[task], n=2)["test"]
    assert len(docs) == 2
    for doc in docs:
        gold = doc["target"].split("\n")
        assert utils.process_agent_results(doc, [_result(gold)]) == {"accuracy": 1.0}
        forged = _result(gold[:1] + ["Done."], reward=1.0)  # one turn's calls, then claims success
        assert utils.process_agent_results(doc, [forged]) == {"accuracy": 0.0}
        # another model's one reply cannot hold a conversation
        assert utils.process_agent_results(doc, [doc["target"]]) == {"accuracy": 0.0}


@pytest.mark.parametrize("text", ["", "{", "[1]", '{"format": "callgym-episode/1", "replies": "Done."}',
                                  '{"format": "callgym-episode/1", "replies": [1, 2]}', "[" * 100_000,
                                  '{"format": "other", "replies": []}'])
def test_a_generation_that_is_no_episode_result_is_one_plain_reply(text) -> None:
    assert episode_result.loads(text) is None
    (doc,) = utils.load_agent_docs("callgym/BFCL-MultiTurnBase-v0", n=1)["test"]
    assert utils.process_agent_results(doc, [text]) == {"accuracy": 0.0}


def test_parity_with_bench_for_a_seeded_agent(tmp_path) -> None:
    """The random agent is seeded: lm-eval must see the very episodes bench plays."""
    n = 6
    results = _evaluate("agent=random", n)
    bench = _bench(tmp_path, _suite_envs(n), "--agent", "random")
    for task, env_id in (
        ("callgym_fol_agent", "callgym/FOL-v0"),
        ("callgym_gsm8k_agent", "callgym/GSM8K-v0"),
    ):
        episodes = bench[env_id]
        assert len(episodes) == n
        assert results["results"][task]["accuracy,none"] == pytest.approx(
            sum(e.correct for e in episodes) / n
        )
        answers = _answers(results["samples"][task])
        assert answers == {e.index: final_answer_call(e) for e in episodes}
    assert len(set(answers.values())) > 1  # distinct random episodes, not one answer everywhere


@pytest.mark.parametrize("agent", ["random", "oracle"])
def test_parity_with_bench_on_bfcl_conversations(tmp_path, agent) -> None:
    """BFCL through lm-eval scores what bench scores: the same episodes, BFCL's verdict on each."""
    n, task = 3, "callgym_bfcl_multi_turn_base_agent"
    results = _evaluate(f"agent={agent}", n, tasks=[task])
    env_id = BFCL_TASKS[task]
    episodes = _bench(tmp_path, [{"id": env_id, "n": n}], "--agent", agent)[env_id]
    assert len(episodes) == n
    assert results["results"][task]["accuracy,none"] == pytest.approx(sum(e.correct for e in episodes) / n)
    assert results["results"][task]["accuracy,none"] == (1.0 if agent == "oracle" else 0.0)
    played = {s["doc"]["index"]: episode_result.loads(s["resps"][0][0]) for s in results["samples"][task]}
    assert {i: (r.replies, r.reward) for i, r in played.items()} == {
        e.index: (tuple(s.action for s in e.steps), e.reward) for e in episodes}


def test_episodes_are_kept_and_a_rerun_resumes(tmp_path) -> None:
    path = tmp_path / "episodes.jsonl"
    first = _evaluate(f"agent=random,episodes={path}", 3)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 6
    second = _evaluate(f"agent=random,episodes={path}", 3)
    assert path.read_text(encoding="utf-8").splitlines() == lines  # nothing played twice
    for task in AGENT_TASKS:
        assert second["results"][task]["accuracy,none"] == first["results"][task]["accuracy,none"]


def test_settings_come_from_model_args_and_gen_kwargs() -> None:
    lm = CallgymLM.create_from_arg_string(
        "agent=oracle", {"batch_size": 1, "device": "cpu", "max_batch_size": None}
    )
    assert lm.batch_size == 32  # lm-eval's default batch of 1 would play one episode at a time
    assert CallgymLM.create_from_arg_string("agent=oracle", {"batch_size": 8}).batch_size == 8
    assert CallgymLM.create_from_arg_string("agent=oracle,batch_size=4", {"batch_size": 8}).batch_size == 4
    from callgym.benchmarks.lm_eval_model import _sampling

    greedy = _sampling({"until": ["\n\n"], "do_sample": False, "temperature": 0.7, "max_gen_toks": 64}, 0)
    assert (greedy.temperature, greedy.max_tokens, greedy.stop) == (0.0, 64, [])
    assert _sampling({"do_sample": True, "temperature": 0.7, "top_p": 0.9}, 1).temperature == 0.7


def test_callgym_lm_eval_passes_flags_on_and_bad_input_is_one_line(capsys) -> None:
    assert cli_main(["lm-eval", "--help"]) == 0
    assert "--model_args" in capsys.readouterr().out  # lm-eval's own help
    code = cli_main(["lm-eval", "--model", "callgym", "--model_args", "agent=oracle,batch_size=0",
                     "--tasks", "callgym_fol_agent", "--include_path", task_dir(), "--limit", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "batch_size=0 must be a positive integer" in err and "Traceback" not in err


def test_the_oracle_solves_every_env_through_the_callgym_lm_eval_command(tmp_path, capsys) -> None:
    """The command users run: lm-eval's CLI merges --model_args (agent=...) into every task's
    metadata, which the doc loaders must take in their stride."""
    tasks = "callgym_gsm8k_agent,callgym_bfcl_multi_turn_base_agent,callgym_bfcl_multi_turn_miss_param_agent"
    code = cli_main(["lm-eval", "--model", "callgym", "--model_args", "agent=oracle", "--tasks", tasks,
                     "--include_path", task_dir(), "--limit", "2", "--output_path", str(tmp_path)])
    assert code == 0, capsys.readouterr().err[-2000:]
    (results_file,) = tmp_path.glob("*/results_*.json")
    results = json.loads(results_file.read_text())["results"]
    assert [results[task]["accuracy,none"] for task in tasks.split(",")] == [1.0, 1.0, 1.0]
    assert "callgym_bfcl_multi_turn_base_agent" in capsys.readouterr().out  # lm-eval's table


# ----------------------------------------------------------------------------- the embedded model


@pytest.mark.slow
def test_parity_with_bench_on_the_embedded_model(tmp_path) -> None:
    """`callgym lm-eval --model callgym` (the command users run) against `callgym bench`, greedy,
    on the same few problems with the embedded SmolLM2 through hf."""
    n, max_steps, tokens = 2, 2, 32
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    env.setdefault("OMP_NUM_THREADS", "1")
    metadata = json.dumps({"n": n, "env_kwargs": {"split": "test", "max_steps": max_steps}})
    command = [sys.executable, "-m", "callgym.cli", "lm-eval", "--model", "callgym",
               "--model_args", "backend=hf,model=smollm2-135m", "--tasks", ",".join(AGENT_TASKS),
               "--include_path", task_dir(), "--metadata", metadata, "--gen_kwargs", f"max_gen_toks={tokens}",
               "--output_path", str(tmp_path / "lm_eval"), "--log_samples"]
    run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1200)
    assert run.returncode == 0, run.stderr[-3000:]
    (results_file,) = (tmp_path / "lm_eval").glob("*/results_*.json")
    results = json.loads(results_file.read_text())["results"]
    bench = _bench(tmp_path, _suite_envs(n, max_steps=max_steps), "--agent", "student",
                   "--model", "smollm2-135m", "--backend", "hf", "--max-tokens", str(tokens))
    for task, env_id in (
        ("callgym_fol_agent", "callgym/FOL-v0"),
        ("callgym_gsm8k_agent", "callgym/GSM8K-v0"),
    ):
        episodes = bench[env_id]
        assert len(episodes) == n and all(e.model.endswith("smollm2-135m") for e in episodes)
        assert results[task]["accuracy,none"] == pytest.approx(sum(e.correct for e in episodes) / n)
        files = (tmp_path / "lm_eval").glob(f"*/samples_{task}_*.jsonl")
        samples = [json.loads(line) for f in files for line in f.open()]
        assert _answers(samples) == {e.index: final_answer_call(e) for e in episodes}


def test_registering_callgym_keeps_lm_evals_own_models() -> None:
    # lm-eval imports its built-in models only into an empty registry: registering ours first
    # used to hide 'hf' from the lm_eval backend (seen as errors that depended on test order).
    code = ("import callgym.benchmarks.lm_eval_model\n"
            "from lm_eval.api.registry import get_model\n"
            "print(get_model('hf').__name__, get_model('callgym').__name__)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["HFLM", "CallgymLM"]
