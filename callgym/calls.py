"""Parse a model reply into a function call, safely.

Two spellings are understood, with chatty text before or after tolerated:

* Python-call syntax: ``Sum(a=2, b=3)``, ``Answer(18)``, ``Premise("∀x (Man(x) → Mortal(x))")``
* JSON tool calls: ``{"name": "Sum", "arguments": {"a": 2, "b": 3}}`` (OpenAI style, also
  nested under ``"function"`` or ``"tool_calls"``; ``arguments`` may be a JSON string).

Arguments must be literals: numbers, strings, booleans, ``None``, and lists and string-keyed dicts
of these (two levels deep at most). A reply may hold several calls, for example a list
``[cd(folder="docs"), ls(a=True)]`` as BFCL writes them; :func:`iter_calls` yields each.
Nothing in a reply is ever evaluated: Python syntax goes through :func:`ast.parse` (which
only builds a tree) and the tree is walked by hand. Every rejection raises
:class:`~callgym.errors.CallParseError` whose message tells the model how to fix its reply.
"""

from __future__ import annotations

import ast
import json
import keyword
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from callgym.error_types import ErrorType
from callgym.errors import CallParseError

MAX_REPLY_CHARS = 32_000  # longer replies are rejected before any parsing
MAX_CALL_CHARS = 8_000  # one call's source text
MAX_NESTING = 8  # brackets inside one call
MAX_LIST_ITEMS = 256
MAX_CANDIDATES = 64  # how many "Name(" spots one reply may offer

EXAMPLE = 'Sum(a=2, b=3)'
# The lookbehind starts a match only where a word starts: without it, a run of n letters
# and no "(" costs n tries of n steps each (32k letters took 15 s). Leading digits are
# skipped as before ("2Sum(" names Sum); group 1 is the name.
_NAME_PAREN = re.compile(r"(?<![A-Za-z0-9_])[0-9]*([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_JSON_BOOLS = {"true": True, "false": False, "null": None}

# The common reply, exactly one call with plain number and string arguments, is read by
# these two patterns without building an AST (a step then costs a few microseconds, not
# tens). Anything they do not match takes the full path, which gives the same Call:
# tests/test_calls.py checks that the two agree on generated calls.
_PLAIN_CHAR = r"[^\"\\\x00-\x1f\x7f\ud800-\udfff]"  # no quote, backslash, control char
_PLAIN_TEXT = re.compile(f"{_PLAIN_CHAR}*")
_SIMPLE_CALL = re.compile(
    rf"[ \t\r\n]*([A-Za-z_][A-Za-z0-9_]*)\(((?:[^()\"'\\\x00-\x1f\x7f]|\"{_PLAIN_CHAR}*\")*)\)[ \t\r\n]*"
)
_SIMPLE_ARG = re.compile(
    r"[ \t]*(?:([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*)?"
    rf"(-?(?:0|[1-9][0-9]{{0,99}})(?![0-9.])|-?[0-9]{{1,100}}\.[0-9]{{1,100}}(?![0-9])|\"{_PLAIN_CHAR}*\")"
    r"[ \t]*(?:,|$)"
)


@dataclass(frozen=True)
class Call:
    """One function call: a tool name with literal arguments."""

    name: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        # A loop, not two comprehensions: every env step records this text in its info.
        parts = [_literal_text(a) for a in self.args] if self.args else []
        for key, value in self.kwargs.items():
            parts.append(f"{key}={_literal_text(value)}")
        return f"{self.name}({', '.join(parts)})"


def _literal_text(value: Any) -> str:
    if isinstance(value, str):
        # Text with nothing to escape reads the same as json.dumps writes it, faster.
        return f'"{value}"' if _PLAIN_TEXT.fullmatch(value) else json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_literal_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal_text(k)}: {_literal_text(v)}" for k, v in value.items()) + "}"
    return repr(value)


