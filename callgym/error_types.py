"""The taxonomy of invalid replies: every reply an env cannot execute gets one ``error_type``.

The type is decided where the error is detected (the call parser, a tool's argument
checks, a tool run, an env's answer check) and carried by the exception
(:attr:`callgym.errors.ModelError.error_type`), never guessed from message text. Envs put
it in ``info["error_type"]`` after each step and episodes record it per step
(:attr:`callgym.episode.Step.error_type`), so benchmarks, the leaderboard and ``callgym
pairs`` can count, plot and select failures by kind. The taxonomy is the same for every env.

==========================  ================================================================
type                        the reply ...
==========================  ================================================================
``no_call``                 holds no function call at all (prose, an empty reply, not text)
``syntax_error``            holds a call that cannot be read: an unclosed quote or bracket,
                            invalid Python or JSON syntax, ``**kwargs``, a keyword repeated
``non_literal_argument``    passes an expression, a bare name, a nested call or attribute
                            access as an argument (nothing is ever evaluated)
``too_long``                is longer than the parser reads (the whole reply, one call, or
                            brackets nested too deep)
``unknown_function``        calls a function this env does not offer
``missing_argument``        leaves out a required argument
``unexpected_argument``     passes an argument the function does not take (an unknown
                            keyword, too many positional arguments, one given twice)
``wrong_type``              passes a value of the wrong kind (text where a number goes, a
                            fraction where a whole number goes, ...)
``out_of_bounds``           passes or produces a value beyond the bounds every call keeps
                            (a number of more than 400 digits, text or lists too long,
                            infinity)
``tool_error``              is well formed, but the function refused or failed on it
                            (division by zero, a formula that does not parse, a full
                            knowledge base, an error a tool backend returns)
``answer_format``           calls the answer function with a value that is not an answer of
                            the required form (``Answer("Maybe")`` where True / False /
                            Unknown is asked, ``Answer(value="many")`` where a number is)
``unclassified``            was recorded as invalid by a callgym older than this taxonomy
                            (episode files written before ``error_type`` existed)
==========================  ================================================================

A wrong but well-formed final answer is not an invalid reply: it has no error type (the
episode is simply incorrect).
"""

from __future__ import annotations

from enum import Enum


class ErrorType(str, Enum):
    """One kind of invalid reply (see the module docstring for each)."""

    NO_CALL = "no_call"
    SYNTAX_ERROR = "syntax_error"
    NON_LITERAL_ARGUMENT = "non_literal_argument"
    TOO_LONG = "too_long"
    UNKNOWN_FUNCTION = "unknown_function"
    MISSING_ARGUMENT = "missing_argument"
    UNEXPECTED_ARGUMENT = "unexpected_argument"
    WRONG_TYPE = "wrong_type"
    OUT_OF_BOUNDS = "out_of_bounds"
    TOOL_ERROR = "tool_error"
    ANSWER_FORMAT = "answer_format"
    UNCLASSIFIED = "unclassified"

    def __str__(self) -> str:
        return self.value


ERROR_TYPES: tuple[str, ...] = tuple(t.value for t in ErrorType)  # in display order

DESCRIPTIONS: dict[str, str] = {
    "no_call": "no function call in the reply",
    "syntax_error": "a call that cannot be read",
    "non_literal_argument": "an expression, name or nested call as an argument",
    "too_long": "a reply or call beyond the parser's size limits",
    "unknown_function": "a call to a function the env does not offer",
    "missing_argument": "a required argument left out",
    "unexpected_argument": "an argument the function does not take",
    "wrong_type": "a value of the wrong kind",
    "out_of_bounds": "a value beyond the bounds every call keeps",
    "tool_error": "the function refused or failed on the call",
    "answer_format": "an answer that is not of the required form",
    "unclassified": "invalid, recorded before error types existed",
}


def check_error_types(names: str | list[str] | tuple[str, ...], flag: str = "error type") -> list[str]:
    """Validate error type names (a list or comma-separated text); returns them as a list.

    Raises:
        ConfigError: an unknown name, with a did-you-mean hint and the valid names.
    """
    from callgym.errors import ConfigError
    from callgym.registry import did_you_mean

    items = (
        [n.strip() for n in names.split(",")] if isinstance(names, str) else [str(n).strip() for n in names]
    )
    items = [n for n in items if n]
    if not items:
        raise ConfigError(f"{flag} is empty; use one or more of: {', '.join(ERROR_TYPES)}")
    for name in items:
        if name not in ERROR_TYPES:
            raise ConfigError(
                f"{flag} {name!r} is not an error type.{did_you_mean(name, list(ERROR_TYPES))} "
                f"Use one of: {', '.join(ERROR_TYPES)}"
            )
    return items
