"""Satisfiability of integer clause sets, on a deterministic work budget.

The solver is MiniSat 2.2 (through PySAT): conflict-driven clause learning with watched
literals, so a long chain of implications costs one propagation per link and a distractor
premise grounded over the domain costs almost nothing, where the DPLL solver used before
(no learning, one link per simplification pass) spent seconds on both.

Every clause set runs on a budget of :data:`MAX_PROPAGATIONS` unit propagations and
:data:`MAX_CONFLICTS` conflicts (counted by the solver, so the same input always stops at
the same point; conflicts bound the cost of learning, which on a pigeonhole set makes each
propagation dear) and, as a guard for a loaded machine, a wall-clock deadline. Past any of
them, :class:`ProverGaveUp` says so: the question is undecided, not answered.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence

from pysat.solvers import Solver

from callgym.envs.fol.formula import FormulaError

# Each about 0.1 s of MiniSat on the reference machine at its worst (a pigeonhole set);
# no generated problem needs more than 500 propagations or 10 conflicts.
MAX_PROPAGATIONS = 200_000
MAX_CONFLICTS = 3_000
# Within this share of the budget a question is answered without starting a timer thread.
_QUICK_SHARE = 10


class ProverGaveUp(FormulaError):
    """The work budget or the deadline ran out before the question was decided."""


class Clauses:
    """One clause set, asked one or more questions (assumptions) within one budget.

    Use as a context manager: the solver holds native memory until :meth:`close`.
    """

    def __init__(self, clauses: Iterable[Iterable[int]], max_propagations: int = MAX_PROPAGATIONS,
                 max_conflicts: int = MAX_CONFLICTS, deadline: float | None = None) -> None:
        self.budget = {"propagations": max_propagations, "conflicts": max_conflicts}
        self.deadline = deadline  # a time.monotonic() value, or None
        self._solver = Solver(name="m22", bootstrap_with=[list(c) for c in clauses])
        self._final: dict[str, int] | None = None  # what was spent, once closed

    def satisfiable(self, assumptions: Sequence[int] = ()) -> bool:
        """Whether the clauses and the assumed literals have a model.

        Raises:
            ProverGaveUp: the budget (shared by every question on these clauses) or the
                deadline ran out first.
        """
        answer = self._solve(assumptions, _QUICK_SHARE, timed=False)
        if answer is None and not self._exhausted():
            answer = self._solve(assumptions, 1, timed=True)
        if answer is None and self._exhausted():
            raise ProverGaveUp(
                f"deciding this needs more than {self.budget['propagations']:,} propagations or "
                f"{self.budget['conflicts']:,} conflicts of the SAT solver")
        if answer is None:
            raise ProverGaveUp("the SAT solver ran past the prover's time limit")
        return answer

    def _exhausted(self) -> bool:
        spent = self.spent()
        return any(spent[k] >= self.budget[k] for k in self.budget)

    def spent(self) -> dict[str, int]:
        """Propagations and conflicts used so far, over every question (also once closed)."""
        if self._final is not None:
            return self._final
        stats = self._solver.accum_stats() or {}
        return {k: int(stats.get(k, 0)) for k in self.budget}

    def _solve(self, assumptions: Sequence[int], share: int, timed: bool) -> bool | None:
        """Solve within 1/share of the budget (what is left of it when share is 1)."""
        spent = self.spent()
        left = {k: max(1, (self.budget[k] - spent[k]) // share) for k in self.budget}
        self._solver.prop_budget(left["propagations"])
        self._solver.conf_budget(left["conflicts"])
        if not timed or self.deadline is None:
            return self._solver.solve_limited(assumptions=list(assumptions))
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            return None
        timer = threading.Timer(remaining, self._solver.interrupt)
        timer.start()
        try:
            return self._solver.solve_limited(assumptions=list(assumptions), expect_interrupt=True)
        finally:
            timer.cancel()
            self._solver.clear_interrupt()

    def close(self) -> None:
        if self._final is None:
            self._final = self.spent()
            self._solver.delete()

    def __enter__(self) -> Clauses:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def satisfiable(clauses: Iterable[Iterable[int]], max_propagations: int = MAX_PROPAGATIONS,
                max_conflicts: int = MAX_CONFLICTS) -> bool:
    """Whether the clauses (iterables of non-zero integer literals) have a model.

    Raises:
        ProverGaveUp: the solver needed more than the budget.
    """
    with Clauses(clauses, max_propagations, max_conflicts) as cnf:
        return cnf.satisfiable()
