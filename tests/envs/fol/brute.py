"""An independent entailment checker for the tests: search over interpretations.

It shares nothing with callgym's prover but the parser's AST: no clauses, no Tseitin
variables, no sympy. Formulas are evaluated directly in three-valued (Kleene) logic under a
partial interpretation, and the interpretations over a finite domain are searched
exhaustively, tableau-style: conjunctions are split, a disjunction (or ∃) is true through
one of its disjuncts, and a branch is pruned as soon as some formula is already false.
:func:`truth_table` is the plainest possible version, listing every interpretation, for
checking the search itself on tiny vocabularies.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from callgym.envs.fol.formula import Atom, Binary, Formula, Not, Quant, parse

Interp = dict[tuple[str, ...], bool]
GroundAtom = tuple[str, ...]


def value(f: Formula, env: dict[str, str], interp: Interp, domain: list[str]) -> bool | None:
    """Kleene value of ``f``; None where the partial interpretation leaves it open."""
    if isinstance(f, Atom):
        return interp.get((f.pred, *(env.get(t, t) for t in f.args)))
    if isinstance(f, Not):
        v = value(f.body, env, interp, domain)
        return None if v is None else not v
    if isinstance(f, Quant):
        vals = [value(f.body, {**env, f.var: e}, interp, domain) for e in domain]
        return _all(vals) if f.kind == "forall" else _any(vals)
    a, b = value(f.left, env, interp, domain), value(f.right, env, interp, domain)
    if f.op == "and":
        return _all([a, b])
    if f.op == "or":
        return _any([a, b])
    if f.op == "implies":
        return _any([None if a is None else not a, b])
    if a is None or b is None:
        return None
    return (a != b) if f.op == "xor" else (a == b)


def _all(vals: list[bool | None]) -> bool | None:
    return False if False in vals else (None if None in vals else True)


def _any(vals: list[bool | None]) -> bool | None:
    return True if True in vals else (None if None in vals else False)


def constants(f: Formula, bound: frozenset[str] = frozenset()) -> set[str]:
    if isinstance(f, Atom):
        return {t for t in f.args if t not in bound}
    if isinstance(f, Not):
        return constants(f.body, bound)
    if isinstance(f, Quant):
        return constants(f.body, bound | {f.var})
    return constants(f.left, bound) | constants(f.right, bound)


def existential_count(f: Formula, signs: frozenset[bool]) -> int:
    """Quantifiers acting as ∃ (∃ positive, ∀ negative) under the polarities in ``signs``."""
    if isinstance(f, Atom):
        return 0
    if isinstance(f, Not):
        return existential_count(f.body, frozenset(not s for s in signs))
    if isinstance(f, Quant):
        return ((f.kind == "exists") in signs) + existential_count(f.body, signs)
    if f.op in ("xor", "iff"):
        both = frozenset((True, False))
        return existential_count(f.left, both) + existential_count(f.right, both)
    left = frozenset(not s for s in signs) if f.op == "implies" else signs
    return existential_count(f.left, left) + existential_count(f.right, signs)


def domain_for(premises: list[Formula], conclusion: Formula, extra: int = 0, cap: int = 4) -> list[str]:
    """The prover's documented domain (named constants + capped fresh elements) + ``extra``."""
    named = set().union(*(constants(f) for f in [*premises, conclusion]))
    fresh = existential_count(conclusion, frozenset((True, False)))
    fresh += sum(existential_count(f, frozenset((True,))) for f in premises)
    size = max(1, len(named) + min(fresh, cap)) + extra
    return sorted(named) + [f"@{i}" for i in range(size - len(named))]


def ground_atoms(formulas: list[Formula], domain: list[str]) -> list[GroundAtom]:
    arity: dict[str, int] = {}
    for f in formulas:
        for atom in _atoms(f):
            arity[atom.pred] = len(atom.args)
    return [(p, *args) for p, n in sorted(arity.items()) for args in itertools.product(domain, repeat=n)]


def _atoms(f: Formula) -> Iterator[Atom]:
    if isinstance(f, Atom):
        yield f
    elif isinstance(f, (Not, Quant)):
        yield from _atoms(f.body)
    else:
        yield from _atoms(f.left)
        yield from _atoms(f.right)


Instance = tuple[Formula, dict[str, str]]


def _split(items: list[Instance], domain: list[str]) -> list[Instance]:
    """Break conjunctions (∧, ∀, and negated ∨, →, ∃) into separate instances."""
    out: list[Instance] = []
    todo = list(items)
    while todo:
        f, env = todo.pop()
        g = f.body if isinstance(f, Not) else None
        if isinstance(f, Binary) and f.op == "and":
            todo += [(f.left, env), (f.right, env)]
        elif isinstance(f, Quant) and f.kind == "forall":
            todo += [(f.body, {**env, f.var: e}) for e in domain]
        elif isinstance(g, Not):
            todo.append((g.body, env))
        elif isinstance(g, Quant) and g.kind == "exists":
            todo += [(Not(g.body), {**env, g.var: e}) for e in domain]
        elif isinstance(g, Binary) and g.op in ("or", "implies"):
            todo += [(g.left if g.op == "implies" else Not(g.left), env), (Not(g.right), env)]
        else:
            out.append((f, env))
    return out


def _alternatives(f: Formula, env: dict[str, str], domain: list[str]) -> list[Instance] | None:
    """The disjuncts of a disjunctive instance (∨, →, ∃, negated ∧ and ∀), else None."""
    g = f.body if isinstance(f, Not) else None
    if isinstance(f, Binary) and f.op in ("or", "implies"):
        return [(Not(f.left) if f.op == "implies" else f.left, env), (f.right, env)]
    if isinstance(f, Quant) and f.kind == "exists":
        return [(f.body, {**env, f.var: e}) for e in domain]
    if isinstance(g, Binary) and g.op == "and":
        return [(Not(g.left), env), (Not(g.right), env)]
    if isinstance(g, Quant) and g.kind == "forall":
        return [(Not(g.body), {**env, g.var: e}) for e in domain]
    return None


