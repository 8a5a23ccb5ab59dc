"""The GSM8K tools: the original study's calculator functions, a safe calculator, and
the reasoning and answer functions, grouped into named toolsets.

* ``"study"``: ``Sum``, ``Subtraction``, ``Product``, ``Division`` (the four functions the
  original study gave its models), ``Reasoning`` and ``Answer``.
* ``"calculator"``: ``Calculator(expression)``, ``Reasoning`` and ``Answer``.
* ``"all"``: every function above.

Every tool is stateless, so one :class:`~callgym.tools.Toolset` per toolset name is built
once and shared by every episode and every env.

>>> toolset("study").run("Sum(a=2, b=3)")
'5'
>>> toolset("calculator").run('Calculator(expression="(48 + 12) / 8")')
'7.5'
"""

from __future__ import annotations


from callgym.envs.gsm8k.calculator import evaluate
from callgym.errors import ConfigError, ToolError
from callgym.tools import Number, Tool, Toolset, reasoning_tool, tool



@tool
def Sum(a: Number, b: Number) -> Number:
    """Add two numbers and return their sum.

    Args:
        a: the first number.
        b: the second number.

    Example: Sum(a=2, b=3)
    """
    return a + b


@tool
def Subtraction(a: Number, b: Number) -> Number:
    """Subtract b from a and return the difference a - b.

    Args:
        a: the number to subtract from.
        b: the number to subtract.

    Example: Subtraction(a=10, b=4)
    """
    return a - b


@tool
def Product(a: Number, b: Number) -> Number:
    """Multiply two numbers and return their product.

    Args:
        a: the first factor.
        b: the second factor.

    Example: Product(a=6, b=7)
    """
    return a * b


@tool
def Division(a: Number, b: Number) -> Number:
    """Divide a by b and return the quotient a / b.

    Args:
        a: the dividend.
        b: the divisor (not zero).

    Example: Division(a=48, b=2)
    """
    if b == 0:
        raise ToolError("Division by zero: b must not be 0. Check the divisor.")
    return a / b


@tool
def Calculator(expression: str) -> Number:
    """Evaluate an arithmetic expression exactly: numbers, + - * / // % ** and parentheses.

    Args:
        expression: the expression, for example "(48 + 12) / 8".

    Example: Calculator(expression="(48 + 12) / 8")
    """
    return evaluate(expression)


Reasoning = reasoning_tool('Reasoning(thought="First find how many eggs are left each day.")')


@tool
def Answer(value: Number) -> Number:
    """Give the final answer as a plain number (no units, no %); this ends the task.

    Args:
        value: the final answer, for example 18 or 2.5.

    Example: Answer(value=18)
    """
    return value


STUDY_TOOLS: tuple[Tool, ...] = (Sum, Subtraction, Product, Division)
TOOLSETS: dict[str, tuple[Tool, ...]] = {
    "study": (*STUDY_TOOLS, Reasoning, Answer),
    "calculator": (Calculator, Reasoning, Answer),
    "all": (*STUDY_TOOLS, Calculator, Reasoning, Answer),
}
DEFAULT_TOOLSET = "all"
_BUILT: dict[str, Toolset] = {}


def toolset(name: str) -> Toolset:
    """The shared :class:`Toolset` called ``name`` (see :data:`TOOLSETS`).

    Raises:
        ConfigError: unknown name; the message lists the known ones.
    """
    if name not in TOOLSETS:
        from callgym.registry import did_you_mean

        raise ConfigError(
            f"tools={name!r} is not a GSM8K toolset.{did_you_mean(str(name), list(TOOLSETS))} "
            f"Use one of: {', '.join(TOOLSETS)}."
        )
    if name not in _BUILT:
        _BUILT[name] = Toolset(TOOLSETS[name])
    return _BUILT[name]
