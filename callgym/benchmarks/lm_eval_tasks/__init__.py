"""callgym's lm-evaluation-harness tasks: ``callgym_gsm8k``, ``callgym_fol`` and the group
``callgym`` (single-turn, below), and the agent tasks ``callgym_gsm8k_agent``,
``callgym_fol_agent`` (group ``callgym_agent``) and
``callgym_bfcl_multi_turn_{base,miss_func,miss_param,long_context}_agent`` (group
``callgym_bfcl_multi_turn_agent``), whole episodes played by the lm-eval model ``callgym``
(:mod:`callgym.benchmarks.lm_eval_model`).

lm-eval is single-turn, so each prompt of a single-turn task asks the model for its whole
chain of function calls in one reply; callgym replays the chain in the env to score it
(accuracy, valid-call rate). A conversation env (BFCL) cannot be played that way: its
single-turn docs are refused, and its agent tasks play it.
Docs are built offline from callgym's envs, never from a dataset hub.

    lm_eval --model hf --model_args pretrained=PATH --tasks callgym_gsm8k,callgym_fol \\
        --include_path "$(callgym lm-eval-path)" --apply_chat_template --limit 20

``--tasks callgym`` runs both and averages them. Pass ``--apply_chat_template`` for chat
models: without it an instruct model reads the prompt as a document and tends to continue
it (echoing the function list) instead of answering.

Change the problems with ``--metadata`` (it applies to every task of the run): ``n=200
start=0``, ``env_kwargs='{"split": "test"}'`` or, for GSM8K, ``data=/path/test.jsonl`` (see
the YAML files for the defaults). BFCL's envs take ``max_steps`` and ``max_invalid`` but no
``split``, so pass ``env_kwargs`` in a run of their tasks alone.
"""

from __future__ import annotations

from pathlib import Path


def task_dir() -> str:
    """The folder holding the task YAML files, for lm-eval's ``--include_path``."""
    return str(Path(__file__).resolve().parent)
