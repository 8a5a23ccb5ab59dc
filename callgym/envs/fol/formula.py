"""First-order formulas: a bounded parser and a printer that round-trips.

Two notations are read, and may be mixed: FOLIO's unicode (``∀x (Dog(x) → Animal(x))``)
and ASCII (``forall x (Dog(x) -> Animal(x))``).

==========  =========  ===========  =================================
connective  unicode    ASCII        binds (tightest first)
==========  =========  ===========  =================================
not         ``¬``      ``~``        1
and         ``∧``      ``&``        2
xor         ``⊕``      ``^``        3
or          ``∨``      ``|``        4
implies     ``→``      ``->``       5 (right-associative)
iff         ``↔``      ``<->``      6
==========  =========  ===========  =================================

A quantifier directly followed by a parenthesised group scopes over exactly that group, as
FOLIO's authors mean it: in ``∀x (Chef(x) ∧ ∃y (Owns(x, y) ∧ Restaurant(y)) → Busy(x))`` the
``∃y`` covers only ``(Owns(x, y) ∧ Restaurant(y))``, so the formula reads as
``∀x ((Chef(x) ∧ ∃y (Owns(x, y) ∧ Restaurant(y))) → Busy(x))``. A quantifier not followed by
``(`` scopes as far right as possible: ``∀x P(x) → Q(x)`` reads as ``∀x (P(x) → Q(x))``, and
``∀x ∃y (R(x, y)) ∧ P(x)`` as ``∀x ((∃y (R(x, y))) ∧ P(x))``.

Atoms are predicates applied to 1..3 terms; a term is a variable when an enclosing
quantifier binds it and a constant otherwise, so the AST keeps terms as plain names. Input
is bounded (:data:`MAX_CHARS` characters, :data:`MAX_DEPTH` levels of nesting) so hostile
text fails fast with a :class:`FormulaError` instead of hanging; its message names the
position (counted from 0) and what was expected there.

>>> f = parse("forall x (Dog(x) -> Animal(x))")
>>> to_text(f)
'∀x (Dog(x) → Animal(x))'
>>> parse(to_text(f)) == f
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from callgym.errors import ModelError

MAX_CHARS = 2_000
MAX_DEPTH = 50
MAX_ARITY = 3
BINARY_OPS = ("and", "xor", "or", "implies", "iff")
QUANTIFIERS = ("forall", "exists")
# Binding strength of each binary connective: larger binds tighter.
PRECEDENCE = {"iff": 1, "implies": 2, "or": 3, "xor": 4, "and": 5}
_SYMBOLS = {
    "unicode": {"not": "¬", "and": "∧", "xor": "⊕", "or": "∨", "implies": "→", "iff": "↔",
                "forall": "∀", "exists": "∃"},
    "ascii": {"not": "~", "and": "&", "xor": "^", "or": "|", "implies": "->", "iff": "<->",
              "forall": "forall ", "exists": "exists "},
}
# Longest spellings first so '<->' is not read as '<' followed by '->'.
_OPERATORS = [("<->", "iff"), ("->", "implies"), ("¬", "not"), ("~", "not"), ("∧", "and"),
              ("&", "and"), ("⊕", "xor"), ("^", "xor"), ("∨", "or"), ("|", "or"),
              ("→", "implies"), ("↔", "iff"), ("∀", "forall"), ("∃", "exists"),
              ("(", "("), (")", ")"), (",", ",")]
_SINGLE_CHAR = {spelling: kind for spelling, kind in _OPERATORS if len(spelling) == 1}
_MULTI_CHAR = [(spelling, kind) for spelling, kind in _OPERATORS if len(spelling) > 1]
_WORD_REST = re.compile(r"\w*")  # \w is exactly str.isalnum() or "_"
_KEYWORDS = {"forall": "forall", "exists": "exists"}
_EXPECT_FORMULA = "expected a predicate like Dog(x), '¬', a quantifier like ∀x, or '('"


class FormulaError(ModelError, ValueError):
    """A formula that cannot be parsed or decided; the message says what to fix.

    It is a :class:`callgym.errors.ModelError` (the env shows it to the model) and a
    :class:`ValueError`.
    """


@dataclass(frozen=True)
class Atom:
    """A predicate applied to terms, e.g. ``Loves(john, x)``."""

    pred: str
    args: tuple[str, ...]
    depth: int = field(default=1, init=False, compare=False, repr=False)


@dataclass(frozen=True)
class Not:
    """Negation."""

    body: Formula
    depth: int = field(default=1, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "depth", self.body.depth + 1)


@dataclass(frozen=True)
class Binary:
    """A binary connective; ``op`` is one of :data:`BINARY_OPS`."""

    op: str
    left: Formula
    right: Formula
    depth: int = field(default=1, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.op not in PRECEDENCE:
            raise ValueError(f"Binary.op must be one of {BINARY_OPS}, not {self.op!r}")
        object.__setattr__(self, "depth", max(self.left.depth, self.right.depth) + 1)


@dataclass(frozen=True)
class Quant:
    """A quantifier; ``kind`` is ``"forall"`` or ``"exists"``."""

    kind: str
    var: str
    body: Formula
    depth: int = field(default=1, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in QUANTIFIERS:
            raise ValueError(f"Quant.kind must be one of {QUANTIFIERS}, not {self.kind!r}")
        object.__setattr__(self, "depth", self.body.depth + 1)


Formula = Atom | Not | Binary | Quant


@dataclass(frozen=True)
class _Token:
    kind: str  # an operator name from _OPERATORS, "ident" or "end"
    text: str
    pos: int


def _describe(tok: _Token) -> str:
    return "end of formula" if tok.kind == "end" else repr(tok.text)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch.isalpha() or ch == "_":
            start, i = i, _WORD_REST.match(text, i + 1).end()  # type: ignore[union-attr]
            word = text[start:i]
            tokens.append(_Token(_KEYWORDS.get(word, "ident"), word, start))
        else:
            tokens.append(_operator_at(text, i))
            i += len(tokens[-1].text)
    tokens.append(_Token("end", "", n))
    return tokens


def _operator_at(text: str, i: int) -> _Token:
    ch = text[i]
    for spelling, kind in _MULTI_CHAR:
        if text.startswith(spelling, i):
            return _Token(kind, spelling, i)
    if ch in _SINGLE_CHAR:
        return _Token(_SINGLE_CHAR[ch], ch, i)
    if ch in "=≠":
        raise FormulaError(f"equality {ch!r} at position {i} is not supported; "
                           "use a predicate such as Same(x, y) instead")
    raise FormulaError(f"unexpected character {ch!r} at position {i}; use ¬ ∧ ∨ ⊕ → ↔ ∀ ∃ "
                       "(or ~ & | ^ -> <-> forall exists), names, parentheses and commas")


class _Parser:
    """Recursive descent over tokens; only '(', '¬' and quantifiers recurse, so depth is bounded."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.i = 0
        self.nesting = 0

    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def take(self, kind: str, expected: str) -> _Token:
        tok = self.tok
        if tok.kind != kind:
            raise FormulaError(f"unexpected {_describe(tok)} at position {tok.pos}; {expected}")
        self.i += 1
        return tok

    def formula(self) -> Formula:
        """iff := implies (↔ implies)*, left-associative."""
        node = self.implies()
        while self.tok.kind == "iff":
            self.i += 1
            node = _checked(Binary("iff", node, self.implies()))
        return node

    def implies(self) -> Formula:
        """implies := or (→ or)*, right-associative, folded without recursion."""
        parts = [self.binary("or")]
        while self.tok.kind == "implies":
            self.i += 1
            parts.append(self.binary("or"))
        node = parts.pop()
        while parts:
            node = _checked(Binary("implies", parts.pop(), node))
        return node

    def binary(self, op: str) -> Formula:
        """The left-associative levels: or := xor (∨ xor)*, xor := and (⊕ and)*, and := unary."""
        tighter = {"or": "xor", "xor": "and"}.get(op)
        node = self.binary(tighter) if tighter else self.unary()
        while self.tok.kind == op:
            self.i += 1
            node = _checked(Binary(op, node, self.binary(tighter) if tighter else self.unary()))
        return node

    def unary(self) -> Formula:
        tok = self.tok
        if tok.kind in ("not", "forall", "exists", "("):
            return self.nested(tok)
        if tok.kind == "ident":
            return self.atom()
        raise FormulaError(f"unexpected {_describe(tok)} at position {tok.pos}; {_EXPECT_FORMULA}")

    def nested(self, tok: _Token) -> Formula:
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise FormulaError(f"formula nests deeper than {MAX_DEPTH} levels at position "
                               f"{tok.pos}; split it into simpler formulas")
        self.i += 1
        if tok.kind == "not":
            node: Formula = Not(self.unary())
        elif tok.kind == "(":
            node = self.formula()
            self.take(")", f"expected ')' to close the '(' at position {tok.pos}")
        else:
            var = self.variable(tok.text.strip())
            node = Quant(tok.kind, var, self.scope())
        self.nesting -= 1
        return _checked(node)

    def scope(self) -> Formula:
        """A quantifier's body: exactly the parenthesised group that follows it, if one does
        (what follows the group is outside the scope); else everything to the right."""
        return self.unary() if self.tok.kind == "(" else self.formula()

    def variable(self, quantifier: str) -> str:
        space = "" if len(quantifier) == 1 else " "
        hint = f"expected a variable after {quantifier}, as in {quantifier}{space}x Dog(x)"
        var = self.take("ident", hint)
        # '∀ Dog(x)' would otherwise read 'Dog' as the variable and fail later, obscurely.
        if var.text[0].isupper() and self.tok.kind == "(" and self.tok.pos == var.pos + len(var.text):
            raise FormulaError(f"unexpected predicate {var.text!r} at position {var.pos}; {hint}")
        return var.text

    def atom(self) -> Atom:
        name = self.take("ident", _EXPECT_FORMULA)
        self.take("(", f"expected '(' after {name.text!r}; write a predicate with arguments, "
                       f"like {name.text}(x)")
        args = [self.take("ident", "expected a variable or constant name").text]
        while self.tok.kind == ",":
            self.i += 1
            args.append(self.take("ident", "expected a variable or constant name after ','").text)
        self.take(")", f"expected ',' or ')' to finish {name.text}(...)")
        if len(args) > MAX_ARITY:
            raise FormulaError(f"predicate {name.text} at position {name.pos} has {len(args)} "
                               f"arguments; at most {MAX_ARITY} are supported")
        return Atom(name.text, tuple(args))


