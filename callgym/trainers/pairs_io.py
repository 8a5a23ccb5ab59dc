"""Preference pairs on disk: the dataset, its JSONL twin, the summary and the used problems.

``save_pairs(pairs, DIR)`` writes

* the HF dataset itself (``datasets.load_from_disk(DIR)`` or :func:`load_pairs`),
* ``pairs.jsonl``: the same records, one JSON object a line,
* ``summary.json``: pairs per env and per problem, chains kept and dropped, rejection
  reasons, mean lengths, the settings and source files,
* ``used_problems.json``: the ``(env_id, env_kwargs, index)`` that gave pairs, so that
  benchmarks can exclude them.

``callgym pairs RUNS... --out DIR`` (callgym/commands.py) is the command line over it.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from callgym.errors import DataError
from callgym.json_text import without_surrogates
from callgym.trainers.pairs import PairSet, stats_dict

log = logging.getLogger(__name__)


def _mean(values: Sequence[float]) -> float:
    return round(sum(values) / len(values), 2) if values else 0.0


def _lengths(records: list[dict[str, Any]]) -> dict[str, float]:
    """Mean sizes of prompts and chains: messages, assistant turns and characters."""
    out = {"prompt_chars": _mean([sum(len(m["content"]) for m in r["prompt"]) for r in records])}
    for side in ("chosen", "rejected"):
        chains = [r[side] for r in records]
        out[f"{side}_messages"] = _mean([len(c) for c in chains])
        out[f"{side}_assistant_turns"] = _mean([sum(m["role"] == "assistant" for m in c) for c in chains])
        out[f"{side}_chars"] = _mean([sum(len(m["content"]) for m in c) for c in chains])
    return out


def _per_env(pairs: PairSet) -> dict[str, dict[str, Any]]:
    """Problems, chains and pairs of each env, and why its rejected chains failed."""
    envs: dict[str, Counter[str]] = {}
    for p in pairs.problems:
        envs.setdefault(p.env_id, Counter()).update(
            pairs=p.pairs,
            problems_seen=1,
            problems_used=int(p.pairs > 0),
            chosen_chains=p.chosen,
            rejected_chains=p.rejected,
            duplicates_dropped=p.duplicates,
            combinations=p.combinations,
            problems_without_correct=int(not p.chosen),
            problems_without_incorrect=int(not p.rejected),
        )
    reasons: dict[str, Counter[str]] = {}
    kinds: dict[str, Counter[str]] = {}
    for r in pairs.records:
        reasons.setdefault(r["env_id"], Counter())[r["rejected_reason"]] += 1
        kinds.setdefault(r["env_id"], Counter())[r.get("rejected_error_type") or "none"] += 1
    return {
        e: {**c, "rejected_reasons": dict(reasons.get(e, {})), "rejected_error_types": dict(kinds.get(e, {}))}
        for e, c in sorted(envs.items())
    }


def summarize(pairs: PairSet) -> dict[str, Any]:
    """The summary written to ``summary.json``."""
    per_problem = [p.pairs for p in pairs.problems if p.pairs] or [0]
    return {
        "num_pairs": len(pairs.records),
        "num_problems": sum(1 for p in pairs.problems if p.pairs),
        "settings": pairs.settings,
        "episodes": pairs.episodes,
        "envs": _per_env(pairs),
        "pairs_per_problem": {"min": min(per_problem), "mean": _mean(per_problem), "max": max(per_problem)},
        "lengths": _lengths(pairs.records),
        "prompt_mismatches": sum(not r["prompt_matches"] for r in pairs.records),
        "chosen_agents": dict(Counter(r["chosen_agent"] for r in pairs.records)),
        "problems": [stats_dict(p) for p in pairs.problems],
    }


def save_pairs(pairs: PairSet, out: str | os.PathLike[str]) -> dict[str, str]:
    """Write the dataset, ``pairs.jsonl``, ``summary.json`` and ``used_problems.json`` to ``out``.

    Returns:
        The path of each thing written, by name (``dataset`` is ``out`` itself).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / name for name in ("pairs.jsonl", "summary.json", "used_problems.json")}
    pairs.to_dataset().save_to_disk(str(out))
    with paths["pairs.jsonl"].open("w", encoding="utf-8") as f:
        for record in pairs.records:
            f.write(json.dumps(without_surrogates(record), ensure_ascii=False) + "\n")
    paths["summary.json"].write_text(
        json.dumps(summarize(pairs), indent=2, default=str) + "\n", encoding="utf-8"
    )
    paths["used_problems.json"].write_text(
        json.dumps(pairs.used_problems(), indent=1) + "\n", encoding="utf-8"
    )
    log.info("wrote %d pairs to %s", len(pairs), out)
    return {"dataset": str(out), **{k: str(v) for k, v in paths.items()}}


def load_pairs(path: str | os.PathLike[str]) -> Any:
    """Load the pairs :func:`save_pairs` wrote (a folder), or any TRL-format JSONL file."""
    import datasets

    path = Path(path)
    try:
        if path.is_dir() and (path / "state.json").is_file():
            dataset = datasets.load_from_disk(str(path))
        elif path.is_file() and path.suffix in (".jsonl", ".json"):
            dataset = datasets.Dataset.from_json(str(path))
        else:
            raise DataError(
                f"{path}: not a pairs folder or JSONL file; build one with `callgym pairs RUNS --out DIR`"
            )
    except DataError:
        raise
    except Exception as e:  # datasets raises many types for a damaged folder or file
        raise DataError(
            f"{path}: cannot read the pairs ({e}); rebuild them with `callgym pairs RUNS --out DIR`"
        ) from e
    missing = {"prompt", "chosen", "rejected"} - set(dataset.column_names)
    if missing or len(dataset) == 0:
        raise DataError(
            f"{path}: needs non-empty 'prompt', 'chosen' and 'rejected' columns (missing: {sorted(missing)})"
        )
    return dataset
