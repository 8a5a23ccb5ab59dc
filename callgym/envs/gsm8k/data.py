"""Where GSM8K-style problems come from: local JSONL, the Hugging Face hub, GSM-Symbolic.

Every source is a sequence of :class:`Item` (question, worked solution, final answer):

* a local JSONL file in the published GSM8K format, one ``{"question": ..., "answer": ...}``
  object per line whose answer ends with a ``#### 72`` line (``data="path/test.jsonl"``),
  or a directory holding ``train.jsonl`` / ``test.jsonl`` (``data="dir", split="test"``);
* ``data="gsm8k"``: the directory named by ``$CALLGYM_GSM8K_DIR``, else the hub;
* ``data="openai/gsm8k"``: ``datasets.load_dataset("openai/gsm8k", "main")`` (online);
* ``data="gsm_symbolic"`` (the default): reasoning-gym's GSM-Symbolic templates, embedded
  and offline; item *i* is rebuilt from ``Random(seed + i)``.

Parsed files are cached per path (and modification time), so many envs over the same
7,473-line file parse it once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from callgym.errors import ConfigError, DataError
from callgym.text_files import iter_lines, parse_json

HUB_ID = "openai/gsm8k"
SYMBOLIC = "gsm_symbolic"
ENV_DIR = "CALLGYM_GSM8K_DIR"
_FORMAT = 'each line must be a JSON object {"question": ..., "answer": "... #### <number>"} (GSM8K format)'
_ANSWER_TEXT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?$")
_FILES: dict[tuple[str, int, int], tuple[Item, ...]] = {}
_HUB: dict[str, tuple[Item, ...]] = {}


@dataclass(frozen=True)
class Item:
    """One problem as published: the question, the worked solution and the final answer."""

    question: str
    solution: str  # GSM8K's answer text (with <<48/2=24>> annotations) or GSM-Symbolic's cot
    answer: str  # the final answer as plain number text: "18", "-3", "2.5"
    source: str  # where it came from, "path:line" style


# ----------------------------------------------------------------------------- numbers


def parse_number(value: Any) -> Fraction | None:
    """Read an answer as an exact number, or None: ``"$1,000.00"`` -> 1000, ``18.0`` -> 18,
    ``"3/4"`` -> 3/4.

    A trailing ``%`` is dropped (GSM8K asks "what percentage" and answers ``60``), as are
    currency signs, thousands separators, spaces and a final full stop.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (Fraction, int)):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(repr(value)) if value == value and abs(value) != float("inf") else None
    if not isinstance(value, str) or len(value) > 100:
        return None
    text = value.strip().replace("−", "-").rstrip(".").rstrip("%")
    text = re.sub(r"[\s$£€,_]", "", text)
    numerator, slash, denominator = text.partition("/")
    if not _ANSWER_TEXT.match(numerator) or (slash and not _ANSWER_TEXT.match(denominator)):
        return None
    if slash:  # "3/4": exact, unless it divides by zero
        return Fraction(numerator) / Fraction(denominator) if Fraction(denominator) else None
    return Fraction(text)


def number_text(value: Fraction) -> str:
    """Exact plain text for a number: ``18``, ``-2.5``, ``0.125`` (a fraction if it repeats)."""
    if value.denominator == 1:
        return str(value.numerator)
    den = value.denominator
    for p in (2, 5):
        while den % p == 0:
            den //= p
    if den != 1:
        return f"{value.numerator}/{value.denominator}"
    places = 0
    while (value * 10**places).denominator != 1:
        places += 1
    digits = str(abs(value * 10**places).numerator).rjust(places + 1, "0")
    sign = "-" if value < 0 else ""
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


def final_answer(solution: str, where: str) -> str:
    """The number on the solution's last ``#### X`` line, as plain text.

    Raises:
        DataError: no ``####`` line, or it does not hold a number.
    """
    marker = solution.rfind("####")
    if marker < 0:
        raise DataError(f"{where}: the answer has no final '#### <number>' line; {_FORMAT}")
    value = parse_number(solution[marker + 4 :].strip())
    if value is None:
        found = solution[marker + 4 :].strip()[:40]
        raise DataError(f"{where}: the final line '#### {found}' is not a number; write e.g. '#### 72'")
    return number_text(value)


def item_from_record(record: Any, where: str) -> Item:
    """Check one published GSM8K record and make it an :class:`Item`."""
    if not isinstance(record, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(record).__name__}; {_FORMAT}")
    for key in ("question", "answer"):
        if not isinstance(record.get(key), str) or not record[key].strip():
            raise DataError(f"{where}: missing or empty field {key!r}; {_FORMAT}")
    solution = record["answer"]
    return Item(record["question"].strip(), solution, final_answer(solution, where), where)


# ----------------------------------------------------------------------------- local files


