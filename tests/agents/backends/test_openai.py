"""The openai backend: a real ``vllm serve`` of the embedded model, and scripted HTTP servers for faults."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

import pytest

from callgym.agents.backends import Sampling, make_backend
from callgym.calls import parse_call
from callgym.errors import BackendError, ConfigError
from tests.agents.backends.prompts import CALL_CHAT, CALL_NAMES, CHATS, MAX_CHAT, MAX_TOOL
from tests.agents.backends.scripted_server import Answer, completion, models, scripted_server, stream_chunks

HELLO = [[{"role": "user", "content": "hi"}]]
QUICK = {"max_retries": 2, "backoff": 0.05, "timeout": 5.0}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket closes


def _chat_api(answer_for: Any) -> Any:
    """A script serving /models and answering chats with ``answer_for(request)``."""

    def script(path: str, request: dict[str, Any]) -> Answer:
        if path.endswith("/models"):
            return Answer(body=models("scripted"))
        return answer_for(request)

    return script


# ----------------------------------------------------------------------------- faults, fast


def test_a_closed_port_fails_fast_with_the_url_and_the_fix() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    backend = make_backend("openai", "auto", base_url=url, **QUICK)
    started = time.monotonic()
    try:
        with pytest.raises(
            BackendError, match=r"cannot reach http://127\.0\.0\.1:\d+/v1 after 3 tries.*server running"
        ):
            backend.generate(HELLO, Sampling(max_tokens=4))
    finally:
        backend.close()
    assert time.monotonic() - started < 10


def test_garbage_answers_are_retried_then_reported() -> None:
    def script(path: str, request: dict[str, Any]) -> Answer:
        if path.endswith("/models"):
            return Answer(body=models("scripted"))
        return Answer(body="<html>I am not an API</html>", content_type="text/html")

    with scripted_server(script) as (url, log):
        backend = make_backend("openai", "scripted", base_url=url, **QUICK)
        with pytest.raises(BackendError, match="answered garbage 3 times"):
            backend.generate(HELLO, Sampling(max_tokens=4))
        backend.close()
    assert log.paths().count("/v1/chat/completions") == 3


@pytest.mark.parametrize("body", [{"hello": "world"}, '{"choices": [', "null"])
def test_json_that_is_not_a_completion_is_garbage_too(body: Any) -> None:
    with scripted_server(_chat_api(lambda r: Answer(body=body))) as (url, _):
        backend = make_backend("openai", "scripted", base_url=url, **QUICK)
        with pytest.raises(BackendError, match="garbage"):
            backend.generate(HELLO, Sampling(max_tokens=4))
        backend.close()


def test_server_errors_are_retried_with_backoff() -> None:
    calls = []

    def answer(request: dict[str, Any]) -> Answer:
        calls.append(time.monotonic())
        if len(calls) < 3:
            return Answer(status=503, body={"error": {"message": "busy"}})
        return Answer(body=completion("Sum(a=1, b=2)", prompt_tokens=11, completion_tokens=6))

    with scripted_server(_chat_api(answer)) as (url, _):
        backend = make_backend("openai", "scripted", base_url=url, max_retries=3, backoff=0.05)
        (reply,) = backend.generate(HELLO, Sampling(max_tokens=8))
        backend.close()
    assert (reply.text, reply.tokens_in, reply.tokens_out, reply.finish_reason) == (
        "Sum(a=1, b=2)",
        11,
        6,
        "stop",
    )
    assert calls[2] - calls[1] > calls[1] - calls[0] >= 0.05  # the wait doubles


def test_wrong_key_fails_at_once_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
    seen: list[str] = []

    def script(path: str, request: dict[str, Any]) -> Answer:
        return Answer(status=401, body={"error": {"message": "bad key"}})

    with scripted_server(script) as (url, log):
        backend = make_backend("openai", "scripted", base_url=url, **QUICK)
        with pytest.raises(BackendError, match="OPENAI_API_KEY"):
            backend.generate(HELLO, Sampling(max_tokens=4))
        backend.close()
        seen = [headers.get("authorization", "") for _, _, headers in log.requests]
    assert seen == ["Bearer sk-wrong"]  # no retries


def test_the_first_hard_failure_cancels_the_rest_of_the_batch() -> None:
    def answer(request: dict[str, Any]) -> Answer:
        if request["messages"][-1]["content"] == "forbidden":
            return Answer(status=403, body={"error": {"message": "no"}})
        time.sleep(3)
        return Answer(body=completion("late"))

    chats = [[{"role": "user", "content": c}] for c in ("slow", "forbidden", "slow")]
    with scripted_server(_chat_api(answer)) as (url, _):
        backend = make_backend("openai", "scripted", base_url=url, **QUICK)
        started = time.monotonic()
        with pytest.raises(BackendError, match="HTTP 403"):
            backend.generate(chats, Sampling(max_tokens=2))
        assert time.monotonic() - started < 2
        backend.close()


def test_a_refused_request_gets_an_error_reply_unless_all_are_refused() -> None:
    def answer(request: dict[str, Any]) -> Answer:
        if "too long" in request["messages"][-1]["content"]:
            return Answer(status=400, body={"error": {"message": "maximum context length exceeded"}})
        return Answer(body=completion("Answer(4)"))

    chats = [[{"role": "user", "content": "too long"}], [{"role": "user", "content": "fine"}]]
    with scripted_server(_chat_api(answer)) as (url, _):
        backend = make_backend("openai", "scripted", base_url=url, **QUICK)
        bad, good = backend.generate(chats, Sampling(max_tokens=4))
        with pytest.raises(BackendError, match="refused every request.*maximum context length"):
            backend.generate(chats[:1], Sampling(max_tokens=4))
        backend.close()
    assert (bad.text, bad.finish_reason) == ("", "error") and good.text == "Answer(4)"


def test_several_urls_share_the_load_and_cover_for_a_dead_one() -> None:
    with (
        scripted_server(_chat_api(lambda r: Answer(body=completion("ok")))) as (url_a, log_a),
        scripted_server(_chat_api(lambda r: Answer(body=completion("ok")))) as (url_b, log_b),
    ):
        backend = make_backend("openai", "scripted", base_url=f"{url_a},{url_b}", **QUICK)
        assert [r.text for r in backend.generate(HELLO * 6, Sampling(max_tokens=2))] == ["ok"] * 6
        backend.close()
        dead = f"http://127.0.0.1:{_closed_port()}/v1"
        backend = make_backend("openai", "scripted", base_url=[dead, url_a], **QUICK)
        assert [r.text for r in backend.generate(HELLO * 4, Sampling(max_tokens=2))] == ["ok"] * 4
        backend.close()
    assert log_a.paths().count("/v1/chat/completions") == 3 + 4
    assert log_b.paths().count("/v1/chat/completions") == 3


def test_concurrency_is_capped() -> None:
    lock, running, peak = threading.Lock(), [0], [0]

    def answer(request: dict[str, Any]) -> Answer:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.2)
        with lock:
            running[0] -= 1
        return Answer(body=completion("ok"))

    with scripted_server(_chat_api(answer)) as (url, _):
        backend = make_backend("openai", "scripted", base_url=url, concurrency=3)
        backend.generate(HELLO * 12, Sampling(max_tokens=2))
        backend.close()
    assert peak[0] == 3


def test_native_tool_calls_become_call_text() -> None:
    tool_call = {
        "id": "t1",
        "type": "function",
        "function": {"name": "Sum", "arguments": json.dumps({"a": 2, "b": 3})},
    }
    requests: list[dict[str, Any]] = []

    def answer(request: dict[str, Any]) -> Answer:
        requests.append(request)
        return Answer(body=completion("", finish_reason="tool_calls", tool_calls=[tool_call]))

    tools = [{"type": "function", "function": {"name": "Sum", "parameters": {"type": "object"}}}]
    with scripted_server(_chat_api(answer)) as (url, _):
        backend = make_backend("openai", "scripted", base_url=url, **QUICK)
        (reply,) = backend.generate(HELLO, Sampling(max_tokens=20, seed=5, stop=["END"]), tools=tools)
        backend.close()
    assert parse_call(reply.text, {"Sum"}).kwargs == {"a": 2, "b": 3}
    assert requests[0]["tools"] == tools and requests[0]["seed"] == 5 and requests[0]["stop"] == ["END"]


def test_a_vllm_stream_is_closed_at_the_first_complete_call() -> None:
    pieces = ["I will add. ", "Sum(a=1, ", "b=2)", " and then", " more", " words"] + [" x"] * 200

    def script(path: str, request: dict[str, Any]) -> Answer:
        if path.endswith("/models"):
            return Answer(body=models("m", owned_by="vllm"))
        assert request["stream"] and request["stream_options"]["continuous_usage_stats"]
        return Answer(chunks=stream_chunks(pieces, prompt_tokens=9))

    chat = [{"role": "system", "content": "Sum(a, b)\n    Add."}, {"role": "user", "content": "1+2"}]
    with scripted_server(script) as (url, _):
        backend = make_backend("openai", "m", base_url=url, **QUICK)
        (reply,) = backend.generate([chat], Sampling(max_tokens=300), call_names=[{"Sum"}])
        backend.close()
    assert (reply.text, reply.tokens_in, reply.tokens_out, reply.finish_reason) == (
        "I will add. Sum(a=1, b=2)",
        9,
        3,
        "stop",
    )


def test_bad_settings_are_one_line_errors() -> None:
    with pytest.raises(ConfigError, match="concurrency=0"):
        make_backend("openai", "auto", concurrency=0)
    with pytest.raises(ConfigError, match="holds no URL"):
        make_backend("openai", "auto", base_url=" , ")


def test_bare_host_port_gets_the_v1_path() -> None:
    backend = make_backend("openai", "auto", base_url="127.0.0.1:8000, http://h:9/api/v1")
    assert backend.urls == ["http://127.0.0.1:8000/v1", "http://h:9/api/v1"]
    backend.close()


# ----------------------------------------------------------------------------- a real vllm serve


@pytest.mark.slow
def test_real_server_replies_with_exact_token_counts(vllm_server) -> None:
    backend = make_backend("openai", "smollm2-135m", base_url=vllm_server.base_url)
    whole = make_backend("openai", "auto", base_url=vllm_server.base_url, stream=False)
    try:
        streamed = backend.generate(CHATS, Sampling(max_tokens=16))
        plain = whole.generate(CHATS, Sampling(max_tokens=16))
    finally:
        backend.close()
        whole.close()
    assert streamed == plain  # greedy; one server; streaming changes nothing but the transport
    assert all(20 < r.tokens_in < 80 and 0 < r.tokens_out <= 16 for r in streamed)
    assert streamed[2].finish_reason == "length" and streamed[2].tokens_out == 16


@pytest.mark.slow
def test_real_server_stops_at_the_first_offered_call(vllm_server) -> None:
    backend = make_backend("openai", "smollm2-135m", base_url=[vllm_server.base_url] * 2, concurrency=4)
    try:
        (call,) = backend.generate([CALL_CHAT], Sampling(max_tokens=40), call_names=CALL_NAMES)
        (tool,) = backend.generate([MAX_CHAT], Sampling(max_tokens=40), tools=None)
    finally:
        backend.close()
    assert call.text.endswith("print(1)") and call.finish_reason == "stop" and call.tokens_out < 40
    assert not tool.text.endswith("max(3, 7)")  # no function offered: the prose goes on


@pytest.mark.slow
def test_real_server_without_a_tool_parser_refuses_native_tools_clearly(vllm_server) -> None:
    backend = make_backend("openai", "smollm2-135m", base_url=vllm_server.base_url)
    try:
        with pytest.raises(BackendError, match="refused every request.*HTTP 400.*tool"):
            backend.generate([MAX_CHAT], Sampling(max_tokens=8), tools=MAX_TOOL)
    finally:
        backend.close()


@pytest.mark.slow
def test_real_server_names_the_models_it_serves(vllm_server) -> None:
    backend = make_backend("openai", "smollm2-1.7b", base_url=vllm_server.base_url)
    try:
        with pytest.raises(BackendError, match="does not serve model 'smollm2-1.7b'; it serves smollm2-135m"):
            backend.generate(HELLO, Sampling(max_tokens=2))
    finally:
        backend.close()
