"""Typed call errors: every invalid reply gets one error type, decided where it is detected."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callgym.calls import parse_calls
from callgym.envs import make
from callgym.episode import Episode, Step, error_type_of, read_episodes
from callgym.error_types import DESCRIPTIONS, ERROR_TYPES, ErrorType, check_error_types
from callgym.errors import CallParseError, ConfigError, ModelError, ToolError
from callgym.tools import Toolset

GSM8K = ("callgym/GSM8K-v0", {"data": "gsm_symbolic", "size": 5, "tools": "all"})
FOL = ("callgym/FOL-v0", {"split": "test"})

# (env, reply, the error type the env must report)
CASES = [
    (GSM8K, "I think the answer is eighteen.", "no_call"),
    (GSM8K, "", "no_call"),
    (GSM8K, "The result (as computed) is 18.", "no_call"),
    (GSM8K, "Sum(a=2, b=3", "syntax_error"),
    (GSM8K, 'Reasoning("unclosed)', "syntax_error"),
    (GSM8K, "Sum(a=2, **{'b': 3})", "syntax_error"),
    (GSM8K, "Sum(a=1, a=2)", "syntax_error"),
    (GSM8K, '{"name": "Sum", "arguments": "{oops"}', "syntax_error"),
    (GSM8K, "Sum(a=2+3, b=1)", "non_literal_argument"),
    (GSM8K, "Sum(a=x, b=1)", "non_literal_argument"),
    (GSM8K, "Sum(a=Product(a=2, b=3), b=1)", "non_literal_argument"),
    (GSM8K, "Sum(a=" + "1" * 40_000 + ", b=1)", "too_long"),
    (GSM8K, "Sum(a=" + "[" * 12 + "1" + "]" * 12 + ", b=1)", "too_long"),
    (GSM8K, "Multiply(a=2, b=3)", "unknown_function"),
    (GSM8K, '{"name": "multiply", "arguments": {"a": 2, "b": 3}}', "unknown_function"),
    (GSM8K, "Sum(a=2)", "missing_argument"),
    (GSM8K, "Sum(a=2, b=3, c=4)", "unexpected_argument"),
    (GSM8K, "Sum(2, 3, 4)", "unexpected_argument"),
    (GSM8K, "Sum(2, a=3)", "unexpected_argument"),
    (GSM8K, 'Sum(a="two", b=3)', "wrong_type"),
    (GSM8K, "Sum(a=True, b=3)", "wrong_type"),
    (GSM8K, "Sum(a=[1, 2], b=3)", "wrong_type"),
    (GSM8K, "Sum(a=" + "9" * 500 + ", b=1)", "out_of_bounds"),
    (GSM8K, "Product(a=1e250, b=1e250)", "out_of_bounds"),  # the result is too large
    (GSM8K, 'Reasoning(thought="' + "x" * 5000 + '")', "out_of_bounds"),
    (GSM8K, "Division(a=1, b=0)", "tool_error"),
    (GSM8K, 'Calculator(expression="2 +* 3")', "tool_error"),
    (GSM8K, 'Answer(value="many")', "answer_format"),
    (FOL, 'Answer("Maybe")', "answer_format"),
    (FOL, 'Premise("this is not logic ((")', "tool_error"),
    (FOL, "Prove()", "missing_argument"),
]


@pytest.mark.parametrize(
    ("env", "reply", "expected"), CASES, ids=[f"{c[2]}-{i}" for i, c in enumerate(CASES)]
)
def test_each_invalid_reply_gets_its_error_type(env, reply, expected) -> None:
    env_id, kwargs = env
    gym_env = make(env_id, **kwargs)
    gym_env.reset(options={"index": 0})
    observation, _, _, _, info = gym_env.step(reply)
    assert observation.startswith("Error: ") and info["call"] is None
    assert info["error_type"] == expected, observation


def test_every_type_is_documented_and_reachable() -> None:
    assert set(DESCRIPTIONS) == set(ERROR_TYPES) == {t.value for t in ErrorType}
    reached = {expected for _, _, expected in CASES}
    assert reached == set(ERROR_TYPES) - {"unclassified"}  # only old files are unclassified


def test_valid_steps_have_no_error_type_and_a_wrong_answer_is_not_an_error() -> None:
    env = make(*GSM8K[:1], **GSM8K[1])
    env.reset(options={"index": 0})
    _, _, _, _, info = env.step("Sum(a=2, b=3)")
    assert info["error_type"] is None
    _, _, terminated, _, info = env.step("Answer(value=-12345)")
    assert terminated and not info["correct"] and info["error_type"] is None


def test_the_type_travels_with_the_exception_not_its_text() -> None:
    error = ToolError("any words at all", ErrorType.OUT_OF_BOUNDS)
    assert error.error_type is ErrorType.OUT_OF_BOUNDS and str(error) == "any words at all"
    assert ToolError("x").error_type is ErrorType.TOOL_ERROR  # the family's default
    assert CallParseError("x").error_type is ErrorType.SYNTAX_ERROR
    with pytest.raises(ValueError):
        ModelError("x", "not a type")  # type: ignore[arg-type]


def test_a_tool_raising_a_typed_error_keeps_its_type() -> None:
    from callgym.tools import tool

    @tool
    def Lookup(key: str) -> str:
        """Look a key up.

        Example: Lookup("a")
        """
        raise ToolError(f"no key {key}", ErrorType.OUT_OF_BOUNDS)

    tools = Toolset([Lookup])
    with pytest.raises(ToolError) as caught:
        tools.execute(tools.parse('Lookup("zz")'))
    assert caught.value.error_type is ErrorType.OUT_OF_BOUNDS


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_every_parser_refusal_is_typed(reply: str) -> None:
    try:
        parse_calls(reply, {"Sum", "Answer"})
    except CallParseError as e:
        assert e.error_type.value in ERROR_TYPES


def test_old_episode_files_read_and_their_invalid_steps_are_unclassified(tmp_path) -> None:
    old = {
        "env_id": "callgym/FOL-v0",
        "index": 0,
        "steps": [
            {"action": "hi", "observation": "Error: ...", "call": None, "valid": False, "reward": 0.0},
            {
                "action": 'Answer("True")',
                "observation": "ok",
                "call": 'Answer("True")',
                "valid": True,
                "reward": 1.0,
            },
        ],
    }
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps(old) + "\n", encoding="utf-8")
    (episode,) = read_episodes(path)
    assert [error_type_of(s) for s in episode.steps] == ["unclassified", None]
    new = Episode(env_id="x", index=1, steps=[Step("hi", "Error", None, False, 0.0, "no_call")])
    assert Episode.from_dict(json.loads(json.dumps(new.to_dict()))).steps[0].error_type == "no_call"


def test_error_type_names_are_checked() -> None:
    assert check_error_types("syntax_error, no_call") == ["syntax_error", "no_call"]
    with pytest.raises(ConfigError, match="'syntax_eror' is not an error type. Did you mean 'syntax_error'"):
        check_error_types(["syntax_eror"], "--rejected-error-type")
    with pytest.raises(ConfigError, match="is empty"):
        check_error_types(" , ")
