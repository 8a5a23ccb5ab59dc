"""The hooks behind callgym's lm-evaluation-harness tasks: the single-turn ``callgym_gsm8k``
and ``callgym_fol``, and the agent tasks ``callgym_gsm8k_agent``, ``callgym_fol_agent`` and
``callgym_bfcl_multi_turn_*_agent`` (whole episodes played by the ``callgym`` lm-eval model,
:mod:`callgym.benchmarks.lm_eval_model`).

lm-eval loads this file by path (``!function utils.NAME`` in the YAML files beside it), so
it imports callgym absolutely. Docs are built offline from callgym's envs by
``custom_dataset`` (lm-eval calls it with the task's ``metadata``, merged with
``--metadata`` and ``--model_args``, so unknown keys are ignored). Each doc records the env
id, the env kwargs and the problem index, so :func:`process_results` and
:func:`process_agent_results` rebuild exactly the env that wrote the prompt and replay the
model's calls in it.
"""

from __future__ import annotations

import json
import logging
import os
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from callgym.benchmarks import episode_result
from callgym.benchmarks.replay import replay_chain, replay_replies, single_turn_messages
from callgym.envs import make
from callgym.errors import ConfigError
from callgym.plugins import import_modules

if TYPE_CHECKING:
    import datasets
    import gymnasium as gym

    from callgym.envs.base import Problem

logger = logging.getLogger(__name__)

GSM8K_ENV = "callgym/GSM8K-v0"
GSM8K_DIR_VAR = "CALLGYM_GSM8K_DIR"
EVAL_SPLIT = "test"  # the DatasetDict key the YAML names as test_split


def load_docs(
    env_id: str,
    env_kwargs: dict[str, Any] | None = None,
    n: int | None = None,
    start: int = 0,
    imports: list[str] | None = None,
    whole_episodes: bool = False,
    **_ignored: Any,
) -> datasets.DatasetDict:
    """Build the docs of problems ``start .. start+n-1`` of an env (lm-eval's ``custom_dataset``).

    Args:
        env_id: any callgym env id (an installed plugin's too; see docs/environments.md).
        env_kwargs: keyword arguments for ``callgym.envs.make`` (split, data, tools, ...).
        n: how many problems; None for every problem of a finite source.
        start: the first problem index.
        imports: modules to import first (envs that are not installed as a plugin).
        whole_episodes: docs for the agent tasks (any env) instead of the single-turn ones,
            which refuse a conversation env (BFCL); see :func:`load_agent_docs`. Not named
            ``agent``: lm-eval's CLI merges ``--model_args`` (``agent=random``) into the metadata.
        **_ignored: the rest of lm-eval's metadata (``version``, the model args, ...).
    """
    env = _load_env(env_id, env_kwargs, imports)
    if env.unwrapped.answer_tool is None and not whole_episodes:
        # One generation cannot hold a conversation: later user turns depend on the replies.
        raise ConfigError(
            f"env_id={env_id!r} is a conversation env (several user turns): one reply cannot play it; "
            "use its agent task with --model callgym (e.g. callgym_bfcl_multi_turn_agent)"
        )
    doc = _agent_doc if whole_episodes else _doc
    return _dataset([doc(env, env_id, dict(env_kwargs or {}), i) for i in _indices(env, n, start)])


def load_agent_docs(
    env_id: str, env_kwargs: dict[str, Any] | None = None, **metadata: Any
) -> datasets.DatasetDict:
    """The agent tasks' docs of any env, answer envs and conversation envs alike; arguments
    as :func:`load_docs`."""
    return load_docs(env_id, env_kwargs, whole_episodes=True, **metadata)


def load_gsm8k_docs(
    env_kwargs: dict[str, Any] | None = None,
    data: str | None = None,
    n: int | None = None,
    start: int = 0,
    **ignored: Any,
) -> datasets.DatasetDict:
    """GSM8K docs; ``data=None`` reads ``$CALLGYM_GSM8K_DIR/{split}.jsonl`` when the variable
    is set (the full GSM8K) and the env's embedded offline source otherwise.

    Args:
        env_kwargs: keyword arguments for the GSM8K env (split, tools, ...).
        data: the env's ``data`` argument (a JSONL path, a directory, "gsm_symbolic", ...).
        n: how many problems; None for all.
        start: the first problem index.
        **ignored: the rest of lm-eval's metadata (and ``whole_episodes``, see :func:`load_docs`).
    """
    ignored.pop("env_id", None)  # the task fixes the env
    env_kwargs = dict(env_kwargs or {})
    if data is None and os.environ.get(GSM8K_DIR_VAR):
        data = "gsm8k"  # the env's name for the directory in $CALLGYM_GSM8K_DIR
    if data is not None:
        env_kwargs["data"] = data
    return load_docs(GSM8K_ENV, env_kwargs, n, start, **ignored)


def load_gsm8k_agent_docs(
    env_kwargs: dict[str, Any] | None = None, data: str | None = None, **metadata: Any
) -> datasets.DatasetDict:
    """GSM8K docs for the agent task; arguments as :func:`load_gsm8k_docs`."""
    return load_gsm8k_docs(env_kwargs, data, whole_episodes=True, **metadata)


