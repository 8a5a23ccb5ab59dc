from __future__ import annotations

import pytest

from callgym.errors import UnknownNameError, UsageError
from callgym.registry import Registry


def test_lazy_reference_is_imported_on_first_get():
    reg: Registry = Registry("thing")
    reg.register("dumps", "json:dumps")
    assert reg.get("dumps")({"a": 1}) == '{"a": 1}'
    assert "dumps" in reg and reg.names() == ["dumps"]


def test_collisions_are_refused():
    reg: Registry = Registry("thing")
    reg.register("a", 1)
    with pytest.raises(ValueError, match="already registered"):
        reg.register("a", 2)


def test_unknown_name_suggests_near_names():
    reg: Registry = Registry("backend")
    for name in ("vllm", "openai", "hf"):
        reg.register(name, name)
    with pytest.raises(UnknownNameError, match=r"unknown backend 'vlm'\. Did you mean 'vllm'\?") as e:
        reg.get("vlm")
    assert isinstance(e.value, UsageError)


def test_env_ids_are_registered_on_import():
    import gymnasium as gym

    import callgym

    assert {"callgym/GSM8K-v0", "callgym/FOL-v0"} <= set(callgym.envs.env_ids())
    assert "callgym/GSM8K-v0" in gym.registry
    with pytest.raises(UnknownNameError, match="Did you mean 'callgym/GSM8K-v0'"):
        callgym.envs.make("callgym/GSM8k-v0")
