"""Decide whether premises entail a conclusion, by grounding over a finite domain.

What is decided
---------------
Let ``C`` be the constants (the terms no quantifier binds) in the premises and the
conclusion, and ``k`` the number of quantifier occurrences that can act existentially: in
a premise, an ``∃`` under positive polarity or a ``∀`` under negative polarity (a
quantifier under ``↔`` or ``⊕`` has both); in the conclusion, every quantifier (the
conclusion is used both ways). ``k`` is capped at :data:`MAX_FRESH`. The domain is
``D = C ∪ {k fresh anonymous elements}`` (at least one element), the constants denoting
distinct elements. Each formula is grounded over ``D`` (``∀`` becomes a conjunction over ``D``,
``∃`` a disjunction) and encoded into clauses, once, and a SAT solver (see
:mod:`callgym.envs.fol.sat`) answers two questions about them:

* ``"True"``: no interpretation over ``D`` satisfies the premises and ``¬conclusion``;
* ``"False"``: no interpretation over ``D`` satisfies the premises and the conclusion;
* ``"Unknown"``: both are satisfiable.

The language has no equality, so copying an element changes no sentence's truth: "some
interpretation over ``D``" means "some interpretation with at most ``|D|`` elements, where
constants may share an element". Hence:

* ``"Unknown"`` is always sound: two real (finite) models back it.
* ``"True"`` is exactly classical entailment when the premises and ``¬conclusion``, in
  negation normal form, have no ``∃`` inside the scope of a ``∀`` (the Bernays–Schönfinkel
  class) and ``k`` was not capped: ``D`` then contains the Herbrand universe of their
  Skolemization. Likewise ``"False"``, with the conclusion in place of its negation. The
  generator's problems and most of FOLIO's are in that class.
* Outside it, ``"True"`` means "no countermodel with at most ``|D|`` elements" and might be
  wrong where every countermodel is larger (e.g. "every element has a greater one", with an
  irreflexive transitive order, has only infinite models).

Premises with no model over ``D`` raise :class:`InconsistentPremisesError`: classically
they entail every conclusion and its negation, which no single label describes.

Costs are bounded: at most :data:`MAX_PREMISES` premises, :data:`MAX_DOMAIN` domain
elements, :data:`MAX_WORK` grounding steps and :data:`MAX_VARS` propositional variables
(beyond these a :class:`FormulaError` says which, before any solving), then
:data:`~callgym.envs.fol.sat.MAX_PROPAGATIONS` solver propagations and
:data:`~callgym.envs.fol.sat.MAX_CONFLICTS` conflicts and, as a guard on a loaded machine,
:data:`MAX_SECONDS` of wall clock for the whole question: past those,
:class:`~callgym.envs.fol.sat.ProverGaveUp` says the question is undecided (the work
budget is counted, so the same input always gives up at the same point). Results are
cached (``functools.lru_cache``).

>>> entails(["∀x (Dog(x) → Animal(x))", "Dog(rex)"], "Animal(rex)")
'True'
>>> entails(["∀x (Dog(x) → Animal(x))", "Animal(rex)"], "Dog(rex)")
'Unknown'
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import lru_cache

from callgym.envs.fol import sat
from callgym.envs.fol.formula import Atom, Binary, Formula, FormulaError, Not, Quant, parse, signature

MAX_DOMAIN = 12
MAX_FRESH = 4
MAX_PREMISES = 100
MAX_WORK = 100_000
MAX_VARS = 20_000
MAX_SECONDS = 1.0
_CLOCK_EVERY = 1024  # grounding steps between two looks at the clock
LABELS = ("True", "False", "Unknown")
TRUE, FALSE = 1, -1  # variable 1 is pinned true by a unit clause


class InconsistentPremisesError(FormulaError):
    """The premises contradict each other, so no label is meaningful."""


def entails(premises: Sequence[str], conclusion: str, max_seconds: float | None = MAX_SECONDS) -> str:
    """Decide whether the premises entail the conclusion (see the module docstring).

    Args:
        premises: Formulas in unicode or ASCII notation.
        conclusion: The formula to decide.
        max_seconds: The wall-clock guard; None leaves only the counted budget, so the
            answer never depends on the machine's load (the generator's labels).

    Returns:
        ``"True"`` if the premises entail the conclusion, ``"False"`` if they entail its
        negation, ``"Unknown"`` otherwise.

    Raises:
        FormulaError: A formula does not parse, the formulas disagree on a predicate's arity,
            or grounding would exceed the cost bounds.
        InconsistentPremisesError: The premises have no model.
        ProverGaveUp: Deciding needs more than the solver's work budget or
            :data:`MAX_SECONDS`; the question is undecided (see :mod:`callgym.envs.fol.sat`).
    """
    if isinstance(premises, str):
        raise FormulaError("premises must be a list of formulas, not one string")
    if len(premises) > MAX_PREMISES:
        raise FormulaError(f"{len(premises)} premises given; at most {MAX_PREMISES} are supported")
    return _entails(tuple(premises), conclusion, max_seconds)


@lru_cache(maxsize=4096)
def _entails(premises: tuple[str, ...], conclusion: str, max_seconds: float | None) -> str:
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    formulas = [_parse_named(text, f"premise {i + 1}") for i, text in enumerate(premises)]
    goal = _parse_named(conclusion, "conclusion")
    cnf = _Cnf(_domain(formulas, goal), deadline)
    for formula in formulas:
        cnf.assert_true(formula, {}, positive=True)
    # The goal both ways, each behind a selector literal that one question assumes.
    holds, fails = cnf.guarded(goal, positive=True), cnf.guarded(goal, positive=False)
    with sat.Clauses(cnf.clauses, deadline=deadline) as solver:
        can_fail = solver.satisfiable([fails])
        can_hold = solver.satisfiable([holds])
    if not can_fail and not can_hold:
        raise InconsistentPremisesError(
            "the premises contradict each other, so every conclusion and its negation follow "
            "from them; check the premises for a mistranslated or conflicting statement")
    return "True" if not can_fail else "False" if not can_hold else "Unknown"


def _parse_named(text: str, name: str) -> Formula:
    try:
        return parse(text)
    except FormulaError as e:
        raise FormulaError(f"{name}: {e}") from e


def _domain(formulas: list[Formula], goal: Formula) -> tuple[str, ...]:
    """Named constants (sorted, for determinism) plus the fresh elements; '#' cannot occur
    in a parsed name, so fresh elements never collide with constants."""
    arities: dict[str, int] = {}
    constants: set[str] = set()
    fresh = _existentials(goal, {True, False})
    for f in [*formulas, goal]:
        preds, consts = signature(f)
        for name, arity in preds.items():
            if arities.setdefault(name, arity) != arity:
                raise FormulaError(f"predicate {name} is used with {arities[name]} and with "
                                   f"{arity} arguments; use one arity per predicate name")
        constants |= consts
    fresh += sum(_existentials(f, {True}) for f in formulas)
    size = max(1, len(constants) + min(fresh, MAX_FRESH))
    if size > MAX_DOMAIN:
        raise FormulaError(f"the formulas need a domain of {size} elements ({len(constants)} named "
                           f"constants and {size - len(constants)} for quantifiers); at most "
                           f"{MAX_DOMAIN} are supported, so drop unrelated premises")
    return (*sorted(constants), *(f"#{i}" for i in range(1, size - len(constants) + 1)))


def _existentials(f: Formula, polarity: set[bool]) -> int:
    """Quantifier occurrences that act as ∃ under the given polarities (True = positive)."""
    if isinstance(f, Atom):
        return 0
    if isinstance(f, Not):
        return _existentials(f.body, {not p for p in polarity})
    if isinstance(f, Quant):
        acts = (f.kind == "exists" and True in polarity) or (f.kind == "forall" and False in polarity)
        return int(acts) + _existentials(f.body, polarity)
    if f.op in ("iff", "xor"):
        return _existentials(f.left, {True, False}) + _existentials(f.right, {True, False})
    left = {not p for p in polarity} if f.op == "implies" else polarity
    return _existentials(f.left, left) + _existentials(f.right, polarity)


class _Cnf:
    """Ground formulas over a domain into clauses of integer literals.

    Subformulas get a fresh variable with only the implications their polarity needs
    (Plaisted-Greenbaum): ``polarity`` is 1 (the subformula occurs positively), -1
    (negatively) or 0 (both, under ``↔`` and ``⊕``). Gates are keyed by polarity, so the
    goal's two encodings share the premises' clauses without constraining each other.
    """

    def __init__(self, domain: tuple[str, ...], deadline: float | None = None) -> None:
        self.domain = domain
        self.deadline = deadline
        self.clauses: list[set[int]] = [{TRUE}]
        self.nvars = 1
        self.memo: dict[tuple[object, ...], int] = {}
        self.work = 0
        self.guard: int | None = None  # added negated to asserted clauses, see guarded()

    def new_var(self) -> int:
        self.nvars += 1
        if self.nvars > MAX_VARS:
            raise FormulaError(f"grounding needs more than {MAX_VARS} propositional variables; "
                               "use fewer constants, quantifiers or premises")
        return self.nvars

    def tick(self) -> None:
        self.work += 1
        if self.work > MAX_WORK:
            raise FormulaError(f"grounding takes more than {MAX_WORK} steps; nest fewer "
                               "quantifiers or use fewer constants")
        if self.work % _CLOCK_EVERY == 0 and self.deadline is not None and time.monotonic() > self.deadline:
            raise sat.ProverGaveUp("grounding ran past the prover's time limit")

    def guarded(self, f: Formula, positive: bool) -> int:
        """Assert ``f`` (or ``¬f``) only under a fresh selector literal, which is returned:
        assuming it adds the assertion, leaving it free adds nothing."""
        self.guard = self.new_var()
        try:
            self.assert_true(f, {}, positive)
        finally:
            selector, self.guard = self.guard, None
        return selector

    def literal(self, f: Formula, env: dict[str, str], polarity: int) -> int:
        """A literal standing for ``f`` under ``env`` (variable -> domain element)."""
        self.tick()
        if isinstance(f, Atom):
            key = ("atom", f.pred, *(env.get(a, a) for a in f.args))
            if key not in self.memo:
                self.memo[key] = self.new_var()
            return self.memo[key]
        if isinstance(f, Not):
            return -self.literal(f.body, env, -polarity)
        if isinstance(f, Quant):
            parts = [self.literal(f.body, {**env, f.var: e}, polarity) for e in self.domain]
            if f.kind == "forall":
                return self.conj(parts, polarity)
            return -self.conj([-p for p in parts], -polarity)
        if f.op in ("xor", "iff"):
            a, b = self.literal(f.left, env, 0), self.literal(f.right, env, 0)
            return self.xor(a, b, polarity) if f.op == "xor" else -self.xor(a, b, -polarity)
        a = self.literal(f.left, env, -polarity if f.op == "implies" else polarity)
        b = self.literal(f.right, env, polarity)
        if f.op == "and":
            return self.conj([a, b], polarity)
        return -self.conj([a if f.op == "implies" else -a, -b], -polarity)

    def conj(self, lits: list[int], polarity: int) -> int:
        unique = set(lits) - {TRUE}
        if FALSE in unique or any(-lit in unique for lit in unique):
            return FALSE
        if len(unique) <= 1:
            return unique.pop() if unique else TRUE
        key = ("and", polarity, frozenset(unique))
        if key not in self.memo:
            v = self.memo[key] = self.new_var()
            if polarity >= 0:
                self.clauses.extend({-v, lit} for lit in unique)
            if polarity <= 0:
                self.clauses.append({v, *(-lit for lit in unique)})
        return self.memo[key]

    def xor(self, a: int, b: int, polarity: int) -> int:
        if abs(a) == TRUE or abs(b) == TRUE or abs(a) == abs(b):
            if abs(a) == abs(b):
                return FALSE if a == b else TRUE
            other, const = (b, a) if abs(a) == TRUE else (a, b)
            return -other if const == TRUE else other
        key = ("xor", polarity, frozenset((a, b)))
        if key not in self.memo:
            v = self.memo[key] = self.new_var()
            if polarity >= 0:
                self.clauses += [{-v, a, b}, {-v, -a, -b}]
            if polarity <= 0:
                self.clauses += [{v, -a, b}, {v, a, -b}]
        return self.memo[key]

    def assert_true(self, f: Formula, env: dict[str, str], positive: bool) -> None:
        """Add clauses forcing ``f`` (or ``¬f``) directly, without gates at the top."""
        self.tick()
        if isinstance(f, Not):
            self.assert_true(f.body, env, not positive)
        elif isinstance(f, Quant) and (f.kind == "forall") == positive:
            for e in self.domain:
                self.assert_true(f.body, {**env, f.var: e}, positive)
        elif isinstance(f, Binary) and (f.op, positive) in (("and", True), ("or", False)):
            self.assert_true(f.left, env, positive)
            self.assert_true(f.right, env, positive)
        elif isinstance(f, Binary) and f.op == "implies" and not positive:
            self.assert_true(f.left, env, True)
            self.assert_true(f.right, env, False)
        else:
            self.add_clause(self.disjuncts(f, env, positive))

    def disjuncts(self, f: Formula, env: dict[str, str], positive: bool) -> list[int]:
        """Literals whose disjunction is equivalent to ``f`` (or ``¬f``)."""
        self.tick()
        if isinstance(f, Not):
            return self.disjuncts(f.body, env, not positive)
        if isinstance(f, Quant) and (f.kind == "exists") == positive:
            return [lit for e in self.domain for lit in self.disjuncts(f.body, {**env, f.var: e}, positive)]
        if isinstance(f, Binary) and (f.op, positive) in (("or", True), ("and", False)):
            return self.disjuncts(f.left, env, positive) + self.disjuncts(f.right, env, positive)
        if isinstance(f, Binary) and f.op == "implies" and positive:
            return self.disjuncts(f.left, env, False) + self.disjuncts(f.right, env, True)
        lit = self.literal(f, env, 1 if positive else -1)
        return [lit if positive else -lit]

    def add_clause(self, lits: list[int]) -> None:
        clause = set(lits) - {FALSE}
        if TRUE in clause or any(-lit in clause for lit in clause):
            return
        if self.guard is not None:
            clause.add(-self.guard)
        # An empty clause is unsatisfiable; {FALSE} says so without an empty set.
        self.clauses.append(clause or {FALSE})
