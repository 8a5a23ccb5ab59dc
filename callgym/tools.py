"""Tools: plain annotated Python functions that a model may call.

From a function's signature and Google-style docstring come the prompt help text
(signature, description, example call), the OpenAI tool schema, and the checking and
coercion of arguments. Every argument is bounded (string length, number size, list
length) and every result is bounded, so no call can take more than milliseconds or
megabytes; tools that compute (powers, expressions) check their own bounds too.

>>> @tool
... def Sum(a: Number, b: Number) -> Number:
...     '''Add two numbers.
...
...     Example: Sum(a=2, b=3)
...     '''
...     return a + b
>>> tools = Toolset([Sum])
>>> tools.run("I will add them: Sum(a=2, b=3.5)")
'5.5'
"""

from __future__ import annotations

import functools
from decimal import Decimal
import inspect
import re
import typing
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from callgym.calls import MAX_LIST_ITEMS, Call, parse_call
from callgym.error_types import ErrorType
from callgym.errors import ModelError, ToolError

MAX_STR_CHARS = 4_000
MAX_NUMBER_DIGITS = 400  # digits of a numerator or denominator, in or out
MAX_RESULT_CHARS = 2_000


class Number(Fraction):
    """Annotation for an exact rational argument: accepts ints, floats and numeric text
    such as ``"$1,000.50"``, ``"3/4"`` or ``"12%"``; the tool receives a ``Fraction``."""


_NUMERIC_TEXT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?$")


def to_number(value: Any) -> Fraction:
    """Coerce a literal to an exact rational, within :data:`MAX_NUMBER_DIGITS`.

    Raises:
        ToolError: not a number, not finite, or too large.
    """
    if type(value) is int:  # the common case first, checked on the int: every step runs this
        if value.bit_length() > MAX_NUMBER_DIGITS * 3.33:
            raise ToolError(_too_large(), ErrorType.OUT_OF_BOUNDS)
        return Fraction(value)
    if isinstance(value, bool) or value is None:
        raise ToolError(f"{value!r} is not a number.", ErrorType.WRONG_TYPE)
    if isinstance(value, Fraction):
        result = value
    elif isinstance(value, int):
        result = Fraction(value)
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ToolError(f"{value!r} is not a finite number.", ErrorType.OUT_OF_BOUNDS)
        result = _decimal_fraction(value)
    elif isinstance(value, str):
        result = _number_from_text(value)
    else:
        raise ToolError(f"{_short(value)} is not a number.", ErrorType.WRONG_TYPE)
    check_number_size(result)
    return result


def _decimal_fraction(value: float) -> Fraction:
    """The float's shortest decimal repr as an exact rational: 0.1 is 1/10, not its binary
    neighbour (split by hand: ``Fraction(repr(x))`` parses with a regex, twice as slow)."""
    text = repr(value)
    whole, dot, decimals = text.partition(".")
    if not dot or "e" in text:
        return Fraction(text)
    return Fraction(int(whole + decimals), 10 ** len(decimals))


def _number_from_text(text: str) -> Fraction:
    cleaned = text.strip().replace(",", "").replace("$", "").replace("_", "").strip()
    percent = cleaned.endswith("%")
    cleaned = cleaned.rstrip("%").strip()
    if "/" in cleaned:
        num, _, den = cleaned.partition("/")
        if _NUMERIC_TEXT.match(num.strip()) and _NUMERIC_TEXT.match(den.strip()):
            denominator = Fraction(den.strip())
            if denominator == 0:
                raise ToolError(f"{_short(text)} divides by zero.", ErrorType.WRONG_TYPE)
            return Fraction(num.strip()) / denominator
    elif _NUMERIC_TEXT.match(cleaned):
        value = Fraction(cleaned)
        return value / 100 if percent else value
    raise ToolError(f"{_short(text)} is not a number; write digits such as 42 or 3.5.", ErrorType.WRONG_TYPE)


def check_number_size(value: Fraction) -> None:
    """Refuse numbers whose digits would make later arithmetic expensive."""
    if (
        value.numerator.bit_length() > MAX_NUMBER_DIGITS * 3.33
        or value.denominator.bit_length() > MAX_NUMBER_DIGITS * 3.33
    ):
        raise ToolError(_too_large(), ErrorType.OUT_OF_BOUNDS)


