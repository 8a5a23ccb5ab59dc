"""Packed training is TRL's training: same log-probs, loss, reference and gradients.

Each test runs the same batch through TRL's stock trainer (padded rows) and callgym's packed
one (prefix tree), with plain SGD so that one step's weight change is the gradient itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from callgym.trainers import DPOConfig
from callgym.trainers.dpo import _dpo_trainer, _sft_classes, chosen_chains, load_tokenizer
from callgym.trainers.dpo_config import LOSS_TYPES
from callgym.trainers.pairs_io import load_pairs

LR = 1e-2


def _dpo_step(
    model: Path,
    pairs: Path,
    out: Path,
    packing: bool,
    trl_args: dict | None = None,
    batch_size: int = 0,
    **changes,
):
    """One SGD step of DPO (default: all pairs in one batch): (trainer, weight change / lr)."""
    config = DPOConfig(
        model=str(model),
        pairs=str(pairs),
        output_dir=str(out / f"packing-{packing}"),
        max_steps=1,
        batch_size=batch_size or len(load_pairs(str(pairs))),
        gradient_accumulation_steps=1,
        learning_rate=LR,
        bf16=False,
        gradient_checkpointing=False,
        num_threads=1,
        packing=packing,
        trl_args={"optim": "sgd", "lr_scheduler_type": "constant", **(trl_args or {})},
        **changes,
    )
    tokenizer = load_tokenizer(str(model))
    trainer, _ = _dpo_trainer(config, str(model), tokenizer, load_pairs(str(pairs)))
    return trainer, _train_one_step(trainer)


def _train_one_step(trainer) -> dict[str, torch.Tensor]:
    before = {k: v.detach().clone() for k, v in trainer.model.named_parameters() if v.requires_grad}
    trainer.train()
    after = dict(trainer.model.named_parameters())
    return {k: (after[k].detach() - v) / LR for k, v in before.items()}


def _assert_same_training(stock, packed, *, atol: float) -> None:
    (stock_trainer, stock_grads), (packed_trainer, packed_grads) = stock, packed
    stock_log, packed_log = stock_trainer.state.log_history[0], packed_trainer.state.log_history[0]
    assert packed_log["num_tree_tokens"] < packed_log["num_tokens"] == stock_log["num_tokens"]
    for key in ("loss", "rewards/margins", "logps/chosen", "logps/rejected", "entropy"):
        assert packed_log[key] == pytest.approx(stock_log[key], rel=1e-4, abs=atol), key
    names = list(stock_grads)
    for name in [names[0], names[len(names) // 2], names[-1]]:  # embeddings, a middle layer, the last norm
        torch.testing.assert_close(packed_grads[name], stock_grads[name], rtol=1e-3, atol=atol)


def _assert_same_reference(stock_trainer, packed_trainer, *, atol: float) -> None:
    for column in ("ref_chosen_logps", "ref_rejected_logps"):
        torch.testing.assert_close(
            torch.tensor(packed_trainer.train_dataset[column]),
            torch.tensor(stock_trainer.train_dataset[column]),
            rtol=1e-5,
            atol=atol,
        )


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_packed_dpo_step_equals_stock_for_every_loss_type(tiny_model, pairs_dir, tmp_path, loss_type):
    # exo_pair needs label smoothing (TRL refuses 0); robust uses it
    trl_args = {"label_smoothing": 1e-3} if loss_type in ("exo_pair", "robust") else {}
    stock = _dpo_step(tiny_model, pairs_dir, tmp_path, False, trl_args, loss_type=loss_type)
    packed = _dpo_step(tiny_model, pairs_dir, tmp_path, True, trl_args, loss_type=loss_type)
    _assert_same_reference(stock[0], packed[0], atol=1e-4)
    _assert_same_training(stock, packed, atol=1e-5)


@pytest.mark.parametrize(
    "changes",
    [{"mask_env_tokens": False}, {"lora": True, "lora_r": 4}, {"precompute_ref_log_probs": False}],
    ids=["env-tokens-counted", "lora", "reference-in-the-loop"],
)
def test_packed_dpo_step_equals_stock_with_each_switch(tiny_model, pairs_dir, tmp_path, changes):
    stock = _dpo_step(tiny_model, pairs_dir, tmp_path, False, **changes)
    packed = _dpo_step(tiny_model, pairs_dir, tmp_path, True, **changes)
    _assert_same_training(stock, packed, atol=1e-5)


def _sft_step(model: Path, pairs: Path, out: Path, packing: bool):
    from trl import SFTConfig

    tokenizer = load_tokenizer(str(model))
    dataset = chosen_chains(load_pairs(str(pairs)), tokenizer, mask_env_tokens=True)
    args = SFTConfig(
        output_dir=str(out / f"sft-{packing}"),
        per_device_train_batch_size=len(dataset),
        max_steps=1,
        learning_rate=LR,
        optim="sgd",
        lr_scheduler_type="constant",
        report_to="none",
        bf16=False,
        save_strategy="no",
        logging_steps=1,
        dataloader_pin_memory=False,
    )
    trainer_class, extra = _sft_classes(packing, tokenizer)
    trainer = trainer_class(
        model=str(model), args=args, train_dataset=dataset, processing_class=tokenizer, **extra
    )
    return trainer, _train_one_step(trainer)


def test_packed_sft_step_equals_stock(tiny_model, pairs_dir, tmp_path):
    stock_trainer, stock_grads = _sft_step(tiny_model, pairs_dir, tmp_path, False)
    packed_trainer, packed_grads = _sft_step(tiny_model, pairs_dir, tmp_path, True)
    stock_log, packed_log = stock_trainer.state.log_history[0], packed_trainer.state.log_history[0]
    assert packed_log["loss"] == pytest.approx(stock_log["loss"], rel=1e-5)
    assert packed_log["num_tree_tokens"] < packed_log["num_tokens"]  # the system prompt once, not per chain
    for name in stock_grads:
        torch.testing.assert_close(packed_grads[name], stock_grads[name], rtol=1e-3, atol=1e-5)


@pytest.mark.slow
def test_embedded_model_packed_equals_stock(fol_pairs_dir, tmp_path):
    """SmolLM2-135M in float32 on real FOL pairs: every chain's log-probs, the reference, the
    loss and the gradients agree between TRL's padded rows and the prefix tree."""
    models = pytest.importorskip("callgym.agents.models")
    model = models.resolve_model("smollm2-135m")
    # the reference pass covers all 8 pairs; the step trains on a batch of 3 (memory stays ~4 GB)
    stock = _dpo_step(model, fol_pairs_dir, tmp_path, False, batch_size=3)
    packed = _dpo_step(model, fol_pairs_dir, tmp_path, True, batch_size=3)
    _assert_same_reference(stock[0], packed[0], atol=1e-4)
    _assert_same_training(stock, packed, atol=1e-4)
