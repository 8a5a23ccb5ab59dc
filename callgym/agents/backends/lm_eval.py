"""The ``lm_eval`` backend: any lm-evaluation-harness ``LM`` plays callgym envs.

Chats become prompts through the LM's own ``apply_chat_template`` (or its tokenizer's, when
native ``tools`` are given), and replies come from its ``generate_until``, so every model
type lm-eval supports (``hf``, ``vllm``, ``local-chat-completions``, ...) works unchanged.
``generate_until`` cannot stop at a complete call (it only knows stop strings, and it
deletes them from the text, which would eat a call's closing bracket), so replies run to
EOS or ``max_tokens`` and are then trimmed to their first call. Token counts are
re-tokenized from the text: best-effort.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Collection
from typing import Any

from callgym.agents.backends.base import Messages, Reply, Sampling
from callgym.agents.backends.chat import render_chat
from callgym.agents.backends.stopping import finish_text, names_per_chat
from callgym.errors import ConfigError

log = logging.getLogger(__name__)


class LMEvalBackend:
    """Generate with an lm-evaluation-harness model.

    Args:
        model: an ``lm_eval.api.model.LM`` instance, or a callgym model (known name, local
            HF folder or hub id) that becomes ``pretrained=`` of the ``lm`` model type.
        lm: the lm-eval model type, as in ``lm_eval --model`` (default "hf").
        model_args: ``"key=value,..."`` or a dict, as in ``lm_eval --model_args``; a
            ``pretrained`` (or ``model``) here overrides ``model``.
        batch_size: passed to the lm-eval model.
        device: passed to the lm-eval model (None: its default).
        stop_on_call: trim each reply right after its first complete call.
    """

    name = "lm_eval"

    def __init__(
        self,
        model: Any = "smollm2-135m",
        *,
        lm: str = "hf",
        model_args: str | dict[str, Any] | None = None,
        batch_size: int | str = 8,
        device: str | None = None,
        stop_on_call: bool = True,
    ) -> None:
        self.stop_on_call = stop_on_call
        if hasattr(model, "generate_until"):
            self._lm = model
            self.model = _describe(model)
        else:
            self.model = str(model)
            self._lm = _create_lm(lm, str(model), model_args, batch_size, device)

    def generate(
        self,
        chats: list[Messages],
        sampling: Sampling,
        tools: list[dict[str, Any]] | None = None,
        seed_offsets: list[int] | None = None,
        call_names: list[Collection[str]] | None = None,
    ) -> list[Reply]:
        """Return one reply per chat, in order, trimmed after its first call to one of ``call_names[i]``.

        lm-eval models sample with torch's global generator, one batch at a time; so seeded
        sampled decoding asks for one chat at a time, seeded ``seed + seed_offsets[i]``, which
        makes each reply independent of its batch (a resumed run samples as an uninterrupted one).
        """
        if not chats:
            return []
        contexts = [self._render(chat, tools) for chat in chats]
        if sampling.temperature > 0 and sampling.seed is not None:
            offsets = seed_offsets or range(len(chats))
            outputs = [
                self._generate_until([ctx], sampling, sampling.seed + o)[0]
                for ctx, o in zip(contexts, offsets)
            ]
        else:
            outputs = self._generate_until(contexts, sampling, sampling.seed)
        names = names_per_chat(chats, tools, call_names)
        return [
            self._reply(ctx, out, n, sampling) for ctx, out, n in zip(contexts, outputs, names, strict=True)
        ]

    def close(self) -> None:
        """Drop the model."""
        self._lm = None

    def _generate_until(self, contexts: list[str], sampling: Sampling, seed: int | None) -> list[str]:
        from lm_eval.api.instance import Instance

        gen_kwargs = _gen_kwargs(sampling)
        requests = [
            Instance(request_type="generate_until", doc={}, arguments=(ctx, dict(gen_kwargs)), idx=i)
            for i, ctx in enumerate(contexts)
        ]
        _seed(seed)
        try:
            return self._lm.generate_until(requests, disable_tqdm=True)
        except TypeError:  # an LM whose generate_until takes only the requests
            return self._lm.generate_until(requests)

    def _render(self, chat: Messages, tools: list[dict[str, Any]] | None) -> str:
        if self._lm is None:
            raise ConfigError("this lm_eval backend was closed; build a new one")
        tokenizer = getattr(self._lm, "tokenizer", None)
        if tools:
            if tokenizer is None or not hasattr(tokenizer, "apply_chat_template"):
                raise ConfigError(
                    f"lm-eval model {self.model!r} has no tokenizer to render native tools; "
                    "use the text protocol"
                )
            return render_chat(tokenizer, chat, tools, self.model)
        if hasattr(self._lm, "apply_chat_template"):
            return self._lm.apply_chat_template(chat, add_generation_prompt=True)
        if tokenizer is not None:
            return render_chat(tokenizer, chat, None, self.model)
        raise ConfigError(
            f"lm-eval model {self.model!r} cannot apply a chat template; use the hf or openai backend"
        )

    def _reply(self, context: str, output: str, names: frozenset[str], sampling: Sampling) -> Reply:
        text, stopped = finish_text(output or "", names, on_call=self.stop_on_call)
        tokens_out = self._count(output or "")
        length = not stopped and tokens_out >= sampling.max_tokens
        return Reply(text, self._count(context), tokens_out, "length" if length else "stop")

    def _count(self, text: str) -> int:
        encode = getattr(self._lm, "tok_encode", None)
        if encode is None or not text:
            return 0
        try:
            return len(encode(text))
        except (TypeError, ValueError, NotImplementedError):
            return 0


def _create_lm(
    lm: str, model: str, model_args: str | dict[str, Any] | None, batch_size: int | str, device: str | None
) -> Any:
    try:
        from lm_eval.api.registry import get_model
        from lm_eval.utils import simple_parse_args_string
    except ImportError as e:
        raise ConfigError(f"the lm_eval backend needs lm-eval: pip install 'callgym[lm-eval]' ({e})") from e
    args = simple_parse_args_string(model_args) if isinstance(model_args, str) else dict(model_args or {})
    if "pretrained" not in args and "model" not in args:
        from callgym.agents.models import resolve_model

        args["pretrained"] = resolve_model(model)
    try:
        cls = get_model(lm)
    except (ValueError, KeyError) as e:
        raise ConfigError(f"lm-eval has no model type {lm!r} ({e}); try lm='hf'") from e
    extra = {"batch_size": batch_size, "device": device}
    log.info("building lm-eval %s model with %s", lm, args)
    try:
        return cls.create_from_arg_obj(args, extra)
    except OSError as e:  # transformers' "not found / cannot connect" errors
        raise ConfigError(
            f"lm-eval {lm} model could not load {args}: {str(e).strip().splitlines()[0]}"
        ) from e


def _gen_kwargs(sampling: Sampling) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "until": list(sampling.stop),
        "max_gen_toks": sampling.max_tokens,
        "do_sample": sampling.temperature > 0,
        "temperature": sampling.temperature,
    }
    if sampling.temperature > 0 and sampling.top_p < 1:
        kwargs["top_p"] = sampling.top_p
    return kwargs


def _seed(seed: int | None) -> None:
    # Best-effort: local lm-eval models sample with torch's global generator.
    if seed is not None and "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)


def _describe(lm: Any) -> str:
    for attr in ("pretrained", "model_name", "model"):
        value = getattr(lm, attr, None)
        if isinstance(value, str):
            return value
    return type(lm).__name__
