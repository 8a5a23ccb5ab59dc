"""The FOL problem record and a loader for FOLIO-style JSONL files.

A FOLIO line looks like::

    {"premises": ["All dogs are animals.", "Rex is a dog."],
     "premises-FOL": ["∀x (Dog(x) → Animal(x))", "Dog(rex)"],
     "conclusion": "Rex is an animal.", "conclusion-FOL": "Animal(rex)", "label": "True"}

``premises`` and ``premises-FOL`` may also be single strings with one premise per line (as in
the FOLIO release); the label ``"Uncertain"`` is read as ``"Unknown"``. Other fields (such as
``story_id``) are ignored, except an optional integer ``difficulty``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from callgym.envs.fol.formula import FormulaError, parse
from callgym.envs.fol.prover import LABELS
from callgym.errors import DataError
from callgym.text_files import iter_lines, parse_json

FOLIO_FIELDS = ("premises", "premises-FOL", "conclusion", "conclusion-FOL", "label")
_LABELS_IN = {"True": "True", "False": "False", "Unknown": "Unknown", "Uncertain": "Unknown"}


@dataclass
class FOLProblem:
    """One problem: premises and conclusion in English and in FOLIO's unicode FOL.

    ``difficulty`` is 1..5 for generated problems and 0 for loaded ones that do not say.
    ``index`` is the item number (the line's position among a file's problems when loaded);
    ``seed`` is the generator seed (0 when loaded).
    """

    premises: list[str]
    premises_fol: list[str]
    conclusion: str
    conclusion_fol: str
    label: str
    difficulty: int
    index: int
    seed: int

    def __post_init__(self) -> None:
        if self.label not in LABELS:
            raise ValueError(f"label must be one of {LABELS}, not {self.label!r}")
        if len(self.premises) != len(self.premises_fol):
            raise ValueError(f"{len(self.premises)} premises but {len(self.premises_fol)} "
                             "premises_fol; give one formula per premise")

    def to_folio(self) -> dict[str, Any]:
        """This problem as a FOLIO-style record, which :func:`load_folio_jsonl` reads back."""
        record = asdict(self)
        record["premises-FOL"] = record.pop("premises_fol")
        record["conclusion-FOL"] = record.pop("conclusion_fol")
        record["label"] = "Uncertain" if self.label == "Unknown" else self.label
        return record


def load_folio_jsonl(path: str | Path, *, validate: bool = True) -> list[FOLProblem]:
    """Read problems from a JSONL file with FOLIO's field names.

    Args:
        path: The file; blank lines are skipped.
        validate: Also parse every formula, so a bad one is reported here with its line
            rather than later, mid-episode.

    Returns:
        The problems, ``index`` numbered from 0 in file order.

    Raises:
        DataError: (a ``ValueError``) naming the file, the line, what is wrong and the fix.
    """
    path = Path(path)
    problems: list[FOLProblem] = []
    for lineno, line, _ in iter_lines(path, "FOLIO JSONL file", "pass a JSONL file with FOLIO's fields"):
        try:
            problems.append(_problem(parse_json(line, f"{path}:{lineno}"), len(problems), validate))
        except DataError:
            raise
        except ValueError as e:
            raise DataError(f"{path}:{lineno}: {e}") from e
    if not problems:
        raise DataError(f"{path}: no problems found; write one JSON object per line with the "
                        f"fields {', '.join(FOLIO_FIELDS)}")
    return problems


def _problem(record: Any, index: int, validate: bool) -> FOLProblem:
    if not isinstance(record, dict):
        raise ValueError(  # noqa: TRY004 - bad data, reported as DataError (a ValueError)
            f"expected a JSON object, got {type(record).__name__}; write one object per line "
            f"with the fields {', '.join(FOLIO_FIELDS)}")
    missing = [name for name in FOLIO_FIELDS if name not in record]
    if missing:
        raise ValueError(f"missing field {missing[0]!r}; each line needs {', '.join(FOLIO_FIELDS)}")
    premises, formulas = _lines(record, "premises"), _lines(record, "premises-FOL")
    if len(premises) != len(formulas):
        raise ValueError(f"{len(premises)} premises but {len(formulas)} premises-FOL; give one "
                         "formula per premise, in the same order")
    conclusion, conclusion_fol = _text(record, "conclusion"), _text(record, "conclusion-FOL")
    label = _LABELS_IN.get(record["label"]) if isinstance(record["label"], str) else None
    if label is None:
        raise ValueError(f"label {record['label']!r} is not one of True, False, Uncertain "
                         "(or Unknown); fix the label")
    if validate:
        _check_formulas(formulas, conclusion_fol)
    difficulty = record.get("difficulty", 0)
    if not isinstance(difficulty, int) or isinstance(difficulty, bool) or not 0 <= difficulty <= 5:
        raise ValueError(f"difficulty {difficulty!r} is not an integer 0..5; fix or drop it")
    return FOLProblem(premises, formulas, conclusion, conclusion_fol, label, difficulty, index, 0)


def _lines(record: dict[str, Any], name: str) -> list[str]:
    """A list of strings, or one string split into its non-blank lines."""
    value = record[name]
    if isinstance(value, str):
        value = [part for part in value.splitlines() if part.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(
            f"field {name!r} must be a list of strings or one string with a premise per line, "
            f"not {type(value).__name__}")
    if not value:
        raise ValueError(f"field {name!r} is empty; give at least one premise")
    return [v.strip() for v in value]


def _text(record: dict[str, Any], name: str) -> str:
    value = record[name]
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"field {name!r} must be a non-empty string")
    return value.strip()


def _check_formulas(premises_fol: list[str], conclusion_fol: str) -> None:
    named = [(f"premises-FOL[{i}]", text) for i, text in enumerate(premises_fol)]
    for where, text in [*named, ("conclusion-FOL", conclusion_fol)]:
        try:
            parse(text)
        except FormulaError as e:
            shown = text if len(text) <= 80 else text[:77] + "..."
            raise ValueError(f"{where} {shown!r}: {e}; fix the formula or load with "
                             "validate=False") from e
