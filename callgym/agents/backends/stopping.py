"""When is a reply done? Cheap checks every backend shares.

A reply is complete once it holds one whole call to one of the functions the model was
offered: a balanced Python-style call such as ``Sum(a=2, b=3)`` or a JSON tool call such as
``{"name": "Sum", "arguments": {...}}``. Backends run :func:`call_end` on the text generated
so far (only when the newest piece closes a bracket, see :func:`may_close_call`) and stop
that sequence at once; the final text is trimmed to end right after the call
(:func:`finish_text`), which is exactly the call :func:`callgym.calls.parse_call` reads.

Which functions were offered (:func:`call_names`): the names of the ``tools`` schemas
(native protocol), else the functions the system prompt's help text lists, one per line as
``Name(args)`` (the text protocol, see :meth:`callgym.tools.Tool.help_text`). A chat that
offers none (the no-tool baseline's prose) is never cut at something like ``f(3)``.

The check is conservative, because stopping too early cuts a reply before its real call
while stopping too late only costs tokens: only offered names count (``think(hard)`` in
prose does not end a reply), and text inside a ``{...}`` object is never read as a Python
call (so ``"Man(x)"`` inside a JSON argument does not end it). ``names=None`` accepts any
``Name(`` written without a space before the bracket, for callers that know no names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable
from typing import Any

from callgym.calls import bracket_end

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HELP_LINE = re.compile(r"^[ \t]*(?:[-*] +)?`?([A-Za-z_][A-Za-z0-9_]*)\(", re.MULTILINE)
_CLOSERS = (")", "}")


def call_names(
    chat: Iterable[dict[str, Any]], tools: Iterable[dict[str, Any]] | None = None
) -> frozenset[str]:
    """Return the function names a chat offers the model (empty: it offers none).

    Args:
        chat: the messages; the first system message's help text lists the functions.
        tools: OpenAI tool schemas (native tool calling); they win when given.
    """
    names = tool_names(tools)
    if names:
        return names
    for message in chat:
        if message.get("role") == "system" and isinstance(message.get("content"), str):
            return frozenset(_HELP_LINE.findall(message["content"]))
    return frozenset()


def tool_names(tools: Iterable[dict[str, Any]] | None) -> frozenset[str] | None:
    """Return the function names of OpenAI tool schemas, or None when there are none."""
    if not tools:
        return None
    names = set()
    for tool in tools:
        spec = tool.get("function", tool) if isinstance(tool, dict) else {}
        if isinstance(spec, dict) and isinstance(spec.get("name"), str):
            names.add(spec["name"])
    return frozenset(names) or None


def may_close_call(piece: str) -> bool:
    """True when newly generated ``piece`` could complete a call (it closes a bracket)."""
    return any(c in piece for c in _CLOSERS)


def call_end(text: str, names: Collection[str] | None = None) -> int | None:
    """Return the index just after the first complete call in ``text``, or None.

    Args:
        text: the reply generated so far.
        names: callable tool names; None accepts any ``Name(`` written without a space.
    """
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "{":
            close = _json_close(text, i)
            if close is None:
                return None  # an object still being written: wait for it
            if _is_json_call(text[i:close], names):
                return close
            i = close
            continue
        if ch.isalpha() or ch == "_":
            open_at = _call_spot(text, i, names)
            if open_at is None:
                i = _skip_word(text, i)
                continue
            # The first call spot decides: complete, or still being written (None).
            return _paren_close(text, open_at)
        i += 1
    return None


def finish_text(
    text: str, names: Collection[str] | None = None, stop: Iterable[str] = (), on_call: bool = True
) -> tuple[str, bool]:
    """Trim a finished reply to its first complete call and before any stop string.

    Returns:
        ``(text, stopped)``: the trimmed text and whether a call or stop string ended it.
    """
    cut = len(text)
    stopped = False
    if on_call:
        end = call_end(text, names)
        if end is not None:
            cut, stopped = end, True
    for s in stop:
        at = text.find(s) if s else -1
        if 0 <= at < cut:
            cut, stopped = at, True
    return text[:cut], stopped


def hits_stop(text: str, stop: Iterable[str]) -> bool:
    """True when any (non-empty) stop string occurs in ``text``."""
    return any(s and s in text for s in stop)


# ----------------------------------------------------------------------------- scanners


def _skip_word(text: str, i: int) -> int:
    match = _IDENT.match(text, i)
    return match.end() if match else i + 1


def _call_spot(text: str, i: int, names: Collection[str] | None) -> int | None:
    """If a call is written at the identifier at ``i``, return the index of its ``(``."""
    if i > 0 and (text[i - 1].isalnum() or text[i - 1] in "_."):
        return None
    match = _IDENT.match(text, i)
    if match is None:
        return None
    name, j = match.group(), match.end()
    if names is not None:
        if name not in names:
            return None
        while j < len(text) and text[j] in " \t":
            j += 1
    return j if j < len(text) and text[j] == "(" else None


def _paren_close(text: str, open_at: int) -> int | None:
    """Index after the bracket closing ``text[open_at]``, respecting quotes; None if open."""
    return bracket_end(text, open_at)[0]


def _json_close(text: str, open_at: int) -> int | None:
    """Index after the ``}`` closing the object at ``open_at`` (JSON strings); None if open."""
    return bracket_end(text, open_at, quotes='"')[0]


def _is_json_call(source: str, names: Collection[str] | None) -> bool:
    if '"name"' not in source:
        return False
    try:
        obj = json.loads(source)
    except ValueError:
        return False
    return _json_has_call(obj, names)


def _json_has_call(obj: Any, names: Collection[str] | None) -> bool:
    if not isinstance(obj, dict):
        return False
    if isinstance(obj.get("tool_calls"), list):
        return any(_json_has_call(c, names) for c in obj["tool_calls"])
    if isinstance(obj.get("function"), dict):
        return _json_has_call(obj["function"], names)
    name = obj.get("name")
    return isinstance(name, str) and (names is None or name in names)
