"""Shared test set-up: the toy env id, and offline hub settings."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Idle OpenMP threads sleep instead of spinning: on a shared CPU, spinning threads that lose
# their core slow torch generation tenfold (measured on the 2-core reference machine).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from callgym.envs import ENVS, register  # noqa: E402

TOY_ENV = "callgym-test/Toy-v0"
if TOY_ENV not in ENVS:
    register(TOY_ENV, "tests.toy_env:ToyEnv")

# The full GSM8K dataset lives beside the repo (../shared/data/gsm8k), as in CI.
_SHARED_GSM8K = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "gsm8k")
if os.path.isdir(_SHARED_GSM8K):
    os.environ.setdefault("CALLGYM_GSM8K_DIR", os.path.abspath(_SHARED_GSM8K))
