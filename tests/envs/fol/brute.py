"""An independent entailment checker for the tests: search over interpretations.

It shares nothing with callgym's prover but the parser's AST: no clauses, no Tseitin
variables, no sympy. Formulas are evaluated directly in three-valued (Kleene) logic under a
partial interpretation, and interpretations over a finite domain are enumerated by
backtracking over ground atoms, pruning a branch as soon as some formula is already false
(and fixing an atom when only one value keeps a formula alive). :func:`truth_table` is the
plainest possible version, for checking the search itself on tiny vocabularies.
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
        wanted = True if f.kind == "exists" else False
        return (wanted in signs) + existential_count(f.body, signs)
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


def _instances(formulas: list[Formula], domain: list[str]) -> list[tuple[Formula, dict[str, str]]]:
    """Split top-level ∧ and ∀ into small pieces, so each piece is decided early."""
    out: list[tuple[Formula, dict[str, str]]] = []
    todo: list[tuple[Formula, dict[str, str]]] = [(f, {}) for f in formulas]
    while todo:
        f, env = todo.pop()
        if isinstance(f, Binary) and f.op == "and":
            todo += [(f.left, env), (f.right, env)]
        elif isinstance(f, Quant) and f.kind == "forall":
            todo += [(f.body, {**env, f.var: e}) for e in domain]
        elif isinstance(f, Not) and isinstance(f.body, Not):
            todo.append((f.body.body, env))
        elif isinstance(f, Not) and isinstance(f.body, Quant) and f.body.kind == "exists":
            todo += [(Not(f.body.body), {**env, f.body.var: e}) for e in domain]
        elif isinstance(f, Not) and isinstance(f.body, Binary) and f.body.op in ("or", "implies"):
            left = f.body.left if f.body.op == "implies" else Not(f.body.left)
            todo += [(left, env), (Not(f.body.right), env)]
        else:
            out.append((f, env))
    return out


def _mentions(f: Formula, env: dict[str, str], domain: list[str]) -> set[GroundAtom]:
    if isinstance(f, Atom):
        return {(f.pred, *(env.get(t, t) for t in f.args))}
    if isinstance(f, Not):
        return _mentions(f.body, env, domain)
    if isinstance(f, Quant):
        return set().union(*(_mentions(f.body, {**env, f.var: e}, domain) for e in domain))
    return _mentions(f.left, env, domain) | _mentions(f.right, env, domain)


class _Search:
    """Backtracking over interpretations with Kleene pruning and unit fixing."""

    def __init__(self, formulas: list[Formula], domain: list[str]) -> None:
        self.domain = domain
        self.instances = _instances(formulas, domain)
        self.atoms = [sorted(_mentions(f, env, domain)) for f, env in self.instances]
        self.watch: dict[GroundAtom, list[int]] = {}
        for i, atoms in enumerate(self.atoms):
            for atom in atoms:
                self.watch.setdefault(atom, []).append(i)

    def satisfiable(self) -> bool:
        return self._solve({}, set(range(len(self.instances))))

    def _solve(self, interp: Interp, pending: set[int]) -> bool:
        interp = dict(interp)
        while pending:
            if not self._propagate(interp, pending):
                return False
            for atom in self._pure(interp):
                pending.update(self.watch[atom])
        open_ = [i for i in range(len(self.instances)) if self._value(i, interp) is None]
        if not open_:
            return True
        i = min(open_, key=lambda j: sum(a not in interp for a in self.atoms[j]))
        atom = next(a for a in self.atoms[i] if a not in interp)
        return any(self._solve({**interp, atom: v}, set(self.watch[atom])) for v in (True, False))

    def _value(self, i: int, interp: Interp) -> bool | None:
        f, env = self.instances[i]
        return value(f, env, interp, self.domain)

    def _pure(self, interp: Interp) -> list[GroundAtom]:
        """Fix atoms that occur with one polarity only in the open formulas (pure literals):
        that value cannot make any of them false, so satisfiability is unchanged. This prunes
        the unrelated parts (distractors) that would otherwise multiply the search."""
        signs: dict[GroundAtom, set[bool]] = {}
        for i in range(len(self.instances)):
            if self._value(i, interp) is None:
                f, env = self.instances[i]
                _polarity(f, env, True, self.domain, signs)
        fixed = [a for a, s in signs.items() if a not in interp and len(s) == 1]
        for atom in fixed:
            interp[atom] = next(iter(signs[atom]))
        return fixed

    def _propagate(self, interp: Interp, pending: set[int]) -> bool:
        while pending:
            i = pending.pop()
            v = self._value(i, interp)
            if v is False:
                return False
            free = [a for a in self.atoms[i] if a not in interp] if v is None else []
            if len(free) != 1:
                continue
            alive = [b for b in (True, False) if self._value(i, {**interp, free[0]: b}) is not False]
            if not alive:
                return False
            if len(alive) == 1:
                interp[free[0]] = alive[0]
                pending.update(self.watch[free[0]])
        return True


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
    can_fail = _Search([*fs, Not(goal)], domain).satisfiable()
    can_hold = _Search([*fs, goal], domain).satisfiable()
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
