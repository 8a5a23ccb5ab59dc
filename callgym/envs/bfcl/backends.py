"""One entry's BFCL backend instances, and calls dispatched to them exactly as BFCL would.

BFCL's own runner rewrites each call string into ``instance.method(...)`` and ``eval()``s
it. Here a :class:`~callgym.calls.Call` (already parsed into literals) is dispatched by
name to the bound method; the result is turned into text by BFCL's rules (``str`` as is,
``dict`` as JSON, anything else through ``str``; an exception becomes ``"Error during
execution: ..."``), so a call gives the same text and the same state as in BFCL.

Two bounds BFCL lacks keep every call cheap whatever the model writes: huge integer
powers and huge precisions are refused before they run (see :data:`COST_GUARDS`).
"""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import math
from collections.abc import Callable
from typing import Any

from callgym.calls import Call
from callgym.envs.bfcl.data import Entry

# BFCL refuses these names before its eval (bfcl_eval's multi_turn_utils); kept for parity.
FORBIDDEN = ("kill", "exit", "quit", "remove", "unlink", "popen", "Popen", "run")
MAX_PRECISION = 1_000  # digits; mpmath / Decimal at 10**9 digits would run for hours
MAX_POWER_BITS = 100_000  # an integer power beyond this is too large to print anyway


class Scenario:
    """The involved classes of one entry, instantiated from the wheel with its initial state.

    >>> from callgym.envs.bfcl.data import load_entries
    >>> scenario = Scenario(load_entries("base")[1])
    >>> scenario.run(Call("ls", (), {"a": True}))
    '{"current_directory_content": ["workspace"]}'
    """

    def __init__(self, entry: Entry) -> None:
        from bfcl_eval.constants.executable_backend_config import CLASS_FILE_PATH_MAPPING, STATELESS_CLASSES

        self.instances: dict[str, Any] = {}
        self.methods: dict[str, Callable[..., Any]] = {}
        self.log: list[str] = []  # every call's result text, in order
        for class_name in entry.involved_classes:
            cls = getattr(importlib.import_module(CLASS_FILE_PATH_MAPPING[class_name]), class_name)
            instance = cls()
            if class_name not in STATELESS_CLASSES:
                config = copy.deepcopy(entry.initial_config.get(class_name, {}))
                instance._load_scenario(config, long_context=entry.long_context)
            self.instances[class_name] = instance
            # Public methods by name; a later class wins a clash, as in BFCL's mapping.
            for name, method in inspect.getmembers(instance, predicate=inspect.ismethod):
                if not name.startswith("_"):
                    self.methods[name] = method

    def run(self, call: Call) -> str:
        """Execute one call; the text BFCL's runner would record for it."""
        self.log.append(self._run(call))
        return self.log[-1]

    def _run(self, call: Call) -> str:
        try:
            if call.name in FORBIDDEN:
                raise PermissionError(f"Function call {call.name} is not allowed.")
            method = self.methods.get(call.name)
            if method is None:
                raise NameError(f"name '{call.name}' is not defined")
            _check_cost(method, call)
            return result_text(method(*call.args, **call.kwargs))
        except Exception as e:  # BFCL records every failure of a call as its result text
            return f"Error during execution: {e}"


def result_text(result: Any) -> str:
    """BFCL's rendering of a backend's return value."""
    if type(result) is str:
        return result
    if type(result) is dict:
        try:
            return json.dumps(result)
        except (TypeError, ValueError):  # BFCL's bare except; objects that JSON cannot hold
            return str(result)
    return str(result)


def _check_cost(method: Callable[..., Any], call: Call) -> None:
    """Refuse arguments that would make a backend run for minutes (BFCL does not check)."""
    try:
        bound = inspect.signature(method).bind(*call.args, **call.kwargs).arguments
    except TypeError:
        return  # the call itself raises Python's own message, as in BFCL
    for guard in COST_GUARDS.get(call.name, ()):
        guard(bound)


def _bounded_precision(bound: dict[str, Any]) -> None:
    precision = bound.get("precision")
    if isinstance(precision, (int, float)) and abs(precision) > MAX_PRECISION:
        raise ValueError(f"precision {precision} is too large (limit {MAX_PRECISION} digits)")


def _bounded_power(bound: dict[str, Any]) -> None:
    base, exponent = bound.get("base"), bound.get("exponent")
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
        if exponent * math.log2(abs(base) + 1) > MAX_POWER_BITS:
            raise OverflowError(f"{base} ** {exponent} is too large (limit {MAX_POWER_BITS:,} bits)")


COST_GUARDS: dict[str, tuple[Callable[[dict[str, Any]], None], ...]] = {
    "logarithm": (_bounded_precision,),
    "square_root": (_bounded_precision,),
    "power": (_bounded_power,),
}
