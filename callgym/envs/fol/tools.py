"""The FOL env's tools: formalise premises, query the prover, answer with a label.

``Premise`` and ``Prove`` share one knowledge base per episode, so :func:`make_tools`
builds fresh closures at every reset.
"""

from __future__ import annotations

from callgym.envs.fol.formula import FormulaError, parse, to_text
from callgym.envs.fol.prover import entails
from callgym.envs.fol.sat import ProverGaveUp
from callgym.error_types import ErrorType
from callgym.errors import ToolError
from callgym.tools import Tool, reasoning_tool, tool

MAX_PREMISES = 24  # bounds the grounded knowledge base the prover has to search
TOOLSETS = ("formal", "answer")

_VERDICTS = {
    "True": "True: the premises entail it.",
    "False": "False: the premises entail its negation.",
    "Unknown": "Unknown: the premises entail neither it nor its negation.",
}


def normalize_label(value: object) -> str | None:
    """Map an answer to True / False / Unknown (FOLIO's "Uncertain" is Unknown)."""
    text = str(value).strip().strip("\"'.").lower()
    aliases = {"true": "True", "false": "False", "unknown": "Unknown", "uncertain": "Unknown"}
    return aliases.get(text)


Reasoning = reasoning_tool('Reasoning("Socrates is a man, and all men are mortal.")')


@tool
def Answer(label: str) -> str:
    """Give the final answer: "True", "False" or "Unknown".

    Example: Answer("True")
    """
    normalized = normalize_label(label)
    if normalized is None:
        raise ToolError(
            f'{label!r} is not a label; answer "True", "False" or "Unknown".', ErrorType.ANSWER_FORMAT
        )
    return normalized


def make_tools(kind: str = "formal") -> list[Tool]:
    """Fresh tools for one episode (``formal``: Premise, Prove, Reasoning, Answer)."""
    if kind == "answer":
        return [Reasoning, Answer]
    premises: list[str] = []

    @tool(example='Premise("∀x (Man(x) → Mortal(x))")')
    def Premise(formula: str) -> str:
        """Add a premise, written in first-order logic, to the knowledge base.
        Use ∀ ∃ ¬ ∧ ∨ → ↔ ⊕ or forall, exists, ~, &, |, ->, <->, ^.

        Example: Premise("∀x (Man(x) → Mortal(x))")
        """
        if len(premises) >= MAX_PREMISES:
            raise ToolError(f"The knowledge base is full ({MAX_PREMISES} premises). Call Prove or Answer.")
        text = to_text(_parse(formula))
        premises.append(text)
        return f"Premise {len(premises)} added: {text}"

    @tool(example='Prove("Mortal(socrates)")')
    def Prove(formula: str) -> str:
        """Check whether the premises added so far entail a formula, its negation, or neither.

        Example: Prove("Mortal(socrates)")
        """
        _parse(formula)
        try:
            return _VERDICTS[entails(premises, formula)]
        except ProverGaveUp as e:
            # A well-formed question the prover could not settle in its budget: an answer
            # (the episode goes on), not an error in the call.
            return f"Unknown: the prover gave up ({e}), so it cannot say whether the premises entail it."
        except FormulaError as e:
            raise ToolError(f"Prove: {e}") from e

    return [Premise, Prove, Reasoning, Answer]


def _parse(formula: str) -> object:
    try:
        return parse(formula)
    except FormulaError as e:
        raise ToolError(f"Not a formula: {e}") from e
