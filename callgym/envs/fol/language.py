"""Vocabulary and English phrasings for generated first-order logic problems.

Every ``say_*`` function returns a :data:`Statement`: the English sentence and the formula
it means, so the two can never drift apart. Where several phrasings fit, one is drawn from
the caller's ``random.Random``; a phrasing is only offered where it reads naturally (``All
teachers ...`` needs a positive noun-like antecedent).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from callgym.envs.fol.formula import Atom, Binary, Formula, Not, Quant

Statement = tuple[str, Formula]

NAMES = ("Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy",
         "Liam", "Mia", "Noah", "Olivia", "Peggy", "Quinn", "Rupert", "Sybil", "Trent", "Uma",
         "Victor", "Walter", "Yara", "Zoe")
NOUNS = ("teacher", "student", "musician", "doctor", "painter", "farmer", "lawyer", "chef",
         "pilot", "writer", "athlete", "scientist", "engineer", "artist", "dancer", "nurse",
         "poet", "singer", "gardener", "baker")
ADJECTIVES = ("happy", "kind", "tall", "brave", "curious", "quiet", "rich", "smart", "calm",
              "funny", "polite", "honest", "patient", "generous", "shy", "strong", "busy", "famous")
# (third person singular, base form)
VERBS = (("plays chess", "play chess"), ("likes jazz", "like jazz"), ("owns a car", "own a car"),
         ("speaks French", "speak French"), ("drinks coffee", "drink coffee"),
         ("reads poetry", "read poetry"), ("grows tomatoes", "grow tomatoes"),
         ("swims daily", "swim daily"), ("bakes bread", "bake bread"), ("walks to work", "walk to work"))
# (third person singular, base form, past participle)
RELATIONS = (("loves", "love", "loved"), ("knows", "know", "known"),
             ("admires", "admire", "admired"), ("trusts", "trust", "trusted"),
             ("helps", "help", "helped"), ("respects", "respect", "respected"),
             ("follows", "follow", "followed"), ("teaches", "teach", "taught"))


def _article(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


@dataclass(frozen=True)
class Pred:
    """A unary predicate with the English forms the templates need."""

    name: str
    kind: str  # "noun", "adj" or "verb"
    word: str  # "teacher", "happy", "plays chess"
    base: str  # "teachers", "happy", "play chess"

    def sg(self, positive: bool = True) -> str:
        """Third person singular: 'is a teacher', 'is not happy', 'does not play chess'."""
        if self.kind == "verb":
            return self.word if positive else f"does not {self.base}"
        what = _article(self.word) if self.kind == "noun" else self.word
        return f"is {what}" if positive else f"is not {what}"

    def pl(self, positive: bool = True) -> str:
        """Plural: 'are teachers', 'are not happy', 'do not play chess'."""
        if self.kind == "verb":
            return self.base if positive else f"do not {self.base}"
        return f"are {self.base}" if positive else f"are not {self.base}"

    def they(self, positive: bool = True) -> str:
        """After singular 'they': 'are a teacher', 'are happy', 'play chess'."""
        if self.kind == "noun":
            return f"are {_article(self.word)}" if positive else f"are not {_article(self.word)}"
        return self.pl(positive)

    def one(self) -> str:
        """A singular noun phrase: 'teacher', 'happy person', 'person who plays chess'."""
        return {"noun": self.word, "adj": f"{self.word} person"}.get(self.kind, f"person who {self.word}")

    def group(self) -> str:
        """A plural noun phrase: 'teachers', 'happy people', 'people who play chess'."""
        return {"noun": self.base, "adj": f"{self.word} people"}.get(self.kind, f"people who {self.base}")


@dataclass(frozen=True)
class Relation:
    """A binary predicate: 'Alice loves Bob'."""

    name: str
    word: str  # "loves"
    base: str  # "love"
    passive: str  # "loved"


@dataclass(frozen=True)
class Lit:
    """A unary literal: a predicate, possibly negated."""

    pred: Pred
    positive: bool = True

    def negated(self) -> Lit:
        return Lit(self.pred, not self.positive)

    def of(self, term: str) -> Formula:
        atom = Atom(self.pred.name, (term,))
        return atom if self.positive else Not(atom)

    def sg(self) -> str:
        return self.pred.sg(self.positive)


def vocabulary() -> tuple[list[Pred], list[Relation], list[str]]:
    """All unary predicates, relations and names, in a fixed order."""
    preds = [Pred(w.capitalize(), "noun", w, w + "s") for w in NOUNS]
    preds += [Pred(w.capitalize(), "adj", w, w) for w in ADJECTIVES]
    preds += [Pred("".join(p.capitalize() for p in sg.split()), "verb", sg, base) for sg, base in VERBS]
    relations = [Relation(sg.capitalize(), sg, base, past) for sg, base, past in RELATIONS]
    return preds, relations, list(NAMES)


def const(name: str) -> str:
    """The FOL constant for a display name ('Alice' -> 'alice')."""
    return name.lower()


# Consequent: a literal, or ("or" | "xor", literal, literal).
Consequent = Lit | tuple[str, Lit, Lit]


def _cons_formula(cons: Consequent, term: str) -> Formula:
    if isinstance(cons, Lit):
        return cons.of(term)
    op, a, b = cons
    return Binary(op, a.of(term), b.of(term))


def _cons_text(cons: Consequent, form: str) -> str:
    """The consequent's verb phrase in the 'sg', 'pl' or 'they' form."""
    if isinstance(cons, Lit):
        return getattr(cons.pred, form)(cons.positive)
    op, a, b = cons
    first, second = getattr(a.pred, form)(a.positive), getattr(b.pred, form)(b.positive)
    return f"{first} or {second}" if op == "or" else f"either {first} or {second}, but not both"