def parse_call(reply: str, names: Collection[str] | None = None, example: str = EXAMPLE) -> Call:
    """Return the first function call in ``reply``.

    Args:
        reply: the model's text.
        names: the callable tool names; when given, ``Name(`` spots with other names
            (``think(`` in prose, say) are skipped rather than rejected.
        example: the call that error messages show as a model (one of this env's tools).

    Raises:
        CallParseError: no well-formed call; the message says how to write one.
    """
    simple = _simple_call(reply, names) if isinstance(reply, str) else None
    if simple is not None:  # the common case, without the generator below
        return simple
    for call in iter_calls(reply, names, example):
        return call
    raise _no_call_error(reply, names, example)


def parse_calls(reply: str, names: Collection[str] | None = None) -> list[Call]:
    """Return every well-formed call in ``reply``, in order (for single-turn chains)."""
    return list(iter_calls(reply, names))


def iter_calls(reply: str, names: Collection[str] | None = None, example: str = EXAMPLE) -> Iterator[Call]:
    """Yield the calls in ``reply`` in order of appearance.

    A malformed call whose name is a known tool raises at once (its message is more useful
    to the model than "no call found"); malformed spots with unknown names are skipped.
    """
    if not isinstance(reply, str):
        raise CallParseError(f"A reply must be text, got {type(reply).__name__}.", ErrorType.NO_CALL)
    if len(reply) > MAX_REPLY_CHARS:
        raise CallParseError(
            f"Your reply is {len(reply):,} characters long (limit {MAX_REPLY_CHARS:,}). "
            f"Reply with one short function call, for example {example}.",
            ErrorType.TOO_LONG,
        )
    simple = _simple_call(reply, names)
    if simple is not None:
        yield simple
        return
    found = sorted(_json_calls(reply, names) + _python_calls(reply, names, example), key=lambda t: t[0])
    for _, end, call in _non_overlapping(found):
        yield call


def _non_overlapping(found: list[tuple[int, int, Call]]) -> Iterator[tuple[int, int, Call]]:
    # A JSON object's text may itself contain "Sum(" inside a string: keep the outer one.
    last_end = -1
    for start, end, call in found:
        if start >= last_end:
            last_end = end
            yield start, end, call


# ----------------------------------------------------------------------------- Python syntax


def _simple_call(reply: str, names: Collection[str] | None) -> Call | None:
    """The call when the whole reply is one call with plain literal arguments, else None."""
    match = _SIMPLE_CALL.fullmatch(reply) if len(reply) <= MAX_CALL_CHARS else None
    if match is None:
        return None
    name, body = match.groups()
    if (names is not None and name not in names) or keyword.iskeyword(name):
        return None
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    pos = 0
    while pos < len(body):
        arg = _SIMPLE_ARG.match(body, pos)
        if arg is None:
            return None
        key, text = arg.groups()
        value = text[1:-1] if text[0] == '"' else float(text) if "." in text else int(text)
        if key is None and not kwargs:
            args.append(value)
        elif key is None or key in kwargs or keyword.iskeyword(key):
            return None  # a syntax error: the full path explains it to the model
        else:
            kwargs[key] = value
        pos = arg.end()
    return Call(name, tuple(args), kwargs)



def _python_calls(reply: str, names: Collection[str] | None, example: str) -> list[tuple[int, int, Call]]:
    calls: list[tuple[int, int, Call]] = []
    pos = 0
    for _ in range(MAX_CANDIDATES):
        match = _NAME_PAREN.search(reply, pos)
        if match is None:
            break
        name, start = match.group(1), match.start(1)
        known = names is None or name in names
        if not known or _is_inside_word(reply, start):
            pos = match.end()
            continue
        end = _closing_paren(reply, match.end() - 1, name, example)
        calls.append((start, end, _parse_python_call(reply[start:end], name, example)))
        pos = end
    return calls


def _is_inside_word(text: str, start: int) -> bool:
    # "obj.Sum(" is attribute access, not a bare call.
    return start > 0 and text[start - 1] in "._"


