"""Hypothesis strategies for formulas (shared by the formula and prover tests)."""

from __future__ import annotations

from hypothesis import strategies as st

from callgym.envs.fol.formula import BINARY_OPS, MAX_DEPTH, QUANTIFIERS, Atom, Binary, Formula, Not, Quant

IDENT = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,5}", fullmatch=True).filter(
    lambda s: s not in QUANTIFIERS)


def _extend(children: st.SearchStrategy[Formula],
            variables: st.SearchStrategy[str]) -> st.SearchStrategy[Formula]:
    return st.one_of(
        st.builds(Not, children),
        st.builds(Binary, st.sampled_from(BINARY_OPS), children, children),
        st.builds(Quant, st.sampled_from(QUANTIFIERS), variables, children),
    )


# Any names, arities 1..3: for the parser and printer.
ANY_ATOM = st.builds(Atom, IDENT, st.lists(IDENT, min_size=1, max_size=3).map(tuple))
ANY_FORMULA = st.recursive(ANY_ATOM, lambda c: _extend(c, IDENT), max_leaves=12).filter(
    lambda f: f.depth <= MAX_DEPTH)

# A small vocabulary (P/1, Q/1, R/2; constants a, b; variables x, y): for semantics.
# An unbound x or y is a constant, as in the prover's documented reading.
_TERM = st.sampled_from(["a", "b", "x", "y"])
SMALL_ATOM = st.one_of(
    st.builds(lambda t: Atom("P", (t,)), _TERM),
    st.builds(lambda t: Atom("Q", (t,)), _TERM),
    st.builds(lambda s, t: Atom("R", (s, t)), _TERM, _TERM),
)
SMALL_FORMULA = st.recursive(SMALL_ATOM, lambda c: _extend(c, st.sampled_from(["x", "y"])), max_leaves=5)

# Unary only, one constant: few enough ground atoms for a full truth table.
_TINY_TERM = st.sampled_from(["a", "x"])
TINY_ATOM = st.builds(Atom, st.sampled_from(["P", "Q"]), _TINY_TERM.map(lambda t: (t,)))
TINY_FORMULA = st.recursive(TINY_ATOM, lambda c: _extend(c, st.just("x")), max_leaves=4)
