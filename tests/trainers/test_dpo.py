"""DPO runs on a tiny random model (seconds) and, marked slow, on the embedded SmolLM2-135M."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from callgym.trainers import DPOConfig, train_dpo
from callgym.trainers.callbacks import MetricsCallback
from callgym.cli import main


class Killed(Exception):
    """Stands for a kill arriving right after a checkpoint was written."""


def _config(model: Path, pairs: Path, out: Path, **changes) -> DPOConfig:
    base = {
        "model": str(model),
        "pairs": str(pairs),
        "output_dir": str(out),
        "max_steps": 4,
        "save_steps": 2,
        "batch_size": 2,
        "gradient_accumulation_steps": 1,
        "learning_rate": 1e-3,
        "max_length": 256,
    }
    return DPOConfig(**{**base, **changes})


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    from transformers import AutoModelForCausalLM

    return {k: v.clone() for k, v in AutoModelForCausalLM.from_pretrained(str(folder)).state_dict().items()}


def _metrics(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def test_saved_pairs_feed_stock_trl(tiny_model, pairs_dir, tmp_path):
    """The folder `save_pairs` writes is a dataset TRL's DPOTrainer takes as it is."""
    from datasets import load_from_disk
    from transformers import AutoTokenizer
    from trl import DPOConfig as TRLDPOConfig
    from trl import DPOTrainer

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model))
    args = TRLDPOConfig(output_dir=str(tmp_path), report_to="none", bf16=False, max_steps=1)
    trainer = DPOTrainer(
        model=str(tiny_model),
        args=args,
        train_dataset=load_from_disk(str(pairs_dir)),
        processing_class=tokenizer,
    )
    example = trainer.train_dataset[0]
    prompt = tokenizer.apply_chat_template(example["prompt"], tokenize=False, add_generation_prompt=True)
    assert tokenizer.decode(example["prompt_ids"]) == prompt
    assert tokenizer.decode(example["chosen_ids"]).startswith(example["chosen"][0]["content"])
    trainer.train()
    assert trainer.state.global_step == 1


@pytest.fixture(scope="module")
def full_run(tiny_model, pairs_dir, tmp_path_factory) -> Path:
    return train_dpo(_config(tiny_model, pairs_dir, tmp_path_factory.mktemp("dpo") / "run"))


