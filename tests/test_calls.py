"""The call parser: Python and JSON syntax, literals only, and a message for every refusal."""

from __future__ import annotations

import keyword
import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from callgym.calls import (
    MAX_CALL_CHARS,
    MAX_REPLY_CHARS,
    Call,
    _json_calls,
    _python_calls,
    _simple_call,
    parse_call,
    parse_calls,
)
from callgym.errors import CallParseError

NAMES = {"Sum", "Answer", "Reasoning", "Premise"}


@pytest.mark.parametrize(
    ("reply", "call"),
    [
        ("Sum(a=2, b=3)", Call("Sum", (), {"a": 2, "b": 3})),
        ("Answer(18)", Call("Answer", (18,))),
        ("Answer(-2.5)", Call("Answer", (-2.5,))),
        ("Answer(+7)", Call("Answer", (7,))),
        ('Premise("∀x (Man(x) → Mortal(x))")', Call("Premise", ("∀x (Man(x) → Mortal(x))",))),
        (
            "Reasoning('single quotes, (parens) and \"quotes\"')",
            Call("Reasoning", ('single quotes, (parens) and "quotes"',)),
        ),
        ('Reasoning("line\\nbreak")', Call("Reasoning", ("line\nbreak",))),
        ("Sum(a=[1, 2.5], b=(3, 4))", Call("Sum", (), {"a": [1, 2.5], "b": [3, 4]})),
        ("Answer(True)", Call("Answer", (True,))),
        ("Answer(true)", Call("Answer", (True,))),  # JSON spelling
        ("Answer(null)", Call("Answer", (None,))),
        ("Sum( a = 2 ,\n b = 3 , )", Call("Sum", (), {"a": 2, "b": 3})),
        ("I will add them.\nSum(a=2, b=3)\nThat gives 5.", Call("Sum", (), {"a": 2, "b": 3})),
        ("Let me think(hard). Sum(a=1, b=1)", Call("Sum", (), {"a": 1, "b": 1})),  # think( is not a tool
        ("```python\nAnswer(4)\n```", Call("Answer", (4,))),
        ('{"name": "Sum", "arguments": {"a": 2, "b": 3}}', Call("Sum", (), {"a": 2, "b": 3})),
        ('{"name": "Sum", "arguments": "{\\"a\\": 2, \\"b\\": 3}"}', Call("Sum", (), {"a": 2, "b": 3})),
        ('{"name": "Sum", "parameters": [2, 3]}', Call("Sum", (2, 3))),
        (
            '{"type": "function", "function": {"name": "Answer", "arguments": {"value": 4}}}',
            Call("Answer", (), {"value": 4}),
        ),
        (
            '{"tool_calls": [{"function": {"name": "Answer", "arguments": "{\\"value\\": 4}"}}]}',
            Call("Answer", (), {"value": 4}),
        ),
        (
            '<tool_call>{"name": "Answer", "arguments": {"value": "Sum(1)"}}</tool_call>',
            Call("Answer", (), {"value": "Sum(1)"}),
        ),
    ],
)
def test_parses(reply: str, call: Call) -> None:
    assert parse_call(reply, NAMES) == call


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("", "No function call found in your reply"),
        ("The answer is 5.", "No function call found"),
        ("Summ(a=1, b=2)", "Summ is not a function here. Did you mean 'Sum'?"),
        ("Sum(a=x, b=2)", "argument 'a' is the bare name x. Arguments must be literals"),
        ("Sum(a=1+2, b=2)", "argument 'a' is an expression. Arguments are not evaluated"),
        ("Sum(a=Sum(1, 2), b=2)", "argument 'a' is a nested call. Make one call per reply"),
        ("Sum(a=os.environ, b=2)", "argument 'a' uses attribute access"),
        ("Sum(a={1: 2})", "argument 'a' is a Dict, not a literal"),  # dicts need string keys
        ("Sum(**{'a': 1})", "'**' is not allowed"),
        ("Sum(a=1, a=2)", "argument 'a' is given twice"),
        ("Sum(a=1, 2)", "Could not read the call Sum(a=1, 2)"),
        ("Sum(a=2, b=3", "missing its closing ')'"),
        ('Reasoning(thought="no end)', 'unclosed " quote'),
        ("Sum(" + "(" * 9 + ")" * 9 + ")", "nests brackets more than 8 deep"),
        ("Sum(a=" + "1" * MAX_CALL_CHARS + ")", f"longer than {MAX_CALL_CHARS:,} characters"),
        ("x" * (MAX_REPLY_CHARS + 1), "characters long (limit"),
        ("Sum(a=[" + ", ".join(["1"] * 300) + "])", "list longer than 256 items"),
        ('{"name": "Sum", "arguments": "{not json"}', 'The "arguments" of Sum are not valid JSON'),
        ('{"name": "Sum", "arguments": 5}', 'The "arguments" of Sum must be an object'),
        (
            '{"name": "Sum", "arguments": {"a": {"b": {"c": {"d": 1}}}}}',
            "An argument of Sum is not a literal",
        ),
    ],
)
def test_refusals_tell_the_model_what_to_do(reply: str, message: str) -> None:
    with pytest.raises(CallParseError, match=_escaped(message)):
        parse_call(reply, NAMES)


