"""When a reply is complete: the cheap check every backend stops on, and its agreement with the parser."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callgym.agents.backends.stopping import (
    CallWatcher, call_end, finish_text, may_close_call, names_per_chat, offered_names, tool_names,
)
from callgym.calls import Call, parse_call
from callgym.errors import ConfigError

NAMES = frozenset({"Sum", "Answer", "Premise", "Reasoning"})
HELP = """You solve the task by calling functions, one call per reply, for example Sum(a=2, b=3).

The functions:

Sum(a: float, b: float)
    Add two numbers.
    Example: Sum(a=2, b=3)

Answer(value: float)
    Give the final answer.
    Example: Answer(5)
"""


@pytest.mark.parametrize(
    ("text", "upto"),
    [
        ("Sum(a=2, b=3)", "Sum(a=2, b=3)"),
        ("Sum(a=2, b=3) and then I will answer.", "Sum(a=2, b=3)"),
        ("I will add them.\nSum(a=2, b=3)\nThat gives 5.", "I will add them.\nSum(a=2, b=3)"),
        ('Premise("∀x (Man(x) → Mortal(x))") more', 'Premise("∀x (Man(x) → Mortal(x))")'),
        ("Reasoning('it (really) is') Answer(1)", "Reasoning('it (really) is')"),
        (
            "Let me think(hard). Sum(a=1, b=1) done",
            "Let me think(hard). Sum(a=1, b=1)",
        ),  # think( is not offered
        ("Sum (a=1, b=1)!", "Sum (a=1, b=1)"),  # a known name may have a space, as the parser allows
        (
            '{"name": "Sum", "arguments": {"a": 1, "b": 2}} trailing',
            '{"name": "Sum", "arguments": {"a": 1, "b": 2}}',
        ),
        (
            '```json\n{"name": "Answer", "arguments": {"value": "Sum(1)"}}\n```',
            '```json\n{"name": "Answer", "arguments": {"value": "Sum(1)"}}',
        ),
        (
            '{"tool_calls": [{"function": {"name": "Answer", "arguments": "{}"}}]} x',
            '{"tool_calls": [{"function": {"name": "Answer", "arguments": "{}"}}]}',
        ),
    ],
)
def test_complete_call_ends_where_the_call_ends(text: str, upto: str) -> None:
    assert call_end(text, NAMES) == len(upto)
    assert finish_text(text, NAMES) == (upto, True)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "I will add 2 and 3.",
        "Sum(a=2, b=",  # still being written
        'Premise("∀x (Man(x)',  # a bracket inside an open string
        '{"name": "Answer", "arguments": {"value": "Sum(1)"',  # an open JSON object
        '{"name": "Other", "arguments": {}}',  # not an offered function
        "Other(1) and print(2)",
    ],
)
def test_incomplete_or_foreign_text_is_not_a_call(text: str) -> None:
    assert call_end(text, NAMES) is None


def test_without_names_any_call_written_without_a_space_counts() -> None:
    assert call_end("see f(3) here", None) == 8
    assert call_end("add them (12 and 30) then Sum(a=12, b=30)", None) == 41
    assert call_end("obj.method(1)", None) is None  # attribute access is not a bare call


def test_an_empty_name_set_never_completes() -> None:
    assert call_end("Sum(a=1, b=2)", frozenset()) is None
    assert finish_text("The answer is f(3) = 9.", frozenset()) == ("The answer is f(3) = 9.", False)


def test_names_are_passed_or_read_from_the_tool_schemas_never_from_the_prompt() -> None:
    tools = [{"type": "function", "function": {"name": "Sum", "parameters": {}}}, {"name": "Answer"}]
    assert tool_names(tools) == {"Sum", "Answer"}
    assert tool_names(None) is None
    assert offered_names(tools, None) == {"Sum", "Answer"}
    assert offered_names(tools, ["Only"]) == {"Only"}  # the caller's names win
    assert offered_names(tools, []) == frozenset()  # an env that wants no stop at a call
    assert offered_names(None, None) == frozenset()  # a help text in the prompt names nothing
    chats = [[{"role": "system", "content": HELP}], [{"role": "user", "content": "2+3?"}]]
    assert names_per_chat(chats, None, None) == [frozenset(), frozenset()]
    assert names_per_chat(chats, tools, [{"Sum"}, set()]) == [{"Sum"}, frozenset()]
    with pytest.raises(ConfigError, match="call_names has 1 entries for 2 chats"):
        names_per_chat(chats, None, [{"Sum"}])


def test_finish_text_trims_at_the_call_or_the_first_stop_string() -> None:
    assert finish_text("Sum(a=1, b=2)\nResult: 3", NAMES) == ("Sum(a=1, b=2)", True)
    assert finish_text("Sum(a=1, b=2) END more", NAMES, stop=[" END"]) == ("Sum(a=1, b=2)", True)
    assert finish_text("thinking END Sum(a=1, b=2)", NAMES, stop=["END"]) == ("thinking ", True)
    assert finish_text("no call here", NAMES) == ("no call here", False)
    assert finish_text("Sum(a=1, b=2) x", NAMES, on_call=False) == ("Sum(a=1, b=2) x", False)


def test_only_pieces_that_close_a_bracket_trigger_a_check() -> None:
    assert may_close_call(")") and may_close_call("})\n") and not may_close_call("Sum(a")


_PROSE = st.text(
    alphabet=st.characters(whitelist_categories=("L", "N", "Zs"), whitelist_characters=".,:;!?-\n"),
    max_size=40,
)
_ARG = st.one_of(
    st.integers(-(10**6), 10**6), st.text(max_size=12), st.booleans(), st.lists(st.integers(0, 9), max_size=3)
)


@given(prefix=_PROSE, suffix=_PROSE, name=st.sampled_from(sorted(NAMES)), args=st.lists(_ARG, max_size=3))
def test_the_trimmed_reply_parses_to_the_same_call(prefix: str, suffix: str, name: str, args: list) -> None:
    call = Call(name, tuple(args))
    reply = f"{prefix} {call} {suffix}"
    text, stopped = finish_text(reply, NAMES)
    assert stopped and text == f"{prefix} {call}"
    assert parse_call(text, NAMES) == parse_call(reply, NAMES) == call


_PIECES = st.lists(
    st.text(alphabet=st.sampled_from(list('Sum(a=1, b="x") {"name": "Answer", }[]\\\'\n\t.é')), max_size=6),
    max_size=30,
)


@given(pieces=_PIECES, names=st.sampled_from([NAMES, None]))
def test_a_watched_stream_decides_as_a_fresh_scan_of_every_prefix(pieces: list[str], names: object) -> None:
    watcher, text = CallWatcher(names), ""  # type: ignore[arg-type]
    for piece in pieces:
        text += piece
        assert watcher.end(text) == call_end(text, names)  # type: ignore[arg-type]


def test_a_watcher_rescans_when_earlier_text_changes() -> None:
    watcher = CallWatcher(NAMES)
    assert watcher.end("\ufffd Su") is None  # a decoder's placeholder for half a character
    assert watcher.end("é Sum(a=1, b=2)") == len("é Sum(a=1, b=2)")


@pytest.mark.parametrize(
    "piece", ["a)", ")a", ")", "(", '"', "Sum(", 'Sum("', "{", '{"name": "Sum", "x": "', "Su ", "}"]
)
def test_watching_a_reply_grow_costs_linear_work(piece: str) -> None:
    """Every closing bracket re-checks the reply: each check must resume, not rescan."""

    def seconds(n: int) -> float:
        watcher, text, start = CallWatcher(NAMES), "", time.process_time()
        for _ in range(n):
            text += piece
            watcher.end(text)
        return time.process_time() - start

    small, large = min(seconds(500) for _ in range(3)), min(seconds(4_000) for _ in range(3))
    assert large <= 16 * small + 0.05  # linear: 8x; a rescan per piece: 64x