def process_agent_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """Score an agent task's generation by the env's verdict, the same way for every env.

    The ``callgym`` model's generation is the episode's result: its replies are replayed in
    a fresh env of the doc's config and the env's reward is the score (FOL and GSM8K: the
    answer check; BFCL: its state and response checks over every turn). Any other model's
    generation is one reply, whose calls are replayed the same way: for an answer env it
    scores when it holds the correct answer call; a conversation cannot end in one reply.
    """
    env = _env(doc["env_id"], doc["env_kwargs"])
    played = episode_result.loads(results[0])
    if played is None:
        return {"accuracy": float(replay_chain(env, doc["index"], results[0]).correct)}
    verdict = replay_replies(env, doc["index"], played.replies)
    if verdict.reward != played.reward:  # an env that does not replay its own episode alike
        logger.warning("%s problem %s: the episode's reward was %s, its replay gives %s (scored)",
                       doc["env_id"], doc["index"], played.reward, verdict.reward)
    return {"accuracy": float(verdict.correct)}


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """Replay the model's reply in the doc's env: accuracy and valid-call rate for one doc."""
    env = _env(doc["env_id"], doc["env_kwargs"])
    result = replay_chain(env, doc["index"], results[0])
    return {"accuracy": float(result.correct), "valid_call_rate": result.valid_call_rate}


# ----------------------------------------------------------------------------- helpers


def _load_env(env_id: str, env_kwargs: dict[str, Any] | None, imports: list[str] | None) -> gym.Env:
    """The env a task's metadata names, once the modules it needs are imported (plugins not installed)."""
    import_modules(imports or [], where="lm-eval metadata imports:")
    return _env(env_id, _dump(dict(env_kwargs or {})))


def _dataset(docs: list[dict[str, Any]]) -> datasets.DatasetDict:
    import datasets  # lm-eval's dependency, not callgym's core one

    return datasets.DatasetDict({EVAL_SPLIT: datasets.Dataset.from_list(docs)})


@lru_cache(maxsize=8)
def _env(env_id: str, env_kwargs_json: str) -> gym.Env:
    # One env per config for the whole run: GSM8K parses its file and FOL builds its
    # generator once, and every doc's replay starts with reset(), so sharing is safe.
    try:
        return make(env_id, **json.loads(env_kwargs_json))
    except TypeError as e:  # an argument the env does not take (e.g. split for BFCL)
        raise ConfigError(f"env_kwargs for {env_id}: {e}; set them with --metadata env_kwargs=...") from e


def _dump(env_kwargs: dict[str, Any]) -> str:
    try:
        return json.dumps(env_kwargs, sort_keys=True)
    except TypeError as e:
        raise ConfigError(f"env_kwargs={env_kwargs!r} must hold JSON values (text, numbers, lists)") from e


def _indices(env: gym.Env, n: int | None, start: int) -> range:
    total = env.unwrapped.num_problems()
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
        raise ConfigError(f"n={n!r} must be a positive integer, or null for every problem")
    if not isinstance(start, int) or isinstance(start, bool) or start < 0:
        raise ConfigError(f"start={start!r} must be a non-negative integer")
    if n is None and total is None:
        raise ConfigError(f"{env.spec.id if env.spec else 'the env'} generates problems without end: set n")
    stop = start + n if n is not None else total
    if total is not None:
        stop = min(stop, total)
    if stop <= start:
        raise ConfigError(f"start={start} is past the last problem ({total}); use a smaller start")
    return range(start, stop)


def _doc(env: gym.Env, env_id: str, env_kwargs: dict[str, Any], index: int) -> dict[str, Any]:
    """A single-turn task's doc: the env's prompt rewritten for one reply, and the gold chain."""
    system, user = (m["content"] for m in single_turn_messages(env, index))
    problem = env.unwrapped.problem
    return {
        **_problem_fields(env_id, env_kwargs, problem),
        # Everything in one user turn: lm-eval's chat path drops the system turn for
        # templates without a system role, and the tool help text must survive that.
        "prompt": f"{system}\n\nThe task:\n{user}\n",
        "gold_chain": "\n".join(problem.gold_calls),
    }


def _agent_doc(env: gym.Env, env_id: str, env_kwargs: dict[str, Any], index: int) -> dict[str, Any]:
    """An agent task's doc: what the ``callgym`` model needs to play the problem, and its target."""
    env.reset(options={"index": index})
    problem = env.unwrapped.problem
    conversation = env.unwrapped.answer_tool is None
    return {
        **_problem_fields(env_id, env_kwargs, problem),
        # The gold answer call, or a conversation's oracle replies, one per line
        "target": "\n".join(problem.gold_calls) if conversation else (problem.gold_calls or ("",))[-1],
    }


def _problem_fields(env_id: str, env_kwargs: dict[str, Any], problem: Problem) -> dict[str, Any]:
    """Which problem a doc is (env, config, index: all a replay needs), and what it asks."""
    return {
        "env_id": env_id,
        "env_kwargs": _dump(env_kwargs),
        "index": problem.index,
        "question": problem.prompt,  # a conversation's first user turn
        "answer": str(problem.answer),  # a conversation's: its number of user turns, all to pass
        "difficulty": "" if problem.difficulty is None else str(problem.difficulty),
    }
