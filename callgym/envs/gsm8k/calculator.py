"""A safe arithmetic evaluator over exact rationals, with bounded cost.

The model's expression is parsed with :func:`ast.parse` (which only builds a tree) and the
tree is walked by hand: numbers, ``+ - * / // % **``, unary minus and parentheses, nothing
else. Nothing is ever evaluated by Python or sympy. Every bound is checked *before* the
work it guards: the text length and bracket depth before parsing, the node count before
walking, and the digits a power would produce (estimated from ``log10``) before computing
it, so ``9**99999999``, ``1e308*1e308``, 10 MB of text or deep nesting answer with an error
message in microseconds.

>>> evaluate("16 - 3 - 4")
Fraction(9, 1)
>>> evaluate("80,000 * 1.5")
Fraction(120000, 1)
>>> evaluate("9**99999999")
Traceback (most recent call last):
...
callgym.errors.ToolError: 9**99999999 would have about 95424250 digits; the limit is 400.
"""

from __future__ import annotations

import ast
import math
import re
from fractions import Fraction

from callgym.errors import ToolError
from callgym.tools import MAX_NUMBER_DIGITS

MAX_EXPRESSION_CHARS = 300
MAX_DEPTH = 20  # brackets nested inside each other
MAX_NODES = 400  # AST nodes (operators count twice): about 130 numbers with their operators

OPERATORS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
}
# Spellings people (and models) use for the same operators; "^" means power, not xor.
_SYMBOLS = str.maketrans({"×": "*", "÷": "/", "−": "-", "–": "-", "$": None, "£": None, "€": None})
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")


def normalize(expression: str) -> str:
    """Rewrite common spellings (``×``, ``÷``, ``^``, ``$``, ``1,000``) into Python syntax."""
    text = expression.translate(_SYMBOLS).replace("^", "**")
    return _THOUSANDS.sub("", text).strip()


def parse_expression(expression: str) -> ast.expr:
    """Parse and check an expression; return the root node of its tree.

    Raises:
        ToolError: too long, too deep, not arithmetic, or not valid syntax.
    """
    if not isinstance(expression, str):
        raise ToolError(f"The expression must be text, got {type(expression).__name__}.")
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ToolError(
            f"The expression is {len(expression):,} characters long; the limit is "
            f"{MAX_EXPRESSION_CHARS}. Compute it in smaller steps."
        )
    text = normalize(expression)
    if not text:
        raise ToolError('The expression is empty. Write one, for example "48 / 2".')
    _check_depth(text)
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        hint = " ('%' is the remainder here: write 12/100 for 12%.)" if "%" in text else ""
        detail = getattr(e, "msg", e)
        raise ToolError(f"{_clip(expression)} is not a valid expression ({detail}).{hint} {_USAGE}") from e
    nodes = sum(1 for _ in ast.walk(tree))
    if nodes > MAX_NODES:
        raise ToolError(f"The expression has too many parts ({nodes}). Compute it in smaller steps.")
    return tree.body


def _check_depth(text: str) -> None:
    depth = deepest = 0
    for ch in text:
        if ch == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == ")":
            depth -= 1
    if deepest > MAX_DEPTH:
        raise ToolError(f"The expression nests brackets {deepest} deep; the limit is {MAX_DEPTH}.")


def evaluate(expression: str) -> Fraction:
    """Evaluate an arithmetic expression exactly.

    Raises:
        ToolError: the expression is not plain arithmetic, divides by zero, or its result
            (or an intermediate one) would exceed the size limits.
    """
    return evaluate_node(parse_expression(expression), expression)


def evaluate_node(node: ast.expr, source: str) -> Fraction:
    """Evaluate one checked node (from :func:`parse_expression`; its node count bounds the
    recursion here, so a long chain like ``1+1+...+1`` is fine and nothing goes deep)."""
    if isinstance(node, ast.Constant):
        return constant(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = evaluate_node(node.operand, source)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        left = evaluate_node(node.left, source)
        right = evaluate_node(node.right, source)
        return apply(OPERATORS[type(node.op)], left, right, source)
    raise ToolError(f"{_clip(source)}: {_why_not_allowed(node)} {_USAGE}")


def constant(value: object) -> Fraction:
    """A number literal as an exact rational (``0.1`` is one tenth)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ToolError(f"{value!r} is not a number. {_USAGE}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ToolError(f"A number is too large: numbers have at most {MAX_NUMBER_DIGITS} digits.")
    return _bounded(Fraction(repr(value)) if isinstance(value, float) else Fraction(value), "the number")


def apply(op: str, a: Fraction, b: Fraction, source: str = "") -> Fraction:
    """Apply one binary operator; the operands are already within the size limits."""
    if op in ("/", "//", "%") and b == 0:
        raise ToolError(f"{_clip(source) or op}: division by zero. Check the divisor.")
    if op == "**":
        return power(a, b, source)
    # The operands have at most MAX_NUMBER_DIGITS digits, so these cost microseconds.
    if op == "+":
        result = a + b
    elif op == "-":
        result = a - b
    elif op == "*":
        result = a * b
    elif op == "/":
        result = a / b
    elif op == "//":
        result = Fraction(a // b)
    else:
        result = a % b
    return _bounded(result, _clip(source) or "the result")


def power(base: Fraction, exponent: Fraction, source: str = "") -> Fraction:
    """``base ** exponent`` for a whole exponent, refused before computing if too large."""
    where = _clip(source) or f"{base}**{exponent}"
    if exponent.denominator != 1:
        raise ToolError(f"{where}: the exponent must be a whole number (exact arithmetic only).")
    e = exponent.numerator
    if base == 0 and e < 0:
        raise ToolError(f"{where}: division by zero (0 to a negative power).")
    if e == 0 or base == 1:
        return Fraction(1)
    if base in (0, -1):  # never grow, whatever the exponent
        return base ** (2 - e % 2)
    if abs(e) > 10**300:  # beyond float range; the base is at least 2 in size, so far too big
        raise ToolError(f"{where} would have astronomically many digits; the limit is {MAX_NUMBER_DIGITS}.")
    # The digits the result would have, estimated before anything is computed.
    digits = abs(e) * math.log10(max(abs(base.numerator), base.denominator))
    if digits > MAX_NUMBER_DIGITS:
        limit = MAX_NUMBER_DIGITS
        raise ToolError(f"{where} would have about {math.ceil(digits)} digits; the limit is {limit}.")
    return _bounded(base**e, where)


def _bounded(value: Fraction, what: str) -> Fraction:
    limit_bits = MAX_NUMBER_DIGITS * 3.33  # log2(10) bits per digit, rounded down
    if value.numerator.bit_length() > limit_bits or value.denominator.bit_length() > limit_bits:
        raise ToolError(f"{what}: the result is too large (more than {MAX_NUMBER_DIGITS} digits).")
    return value


_USAGE = 'Use numbers with + - * / // % ** and parentheses, for example "(48 + 12) / 2".'


def _why_not_allowed(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return f"{node.id!r} is a name; the calculator takes numbers only, so write its value."
    if isinstance(node, ast.Call):
        return "functions are not available inside the calculator."
    if isinstance(node, (ast.Tuple, ast.List)):
        return "commas separate values; write one expression (thousands as 1000 or 1,000)."
    if isinstance(node, ast.BinOp):
        return f"the operator {type(node.op).__name__} is not available."
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return "quotes inside the expression are not allowed."
    return f"{type(node).__name__} is not arithmetic."


def _clip(text: str, limit: int = 60) -> str:
    text = text if isinstance(text, str) else repr(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."
