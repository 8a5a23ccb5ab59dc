"""Prefix-tree packed training: TRL's DPO and SFT trainers, each unique token computed once.

TRL's trainers score a batch by calling ``model(**batch, labels=..., fused_lm_head=True)``
on padded rows (DPO: prompt+chosen rows, then prompt+rejected rows) and read per-token
log-probabilities of shape ``(rows, length - 1)``. Packing changes only what happens inside
that call, so TRL's losses (every DPO loss type), metrics, masks and reference handling stay
as they are:

1. the collators (:class:`PackedPreferenceCollator`, :class:`PackedLMCollator`) let TRL's
   collator build its rows, then pack those very rows (after truncation, with their
   completion/label masks) into a :class:`~callgym.trainers.prefix_tree.PrefixTree` and add
   it as ``tree_*`` tensors;
2. :func:`add_tree_forward` wraps the model's forward: given ``tree_*`` inputs, it runs the
   model once over the tree's slots (a block attention mask: each slot sees its own path;
   position ids: its depth), scores each slot against its label with TRL's fused LM head,
   and gathers the per-token fields back into the row layout TRL expects. A row's values
   are those of an unpacked forward, up to float rounding.

:class:`PackedDPOTrainer` also computes the reference log-probabilities once per unique
chain of the whole dataset (a chosen chain in four pairs is scored once), packing the
chains of a prompt together.

>>> from callgym.trainers.prefix_tree import build_tree
>>> tensors = tree_tensors(build_tree([[5, 6, 7], [5, 6, 8]], [[0, 1, 1], [0, 1, 1]]), length=3)
>>> tensors["tree_input_ids"].tolist(), tensors["tree_index"].tolist()
([[5, 6, 6]], [[0, 1], [0, 2]])
"""

from __future__ import annotations

import functools
import logging
import types
from dataclasses import dataclass
from typing import Any

import torch
from accelerate.utils import is_peft_model
from trl import DPOTrainer, SFTTrainer
from trl.trainer.sft_trainer import DataCollatorForLanguageModeling
from trl.trainer.utils import FusedCausalLMOutput

from callgym.errors import ConfigError
from callgym.trainers.masking import DataCollatorForMaskedPreference
from callgym.trainers.prefix_tree import PrefixTree, build_tree

log = logging.getLogger(__name__)

TREE_KEYS = ("tree_input_ids", "tree_position_ids", "tree_ends", "tree_labels", "tree_index")
# Attention implementations that take a custom 4D mask (flash attention does not).
MASKED_ATTENTION = ("sdpa", "eager")
# Per-token fields of TRL's fused LM head output, gathered from slots back into rows.
TOKEN_FIELDS = ("log_probs", "entropy", "log_sum_sq_probs", "mean_logits", "is_top1")


def tree_tensors(tree: PrefixTree, length: int) -> dict[str, torch.Tensor]:
    """The tree as model inputs; ``tree_index`` is padded with -1 to ``length - 1`` per row."""
    index = torch.full((len(tree.index), max(length - 1, 0)), -1, dtype=torch.long)
    for r, row in enumerate(tree.index):
        index[r, : len(row)] = torch.tensor(row, dtype=torch.long)
    return {
        "tree_input_ids": torch.tensor([tree.ids], dtype=torch.long),
        "tree_position_ids": torch.tensor([tree.positions], dtype=torch.long),
        "tree_ends": torch.tensor(tree.ends, dtype=torch.long),
        "tree_labels": torch.tensor([tree.labels], dtype=torch.long),
        "tree_index": index,
    }


def pack_rows(
    input_ids: torch.Tensor, lengths: torch.Tensor, counted: torch.Tensor
) -> dict[str, torch.Tensor]:
    """Pack padded rows (``lengths`` real tokens each; ``counted`` 0/1 per token) as a tree."""
    rows = [ids[:n].tolist() for ids, n in zip(input_ids, lengths.tolist(), strict=True)]
    flags = [mask[:n].tolist() for mask, n in zip(counted, lengths.tolist(), strict=True)]
    return tree_tensors(build_tree(rows, flags), input_ids.size(1))


