"""DPO on preference pairs with TRL: full fine-tuning or LoRA, env tokens masked, resumable.

>>> from callgym.trainers import DPOConfig, train_dpo
>>> cfg = DPOConfig(pairs="runs/pairs", output_dir="runs/dpo", lora=True, learning_rate=5e-5)
>>> train_dpo(cfg)  # doctest: +SKIP
PosixPath('runs/dpo')

The run folder (``output_dir``) ends up holding:

* the final model (merged if LoRA) and its tokenizer, loadable by
  ``AutoModelForCausalLM.from_pretrained`` and by vLLM;
* ``checkpoint-N/`` every ``save_steps``; a rerun continues from the latest (``resume``);
* ``sft-warmup/`` (with ``sft_warmup_steps``): its checkpoints and its model, DPO's start;
* ``cache/``: tokenized pairs and reference log-probs, reused when a run resumes;
* ``metrics.jsonl`` (one line per log), ``trainer_state.json``, ``callgym_dpo.yaml`` (the
  resolved settings) and ``results.json`` (time, peak memory, final metrics, versions).
"""

from __future__ import annotations

import json
import logging
import resource
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from callgym.cpu import cpu_dtype
from callgym.errors import ConfigError
from callgym.preflight import check_output_dir
from callgym.trainers.dpo_config import DPOConfig
from callgym.trainers.pairs_io import load_pairs

log = logging.getLogger(__name__)

METRICS = "metrics.jsonl"
RESULTS = "results.json"


def train_dpo(config: DPOConfig) -> Path:
    """Train the model on the pairs (SFT warm-up first if asked) and save it to ``output_dir``.

    Returns:
        ``output_dir``, which holds the final model and ``results.json``.
    """
    config.require_paths()
    pairs = load_pairs(config.pairs)  # a missing or damaged pairs folder fails before anything is written
    check_output_dir(config.output_dir, "output_dir")
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "callgym_dpo.yaml").write_text(config.to_yaml(), encoding="utf-8")
    seconds: dict[str, float] = {}
    with _timed(seconds, "total"), _torch_threads(config.num_threads):
        model_path = resolve_model_path(config.model)
        tokenizer = load_tokenizer(model_path)
        if config.sft_warmup_steps:
            with _timed(seconds, "sft_warmup"):
                model_path = sft_warmup(config, model_path, tokenizer, pairs)
        if config.max_steps == 0:  # SFT only (an ablation): the warmed-up model is the result
            _copy_model(Path(model_path), out)
        else:
            trainer, dataset, output, checkpoint = _dpo(config, model_path, tokenizer, pairs, seconds)
    if config.max_steps == 0:
        _write_sft_only_results(out, config, model_path, seconds)
    else:
        _write_results(out, config, model_path, dataset, trainer, output.metrics, seconds, checkpoint)
    return out


def _dpo(config: DPOConfig, model_path: str, tokenizer: Any, pairs: Any, seconds: dict[str, float]) -> tuple:
    """Prepare and run DPO, save the model into ``output_dir``.

    Returns:
        (trainer, dataset, train output, checkpoint).
    """
    out = Path(config.output_dir)
    with _timed(seconds, "dpo_prepare"):  # token masks, tokenization, reference log-probs
        trainer, dataset = _dpo_trainer(config, model_path, tokenizer, pairs)
    checkpoint = last_checkpoint(out, config.resume)
    with _timed(seconds, "dpo_train"):
        output = trainer.train(resume_from_checkpoint=checkpoint)
    save_model(trainer, tokenizer, out)
    trainer.save_state()
    return trainer, dataset, output, checkpoint


