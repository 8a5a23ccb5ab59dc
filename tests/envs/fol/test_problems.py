from __future__ import annotations

import json
from pathlib import Path

import pytest

from callgym.envs.fol import generate, load_folio_jsonl
from callgym.errors import DataError

GOOD = {
    "premises": ["All dogs are animals.", "Rex is a dog."],
    "premises-FOL": ["∀x (Dog(x) → Animal(x))", "Dog(rex)"],
    "conclusion": "Rex is an animal.",
    "conclusion-FOL": "Animal(rex)",
    "label": "True",
    "story_id": 7,
}


def _write(tmp_path: Path, *lines: object) -> Path:
    path = tmp_path / "problems.jsonl"
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)
                              for line in lines) + "\n", encoding="utf-8")
    return path


def test_loads_folio_records(tmp_path: Path) -> None:
    newline_style = {**GOOD, "premises": "All dogs are animals.\nRex is a dog.\n",
                     "premises-FOL": "∀x (Dog(x) → Animal(x))\nDog(rex)", "label": "Uncertain"}
    problems = load_folio_jsonl(_write(tmp_path, GOOD, "", newline_style))
    assert [p.index for p in problems] == [0, 1]
    assert problems[0].premises_fol == ["∀x (Dog(x) → Animal(x))", "Dog(rex)"]
    assert problems[1].premises == ["All dogs are animals.", "Rex is a dog."]
    assert [p.label for p in problems] == ["True", "Unknown"]
    assert problems[0].difficulty == 0 and problems[0].seed == 0


def test_generated_problems_round_trip_through_jsonl(tmp_path: Path) -> None:
    originals = [generate(i, seed=4) for i in range(12)]
    loaded = load_folio_jsonl(_write(tmp_path, *(p.to_folio() for p in originals)))
    for original, again in zip(originals, loaded):
        assert (again.premises, again.premises_fol, again.conclusion, again.conclusion_fol, again.label,
                again.difficulty) == (original.premises, original.premises_fol, original.conclusion,
                                      original.conclusion_fol, original.label, original.difficulty)


@pytest.mark.parametrize("bad, fragment", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "expected a JSON object, got list"),
    ({k: v for k, v in GOOD.items() if k != "conclusion-FOL"}, "missing field 'conclusion-FOL'"),
    ({**GOOD, "premises-FOL": ["Dog(rex)"]}, "2 premises but 1 premises-FOL"),
    ({**GOOD, "label": "Maybe"}, "label 'Maybe' is not one of True, False, Uncertain"),
    ({**GOOD, "premises": 3}, "field 'premises' must be a list of strings"),
    ({**GOOD, "premises": [], "premises-FOL": []}, "field 'premises' is empty"),
    ({**GOOD, "conclusion": ""}, "field 'conclusion' must be a non-empty string"),
    ({**GOOD, "premises-FOL": ["∀x (Dog(x) → Animal(x)", "Dog(rex)"]},
     "premises-FOL[0] '∀x (Dog(x) → Animal(x)': unexpected end of formula"),
    ({**GOOD, "conclusion-FOL": "x = y"}, "conclusion-FOL 'x = y': equality"),
    ({**GOOD, "difficulty": 9}, "difficulty 9 is not an integer 0..5"),
])
def test_errors_name_the_file_and_line(tmp_path: Path, bad: object, fragment: str) -> None:
    path = _write(tmp_path, GOOD, bad)
    with pytest.raises(DataError) as info:
        load_folio_jsonl(path)
    message = str(info.value)
    assert message.startswith(f"{path}:2: ")
    assert fragment in message
    assert isinstance(info.value, ValueError)


def test_unparsable_formulas_load_without_validation(tmp_path: Path) -> None:
    path = _write(tmp_path, {**GOOD, "conclusion-FOL": "x = y"})
    assert load_folio_jsonl(path, validate=False)[0].conclusion_fol == "x = y"


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such FOLIO JSONL file"):
        load_folio_jsonl(tmp_path / "nope.jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(DataError, match="no problems found"):
        load_folio_jsonl(empty)
