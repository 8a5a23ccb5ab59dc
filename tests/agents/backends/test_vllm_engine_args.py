"""vLLM engine settings on a CPU (no engine started)."""

from __future__ import annotations

import pytest

from callgym.agents.backends import vllm as vllm_backend


@pytest.fixture
def on_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vllm_backend, "_on_cpu", lambda: True)
    monkeypatch.delenv("VLLM_CPU_KVCACHE_SPACE", raising=False)


def _kv_tokens_per_gib_unit(dtype: str) -> float:
    """KV bytes per dtype byte: a cache that holds the same tokens has the same value."""
    kwargs = vllm_backend._engine_kwargs("m", dtype, 4096, None, None, 0, True)
    return kwargs["kv_cache_memory_bytes"] / {"float32": 4, "bfloat16": 2}[kwargs["dtype"]]


@pytest.mark.usefixtures("on_cpu")
def test_the_default_kv_cache_holds_the_same_tokens_in_float32_and_bfloat16() -> None:
    # a float32 cache the size of a bf16 one held half the tokens: long FOL episodes then
    # overflowed it and vLLM recomputed their prefixes every step
    assert _kv_tokens_per_gib_unit("float32") == _kv_tokens_per_gib_unit("bfloat16")


@pytest.mark.usefixtures("on_cpu")
def test_an_explicit_kv_cache_size_is_kept() -> None:
    kwargs = vllm_backend._engine_kwargs("m", "float32", 4096, None, 3, 0, True)
    assert kwargs["kv_cache_memory_bytes"] == 3 * vllm_backend.GiB
