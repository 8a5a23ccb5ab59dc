"""Whole episodes inside lm-evaluation-harness: the lm-eval model ``callgym``.

lm-eval asks a model for one generation per request. For the agent tasks
(``callgym_fol_agent``, ``callgym_gsm8k_agent``, ``callgym_bfcl_multi_turn_*_agent``) this
model's "generation" is a whole episode: it plays the doc's problem in the env, call after
call with each result fed back (and, in a conversation env such as BFCL's, user turn after
user turn), through callgym's rollout engine and one of its backends (``hf``, ``vllm``,
``openai``, ``lm_eval``), and returns the episode's result
(:mod:`callgym.benchmarks.episode_result`: its replies, final answer call and reward). The
task replays the replies in the env and scores the env's verdict, so lm-eval reports
exactly what ``callgym bench`` reports for the same problems, model and settings, whatever
the env.

lm-eval finds models only in its own registry (no entry points), so ``callgym lm-eval
ARGS...`` imports this module (which registers the model) and runs lm-eval's own CLI with
ARGS unchanged::

    callgym lm-eval --model callgym --model_args backend=vllm,model=smollm2-135m \\
        --tasks callgym_fol_agent,callgym_gsm8k_agent --include_path "$(callgym lm-eval-path)" --limit 20

``--model_args`` (``key=value,...``): ``backend`` (default hf), ``model`` (default
smollm2-135m), ``agent`` (student, teacher, no-tool, oracle, random), ``protocol`` (text or
native), ``bootstrap`` (a call run before the model's first reply; no commas), ``seed``
(env resets and sampling, default 0, as ``callgym bench``), ``batch_size`` (episodes
advanced together, default 32, as ``callgym bench``; lm-eval's ``--batch_size`` is used
when it is above 1), ``episodes`` (a JSONL file to keep every episode in, and to resume
from); any other key goes to the backend (e.g. ``kv_cache_gib=2``, ``base_url=...``).
Sampling comes from the task's ``generation_kwargs`` (``--gen_kwargs``): ``max_gen_toks``
per reply (192), ``temperature`` / ``do_sample``, ``top_p``; each reply still stops at its
first complete call, as in ``callgym bench``, so ``until`` is not used.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import lm_eval.models  # noqa: F401  (first: lm-eval imports its own models only into an empty registry)
from lm_eval.api.model import LM
from lm_eval.api.registry import register_model

from callgym.errors import ConfigError

MODEL_NAME = "callgym"
DEFAULT_BATCH = 32  # callgym bench's --batch-size: the same batches, so the same greedy replies
_LM_EVAL_EXTRAS = ("max_batch_size", "device")  # lm-eval passes these to every model


@register_model(MODEL_NAME)
class CallgymLM(LM):
    """An lm-eval model whose generation for an agent task is a whole callgym episode.

    Args:
        backend: callgym backend: hf, vllm, openai or lm_eval.
        model: model name, local HF folder or hub id.
        agent: the callgym agent that plays (student by default, as ``callgym bench``).
        protocol: "text" (tools described in the prompt) or "native" (``tools=``).
        bootstrap: one call executed before the model's first reply, or "".
        seed: seed of env resets and sampling.
        batch_size: episodes advanced together.
        episodes: JSONL file for the episodes (resumed when it exists), or None.
        **backend_kwargs: passed to the backend (lm-eval's ``device`` and
            ``max_batch_size`` are dropped).
    """

    def __init__(
        self,
        backend: str = "hf",
        model: str = "smollm2-135m",
        agent: str = "student",
        protocol: str = "text",
        bootstrap: str = "",
        seed: int = 0,
        batch_size: int | str | None = None,
        episodes: str | None = None,
        **backend_kwargs: Any,
    ) -> None:
        super().__init__()
        from callgym.agents import make_agent

        for key in _LM_EVAL_EXTRAS:
            backend_kwargs.pop(key, None)
        self.seed, self.episodes = int(seed), episodes
        self.batch_size = _batch_size(batch_size)
        self.agent = make_agent(
            agent, model=str(model), backend=backend, protocol=protocol,
            bootstrap=(bootstrap,) if bootstrap else (), seed=self.seed, backend_kwargs=backend_kwargs,
        )

    @classmethod
    def create_from_arg_obj(
        cls, arg_dict: dict[str, Any], additional_config: dict[str, Any] | None = None
    ) -> CallgymLM:
        """``--model_args`` win over lm-eval's own ``--batch_size`` (whose default, 1, would
        otherwise play one episode at a time)."""
        args = dict(arg_dict)
        theirs = str((additional_config or {}).get("batch_size"))
        if "batch_size" not in args and theirs.isdigit() and int(theirs) > 1:
            args["batch_size"] = int(theirs)
        return cls(**args)

    @classmethod
    def create_from_arg_string(
        cls, arg_string: str, additional_config: dict[str, Any] | None = None
    ) -> CallgymLM:
        from lm_eval.utils import simple_parse_args_string

        return cls.create_from_arg_obj(simple_parse_args_string(arg_string), additional_config)

    # ------------------------------------------------------------------ requests

    def generate_until(self, requests: list[Any], disable_tqdm: bool = False) -> list[str]:
        """Play one episode per request (a repeated request is another sample of its
        problem); return each episode's result (:func:`callgym.benchmarks.episode_result.dumps`)."""
        from callgym.agents.rollout import rollout
        from callgym.benchmarks import episode_result

        plan = _plan(requests)
        results: dict[tuple[str, str, int, int], str] = {}
        for (env_id, env_kwargs, gen_kwargs), keys in plan.items():
            if hasattr(self.agent, "sampling"):  # scripted agents (oracle, random) do not sample
                self.agent.sampling = _sampling(json.loads(gen_kwargs), self.seed)
            indices = sorted({index for index, _ in keys})
            samples = 1 + max(sample for _, sample in keys)
            result = rollout(
                env_id, json.loads(env_kwargs), self.agent, indices, samples=samples, seed=self.seed,
                out=self.episodes, resume=bool(self.episodes), batch_size=self.batch_size,
                progress=not disable_tqdm,
            )
            earlier = _earlier(self.episodes, env_id, env_kwargs) if result.skipped else []
            episodes = result.episodes + earlier
            for ep in episodes:
                results[(env_id, env_kwargs, ep.index, ep.sample)] = episode_result.dumps(ep)
        return [results.get(key, "") for key in _request_keys(requests)]

    def loglikelihood(self, requests: list[Any]) -> list[tuple[float, bool]]:
        raise ConfigError(_ONLY_AGENT_TASKS)

    def loglikelihood_rolling(self, requests: list[Any]) -> list[float]:
        raise ConfigError(_ONLY_AGENT_TASKS)

    # --apply_chat_template: the context is not what the model reads (the env writes the
    # chat), so the template is the identity and the cache key names callgym.
    def apply_chat_template(
        self, chat_history: list[dict[str, str]], add_generation_prompt: bool = True
    ) -> str:
        return "\n\n".join(str(m.get("content", "")) for m in chat_history)

    @property
    def tokenizer_name(self) -> str:
        return f"callgym-{self.agent.describe().get('model', '')}"

    def get_model_info(self) -> dict[str, Any]:
        """What lm-eval records in its results' config: the agent that played."""
        return {"callgym_agent": self.agent.describe()}


