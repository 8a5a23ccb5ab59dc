"""A tiny real HTTP server that speaks (or garbles) the OpenAI chat API, for fault tests.

Not a mock: the backend talks to it over TCP exactly as to vLLM. Each test scripts the
answers with a function ``(path, request_json) -> Answer``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    """One scripted HTTP answer; ``chunks`` makes it a server-sent event stream."""

    status: int = 200
    body: Any = None  # dict -> JSON, str -> text
    chunks: list[dict[str, Any]] | None = None
    content_type: str = "application/json"


@dataclass
class Log:
    """What the server saw."""

    requests: list[tuple[str, dict[str, Any], dict[str, str]]] = field(
        default_factory=list
    )  # headers lower-cased

    def paths(self) -> list[str]:
        return [p for p, _, _ in self.requests]


Script = Callable[[str, dict[str, Any]], Answer]


def completion(text: str, finish_reason: str = "stop", prompt_tokens: int = 7, completion_tokens: int = 3,
               tool_calls: list[dict[str, Any]] | None = None) -> dict[str, Any]:  # fmt: skip
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": "cmpl-1", "object": "chat.completion", "created": 0, "model": "scripted",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }  # fmt: skip


def models(*ids: str, owned_by: str = "scripted") -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"id": i, "object": "model", "created": 0, "owned_by": owned_by} for i in ids],
    }


def stream_chunks(pieces: list[str], prompt_tokens: int = 7) -> list[dict[str, Any]]:
    """Chunks of a streamed completion, one per piece, with vLLM-style usage on each."""
    chunks = []
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        chunks.append({
            "id": "c", "object": "chat.completion.chunk", "created": 0, "model": "scripted",
            "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": "stop" if last else None}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": i + 1,
                      "total_tokens": prompt_tokens + i + 1},
        })  # fmt: skip
    return chunks


def _handler(script: Script, log: Log) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            self._answer({})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self._answer(json.loads(self.rfile.read(length) or b"{}"))

        def _answer(self, request: dict[str, Any]) -> None:
            log.requests.append((self.path, request, {k.lower(): v for k, v in self.headers.items()}))
            answer = script(self.path, request)
            if answer.chunks is not None:
                self._stream(answer.chunks)
                return
            body = answer.body if isinstance(answer.body, str) else json.dumps(answer.body)
            data = body.encode()
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, chunks: list[dict[str, Any]]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            try:
                for chunk in chunks:
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
            except (BrokenPipeError, ConnectionResetError):
                log.requests.append(("<client closed the stream>", {}, {}))

    return Handler


@contextmanager
def scripted_server(script: Script) -> Iterator[tuple[str, Log]]:
    """Serve ``script`` on 127.0.0.1; yield ``(base_url, log)``."""
    log = Log()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(script, log))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", log
    finally:
        server.shutdown()
        server.server_close()
