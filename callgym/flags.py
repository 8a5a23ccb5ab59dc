"""argparse types for numeric flags: a value that makes no sense (``--n -5``, ``--n 0``,
``--temperature nan``) stops at parse time, with one line naming the flag, the value and
what it must be, before anything loads.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def _integer(minimum: int, what: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer; pass {what}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r}: pass {what}")
        return value

    parse.__name__ = what  # argparse names the type in some messages
    return parse


positive_int = _integer(1, "a positive integer, e.g. 10")
count = _integer(0, "an integer >= 0")


def non_negative_float(text: str) -> float:
    """A finite float >= 0 (temperatures: 0 is greedy)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; pass a number >= 0, e.g. 0.7") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"{text!r}: pass a finite number >= 0, e.g. 0.7")
    return value