def _checked(node: Formula) -> Formula:
    if node.depth > MAX_DEPTH:
        raise FormulaError(f"formula nests deeper than {MAX_DEPTH} levels; split it into "
                           "simpler formulas")
    return node


@lru_cache(maxsize=8192)
def parse(text: str) -> Formula:
    """Parse a formula in unicode or ASCII notation.

    Args:
        text: The formula, at most :data:`MAX_CHARS` characters.

    Returns:
        The formula's AST (immutable, hashable).

    Raises:
        FormulaError: The text is not a well-formed formula, or exceeds the bounds.
    """
    if not isinstance(text, str):
        raise FormulaError(f"a formula must be a string, not {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise FormulaError(f"formula is {len(text)} characters long; the limit is {MAX_CHARS}, "
                           "so split it into several shorter formulas")
    parser = _Parser(text)
    if parser.tok.kind == "end":
        raise FormulaError(f"the formula is empty; {_EXPECT_FORMULA}")
    node = parser.formula()
    if parser.tok.kind != "end":
        tok = parser.tok
        raise FormulaError(f"unexpected {_describe(tok)} at position {tok.pos}; expected a "
                           "connective (∧ ∨ ⊕ → ↔) or the end of the formula")
    return node


def to_text(formula: Formula, style: str = "unicode") -> str:
    """Print a formula so that ``parse(to_text(f, style)) == f``.

    Args:
        formula: The AST to print.
        style: ``"unicode"`` (FOLIO's symbols) or ``"ascii"``.
    """
    if style not in _SYMBOLS:
        raise ValueError(f"style must be 'unicode' or 'ascii', not {style!r}")
    return _print(formula, _SYMBOLS[style], tail=True)


