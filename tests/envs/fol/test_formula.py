from __future__ import annotations

import time

import pytest
from hypothesis import given, settings

from callgym.envs.fol.formula import (
    MAX_CHARS,
    MAX_DEPTH,
    Atom,
    Binary,
    FormulaError,
    Not,
    Quant,
    parse,
    signature,
    to_text,
)
from tests.envs.fol.strategies import ANY_FORMULA

A, B, C = Atom("A", ("a",)), Atom("B", ("a",)), Atom("C", ("a",))


@pytest.mark.parametrize("text, expected", [
    ("A(a) ∧ B(a) ∨ C(a)", Binary("or", Binary("and", A, B), C)),
    ("A(a) ∨ B(a) ∧ C(a)", Binary("or", A, Binary("and", B, C))),
    ("A(a) ⊕ B(a) ∨ C(a)", Binary("or", Binary("xor", A, B), C)),
    ("A(a) ∧ B(a) ⊕ C(a)", Binary("xor", Binary("and", A, B), C)),
    ("A(a) → B(a) → C(a)", Binary("implies", A, Binary("implies", B, C))),
    ("A(a) ↔ B(a) → C(a)", Binary("iff", A, Binary("implies", B, C))),
    ("A(a) ↔ B(a) ↔ C(a)", Binary("iff", Binary("iff", A, B), C)),
    ("¬A(a) ∧ B(a)", Binary("and", Not(A), B)),
    ("¬(A(a) ∧ B(a))", Not(Binary("and", A, B))),
    ("A(a) ∧ B(a) ∧ C(a)", Binary("and", Binary("and", A, B), C)),
])
def test_precedence_and_associativity(text: str, expected: object) -> None:
    assert parse(text) == expected


DOG, ANIMAL, LOVES = Atom("Dog", ("x",)), Atom("Animal", ("x",)), Atom("Loves", ("x", "y"))


def _forall(body: object) -> Quant:
    return Quant("forall", "x", body)  # type: ignore[arg-type]


@pytest.mark.parametrize("text, expected", [
    # no '(' right after the variable: the scope runs as far right as possible
    ("∀x Dog(x) → Animal(x)", _forall(Binary("implies", DOG, ANIMAL))),
    ("¬∃x Dog(x) ∧ Animal(x)", Not(Quant("exists", "x", Binary("and", DOG, ANIMAL)))),
    ("∀x ¬(Dog(x)) ∧ Animal(x)", _forall(Binary("and", Not(DOG), ANIMAL))),
    ("∀x ∃y (Loves(x, y)) ∧ Dog(x)", _forall(Binary("and", Quant("exists", "y", LOVES), DOG))),
    # a '(' right after the variable: the scope is exactly that group
    ("∀x (Dog(x)) → Animal(x)", Binary("implies", _forall(DOG), ANIMAL)),
    ("(∀x Dog(x)) → Animal(x)", Binary("implies", _forall(DOG), ANIMAL)),
    ("∀x (Dog(x) ∧ Animal(x)) ∨ Dog(x)", Binary("or", _forall(Binary("and", DOG, ANIMAL)), DOG)),
    ("¬∀x (Dog(x)) ∧ Animal(x)", Binary("and", Not(_forall(DOG)), ANIMAL)),
    ("forall x(Dog(x)) -> Animal(x)", Binary("implies", _forall(DOG), ANIMAL)),
    ("∀x ((Dog(x)) → Animal(x))", _forall(Binary("implies", DOG, ANIMAL))),
    # the FOLIO premise: ∃y covers its group only, so Busy(x) follows from the conjunction
    ("∀x (Chef(x) ∧ ∃y (Owns(x, y) ∧ Restaurant(y)) → Busy(x))",
     _forall(Binary("implies",
                    Binary("and", Atom("Chef", ("x",)),
                           Quant("exists", "y", Binary("and", Atom("Owns", ("x", "y")),
                                                       Atom("Restaurant", ("y",))))),
                    Atom("Busy", ("x",))))),
])
def test_quantifier_scope(text: str, expected: object) -> None:
    assert parse(text) == expected
    assert parse(to_text(parse(text))) == expected


def test_ascii_and_unicode_agree() -> None:
    unicode = "∀x ∃y (Loves(x, y) ∧ ¬Knows(y, john) ∨ P(x) ⊕ Q(y) → R(x) ↔ S(y))"
    ascii_ = "forall x exists y (Loves(x,y) & ~Knows(y,john) | P(x) ^ Q(y) -> R(x) <-> S(y))"
    assert parse(unicode) == parse(ascii_)


