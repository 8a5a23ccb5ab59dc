"""GSM8K: grade-school math word problems as a function-calling environment.

``callgym/GSM8K-v0`` (:class:`GSM8KEnv`): problems from local GSM8K JSONL, the Hugging Face
hub or reasoning-gym's GSM-Symbolic templates; the study's four calculator functions and a
safe exact :func:`evaluate` calculator as tools; gold chains from the solutions'
``<<48/2=24>>`` annotations.
"""

from __future__ import annotations

from callgym.envs.gsm8k.calculator import evaluate
from callgym.envs.gsm8k.data import Item, load_jsonl, open_source, parse_number
from callgym.envs.gsm8k.env import GSM8KEnv, score_answer
from callgym.envs.gsm8k.gold import gold_calls, solution_steps
from callgym.envs.gsm8k.tools import TOOLSETS, toolset

__all__ = [
    "GSM8KEnv",
    "Item",
    "TOOLSETS",
    "evaluate",
    "gold_calls",
    "load_jsonl",
    "open_source",
    "parse_number",
    "score_answer",
    "solution_steps",
    "toolset",
]
