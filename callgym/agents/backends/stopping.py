"""When is a reply done? Cheap checks every backend shares.

A reply is complete once it holds one whole call to one of the functions the model was
offered: a balanced Python-style call such as ``Sum(a=2, b=3)`` or a JSON tool call such as
``{"name": "Sum", "arguments": {...}}``. Backends run :func:`call_end` on the text generated
so far (only when the newest piece closes a bracket, see :func:`may_close_call`) and stop
that sequence at once; the final text is trimmed to end right after the call
(:func:`finish_text`), which is exactly the call :func:`callgym.calls.parse_call` reads.

Which functions count is the caller's to say: the agent passes, with each request, the
functions its env offers (``call_names``, see :meth:`callgym.agents.lm.LMAgent.act`), and none
for a chat that offers none (the no-tool baseline's prose is never cut at something like
``f(3)``) or whose env takes several calls per reply. A caller that passes no names gets the
names of the request's ``tools`` schemas (:func:`offered_names`), else no stop at a call.

The check is conservative, because stopping too early cuts a reply before its real call
while stopping too late only costs tokens: only offered names count (``think(hard)`` in
prose does not end a reply), and text inside a ``{...}`` object is never read as a Python
call (so ``"Man(x)"`` inside a JSON argument does not end it). ``names=None`` accepts any
``Name(`` written without a space before the bracket, for callers that know no names.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from callgym.calls import BracketScan, is_json_call
from callgym.errors import ConfigError

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CLOSERS = (")", "}")


def offered_names(tools: Iterable[dict[str, Any]] | None, names: Collection[str] | None) -> frozenset[str]:
    """The functions whose complete call ends a reply (empty: none does).

    Args:
        tools: the request's OpenAI tool schemas (native tool calling), or None.
        names: the names the caller passed (the env's toolset); they win when given.
    """
    if names is not None:
        return frozenset(names)
    return tool_names(tools) or frozenset()


def names_per_chat(
    chats: list[Any], tools: Iterable[dict[str, Any]] | None, call_names: list[Collection[str]] | None
) -> list[frozenset[str]]:
    """:func:`offered_names` for each chat of a batch (``call_names``: one entry per chat)."""
    if call_names is None:
        return [offered_names(tools, None)] * len(chats)
    if len(call_names) != len(chats):
        raise ConfigError(
            f"call_names has {len(call_names)} entries for {len(chats)} chats; pass one per chat"
        )
    return [frozenset(names) for names in call_names]


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
    return CallWatcher(names).end(text)


class CallWatcher:
    """:func:`call_end` for one reply as it streams in, in linear time overall.

    Each :meth:`end` resumes where the previous one could not yet decide (a word that may
    still grow, a call or object still open) instead of rescanning the reply from its start
    at every closing bracket. A decoder may rewrite the last characters it emitted (half of
    a multi-byte character becomes whole): when the text before the resume point changed
    there, the scan starts over.
    """

    _TAIL = 16  # characters before the resume point checked for a rewrite

    def __init__(self, names: Collection[str] | None = None) -> None:
        self.names = names
        self._reset()

    def _reset(self) -> None:
        self._pos, self._tail = 0, ""  # text before _pos is decided; _tail is its end
        # What the last check left undecided: a word (it may still grow into a call), or a
        # call or JSON object still open; each resumes where it stopped.
        self._pending: _Word | tuple[str, int, BracketScan] | None = None
        self._found: int | None = None

    def end(self, text: str) -> int | None:
        """Index just after the first complete call in ``text`` (the reply so far), or None."""
        if len(text) < self._pos or text[self._pos - len(self._tail):self._pos] != self._tail:
            self._reset()
        if self._found is None:
            self._found = self._scan(text)
        return self._found

    def _scan(self, text: str) -> int | None:
        i, pending, self._pending = self._pos, self._pending, None
        if isinstance(pending, _Word):
            open_at = pending.call_paren(text, self.names)
            if open_at is not None:
                return self._call(text, pending, open_at)
            i = pending.name_end
        elif pending is not None:
            done, i = self._bracket(text, *pending)
            if done:
                return i
        return self._scan_from(text, i)

    def _scan_from(self, text: str, i: int) -> int | None:
        n = len(text)
        while i < n:
            ch = text[i]
            if ch == "{":
                done, i = self._bracket(text, "json", i, BracketScan(i, quotes='"'))
                if done:
                    return i
            elif (ch.isalpha() or ch == "_") and _starts_word(text, i):
                word = _Word(i, i + 1)
                open_at = word.call_paren(text, self.names)
                if open_at is not None:
                    return self._call(text, word, open_at)
                i = word.name_end
            elif ch.isalpha() or ch == "_":
                i = _skip_word(text, i)
            else:
                i += 1
        return self._wait(text, n, None)

    def _call(self, text: str, word: _Word, open_at: int) -> int | None:
        """The end of the call whose name is ``word``, or None while it is being written."""
        if open_at == _UNDECIDED:
            return self._wait(text, word.start, word)  # the word may still grow into a call
        # The first call spot decides: complete, or still being written.
        return self._bracket(text, "call", word.start, BracketScan(open_at))[1]

    def _bracket(self, text: str, kind: str, start: int, scan: BracketScan) -> tuple[bool, int | None]:
        """(done, index): the call's end, or where to scan on after an object that is no call;
        (True, None) while it is still open."""
        close = scan.run(text)
        if close is None:
            return True, self._wait(text, start, (kind, start, scan))
        if kind == "call" or is_json_call(text[start:close], self.names):
            return True, close
        return False, close

    def _wait(self, text: str, i: int, pending: _Word | tuple[str, int, BracketScan] | None) -> None:
        self._pos, self._tail, self._pending = i, text[max(0, i - self._TAIL):i], pending
        return None


_UNDECIDED = -1
_IDENT_REST = re.compile(r"[A-Za-z0-9_]*")
_BLANKS = re.compile(r"[ \t]*")


@dataclass
class _Word:
    """An identifier that may start a call, read as far as the text goes so far."""

    start: int
    pos: int  # the next character to read
    name_end: int = -1  # where the identifier ends, once known

    def call_paren(self, text: str, names: Collection[str] | None) -> int | None:
        """The index of the call's ``(``; None: no call here; _UNDECIDED: the text ends
        before that is known (the name, or the blanks after a known one, may go on)."""
        if self.name_end < 0:
            self.pos = _IDENT_REST.match(text, self.pos).end()  # type: ignore[union-attr]
            if self.pos == len(text):
                return _UNDECIDED
            self.name_end = self.pos
            if names is not None and text[self.start:self.name_end] not in names:
                return None
        if names is not None:  # a known name may have blanks before its bracket
            self.pos = _BLANKS.match(text, self.pos).end()  # type: ignore[union-attr]
        if self.pos == len(text):
            return _UNDECIDED
        return self.pos if text[self.pos] == "(" else None


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


def _starts_word(text: str, i: int) -> bool:
    """Whether an identifier that could name a call starts at ``i`` (not inside a word,
    not after a dot: ``obj.Sum(`` is attribute access)."""
    if i > 0 and (text[i - 1].isalnum() or text[i - 1] in "_."):
        return False
    return _IDENT.match(text, i) is not None
