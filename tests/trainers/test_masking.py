"""The DPO log-probabilities count exactly the model's own tokens (or every completion token).

Checked through TRL itself: the pairs go through ``DPOTrainer``'s own tokenization, our
collator is compared with TRL's stock collator, and the reference log-probs TRL precomputes
are recomputed by hand over the masked tokens.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from callgym.errors import DataError
from callgym.trainers import load_pairs
from callgym.trainers.dpo import load_tokenizer
from callgym.trainers.masking import DataCollatorForMaskedPreference, add_token_masks, token_mask

SIDES = ("chosen", "rejected")


def _runs(mask: list[int], ids: list[int]) -> list[list[int]]:
    """The contiguous runs of ids whose mask is 1."""
    runs: list[list[int]] = []
    for i, (token, bit) in enumerate(zip(ids, mask, strict=True)):
        if bit and (i == 0 or not mask[i - 1]):
            runs.append([])
        if bit:
            runs[-1].append(token)
    return runs


def _trainer(
    tiny_model: Path, pairs_dir: Path, tmp_path: Path, *, mask_env_tokens: bool, precompute: bool = False
):
    """TRL's DPOTrainer over the masked pairs, as train_dpo builds it (no training)."""
    from trl import DPOConfig, DPOTrainer

    tokenizer = load_tokenizer(str(tiny_model))
    dataset = add_token_masks(load_pairs(pairs_dir), tokenizer, mask_env_tokens=mask_env_tokens)
    args = DPOConfig(
        output_dir=str(tmp_path),
        report_to="none",
        bf16=False,
        remove_unused_columns=False,
        precompute_ref_log_probs=precompute,
        per_device_train_batch_size=2,
    )
    collator = DataCollatorForMaskedPreference(
        pad_token_id=tokenizer.pad_token_id, max_length=args.max_length
    )
    return DPOTrainer(
        model=str(tiny_model),
        args=args,
        data_collator=collator,
        train_dataset=dataset,
        processing_class=tokenizer,
    )


@pytest.fixture(scope="module", params=["smollm2", "small-bpe"])
def tokenizer(request, tiny_model):
    """SmolLM2's real tokenizer, and the tiny model's own."""
    if request.param == "smollm2":
        return request.getfixturevalue("smollm2_tokenizer")
    return load_tokenizer(str(tiny_model))


def test_mask_covers_exactly_the_assistant_tokens(tokenizer, pairs_dir):
    for example in load_pairs(pairs_dir):
        for side in SIDES:
            chain = example[side]
            ids, mask = token_mask(tokenizer, example["prompt"], chain)
            assert len(ids) == len(mask)
            replies = [m["content"] for m in chain if m["role"] == "assistant"]
            env_texts = [m["content"] for m in chain if m["role"] == "user"]
            assert env_texts, "the test pairs must have env results inside the chain"
            decoded = [tokenizer.decode(run) for run in _runs(mask, ids)]
            assert decoded == [reply + tokenizer.eos_token for reply in replies]


def test_env_tokens_switch_counts_everything_after_the_prompt(tokenizer, pairs_dir):
    example = load_pairs(pairs_dir)[0]
    ids, mask = token_mask(tokenizer, example["prompt"], example["chosen"], env_tokens=True)
    (run,) = _runs(mask, ids)
    text = tokenizer.decode(run)
    for message in example["chosen"]:
        assert message["content"] in text  # env results included
    prompt_text = tokenizer.apply_chat_template(example["prompt"], tokenize=False, add_generation_prompt=True)
    assert tokenizer.decode(ids[: len(ids) - len(run)]) == prompt_text


@pytest.mark.parametrize("mask_env_tokens", [True, False])
def test_collator_on_trl_tokenization(tiny_model, pairs_dir, tmp_path, mask_env_tokens):
    from trl.trainer.dpo_trainer import DataCollatorForPreference

    trainer = _trainer(tiny_model, pairs_dir, tmp_path, mask_env_tokens=mask_env_tokens)
    examples = [trainer.train_dataset[i] for i in range(4)]
    ours = trainer.data_collator(examples)
    stock = DataCollatorForPreference(pad_token_id=trainer.processing_class.pad_token_id)(examples)
    assert torch.equal(ours["input_ids"], stock["input_ids"])
    if not mask_env_tokens:  # the study's setting is exactly TRL's default
        assert torch.equal(ours["completion_mask"], stock["completion_mask"])
        return
    assert ((ours["completion_mask"] == 1) <= (stock["completion_mask"] == 1)).all()
    tok = trainer.processing_class
    rows = [(e, side) for side in SIDES for e in examples]  # the batch is [chosen..., rejected...]
    for row, (example, side) in enumerate(rows):
        ids, mask = ours["input_ids"][row].tolist(), ours["completion_mask"][row].tolist()
        replies = [m["content"] + tok.eos_token for m in example[side] if m["role"] == "assistant"]
        assert [tok.decode(run) for run in _runs(mask, ids)] == replies


def test_precomputed_reference_logps_sum_over_the_masked_tokens(tiny_model, pairs_dir, tmp_path):
    from transformers import AutoModelForCausalLM

    trainer = _trainer(tiny_model, pairs_dir, tmp_path, mask_env_tokens=True, precompute=True)
    model = AutoModelForCausalLM.from_pretrained(str(tiny_model))
    example = trainer.train_dataset[0]
    ids = torch.tensor([example["prompt_ids"] + example["chosen_ids"]])
    mask = torch.tensor(example["chosen_token_mask"])
    with torch.no_grad():
        logps = torch.log_softmax(model(ids).logits[0, :-1].float(), dim=-1)
    token_logps = logps.gather(1, ids[0, 1:, None])[:, 0]
    by_hand = (token_logps * mask[1:]).sum().item()
    assert example["ref_chosen_logps"] == pytest.approx(by_hand, rel=1e-4)
    everything = (token_logps * (torch.arange(1, len(mask)) >= len(example["prompt_ids"]))).sum().item()
    assert by_hand > everything  # env tokens left out: fewer negative terms


def test_collator_truncates_masks_like_ids():
    collator = DataCollatorForMaskedPreference(pad_token_id=0, max_length=4)
    batch = collator(
        [
            {
                "prompt_ids": [1, 2],
                "chosen_ids": [3, 4, 5],
                "rejected_ids": [6],
                "chosen_token_mask": [0, 0, 1, 1, 1],
                "rejected_token_mask": [0, 0, 1],
            }
        ]
    )
    assert batch["input_ids"].tolist() == [[1, 2, 3, 4], [1, 2, 6, 0]]
    assert batch["completion_mask"].tolist() == [[0, 0, 1, 1], [0, 0, 1, 0]]


def test_collator_refuses_a_mask_that_does_not_match_the_tokens():
    collator = DataCollatorForMaskedPreference(pad_token_id=0)
    example = {
        "prompt_ids": [1],
        "chosen_ids": [2, 3],
        "rejected_ids": [4],
        "chosen_token_mask": [0, 1],
        "rejected_token_mask": [0, 1],
    }
    with pytest.raises(DataError, match="2 entries for 3 tokens"):
        collator([example])
    del example["chosen_token_mask"]
    with pytest.raises(DataError, match="add_token_masks"):
        collator([example])