def bracket_end(
    text: str, open_at: int, limit: int | None = None, quotes: str = "\"'"
) -> tuple[int | None, str, int]:
    """Scan from the bracket at ``text[open_at]`` to the one that closes it, skipping quoted text.

    Returns:
        (index after the closing bracket, or None if it is not closed within ``limit``;
        the quote still open at the end, or ""; the deepest nesting seen).
    """
    scan = BracketScan(open_at, quotes)
    end = scan.run(text, limit)
    return end, scan.quote, scan.deepest


@dataclass
class BracketScan:
    """The scan of :func:`bracket_end`, resumable: when the text grows (a streamed reply),
    :meth:`run` goes on from where it stopped instead of starting over."""

    open_at: int
    quotes: str = "\"'"
    pos: int = -1  # the next index to read (past the end after a trailing backslash)
    depth: int = 0
    deepest: int = 0
    quote: str = ""

    def run(self, text: str, limit: int | None = None) -> int | None:
        """Index after the closing bracket, or None if it is not closed within ``limit``."""
        i = self.open_at if self.pos < 0 else self.pos
        end = len(text) if limit is None else min(len(text), limit)
        depth, deepest, quote, quotes = self.depth, self.deepest, self.quote, self.quotes
        while i < end:
            ch = text[i]
            if quote:
                if ch == "\\":
                    i += 1
                elif ch == quote:
                    quote = ""
            elif ch in quotes:
                quote = ch
            elif ch in "([{":
                depth += 1
                deepest = max(deepest, depth)
            elif ch in ")]}":
                depth -= 1
                if depth == 0:
                    self.pos, self.depth, self.deepest, self.quote = i + 1, 0, deepest, ""
                    return i + 1
            i += 1
        self.pos, self.depth, self.deepest, self.quote = i, depth, deepest, quote
        return None


def _closing_paren(text: str, open_at: int, name: str, example: str) -> int:
    """Return the index after the ``)`` that closes ``text[open_at]``, or explain what is wrong."""
    end, quote, deepest = bracket_end(text, open_at, open_at + MAX_CALL_CHARS)
    if deepest > MAX_NESTING:
        raise CallParseError(
            f"The call to {name} nests brackets more than {MAX_NESTING} deep. "
            f"Pass plain literal arguments, for example {example}.",
            ErrorType.TOO_LONG,
        )
    if end is not None:
        return end
    if quote:
        raise CallParseError(
            f"The call to {name} has an unclosed {quote} quote. Close every string, "
            f'for example {name}("text").'
        )
    if len(text) > open_at + MAX_CALL_CHARS:
        raise CallParseError(
            f"The call to {name} is longer than {MAX_CALL_CHARS:,} characters. Keep arguments short.",
            ErrorType.TOO_LONG,
        )
    raise CallParseError(
        f"The call to {name} is missing its closing ')'. Write the whole call, for example {example}."
    )


def _parse_python_call(source: str, name: str, example: str) -> Call:
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as e:
        # ast.parse encodes to UTF-8, which a lone surrogate (valid in a str) cannot enter.
        unencodable = isinstance(e, UnicodeEncodeError)
        detail = "it holds a lone surrogate, a character that is not text" if unencodable else (
            getattr(e, "msg", None) or str(e))
        raise CallParseError(
            f"Could not read the call {_clip(source)}: {detail}. Use literal arguments, "
            f"for example {example}."
        ) from e
    node = tree.body
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise CallParseError(f"{_clip(source)} is not a plain function call like {example}.")
    args = tuple(_literal(a, name, f"argument {i + 1}") for i, a in enumerate(node.args))
    kwargs: dict[str, Any] = {}
    for kw in node.keywords:
        if kw.arg is None:
            raise CallParseError(
                f"In {name}(...), '**' is not allowed. Name each argument, for example {example}."
            )
        if kw.arg in kwargs:  # ast.parse accepts a repeated keyword; only compile() refuses it
            raise CallParseError(
                f"In {name}(...), argument '{kw.arg}' is given twice. Give each argument once."
            )
        kwargs[kw.arg] = _literal(kw.value, name, f"argument '{kw.arg}'")
    return Call(name, args, kwargs)


