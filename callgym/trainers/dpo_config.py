"""Settings of a DPO run: a dataclass whose fields carry their help, filled from YAML.

>>> cfg = DPOConfig(pairs="runs/pairs", output_dir="runs/dpo", lora=True)
>>> cfg.with_overrides(["beta=0.2", "max_steps=10"]).beta
0.2
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any

import yaml

from callgym.errors import ConfigError
from callgym.registry import did_you_mean
from callgym.yaml_files import CONFIGS_DIR, parse_key_values, read_yaml_mapping, shipped_or_path

LOSS_TYPES = (
    "sigmoid",
    "sigmoid_norm",
    "ipo",
    "hinge",
    "robust",
    "exo_pair",
    "apo_zero",
    "apo_down",
    "discopop",
)


@dataclass
class DPOConfig:
    """A callgym DPO run: data, model, optimisation, LoRA, masking, checkpoints."""

    # data and model
    pairs: str = field(
        default="",
        metadata={"help": "Pairs folder written by `callgym pairs` (or a TRL-format JSONL file)."},
    )
    output_dir: str = field(
        default="",
        metadata={"help": "Run folder: checkpoints, metrics.jsonl, results.json and the final model."},
    )
    model: str = field(
        default="smollm2-135m",
        metadata={"help": "Model to train: a callgym model name or a local HF model folder."},
    )
    # optimisation
    learning_rate: float = field(
        default=5e-6,
        metadata={"help": "Peak learning rate of AdamW (LoRA usually wants 10-100x more)."},
    )
    beta: float = field(
        default=0.1,
        metadata={"help": "DPO beta: higher keeps the policy closer to the reference."},
    )
    loss_type: str = field(
        default="sigmoid",
        metadata={"help": f"TRL DPO loss: one of {', '.join(LOSS_TYPES)}."},
    )
    epochs: float = field(
        default=1.0,
        metadata={"help": "Passes over the pairs (ignored when max_steps > 0)."},
    )
    max_steps: int = field(
        default=-1,
        metadata={
            "help": "DPO optimizer steps to run; -1 runs `epochs` epochs; 0 runs no DPO (the SFT warm-up's "
            "model is the result: the SFT-only ablation)."
        },
    )
    batch_size: int = field(
        default=1,
        metadata={
            "help": "Pairs per device per forward pass (on CPU, 1 avoids padding and bounds memory; raise "
            "gradient_accumulation_steps instead)."
        },
    )
    gradient_accumulation_steps: int = field(
        default=8,
        metadata={"help": "Forward passes per optimizer step (effective batch = batch_size x this)."},
    )
    max_length: int | None = field(
        default=1024,
        metadata={"help": "Tokens kept per prompt+chain (the start is kept); null for no limit."},
    )
    lr_scheduler_type: str = field(
        default="linear",
        metadata={"help": "transformers scheduler name: linear, cosine, constant, ..."},
    )
    warmup_steps: float = field(
        default=0,
        metadata={"help": "Learning-rate warm-up steps (a float < 1 is a fraction of all steps)."},
    )
    # LoRA
    lora: bool = field(
        default=False,
        metadata={
            "help": "Train a LoRA adapter (peft) and merge it into the final model; else full fine-tuning."
        },
    )
    lora_r: int = field(
        default=16,
        metadata={"help": "LoRA rank."},
    )
    lora_alpha: int = field(
        default=32,
        metadata={"help": "LoRA alpha (scale = alpha / r)."},
    )
    lora_dropout: float = field(
        default=0.05,
        metadata={"help": "Dropout on the LoRA path."},
    )
    lora_target_modules: list[str] | str = field(
        default="all-linear",
        metadata={"help": "Modules LoRA adapts: 'all-linear' or a list of names."},
    )
    # method switches (the ablations)
    mask_env_tokens: bool = field(
        default=True,
        metadata={
            "help": "Count only the model's own tokens in the DPO log-probs; false also counts the env "
            "results inside a chain (the original study's setting)."
        },
    )
    sft_warmup_steps: int = field(
        default=0,
        metadata={
            "help": "Steps of SFT on the chosen chains before DPO (0: none); DPO then starts from and is "
            "anchored to the SFT model."
        },
    )
    sft_learning_rate: float | None = field(
        default=None,
        metadata={"help": "Learning rate of the SFT warm-up; null uses learning_rate."},
    )
    packing: bool = field(
        default=True,
        metadata={
            "help": "Pack each batch (SFT and DPO) as a prefix tree, every distinct prefix computed once, "
            "and compute reference log-probs once per unique chain; same log-probs, loss and gradients as "
            "TRL's padded rows up to float rounding. false: TRL's padded rows."
        },
    )
    precompute_ref_log_probs: bool = field(
        default=True,
        metadata={
            "help": "Compute the reference log-probs once before training, so the reference model is not "
            "kept in memory."
        },
    )
    # run control
    seed: int = field(
        default=0,
        metadata={"help": "Seed of shuffling, dropout and LoRA initialisation."},
    )
    save_steps: int = field(
        default=50,
        metadata={"help": "Save a checkpoint every this many optimizer steps."},
    )
    save_total_limit: int | None = field(
        default=2,
        metadata={"help": "Checkpoints kept (older ones are deleted); null keeps all."},
    )
    logging_steps: int = field(
        default=1,
        metadata={"help": "Log loss, reward margins and accuracies every this many steps."},
    )
    resume: bool = field(
        default=True,
        metadata={"help": "Continue from the latest checkpoint in output_dir when there is one."},
    )
    gradient_checkpointing: bool = field(
        default=True,
        metadata={
            "help": "Recompute activations in the backward pass: ~40% less memory (SmolLM2-135M, 1 pair of "
            "~600 tokens: 5 GB instead of 8) for 5-15% more time."
        },
    )
    num_threads: int | None = field(
        default=None,
        metadata={
            "help": "CPU threads for torch; null keeps torch's default (all cores). On a busy shared CPU, 1 "
            "avoids thread contention and can be several times faster."
        },
    )
    bf16: bool | None = field(
        default=None,
        metadata={"help": "bfloat16 mixed precision; null: on with a bf16 GPU or a CPU with native bf16 "
                 "(AVX512-BF16, AMX), else off (CALLGYM_DTYPE=float32 turns it off too)."},
    )
    report_to: str = field(
        default="none",
        metadata={"help": "Experiment trackers for transformers (none, tensorboard, wandb, ...)."},
    )
    trl_args: dict[str, Any] = field(
        default_factory=dict,
        metadata={"help": "Extra trl.DPOConfig / TrainingArguments fields, passed through verbatim."},
    )

    def __post_init__(self) -> None:
        for name in ("pairs", "output_dir", "model"):
            if not isinstance(getattr(self, name), (str, os.PathLike)):
                raise ConfigError(f"{name}={getattr(self, name)!r} must be a path or name")
            setattr(self, name, os.fspath(getattr(self, name)))
        self._check_positive()
        self._check_ranges()

    def _check_positive(self) -> None:
        for name in (
            "learning_rate",
            "beta",
            "batch_size",
            "gradient_accumulation_steps",
            "lora_r",
            "lora_alpha",
            "save_steps",
            "logging_steps",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ConfigError(f"{name}={value!r} must be a positive number")
        if self.sft_learning_rate is not None and not self.sft_learning_rate > 0:
            raise ConfigError(f"sft_learning_rate={self.sft_learning_rate!r} must be positive or null")
        if self.max_length is not None and (not isinstance(self.max_length, int) or self.max_length < 16):
            raise ConfigError(f"max_length={self.max_length!r} must be an integer >= 16 or null")

    def _check_ranges(self) -> None:
        if self.loss_type not in LOSS_TYPES:
            raise ConfigError(f"loss_type={self.loss_type!r}; use one of {', '.join(LOSS_TYPES)}")
        if self.max_steps < -1 or (self.max_steps == 0 and not self.sft_warmup_steps):
            raise ConfigError(
                f"max_steps={self.max_steps!r} must be positive, -1 to run `epochs` epochs, or 0 (SFT only) "
                "with sft_warmup_steps > 0"
            )
        if self.max_steps == -1 and not self.epochs > 0:
            raise ConfigError(f"epochs={self.epochs!r} must be positive when max_steps is -1")
        if not 0 <= self.lora_dropout < 1:
            raise ConfigError(f"lora_dropout={self.lora_dropout!r} must be in [0, 1)")
        if self.sft_warmup_steps < 0 or self.warmup_steps < 0:
            raise ConfigError(
                f"sft_warmup_steps={self.sft_warmup_steps!r} and warmup_steps={self.warmup_steps!r} "
                "must be >= 0"
            )
        if self.num_threads is not None and (not isinstance(self.num_threads, int) or self.num_threads < 1):
            raise ConfigError(f"num_threads={self.num_threads!r} must be a positive integer or null")
        if self.save_total_limit is not None and self.save_total_limit < 1:
            raise ConfigError(f"save_total_limit={self.save_total_limit!r} must be >= 1 or null")
        if not isinstance(self.trl_args, Mapping):
            raise ConfigError(f"trl_args={self.trl_args!r} must be a mapping of trl.DPOConfig fields")

    def require_paths(self) -> None:
        """Raise when the paths a run needs are unset (checked at train time, not at load)."""
        for name, flag in (("pairs", "pairs=DIR"), ("output_dir", "output_dir=DIR")):
            if not getattr(self, name):
                raise ConfigError(f"{name} is not set; put it in the YAML file or pass {flag}")

    # ----------------------------------------------------------------- loading

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "config") -> DPOConfig:
        """Build from plain data, naming any unknown key and the nearest known one."""
        known = [f.name for f in fields(cls)]
        for key in data:
            if key not in known:
                raise ConfigError(
                    f"{where}: unknown key {key!r}.{did_you_mean(str(key), known)} Known: {', '.join(known)}"
                )
        try:
            return cls(**{k: _coerce(cls, k, v) for k, v in data.items()})
        except TypeError as e:  # e.g. a number compared with a string
            raise ConfigError(f"{where}: {e}") from e

    @classmethod
    def from_yaml(
        cls, path: str | os.PathLike[str] | None, overrides: Iterable[str] | Mapping[str, Any] = ()
    ) -> DPOConfig:
        """Read a YAML file (None: defaults only), then apply ``key=value`` overrides."""
        data: dict[str, Any] = {}
        if path is not None:
            path = shipped_or_path(path, CONFIGS_DIR, "DPO config")
            data = read_yaml_mapping(path, "see `callgym train dpo --help` for the fields")
        data.update(parse_overrides(overrides))
        return cls.from_dict(data, str(path or "overrides"))

    def with_overrides(self, overrides: Iterable[str] | Mapping[str, Any]) -> DPOConfig:
        """A copy with ``key=value`` overrides applied."""
        return DPOConfig.from_dict({**self.to_dict(), **parse_overrides(overrides)})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    @classmethod
    def help_text(cls) -> str:
        """One line per field: name, default and help (for ``--help``)."""
        lines = []
        for f in fields(cls):
            default = f.default_factory() if f.default is MISSING else f.default  # type: ignore[misc]
            text = f"{f.name} (default {default!r}): {f.metadata['help']}"
            lines.append(textwrap.fill(text, 100, initial_indent="  ", subsequent_indent="      "))
        return "\n".join(lines)


def _coerce(cls: type, name: str, value: Any) -> Any:
    """YAML 1.1 reads ``5e-6`` as a string: turn it into the float the field wants."""
    annotation = str(next(f.type for f in fields(cls) if f.name == name))
    if isinstance(value, str) and annotation.startswith("float"):
        try:
            return float(value)
        except ValueError:
            raise ConfigError(f"{name}={value!r} must be a number") from None
    return value


def parse_overrides(overrides: Iterable[str] | Mapping[str, Any]) -> dict[str, Any]:
    """``["beta=0.2", "lora=true"]`` to ``{"beta": 0.2, "lora": True}``; values are YAML."""
    if isinstance(overrides, Mapping):
        return dict(overrides)
    return parse_key_values(overrides, "override")
