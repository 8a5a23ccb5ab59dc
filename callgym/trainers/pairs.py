"""Preference pairs from episodes: correct chains of a problem against incorrect ones.

Episodes are grouped by problem, ``(env_id, env_kwargs, index)``. A chain is the part of an
episode's chat after the prompt (system + task): assistant replies alternating with the
env's results as user messages, up to the last reply (the final "answer recorded" or "episode
is over" text carries no model tokens and would leak the label, so it is dropped).

* chosen (Dw): correct chains, from any agent unless ``chosen_agents`` narrows it
  (oracle, teacher, student);
* rejected (Dl): incorrect chains (wrong answer, invalid calls, truncated), by default from
  the ``student`` only, i.e. on-policy; ``rejected_error_types`` keeps only the chains with
  an invalid reply of one of those types (:mod:`callgym.error_types`), and every pair is
  labelled with its rejected chain's error types (``rejected_error_type``: the first
  invalid reply's, ``rejected_error_types``: all of them in order, comma-separated; ""
  for a chain without invalid replies);
* identical chains (same assistant and env messages) are kept once per side;
* ``augment=True`` pairs every chosen with every rejected chain, |Dw| x |Dl| (the original
  study's augmentation); ``augment=False`` shuffles both sides (seeded) and zips them, so
  each chain is used at most once: min(|Dw|, |Dl|) pairs;
* leading turns both chains share (bootstrap calls and their results) move into the prompt,
  so chosen and rejected start where they part;
* ``cap`` bounds the pairs of one problem by seeded sampling, so an easy problem with many
  correct and incorrect samples cannot flood the set. The sample depends only on
  ``(seed, problem)``, not on file order or on the other problems.

The result is TRL's conversational preference format: ``prompt``, ``chosen`` and
``rejected`` message lists, plus provenance columns (env, problem, agents, reason).

>>> from callgym.episode import Episode
>>> def ep(agent, correct, reply):
...     chat = [{"role": "system", "content": "S"}, {"role": "user", "content": "1 + 1?"},
...             {"role": "assistant", "content": reply}, {"role": "user", "content": "ok"}]
...     return Episode(env_id="toy", index=0, agent=agent, correct=correct, messages=chat)
>>> pairs = build_pairs([ep("oracle", True, "Answer(2)"), ep("student", False, "Answer(3)")])
>>> pairs[0]["chosen"], pairs[0]["rejected"]
([{'role': 'assistant', 'content': 'Answer(2)'}], [{'role': 'assistant', 'content': 'Answer(3)'}])
"""

from __future__ import annotations

import json
import logging
import os
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from itertools import product
from typing import Any

from callgym.episode import Episode, error_type_of, read_episodes
from callgym.error_types import check_error_types
from callgym.errors import ConfigError, DataError
from callgym.json_text import without_surrogates

log = logging.getLogger(__name__)

Message = dict[str, str]
ProblemKey = tuple[str, str, int]  # env_id, env_kwargs as sorted JSON, index
ROLES = ("system", "user", "assistant")


@dataclass
class Chain:
    """One episode seen as a prompt and the chain of messages that follows it."""

    prompt: list[Message]
    messages: list[Message]
    agent: str
    model: str
    sample: int
    reason: str  # "correct", "wrong_answer", "invalid_calls", "truncated"
    error_types: tuple[str, ...] = ()  # of its invalid replies, each type once, first seen first

    @property
    def content(self) -> tuple[tuple[str, str], ...]:
        """What makes two chains identical: their roles and texts."""
        return tuple((m["role"], m["content"]) for m in self.messages)


@dataclass
class ProblemStats:
    """How one problem contributed: its chains before and after dedup, and its pairs."""

    env_id: str
    env_kwargs: str
    index: int
    chosen: int = 0
    rejected: int = 0
    duplicates: int = 0
    combinations: int = 0
    pairs: int = 0