def load_jsonl(path: str | os.PathLike[str]) -> tuple[Item, ...]:
    """Every item of a GSM8K-format JSONL file, parsed once per (path, mtime, size).

    Raises:
        DataError: missing file, or a malformed line (the message names ``path:line``).
    """
    file = Path(path).expanduser()
    try:
        stat = file.stat()
    except OSError as e:
        raise DataError(f"{file}: no such GSM8K file; pass data=PATH to a JSONL file ({e.strerror})") from e
    if not file.is_file():
        raise DataError(f"{file}: not a file; pass a JSONL file, or a directory together with split=")
    key = (str(file.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _FILES:
        _FILES[key] = _parse_file(file)
    return _FILES[key]


def _parse_file(file: Path) -> tuple[Item, ...]:
    items = []
    for lineno, line, _ in iter_lines(file, "GSM8K file", _FORMAT):
        where = f"{file}:{lineno}"
        items.append(item_from_record(parse_json(line, where), where))
    if not items:
        raise DataError(f"{file}: the file holds no problems; {_FORMAT}")
    return tuple(items)


def split_file(directory: str | os.PathLike[str], split: str) -> Path:
    """``directory/split.jsonl``, or a DataError that lists the splits the directory has."""
    folder = Path(directory).expanduser()
    file = folder / f"{split}.jsonl"
    if not file.is_file():
        found = sorted(p.stem for p in folder.glob("*.jsonl")) if folder.is_dir() else []
        have = f"it has: {', '.join(found)}" if found else "it holds no .jsonl files"
        raise DataError(f"{file}: no such file ({have}); pass split= one of those, or data=PATH to a file")
    return file


# ----------------------------------------------------------------------------- hub


def load_hub(split: str) -> tuple[Item, ...]:
    """GSM8K from the Hugging Face hub (needs ``datasets`` and a network), cached per split.

    Raises:
        DataError: ``datasets`` missing or the download failed; the message says to pass a
            local path instead.
    """
    if split not in _HUB:
        try:
            import datasets  # heavy and optional: only this source needs it

            rows = datasets.load_dataset(HUB_ID, "main", split=split)
        except Exception as e:  # import, network, cache and auth errors all end the same way
            raise DataError(
                f"could not load {HUB_ID!r} split {split!r} from the Hugging Face hub "
                f"({type(e).__name__}: {str(e)[:200]}); pass data=PATH to a local GSM8K JSONL "
                f"file, or set {ENV_DIR} to a directory holding {split}.jsonl"
            ) from e
        _HUB[split] = tuple(item_from_record(dict(r), f"{HUB_ID}[{split}]:{i}") for i, r in enumerate(rows))
    return _HUB[split]


# ----------------------------------------------------------------------------- GSM-Symbolic


class SymbolicSource(Sequence[Item]):
    """reasoning-gym's GSM-Symbolic templates: item ``i`` is rebuilt from ``Random(seed + i)``.

    The template of item ``i`` is the ``i``-th draw of ``Random(seed)``, so item ``i`` does
    not depend on ``size``. reasoning-gym is imported on first use (it takes about a second).
    """

    def __init__(self, seed: int = 0, size: int = 1000) -> None:
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ConfigError(f"data_seed={seed!r} must be an integer")
        self.seed, self.size = seed, size
        self._dataset: Any = None

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.size))]
        if not 0 <= index < self.size:
            raise IndexError(index)
        entry = self._load()[index]
        where = f"{SYMBOLIC}(seed={self.seed})[{index}]"
        solution = entry["metadata"].get("answer_cot") or f"#### {entry['answer']}"
        value = parse_number(entry["answer"])
        if value is None:  # a template bug upstream: say which item
            raise DataError(f"{where}: answer {entry['answer']!r} is not a number")
        return Item(entry["question"], solution, number_text(value), where)

    def _load(self) -> Any:
        if self._dataset is None:
            try:
                from reasoning_gym.arithmetic.gsm_symbolic.gsm_symbolic import (
                    GSMSymbolicDataset,
                    GSMSymbolicDatasetConfig,
                )
            except ImportError as e:
                raise DataError(
                    f"data={SYMBOLIC!r} needs reasoning-gym (pip install 'callgym[data]'); "
                    "or pass data=PATH to a GSM8K JSONL file"
                ) from e
            self._dataset = GSMSymbolicDataset(GSMSymbolicDatasetConfig(seed=self.seed, size=self.size))
        return self._dataset


# ----------------------------------------------------------------------------- choosing


def open_source(
    data: str | os.PathLike[str], split: str = "test", *, seed: int = 0, size: int = 1000
) -> Sequence[Item]:
    """The items named by ``data`` (see the module docstring for the spellings).

    Raises:
        ConfigError: ``data`` is not text or a path.
        DataError: the file, directory or hub dataset cannot be read.
    """
    if not isinstance(data, (str, os.PathLike)):
        names = f"'gsm8k', {HUB_ID!r} or {SYMBOLIC!r}"
        raise ConfigError(f"data={data!r}; pass a JSONL path, a directory, {names}")
    name = os.fspath(data)
    if name == SYMBOLIC:
        return SymbolicSource(seed, size)
    if name == HUB_ID:
        return load_hub(split)
    if name == "gsm8k":
        directory = os.environ.get(ENV_DIR)
        return load_jsonl(split_file(directory, split)) if directory else load_hub(split)
    if Path(name).expanduser().is_dir():
        return load_jsonl(split_file(name, split))
    return load_jsonl(name)
