"""The hf backend on the embedded model: greedy, batched, stopping at the first call."""

from __future__ import annotations

import pytest

from callgym.agents.backends import Sampling, make_backend
from callgym.calls import parse_call
from callgym.errors import ConfigError
from tests.agents.backends.prompts import CALL_CHAT, CALL_NAMES, CHATS, MAX_CHAT, MAX_TOOL

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hf():
    # float32 on every CPU: in bfloat16 (picked where the CPU has native bf16) a reply depends
    # on its batch's shape by rounding, so "a batch equals one chat at a time" holds only here
    backend = make_backend("hf", "smollm2-135m", batch_size=8, dtype="float32")
    yield backend
    backend.close()


def test_greedy_is_deterministic_and_counts_tokens(hf) -> None:
    first = hf.generate(CHATS, Sampling(max_tokens=16))
    assert first == hf.generate(CHATS, Sampling(max_tokens=16))
    for reply in first:
        assert reply.text and 20 < reply.tokens_in < 80 and 0 < reply.tokens_out <= 16
    assert first[2].finish_reason == "length" and first[2].tokens_out == 16  # a long story is cut


def test_a_batch_equals_one_chat_at_a_time(hf) -> None:
    sampling = Sampling(max_tokens=20)
    batch = hf.generate(CHATS, sampling)
    assert batch == [hf.generate([chat], sampling)[0] for chat in CHATS]


def test_sub_batches_give_the_same_replies(hf) -> None:
    sampling = Sampling(max_tokens=12)
    small = make_backend("hf", "smollm2-135m", batch_size=1, dtype="float32")
    try:
        assert small.generate(CHATS, sampling) == hf.generate(CHATS, sampling)
    finally:
        small.close()


def test_reply_stops_right_after_an_offered_call(hf) -> None:
    sampling = Sampling(max_tokens=40)
    hf.stop_on_call = False
    try:
        (free,) = hf.generate([CALL_CHAT], sampling, call_names=CALL_NAMES)
    finally:
        hf.stop_on_call = True
    (stopped,) = hf.generate([CALL_CHAT], sampling, call_names=CALL_NAMES)
    assert "print(1)" in free.text and len(free.text) > len(stopped.text)  # the model goes on talking
    (unnamed,) = hf.generate([CALL_CHAT], sampling)  # the help text alone names nothing to stop on
    assert unnamed == free
    assert stopped.text.endswith("print(1)") and stopped.finish_reason == "stop"
    assert stopped.tokens_out < free.tokens_out
    assert parse_call(stopped.text, {"print"}).args == (1,)


def test_native_tools_name_the_calls_to_stop_on(hf) -> None:
    (reply,) = hf.generate([MAX_CHAT], Sampling(max_tokens=40), tools=MAX_TOOL)
    assert reply.text.endswith("max(3, 7)") and reply.finish_reason == "stop"
    (prose,) = hf.generate([MAX_CHAT], Sampling(max_tokens=40))  # no function offered: not cut
    assert len(prose.text) > len(reply.text)


def test_tiny_max_tokens_is_reported_as_length(hf) -> None:
    (reply,) = hf.generate([CHATS[2]], Sampling(max_tokens=2))
    assert reply.finish_reason == "length" and reply.tokens_out == 2


def test_sampling_with_a_seed_is_reproducible(hf) -> None:
    sampling = Sampling(temperature=1.0, max_tokens=12, seed=7)
    first = hf.generate(CHATS[:2], sampling)
    assert first == hf.generate(CHATS[:2], sampling)
    assert first != hf.generate(CHATS[:2], Sampling(temperature=1.0, max_tokens=12, seed=8))


def test_a_seeded_sample_does_not_depend_on_its_batch(hf) -> None:
    """What a resumed run relies on: chat i sampled with seed + offset i, alone or in any batch."""
    sampling = Sampling(temperature=1.0, max_tokens=12, seed=7)
    offsets = [11, 22, 33]
    together = hf.generate(CHATS[:3], sampling, seed_offsets=offsets)
    alone = [hf.generate([chat], sampling, seed_offsets=[o])[0] for chat, o in zip(CHATS[:3], offsets)]
    reordered = hf.generate(CHATS[2::-1], sampling, seed_offsets=offsets[::-1])[::-1]
    assert [r.text for r in together] == [r.text for r in alone] == [r.text for r in reordered]
    assert hf.generate(CHATS[:1], sampling, seed_offsets=[12])[0].text != together[0].text


def test_bad_settings_are_one_line_errors() -> None:
    with pytest.raises(ConfigError, match="batch_size=0"):
        make_backend("hf", "smollm2-135m", batch_size=0)
    with pytest.raises(ConfigError, match="dtype='float33'"):
        make_backend("hf", "smollm2-135m", dtype="float33")


def test_an_unreachable_hub_id_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match=r"cannot load model 'nobody/no-such-model'.*known name"):
        make_backend("hf", "nobody/no-such-model")  # HF_HUB_OFFLINE=1 in the tests
