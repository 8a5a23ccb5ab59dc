"""Drafts of generated problems: a proof chain, one broken link for "Unknown", distractors.

A draft is only a candidate: :func:`callgym.envs.fol.generator.generate` checks its label
with the prover and draws again when a distractor happened to change it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import cast

from callgym.envs.fol.language import (
    Lit,
    Pred,
    Relation,
    Statement,
    say_exists,
    say_fact,
    say_no_one,
    say_relation,
    say_rule,
    say_rule_from_relation,
    say_rule_through_relation,
    say_rule_to_relation,
    vocabulary,
)

MAX_RELATION_STEPS = 2  # each adds a constant; this keeps the grounded domain small
NEEDS_SUBJECT = ("conj", "disj", "xor", "switch")  # steps that state facts about the subject


@dataclass(frozen=True)
class Level:
    """What one difficulty level may use."""

    depth: tuple[int, int]
    distractors: tuple[int, int]
    steps: tuple[str, ...]
    negation: bool = False
    existential: float = 0.0  # probability that the chain starts from "someone"
    universal: float = 0.0  # probability of a conclusion like "All teachers are happy"


@dataclass
class Draft:
    premises: list[Statement]
    conclusion: Statement


@dataclass
class _Link:
    statement: Statement
    near_miss: Statement | None = None  # replaces the link when the chain is broken
    is_start: bool = False


class _Words:
    """Vocabulary drawn without repetition within one draft."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        preds, relations, names = vocabulary()
        self.preds, self.relations, self.names = preds, relations, names
        for pool in (self.preds, self.relations, self.names):
            rng.shuffle(pool)

    def pred(self) -> Pred:
        return self.preds.pop()

    def name(self) -> str:
        return self.names.pop()

    def relation(self) -> Relation:
        return self.relations.pop()


@dataclass
class _Chain:
    rng: random.Random
    level: Level
    words: _Words
    subject: str | None  # a display name, or None for an anonymous "someone"
    start: Lit
    lit: Lit = field(init=False)
    links: list[_Link] = field(default_factory=list)
    used: list[Pred] = field(default_factory=list)
    rule_only: bool = True  # every step is a rule, so "∀x (start(x) → lit(x))" follows
    relation_steps: int = 0

    def __post_init__(self) -> None:
        self.lit = self.start
        self.used.append(self.start.pred)

    def new_lit(self, positive: bool | None = None) -> Lit:
        pred = self.words.pred()
        self.used.append(pred)
        if positive is None:
            positive = self.rng.random() < 0.6 if self.level.negation else True
        return Lit(pred, positive)

    def step(self, kind: str) -> None:
        if kind in NEEDS_SUBJECT and self.subject is None:
            kind = "mp"
        if kind in ("rel", "switch") and self.relation_steps >= MAX_RELATION_STEPS:
            kind = "mp"
        if kind == "switch" and not self.lit.positive:
            kind = "rel"
        self.rule_only = self.rule_only and kind in ("mp", "mt", "rel")
        getattr(self, f"_{kind}")()

    def _mp(self) -> None:  # A(x) → B(x); A(c) ⊢ B(c)
        new = self.new_lit()
        self.add(say_rule(self.rng, [self.lit], new), say_rule(self.rng, [new], self.lit))
        self.lit = new

    def _mt(self) -> None:  # ¬B(x) → ¬A(x); A(c) ⊢ B(c)
        new = self.new_lit()
        self.add(say_rule(self.rng, [new.negated()], self.lit.negated()),
                 say_rule(self.rng, [self.lit.negated()], new.negated()))
        self.lit = new

    def _conj(self) -> None:  # A(x) ∧ E(x) → B(x); A(c), E(c) ⊢ B(c)
        extra, new = self.new_lit(), self.new_lit()
        self.add(self.fact(extra), self.fact(extra.negated()))
        self.add(say_rule(self.rng, [self.lit, extra], new))
        self.lit = new

    def _disj(self) -> None:  # A(x) → B(x) ∨ F(x); A(c), ¬F(c) ⊢ B(c)
        new, other = self.new_lit(), self.new_lit()
        self.add(say_rule(self.rng, [self.lit], ("or", new, other)))
        self.add(self.fact(other.negated()), self.fact(other))
        self.lit = new

    def _xor(self) -> None:  # A(x) → B(x) ⊕ F(x); A(c), F(c) ⊢ ¬B(c)
        new, other = self.new_lit(True), self.new_lit(True)
        self.add(say_rule(self.rng, [self.lit], ("xor", new, other)))
        fact_sign = self.rng.random() < 0.5
        self.add(self.fact(Lit(other.pred, fact_sign)))
        self.lit = Lit(new.pred, not fact_sign)

    def _rel(self) -> None:  # A(x) → R(x, d); R(x, d) → B(x); A(c) ⊢ B(c)
        rel, obj, new = self.words.relation(), self.words.name(), self.new_lit()
        self.relation_steps += 1
        self.add(say_rule_to_relation(self.rng, self.lit, rel, obj),
                 say_rule_from_relation(self.rng, rel, obj, self.lit))
        self.add(say_rule_from_relation(self.rng, rel, obj, new))
        self.lit = new

    def _switch(self) -> None:  # A(x) ∧ R(x, y) → B(y); A(c), R(c, d) ⊢ B(d)
        rel, obj, new = self.words.relation(), self.words.name(), self.new_lit()
        self.relation_steps += 1
        subject = cast(str, self.subject)  # step() only chooses "switch" for a named subject
        self.add(say_relation(subject, rel, obj), say_relation(obj, rel, subject))
        self.add(say_rule_through_relation(self.rng, self.lit, rel, new))
        self.subject, self.lit = obj, new

    def fact(self, lit: Lit) -> Statement:
        # Only the NEEDS_SUBJECT steps state facts, and step() runs them for a named subject.
        return say_fact(cast(str, self.subject), lit)

    def add(self, statement: Statement, near_miss: Statement | None = None) -> None:
        self.links.append(_Link(statement, near_miss))


