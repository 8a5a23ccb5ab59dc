"""GSM8K problem sources: local JSONL (and its errors), directories, the hub, GSM-Symbolic."""

from __future__ import annotations

import json
import os
from fractions import Fraction
from pathlib import Path

import pytest

from callgym.envs.gsm8k.data import (
    Item,
    SymbolicSource,
    final_answer,
    load_jsonl,
    number_text,
    open_source,
    parse_number,
)
from callgym.errors import ConfigError, DataError

GSM8K_DIR = os.environ.get("CALLGYM_GSM8K_DIR", "")
needs_gsm8k = pytest.mark.skipif(
    not os.path.isfile(os.path.join(GSM8K_DIR, "test.jsonl")), reason="GSM8K files not present"
)

GOOD = {
    "question": "Natalia sold 48 clips in April and half as many in May. How many in all?",
    "answer": "In May she sold 48/2 = <<48/2=24>>24 clips.\nIn all 48+24 = <<48+24=72>>72 clips.\n#### 72",
}


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "value"),
    [("72", 72), ("$1,000.00", 1000), ("18.0", 18), (18.0, 18), (18, 18), (Fraction(7, 2), Fraction(7, 2)),
     (" 12. ", 12), ("60%", 60), ("-3", -3), ("−4", -4), ("3/4", Fraction(3, 4)), (".5", Fraction(1, 2)),
     ("1e3", 1000), ("£5", 5), ("1 000", 1000)],
)
def test_parse_number_reads_answers(text: object, value: Fraction) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize(
    "text", ["", "abc", "18 dollars", "1/0", "1/2/3", True, None, float("nan"), float("inf"), [1], "9" * 200]
)
def test_parse_number_refuses_non_numbers(text: object) -> None:
    assert parse_number(text) is None


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Fraction(18), "18"),
        (Fraction(-5, 2), "-2.5"),
        (Fraction(1, 8), "0.125"),
        (Fraction(-1, 20), "-0.05"),
        (Fraction(1, 3), "1/3"),
    ],
)
def test_number_text_is_exact(value: Fraction, text: str) -> None:
    assert number_text(value) == text
    assert parse_number(text) == value


def test_final_answer_reads_the_last_marker() -> None:
    assert final_answer("a\n#### 1,234", "x:1") == "1234"
    with pytest.raises(DataError, match="x:1: the answer has no final '#### <number>' line"):
        final_answer("no marker", "x:1")
    with pytest.raises(DataError, match="x:1: the final line '#### twelve' is not a number"):
        final_answer("#### twelve", "x:1")


def test_loads_a_local_file_and_caches_it(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "mini.jsonl", [json.dumps(GOOD), "", json.dumps(GOOD)])
    items = load_jsonl(path)
    assert len(items) == 2 and items[0].answer == "72" and items[0].question.startswith("Natalia")
    assert items[1].source == f"{path}:3"  # blank lines keep the file's line numbers
    assert load_jsonl(str(path)) is items  # parsed once per path


def test_cache_notices_a_changed_file(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "mini.jsonl", [json.dumps(GOOD)])
    assert len(load_jsonl(path)) == 1
    write_jsonl(path, [json.dumps(GOOD)] * 3)
    assert len(load_jsonl(path)) == 3


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", r":2: not valid JSON"),
        ("[1, 2]", r":2: expected a JSON object, got list"),
        (json.dumps({"question": "q"}), r":2: missing or empty field 'answer'"),
        (json.dumps({"question": "", "answer": "#### 1"}), r":2: missing or empty field 'question'"),
        (
            json.dumps({"question": "q", "answer": "no final line"}),
            r":2: the answer has no final '#### <number>' line",
        ),
        (
            json.dumps({"question": "q", "answer": "#### many"}),
            r":2: the final line '#### many' is not a number",
        ),
    ],
)
def test_malformed_lines_name_path_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", [json.dumps(GOOD), line])
    with pytest.raises(DataError, match=message) as err:
        load_jsonl(path)
    assert str(err.value).startswith(f"{path}:2: ")


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such GSM8K file; pass data=PATH"):
        load_jsonl(tmp_path / "nope.jsonl")
    with pytest.raises(DataError, match="holds no problems"):
        load_jsonl(write_jsonl(tmp_path / "empty.jsonl", [""]))


def test_directory_and_split(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "test.jsonl", [json.dumps(GOOD)])
    assert len(open_source(tmp_path, "test")) == 1
    with pytest.raises(DataError, match=r"train.jsonl: no such file \(it has: test\); pass split="):
        open_source(str(tmp_path), "train")


def test_gsm8k_name_uses_the_directory_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_jsonl(tmp_path / "test.jsonl", [json.dumps(GOOD)] * 2)
    monkeypatch.setenv("CALLGYM_GSM8K_DIR", str(tmp_path))
    assert len(open_source("gsm8k", "test")) == 2


def test_hub_failure_says_to_pass_a_local_path(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("datasets")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")  # no network in tests: the load must fail
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DataError, match="could not load 'openai/gsm8k' split 'validation'.*pass data=PATH"):
        open_source("openai/gsm8k", "validation")


def test_bad_data_argument() -> None:
    with pytest.raises(ConfigError, match="data=3"):
        open_source(3)  # type: ignore[arg-type]


@needs_gsm8k
def test_full_dataset_loads_fast_and_completely() -> None:
    test = load_jsonl(os.path.join(GSM8K_DIR, "test.jsonl"))
    train = load_jsonl(os.path.join(GSM8K_DIR, "train.jsonl"))
    assert (len(test), len(train)) == (1319, 7473)
    assert test[0].answer == "18" and isinstance(test[0], Item)
    assert all(parse_number(item.answer) is not None for item in train)


# ----------------------------------------------------------------------------- GSM-Symbolic


def test_symbolic_items_are_seeded_by_index() -> None:
    pytest.importorskip("reasoning_gym")
    small, large = SymbolicSource(seed=7, size=5), SymbolicSource(seed=7, size=50)
    assert [small[i] for i in range(5)] == [large[i] for i in range(5)]  # item i ignores size
    other = SymbolicSource(seed=8, size=5)
    assert [small[i].question for i in range(5)] != [other[i].question for i in range(5)]
    item = small[3]
    assert parse_number(item.answer) is not None and item.solution.rstrip().endswith(item.answer)
    assert item.source == "gsm_symbolic(seed=7)[3]"
    with pytest.raises(IndexError):
        small[5]


def test_symbolic_answers_are_numbers() -> None:
    pytest.importorskip("reasoning_gym")
    source = SymbolicSource(seed=0, size=300)
    assert all(parse_number(item.answer) is not None for item in source)
    assert len(source[:4]) == 4


def test_symbolic_seed_must_be_an_integer() -> None:
    with pytest.raises(ConfigError, match="data_seed"):
        SymbolicSource(seed="x")  # type: ignore[arg-type]
