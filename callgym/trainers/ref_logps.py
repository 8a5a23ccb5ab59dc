"""Reference log-probabilities once per unique chain of a pairs dataset, packed by prompt.

TRL's ``precompute_ref_log_probs`` scores prompt+chosen and prompt+rejected for every pair,
so a chosen chain in four pairs (the |Dw| x |Dl| augmentation) is scored four times, with
its prompt each time. Here the dataset's rows (as the collator builds them: truncated, with
their completion masks) are deduplicated, consecutive unique rows (the chains of one problem
sit together) are packed into prefix trees of a bounded size, each tree runs once through
TRL's own :meth:`~trl.DPOTrainer.compute_ref_log_probs`, and each pair reads back its two
chains' sums. The result is cached beside the dataset, like TRL's.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import torch
from datasets import Dataset, concatenate_datasets
from datasets.fingerprint import Hasher
from tqdm.auto import tqdm

from callgym.trainers.masking import DataCollatorForMaskedPreference, common_prefix
from callgym.trainers.packing import pack_rows

log = logging.getLogger(__name__)

TREE_TOKENS = 2048  # slots per reference tree: the dense block mask grows with its square
_COLLATE_CHUNK = 256

Row = tuple[tuple[int, ...], tuple[int, ...]]  # token ids, completion mask


def precompute_unique_ref_logps(trainer: Any, dataset: Dataset, name: str, batch_size: int) -> Dataset:
    """``dataset`` with ``ref_chosen_logps`` / ``ref_rejected_logps`` columns (TRL's names)."""
    fingerprint = Hasher.hash((dataset._fingerprint, trainer._precompute_model_hash, "callgym-unique-chains"))
    cache_file = dataset._get_cache_file_path(fingerprint)
    if not os.path.exists(cache_file):
        rows, pairs = unique_rows(trainer.data_collator, dataset)
        trainer.ref_row_tokens = sum(len(rows[c][0]) + len(rows[r][0]) for c, r in pairs)
        logps = _score_rows(trainer, rows, name)
        chosen = torch.tensor([logps[c] for c, _ in pairs])
        rejected = torch.tensor([logps[r] for _, r in pairs])
        dataset.map(
            lambda _, indices: {"ref_chosen_logps": chosen[indices], "ref_rejected_logps": rejected[indices]},
            with_indices=True,
            batched=True,
            remove_columns=dataset.column_names,
            new_fingerprint=fingerprint,
            cache_file_name=cache_file,
            desc=f"Caching reference log probs for {name} dataset",
        )
    return concatenate_datasets([dataset, Dataset.from_file(cache_file)], axis=1)


def unique_rows(
    collator: DataCollatorForMaskedPreference, dataset: Dataset
) -> tuple[list[Row], list[tuple[int, int]]]:
    """The distinct (ids, completion mask) rows of the dataset, and each pair's two row numbers."""
    seen: dict[Row, int] = {}
    pairs: list[tuple[int, int]] = []
    for start in range(0, len(dataset), _COLLATE_CHUNK):
        examples = [dataset[i] for i in range(start, min(start + _COLLATE_CHUNK, len(dataset)))]
        batch = DataCollatorForMaskedPreference.torch_call(collator, examples)
        lengths = batch["attention_mask"].sum(dim=1).tolist()
        keys = [
            (tuple(ids[:n].tolist()), tuple(mask[:n].tolist()))
            for ids, mask, n in zip(batch["input_ids"], batch["completion_mask"], lengths, strict=True)
        ]
        ids = [seen.setdefault(key, len(seen)) for key in keys]
        pairs.extend(zip(ids[: len(examples)], ids[len(examples) :], strict=True))
    return list(seen), pairs


def tree_groups(rows: list[Row], budget: int = TREE_TOKENS) -> list[list[int]]:
    """Consecutive rows in groups whose packed size (estimated from shared prefixes) fits ``budget``."""
    groups: list[list[int]] = []
    size = 0
    for r, (ids, _) in enumerate(rows):
        new = len(ids) - (common_prefix(rows[r - 1][0], ids) if groups and r else 0)
        if groups and size + new <= budget:
            groups[-1].append(r)
            size += new
        else:
            groups.append([r])
            size = len(ids)
    return groups


def _score_rows(trainer: Any, rows: list[Row], name: str) -> list[float]:
    """Summed completion log-probs of each row under the reference, one packed tree at a time."""
    model = trainer.ref_model or trainer.model
    pad = trainer.data_collator.pad_token_id
    logps: list[float] = []
    computed = 0
    for group in tqdm(tree_groups(rows), desc=f"Reference log probs of the unique {name} chains"):
        chosen = [rows[r] for r in group]
        batch = _batch(chosen + chosen[-1:] * (len(chosen) % 2), pad)  # TRL halves the rows: keep it even
        computed += batch["tree_input_ids"].numel()
        batch = {k: v.to(trainer.accelerator.device) for k, v in batch.items()}
        first, second = trainer.compute_ref_log_probs(model, batch)
        logps.extend(torch.cat([first, second]).float().cpu().tolist()[: len(group)])
    trainer.ref_tokens = computed
    log.info(
        "reference log-probs: %d unique chains, %d tokens computed (TRL's rows: %d)",
        len(rows),
        computed,
        trainer.ref_row_tokens,
    )
    return logps


def _batch(rows: list[Row], pad_token_id: int) -> dict[str, torch.Tensor]:
    longest = max(len(ids) for ids, _ in rows)
    input_ids = torch.full((len(rows), longest), pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(rows), longest), dtype=torch.long)
    attention = torch.zeros((len(rows), longest), dtype=torch.long)
    for r, (ids, counted) in enumerate(rows):
        input_ids[r, : len(ids)] = torch.tensor(ids)
        mask[r, : len(ids)] = torch.tensor(counted)
        attention[r, : len(ids)] = 1
    lengths = attention.sum(dim=1)
    return {
        "input_ids": input_ids,
        "attention_mask": attention,
        "completion_mask": mask,
        **pack_rows(input_ids, lengths, mask),
    }