def _literal(node: ast.AST, name: str, where: str, depth: int = 0) -> Any:
    """Convert an AST node to a literal value, or explain why it is not one."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool, type(None))):
        return node.value
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, (ast.USub, ast.UAdd))
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, (int, float))
        and not isinstance(node.operand.value, bool)
    ):
        value = node.operand.value
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, (ast.List, ast.Tuple)) and depth < 2:
        if len(node.elts) > MAX_LIST_ITEMS:
            raise CallParseError(
                f"In {name}(...), {where} is a list longer than {MAX_LIST_ITEMS} items.",
                ErrorType.OUT_OF_BOUNDS,
            )
        return [_literal(e, name, where, depth + 1) for e in node.elts]
    if (
        isinstance(node, ast.Dict)
        and depth < 2
        and all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in node.keys)
    ):
        if len(node.keys) > MAX_LIST_ITEMS:
            raise CallParseError(
                f"In {name}(...), {where} is a dict longer than {MAX_LIST_ITEMS} items.",
                ErrorType.OUT_OF_BOUNDS,
            )
        return {k.value: _literal(v, name, where, depth + 1) for k, v in zip(node.keys, node.values)}  # type: ignore[union-attr]
    if isinstance(node, ast.Name) and node.id in _JSON_BOOLS:
        return _JSON_BOOLS[node.id]
    raise CallParseError(f"In {name}(...), {where} {_why_not_literal(node)}", ErrorType.NON_LITERAL_ARGUMENT)


def _why_not_literal(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return (
            f"is the bare name {node.id}. Arguments must be literals: write a number, or put "
            f'text in quotes like "{node.id}".'
        )
    if isinstance(node, ast.Call):
        return "is a nested call. Make one call per reply; use its result in the next call."
    if isinstance(node, (ast.BinOp, ast.BoolOp, ast.Compare, ast.UnaryOp)):
        return "is an expression. Arguments are not evaluated: pass the number itself."
    if isinstance(node, ast.Attribute):
        return "uses attribute access, which is not allowed. Pass a number or a quoted string."
    return f"is a {type(node).__name__}, not a literal. Pass a number, a quoted string, a boolean or a list."


# ----------------------------------------------------------------------------- JSON syntax


def _json_calls(reply: str, names: Collection[str] | None) -> list[tuple[int, int, Call]]:
    if '"name"' not in reply:
        return []
    decoder = json.JSONDecoder()
    calls: list[tuple[int, int, Call]] = []
    pos, tries = 0, 0
    while tries < MAX_CANDIDATES:
        start = reply.find("{", pos)
        if start < 0:
            break
        tries += 1
        try:
            obj, end = decoder.raw_decode(reply, start)
        except (ValueError, RecursionError):
            pos = start + 1
            continue
        calls.extend((start, end, c) for c in _json_to_calls(obj, names))
        pos = end
    return calls


def is_json_call(source: str, names: Collection[str] | None = None) -> bool:
    """Whether ``source``, the text of one JSON object, is a tool call to one of ``names``
    (None: any name). The streaming stop check asks this of each closed ``{...}``."""
    if '"name"' not in source:
        return False
    try:
        obj = json.loads(source)
    except (ValueError, RecursionError):
        return False
    return bool(_json_call_objects(obj, names))


def _json_call_objects(obj: Any, names: Collection[str] | None) -> list[dict[str, Any]]:
    """The tool-call objects in parsed JSON (``{"name": ...}``, nested under ``"function"`` or
    a ``"tool_calls"`` list) that call one of ``names``: the one recogniser of JSON calls,
    shared by the parser and the stop check (:func:`is_json_call`)."""
    if isinstance(obj, dict) and isinstance(obj.get("tool_calls"), list):
        return [c for item in obj["tool_calls"] for c in _json_call_objects(item, names)]
    if isinstance(obj, dict) and isinstance(obj.get("function"), dict):
        return _json_call_objects(obj["function"], names)
    if isinstance(obj, dict) and isinstance(obj.get("name"), str) and (names is None or obj["name"] in names):
        return [obj]
    return []


def _json_to_calls(obj: Any, names: Collection[str] | None) -> list[Call]:
    return [_json_to_call(o) for o in _json_call_objects(obj, names)]


def _json_to_call(obj: dict[str, Any]) -> Call:
    name = obj["name"]
    arguments = obj.get("arguments", obj.get("parameters", {}))
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except ValueError as e:
            raise CallParseError(f'The "arguments" of {name} are not valid JSON: {e}.') from e
    if isinstance(arguments, list):
        return Call(name, tuple(_json_literal(v, name) for v in arguments))
    if not isinstance(arguments, dict):
        raise CallParseError(f'The "arguments" of {name} must be an object like {{"a": 2, "b": 3}}.')
    return Call(name, (), {str(k): _json_literal(v, name) for k, v in arguments.items()})


def _json_literal(value: Any, name: str, depth: int = 0) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list) and depth < 2 and len(value) <= MAX_LIST_ITEMS:
        return [_json_literal(v, name, depth + 1) for v in value]
    if isinstance(value, dict) and depth < 2 and len(value) <= MAX_LIST_ITEMS:
        return {str(k): _json_literal(v, name, depth + 1) for k, v in value.items()}
    kind = ErrorType.OUT_OF_BOUNDS if isinstance(value, (list, dict)) else ErrorType.NON_LITERAL_ARGUMENT
    raise CallParseError(
        f"An argument of {name} is not a literal: "
        "use numbers, strings, booleans, short lists or short dicts.",
        kind,
    )


# ----------------------------------------------------------------------------- messages


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _no_call_error(reply: str, names: Collection[str] | None, example: str) -> CallParseError:
    """The error for a reply without a call to a known tool: ``unknown_function`` when it
    calls some other name (``Multiply(a=2, b=3)``), else ``no_call``."""
    hint, kind = "", ErrorType.NO_CALL
    if names:
        listed = ", ".join(sorted(names))
        hint = f" Available functions: {listed}."
        unknown = [m.group(1) for m in _NAME_PAREN.finditer(reply[:2000]) if m.group(1) not in names]
        called = _unknown_call(reply, names)
        if called or unknown:
            from callgym.registry import did_you_mean

            name = called or unknown[0]
            hint = f" {name} is not a function here.{did_you_mean(name, list(names))}" + hint
            kind = ErrorType.UNKNOWN_FUNCTION if called else kind
    message = (
        f"No function call found in your reply. Reply with exactly one call, for example {example}.{hint}"
    )
    return CallParseError(message, kind)


_CALL_SHAPE = re.compile(r"(?<![A-Za-z0-9_.])([A-Za-z_][A-Za-z0-9_]*)\(")  # no space before "(": not prose


def _unknown_call(reply: str, names: Collection[str]) -> str | None:
    """The name of the first call-shaped ``Name(...)`` (closed, no space before the bracket)
    or JSON tool call in the reply that names no tool here; None when there is none.
    Looks at the first 2,000 characters only, so the cost stays bounded."""
    head = reply[:2000]
    for match in _CALL_SHAPE.finditer(head):
        if match.group(1) not in names and not keyword.iskeyword(match.group(1)):
            if bracket_end(head, match.end() - 1)[0] is not None:
                return match.group(1)
            break
    json_name = re.search(r'"name"\s*:\s*"([A-Za-z_][A-Za-z0-9_.-]*)"', head)
    if json_name and json_name.group(1) not in names:
        return json_name.group(1)
    return None
