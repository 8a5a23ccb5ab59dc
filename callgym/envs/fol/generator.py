"""A seeded generator of first-order logic problems, FOLIO-style.

Item ``index`` of ``seed`` is rebuilt from ``random.Random(f"{seed}-{index}")`` (its label
from a shuffle seeded by its block of three indices), so any problem, and any failure on it,
is reproduced from ``(seed, index, difficulty)`` alone.

A problem is a proof chain about one individual (or an anonymous "someone"): a starting
fact, then ``depth`` steps that each derive a new literal (modus ponens, modus tollens, a
conjunctive rule, disjunctive syllogism, an exclusive or, or a detour through a binary
relation), plus distractor premises. The label is chosen first (labels are exactly balanced
within every block of three consecutive indices) and the problem is built to have it:
``"True"`` asks for the derived literal, ``"False"`` for its negation, ``"Unknown"`` breaks one
link of the chain (a converse rule, a fact about the wrong person, a reversed relation, or a
missing premise). Every draft is checked with :func:`~callgym.envs.fol.prover.entails`; in
the rare case a distractor changed the label, the next draft continues the same random stream.

================  ===========  ===========  ==============================================
difficulty        proof steps  distractors  constructs
================  ===========  ===========  ==============================================
1                 1-2          0-1          rules and facts
2                 2-3          1-2          + negation, modus tollens, conjunctive rules
3                 2-4          2-3          + disjunction, universal conclusions
4                 3-5          2-4          + exclusive or, existentials
5                 4-6          3-5          + binary relations (Loves(x, y), ...)
================  ===========  ===========  ==============================================

>>> p = generate(0, seed=0, difficulty=1)
>>> p.label in ("True", "False", "Unknown") and len(p.premises) == len(p.premises_fol)
True
"""

from __future__ import annotations

import random

from callgym.envs.fol import chains
from callgym.envs.fol.chains import Level
from callgym.envs.fol.formula import to_text
from callgym.envs.fol.problems import FOLProblem, load_folio_jsonl
from callgym.envs.fol.prover import LABELS, InconsistentPremisesError, entails

__all__ = ["LEVELS", "FOLProblem", "Level", "generate", "load_folio_jsonl"]

MAX_ATTEMPTS = 50


LEVELS = {
    1: Level((1, 2), (0, 1), ("mp",)),
    2: Level((2, 3), (1, 2), ("mp", "mp", "mt", "conj"), negation=True),
    3: Level((2, 4), (2, 3), ("mp", "mt", "conj", "disj"), negation=True, universal=0.2),
    4: Level((3, 5), (2, 4), ("mp", "mt", "conj", "disj", "xor"), negation=True,
             existential=0.3, universal=0.15),
    5: Level((4, 6), (3, 5), ("mp", "mt", "conj", "disj", "xor", "rel", "switch"), negation=True,
             existential=0.25, universal=0.1),
}


def label_for(index: int, seed: int = 0) -> str:
    """The label of item ``index``: a shuffled ``LABELS`` per block of three indices."""
    labels = list(LABELS)
    random.Random(f"{seed}-labels-{index // 3}").shuffle(labels)
    return labels[index % 3]


def generate(index: int, seed: int = 0, difficulty: int | None = None) -> FOLProblem:
    """Build problem ``index`` of ``seed``.

    Args:
        index: Which problem (any non-negative integer).
        seed: Which family of problems.
        difficulty: 1..5, or None to draw one from the item's random stream.

    Returns:
        A problem whose label :func:`~callgym.envs.fol.prover.entails` confirms.

    Raises:
        ValueError: ``index`` is negative or ``difficulty`` is not 1..5.
    """
    if not isinstance(index, int) or index < 0:
        raise ValueError(f"index must be a non-negative integer, not {index!r}")
    if difficulty is not None and difficulty not in LEVELS:
        raise ValueError(f"difficulty must be 1..5 or None, not {difficulty!r}")
    rng = random.Random(f"{seed}-{index}")
    drawn = rng.randint(1, 5)  # drawn even when given, so both paths use the stream alike
    level = difficulty or drawn
    label = label_for(index, seed)
    for _ in range(MAX_ATTEMPTS):
        draft = chains.draft(rng, LEVELS[level], label)
        premises_fol = [to_text(f) for _, f in draft.premises]
        conclusion_fol = to_text(draft.conclusion[1])
        try:
            verdict = entails(premises_fol, conclusion_fol, max_seconds=None)  # same label on any machine
        except InconsistentPremisesError:
            continue  # a distractor clashed with the chain; draw again
        if verdict == label:
            return FOLProblem([text for text, _ in draft.premises], premises_fol, draft.conclusion[0],
                              conclusion_fol, label, level, index, seed)
    # Unreachable in practice (tests build thousands of items); a clear error beats a loop.
    raise RuntimeError(f"could not build a {label} problem for index={index}, seed={seed}, "
                       f"difficulty={level} in {MAX_ATTEMPTS} attempts")
