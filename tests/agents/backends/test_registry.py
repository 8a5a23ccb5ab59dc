"""The backend registry: lazy entries, near-name hints, and a light import."""

from __future__ import annotations

import subprocess
import sys

import pytest

from callgym.agents.backends import BACKENDS, Backend, Sampling, make_backend
from callgym.errors import ConfigError, UnknownNameError


def test_every_backend_is_registered() -> None:
    assert BACKENDS.names() == ["hf", "lm_eval", "openai", "vllm"]


def test_unknown_backend_suggests_a_near_name() -> None:
    with pytest.raises(UnknownNameError, match=r"unknown backend 'vlm'\. Did you mean 'vllm'\?"):
        make_backend("vlm", "smollm2-135m")


def test_importing_the_backends_loads_no_heavy_library() -> None:
    code = (
        "import sys, callgym.agents.backends, callgym.agents.models, callgym.agents.backends.stopping\n"
        "print(sorted(m for m in ('torch', 'vllm', 'transformers', 'openai', 'lm_eval') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_backend_classes_follow_the_protocol() -> None:
    for name in BACKENDS.names():
        cls = BACKENDS.get(name)
        assert cls.name == name
        assert callable(cls.generate) and callable(cls.close)
    backend = make_backend("openai", "auto", base_url="http://127.0.0.1:9/v1")  # builds without a server
    try:
        assert isinstance(backend, Backend)
    finally:
        backend.close()


def test_a_misspelt_option_names_the_near_one_and_the_list() -> None:
    with pytest.raises(
        ConfigError, match=r"backend 'openai' has no option 'concurency'\. Did you mean 'concurrency'\?"
    ):
        make_backend("openai", "auto", concurency=4)


def test_no_chats_means_no_replies_and_no_request() -> None:
    backend = make_backend("openai", "auto", base_url="http://127.0.0.1:9/v1")  # nothing listens there
    try:
        assert backend.generate([], Sampling()) == []
    finally:
        backend.close()
