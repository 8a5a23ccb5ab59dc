"""First-order logic: formulas, a prover and a seeded problem generator.

>>> from callgym.envs.fol import entails
>>> entails(["∀x (Dog(x) → Animal(x))", "Dog(rex)"], "Animal(rex)")
'True'
"""

from __future__ import annotations

from callgym.envs.fol.formula import FormulaError, parse, to_text
from callgym.envs.fol.generator import FOLProblem, generate, load_folio_jsonl
from callgym.envs.fol.prover import InconsistentPremisesError, entails

__all__ = [
    "FOLProblem",
    "FormulaError",
    "InconsistentPremisesError",
    "entails",
    "generate",
    "load_folio_jsonl",
    "parse",
    "to_text",
]
