from __future__ import annotations

import itertools
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callgym.envs.fol import sat
from callgym.envs.fol.formula import FormulaError, to_text
from callgym.envs.fol.prover import InconsistentPremisesError, _entails, entails
from tests.envs.fol import brute
from tests.envs.fol.strategies import SMALL_FORMULA, TINY_FORMULA


@pytest.mark.parametrize("premises, conclusion, label", [
    # modus ponens, chained
    (["∀x (Dog(x) → Animal(x))", "∀x (Animal(x) → Alive(x))", "Dog(rex)"], "Alive(rex)", "True"),
    # affirming the consequent is not valid
    (["∀x (Dog(x) → Animal(x))", "Animal(rex)"], "Dog(rex)", "Unknown"),
    # modus tollens
    (["∀x (Dog(x) → Animal(x))", "¬Animal(rex)"], "Dog(rex)", "False"),
    # disjunctive syllogism and exclusive or
    (["Cat(tom) ∨ Dog(tom)", "¬Dog(tom)"], "Cat(tom)", "True"),
    (["Cat(tom) ⊕ Dog(tom)", "Dog(tom)"], "Cat(tom)", "False"),
    (["Cat(tom) ∨ Dog(tom)", "Dog(tom)"], "Cat(tom)", "Unknown"),
    # an existential does not pick a named individual
    (["∃x Dog(x)"], "Dog(rex)", "Unknown"),
    (["∃x Dog(x)", "∀x (Dog(x) → Barks(x))"], "∃x Barks(x)", "True"),
    (["∃x Dog(x)", "∀x (Dog(x) → ¬Barks(x))"], "∀x Barks(x)", "False"),
    # facts about named individuals do not make a universal true
    (["Dog(rex)", "Animal(rex)"], "∀x (Dog(x) → Animal(x))", "Unknown"),
    (["∀x Dog(x)"], "∃x Dog(x)", "True"),
    # binary relations and nested quantifiers
    (["∀x (Kind(x) → Loves(mary, x))", "Kind(john)"], "Loves(mary, john)", "True"),
    (["∀x ∀y (Loves(x, y) → Knows(x, y))", "Loves(ann, bob)"], "Knows(bob, ann)", "Unknown"),
    (["∀x ∃y Loves(x, y)"], "∃y Loves(ann, y)", "True"),
    (["∃y ∀x Loves(x, y)"], "∀x ∃y Loves(x, y)", "True"),
    (["∀x ∃y Loves(x, y)"], "∃y ∀x Loves(x, y)", "Unknown"),
    # no premises: validities and unknowns
    ([], "P(a) ∨ ¬P(a)", "True"),
    ([], "P(a) ∧ ¬P(a)", "False"),
    ([], "P(a)", "Unknown"),
    # a quantifier followed by a group scopes over that group only (FOLIO's reading)
    (["∀x (Chef(x) ∧ ∃y (Owns(x, y) ∧ Restaurant(y)) → Busy(x))", "Chef(mia)", "Owns(mia, lupa)",
      "Restaurant(lupa)"], "Busy(mia)", "True"),
    (["∀x (Chef(x) ∧ ∃y (Owns(x, y) ∧ Restaurant(y)) → Busy(x))", "Chef(mia)"], "Busy(mia)", "Unknown"),
    (["∃x (Dog(x)) ∧ Barks(rex)"], "Barks(rex)", "True"),
    (["∃x Dog(x) ∧ Barks(x)"], "Barks(rex)", "Unknown"),  # no group: x is bound, not rex
    # the ASCII notation works the same
    (["forall x (Dog(x) -> Animal(x))", "Dog(rex)"], "Animal(rex) & ~~Dog(rex)", "True"),
])
def test_known_entailments(premises: list[str], conclusion: str, label: str) -> None:
    assert entails(premises, conclusion) == label
    assert brute.label(premises, conclusion, extra=1) == label


def test_inconsistent_premises_raise() -> None:
    with pytest.raises(InconsistentPremisesError, match="contradict each other"):
        entails(["∀x (Dog(x) → Animal(x))", "Dog(rex)", "¬Animal(rex)"], "Cat(tom)")
    assert issubclass(InconsistentPremisesError, FormulaError)


def test_limit_premises_with_only_infinite_models() -> None:
    """Documented limit: outside the Bernays-Schönfinkel class the domain is finite, so
    these consistent premises (every element has a greater one) look inconsistent."""
    premises = ["∀x ∃y Less(x, y)", "∀x ¬Less(x, x)",
                "∀x ∀y ∀z (Less(x, y) ∧ Less(y, z) → Less(x, z))"]
    with pytest.raises(InconsistentPremisesError):
        entails(premises, "P(a)")


