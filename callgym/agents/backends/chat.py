"""Turn a chat (list of messages) into the prompt text a local model continues."""

from __future__ import annotations

from typing import Any

from callgym.errors import ConfigError
from callgym.json_text import without_surrogates

Messages = list[dict[str, Any]]


def render_chat(tokenizer: Any, chat: Messages, tools: list[dict[str, Any]] | None, model: str) -> str:
    """Apply the tokenizer's chat template with the generation prompt appended.

    Args:
        tokenizer: a transformers tokenizer (or anything with ``apply_chat_template``).
        chat: the messages so far.
        tools: OpenAI tool schemas for native tool calling, or None.
        model: the model name, for error messages.

    Raises:
        ConfigError: the tokenizer has no chat template.
    """
    if not getattr(tokenizer, "chat_template", None):
        raise ConfigError(
            f"model {model!r} has no chat template, so chats cannot be turned into prompts; "
            "use an instruction-tuned model (its tokenizer_config.json or chat_template.jinja "
            "sets one), e.g. --model smollm2-135m"
        )
    kwargs: dict[str, Any] = {"tokenize": False, "add_generation_prompt": True}
    if tools:
        kwargs["tools"] = tools
    # A reply may hold a lone surrogate, which tokenizers refuse: it becomes U+FFFD here,
    # while the episode keeps the reply as written (see callgym.json_text).
    return without_surrogates(tokenizer.apply_chat_template(chat, **kwargs))


def encode_prompt(tokenizer: Any, text: str) -> list[int]:
    """Token ids of a rendered prompt; the template already wrote any special tokens."""
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])