def _too_large() -> str:
    return f"The number is too large (more than {MAX_NUMBER_DIGITS} digits)."


def format_number(value: Fraction | int | float) -> str:
    """Print a number the way a person writes it: ``5``, ``2.5``, ``0.3333333333``."""
    value = to_number(value) if not isinstance(value, Fraction) else value
    check_number_size(value)
    if value.denominator == 1:
        return str(value.numerator)
    # Exact if it terminates within 10 decimals, else rounded to 10 significant decimals.
    # Tiny and huge values take the significant-digits form: with 10 decimals 1e-12 would
    # print as "0", and floats overflow past 1e308 (Decimal does not).
    if Fraction(1, 10**4) <= abs(value) < 10**15:
        text = f"{float(value):.10f}"
    else:
        text = f"{Decimal(value.numerator) / Decimal(value.denominator):.10g}"
    if "e" in text:
        mantissa, _, exponent = text.partition("e")
        return (mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa) + "e" + exponent
    return text.rstrip("0").rstrip(".") if "." in text else text


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ----------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class Parameter:
    """One tool parameter: its name, annotation, default and description."""

    name: str
    annotation: Any
    default: Any = inspect.Parameter.empty
    description: str = ""

    @property
    def required(self) -> bool:
        return self.default is inspect.Parameter.empty

    @property
    def type_name(self) -> str:
        return _type_name(self.annotation)

    def json_schema(self) -> dict[str, Any]:
        schema = _json_schema(self.annotation)
        if self.description:
            schema["description"] = self.description
        return schema

    def coerce(self, value: Any, tool_name: str) -> Any:
        try:
            # Numbers skip _coerce's dispatch: this runs for every argument of every step.
            return to_number(value) if self.annotation is Number else _coerce(value, self.annotation)
        except ToolError as e:
            raise ToolError(
                f"{tool_name}: argument '{self.name}' ({self.type_name}): {e}", e.error_type
            ) from e


def _type_name(annotation: Any) -> str:
    if annotation is Number:
        return "number"
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation) or (Any,)
        return f"list[{_type_name(item)}]"
    return getattr(annotation, "__name__", str(annotation))


def _json_schema(annotation: Any) -> dict[str, Any]:
    simple = {Number: "number", float: "number", int: "integer", str: "string", bool: "boolean"}
    if annotation in simple:
        return {"type": simple[annotation]}
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation) or (str,)
        return {"type": "array", "items": _json_schema(item)}
    return {}


def _coerce(value: Any, annotation: Any) -> Any:
    if annotation is Number:
        return to_number(value)
    if annotation is float:
        return float(to_number(value))
    if annotation is int:
        number = to_number(value)
        if number.denominator != 1:
            raise ToolError(f"{_short(value)} is not a whole number.", ErrorType.WRONG_TYPE)
        return number.numerator
    if annotation is bool:
        return _to_bool(value)
    if annotation is str:
        return _to_str(value)
    if typing.get_origin(annotation) is list:
        if not isinstance(value, (list, tuple)) or len(value) > MAX_LIST_ITEMS:
            kind = ErrorType.OUT_OF_BOUNDS if isinstance(value, (list, tuple)) else ErrorType.WRONG_TYPE
            raise ToolError(f"expected a list of at most {MAX_LIST_ITEMS} items, got {_short(value)}.", kind)
        (item,) = typing.get_args(annotation) or (Any,)
        return [_coerce(v, item) for v in value]
    return value


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ToolError(f"{_short(value)} is not true or false.", ErrorType.WRONG_TYPE)


def _to_str(value: Any) -> str:
    if isinstance(value, (list, dict)):
        raise ToolError(f"expected text, got {_short(value)}.", ErrorType.WRONG_TYPE)
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_STR_CHARS:
        raise ToolError(
            f"the text is {len(text):,} characters long; the limit is {MAX_STR_CHARS:,}.",
            ErrorType.OUT_OF_BOUNDS,
        )
    return text


