"""The ``openai`` backend: any OpenAI-compatible chat endpoint, one or a fleet.

Requests of a batch run concurrently (an ``asyncio`` semaphore caps them) on a private
event-loop thread, so ``generate`` is an ordinary blocking call that also works inside
Jupyter. Several base URLs are used round-robin, and a retry goes to the next URL, so a fleet
of ``vllm serve`` processes scales rollouts past one machine and survives one of them dying.

Failures: connection errors, timeouts, 408/409/429/5xx answers and garbage (a body that
is not a chat completion) are retried with exponential backoff; after the last try the
batch fails with :class:`~callgym.errors.BackendError` naming the URL and the fix. 401, 403
and 404 fail at once (a wrong key or model name does not heal). A 400 on some requests of a
batch (say, one history longer than the context) gives those an empty ``"error"`` reply;
400 on every request is a BackendError.

Against vLLM (detected from ``/v1/models``) replies are streamed: the stream is closed as
soon as the reply holds a complete call (vLLM then aborts the request), and vLLM's
per-chunk usage gives exact token counts. Other servers answer in one piece and the reply
is trimmed to its first call.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import random
import threading
from collections.abc import Collection, Coroutine
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, TypeVar
from urllib.parse import urlparse

from callgym.agents.backends.base import Messages, Reply, Sampling
from callgym.agents.backends.stopping import CallWatcher, finish_text, may_close_call, names_per_chat
from callgym.errors import BackendError, ConfigError

log = logging.getLogger(__name__)

T = TypeVar("T")
DEFAULT_URL = "http://127.0.0.1:8000/v1"
_RETRY_STATUS = {408, 409, 429}
_FATAL_STATUS = {401, 403, 404}


class _Garbage(Exception):
    """The endpoint answered something that is not a chat completion."""


class _BadRequest(Exception):
    """A 400 answer: this request cannot succeed as sent."""


@dataclass
class _Answer:
    """What one request produced."""

    text: str = ""
    tool_calls: dict[int, dict[str, str]] = field(default_factory=dict)
    tokens_in: int = 0
    tokens_out: int = 0
    finish_reason: str | None = None
    stopped_on_call: bool = False


class OpenAIBackend:
    """Generate through OpenAI-compatible chat completions.

    Args:
        model: the served model id; "auto" takes the first id of ``/v1/models``. A known
            callgym name also matches a server started on its folder (same basename).
        base_url: one URL, several separated by commas, or a list (default
            ``$OPENAI_BASE_URL`` or ``http://127.0.0.1:8000/v1``; a bare ``host:port`` gets
            ``/v1``).
        api_key: default ``$OPENAI_API_KEY``, else "EMPTY" (what vLLM accepts).
        concurrency: requests in flight at once, over all URLs.
        timeout: seconds per request (per chunk when streaming).
        max_retries: retries after the first try of a request.
        backoff: seconds before the first retry; doubles with each retry.
        stream: stream replies (None: only against vLLM, see the module docstring).
        stop_on_call: end each reply right after its first complete call.
        extra_body: extra JSON fields for every request (server-specific options).
    """

    name = "openai"

    def __init__(
        self,
        model: str = "auto",
        *,
        base_url: str | list[str] | None = None,
        api_key: str | None = None,
        concurrency: int = 32,
        timeout: float = 120.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        stream: bool | None = None,
        stop_on_call: bool = True,
        extra_body: dict[str, Any] | None = None,
    ) -> None:
        _check_limits(concurrency, timeout, max_retries, backoff)
        self.model = model
        self.urls = _parse_urls(base_url)
        self.concurrency = concurrency
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.stream = stream
        self.stop_on_call = stop_on_call
        self.extra_body = dict(extra_body or {})
        self._api_key = api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"
        self._turn = itertools.count()
        self._served: str | None = None
        self._is_vllm = False
        self._loop = _LoopThread()
        self._clients = [self._client(url) for url in self.urls]

    def generate(self, chats: list[Messages], sampling: Sampling, tools: list[dict[str, Any]] | None = None,
                 seed_offsets: list[int] | None = None,
                 call_names: list[Collection[str]] | None = None) -> list[Reply]:
        """Return one reply per chat, in order (chat *i* sent with seed ``seed + seed_offsets[i]``,
        ended after its first complete call to one of ``call_names[i]``).

        Raises:
            BackendError: the endpoint is down, refuses, or answers garbage (after retries).
        """
        if self._loop is None:
            raise ConfigError("this openai backend was closed; build a new one")
        if not chats:
            return []
        names = names_per_chat(chats, tools, call_names)
        return self._loop.run(
            self._generate(chats, sampling, tools, list(seed_offsets or range(len(chats))), names)
        )

    def close(self) -> None:
        """Close the HTTP clients and stop the event-loop thread."""
        loop, self._loop = self._loop, None
        if loop is None:
            return
        try:
            loop.run(_close_all(self._clients))
        finally:
            loop.close()

    def __del__(self) -> None:
        # Garbage-collection cleanup is best effort: at interpreter exit the loop thread
        # may already be gone, and there is nobody left to report an error to.
        with contextlib.suppress(Exception):
            self.close()

    # ------------------------------------------------------------------ batch

    async def _generate(
        self,
        chats: list[Messages],
        sampling: Sampling,
        tools: list[dict[str, Any]] | None,
        seed_offsets: list[int],
        names: list[frozenset[str]],
    ) -> list[Reply]:
        if self._served is None:
            self._served = await self._resolve_model()
        gate = asyncio.Semaphore(self.concurrency)
        jobs = [
            self._one(gate, chat, sampling, tools, names[i], seed_offsets[i]) for i, chat in enumerate(chats)
        ]
        answers = await _all_or_nothing(jobs)
        bad = [a for a in answers if isinstance(a, _BadRequest)]
        if bad and len(bad) == len(answers):
            raise BackendError(f"{self.urls[0]} refused every request of the batch: {bad[0]}")
        for error in bad[:1]:
            log.warning("%d of %d requests refused (empty error replies): %s", len(bad), len(answers), error)
        return [self._reply(a, n) for a, n in zip(answers, names, strict=True)]

    def _reply(self, answer: _Answer | BaseException, names: frozenset[str]) -> Reply:
        if isinstance(answer, BaseException):
            return Reply("", 0, 0, "error")
        text = _with_tool_calls(answer.text, answer.tool_calls)
        text, stopped = finish_text(text, names, on_call=self.stop_on_call)
        length = answer.finish_reason == "length" and not (stopped or answer.stopped_on_call)
        return Reply(text, answer.tokens_in, answer.tokens_out, "length" if length else "stop")

    # ------------------------------------------------------------------ one request, with retries

    async def _one(
        self,
        gate: asyncio.Semaphore,
        chat: Messages,
        sampling: Sampling,
        tools: list[dict[str, Any]] | None,
        names: frozenset[str],
        seed_offset: int,
    ) -> _Answer:
        request = self._request(chat, sampling, tools, seed_offset)
        async with gate:
            return await self._with_retries(lambda client: self._complete(client, request, names))

    async def _with_retries(self, attempt_fn: Any) -> Any:
        import openai

        first = next(self._turn)
        for attempt in range(self.max_retries + 1):
            slot = (first + attempt) % len(self._clients)
            url = self.urls[slot]
            try:
                return await attempt_fn(self._clients[slot])
            except openai.BadRequestError as e:
                raise _BadRequest(_status_text(e)) from e
            except openai.APIStatusError as e:
                if e.status_code in _FATAL_STATUS or not (
                    e.status_code >= 500 or e.status_code in _RETRY_STATUS
                ):
                    raise BackendError(
                        f"{url} refused the request: {_status_text(e)}{_fix_for(e.status_code)}"
                    ) from e
                error: Exception = e
            except (
                openai.APIConnectionError,
                openai.APIResponseValidationError,
                _Garbage,
                json.JSONDecodeError,
            ) as e:
                error = e
            if attempt == self.max_retries:
                raise BackendError(self._give_up_message(url, error, attempt + 1)) from error
            delay = self.backoff * 2**attempt * (1 + random.random() / 4)
            log.info("%s: %s; retry %d in %.1fs", url, _short(error), attempt + 1, delay)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    def _give_up_message(self, url: str, error: Exception, tries: int) -> str:
        import openai

        where = url if len(self.urls) == 1 else f"{len(self.urls)} endpoints (last {url})"
        if isinstance(error, openai.APIConnectionError):
            port = urlparse(url).port or 8000
            return (
                f"cannot reach {where} after {tries} tries ({_short(error)}). Is the server running? "
                f"Start one with: python -m callgym.agents.backends.serve smollm2-135m --port {port}"
            )
        if isinstance(error, (_Garbage, openai.APIResponseValidationError, json.JSONDecodeError)):
            return f"{where} answered garbage {tries} times (not a chat completion): {_short(error)}"
        return f"{where} kept failing after {tries} tries: {_short(error)}"

    def _request(
        self, chat: Messages, sampling: Sampling, tools: list[dict[str, Any]] | None, seed_offset: int
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "messages": chat,
            "max_tokens": sampling.max_tokens,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
        }
        if sampling.seed is not None:
            request["seed"] = sampling.seed + seed_offset
        if sampling.stop:
            request["stop"] = list(sampling.stop)
        if tools:
            request["tools"] = tools
        if self.extra_body:
            request["extra_body"] = dict(self.extra_body)
        return request

    async def _complete(self, client: Any, request: dict[str, Any], names: frozenset[str]) -> _Answer:
        stream = self._is_vllm if self.stream is None else self.stream
        if stream:
            return await self._complete_streamed(client, request, names)
        response = await client.chat.completions.create(model=self._served, **request)
        return _parse_completion(response)

    async def _complete_streamed(
        self, client: Any, request: dict[str, Any], names: frozenset[str]
    ) -> _Answer:
        options: dict[str, Any] = {"include_usage": True}
        if self._is_vllm:
            options["continuous_usage_stats"] = True  # vLLM: usage on every chunk
        stream = await client.chat.completions.create(
            model=self._served, stream=True, stream_options=options, **request
        )
        answer = _Answer()
        watcher = CallWatcher(names)  # scans the reply once as it grows, not at every chunk
        try:
            async for chunk in stream:
                if (
                    _absorb_chunk(answer, chunk)
                    and self.stop_on_call
                    and names
                    and watcher.end(answer.text) is not None
                ):
                    answer.stopped_on_call = True
                    break
        finally:
            await stream.close()  # closing early makes vLLM abort the request
        if (
            answer.finish_reason is None
            and not answer.stopped_on_call
            and not answer.text
            and not answer.tool_calls
        ):
            raise _Garbage("the stream ended without any completion chunk")
        return answer

    # ------------------------------------------------------------------ model discovery

    async def _resolve_model(self) -> str:
        served = await self._with_retries(self._list_models)
        ids = [m[0] for m in served]
        self._is_vllm = any(owner == "vllm" for _, owner in served)
        if not ids:
            if self.model == "auto":
                raise BackendError(f"{self.urls[0]} lists no models; pass the served model name with --model")
            return self.model  # the endpoint does not list models: trust the caller
        if self.model == "auto":
            return ids[0]
        if self.model in ids:
            return self.model
        same_folder = [i for i in ids if PurePosixPath(i).name == self.model]
        if len(same_folder) == 1:
            return same_folder[0]
        raise BackendError(
            f"{self.urls[0]} does not serve model {self.model!r}; it serves {', '.join(ids)}. "
            "Pass one of those with --model (or 'auto'), or start vllm serve with --served-model-name"
        )

    async def _list_models(self, client: Any) -> list[tuple[str, str]]:
        import openai

        try:
            page = await client.models.list()
        except openai.NotFoundError:
            return []
        data = getattr(page, "data", None)
        if not isinstance(data, list) or not all(isinstance(getattr(m, "id", None), str) for m in data):
            raise _Garbage(f"/models answered {_short(page)}")
        return [(m.id, str(getattr(m, "owned_by", ""))) for m in data]

    def _client(self, url: str) -> Any:
        try:
            import openai
        except ImportError as e:
            raise ConfigError(
                f"the openai backend needs the openai package: pip install 'callgym[openai]' ({e})"
            ) from e
        return openai.AsyncOpenAI(base_url=url, api_key=self._api_key, timeout=self.timeout, max_retries=0)


# ----------------------------------------------------------------------------- responses


def _parse_completion(response: Any) -> _Answer:
    choices = getattr(response, "choices", None)
    if not isinstance(choices, list) or not choices or getattr(choices[0], "message", None) is None:
        raise _Garbage(f"no choices in {_short(response)}")
    choice = choices[0]
    message = choice.message
    answer = _Answer(text=message.content or "", finish_reason=choice.finish_reason)
    for i, call in enumerate(getattr(message, "tool_calls", None) or []):
        function = getattr(call, "function", None)
        if function is not None:
            answer.tool_calls[i] = {"name": function.name or "", "arguments": function.arguments or ""}
    _read_usage(answer, getattr(response, "usage", None))
    return answer


def _absorb_chunk(answer: _Answer, chunk: Any) -> bool:
    """Add one stream chunk to ``answer``; return True when it added text that may close a call."""
    _read_usage(answer, getattr(chunk, "usage", None))
    choices = getattr(chunk, "choices", None)
    if not isinstance(choices, list):
        raise _Garbage(f"a stream chunk without choices: {_short(chunk)}")
    if not choices:
        return False  # the final usage-only chunk
    choice = choices[0]
    answer.finish_reason = choice.finish_reason or answer.finish_reason
    delta = choice.delta
    for call in getattr(delta, "tool_calls", None) or []:
        slot = answer.tool_calls.setdefault(call.index or 0, {"name": "", "arguments": ""})
        if call.function is not None:
            slot["name"] += call.function.name or ""
            slot["arguments"] += call.function.arguments or ""
    piece = getattr(delta, "content", None) or ""
    answer.text += piece
    return may_close_call(piece)


def _read_usage(answer: _Answer, usage: Any) -> None:
    if usage is not None:
        answer.tokens_in = int(getattr(usage, "prompt_tokens", 0) or 0)
        answer.tokens_out = int(getattr(usage, "completion_tokens", 0) or 0)


def _with_tool_calls(text: str, tool_calls: dict[int, dict[str, str]]) -> str:
    """Append native tool calls as JSON lines, the spelling :func:`callgym.calls.parse_call` reads."""
    lines = [text] if text else []
    for _, call in sorted(tool_calls.items()):
        try:
            arguments: Any = json.loads(call["arguments"]) if call["arguments"].strip() else {}
        except ValueError:
            arguments = call["arguments"]  # the parser explains bad JSON to the model
        lines.append(json.dumps({"name": call["name"], "arguments": arguments}, ensure_ascii=False))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- helpers


async def _all_or_nothing(jobs: list[Coroutine[Any, Any, _Answer]]) -> list[_Answer | _BadRequest]:
    """Run the requests; the first real failure cancels the others (a 400 is an answer)."""
    tasks = [asyncio.ensure_future(job) for job in jobs]
    try:
        for finished in asyncio.as_completed(tasks):
            with contextlib.suppress(_BadRequest):
                await finished
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)  # collect what the cancel left
    return [task.exception() or task.result() for task in tasks]  # type: ignore[misc]


async def _close_all(clients: list[Any]) -> None:
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    await asyncio.get_running_loop().shutdown_asyncgens()  # finish streams left by early stops


def _parse_urls(base_url: str | list[str] | None) -> list[str]:
    raw = base_url if base_url is not None else os.environ.get("OPENAI_BASE_URL") or DEFAULT_URL
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    urls = [_normalize_url(u.strip()) for u in items if u and u.strip()]
    if not urls:
        raise ConfigError(f"base_url={base_url!r} holds no URL; use e.g. {DEFAULT_URL}")
    return urls


def _normalize_url(url: str) -> str:
    if "://" not in url:
        url = f"http://{url}"
    parsed = urlparse(url)
    if not parsed.hostname:
        raise ConfigError(f"base_url {url!r} has no host; use e.g. {DEFAULT_URL}")
    if parsed.path in ("", "/"):
        url = url.rstrip("/") + "/v1"  # vLLM and most servers mount the API under /v1
    return url


def _check_limits(concurrency: int, timeout: float, max_retries: int, backoff: float) -> None:
    if concurrency < 1:
        raise ConfigError(f"concurrency={concurrency} must be at least 1")
    if timeout <= 0:
        raise ConfigError(f"timeout={timeout} must be positive (seconds)")
    if max_retries < 0:
        raise ConfigError(f"max_retries={max_retries} must be 0 or more")
    if backoff < 0:
        raise ConfigError(f"backoff={backoff} must be 0 or more (seconds)")


def _status_text(error: Any) -> str:
    return f"HTTP {getattr(error, 'status_code', '?')}: {_short(getattr(error, 'message', error))}"


def _fix_for(status: int) -> str:
    if status in (401, 403):
        return " (set OPENAI_API_KEY to a key the server accepts)"
    if status == 404:
        return " (check --base-url ends in /v1 and --model names a served model)"
    return ""


def _short(value: Any, limit: int = 200) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _LoopThread:
    """An asyncio loop on a daemon thread: blocking callers submit coroutines to it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="callgym-openai", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()  # e.g. Ctrl-C: stop the requests still in flight
            raise

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        if not self.thread.is_alive():
            self.loop.close()