def _escaped(text: str) -> str:
    import re

    return re.escape(text)


def test_non_text_reply() -> None:
    with pytest.raises(CallParseError, match="must be text, got int"):
        parse_call(5)  # type: ignore[arg-type]


def test_parse_calls_returns_every_call_in_order() -> None:
    reply = 'First Sum(a=1, b=2), then {"name": "Answer", "arguments": {"value": 3}} and Answer(3).'
    assert parse_calls(reply, NAMES) == [
        Call("Sum", (), {"a": 1, "b": 2}),
        Call("Answer", (), {"value": 3}),
        Call("Answer", (3,)),
    ]


def test_attribute_calls_are_not_bare_calls() -> None:
    assert parse_call("math.Sum(1, 2) or Sum(1, 2)", NAMES) == Call("Sum", (1, 2))


def test_without_names_any_call_parses() -> None:
    assert parse_call("Whatever(1)") == Call("Whatever", (1,))


@pytest.mark.parametrize(
    "reply",
    ["__import__('os').system('x')", "Sum(a=open('f'), b=1)", "Sum(a=eval('1'), b=1)",
     "Answer(().__class__.__base__.__subclasses__())", "Answer(lambda: 1)", "Answer(f'{1}')"],
)
def test_hostile_calls_are_refused_without_running_anything(reply: str) -> None:
    with pytest.raises(CallParseError):
        parse_call(reply, NAMES)
    try:  # without a list of names, a call to anything is grammar; only literals ever come out
        call = parse_call(reply)
    except CallParseError:
        return
    assert call == Call("__import__", ("os",))  # a name no toolset has: Toolset.execute refuses it


def test_str_is_canonical_call_text() -> None:
    call = Call("Sum", (1, 2.5), {"c": "a \"quoted\" \n word", "d": [True, None]})
    assert str(call) == 'Sum(1, 2.5, c="a \\"quoted\\" \\n word", d=[True, None])'
    assert parse_call(str(call)) == call


# ----------------------------------------------------------------------------- properties

_IDENTIFIER = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True).filter(
    lambda s: not keyword.iskeyword(s)
)
_SCALAR = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.booleans(),
    st.none(),
)
_LITERAL = st.one_of(_SCALAR, st.lists(_SCALAR, max_size=4))


@st.composite
def literal_calls(draw: st.DrawFn) -> Call:
    args = tuple(draw(st.lists(_LITERAL, max_size=3)))
    keys = draw(st.lists(_IDENTIFIER, max_size=3, unique=True))
    return Call(draw(_IDENTIFIER), args, {k: draw(_LITERAL) for k in keys})


@settings(max_examples=300, deadline=None)
@given(literal_calls())
@example(Call("Sum", (), {"a": 2, "b": 3}))
@example(Call("Reasoning", ('it\'s "x" (y), z\\',)))
@example(Call("Answer", (-0.0, 1e300, 5e-324)))
def test_str_of_a_literal_call_round_trips(call: Call) -> None:
    assert parse_call(str(call)) == call
    assert parse_call(str(call), {call.name}) == call
    assert parse_call(f"Sure, here it is:\n{call}\nDone.", {call.name}) == call