@dataclass
class PackedPreferenceCollator(DataCollatorForMaskedPreference):
    """The masked preference collator, plus the batch's rows packed as a prefix tree."""

    def torch_call(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        output = super().torch_call(examples)
        lengths = output["attention_mask"].sum(dim=1)
        return {**output, **pack_rows(output["input_ids"], lengths, output["completion_mask"])}


@dataclass
class PackedLMCollator(DataCollatorForLanguageModeling):
    """TRL's language-modeling collator (SFT), plus the batch's rows packed as a prefix tree."""

    def torch_call(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        output = super().torch_call(examples)
        lengths = output["attention_mask"].sum(dim=1)
        return {**output, **pack_rows(output["input_ids"], lengths, (output["labels"] != -100).long())}


def tree_attention_mask(ends: torch.Tensor, dtype: torch.dtype, implementation: str) -> torch.Tensor:
    """The ``(1, 1, slots, slots)`` mask: slot i sees slot j iff j is on i's path (``j <= i < ends[j]``)."""
    slots = torch.arange(ends.numel(), device=ends.device)
    allowed = (slots[:, None] >= slots[None, :]) & (slots[:, None] < ends[None, :])
    allowed = allowed[None, None]
    if implementation == "sdpa":
        return allowed
    return torch.zeros(allowed.shape, dtype=dtype, device=ends.device).masked_fill(
        ~allowed, torch.finfo(dtype).min
    )


def add_tree_forward(model: Any) -> None:
    """Let ``model(..., fused_lm_head=True, tree_*=...)`` run over a prefix tree (see the module doc).

    Call it after TRL added its fused LM head (the trainers' ``__init__`` do); calls without
    ``tree_*`` inputs, generation included, go to the previous forward unchanged.
    """
    if getattr(model, "_callgym_tree_forward", False):
        return
    previous = model.forward
    implementation = model.config._attn_implementation
    if implementation not in MASKED_ATTENTION:
        raise ConfigError(
            f"packing needs attention that takes a custom mask ({' or '.join(MASKED_ATTENTION)}), "
            f"the model uses {implementation!r}; set dpo.packing=false or load the model with sdpa"
        )

    @functools.wraps(type(model).forward)
    def forward(self: Any, *args: Any, tree_input_ids: torch.Tensor | None = None, **kwargs: Any) -> Any:
        if tree_input_ids is None:
            return previous(*args, **{k: v for k, v in kwargs.items() if k not in TREE_KEYS})
        return _tree_forward(self, previous, tree_input_ids, kwargs)

    model.forward = types.MethodType(forward, model)
    model._callgym_tree_forward = True


def _tree_forward(model: Any, previous: Any, tree_input_ids: torch.Tensor, kwargs: dict[str, Any]) -> Any:
    if not kwargs.pop("fused_lm_head", False):
        raise ConfigError("a packed batch needs TRL's fused LM head (model(..., fused_lm_head=True))")
    index = kwargs.pop("tree_index")
    ends = kwargs.pop("tree_ends")
    row_labels = kwargs.pop("labels", None)
    num_items_in_batch = kwargs.pop("num_items_in_batch", None)
    for key in ("input_ids", "attention_mask", "position_ids", "shift_labels"):
        kwargs.pop(key, None)  # the rows' layout: the tree replaces it
    dtype = model.get_input_embeddings().weight.dtype
    slots = previous(
        input_ids=tree_input_ids,
        position_ids=kwargs.pop("tree_position_ids"),
        attention_mask=tree_attention_mask(ends, dtype, model.config._attn_implementation),
        shift_labels=kwargs.pop("tree_labels"),
        fused_lm_head=True,
        **kwargs,
    )
    label_mask = index >= 0
    if row_labels is not None and not torch.equal(label_mask, row_labels[:, 1:] != -100):
        raise ValueError("the packed tree does not match the batch's labels (collator and trainer disagree)")
    fields = {name: _gather(getattr(slots, name), index) for name in TOKEN_FIELDS}
    count = label_mask.sum().clamp(min=1) if num_items_in_batch is None else num_items_in_batch
    return FusedCausalLMOutput(
        loss=-fields["log_probs"].sum() / count,
        label_mask=label_mask,
        aux_loss=slots.aux_loss,
        **fields,
    )


def _gather(values: torch.Tensor | None, index: torch.Tensor) -> torch.Tensor | None:
    """Per-slot values ``(1, slots)`` to per-row values ``index.shape``; zero where index is -1."""
    if values is None:
        return None
    padded = torch.cat([values[0], values.new_zeros(1)])  # slot -1 reads this zero
    return padded[index]


class _CountsTreeTokens:
    """Logs ``num_tree_tokens``, the slots computed, beside TRL's ``num_tokens`` (the rows' tokens)."""

    tree_tokens = 0

    def compute_loss(self, model: Any, inputs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        mode = "train" if self.model.training else "eval"
        if mode == "train":
            self.tree_tokens += inputs["tree_input_ids"].numel()
        self._metrics[mode]["num_tree_tokens"] = [self.tree_tokens]
        return super().compute_loss(model, inputs, *args, **kwargs)


class PackedSFTTrainer(_CountsTreeTokens, SFTTrainer):
    """TRL's SFTTrainer, each batch packed as a prefix tree (the shared system prompt computed once).

    Use it with :class:`PackedLMCollator` (``data_collator=``).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        add_tree_forward(_base_model(self.model))


class PackedDPOTrainer(_CountsTreeTokens, DPOTrainer):
    """TRL's DPOTrainer, each batch packed as a prefix tree, reference log-probs once per unique chain.

    Use it with :class:`PackedPreferenceCollator` (``data_collator=``). Everything else is
    TRL's: the loss types, the metrics, LoRA, checkpoints.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The reference pass runs inside DPOTrainer.__init__, so the forward is wrapped as
        # soon as TRL has added its fused head, before the pass (see _precompute_ref_logps).
        self._tree_ready = False
        super().__init__(*args, **kwargs)
        self._wrap_forwards()

    def _wrap_forwards(self) -> None:
        if not self._tree_ready:
            add_tree_forward(_base_model(self.model))
            if self.ref_model is not None:
                add_tree_forward(self.ref_model)
            self._tree_ready = True

    def _precompute_ref_logps(self, dataset: Any, name: str, batch_size: int) -> Any:
        self._wrap_forwards()
        if self.ld_alpha is not None or not isinstance(self.data_collator, PackedPreferenceCollator):
            # LD-DPO's reference depends on both sides of a pair: keep TRL's per-pair pass.
            return super()._precompute_ref_logps(dataset, name, batch_size)
        from callgym.trainers.ref_logps import precompute_unique_ref_logps

        return precompute_unique_ref_logps(self, dataset, name, batch_size)


def _base_model(model: Any) -> Any:
    """The model TRL patched with its fused head (the base model under a PEFT wrapper)."""
    return model.get_base_model() if is_peft_model(model) else model
