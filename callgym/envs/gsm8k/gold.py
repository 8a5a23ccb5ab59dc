"""Gold chains: the calls an oracle sends, read off a worked solution.

GSM8K's solutions mark every calculation with a calculator annotation, ``<<48/2=24>>``.
Each annotation becomes one step; a solution line without annotations may still spell a
calculation in plain text (``99 + 5 = $104``, GSM-Symbolic's ``53-9=44``), and such a
calculation becomes a step too, but only when it checks out exactly. From the steps come
the calls, for each toolset:

* ``"study"``: the expression is split into binary ``Sum`` / ``Subtraction`` / ``Product``
  / ``Division`` calls in evaluation order, each intermediate result written the way the
  env prints it (``16-3-4`` -> ``Subtraction(a=16, b=3)``, ``Subtraction(a=13, b=4)``);
* ``"calculator"`` and ``"all"``: one ``Calculator(expression="16-3-4")`` per step;

and the chain ends with ``Answer(value=<gold>)``.

>>> steps = solution_steps("He sprints 3*3=<<3*3=9>>9 times\\nSo 9*60=<<9*60=540>>540 m\\n#### 540")
>>> gold_calls(steps, "540", "study")
('Product(a=3, b=3)', 'Product(a=9, b=60)', 'Answer(value=540)')
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from fractions import Fraction

from callgym.envs.gsm8k.calculator import OPERATORS, apply, constant, evaluate, parse_expression
from callgym.envs.gsm8k.data import number_text, parse_number
from callgym.errors import ToolError
from callgym.tools import format_number, to_number

STUDY_NAMES = {"+": "Sum", "-": "Subtraction", "*": "Product", "/": "Division"}
MAX_STUDY_POWER = 12  # a**e becomes e-1 Product calls; larger exponents are not spelled out

_ANNOTATION = re.compile(r"<<([^<>]*)>>")
_DIGITS = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"  # 1,000.5 or 1000.5
_TERM = rf"\(*[$£€]?{_DIGITS}\)*"
_OP = r"(?:\s*[-+*/×÷−]\s*|\s+[xX]\s+)"
# "a op b [op c ...] = c", not glued to a word, a decimal point or a fraction on the left.
_PLAIN = re.compile(rf"(?<![\w.,/]){_TERM}(?:{_OP}{_TERM})+\s*=\s*[$£€]?\s*(-?{_DIGITS})(?!\.?\d)")
MAX_PLAIN_LINE = 600  # longer prose lines are not searched: the search is quadratic in the worst case


@dataclass(frozen=True)
class Step:
    """One calculation of a worked solution."""

    expression: str  # Python arithmetic: "16-3-4"
    result: Fraction  # its exact value
    stated: Fraction | None  # the value the solution wrote after "=", if it is a number
    annotated: bool  # from a <<...>> annotation (else from plain text)
    computes: bool = True  # False for annotations such as <<8=8>> that only restate a number


_Spelled = tuple[Fraction, str]  # a value, and its literal as the env printed it


class Unspellable(ValueError):
    """An expression the four study functions cannot spell (``//``, ``%``, big powers)."""


# ----------------------------------------------------------------------------- steps


def solution_steps(solution: str) -> list[Step]:
    """The calculations of a worked solution, in order (see the module docstring)."""
    steps: list[Step] = []
    for line in solution.splitlines():
        if line.lstrip().startswith("####"):
            continue
        annotations = _ANNOTATION.findall(line)
        if annotations:
            steps += [s for s in map(_annotation_step, annotations) if s is not None]
        elif len(line) <= MAX_PLAIN_LINE:
            steps += [s for s in map(_plain_step, _PLAIN.finditer(line)) if s is not None]
    return steps


def _annotation_step(text: str) -> Step | None:
    expression, _, stated = text.rpartition("=")
    if not expression.strip():
        return None
    try:
        result = evaluate(expression)
    except ToolError:
        return None  # not arithmetic the calculator accepts: no call can be made of it
    computes = _has_operator(expression)
    return Step(expression.strip(), result, parse_number(stated), annotated=True, computes=computes)


def _plain_step(match: re.Match[str]) -> Step | None:
    expression = re.sub(r"\s[xX]\s", " * ", match.group(0).rpartition("=")[0])
    stated = parse_number(match.group(1))
    try:
        result = evaluate(expression)
    except ToolError:
        return None
    # Prose is not checked by anyone: keep only calculations that are exactly right.
    return Step(" ".join(expression.split()), result, stated, annotated=False) if result == stated else None


def _has_operator(expression: str) -> bool:
    return any(isinstance(n, ast.BinOp) for n in ast.walk(parse_expression(expression)))


def difficulty(solution: str) -> int:
    """The number of calculation steps: GSM8K's annotations, else the lines holding ``=``."""
    annotations = len(_ANNOTATION.findall(solution))
    if annotations:
        return annotations
    return sum("=" in line and not line.lstrip().startswith("####") for line in solution.splitlines())


def audit(solution: str, answer: str) -> list[str]:
    """Why a gold chain does not derive its answer on its own; empty when it does.

    The oracle still scores (its chain ends with the gold answer); this tells a dataset
    curator which solutions skip or miscompute a step.
    """
    problems = []
    for text in _ANNOTATION.findall(solution):
        step = _annotation_step(text)
        if step is None:
            problems.append(f"annotation <<{text}>> is not arithmetic the calculator accepts")
        elif step.stated != step.result:
            problems.append(f"annotation <<{text}>> computes {number_text(step.result)}")
    steps = solution_steps(solution)
    if not steps:
        problems.append("no calculation is annotated or written out")
    elif parse_number(answer) not in {s.result for s in steps}:
        problems.append(f"no step computes the final answer {answer} (last step: {_describe(steps[-1])})")
    return problems


def _describe(step: Step) -> str:
    return f"{step.expression} = {number_text(step.result)}"


# ----------------------------------------------------------------------------- calls


def gold_calls(steps: list[Step], answer: str, tools: str) -> tuple[str, ...]:
    """The oracle's replies: one or more calls per step, then ``Answer(value=answer)``."""
    calls: list[str] = []
    for step in steps:
        if not step.computes:
            continue
        if tools == "study":
            try:
                calls += study_calls(step.expression)
            except Unspellable:
                continue  # the answer still comes last; the chain just skips this step
        else:
            calls.append(f"Calculator(expression={json.dumps(step.expression)})")
    calls.append(answer_call(answer))
    return tuple(calls)


def answer_call(answer: str) -> str:
    """``Answer(value=18)``; a repeating fraction goes in quotes (``Answer(value="1/3")``)."""
    literal = answer if parse_number(answer) is not None and "/" not in answer else json.dumps(answer)
    return f"Answer(value={literal})"


def study_calls(expression: str) -> list[str]:
    """Binary study-function calls computing ``expression``, in evaluation order.

    Raises:
        Unspellable: the expression uses ``//``, ``%`` or a power the four functions
            cannot spell in a few calls.
    """
    calls: list[str] = []
    _spell(parse_expression(expression), calls)
    return calls


def _spell(node: ast.expr, calls: list[str]) -> _Spelled:
    """Append the calls computing ``node``; return its value and literal as printed."""
    if isinstance(node, ast.Constant):
        value = constant(node.value)
        return value, number_text(value)
    if isinstance(node, ast.UnaryOp):
        value, literal = _spell(node.operand, calls)
        if isinstance(node.op, ast.UAdd):
            return value, literal
        if isinstance(node.operand, ast.Constant):
            return -value, number_text(-value)
        return _binary("-", (Fraction(0), "0"), (value, literal), calls)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        return _power(node, calls)
    op = OPERATORS.get(type(node.op)) if isinstance(node, ast.BinOp) else None
    if op not in STUDY_NAMES:
        raise Unspellable(f"no study function for {ast.unparse(node)}")
    return _binary(op, _spell(node.left, calls), _spell(node.right, calls), calls)


def _binary(op: str, left: _Spelled, right: _Spelled, calls: list[str]) -> _Spelled:
    calls.append(f"{STUDY_NAMES[op]}(a={left[1]}, b={right[1]})")
    printed = format_number(apply(op, left[0], right[0]))
    # The model reads the printed result (rounded if it repeats) and passes that on.
    return to_number(printed), printed


def _power(node: ast.BinOp, calls: list[str]) -> _Spelled:
    exponent = node.right
    small = isinstance(exponent, ast.Constant) and type(exponent.value) is int
    if not (small and 1 <= exponent.value <= MAX_STUDY_POWER):
        raise Unspellable(f"no short study chain for {ast.unparse(node)}")
    base = result = _spell(node.left, calls)
    for _ in range(exponent.value - 1):
        result = _binary("*", result, base, calls)
    return result