_TOKENS = st.sampled_from(
    [
        "Sum(", "Answer(", "(", ")", "[", "]", "{", "}", '"', "'", "\\",
        ",",
        "=", "a", "b=", "1", "-2.5", "1e999", '"name"', ": ", '"arguments"', "__import__", ".", "**", "+",
        " ", "\n", "True", "null", "\x00", "é", "∀",
    ]
)
_REPLIES = st.one_of(st.text(max_size=200), st.lists(_TOKENS, max_size=40).map("".join))


@settings(max_examples=1000, deadline=None)
@given(_REPLIES, st.sampled_from([None, NAMES]))
def test_parser_only_ever_raises_call_parse_error(reply: str, names: set[str] | None) -> None:
    try:
        calls = parse_calls(reply, names)
    except CallParseError as e:
        assert str(e)  # every refusal says something
        return
    for call in calls:
        assert isinstance(call, Call) and (names is None or call.name in names)


_SPACE = st.sampled_from(["", " ", "  ", "\t", "\n"])
_VALUE = st.one_of(
    st.from_regex(r"-?[0-9]{1,4}(\.[0-9]{1,4})?", fullmatch=True),  # incl. leading zeros: 007, 00.5
    st.text(max_size=12).map(lambda t: '"' + t + '"'),
    st.sampled_from(["True", "None", "1e3", "1.", ".5", "'x'", "[1]", "x", "1+1"]),
)


@st.composite
def simple_replies(draw: st.DrawFn) -> str:
    """Replies shaped like the fast path's (and near misses that must fall back)."""
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.one_of(st.none(), st.sampled_from(["a", "b", "a", "True", "if", "_x1"])))
        parts.append((f"{key}{draw(_SPACE)}={draw(_SPACE)}" if key else "") + draw(_VALUE))
    body = draw(st.sampled_from([",", ", ", " ,"])).join(parts) + draw(st.sampled_from(["", ",", ", "]))
    return (
        f"{draw(_SPACE)}{draw(st.sampled_from(['Sum', 'if', 'Answer', '_f']))}({draw(_SPACE)}{body})"
        + draw(_SPACE)
    )


@settings(max_examples=500, deadline=None)
@given(st.one_of(simple_replies(), literal_calls().map(str)))
def test_fast_path_agrees_with_the_full_parser(reply: str) -> None:
    fast = _simple_call(reply, None)
    try:
        full = [call for _, _, call in _python_calls(reply, None, "Sum(a=2, b=3)")][:1]
    except CallParseError:
        assert fast is None  # only the full path explains errors
        return
    if fast is not None:
        assert _json_calls(reply, None) == [] and full == [fast]


def test_fast_path_leaves_tricky_spellings_to_the_full_parser() -> None:
    for reply in [
        "Sum(007)",
        "Sum(1.)",
        "Sum(a=1, a=2)",
        "Sum(a=1, 2)",
        "if(1)",
        "Sum(True=1)",
        "Sum( )",
        "Sum(1e3)",
        'Sum("a\\"b")',
        "Sum('x')",
        "Sum(\u00a01)",
        "Sum(1)\nAnswer(2)",
    ]:
        assert _simple_call(reply, None) is None, reply


def test_huge_and_tiny_floats_stay_finite() -> None:
    call = parse_call("Answer(1e308)")
    assert math.isfinite(call.args[0])
    assert parse_call("Answer(1e999)").args[0] == math.inf  # a literal; tools refuse it


def test_a_reply_may_hold_a_list_of_calls_with_dict_arguments():
    """BFCL's spelling: several calls in one Python list, dicts with string keys allowed."""
    calls = parse_calls(
        "[cd(folder='docs'), edit_ticket(ticket_id=1, updates={'priority': 2, 'tags': ['a']})]"
    )
    assert [c.name for c in calls] == ["cd", "edit_ticket"]
    assert calls[1].kwargs["updates"] == {"priority": 2, "tags": ["a"]}
    assert str(calls[1]) == 'edit_ticket(ticket_id=1, updates={"priority": 2, "tags": ["a"]})'
    assert parse_calls(str(calls[1])) == [calls[1]]  # the written form reads back the same