_ONLY_AGENT_TASKS = (
    "the callgym lm-eval model plays whole episodes: use it with generate_until tasks whose docs name a "
    "callgym env (the callgym_*_agent tasks), not with loglikelihood tasks"
)


def _batch_size(value: int | str | None) -> int:
    if value is None:
        return DEFAULT_BATCH
    if isinstance(value, bool) or not str(value).isdigit() or int(value) < 1:
        raise ConfigError(f"batch_size={value!r} must be a positive integer (episodes advanced together)")
    return int(value)


def _doc_key(request: Any) -> tuple[str, str, int]:
    doc = getattr(request, "doc", None) or {}
    if not isinstance(doc, dict) or "env_id" not in doc or "index" not in doc:
        task = getattr(request, "task_name", None) or "this task"
        raise ConfigError(f"{task}: its docs name no callgym env; {_ONLY_AGENT_TASKS}")
    kwargs = doc.get("env_kwargs") or "{}"
    kwargs = kwargs if isinstance(kwargs, str) else json.dumps(kwargs, sort_keys=True)
    return str(doc["env_id"]), json.dumps(json.loads(kwargs), sort_keys=True), int(doc["index"])


def _request_keys(requests: Sequence[Any]) -> list[tuple[str, str, int, int]]:
    """(env, kwargs, index, sample): the k-th request for one doc is its sample k."""
    seen: dict[tuple[str, str, int], int] = {}
    keys = []
    for request in requests:
        doc = _doc_key(request)
        seen[doc] = seen.get(doc, -1) + 1
        keys.append((*doc, seen[doc]))
    return keys


def _plan(requests: Sequence[Any]) -> dict[tuple[str, str, str], list[tuple[int, int]]]:
    """Requests grouped by env config and generation settings: one rollout each."""
    plan: dict[tuple[str, str, str], list[tuple[int, int]]] = {}
    for request, (env_id, kwargs, index, sample) in zip(requests, _request_keys(requests)):
        gen_kwargs = (
            request.arguments[1]
            if len(request.arguments) > 1 and isinstance(request.arguments[1], dict)
            else {}
        )
        plan.setdefault((env_id, kwargs, json.dumps(gen_kwargs, sort_keys=True, default=str)), []).append(
            (index, sample)
        )
    return plan


def _sampling(gen_kwargs: dict[str, Any], seed: int) -> Any:
    from callgym.agents.backends.base import Sampling

    greedy = not gen_kwargs.get("do_sample", False)
    temperature = 0.0 if greedy else float(gen_kwargs.get("temperature", 1.0) or 0.0)
    return Sampling(temperature=temperature, top_p=float(gen_kwargs.get("top_p", 1.0) or 1.0),
                    max_tokens=int(gen_kwargs.get("max_gen_toks", 192)), seed=seed)


def _earlier(path: str | None, env_id: str, env_kwargs: str) -> list[Any]:
    """The episodes an earlier, resumed run already wrote for this env config."""
    from callgym.benchmarks.metrics import kwargs_key
    from callgym.episode import read_episodes

    return (
        [e for e in read_episodes(path) if e.env_id == env_id and kwargs_key(e.env_kwargs) == env_kwargs]
        if path
        else []
    )


def main(argv: Sequence[str]) -> int:
    """``callgym lm-eval ARGS...``: lm-eval's own CLI, ARGS unchanged, with ``--model callgym`` known."""
    from lm_eval.__main__ import cli_evaluate

    saved = sys.argv
    sys.argv = ["lm-eval", *argv]
    try:
        cli_evaluate()
    except SystemExit as e:  # argparse's --help and usage errors
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.argv = saved
    return 0