# ----------------------------------------------------------------------------- tools


@dataclass(frozen=True)
class Tool:
    """A callable tool: a function plus what a model needs to know to call it."""

    name: str
    fn: Callable[..., Any]
    description: str
    example: str
    parameters: tuple[Parameter, ...]

    @classmethod
    def from_function(
        cls, fn: Callable[..., Any], name: str | None = None, example: str | None = None
    ) -> Tool:
        doc = inspect.getdoc(fn) or ""
        description, doc_example, arg_docs = _parse_docstring(doc)
        hints = typing.get_type_hints(fn)
        parameters = tuple(
            Parameter(p.name, hints.get(p.name, str), p.default, arg_docs.get(p.name, ""))
            for p in inspect.signature(fn).parameters.values()
        )
        tool_name = name or fn.__name__
        return cls(tool_name, fn, description, example or doc_example or f"{tool_name}(...)", parameters)

    @property
    def signature(self) -> str:
        params = ", ".join(f"{p.name}: {p.type_name}" for p in self.parameters)
        return f"{self.name}({params})"

    def help_text(self) -> str:
        return f"{self.signature}\n    {self.description}\n    Example: {self.example}"

    def schema(self) -> dict[str, Any]:
        """The OpenAI / JSON-schema tool description."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": {
                    "type": "object",
                    "properties": {p.name: p.json_schema() for p in self.parameters},
                    "required": [p.name for p in self.parameters if p.required],
                },
            },
        }

    def bind(self, call: Call) -> dict[str, Any]:
        """Match a call's arguments to the parameters, coerced and checked."""
        if len(call.args) > len(self.parameters):
            raise ToolError(
                f"{self.name} takes {len(self.parameters)} argument(s), got {len(call.args)}. "
                f"{self._usage()}",
                ErrorType.UNEXPECTED_ARGUMENT,
            )
        # Plain loops, no comprehensions: this runs on every env step (see benchmarks/).
        bound = dict(zip(self._names, call.args))
        by_name = self._by_name
        for key, value in call.kwargs.items():
            if key not in by_name:
                raise ToolError(
                    f"{self.name} has no argument '{key}'. {self._usage()}", ErrorType.UNEXPECTED_ARGUMENT
                )
            if key in bound:
                raise ToolError(
                    f"{self.name} got argument '{key}' twice. {self._usage()}", ErrorType.UNEXPECTED_ARGUMENT
                )
            bound[key] = value
        if len(bound) < len(self.parameters):  # every bound name is a parameter: some are unset
            missing = [p.name for p in self.parameters if p.required and p.name not in bound]
            if missing:
                raise ToolError(
                    f"{self.name} is missing argument '{missing[0]}'. {self._usage()}",
                    ErrorType.MISSING_ARGUMENT,
                )
        for key, value in bound.items():  # checked only once the call's shape is right
            bound[key] = by_name[key].coerce(value, self.name)
        return bound

    # Cached: bind() runs on every env step (cached_property writes past frozen=True).
    @functools.cached_property
    def _by_name(self) -> dict[str, Parameter]:
        return {p.name: p for p in self.parameters}

    @functools.cached_property
    def _names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    def __call__(self, call: Call) -> Any:
        return self.fn(**self.bind(call))

    def _usage(self) -> str:
        return f"Usage: {self.signature}, for example {self.example}."


def tool(fn: Callable[..., Any] | None = None, *, name: str | None = None, example: str | None = None) -> Any:
    """Decorator turning a function into a :class:`Tool` (with or without arguments)."""
    if fn is None:
        return lambda f: Tool.from_function(f, name, example)
    return Tool.from_function(fn, name, example)


def _parse_docstring(doc: str) -> tuple[str, str, dict[str, str]]:
    """Split a Google-style docstring into description, example and argument texts."""
    description_lines: list[str] = []
    example, args, section = "", {}, "description"
    for line in doc.splitlines():
        stripped = line.strip()
        if stripped.startswith("Example:"):
            example = stripped.removeprefix("Example:").strip()
            section = "example"
        elif stripped in ("Args:", "Arguments:", "Returns:", "Raises:"):
            section = "args" if stripped.startswith("Arg") else "other"
        elif section == "description" and stripped:
            description_lines.append(stripped)
        elif section == "args" and ":" in stripped:
            key, _, text = stripped.partition(":")
            args[key.strip()] = text.strip()
    return " ".join(description_lines), example, args