def test_run_writes_a_loadable_model_metrics_and_results(full_run, tiny_model):
    from transformers import AutoTokenizer

    assert (full_run / "config.json").is_file() and (full_run / "model.safetensors").is_file()
    assert sorted(p.name for p in full_run.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-4"]
    trained, base = _weights(full_run), _weights(tiny_model)
    assert trained.keys() == base.keys() and any(not torch.equal(trained[k], base[k]) for k in base)
    assert AutoTokenizer.from_pretrained(str(full_run)).chat_template
    results = json.loads((full_run / "results.json").read_text())
    # 4 steps x 2 pairs: the run trains on (and scores) 8 of the 12 pairs
    assert results["global_step"] == 4 and results["num_pairs"] == 8 and results["peak_rss_mb"] > 100
    assert results["dpo_train_seconds"] > 0 and results["resumed_from"] is None
    assert 0 < results["tokens"]["chosen_counted_tokens"] < results["tokens"]["chosen_sequence_tokens"]
    logs = [m for m in _metrics(full_run) if "loss" in m]
    assert [m["step"] for m in logs] == [1, 2, 3, 4] and {m["phase"] for m in logs} == {"dpo"}
    assert all("rewards/margins" in m and "rewards/accuracies" in m for m in logs)
    assert logs[-1]["rewards/margins"] > 0  # lr 1e-3 on 6 pairs: the margin opens up
    assert json.loads((full_run / "trainer_state.json").read_text())["global_step"] == 4


def test_resume_after_a_kill_continues_to_the_same_model(
    full_run, tiny_model, pairs_dir, tmp_path, monkeypatch
):
    config = _config(tiny_model, pairs_dir, tmp_path / "run")

    def kill_after_checkpoint(self, args, state, control, **kwargs):
        raise Killed(state.global_step)

    monkeypatch.setattr(MetricsCallback, "on_save", kill_after_checkpoint, raising=False)
    with pytest.raises(Killed):
        train_dpo(config)
    assert (tmp_path / "run" / "checkpoint-2").is_dir() and not (
        tmp_path / "run" / "model.safetensors"
    ).exists()
    monkeypatch.undo()
    train_dpo(config)
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["resumed_from"].endswith("checkpoint-2") and results["global_step"] == 4
    resumed, uninterrupted = _weights(tmp_path / "run"), _weights(full_run)
    for name, tensor in uninterrupted.items():
        torch.testing.assert_close(resumed[name], tensor, rtol=1e-4, atol=1e-5)


def test_lora_with_sft_warmup_through_the_script(tiny_model, pairs_dir, tmp_path):
    path = tmp_path / "dpo.yaml"
    path.write_text(
        f"model: {tiny_model}\npairs: {pairs_dir}\noutput_dir: {tmp_path / 'run'}\nmax_steps: 2\n"
    )
    overrides = [
        "lora=true",
        "lora_r=4",
        "learning_rate=1e-2",
        "sft_warmup_steps=2",
        "mask_env_tokens=false",
        "batch_size=2",
        "gradient_accumulation_steps=1",
    ]
    assert main(["train", "dpo", "--config", str(path), *overrides]) == 0
    out = tmp_path / "run"
    assert not (out / "adapter_config.json").exists()  # merged: a plain model folder
    assert (out / "sft-warmup" / "model" / "config.json").is_file()
    merged, base = _weights(out), _weights(tiny_model)
    assert merged.keys() == base.keys() and any(not torch.equal(merged[k], base[k]) for k in base)
    phases = [m["phase"] for m in _metrics(out) if "loss" in m]
    assert phases == ["sft", "sft", "dpo", "dpo"]
    results = json.loads((out / "results.json").read_text())
    assert results["model_path"].endswith("sft-warmup/model") and results["sft_warmup_seconds"] > 0
    tokens = results["tokens"]  # env tokens counted: everything after the prompt
    assert tokens["chosen_counted_tokens"] > 40


@pytest.mark.slow
def test_embedded_model_lora_two_steps(pairs_dir, tmp_path):
    models = pytest.importorskip(
        "callgym.agents.models", reason="callgym.agents.models (the embedded model) is not available yet"
    )
    model = models.resolve_model("smollm2-135m")
    config = DPOConfig(
        model=str(model),
        pairs=str(pairs_dir),
        output_dir=str(tmp_path / "run"),
        lora=True,
        learning_rate=5e-5,
        max_steps=2,
        save_steps=2,
        batch_size=2,
        gradient_accumulation_steps=1,
        num_threads=1,
    )
    out = train_dpo(config)
    results = json.loads((out / "results.json").read_text())
    assert results["global_step"] == 2
    from transformers import AutoModelForCausalLM

    assert AutoModelForCausalLM.from_pretrained(str(out)).config.num_hidden_layers == 30


def test_sft_only_ablation_saves_the_warmed_up_model(tiny_model, pairs_dir, tmp_path):
    """max_steps=0 with an SFT warm-up: no DPO, the SFT model is the result (one-key ablation)."""
    out = train_dpo(_config(tiny_model, pairs_dir, tmp_path / "run", max_steps=0, sft_warmup_steps=2))
    results = json.loads((out / "results.json").read_text())
    assert results["global_step"] == 0 and results["sft_warmup_seconds"] > 0
    sft, final, base = _weights(out / "sft-warmup" / "model"), _weights(out), _weights(tiny_model)
    assert all(torch.equal(final[k], sft[k]) for k in sft)
    assert any(not torch.equal(final[k], base[k]) for k in base)
    assert {m["phase"] for m in _metrics(out) if "loss" in m} == {"sft"}


def test_cpu_with_native_bf16_trains_in_bf16(tiny_model, pairs_dir, tmp_path, monkeypatch):
    """Where the CPU computes bf16 natively (AVX512-BF16, AMX) the default is bf16 mixed
    precision, and both the SFT warm-up and DPO train with it (transformers refused bf16
    without a GPU unless told it runs on the CPU)."""
    import callgym.trainers.dpo as dpo

    monkeypatch.setattr(dpo, "cpu_dtype", lambda: "bfloat16")
    out = train_dpo(_config(tiny_model, pairs_dir, tmp_path / "run", max_steps=1, sft_warmup_steps=1))
    results = json.loads((out / "results.json").read_text())
    assert results["global_step"] == 1 and results["model_path"].endswith("sft-warmup/model")
    assert json.loads((out / "trainer_state.json").read_text())["global_step"] == 1


def test_a_capped_run_scores_only_the_pairs_it_trains_on(tiny_model, pairs_dir, tmp_path):
    """max_steps x batch below the dataset size: the run (reference pass included) takes a
    seeded sample of exactly that many pairs, one epoch of them, not all twelve."""
    config = _config(tiny_model, pairs_dir, tmp_path / "run", max_steps=2, batch_size=2)
    results = json.loads((train_dpo(config) / "results.json").read_text())
    assert results["num_pairs"] == 4 and results["epoch"] == 1.0