def test_folio_style_formulas() -> None:
    f = parse("∀x (Dog(x) → Animal(x))")
    assert to_text(f) == "∀x (Dog(x) → Animal(x))"
    assert to_text(f, "ascii") == "forall x (Dog(x) -> Animal(x))"
    nested = "∀x ∀y (Loves(x, y) ∧ Kind(x) → Happy(y))"
    assert to_text(parse(nested)) == nested


@given(ANY_FORMULA)
@settings(max_examples=500, deadline=None)
def test_round_trip_unicode_and_ascii(formula: object) -> None:
    for style in ("unicode", "ascii"):
        text = to_text(formula, style)  # type: ignore[arg-type]
        assert parse(text) == formula, text
        assert to_text(parse(text), style) == text  # printing is canonical


@pytest.mark.parametrize("formula, text", [
    (Binary("implies", _forall(DOG), ANIMAL), "∀x (Dog(x)) → Animal(x)"),
    (Binary("and", Not(_forall(DOG)), ANIMAL), "¬∀x (Dog(x)) ∧ Animal(x)"),
    (_forall(Binary("and", Quant("exists", "y", LOVES), DOG)), "∀x (∃y (Loves(x, y)) ∧ Dog(x))"),
    (_forall(Quant("exists", "y", LOVES)), "∀x ∃y Loves(x, y)"),
    (Binary("and", _forall(Quant("exists", "y", LOVES)), DOG), "∀x (∃y Loves(x, y)) ∧ Dog(x)"),
])
def test_printed_quantifiers_group_what_they_scope_over(formula: object, text: str) -> None:
    assert to_text(formula) == text  # type: ignore[arg-type]
    assert parse(text) == formula


@pytest.mark.parametrize("text, fragment", [
    ("P(a) ∧ )", "unexpected ')' at position 7; expected a predicate like Dog(x)"),
    ("Dog", "expected '(' after 'Dog'"),
    ("P(a) Q(b)", "unexpected 'Q' at position 5; expected a connective"),
    ("(P(a)", "expected ')' to close the '(' at position 0"),
    ("x = y", "equality '=' at position 2 is not supported"),
    ("P(a) $ Q(a)", "unexpected character '$' at position 5"),
    ("P(a, b, c, d)", "has 4 arguments; at most 3"),
    ("", "the formula is empty"),
    ("   ", "the formula is empty"),
    ("∀ Dog(x)", "expected a variable after ∀, as in ∀x Dog(x)"),
    ("forall (Dog(x))", "expected a variable after forall, as in forall x Dog(x)"),
    ("P()", "expected a variable or constant name"),
    ("P(a,)", "expected a variable or constant name after ','"),
])
def test_errors_say_where_and_what_to_do(text: str, fragment: str) -> None:
    with pytest.raises(FormulaError) as info:
        parse(text)
    assert fragment in str(info.value)


def test_formula_error_is_a_value_error_and_a_model_error() -> None:
    from callgym.errors import ModelError

    assert issubclass(FormulaError, ValueError)
    assert issubclass(FormulaError, ModelError)


@pytest.mark.parametrize("text", [
    "(" * 10_000,
    "P(a) ∧ " * 150_000 + "P(a)",  # about 1 MB
    "(" * (MAX_CHARS - 10) + "P(a)",
    "¬" * (MAX_CHARS - 10) + "P(a)",
    "∀x " * 100 + "P(x)",
    " ∧ ".join(["P(a)"] * 250),  # a flat chain, but 250 levels deep as a tree
    "P(a) → " * 280 + "P(a)",
])
def test_hostile_input_fails_fast(text: str) -> None:
    start = time.perf_counter()
    with pytest.raises(FormulaError):
        parse(text)
    assert time.perf_counter() - start < 0.5


def test_nesting_just_inside_the_bound_parses() -> None:
    text = "(" * (MAX_DEPTH - 1) + "P(a)" + ")" * (MAX_DEPTH - 1)
    assert parse(text) == Atom("P", ("a",))


def test_non_string_is_refused() -> None:
    with pytest.raises(FormulaError, match="must be a string"):
        parse(42)  # type: ignore[arg-type]


def test_signature_separates_constants_from_bound_variables() -> None:
    preds, consts = signature(parse("∀x (Loves(x, john) → ∃y Knows(y, x)) ∧ P(z)"))
    assert preds == {"Loves": 2, "Knows": 2, "P": 1}
    assert consts == {"john", "z"}
    with pytest.raises(FormulaError, match="used with 1 and with 2 arguments"):
        signature(parse("P(a) ∧ P(a, b)"))


def test_ast_validates_its_fields() -> None:
    with pytest.raises(ValueError, match="Binary.op"):
        Binary("nand", A, B)
    with pytest.raises(ValueError, match="Quant.kind"):
        Quant("most", "x", A)
    with pytest.raises(ValueError, match="style"):
        to_text(A, "latex")