@dataclass
class PairSet(Sequence[dict[str, Any]]):
    """The pairs (one dict per pair, TRL's conversational format) and how they were made."""

    records: list[dict[str, Any]]
    problems: list[ProblemStats]
    settings: dict[str, Any]
    episodes: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: Any) -> Any:
        return self.records[i]

    def used_problems(self) -> list[dict[str, Any]]:
        """The problems that gave at least one pair, for benchmarks to exclude."""
        used = sorted((p.env_id, p.env_kwargs, p.index) for p in self.problems if p.pairs)
        return [{"env_id": e, "env_kwargs": json.loads(k), "index": i} for e, k, i in used]

    def to_dataset(self) -> Any:
        """The pairs as an HF ``datasets.Dataset`` (imports ``datasets``)."""
        from datasets import Dataset

        # Training text must be valid Unicode (Arrow and tokenizers refuse a lone surrogate,
        # which a model's reply may hold): such characters become U+FFFD here.
        return Dataset.from_list(without_surrogates(self.records))


def build_pairs(
    runs: Iterable[Episode | str | os.PathLike[str]] | str | os.PathLike[str],
    *,
    augment: bool = True,
    cap: int | None = None,
    seed: int = 0,
    chosen_agents: Iterable[str] | None = None,
    rejected_agents: Iterable[str] | None = ("student",),
    strict_chosen: bool = False,
    rejected_error_types: Iterable[str] | None = None,
) -> PairSet:
    """Pair the correct and incorrect chains of each problem.

    Args:
        runs: episodes files (JSONL written by ``callgym rollout``) and/or :class:`Episode` objects.
        augment: all |Dw| x |Dl| combinations per problem; False: min(|Dw|, |Dl|) pairs,
            each chain used at most once.
        cap: at most this many pairs per problem (seeded sample); None: no cap.
        seed: seeds the per-problem sampling and shuffles.
        chosen_agents: agents whose correct chains may be chosen; None: any agent.
        rejected_agents: agents whose incorrect chains may be rejected; None or "any": any agent.
        strict_chosen: chosen chains must also be free of invalid calls.
        rejected_error_types: reject only chains with an invalid reply of one of these error
            types (names or comma-separated text); None: any incorrect chain.

    Returns:
        A :class:`PairSet`; ``save_pairs`` writes it to disk.

    Raises:
        DataError: no correct chain, no incorrect chain, or no problem with both.
    """
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
        raise ConfigError(f"cap={cap!r} must be a positive integer (pairs per problem) or None")
    chosen_set = _agent_set(chosen_agents, "chosen_agents")
    rejected_set = _agent_set(rejected_agents, "rejected_agents")
    error_set = None
    if rejected_error_types is not None:
        error_set = frozenset(check_error_types(rejected_error_types, "rejected_error_types"))
    episodes, sources = _load(runs)
    groups, counts = _group(episodes, chosen_set, rejected_set, strict_chosen, error_set)
    settings = {
        "augment": augment,
        "cap": cap,
        "seed": seed,
        "strict_chosen": strict_chosen,
        "chosen_agents": sorted(chosen_set) if chosen_set else None,
        "rejected_agents": sorted(rejected_set) if rejected_set else None,
        "rejected_error_types": sorted(error_set) if error_set else None,
        "sources": sources,
    }
    _check_both_sides(groups, counts, settings)
    records: list[dict[str, Any]] = []
    problems = [
        _pair_problem(key, sides, augment, cap, seed, records) for key, sides in sorted(groups.items())
    ]
    if not records:
        raise DataError(
            "no problem has both a correct and an incorrect chain: the correct and incorrect episodes are on "
            "different problems; roll out the teacher/oracle on the student's problems (same env, kwargs "
            "and indices)"
        )
    log.info("%d pairs from %d problems", len(records), sum(1 for p in problems if p.pairs))
    return PairSet(records, problems, settings, counts)