def _print(f: Formula, sym: dict[str, str], tail: bool) -> str:
    """``tail`` says nothing follows ``f`` in its context. A quantifier's body goes in
    parentheses (which then bound its scope) unless it is a binary-free body at the tail,
    where a scope running to the right swallows nothing: ``∀x P(x)``, ``∀x ∃y (...)``."""
    if isinstance(f, Atom):
        return f"{f.pred}({', '.join(f.args)})"
    if isinstance(f, Not):
        inner = _print(f.body, sym, tail)
        return sym["not"] + (f"({inner})" if isinstance(f.body, Binary) else inner)
    if isinstance(f, Quant):
        body = _print(f.body, sym, tail=True)
        grouped = isinstance(f.body, Binary) or not tail
        return f"{sym[f.kind]}{f.var} " + (f"({body})" if grouped else body)
    return _print_binary(f, sym, tail)


def _print_binary(f: Binary, sym: dict[str, str], tail: bool) -> str:
    left = _operand(f, f.left, sym, "left", tail)
    right = _operand(f, f.right, sym, "right", tail)
    return f"{left} {sym[f.op]} {right}"


def _operand(parent: Binary, child: Formula, sym: dict[str, str], side: str, tail: bool) -> str:
    if isinstance(child, Binary):
        mine, theirs = PRECEDENCE[parent.op], PRECEDENCE[child.op]
        # '→' groups to the right, every other connective to the left.
        same_side = "right" if parent.op == "implies" else "left"
        if theirs < mine or (theirs == mine and side != same_side):
            return f"({_print(child, sym, tail=True)})"
    return _print(child, sym, tail=tail and side == "right")


def signature(formula: Formula) -> tuple[dict[str, int], set[str]]:
    """The predicates (name -> arity) and the constants (unbound terms) of a formula.

    Raises:
        FormulaError: A predicate is used with two different numbers of arguments.
    """
    preds: dict[str, int] = {}
    consts: set[str] = set()
    _collect(formula, frozenset(), preds, consts)
    return preds, consts


def _collect(f: Formula, bound: frozenset[str], preds: dict[str, int], consts: set[str]) -> None:
    if isinstance(f, Atom):
        if preds.setdefault(f.pred, len(f.args)) != len(f.args):
            raise FormulaError(f"predicate {f.pred} is used with {preds[f.pred]} and with "
                               f"{len(f.args)} arguments; use one arity per predicate name")
        consts.update(a for a in f.args if a not in bound)
    elif isinstance(f, Not):
        _collect(f.body, bound, preds, consts)
    elif isinstance(f, Quant):
        _collect(f.body, bound | {f.var}, preds, consts)
    else:
        _collect(f.left, bound, preds, consts)
        _collect(f.right, bound, preds, consts)
