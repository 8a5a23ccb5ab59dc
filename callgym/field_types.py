"""Type checks for records and configs read from users' files (episodes JSONL, YAML configs):
a value of the wrong JSON/YAML type fails on read with the field's name, instead of as a
``TypeError`` deep inside a later stage.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields
from typing import Any

from callgym.errors import DataError

MAX_INT = 2**63 - 1  # what SQLite and every JSON reader downstream can hold

_NUMBER = (int, float)
# The plain types each field annotation accepts; annotations not listed (Any, nested
# dataclasses, fields added later) are not checked here.
_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "str | None": (str, type(None)),
    "int": (int,),
    "int | None": (int, type(None)),
    "float": _NUMBER,
    "float | None": (*_NUMBER, type(None)),
    "bool": (bool,),
    "dict[str, Any]": (dict,),
    "list[str]": (list,),
    "list[dict[str, Any]]": (list,),
    "list[Step]": (list,),
}
_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true/false",
    dict: "a mapping",
    list: "a list",
    type(None): "null",
}


def check_fields(cls: type, data: dict[str, Any], prefix: str = "", label: str = "field ") -> None:
    """Check the values in ``data`` against the annotations of dataclass ``cls``.

    Raises:
        DataError: ``{label}'{prefix}{name}' must be ..., got ...`` for the first bad value:
            a wrong type (a bool is not a number), an integer past 2**63, NaN or infinity,
            a non-string item in a ``list[str]``.
    """
    for f in fields(cls):
        if f.name in data:
            check_value(data[f.name], str(f.type), f"{label}'{prefix}{f.name}'")


def check_value(value: Any, annotation: str, name: str) -> None:
    allowed = _TYPES.get(annotation)
    if allowed is None:
        return
    if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
        names = [
            "a number" if t in _NUMBER and float in allowed else _NAMES.get(t, t.__name__) for t in allowed
        ]
        want = " or ".join(dict.fromkeys(names))
        raise DataError(f"{name} must be {want}, got {shown(value)}")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        raise DataError(f"{name} = {shown(value)} is out of range (at most 2**63 - 1)")
    if isinstance(value, float) and not math.isfinite(value):
        raise DataError(f"{name} = {value} is not a finite number")
    if annotation == "list[str]":
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise DataError(f"{name}[{i}] must be a string, got {shown(item)}")


def value_type(value: Any) -> str:
    """The JSON/YAML name of a value's type, for messages."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", list: "list", dict: "mapping", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def shown(value: Any) -> str:
    """``string "nope"``, ``number 5``, ``null``: a value's type and a short rendering."""
    if value is None:
        return "null"
    text = (
        str(value) if isinstance(value, (int, float)) else json.dumps(value, ensure_ascii=False, default=str)
    )
    text = text if len(text) <= 40 else text[:37] + "..."
    return f"{value_type(value)} {text}"


def check_keys(data: Any, known: list[str], where: str) -> None:
    """``data`` must be a mapping whose keys are all in ``known`` (a "did you mean" otherwise)."""
    from callgym.registry import did_you_mean

    if not isinstance(data, dict):
        raise DataError(f"{where} must be a mapping (key: value lines), got {shown(data)}")
    for key in data:
        if key not in known:
            raise DataError(
                f"{where}: unknown key {key!r}.{did_you_mean(str(key), known)} Known keys: {', '.join(known)}"
            )