def say_fact(name: str, lit: Lit) -> Statement:
    return f"{name} {lit.sg()}.", lit.of(const(name))


def say_rule(rng: random.Random, ante: list[Lit], cons: Consequent) -> Statement:
    """∀x (ante_1(x) ∧ ... → cons(x)), e.g. 'All dogs are animals.'"""
    body: Formula = ante[0].of("x")
    for lit in ante[1:]:
        body = Binary("and", body, lit.of("x"))
    formula = Quant("forall", "x", Binary("implies", body, _cons_formula(cons, "x")))
    who = " and ".join(lit.sg() for lit in ante)
    options = [f"If someone {who}, then they {_cons_text(cons, 'they')}.",
               f"Anyone who {who} {_cons_text(cons, 'sg')}.",
               f"Everyone who {who} {_cons_text(cons, 'sg')}."]
    if len(ante) == 1 and ante[0].positive:
        pred = ante[0].pred
        # "All pilots are not tall" could mean "not all pilots are tall": negated
        # consequents get "No pilot is tall" instead.
        if all(lit.positive for lit in ((cons,) if isinstance(cons, Lit) else cons[1:])):
            options += [f"All {pred.group()} {_cons_text(cons, 'pl')}.",
                        f"Every {pred.one()} {_cons_text(cons, 'sg')}."]
        elif isinstance(cons, Lit):
            options.append(f"No {pred.one()} {cons.pred.sg(True)}.")
    return rng.choice(options), formula


def say_exists(rng: random.Random, lits: list[Lit]) -> Statement:
    """∃x (lit_1(x) ∧ ...), e.g. 'Some teachers are happy.'"""
    body: Formula = lits[0].of("x")
    for lit in lits[1:]:
        body = Binary("and", body, lit.of("x"))
    what = " and ".join(lit.sg() for lit in lits)
    options = [f"Someone {what}.", f"There is someone who {what}.", f"At least one person {what}."]
    if len(lits) == 2 and lits[0].positive:
        options.append(f"Some {lits[0].pred.group()} {lits[1].pred.pl(lits[1].positive)}.")
    return rng.choice(options), Quant("exists", "x", body)


def say_no_one(rng: random.Random, lit: Lit) -> Statement:
    """¬∃x lit(x), e.g. 'No one is happy.'"""
    formula = Not(Quant("exists", "x", lit.of("x")))
    return rng.choice([f"No one {lit.sg()}.", f"There is no one who {lit.sg()}."]), formula


def say_relation(subject: str, rel: Relation, obj: str, positive: bool = True) -> Statement:
    atom: Formula = Atom(rel.name, (const(subject), const(obj)))
    verb = rel.word if positive else f"does not {rel.base}"
    return f"{subject} {verb} {obj}.", atom if positive else Not(atom)


def say_rule_to_relation(rng: random.Random, lit: Lit, rel: Relation, obj: str) -> Statement:
    """∀x (lit(x) → R(x, obj)), e.g. 'Every teacher admires Bob.'"""
    formula = Quant("forall", "x", Binary("implies", lit.of("x"), Atom(rel.name, ("x", const(obj)))))
    options = [f"If someone {lit.sg()}, then they {rel.base} {obj}.",
               f"Everyone who {lit.sg()} {rel.word} {obj}."]
    if lit.positive:
        options += [f"Every {lit.pred.one()} {rel.word} {obj}.", f"All {lit.pred.group()} {rel.base} {obj}."]
    return rng.choice(options), formula


def say_rule_from_relation(rng: random.Random, rel: Relation, obj: str, lit: Lit) -> Statement:
    """∀x (R(x, obj) → lit(x)), e.g. 'Everyone who admires Bob is happy.'"""
    formula = Quant("forall", "x", Binary("implies", Atom(rel.name, ("x", const(obj))), lit.of("x")))
    options = [f"Everyone who {rel.word} {obj} {lit.sg()}.", f"Anyone who {rel.word} {obj} {lit.sg()}.",
               f"If someone {rel.word} {obj}, then they {lit.pred.they(lit.positive)}."]
    return rng.choice(options), formula


def say_rule_through_relation(rng: random.Random, lit: Lit, rel: Relation, result: Lit) -> Statement:
    """∀x ∀y (lit(x) ∧ R(x, y) → result(y)), e.g. 'Anyone loved by a teacher is happy.'"""
    ante = Binary("and", lit.of("x"), Atom(rel.name, ("x", "y")))
    formula = Quant("forall", "x", Quant("forall", "y", Binary("implies", ante, result.of("y"))))
    a_lit = _article(lit.pred.one())
    options = [f"Anyone who is {rel.passive} by {a_lit} {result.sg()}.",
               f"If {a_lit} {rel.word} someone, then that person {result.sg()}.",
               f"Everyone {rel.passive} by {a_lit} {result.sg()}."]
    return rng.choice(options), formula
