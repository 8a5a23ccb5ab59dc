"""Satisfiability of integer clause sets: simplification, then sympy's DPLL on a budget.

sympy's ``dpll2`` solver learns no clauses, so on an unsatisfiable set it may revisit every
combination of irrelevant variables (a distractor premise grounded over the domain doubles
the search). Unit propagation and pure-literal elimination first remove exactly that part:
what is left is usually solved with a handful of decisions. A decision budget bounds the
rest, so no input can keep a caller busy for long.
"""

from __future__ import annotations

from collections.abc import Iterable

from sympy.logic.algorithms.dpll2 import SATSolver

from callgym.envs.fol.formula import FormulaError

MAX_DECISIONS = 2_000


class _OutOfBudget(Exception):
    pass


def satisfiable(clauses: Iterable[set[int]], max_decisions: int = MAX_DECISIONS) -> bool:
    """Whether the clauses (sets of non-zero integer literals) have a model.

    Raises:
        FormulaError: The solver needed more than ``max_decisions`` decisions.
    """
    rest = simplify(clauses)
    if rest is None:
        return False
    if not rest:
        return True
    numbered, nvars = _renumber(rest)
    solver = SATSolver(numbered, range(1, nvars + 1), set(), list(range(1, nvars + 1)))

    def check_budget() -> None:  # sympy calls its update functions every INTERVAL decisions
        if solver.num_decisions > max_decisions:
            raise _OutOfBudget

    solver.update_functions.append(check_budget)
    try:
        return next(solver._find_model(), None) is not None
    except _OutOfBudget:
        raise FormulaError(f"deciding this took more than {max_decisions} solver decisions; "
                           "use fewer premises, constants or quantifiers") from None


def simplify(clauses: Iterable[set[int]]) -> list[frozenset[int]] | None:
    """Unit propagation and pure-literal elimination, to a fixpoint.

    Both preserve satisfiability. Returns the remaining clauses (empty: satisfiable), or
    None when a clause became empty (unsatisfiable).
    """
    current = [frozenset(c) for c in clauses]
    while True:
        units = {next(iter(c)) for c in current if len(c) == 1}
        if any(-u in units for u in units):
            return None
        occurring = set().union(*current)
        chosen = units | {lit for lit in occurring if -lit not in occurring}
        if not chosen:
            return current
        falsified = {-lit for lit in chosen}
        following = []
        for clause in current:
            if clause.isdisjoint(chosen):
                reduced = clause - falsified
                if not reduced:
                    return None
                following.append(reduced)
        current = following


def _renumber(clauses: list[frozenset[int]]) -> tuple[list[set[int]], int]:
    """Number the variables in use 1..n, as the solver expects."""
    index: dict[int, int] = {}
    for clause in clauses:
        for lit in clause:
            index.setdefault(abs(lit), len(index) + 1)
    return [{index[abs(lit)] * (1 if lit > 0 else -1) for lit in c} for c in clauses], len(index)
