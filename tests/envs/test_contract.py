"""Contract tests over every registered env id, through the same ``check_env`` users run on
their own envs (gymnasium's checker, reproducible resets, gold chains, hostile replies, limits)."""

from __future__ import annotations

import os

import pytest

import callgym
from callgym.envs import check_env

ENV_IDS = [e for e in callgym.envs.env_ids() if e.startswith("callgym/")]


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_every_env_keeps_the_contract(env_id):
    check_env(env_id, n=25)  # 25 problems: every FOL difficulty level five times
    assert not os.path.exists("/tmp/callgym-pwned")


@pytest.mark.skipif(not os.environ.get("CALLGYM_GSM8K_DIR"), reason="GSM8K files not present")
def test_gsm8k_keeps_the_contract_on_the_real_test_split():
    check_env("callgym/GSM8K-v0", n=25, data="gsm8k", split="test", tools="all")
