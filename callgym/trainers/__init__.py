"""Trainers: episodes -> preference pairs -> DPO (TRL).

Light to import: ``datasets``, ``torch`` and ``trl`` load only when a function needs them.

>>> from callgym.trainers import build_pairs, save_pairs, DPOConfig, train_dpo  # doctest: +SKIP
"""

from __future__ import annotations

from callgym.trainers.dpo import train_dpo
from callgym.trainers.dpo_config import DPOConfig
from callgym.trainers.pairs import PairSet, build_pairs
from callgym.trainers.pairs_io import load_pairs, save_pairs

__all__ = ["DPOConfig", "PairSet", "build_pairs", "load_pairs", "save_pairs", "train_dpo"]