@contextmanager
def _timed(seconds: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        seconds[name] = round(time.perf_counter() - started, 2)


@contextmanager
def _torch_threads(n: int | None) -> Iterator[None]:
    """Run with ``n`` torch CPU threads (None: unchanged), restoring the previous number."""
    import torch

    previous = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def resolve_model_path(name_or_path: str) -> str:
    """A local HF model folder (or hub id) for a callgym model name or a path."""
    try:
        from callgym.agents.models import resolve_model
    except ImportError as e:  # the model registry is optional here: a folder is enough
        if Path(name_or_path).is_dir():
            return str(name_or_path)
        raise ConfigError(
            f"model={name_or_path!r} is not a folder, and model names need callgym.agents.models ({e})"
        ) from e
    return str(resolve_model(name_or_path))


def load_tokenizer(model_path: str) -> Any:
    """The model's tokenizer, with a pad token and a chat template checked."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if not getattr(tokenizer, "chat_template", None):
        raise ConfigError(
            f"{model_path}: the tokenizer has no chat template; the pairs are chats, use an instruct model"
        )
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def last_checkpoint(out: Path, resume: bool) -> str | None:
    """The checkpoint to resume from: the latest in ``out`` when ``resume``, else None."""
    from transformers.trainer_utils import get_last_checkpoint

    last = get_last_checkpoint(str(out)) if out.is_dir() else None
    if last and resume:
        log.info("resuming from %s", last)
        return last
    if last:
        log.warning("%s holds checkpoints but resume is false: training starts over", out)
    return None


def _common_args(config: DPOConfig, out: Path) -> dict[str, Any]:
    """TrainingArguments shared by the SFT warm-up and DPO."""
    import torch

    on_gpu = torch.cuda.is_available()
    bf16 = config.bf16
    if bf16 is None:  # only where bf16 is native: emulated bf16 on an AVX2 CPU is ~4x slower than fp32
        bf16 = torch.cuda.is_bf16_supported() if on_gpu else cpu_dtype() == "bfloat16"
    return {
        "output_dir": str(out),
        "per_device_train_batch_size": config.batch_size,
        "gradient_accumulation_steps": config.gradient_accumulation_steps,
        "max_length": config.max_length,
        "lr_scheduler_type": config.lr_scheduler_type,
        "warmup_steps": config.warmup_steps,
        "seed": config.seed,
        "save_strategy": "steps",
        "save_steps": config.save_steps,
        "save_total_limit": config.save_total_limit,
        "logging_steps": config.logging_steps,
        "logging_first_step": True,
        "bf16": bf16,
        # transformers refuses bf16 without a GPU unless told it trains on the CPU
        "use_cpu": not on_gpu,
        "gradient_checkpointing": config.gradient_checkpointing,
        "report_to": config.report_to,
        "dataloader_pin_memory": on_gpu,
    }


def _trl_config(config: DPOConfig, out: Path) -> Any:
    from trl import DPOConfig as TRLDPOConfig

    kwargs = _common_args(config, out)
    kwargs.update(
        learning_rate=config.learning_rate,
        beta=config.beta,
        loss_type=[config.loss_type],
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        precompute_ref_log_probs=config.precompute_ref_log_probs,
        remove_unused_columns=False,  # the token-mask columns must reach our collator
    )
    kwargs.update(config.trl_args)
    try:
        return TRLDPOConfig(**kwargs)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"trl_args: {e}") from e


def lora_config(config: DPOConfig) -> Any:
    """The peft LoraConfig of a run, or None for full fine-tuning."""
    if not config.lora:
        return None
    from peft import LoraConfig

    return LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=config.lora_target_modules,
        task_type="CAUSAL_LM",
    )


def _dpo_trainer(config: DPOConfig, model_path: str, tokenizer: Any, pairs: Any) -> tuple[Any, Any]:
    """TRL's DPOTrainer over the masked pairs (reference log-probs precomputed in its init)."""
    from callgym.trainers.callbacks import MetricsCallback, ProgressCallback
    from callgym.trainers.masking import add_token_masks

    out = Path(config.output_dir)
    (out / "cache").mkdir(parents=True, exist_ok=True)
    # Written under the run folder, so TRL's later caches (tokens, reference log-probs) land there too.
    cache = out / "cache" / f"pairs-{'masked' if config.mask_env_tokens else 'all'}.arrow"
    dataset = add_token_masks(pairs, tokenizer, mask_env_tokens=config.mask_env_tokens, cache_file=str(cache))
    args = _trl_config(config, out)
    dataset = pairs_trained_on(dataset, args)
    trainer_class, collator_class = _dpo_classes(config.packing)
    collator = collator_class(
        pad_token_id=tokenizer.pad_token_id,
        max_length=args.max_length,
        truncation_mode=args.truncation_mode,
        pad_to_multiple_of=args.pad_to_multiple_of,
    )
    trainer = trainer_class(
        model=model_path,
        args=args,
        data_collator=collator,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=lora_config(config),
        callbacks=[MetricsCallback(out / METRICS, "dpo"), ProgressCallback("dpo")],
    )
    return trainer, dataset


def pairs_trained_on(dataset: Any, args: Any) -> Any:
    """The pairs a run of ``args.max_steps`` steps trains on: a seeded sample of that many pairs
    when the dataset holds more, so the reference pass (which scores every pair it is given)
    scores no pair the run never sees (the CPU study: 48 of 299 pairs trained, all 299 scored,
    27 min). ``args``: the run's TRL config, whose batch size counts every process."""
    if args.max_steps <= 0:
        return dataset
    needed = args.max_steps * args.train_batch_size * args.gradient_accumulation_steps * args.world_size
    if needed >= len(dataset):
        return dataset
    log.info("training on %d of %d pairs (max_steps): only those are scored", needed, len(dataset))
    return dataset.shuffle(seed=args.seed).select(range(needed))


def _dpo_classes(packing: bool) -> tuple[type, type]:
    """The trainer and collator: prefix-tree packed, or TRL's padded rows."""
    if packing:
        from callgym.trainers.packing import PackedDPOTrainer, PackedPreferenceCollator

        return PackedDPOTrainer, PackedPreferenceCollator
    from trl import DPOTrainer

    from callgym.trainers.masking import DataCollatorForMaskedPreference

    return DPOTrainer, DataCollatorForMaskedPreference


def sft_warmup(config: DPOConfig, model_path: str, tokenizer: Any, pairs: Any) -> str:
    """SFT on the distinct chosen chains (same token mask as DPO); returns the warmed-up model."""
    from trl import SFTConfig

    from callgym.trainers.callbacks import MetricsCallback, ProgressCallback

    folder = Path(config.output_dir) / "sft-warmup"
    final = folder / "model"
    if (final / "config.json").is_file():
        log.info("SFT warm-up already done: %s", final)
        return str(final)
    kwargs = _common_args(config, folder)
    kwargs.update(
        max_steps=config.sft_warmup_steps, learning_rate=config.sft_learning_rate or config.learning_rate
    )
    trainer_class, extra = _sft_classes(config.packing, tokenizer)
    trainer = trainer_class(
        model=model_path,
        args=SFTConfig(**kwargs),
        train_dataset=chosen_chains(pairs, tokenizer, config.mask_env_tokens),
        processing_class=tokenizer,
        peft_config=lora_config(config),
        callbacks=[MetricsCallback(Path(config.output_dir) / METRICS, "sft"), ProgressCallback("sft")],
        **extra,
    )
    trainer.train(resume_from_checkpoint=last_checkpoint(folder, config.resume))
    save_model(trainer, tokenizer, final)
    return str(final)


def _sft_classes(packing: bool, tokenizer: Any) -> tuple[type, dict[str, Any]]:
    """The SFT trainer and its extra arguments: prefix-tree packed, or TRL's padded rows."""
    if packing:
        from callgym.trainers.packing import PackedLMCollator, PackedSFTTrainer

        return PackedSFTTrainer, {"data_collator": PackedLMCollator(pad_token_id=tokenizer.pad_token_id)}
    from trl import SFTTrainer

    return SFTTrainer, {}


def chosen_chains(pairs: Any, tokenizer: Any, mask_env_tokens: bool) -> Any:
    """The distinct ``prompt + chosen`` chats, tokenized, with ``assistant_masks`` for SFTTrainer."""
    from datasets import Dataset

    from callgym.trainers.masking import token_mask

    seen: set[str] = set()
    rows = []
    for prompt, chosen in zip(pairs["prompt"], pairs["chosen"], strict=True):
        key = json.dumps([prompt, chosen], sort_keys=True)
        if key not in seen:
            seen.add(key)
            ids, mask = token_mask(tokenizer, prompt, chosen, env_tokens=not mask_env_tokens)
            rows.append({"input_ids": ids, "assistant_masks": mask})
    return Dataset.from_list(rows)


def save_model(trainer: Any, tokenizer: Any, folder: Path) -> None:
    """Save the trained model (LoRA merged into it) and the tokenizer as a plain HF folder."""
    model = trainer.accelerator.unwrap_model(trainer.model)
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    model.config.use_cache = True  # training turns the KV cache off; inference wants it back
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    _drop_loader_keys(folder / "tokenizer_config.json")
    log.info("model saved to %s", folder)


def _drop_loader_keys(path: Path) -> None:
    # transformers writes back how the tokenizer was loaded ("is_local", ...); those keys
    # describe the training machine, not the tokenizer, and other loaders need not know them.
    if path.is_file():
        data = json.loads(path.read_text(encoding="utf-8"))
        for key in ("is_local", "local_files_only"):
            data.pop(key, None)
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def _token_stats(dataset: Any) -> dict[str, float]:
    """Mean tokens per pair side: counted by the DPO log-probs, and in the whole prompt + chain."""
    stats = {}
    for side in ("chosen", "rejected"):
        masks = dataset[f"{side}_token_mask"]
        stats[f"{side}_counted_tokens"] = round(sum(map(sum, masks)) / max(len(masks), 1), 1)
        stats[f"{side}_sequence_tokens"] = round(sum(map(len, masks)) / max(len(masks), 1), 1)
    return stats


def _copy_model(source: Path, out: Path) -> None:
    """Copy a saved model folder's files (weights, config, tokenizer) into ``out``."""
    for path in source.iterdir():
        if path.is_file():
            shutil.copy2(path, out / path.name)


def _write_sft_only_results(out: Path, config: DPOConfig, model_path: str, seconds: dict[str, float]) -> None:
    results = {
        "model": config.model,
        "model_path": model_path,
        "final_model": str(out),
        "pairs": config.pairs,
        "global_step": 0,
        **{f"{k}_seconds": v for k, v in seconds.items()},
        "peak_rss_mb": peak_rss_mb(),
        "config": config.to_dict(),
        "timestamp": time.time(),
    }
    (out / RESULTS).write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")


def _computed_tokens(trainer: Any, logs: list[dict[str, Any]]) -> dict[str, Any]:
    """Tokens the model ran over: in training (tree slots when packed, else the rows' tokens) and
    in the reference pass (packed only), beside the tokens of the rows TRL's own pass would run."""
    last = logs[-1] if logs else {}
    return {
        "train": last.get("num_tree_tokens", last.get("num_tokens")),
        "train_rows": last.get("num_tokens"),
        "reference": getattr(trainer, "ref_tokens", None),
        "reference_rows": getattr(trainer, "ref_row_tokens", None),
    }


def _write_results(
    out: Path,
    config: DPOConfig,
    model_path: str,
    dataset: Any,
    trainer: Any,
    metrics: dict[str, Any],
    seconds: dict[str, float],
    checkpoint: str | None,
) -> None:
    import torch
    import transformers
    import trl

    import callgym

    logs = [entry for entry in trainer.state.log_history if "loss" in entry]
    results = {
        "model": config.model,
        "model_path": model_path,
        "final_model": str(out),
        "pairs": config.pairs,
        "num_pairs": len(dataset),
        "tokens": _token_stats(dataset),
        "computed_tokens": _computed_tokens(trainer, logs),
        "global_step": trainer.state.global_step,
        "epoch": trainer.state.epoch,
        "resumed_from": checkpoint,
        **{f"{k}_seconds": v for k, v in seconds.items()},
        "peak_rss_mb": peak_rss_mb(),
        "train_metrics": metrics,
        "last_log": logs[-1] if logs else {},
        "config": config.to_dict(),
        "versions": {
            "callgym": callgym.__version__,
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "trl": trl.__version__,
        },
        "timestamp": time.time(),
    }
    (out / RESULTS).write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    log.info("DPO done in %.0fs (peak memory %.0f MB): %s", seconds["total"], results["peak_rss_mb"], out)
