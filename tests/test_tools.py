"""Tools from annotated functions: help text, schemas, argument checking, bounded results."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callgym.calls import Call
from callgym.errors import ModelError, ToolError
from callgym.tools import (
    MAX_LIST_ITEMS,
    MAX_NUMBER_DIGITS,
    MAX_RESULT_CHARS,
    MAX_STR_CHARS,
    Number,
    Tool,
    Toolset,
    format_number,
    format_result,
    to_number,
    tool,
)


@tool
def Sum(a: Number, b: Number) -> Number:
    """Add two numbers.

    Args:
        a: the first number.
        b: the second number.

    Example: Sum(a=2, b=3)
    """
    return a + b


@tool(example='Label(text="cat", tags=["a"])')
def Label(text: str, tags: list[str], weight: float = 1.0, count: int = 1, strict: bool = False) -> str:
    """Label a text.

    Spans two lines of description.
    """
    return f"{text}:{','.join(tags)}:{weight}:{count}:{strict}"


def Echo(text: str) -> str:
    """Repeat the text."""
    return text * 1000


def Explode(n: int) -> int:
    """Fail inside the tool."""
    return 1 // n


def Product(a: Number, b: Number) -> Number:
    """Multiply two numbers."""
    return a * b


def Huge(x: Number) -> float:
    """Return something unprintable."""
    return math.inf


TOOLS = Toolset([Sum, Label, Echo, Explode, Huge, Product])


def test_signature_help_and_schema() -> None:
    assert Sum.signature == "Sum(a: number, b: number)"
    assert Sum.help_text() == "Sum(a: number, b: number)\n    Add two numbers.\n    Example: Sum(a=2, b=3)"
    assert Sum.schema() == {
        "type": "function",
        "function": {
            "name": "Sum",
            "description": "Add two numbers.",
            "parameters": {
                "type": "object",
                "properties": {"a": {"type": "number", "description": "the first number."},
                               "b": {"type": "number", "description": "the second number."}},
                "required": ["a", "b"],
            },
        },
    }
    assert Label.description == "Label a text. Spans two lines of description."
    assert Label.example == 'Label(text="cat", tags=["a"])'
    assert Label.signature == "Label(text: str, tags: list[str], weight: float, count: int, strict: bool)"
    assert Label.schema()["function"]["parameters"]["required"] == ["text", "tags"]
    assert Label.schema()["function"]["parameters"]["properties"]["tags"] == {
        "type": "array",
        "items": {"type": "string"},
    }
    assert Tool.from_function(Echo).example == "Echo(...)"


def test_toolset_schemas_are_cached_but_the_list_is_fresh() -> None:
    first, second = TOOLS.schemas(), TOOLS.schemas()
    assert first == second and first is not second
    assert first[0] is second[0]
    assert "Sum(a: number, b: number)" in TOOLS.help_text()


def test_run_parses_executes_and_formats() -> None:
    assert TOOLS.run("Sum(a=2, b=3.5)") == "5.5"
    assert TOOLS.run('I add: {"name": "Sum", "arguments": {"a": "$1,000", "b": "3/4"}}') == "1000.75"
    assert TOOLS.run('Label("x", ["a", "b"], count="3", strict="true", weight=2)') == "x:a,b:2.0:3:True"


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (
            "Sum(1, 2, 3)",
            "Sum takes 2 argument(s), got 3. Usage: Sum(a: number, b: number), for example Sum(a=2, b=3).",
        ),
        ("Sum(a=1, c=2)", "Sum has no argument 'c'."),
        ("Sum(1, a=2)", "Sum got argument 'a' twice."),
        ("Sum(a=1)", "Sum is missing argument 'b'."),
        ("Sum(a='two', b=1)", "Sum: argument 'a' (number): 'two' is not a number; write digits"),
        ("Sum(a=True, b=1)", "Sum: argument 'a' (number): True is not a number."),
        ("Sum(a=None, b=1)", "is not a number"),
        ("Sum(a=[1], b=1)", "is not a number"),
        ("Sum(a=1e999, b=1)", "inf is not a finite number"),
        ("Sum(a='1/0', b=1)", "divides by zero"),
        (f"Sum(a={'9' * (MAX_NUMBER_DIGITS + 5)}, b=1)", "too large"),
        ("Label(text=['x'], tags=[])", "expected text"),
        ("Label(text='x', tags='a')", "expected a list"),
        ("Label(text='x', tags=[], count=2.5)", "2.5 is not a whole number"),
        ("Label(text='x', tags=[], strict='maybe')", "'maybe' is not true or false"),
        (f"Label(text='{'x' * (MAX_STR_CHARS + 1)}', tags=[])", "the limit is 4,000"),
        ("Explode(0)", "Explode failed: integer division or modulo by zero."),
        ("Huge(1)", "Huge gave a result it cannot return: inf is not a finite number."),
        ("Summ(a=1, b=2)", "No function call found"),
    ],
)
def test_bad_arguments_are_tool_errors_for_the_model(reply: str, message: str) -> None:
    with pytest.raises(ToolError if "No function" not in message else Exception, match=_escaped(message)):
        TOOLS.run(reply)


def _escaped(text: str) -> str:
    import re

    return re.escape(text)


def test_long_lists_are_refused_by_the_parser_and_by_the_tool() -> None:
    items = [1] * (MAX_LIST_ITEMS + 1)  # one bound (callgym.calls.MAX_LIST_ITEMS) for both layers
    with pytest.raises(ModelError, match=f"longer than {MAX_LIST_ITEMS} items"):
        TOOLS.run(f"Label(text='x', tags={items})")
    with pytest.raises(ToolError, match=f"at most {MAX_LIST_ITEMS} items"):
        TOOLS.execute(Call("Label", (), {"text": "x", "tags": items}))


def test_unknown_function_suggests_a_near_name() -> None:
    with pytest.raises(ToolError, match="Unknown function Summ. Did you mean 'Sum'\\? Available: Sum, Label"):
        TOOLS.execute(Call("Summ", (1, 2)))


def test_results_are_bounded() -> None:
    assert TOOLS.run('Echo("ab")') == "ab" * 1000
    text = TOOLS.run('Echo("' + "x" * 10 + '")')
    assert len(text) < MAX_RESULT_CHARS + 100 and text.endswith("more characters cut]")
    # Inputs within the bound can multiply past it: the call is refused, the env goes on.
    with pytest.raises(ToolError, match="Product gave a result it cannot return: The number is too large"):
        TOOLS.run("Product(a=1e300, b=1e300)")
    assert format_result(None) == "None" and format_result(True) == "True"


def test_duplicate_tool_names_are_refused() -> None:
    with pytest.raises(ValueError, match="two tools are named 'Sum'"):
        Toolset([Sum, Sum])


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (5, 5),
        (2.5, Fraction(5, 2)),
        (0.1, Fraction(1, 10)),
        (-0.25, Fraction(-1, 4)),
        (1e20, 10**20),
        (1e-7, Fraction(1, 10**7)),
        ("$1,000.50", Fraction(2001, 2)),
        ("3/4", Fraction(3, 4)),
        ("12%", Fraction(3, 25)),
        ("-7", -7),
        (" 1_000 ", 1000),
        (Fraction(1, 3), Fraction(1, 3)),
    ],
)
def test_to_number(value: object, number: Fraction) -> None:
    assert to_number(value) == number


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (5, "5"),
        (Fraction(5, 2), "2.5"),
        (Fraction(1, 3), "0.3333333333"),
        (Fraction(-1, 8), "-0.125"),
        (2.0, "2"),
        (Fraction(1, 10**12), "1e-12"),
        (Fraction(10**350, 3), "3.333333333e+349"),
        (Fraction(-1, 10**5), "-0.00001"),
        (Fraction(10**20, 3), "3.333333333e+19"),
    ],
)
def test_format_number(value: object, text: str) -> None:
    assert format_number(value) == text  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.fractions(max_denominator=10**6).filter(lambda f: abs(f) < 10**12))
def test_format_number_reads_back_close(value: Fraction) -> None:
    again = to_number(format_number(value))
    assert abs(again - value) <= max(abs(value), 1) * Fraction(1, 10**9)


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300))
def test_floats_mean_their_shortest_decimal(value: float) -> None:
    assert to_number(value) == Fraction(repr(value))
