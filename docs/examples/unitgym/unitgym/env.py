"""Unit conversion: convert a quantity to another unit with the ``Factor`` table and arithmetic.

Difficulty 1: metric to metric (``3.5 km`` to ``m``). Difficulty 2: imperial to metric
(``12 ft`` to ``cm``). Difficulty 3: a speed (``90 km/h`` to ``m/s``: two factors).
Problem *i* of a split is built from its own ``random.Random``, so ``(seed, index)``
reproduces it exactly, and the two splits never share a problem. ``data=PATH`` reads your
own problems instead: a JSONL file of ``{"value": 3.5, "from": "km", "to": "m"}`` lines.

>>> import callgym, unitgym
>>> env = callgym.make("unitgym/Units-v0")
>>> obs, info = env.reset(seed=0, options={"index": 0})
>>> env.step("Factor(from_unit='km', to_unit='m')")[0]
'1000'
"""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Any

from callgym.envs.base import Problem, ToolEnv
from callgym.errors import ConfigError, DataError, ToolError
from callgym.text_files import iter_lines, parse_json
from callgym.tools import Number, Toolset, format_number as num, tool

# Every unit as an exact multiple of its dimension's base unit (m, kg, s).
UNITS: dict[str, tuple[str, Fraction]] = {
    "mm": ("length", Fraction(1, 1000)),
    "cm": ("length", Fraction(1, 100)),
    "m": ("length", Fraction(1)),
    "km": ("length", Fraction(1000)),
    "in": ("length", Fraction("0.0254")),
    "ft": ("length", Fraction("0.3048")),
    "mi": ("length", Fraction("1609.344")),
    "g": ("mass", Fraction(1, 1000)),
    "kg": ("mass", Fraction(1)),
    "lb": ("mass", Fraction("0.45359237")),
    "oz": ("mass", Fraction("0.45359237") / 16),
    "s": ("time", Fraction(1)),
    "min": ("time", Fraction(60)),
    "h": ("time", Fraction(3600)),
}
METRIC = ("mm", "cm", "m", "km", "g", "kg")
IMPERIAL = ("in", "ft", "mi", "lb", "oz")
SPLITS = ("train", "test")


@tool
def Factor(from_unit: str, to_unit: str) -> Number:
    """How many ``to_unit`` make one ``from_unit`` (both of the same dimension).

    Args:
        from_unit: the unit to convert from, e.g. "km" (mm, cm, m, km, in, ft, mi, g, kg, lb, oz, s, min, h).
        to_unit: the unit to convert to, e.g. "m".

    Example: Factor(from_unit="km", to_unit="m")
    """
    for unit in (from_unit, to_unit):
        if unit not in UNITS:
            raise ToolError(f"unknown unit {unit[:20]!r}; use one of {', '.join(UNITS)}")
    (dim_a, a), (dim_b, b) = UNITS[from_unit], UNITS[to_unit]
    if dim_a != dim_b:
        raise ToolError(f"cannot convert {dim_a} ({from_unit}) to {dim_b} ({to_unit})")
    return a / b


@tool
def Multiply(a: Number, b: Number) -> Number:
    """Multiply two numbers.

    Example: Multiply(a=3.5, b=1000)
    """
    return a * b


@tool
def Divide(a: Number, b: Number) -> Number:
    """Divide a by b.

    Example: Divide(a=90000, b=3600)
    """
    if b == 0:
        raise ToolError("division by zero")
    return a / b


@tool
def Answer(value: Number) -> Number:
    """Give the converted quantity, a number without its unit.

    Example: Answer(3500)
    """
    return value


TOOLS = Toolset([Factor, Multiply, Divide, Answer])  # stateless: one set serves every episode


class UnitsEnv(ToolEnv):
    """Unit conversion: metric, imperial and rates, with a conversion-factor table as a tool."""

    instructions = "Convert the quantity. Use Factor for every conversion factor; do not recall them."

    def __init__(
        self, split: str = "train", size: int = 1000, data: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if split not in SPLITS:
            raise ConfigError(f"split={split!r}; use one of {', '.join(SPLITS)}")
        if size < 1:
            raise ConfigError(f"size={size} must be at least 1")
        self.split, self.size = split, size
        self.records = load_conversions(data) if data else None

    def num_problems(self) -> int:
        return len(self.records) if self.records is not None else self.size

    def load_problem(self, index: int) -> Problem:
        if self.records is not None:
            value, source, target = self.records[index]
            return self._problem(index, 1 + (source in IMPERIAL), value, (source, target), ("", ""))
        rng = random.Random(f"unitgym-{self.split}-{index}")
        value = Fraction(rng.randint(1, 400), rng.choice([1, 2, 4, 10]))
        level = index % 3 + 1
        if level == 3:
            (source, target), (per, to_per) = rng.choice([("km", "m"), ("mi", "m"), ("m", "cm")]), ("h", "s")
        else:
            source = rng.choice(METRIC if level == 1 else IMPERIAL)
            target = rng.choice([u for u in METRIC if UNITS[u][0] == UNITS[source][0] and u != source])
            per = to_per = ""
        return self._problem(index, level, value, (source, target), (per, to_per))

    def _problem(
        self, index: int, level: int, value: Fraction, units: tuple[str, str], per: tuple[str, str]
    ) -> Problem:
        """The task and the oracle's chain: look the factors up, then compute with the numbers
        as the results show them (as a model would)."""
        factor = UNITS[units[0]][1] / UNITS[units[1]][1]
        gold = [
            f"Factor(from_unit={units[0]!r}, to_unit={units[1]!r})",
            f"Multiply(a={num(value)}, b={num(factor)})",
        ]
        result = Fraction(num(value)) * Fraction(num(factor))
        if per[0]:
            time_factor = UNITS[per[0]][1] / UNITS[per[1]][1]
            gold[1:1] = [f"Factor(from_unit={per[0]!r}, to_unit={per[1]!r})"]
            gold.append(f"Divide(a={num(result)}, b={num(time_factor)})")
            result = Fraction(num(result)) / time_factor
            factor /= time_factor
        gold.append(f"Answer({num(result)})")
        quantity = f"{num(value)} {units[0]}" + (f"/{per[0]}" if per[0] else "")
        prompt = f"Convert {quantity} to {units[1]}" + (f"/{per[1]}." if per[1] else ".")
        return Problem(index, prompt, value * factor, tuple(gold), difficulty=level)

    def make_toolset(self, problem: Problem) -> Toolset:
        return TOOLS

    def score(self, answer: Any, problem: Problem) -> float:
        """1.0 within a relative 1e-6 of the exact value (results are shown to 10 decimals)."""
        return float(abs(answer - problem.answer) <= abs(problem.answer) * Fraction(1, 10**6))


def load_conversions(path: str) -> list[tuple[Fraction, str, str]]:
    """Read ``{"value": 3.5, "from": "km", "to": "m"}`` lines; a DataError names file:line."""
    records = []
    for number, line, _ in iter_lines(path, "unitgym data file", "pass data=PATH to a JSONL file"):
        record = parse_json(line, f"{path}:{number}")
        try:
            value, source, target = Fraction(str(record["value"])), record["from"], record["to"]
            Factor.fn(source, target)  # known units of one dimension
        except (KeyError, TypeError, ValueError, ToolError) as e:
            raise DataError(
                f'{path}:{number}: {e}; write {{"value": 3.5, "from": "km", "to": "m"}}'
            ) from None
        records.append((value, source, target))
    if not records:
        raise DataError(f"{path}: no problems in the file")
    return records