def _mentions(f: Formula, env: dict[str, str], domain: list[str]) -> set[GroundAtom]:
    if isinstance(f, Atom):
        return {(f.pred, *(env.get(t, t) for t in f.args))}
    if isinstance(f, Not):
        return _mentions(f.body, env, domain)
    if isinstance(f, Quant):
        return set().union(*(_mentions(f.body, {**env, f.var: e}, domain) for e in domain))
    return _mentions(f.left, env, domain) | _mentions(f.right, env, domain)


class _Search:
    """A tableau over Kleene values: split conjunctions, branch on a disjunction's disjuncts
    (or, for ⊕ and ↔, on an atom), prune a branch as soon as an instance is false."""

    def __init__(self, domain: list[str]) -> None:
        self.domain = domain

    def satisfiable(self, formulas: list[Formula]) -> bool:
        return self._solve(_split([(f, {}) for f in formulas], self.domain), {})

    def _solve(self, instances: list[Instance], interp: Interp) -> bool:
        interp = dict(interp)
        left = self._simplify(instances, interp)
        if left is None:
            return False
        if not left:
            return True
        free = [sorted(a for a in _mentions(f, env, self.domain) if a not in interp) for f, env in left]
        k = min(range(len(left)), key=lambda i: len(free[i]))
        rest = left[:k] + left[k + 1:]
        options = _alternatives(*left[k], self.domain)
        if options is not None:
            return any(self._solve(rest + _split([o], self.domain), interp) for o in options)
        return any(self._solve(left, {**interp, free[k][0]: v}) for v in (True, False))

    def _simplify(self, instances: list[Instance], interp: Interp) -> list[Instance] | None:
        """Drop true instances; fix forced atoms and pure literals; None on a false one."""
        while True:
            open_: list[Instance] = []
            forced = False
            for f, env in instances:
                v = value(f, env, interp, self.domain)
                if v is False:
                    return None
                if v is None:
                    open_.append((f, env))
                    forced = self._force(f, env, interp) or forced
            instances = open_
            if not forced and not self._pure(instances, interp):
                return instances

    def _force(self, f: Formula, env: dict[str, str], interp: Interp) -> bool:
        """If one free atom is left and one value falsifies ``f``, set the other."""
        free = [a for a in _mentions(f, env, self.domain) if a not in interp]
        if len(free) != 1:
            return False
        alive = [b for b in (True, False) if value(f, env, {**interp, free[0]: b}, self.domain) is not False]
        if len(alive) == 2:
            return False
        interp[free[0]] = alive[0] if alive else True  # with no value alive, f is now false
        return True

    def _pure(self, instances: list[Instance], interp: Interp) -> bool:
        """Fix atoms that occur with one polarity only in the open instances (pure
        literals): that value falsifies none of them, so satisfiability is unchanged. This
        prunes the unrelated parts (distractors) that would otherwise multiply the search."""
        signs: dict[GroundAtom, set[bool]] = {}
        for f, env in instances:
            _polarity(f, env, True, self.domain, signs)
        fixed = {a: next(iter(s)) for a, s in signs.items() if a not in interp and len(s) == 1}
        interp.update(fixed)
        return bool(fixed)


def _polarity(f: Formula, env: dict[str, str], sign: bool, domain: list[str],
              out: dict[GroundAtom, set[bool]]) -> None:
    if isinstance(f, Atom):
        out.setdefault((f.pred, *(env.get(t, t) for t in f.args)), set()).add(sign)
    elif isinstance(f, Not):
        _polarity(f.body, env, not sign, domain, out)
    elif isinstance(f, Quant):
        for e in domain:
            _polarity(f.body, {**env, f.var: e}, sign, domain, out)
    elif f.op in ("xor", "iff"):
        for side in (f.left, f.right):
            _polarity(side, env, True, domain, out)
            _polarity(side, env, False, domain, out)
    else:
        _polarity(f.left, env, not sign if f.op == "implies" else sign, domain, out)
        _polarity(f.right, env, sign, domain, out)


def label(premises: list[str], conclusion: str, extra: int = 0) -> str:
    """"True", "False", "Unknown", or "Inconsistent" when the premises have no model."""
    fs, goal = [parse(p) for p in premises], parse(conclusion)
    domain = domain_for(fs, goal, extra)
    can_fail = _Search(domain).satisfiable([*fs, Not(goal)])
    can_hold = _Search(domain).satisfiable([*fs, goal])
    return _verdict(can_fail, can_hold)


def truth_table(premises: list[str], conclusion: str, max_atoms: int = 14) -> str | None:
    """The label by listing every interpretation; None when there are too many atoms."""
    fs, goal = [parse(p) for p in premises], parse(conclusion)
    domain = domain_for(fs, goal)
    atoms = ground_atoms([*fs, goal], domain)
    if len(atoms) > max_atoms:
        return None
    env: dict[str, str] = {}
    can_fail = can_hold = False
    for bits in itertools.product((False, True), repeat=len(atoms)):
        interp = dict(zip(atoms, bits))
        if all(value(f, env, interp, domain) for f in fs):
            holds = value(goal, env, interp, domain)
            can_hold, can_fail = can_hold or bool(holds), can_fail or not holds
    return _verdict(can_fail, can_hold)


def _verdict(can_fail: bool, can_hold: bool) -> str:
    if not can_fail and not can_hold:
        return "Inconsistent"
    return "True" if not can_fail else "False" if not can_hold else "Unknown"