def _agent_set(agents: Iterable[str] | None, name: str) -> frozenset[str] | None:
    """Agent names from a list or comma-separated text; None or "any": every agent."""
    if agents is None or agents == "any":
        return None
    if isinstance(agents, str):
        agents = [a for a in agents.split(",") if a]
    result = frozenset(agents)
    if not result:
        raise ConfigError(
            f"{name} is empty; list agent names (e.g. oracle,teacher,student) or leave it unset for any"
        )
    return result


def _load(runs: Any) -> tuple[list[Episode], list[str]]:
    if isinstance(runs, (str, os.PathLike)):
        runs = [runs]
    episodes: list[Episode] = []
    sources: list[str] = []
    for run in runs:
        if isinstance(run, Episode):
            episodes.append(run)
        elif isinstance(run, dict):
            episodes.append(Episode.from_dict(run))
        else:
            episodes.extend(read_episodes(run))
            sources.append(os.fspath(run))
    if not episodes:
        raise DataError("no episodes to pair; pass the JSONL files written by `callgym rollout --out`")
    return episodes, sources


def _group(
    episodes: list[Episode],
    chosen: frozenset[str] | None,
    rejected: frozenset[str] | None,
    strict: bool,
    error_types: frozenset[str] | None = None,
) -> tuple[dict[ProblemKey, dict[str, list[Chain]]], dict[str, Any]]:
    """Sort each usable episode into its problem's chosen or rejected side."""
    groups: dict[ProblemKey, dict[str, list[Chain]]] = {}
    by_agent: dict[str, Counter[str]] = {}
    empty = 0
    for ep in episodes:
        by_agent.setdefault(ep.agent, Counter())["correct" if ep.correct else "incorrect"] += 1
        chain = to_chain(ep)
        if chain is None:
            empty += 1
            continue
        if ep.correct and (chosen is None or ep.agent in chosen) and not (strict and ep.invalid_calls):
            side = "chosen"
        elif not ep.correct and (rejected is None or ep.agent in rejected) and (
            error_types is None or not error_types.isdisjoint(chain.error_types)
        ):
            side = "rejected"
        else:
            continue
        groups.setdefault(ep.problem_key, {"chosen": [], "rejected": []})[side].append(chain)
    counts = {
        "read": len(episodes),
        "without_reply": empty,
        "by_agent": {a: dict(c) for a, c in sorted(by_agent.items())},
    }
    return groups, counts


def to_chain(ep: Episode) -> Chain | None:
    """Split an episode's chat into prompt and chain; None when the model never replied."""
    messages = [_message(m) for m in ep.messages]
    first = next((i for i, m in enumerate(messages) if m["role"] == "assistant"), None)
    if first is None:
        return None
    last = max(i for i, m in enumerate(messages) if m["role"] == "assistant")
    kinds = dict.fromkeys(t for t in map(error_type_of, ep.steps) if t is not None)
    return Chain(
        messages[:first], messages[first : last + 1], ep.agent, ep.model, ep.sample, _reason(ep), tuple(kinds)
    )


def _message(m: dict[str, Any]) -> Message:
    # Env results are user messages (DESIGN): a "tool"/"environment" role becomes "user",
    # which every chat template renders.
    role = m.get("role", "user")
    return {"role": role if role in ROLES else "user", "content": str(m.get("content") or "")}


def _reason(ep: Episode) -> str:
    if ep.correct:
        return "correct"
    if ep.truncated:
        return "truncated"
    return "invalid_calls" if ep.invalid_calls else "wrong_answer"