# ----------------------------------------------------------------------------- toolsets


REASONING_RECORDED = "The reasoning has been recorded."


def _reasoning(thought: str) -> str:
    """Write down a step of your reasoning; it is recorded and not evaluated.

    Args:
        thought: the reasoning step, in words.
    """
    return REASONING_RECORDED


def reasoning_tool(example: str) -> Tool:
    """The ``Reasoning`` tool any env may offer (the study's bootstrap call uses it); only
    its example call differs from env to env."""
    return Tool.from_function(_reasoning, name="Reasoning", example=example)


class Toolset:
    """The tools of one environment: prompt help text, schemas and safe dispatch."""

    def __init__(self, tools: Iterable[Tool | Callable[..., Any]]) -> None:
        self.tools: dict[str, Tool] = {}
        for t in tools:
            t = t if isinstance(t, Tool) else Tool.from_function(t)
            if t.name in self.tools:
                raise ValueError(f"two tools are named {t.name!r}")
            self.tools[t.name] = t
        self._schemas: list[dict[str, Any]] | None = None

    @property
    def example(self) -> str:
        """The call error messages show as a model: the first tool's example."""
        return next(iter(self.tools.values())).example if self.tools else "Answer(42)"

    @property
    def names(self) -> list[str]:
        return list(self.tools)

    @property
    def callable_names(self) -> Collection[str]:
        """The names a reply may call (a toolset may dispatch more names than it documents)."""
        return self.tools

    def help_text(self) -> str:
        return "\n\n".join(t.help_text() for t in self.tools.values())

    def schemas(self) -> list[dict[str, Any]]:
        """The tools' JSON schemas; built once, since every env step reports them in ``info``.

        The list is fresh on each call, the schema dicts are shared: treat them as read-only.
        """
        if self._schemas is None:
            self._schemas = [t.schema() for t in self.tools.values()]
        return list(self._schemas)

    def parse(self, reply: str) -> Call:
        """Parse the first call to one of these tools (raises CallParseError)."""
        return parse_call(reply, self.tools, self.example)

    def execute(self, call: Call) -> Any:
        """Run a call; any failure becomes a :class:`ToolError` written for the model."""
        if call.name not in self.tools:
            from callgym.registry import did_you_mean

            raise ToolError(
                f"Unknown function {call.name}.{did_you_mean(call.name, self.names)} "
                f"Available: {', '.join(self.names)}.",
                ErrorType.UNKNOWN_FUNCTION,
            )
        try:
            result = self.tools[call.name](call)
        except ModelError:
            raise
        except (ArithmeticError, LookupError, ValueError, TypeError, RecursionError, MemoryError) as e:
            raise ToolError(f"{call.name} failed: {e or type(e).__name__}.") from e
        if isinstance(result, (Fraction, int, float)) and not isinstance(result, bool):
            # Bounded inputs can still give an unprintable result (1e300 * 1e300, inf):
            # that is this call's error, raised here where callers expect ModelErrors.
            try:
                check_number_size(result) if type(result) is Fraction else to_number(result)
            except ToolError as e:
                raise ToolError(f"{call.name} gave a result it cannot return: {e}", e.error_type) from e
        return result

    def run(self, reply: str) -> str:
        """Parse, execute and format: the text a model reads back."""
        return format_result(self.execute(self.parse(reply)))


def format_result(value: Any) -> str:
    """Turn a tool's return value into bounded observation text."""
    if isinstance(value, bool) or value is None:
        text = str(value)
    elif isinstance(value, (Fraction, int, float)):
        text = format_number(value)
    else:
        text = str(value)
    if len(text) > MAX_RESULT_CHARS:
        text = text[:MAX_RESULT_CHARS] + f"... [{len(text) - MAX_RESULT_CHARS:,} more characters cut]"
    return text
