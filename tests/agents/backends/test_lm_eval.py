"""The lm_eval backend with lm-eval's own ``hf`` model on the embedded folder."""

from __future__ import annotations

import importlib.util

import pytest

from callgym.agents.backends import Sampling, make_backend
from callgym.errors import ConfigError
from tests.agents.backends.prompts import CALL_CHAT, CALL_NAMES, CHATS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("lm_eval") is None, reason="lm-eval is not installed"),
]


@pytest.fixture(scope="module")
def lm_eval_backend():
    backend = make_backend("lm_eval", "smollm2-135m", lm="hf", batch_size=4, device="cpu")
    yield backend
    backend.close()


def test_generate_until_answers_chats_in_order(lm_eval_backend) -> None:
    sampling = Sampling(max_tokens=16)
    replies = lm_eval_backend.generate(CHATS, sampling)
    assert replies == lm_eval_backend.generate(CHATS, sampling)
    # token counts are re-tokenized from the text: best-effort, within one of the truth
    assert all(r.text and 20 < r.tokens_in < 80 and 0 < r.tokens_out <= 17 for r in replies)
    assert replies[2].finish_reason == "length"
    hf = make_backend("hf", "smollm2-135m")  # the same model and greedy decoding
    try:
        assert [r.text for r in hf.generate(CHATS, sampling)] == [r.text for r in replies]
    finally:
        hf.close()


def test_replies_are_trimmed_to_the_first_offered_call(lm_eval_backend) -> None:
    (reply,) = lm_eval_backend.generate([CALL_CHAT], Sampling(max_tokens=40), call_names=CALL_NAMES)
    assert reply.text.endswith("print(1)") and reply.finish_reason == "stop"


def test_an_lm_instance_is_wrapped_as_is(lm_eval_backend) -> None:
    lm = lm_eval_backend._lm
    backend = make_backend("lm_eval", lm)
    assert backend.model.endswith("smollm2-135m")
    assert backend.generate(CHATS[:1], Sampling(max_tokens=6)) == lm_eval_backend.generate(
        CHATS[:1], Sampling(max_tokens=6)
    )


def test_a_seeded_sample_does_not_depend_on_its_batch(lm_eval_backend) -> None:
    sampling = Sampling(temperature=1.0, max_tokens=10, seed=7)
    together = lm_eval_backend.generate(CHATS[:2], sampling, seed_offsets=[5, 9])
    alone = [
        lm_eval_backend.generate([chat], sampling, seed_offsets=[o])[0] for chat, o in zip(CHATS[:2], [5, 9])
    ]
    assert [r.text for r in together] == [r.text for r in alone]


def test_unknown_lm_eval_model_type_is_one_line() -> None:
    with pytest.raises(ConfigError, match="lm-eval has no model type 'hff'"):
        make_backend("lm_eval", "smollm2-135m", lm="hff")
