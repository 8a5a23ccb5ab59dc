"""A corpus of hostile model replies and FOL problems, shared by the tests and the benchmark.

Models write anything: runs of one character, unbalanced brackets and quotes, JSON that never
closes, code, huge numbers, lone surrogates. Every entry here must cost a bounded, linear
amount to parse and run (``tests/test_hostile_replies.py`` checks it on both envs,
``benchmarks/hostile_replies.py`` prints the slowest step). Add a case here when a new shape
is found, and both pick it up.

>>> names = [name for name, _ in replies(1_000)]
>>> "letters" in names and len(names) == len(set(names))
True
"""

from __future__ import annotations

import json
from collections.abc import Callable

from callgym.calls import MAX_REPLY_CHARS

Shape = Callable[[int], str]


def _repeat(piece: str) -> Shape:
    return lambda n: piece * max(1, n // len(piece))


def _around(head: str, fill: str, tail: str = "") -> Shape:
    return lambda n: head + fill * max(1, (n - len(head) - len(tail)) // len(fill)) + tail


# Runs of one kind of character, or of a short pattern: what makes a scan go quadratic.
_RUNS: dict[str, Shape] = {
    "letters": _repeat("a"),
    "letters and digits": _repeat("a1"),
    "digits": _repeat("7"),
    "words": _repeat("word "),
    "spaces": _repeat(" "),
    "newlines": _repeat("\n"),
    "tabs and returns": _repeat("\t\r"),
    "name then spaces": _around("Sum", " "),
    "open parens": _repeat("("),
    "close parens": _repeat(")"),
    "open brackets": _repeat("["),
    "close brackets": _repeat("]"),
    "open braces": _repeat("{"),
    "close braces": _repeat("}"),
    "double quotes": _repeat('"'),
    "single quotes": _repeat("'"),
    "backticks": _repeat("`"),
    "backslashes": _repeat("\\"),
    "commas": _repeat(","),
    "name-paren pairs": _repeat("a("),
    "unknown calls": _repeat("think(hard) "),
    "open calls": _repeat("Sum("),
    "empty calls": _repeat("Sum()"),
    "attribute calls": _repeat("x.Sum("),
    "digit-led names": _repeat("2Sum"),
    "quote-paren pairs": _repeat('"('),
    "alternating brackets": _repeat("([{"),
}

# Unclosed or over-deep structures, and JSON that never finishes.
_STRUCTURES: dict[str, Shape] = {
    "nested calls": lambda n: "Sum(" * (n // 5) + ")" * (n // 5),
    "unclosed string argument": _around('Sum(a="', "x"),
    "unclosed single-quoted argument": _around("Reasoning('", "x"),
    "long string argument": _around('Reasoning(thought="', "x", '")'),
    "escapes in a string": _around('Reasoning(thought="', "\\n", '")'),
    "deep list argument": lambda n: "Sum(a=" + "[" * (n // 3) + "]" * (n // 3) + ", b=1)",
    "long list argument": _around("Sum(a=[", "1, ", "], b=1)"),
    "huge integer argument": _around("Sum(a=", "9", ", b=1)"),
    "huge decimal argument": _around("Sum(a=0.", "3", ", b=1)"),
    "json names": _repeat('{"name"'),
    "json unclosed string": _around('{"name": "Sum", "arguments": {"a": "', "x"),
    "json deep arrays": _around('{"name": "Sum", "arguments": ', "["),
    "json deep objects": _around('{"name": "Sum", "arguments": ', '{"a": '),
    "json many calls": _repeat('{"name": "Sum", "arguments": {"a": 1, "b": 2}} '),
    "json huge integer": _around('{"name": "Sum", "arguments": {"a": ', "9", ', "b": 1}}'),
    "json string arguments": _around('{"name": "Sum", "arguments": "{\\"a\\": \\"', "x", '\\"}"}'),
    "json in a code fence": _around(
        '```json\n{"name": "Reasoning", "arguments": {"thought": "', "(", '"}}\n```'
    ),
    "tool_calls nesting": _around('{"tool_calls": [', '{"function": ', "]}"),
}

# Text no parser expects: unicode, control characters, lone surrogates.
_TEXT: dict[str, Shape] = {
    "accented letters": _repeat("é"),
    "emoji": _repeat("😀"),
    "cjk": _repeat("漢字"),
    "right-to-left override": _repeat("\u202e"),
    "combining marks": _repeat("a\u0301"),
    "zero-width spaces": _repeat("\u200b"),
    "nul bytes": _repeat("\x00"),
    "lone surrogates": _repeat("\ud800"),
    "surrogate pair halves": _repeat("\udc00\ud800"),
    "unicode digits": _repeat("٣"),
    "fullwidth call": _around("Ｓｕｍ(", "１"),
}

# Fixed replies: code where a literal belongs, bounds of the tools, the examples.
FIXED: dict[str, str] = {
    "answer with a lone surrogate": "Answer(value=5) \ud800",
    "surrogate argument": 'Reasoning(thought="\ud800\udfff")',
    "import": '__import__("os").system("echo owned")',
    "import as argument": 'Sum(a=__import__("os"), b=1)',
    "lambda argument": "Sum(a=(lambda: 1)(), b=2)",
    "double-star argument": 'Sum(**{"a": 1, "b": 2})',
    "statement after call": "Sum(a=1, b=2); import os",
    "f-string argument": "Sum(a=f'{1}', b=2)",
    "comprehension argument": "Sum(a=[x for x in range(10**9)], b=1)",
    "subclasses walk": "().__class__.__bases__[0].__subclasses__()",
    "walrus": "Sum(a=(x := 1), b=x)",
    "float overflow": "Product(a=1e308, b=1e308)",
    "float infinity": 'Sum(a=float("inf"), b=1)',
    "json infinity": '{"name": "Sum", "arguments": {"a": 1e999, "b": 1}}',
    "json nan": '{"name": "Sum", "arguments": {"a": NaN, "b": 1}}',
    "numeric text": 'Sum(a="1' + "0" * 3_000 + '", b="1e999")',
    "fraction text": 'Division(a="1/3", b="0/0")',
    "calculator tower": 'Calculator(expression="9**9**9**9")',
    "calculator big power": 'Calculator(expression="2**1329 * 2**1329")',
    "calculator negative power": 'Calculator(expression="(1/3)**-1000")',
    "calculator deep": 'Calculator(expression="' + "(" * 150 + "1" + ")" * 150 + '")',
    "calculator long sum": 'Calculator(expression="' + "1+" * 149 + '1")',
    "calculator names": 'Calculator(expression="__import__(\'os\')")',
    "calculator float tower": 'Calculator(expression="1e308**1e308")',
    "calculator modulo": 'Calculator(expression="10**399 % 7**-300")',
    "formula negations": 'Premise("' + "¬" * 1_990 + 'P(a)")',
    "formula parens": 'Premise("' + "(" * 1_990 + 'P(a)")',
    "formula quantifiers": 'Premise("' + "∀x " * 600 + 'P(x)")',
    "formula long conjunction": 'Premise("' + " ∧ ".join(["P(a)"] * 280) + '")',
    "formula too long": 'Premise("' + "P(a) ∧ " * 400 + 'P(a)")',
    "formula wide grounding": 'Prove("∀x ∀y ∀z ∀w ∀v (R(x, y, z) ∨ R(y, z, w) ∨ R(z, w, v))")',
}

SHAPES: dict[str, Shape] = {**_RUNS, **_STRUCTURES, **_TEXT}


def replies(size: int = MAX_REPLY_CHARS - 1) -> list[tuple[str, str]]:
    """Every hostile reply as ``(name, text)``: each shape at about ``size`` characters,
    then the fixed replies."""
    return [(name, shape(size)) for name, shape in SHAPES.items()] + list(FIXED.items())


# ----------------------------------------------------------------------------- FOL problems


def _balanced(parts: list[str], op: str) -> str:
    """``parts`` joined by ``op`` as a balanced tree, so hundreds fit the depth limit."""
    if len(parts) == 1:
        return parts[0]
    mid = len(parts) // 2
    return f"({_balanced(parts[:mid], op)}){op}({_balanced(parts[mid:], op)})"


def _pack(parts: list[str], op: str = " ∧ ", limit: int = 1_990) -> list[str]:
    """As few formulas as possible, each at most ``limit`` characters."""
    formulas, start = [], 0
    while start < len(parts):
        end = start + 1
        while end < len(parts) and len(_balanced(parts[start:end + 1], op)) <= limit:
            end += 1
        formulas.append(_balanced(parts[start:end], op))
        start = end
    return formulas


def implication_chain(premises: int = 24) -> tuple[list[str], str]:
    """A fact and one long chain of implications (about 1,800 links in 23 premises): the
    old solver's simplification advanced one link per pass over every clause."""
    links = _pack([f"L{i}(a) → L{i + 1}(a)" for i in range(2_500)])[: premises - 1]
    last = sum(formula.count("→") for formula in links)
    return ["L0(a)", *links], f"L{last}(a)"


def pigeonhole(pigeons: int = 12) -> tuple[list[str], str]:
    """``pigeons`` individuals in one hole fewer, no two sharing: unsatisfiable, and
    exponential for any resolution prover."""
    names = [f"c{i}" for i in range(pigeons)]
    somewhere = [_balanced([f"In({p}, {h})" for h in names[:-1]], " ∨ ") for p in names]
    distinct = [f"¬Same({a}, {b})" for i, a in enumerate(names) for b in names[i + 1:]]
    premises = [*_pack(somewhere), "∀x ∀y ∀z (In(x, z) ∧ In(y, z) → Same(x, y))", *_pack(distinct)]
    return premises, "Happy(c0)"


def wide_grounding(copies: int = 5) -> tuple[list[str], str]:
    """Three nested quantifiers over twelve elements, several times: grounding near its limit."""
    facts = " ∧ ".join(f"P(c{i})" for i in range(12))
    rule = "∀x ∀y ∀z ((R(x, y, z) ∨ R(y, z, x)) → (R(z, x, y) ∨ S{i}(x)))"
    return [facts, *(rule.format(i=i) for i in range(copies))], "S0(c1)"


FOL_PROBLEMS: dict[str, Callable[[], tuple[list[str], str]]] = {
    "implication chain": implication_chain,
    "pigeonhole": pigeonhole,
    "wide grounding": wide_grounding,
}


def fol_episode(premises: list[str], conclusion: str) -> list[str]:
    """The replies that state ``premises`` with Premise, then ask Prove about ``conclusion``."""
    return [f"Premise({json.dumps(p, ensure_ascii=False)})" for p in premises] + [
        f"Prove({json.dumps(conclusion, ensure_ascii=False)})"]