def draft(rng: random.Random, level: Level, label: str) -> Draft:
    """A candidate problem with ``label`` at ``level`` (unchecked)."""
    words = _Words(rng)
    others = [words.name(), words.name()]
    chain = _start(rng, level, words, others)
    for _ in range(rng.randint(*level.depth)):
        chain.step(rng.choice(level.steps))
    universal = chain.rule_only and rng.random() < level.universal
    if label == "Unknown":
        _break(rng, chain, universal)
    premises = [link.statement for link in chain.links]
    count = rng.randint(*level.distractors)
    premises += [_distractor(rng, level, words, chain, others) for _ in range(count)]
    rng.shuffle(premises)
    return Draft(premises, _conclusion(rng, chain, label, universal))


def _start(rng: random.Random, level: Level, words: _Words, others: list[str]) -> _Chain:
    if rng.random() < level.existential:
        chain = _Chain(rng, level, words, None, Lit(words.pred()))
        decoration = [Lit(words.pred())] if rng.random() < 0.5 else []
        miss = say_exists(rng, [Lit(words.pred())])
        chain.links.append(_Link(say_exists(rng, decoration + [chain.start]), miss, is_start=True))
        return chain
    subject = words.name()
    start = Lit(words.pred(), rng.random() < 0.7 if level.negation else True)
    chain = _Chain(rng, level, words, subject, start)
    chain.links.append(_Link(say_fact(subject, start), say_fact(others[0], start), is_start=True))
    return chain


def _break(rng: random.Random, chain: _Chain, universal: bool) -> None:
    """Replace one link by its near miss (or drop it) so the conclusion no longer follows.

    A universal conclusion does not depend on the starting fact, so that link is spared.
    """
    candidates = [i for i, link in enumerate(chain.links) if not (universal and link.is_start)]
    i = rng.choice(candidates)
    near_miss = chain.links[i].near_miss
    if near_miss is None or rng.random() < 0.2:
        del chain.links[i]
    else:
        chain.links[i] = _Link(near_miss)


def _conclusion(rng: random.Random, chain: _Chain, label: str, universal: bool) -> Statement:
    """The derived literal for True, its negation for False, either for Unknown."""
    holds = label == "True" or (label == "Unknown" and rng.random() < 0.5)
    lit = chain.lit if holds else chain.lit.negated()
    if universal:
        return say_rule(rng, [chain.start], lit)
    if chain.subject is not None:
        return say_fact(chain.subject, lit)
    if holds:
        return say_exists(rng, [chain.start, lit] if rng.random() < 0.5 else [lit])
    return say_no_one(rng, chain.lit) if rng.random() < 0.5 else say_rule(rng, [chain.start], lit)


def _distractor(rng: random.Random, level: Level, words: _Words, chain: _Chain,
                others: list[str]) -> Statement:
    """A premise about other people or unrelated predicates, which should not change the label."""
    sign = rng.random() < 0.7 if level.negation else True
    kind = rng.choice(("fact", "fact", "rule", "rule")
                      + (("relation",) if "switch" in level.steps else ())
                      + (("exists",) if level.existential else ()))
    if kind == "fact":
        pred = rng.choice(chain.used + [words.pred()])
        return say_fact(rng.choice(others), Lit(pred, sign))
    if kind == "relation":
        names = others + ([chain.subject] if chain.subject else [])
        rel = words.relation() if words.relations else rng.choice(vocabulary()[1])
        return say_relation(others[0], rel, rng.choice(names[1:]), sign)
    fresh = Lit(words.pred(), sign)
    if kind == "exists":
        return say_exists(rng, [Lit(words.pred()), fresh])
    # The antecedent may be a chain predicate; the consequent is fresh, so nothing new follows
    # about the chain's predicates.
    ante_sign = rng.random() < 0.7 if level.negation else True
    ante = Lit(rng.choice(chain.used), ante_sign) if rng.random() < 0.5 else Lit(words.pred())
    return say_rule(rng, [ante], fresh)