def test_parse_errors_name_the_formula() -> None:
    with pytest.raises(FormulaError, match=r"^premise 2: unexpected '\)'"):
        entails(["P(a)", "Q(a))"], "P(a)")
    with pytest.raises(FormulaError, match="^conclusion: "):
        entails(["P(a)"], "P(")


def test_arity_must_agree_across_formulas() -> None:
    with pytest.raises(FormulaError, match="Loves is used with 2 and with 1"):
        entails(["Loves(ann, bob)"], "Loves(ann)")


def test_premises_must_be_a_list() -> None:
    with pytest.raises(FormulaError, match="list of formulas"):
        entails("P(a)", "P(a)")  # type: ignore[arg-type]


@pytest.mark.parametrize("premises, conclusion, fragment", [
    ([f"P(c{i})" for i in range(13)], "P(c0)", "domain of 13 elements"),
    (["P(a)"] * 101, "P(a)", "at most 100"),
    (["∀x ∀y ∀z ∀w ∀v (R(x, y, z) ∨ R(y, z, w) ∨ R(z, w, v))", *(f"P(c{i})" for i in range(8))],
     "P(c0)", "grounding"),
])
def test_cost_bounds_raise_quickly(premises: list[str], conclusion: str, fragment: str) -> None:
    start = time.perf_counter()
    with pytest.raises(FormulaError, match=fragment):
        entails(premises, conclusion)
    assert time.perf_counter() - start < 2.0


def _pigeonhole(pigeons: int) -> list[set[int]]:
    """Pigeons into one hole fewer: unsatisfiable, and exponential for resolution (so for CDCL)."""
    holes = range(pigeons - 1)
    var = {(p, h): 1 + p * len(holes) + h for p in range(pigeons) for h in holes}
    clauses = [{var[p, h] for h in holes} for p in range(pigeons)]
    clauses += [{-var[p, h], -var[q, h]} for h in holes for p, q in itertools.combinations(range(pigeons), 2)]
    return clauses


def test_solver_work_budget_is_counted_not_timed() -> None:
    with sat.Clauses(_pigeonhole(12)) as cnf, pytest.raises(sat.ProverGaveUp, match="conflicts"):
        cnf.satisfiable()
    spent = cnf.spent()
    assert spent["conflicts"] <= sat.MAX_CONFLICTS + 1 and spent["propagations"] <= sat.MAX_PROPAGATIONS * 1.1
    with sat.Clauses(_pigeonhole(12)) as again, pytest.raises(sat.ProverGaveUp):
        again.satisfiable()
    assert again.spent() == spent  # deterministic: the same input stops at the same point
    assert sat.satisfiable(_pigeonhole(5)) is False  # small ones are decided


def test_solver() -> None:
    assert sat.satisfiable([{1}, {-1}]) is False
    assert sat.satisfiable([{1}, {-1, 2}, {-2, 3}]) is True
    assert sat.satisfiable([{1, 2}, {-1, -2}, {1, -2}, {-1, 2}]) is False
    assert sat.satisfiable([{1, 2}, {-1, -2}, {1, -2}]) is True
    assert sat.satisfiable([]) is True


def test_a_long_chain_of_implications_costs_one_propagation_per_link() -> None:
    links = 5_000
    clauses = [{2}, *({-i, i + 1} for i in range(2, links + 2)), {-(links + 2)}]
    with sat.Clauses(clauses) as cnf:
        assert cnf.satisfiable() is False
        assert cnf.spent()["propagations"] <= 2 * links


def test_results_are_cached() -> None:
    premises = ["∀x (Owl(x) → Bird(x))", "Owl(hoot)"]
    entails(premises, "Bird(hoot)")
    hits = _entails.cache_info().hits
    assert entails(list(premises), "Bird(hoot)") == "True"
    assert _entails.cache_info().hits == hits + 1


def _prover_label(premises: list[str], conclusion: str) -> str:
    try:
        return entails(premises, conclusion)
    except InconsistentPremisesError:
        return "Inconsistent"


@given(st.lists(SMALL_FORMULA, max_size=3), SMALL_FORMULA)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_prover_agrees_with_brute_force_search(premises: list, conclusion: object) -> None:
    texts = [to_text(f) for f in premises]
    goal = to_text(conclusion)  # type: ignore[arg-type]
    assert _prover_label(texts, goal) == brute.label(texts, goal)


@given(st.lists(TINY_FORMULA, max_size=3), TINY_FORMULA)
@settings(max_examples=150, deadline=None)
def test_search_and_prover_agree_with_truth_tables(premises: list, conclusion: object) -> None:
    texts = [to_text(f) for f in premises]
    goal = to_text(conclusion)  # type: ignore[arg-type]
    expected = brute.truth_table(texts, goal)
    if expected is not None:
        assert brute.label(texts, goal) == expected
        assert _prover_label(texts, goal) == expected