def _check_both_sides(
    groups: dict[ProblemKey, dict[str, list[Chain]]], counts: dict[str, Any], settings: dict[str, Any]
) -> None:
    """Name the missing side, what was read and how to get it."""
    read = f"{counts['read']} episodes by agent: {json.dumps(counts['by_agent'])}"
    if counts["without_reply"]:
        read += f", {counts['without_reply']} without any model reply skipped"
    if not any(sides["chosen"] for sides in groups.values()):
        who = settings["chosen_agents"] or "any agent"
        raise DataError(
            f"no correct chains to choose (from {who}; {read}); add teacher or oracle rollouts "
            "(`callgym rollout --agent oracle`), sample the student more (--samples, temperature > 0), "
            "or widen chosen_agents"
        )
    if not any(sides["rejected"] for sides in groups.values()):
        who = str(settings["rejected_agents"] or "any agent")
        if settings["rejected_error_types"]:
            who += f" with an invalid reply of type {' or '.join(settings['rejected_error_types'])}"
        raise DataError(
            f"no incorrect chains to reject (from {who}; {read}); roll out the student on these problems "
            "with more samples (--samples, temperature > 0), or widen rejected_agents or rejected_error_types"
        )


def _dedup(chains: list[Chain]) -> list[Chain]:
    ordered = sorted(chains, key=lambda c: (c.agent, c.model, c.sample, c.content))
    seen: set[tuple[tuple[str, str], ...]] = set()
    unique = []
    for chain in ordered:
        if chain.content not in seen:
            seen.add(chain.content)
            unique.append(chain)
    return unique


def _pair_problem(
    key: ProblemKey,
    sides: dict[str, list[Chain]],
    augment: bool,
    cap: int | None,
    seed: int,
    out: list[dict[str, Any]],
) -> ProblemStats:
    """Append this problem's pairs to ``out`` and return its stats."""
    won, lost = _dedup(sides["chosen"]), _dedup(sides["rejected"])
    stats = ProblemStats(*key, chosen=len(won), rejected=len(lost))
    stats.duplicates = len(sides["chosen"]) + len(sides["rejected"]) - len(won) - len(lost)
    stats.combinations = len(won) * len(lost)
    rng = random.Random(f"{seed}|{key[0]}|{key[1]}|{key[2]}")
    if augment:
        index_pairs = list(product(range(len(won)), range(len(lost))))
    else:
        index_pairs = list(
            zip(rng.sample(range(len(won)), len(won)), rng.sample(range(len(lost)), len(lost)), strict=False)
        )
    if cap is not None and len(index_pairs) > cap:
        index_pairs = sorted(rng.sample(index_pairs, cap))
    for i, j in index_pairs:
        out.append(_record(key, won[i], lost[j]))
    stats.pairs = len(index_pairs)
    return stats


def _record(key: ProblemKey, chosen: Chain, rejected: Chain) -> dict[str, Any]:
    # On-policy: the prompt is the one the rejected (student) chain was produced under.
    shared = _shared_turns(chosen.messages, rejected.messages)
    return {
        "prompt": rejected.prompt + rejected.messages[:shared],
        "chosen": chosen.messages[shared:],
        "rejected": rejected.messages[shared:],
        "env_id": key[0],
        "env_kwargs": key[1],
        "index": key[2],
        "chosen_agent": chosen.agent,
        "rejected_agent": rejected.agent,
        "chosen_model": chosen.model,
        "rejected_model": rejected.model,
        "rejected_reason": rejected.reason,
        "rejected_error_type": rejected.error_types[0] if rejected.error_types else "",
        "rejected_error_types": ",".join(rejected.error_types),
        "prompt_matches": chosen.prompt == rejected.prompt,
    }


def _shared_turns(chosen: list[Message], rejected: list[Message]) -> int:
    """How many leading messages both chains share, up to an env result (a user message).

    Those turns (e.g. bootstrap calls both agents made) belong in the prompt: the completions
    then start where the chains part, with an assistant reply.
    """
    shared = 0
    for i, (a, b) in enumerate(zip(chosen[:-1], rejected[:-1])):
        if a != b:
            break
        if a["role"] == "user":
            shared = i + 1
    return shared


def stats_dict(stats: ProblemStats) -> dict[str, Any]:
    """A problem's stats as JSON-ready data (env_kwargs decoded)."""
    data = asdict(stats)
    data["env_kwargs"] = json.loads(stats.env_kwargs)
    return data
