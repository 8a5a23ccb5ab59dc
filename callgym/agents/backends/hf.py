"""The ``hf`` backend: transformers ``generate`` in left-padded batches, on CPU or GPU.

Each sequence stops as soon as its reply holds a complete call (a stopping criterion runs
the cheap check of :mod:`callgym.agents.backends.stopping` whenever a new token closes a
bracket), at EOS, or at ``max_tokens`` (finish_reason ``"length"``).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

from callgym.agents.backends.base import Messages, Reply, Sampling
from callgym.agents.backends.chat import render_chat
from callgym.agents.backends.stopping import (
    CallWatcher,
    finish_text,
    hits_stop,
    may_close_call,
    names_per_chat,
)
from callgym.cpu import cpu_dtype
from callgym.errors import ConfigError

log = logging.getLogger(__name__)


class HFBackend:
    """Generate with a transformers causal LM.

    Args:
        model: a known name (``smollm2-135m``), a local HF folder or a hub id.
        batch_size: chats per ``generate`` call; a larger batch is split (prompts of
            similar length go together, so little padding is wasted).
        device: "auto" (cuda, then mps, then cpu), or any torch device string.
        dtype: "auto" (bfloat16/float16 on GPU; on CPU bfloat16 only where the CPU computes it
            natively, else float32) or a torch dtype name.
        stop_on_call: stop each reply right after its first complete call.
        threads: torch CPU threads (None: torch's default, one per core). On a shared CPU,
            also set ``OMP_WAIT_POLICY=PASSIVE`` before starting Python: spinning OpenMP
            threads that lose their core to another process slow generation tenfold.
    """

    name = "hf"

    def __init__(
        self,
        model: str = "smollm2-135m",
        *,
        batch_size: int = 16,
        device: str = "auto",
        dtype: str = "auto",
        stop_on_call: bool = True,
        threads: int | None = None,
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size={batch_size} must be at least 1")
        if threads is not None and threads < 1:
            raise ConfigError(f"threads={threads} must be at least 1 (or None for torch's default)")
        import torch

        if threads is not None:
            torch.set_num_threads(threads)

        from callgym.agents.models import resolve_model

        self.model = model
        self.path = resolve_model(model)
        self.batch_size = batch_size
        self.stop_on_call = stop_on_call
        self.device = _pick_device(device, torch)
        self._torch = torch
        torch_dtype = _pick_dtype(dtype, self.device, torch)
        try:
            self._tokenizer = _load_tokenizer(self.path)
            self._lm = _load_model(self.path, torch_dtype, self.device)
        except OSError as e:  # transformers' "not found / cannot connect" errors
            raise ConfigError(
                f"cannot load model {model!r} from {self.path}: {_first_line(e)}. Pass a known name "
                "(callgym models), a local HF folder, or a hub id while online"
            ) from e
        self._eos = _eos_ids(self._lm, self._tokenizer)

    def generate(self, chats: list[Messages], sampling: Sampling, tools: list[dict[str, Any]] | None = None,
                 seed_offsets: list[int] | None = None,
                 call_names: list[Collection[str]] | None = None) -> list[Reply]:
        """Return one reply per chat, in order (chat *i* sampled with ``seed + seed_offsets[i]``,
        stopped after its first complete call to one of ``call_names[i]``)."""
        if not chats:
            return []
        prompts = [render_chat(self._tokenizer, chat, tools, self.model) for chat in chats]
        names = names_per_chat(chats, tools, call_names)
        offsets = list(seed_offsets or range(len(chats)))
        lengths = [len(self._tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts]
        order = sorted(range(len(prompts)), key=lambda i: -lengths[i])
        replies: list[Reply | None] = [None] * len(prompts)
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            out = self._generate_batch([prompts[i] for i in chunk], sampling, [names[i] for i in chunk],
                                       [offsets[i] for i in chunk])
            for i, reply in zip(chunk, out, strict=True):
                replies[i] = reply
        return [r for r in replies if r is not None]

    def close(self) -> None:
        """Free the model."""
        self._lm = None
        if self.device.startswith("cuda"):
            self._torch.cuda.empty_cache()

    # ------------------------------------------------------------------ one batch

    def _generate_batch(
        self, prompts: list[str], sampling: Sampling, names: list[frozenset[str]], seed_offsets: list[int]
    ) -> list[Reply]:
        from transformers import LogitsProcessorList, StoppingCriteriaList

        if self._lm is None:
            raise ConfigError("this hf backend was closed; build a new one")
        batch = self._tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        batch = batch.to(self.device)
        prompt_len = batch["input_ids"].shape[1]
        stopper = _CallStop(self._tokenizer, prompt_len, self._eos, names, sampling.stop, self.stop_on_call)
        seeded = sampling.temperature > 0 and sampling.seed is not None
        processors = [_SeededSampler(sampling, seed_offsets, self._torch)] if seeded else []
        with self._torch.inference_mode():
            sequences = self._lm.generate(
                **batch,
                generation_config=self._generation_config(sampling, seeded),
                stopping_criteria=StoppingCriteriaList([stopper]),
                logits_processor=LogitsProcessorList(processors),
            )
        new_tokens = sequences[:, prompt_len:].tolist()
        tokens_in = batch["attention_mask"].sum(dim=1).tolist()
        return [
            self._reply(row_tokens, stopper.done_at.get(row), int(tokens_in[row]), names[row], sampling)
            for row, row_tokens in enumerate(new_tokens)
        ]

    def _reply(
        self,
        tokens: list[int],
        done_at: int | None,
        tokens_in: int,
        names: frozenset[str],
        sampling: Sampling,
    ) -> Reply:
        used = tokens[:done_at] if done_at is not None else tokens
        text = self._tokenizer.decode(used, skip_special_tokens=True)
        text, stopped = finish_text(text, names, sampling.stop, self.stop_on_call)
        ended = done_at is not None or stopped or len(used) < sampling.max_tokens
        return Reply(text, tokens_in, len(used), "stop" if ended else "length")

    def _generation_config(self, sampling: Sampling, seeded: bool) -> Any:
        from transformers import GenerationConfig

        kwargs: dict[str, Any] = {
            "max_new_tokens": sampling.max_tokens,
            "eos_token_id": sorted(self._eos),
            "pad_token_id": self._tokenizer.pad_token_id,
        }
        if sampling.temperature > 0 and not seeded:  # seeded: _SeededSampler samples, generate takes its pick
            kwargs.update(do_sample=True, temperature=sampling.temperature, top_p=sampling.top_p, top_k=0)
        else:
            kwargs["do_sample"] = False
        return GenerationConfig(**kwargs)


class _SeededSampler:
    """Samples every row from its own generator, seeded with ``seed + that row's offset``.

    One global seed per batch (what ``generate`` offers) makes a reply depend on which other
    prompts share its batch, so a resumed run would sample differently from an uninterrupted
    one. Here each row's tokens depend only on its own scores and seed. Temperature and top-p
    are applied here; the returned scores are one-hot, so greedy ``generate`` takes the pick.
    (A transformers ``LogitsProcessor`` by duck typing.)
    """

    def __init__(self, sampling: Sampling, seed_offsets: list[int], torch: Any) -> None:
        self.temperature, self.top_p, self._torch = sampling.temperature, sampling.top_p, torch
        self.generators = [torch.Generator().manual_seed(int(sampling.seed or 0) + o) for o in seed_offsets]

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        torch = self._torch
        probs = torch.softmax(scores.float() / self.temperature, dim=-1)
        if self.top_p < 1:
            probs = _top_p(probs, self.top_p, torch)
        picks = [torch.multinomial(probs[row].cpu(), 1, generator=g) for row, g in enumerate(self.generators)]
        one_hot = torch.full_like(scores, float("-inf"))
        return one_hot.scatter_(1, torch.stack(picks).to(scores.device), 0.0)


def _top_p(probs: Any, top_p: float, torch: Any) -> Any:
    """Keep the smallest set of most likely tokens whose mass reaches ``top_p`` (at least one)."""
    sorted_probs, order = torch.sort(probs, dim=-1, descending=True)
    drop = sorted_probs.cumsum(dim=-1) - sorted_probs >= top_p  # mass before a token already enough
    sorted_probs[drop] = 0.0
    kept = torch.zeros_like(probs).scatter_(-1, order, sorted_probs)
    return kept / kept.sum(dim=-1, keepdim=True)


class _CallStop:
    """Per-row stopping: a complete call, a stop string, or EOS. Records where each row ended.

    (A transformers ``StoppingCriteria`` by duck typing: ``generate`` only calls it.)
    """

    def __init__(
        self,
        tokenizer: Any,
        prompt_len: int,
        eos: set[int],
        names: list[frozenset[str]],
        stop: list[str],
        on_call: bool,
    ) -> None:
        self.tokenizer = tokenizer
        self.prompt_len = prompt_len
        self.eos = eos
        self.names = names
        self.stop = [s for s in stop if s]
        self.on_call = on_call
        self.done_at: dict[int, int] = {}  # row -> generated tokens when it ended
        self.watchers = [CallWatcher(row_names) for row_names in names]  # one scan per reply
        self._closes: dict[int, bool] = {}  # token id -> may it close a call?

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        n_new = input_ids.shape[1] - self.prompt_len
        last = input_ids[:, -1].tolist()
        for row, token in enumerate(last):
            if row not in self.done_at and self._row_ended(input_ids, row, token):
                self.done_at[row] = n_new
        flags = [row in self.done_at for row in range(len(last))]
        return torch.tensor(flags, dtype=torch.bool, device=input_ids.device)

    def _row_ended(self, input_ids: Any, row: int, token: int) -> bool:
        if token in self.eos:
            return True
        if self.stop and hits_stop(self._text(input_ids, row), self.stop):
            return True
        if not (self.on_call and self.names[row] and self._may_close(token)):
            return False
        return self.watchers[row].end(self._text(input_ids, row)) is not None

    def _text(self, input_ids: Any, row: int) -> str:
        return self.tokenizer.decode(input_ids[row, self.prompt_len :].tolist(), skip_special_tokens=True)

    def _may_close(self, token: int) -> bool:
        if token not in self._closes:
            self._closes[token] = may_close_call(self.tokenizer.decode([token]))
        return self._closes[token]


# ----------------------------------------------------------------------------- loading


def _pick_device(device: str, torch: Any) -> str:
    if device != "auto":
        return device
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def _pick_dtype(dtype: str, device: str, torch: Any) -> Any:
    if dtype != "auto":
        value = getattr(torch, dtype, None)
        if not isinstance(value, torch.dtype):
            raise ConfigError(f"dtype={dtype!r} is not a torch dtype; use auto, float32, bfloat16 or float16")
        return value
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "cpu":
        try:
            return getattr(torch, cpu_dtype())
        except ValueError as e:
            raise ConfigError(str(e)) from e
    return torch.float32


def _load_tokenizer(path: str) -> Any:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.padding_side = "left"  # decoder-only batches grow to the right
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _load_model(path: str, dtype: Any, device: str) -> Any:
    from transformers import AutoModelForCausalLM

    log.info("loading %s (%s) on %s", path, dtype, device)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
    return model.to(device).eval()


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _eos_ids(model: Any, tokenizer: Any) -> set[int]:
    eos = model.generation_config.eos_token_id
    ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return ids
