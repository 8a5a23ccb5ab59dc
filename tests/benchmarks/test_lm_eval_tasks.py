"""callgym's lm-eval tasks: loaded by lm-eval itself, scored by their own hooks, and run
end to end with lm-eval's ``hf`` model on the embedded SmolLM2 (slow)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from callgym.benchmarks.lm_eval_tasks import task_dir, utils
from callgym.errors import ConfigError
from tests.conftest import TOY_ENV

lm_eval_tasks = pytest.importorskip("lm_eval.tasks", reason="needs lm-eval: pip install callgym[lm-eval]")

TASKS = ("callgym_gsm8k", "callgym_fol")
GSM8K_DIR = os.environ.get("CALLGYM_GSM8K_DIR")
HOSTILE = [
    "",
    "The answer is 42.",
    "Answer(",
    'Answer(__import__("os").system("echo pwned"))',
    "Answer(" + "(" * 5000,
    "\x00\udcff" * 100,
    "Reasoning(thought=" + "x" * 50_000 + ")",
    '{"tool_calls": [{"function": {"name": "Answer", "arguments": "{oops"}}]}',
]


def _load(names: tuple[str, ...], **metadata: object) -> dict[str, object]:
    manager = lm_eval_tasks.TaskManager(include_path=task_dir(), include_defaults=False, metadata=metadata)
    return lm_eval_tasks.get_task_dict(list(names), manager)


@pytest.fixture(scope="module")
def tasks() -> dict[str, object]:
    """Both tasks as lm-eval builds them, five problems each."""
    return _load(TASKS, n=5)


# ----------------------------------------------------------------------------- loading


def test_task_dir_holds_the_tasks_and_the_cli_prints_it():
    folder = Path(task_dir())
    shipped = {p.name for p in folder.iterdir()}
    assert {"callgym_gsm8k.yaml", "callgym_fol.yaml", "callgym.yaml", "utils.py"} <= shipped
    out = subprocess.run(
        [sys.executable, "-m", "callgym.cli", "lm-eval-path"], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == str(folder)


def test_lm_eval_indexes_the_tasks_and_the_group():
    manager = lm_eval_tasks.TaskManager(include_path=task_dir(), include_defaults=False)
    assert {"callgym", *TASKS} <= set(manager.all_tasks)


def test_tasks_are_versioned_generative_and_sized_by_metadata(tasks):
    for name in TASKS:
        task = tasks[name]
        assert task.config.metadata["version"] == 1.0
        assert task.OUTPUT_TYPE == "generate_until"
        assert len(task.eval_docs) == 5
        kwargs = task.config.generation_kwargs
        assert 0 < kwargs["max_gen_toks"] <= 1024 and "\n" not in kwargs["until"]


def test_prompts_carry_the_tool_help_and_the_single_turn_rule(tasks):
    tools = {"callgym_gsm8k": "Sum(a: number, b: number)", "callgym_fol": "Premise(formula: str)"}
    for name, tool in tools.items():
        task = tasks[name]
        doc = task.eval_docs[0]
        text = task.doc_to_text(doc)
        assert tool in text and doc["question"] in text
        assert "whole chain of function calls" in text and "one call per reply" not in text


def test_chat_template_puts_the_whole_prompt_in_the_user_turn(tasks):
    task = tasks["callgym_fol"]
    doc = task.eval_docs[0]

    def render(messages: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
        return json.dumps(messages)

    context = task.fewshot_context(
        doc, 0, system_instruction="Be brief.", apply_chat_template=True, chat_template=render
    )
    messages = json.loads(context)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[0]["content"] == "Be brief."
    assert messages[1]["content"] == doc["prompt"]


def test_few_shot_examples_show_a_gold_chain(tasks):
    task = tasks["callgym_gsm8k"]
    doc = task.eval_docs[0]
    context = task.fewshot_context(doc, 1)
    assert context.endswith(doc["prompt"])
    shot = context[: -len(doc["prompt"])]
    assert any(other["prompt"] + other["gold_chain"] in shot for other in task.eval_docs)


# ----------------------------------------------------------------------------- scoring hooks


def test_gold_chains_score_one_through_the_task_hooks(tasks):
    for name in TASKS:
        task = tasks[name]
        for doc in task.eval_docs:
            env = utils._env(doc["env_id"], doc["env_kwargs"])
            env.reset(options={"index": doc["index"]})
            gold = "\n".join(env.unwrapped.problem.gold_calls)
            assert gold == doc["gold_chain"]
            scores = task.process_results(doc, [gold])
            assert scores == {"accuracy": 1.0, "valid_call_rate": 1.0}, (name, doc["index"])


@pytest.mark.parametrize("reply", HOSTILE)
def test_hostile_replies_score_zero_through_the_task_hooks(tasks, reply):
    for name in TASKS:
        task = tasks[name]
        scores = task.process_results(task.eval_docs[1], [reply])
        assert scores["accuracy"] == 0.0 and 0.0 <= scores["valid_call_rate"] <= 1.0


def test_prose_around_the_calls_is_tolerated(tasks):
    doc = tasks["callgym_gsm8k"].eval_docs[0]
    reply = f"Sure! Here is my plan.\n```\n{doc['gold_chain']}\n```\nThat is all."
    assert utils.process_results(doc, [reply])["accuracy"] == 1.0


def test_load_docs_works_for_any_registered_env():
    docs = utils.load_docs(TOY_ENV, {"size": 10}, n=3, start=8, version=1.0, pretrained="ignored")["test"]
    assert [d["index"] for d in docs] == [8, 9]  # capped at the env's 10 problems
    assert all(utils.process_results(d, [d["gold_chain"]])["accuracy"] == 1.0 for d in docs)


def test_bad_metadata_is_a_clear_error():
    with pytest.raises(ConfigError, match="n=0"):
        utils.load_docs(TOY_ENV, n=0)
    with pytest.raises(ConfigError, match="start=500"):
        utils.load_docs(TOY_ENV, start=500)
    # BFCL: later turns depend on the replies, so one reply cannot play it; its agent task can
    with pytest.raises(ConfigError, match="conversation env.*callgym_bfcl_multi_turn_agent"):
        utils.load_docs("callgym/BFCL-MultiTurnBase-v0", n=2)
    with pytest.raises(ConfigError, match="env_kwargs for callgym/BFCL-MultiTurnBase-v0: .*'split'"):
        utils.load_docs("callgym/BFCL-MultiTurnBase-v0", {"split": "test"}, n=2)


# ----------------------------------------------------------------------------- GSM8K source


def test_gsm8k_falls_back_to_the_embedded_source(monkeypatch):
    monkeypatch.delenv("CALLGYM_GSM8K_DIR", raising=False)
    docs = utils.load_gsm8k_docs({"split": "test"}, n=2)["test"]
    assert json.loads(docs[0]["env_kwargs"]) == {"split": "test"}


@pytest.mark.skipif(not GSM8K_DIR, reason="CALLGYM_GSM8K_DIR is not set (the full GSM8K test file)")
def test_gsm8k_reads_the_local_test_file():
    docs = utils.load_gsm8k_docs({"split": "test"}, n=None)["test"]
    first = json.loads(Path(GSM8K_DIR, "test.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert len(docs) == 1319 and docs[0]["question"] == first["question"].strip()
    assert json.loads(docs[0]["env_kwargs"]) == {"data": "gsm8k", "split": "test"}


# ----------------------------------------------------------------------------- real run


def _embedded_model() -> str:
    try:
        from callgym.agents.models import resolve_model
    except ImportError as e:
        pytest.skip(f"callgym.agents.models.resolve_model is not available yet ({e})")
    return str(resolve_model("smollm2-135m"))


@pytest.mark.slow
def test_lm_eval_cli_runs_both_tasks_on_the_embedded_model(tmp_path):
    """The command users run: lm-eval's hf model, --include_path, --limit, chat template."""
    model = _embedded_model()
    command = [
        str(Path(sys.executable).with_name("lm_eval")),
        "--model", "hf",
        "--model_args", f"pretrained={model},dtype=float32",
        "--tasks", ",".join(TASKS),
        "--include_path", task_dir(),
        "--limit", "2",
        "--device", "cpu",
        "--batch_size", "4",
        "--apply_chat_template",
        "--gen_kwargs", "max_gen_toks=32",
        "--output_path", str(tmp_path),
        "--log_samples",
    ]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    # On a small shared CPU torch's worker threads wait on each other: one thread ran this
    # test about ten times faster than two on the 2-core CI machine.
    env.setdefault("OMP_NUM_THREADS", "1")
    started = time.monotonic()
    run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    (results_file,) = tmp_path.glob("*/results_*.json")
    results = json.loads(results_file.read_text())["results"]
    for name in TASKS:
        accuracy, valid = results[name]["accuracy,none"], results[name]["valid_call_rate,none"]
        assert 0.0 <= accuracy <= 1.0 and 0.0 <= valid <= 1.0
        samples = [json.loads(line) for f in tmp_path.glob(f"*/samples_{name}_*.jsonl") for line in f.open()]
        assert len(samples) == 2 and all({"accuracy", "valid_call_rate"} <= set(s) for s in samples)
    assert time.monotonic() - started < 900
