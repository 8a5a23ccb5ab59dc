"""Shared test set-up: the toy env id, and offline hub settings."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from callgym.envs import ENVS, register  # noqa: E402

TOY_ENV = "callgym-test/Toy-v0"
if TOY_ENV not in ENVS:
    register(TOY_ENV, "tests.toy_env:ToyEnv")
