"""Which tokens of a chain the DPO log-probabilities count: the model's own.

A chain alternates the model's replies (assistant messages) with the env's results (user
messages). In TRL 1.16, ``DPOTrainer._prepare_dataset`` tokenizes ``prompt + chosen`` with
the chat template and ``DataCollatorForPreference`` marks *every* token after the prompt as
completion, so the env's text would enter log pi(chosen) and log pi(rejected) as if the model
had written it. The smallest change that fixes it without forking the trainer:

1. :func:`add_token_masks` adds ``chosen_token_mask`` / ``rejected_token_mask`` columns, one
   0/1 per token of the tokenized ``prompt + chain`` (the same ``apply_chat_template`` call
   TRL makes, so the ids line up; the collator checks the lengths);
2. :class:`DataCollatorForMaskedPreference` lets TRL's collator build ids, attention and
   truncation, then swaps its completion mask for ours. The trainer turns the completion
   mask into the labels, the policy and reference log-probs (including the precomputed
   ones) and the metrics, so one mask governs all of them.

The trainer needs ``remove_unused_columns=False`` so the mask columns reach the collator.

How a token is attributed: the chat is rendered for growing prefixes of the messages; the
tokens an assistant message adds, after the generation prompt its turn starts with and up
to the end-of-turn token it emits (the tokenizer's EOS, when the template uses it), are the
model's. With ``env_tokens=True`` every token after the prompt counts, exactly as TRL's own
collator (the original study's setting).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from trl.trainer.dpo_trainer import DataCollatorForPreference
from trl.trainer.utils import pad

from callgym.errors import DataError

Message = dict[str, str]
SIDES = ("chosen", "rejected")


def chat_ids(tokenizer: Any, messages: list[Message], *, add_generation_prompt: bool = False) -> list[int]:
    """Token ids of a chat rendered by the tokenizer's chat template (as TRL renders it)."""
    out = tokenizer.apply_chat_template(
        messages, tokenize=True, return_dict=True, add_generation_prompt=add_generation_prompt
    )
    return list(out["input_ids"])


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _turn_end(ids: list[int], start: int, end: int, eos_id: int | None) -> int:
    """End of the model's own tokens in ``ids[start:end]``: just after its last EOS, if any."""
    for i in range(end - 1, start - 1, -1):
        if ids[i] == eos_id:
            return i + 1
    return end


def token_mask(
    tokenizer: Any, prompt: list[Message], chain: list[Message], *, env_tokens: bool = False
) -> tuple[list[int], list[int]]:
    """Tokenize ``prompt + chain``; mark the tokens the DPO log-probabilities count.

    Args:
        tokenizer: a tokenizer with a chat template.
        prompt: the shared prefix (system + task).
        chain: assistant replies and env results (user messages).
        env_tokens: count every token after the prompt (TRL's default), env results included.

    Returns:
        ``(ids, mask)``: the token ids and one 0/1 per id.
    """
    messages = [*prompt, *chain]
    ids = chat_ids(tokenizer, messages)
    mask = [0] * len(ids)
    if env_tokens:
        start = common_prefix(chat_ids(tokenizer, prompt, add_generation_prompt=True), ids)
        mask[start:] = [1] * (len(ids) - start)
        return ids, mask
    for k in range(len(prompt), len(messages)):
        if messages[k]["role"] != "assistant":
            continue
        start = common_prefix(chat_ids(tokenizer, messages[:k], add_generation_prompt=True), ids)
        end = common_prefix(chat_ids(tokenizer, messages[: k + 1]), ids)
        end = _turn_end(ids, start, end, tokenizer.eos_token_id)
        mask[start:end] = [1] * (end - start)
    return ids, mask


def add_token_masks(
    dataset: Any, tokenizer: Any, *, mask_env_tokens: bool = True, cache_file: str | None = None
) -> Any:
    """Add ``chosen_token_mask`` and ``rejected_token_mask`` columns to a pairs dataset.

    Args:
        dataset: a ``datasets.Dataset`` with ``prompt``, ``chosen`` and ``rejected`` messages.
        tokenizer: the tokenizer the trainer will use.
        mask_env_tokens: count only the model's tokens; False counts env results too.
        cache_file: where the result is written (keeps TRL's later caches beside it).
    """

    def add(example: dict[str, Any]) -> dict[str, list[int]]:
        return {
            f"{side}_token_mask": token_mask(
                tokenizer, example["prompt"], example[side], env_tokens=not mask_env_tokens
            )[1]
            for side in SIDES
        }

    kwargs: dict[str, Any] = {
        "desc": "Masking env tokens" if mask_env_tokens else "Marking completion tokens"
    }
    if cache_file:
        kwargs.update(cache_file_name=cache_file, load_from_cache_file=False)
    return dataset.map(add, **kwargs)


@dataclass
class DataCollatorForMaskedPreference(DataCollatorForPreference):
    """TRL's preference collator, with the completion mask read from the examples' token masks.

    >>> c = DataCollatorForMaskedPreference(pad_token_id=0)
    >>> batch = c([{"prompt_ids": [1, 2], "chosen_ids": [3, 4, 5], "rejected_ids": [6],
    ...             "chosen_token_mask": [0, 0, 1, 0, 1], "rejected_token_mask": [0, 0, 1]}])
    >>> batch["completion_mask"].tolist()
    [[0, 0, 1, 0, 1], [0, 0, 1, 0, 0]]
    """

    def torch_call(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        output = super().torch_call(examples)
        masks = [self._mask(example, side) for side in SIDES for example in examples]
        output["completion_mask"] = pad(
            [torch.tensor(m, dtype=torch.long) for m in masks],
            padding_value=0,
            padding_side="right",
            pad_to_multiple_of=self.pad_to_multiple_of,
        )
        return output

    def _mask(self, example: dict[str, Any], side: str) -> list[int]:
        mask = example.get(f"{side}_token_mask")
        if mask is None:
            raise DataError(
                f"a batch example has no '{side}_token_mask'; build the dataset with add_token_masks()"
            )
        length = len(example["prompt_ids"]) + len(example[f"{side}_ids"])
        if len(mask) != length:
            raise DataError(
                f"'{side}_token_mask' has {len(mask)} entries for {length} tokens: the trainer tokenized "
                "the chat differently from add_token_masks (chat template, tools or tokenizer changed?)"
            )
        if self.max_length is None:
            return list(mask)
        keep_end = self.truncation_mode == "keep_end"
        return list(mask[-self.max_length :] if keep_end else mask[: self.max_length])
