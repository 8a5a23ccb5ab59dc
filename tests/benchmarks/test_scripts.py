"""The benchmark scripts still run end to end (tiny sizes; the figures are not checked)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("vllm") is None, reason="vllm is not installed")
def test_rollout_throughput_prints_its_table_and_ratios() -> None:
    script = REPO / "benchmarks" / "rollout_throughput.py"
    args = ["--n", "2", "--max-steps", "2", "--max-tokens", "8", "--skip", "sequential", "hf"]
    env = {**os.environ, "CALLGYM_GSM8K_DIR": ""}  # the bundled GSM-Symbolic sample: no data needed
    done = subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, timeout=600, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "(c) callgym vllm (streamed)" in done.stdout and "(d) raw vllm.LLM.generate" in done.stdout
    assert "of raw vLLM tokens/s" in done.stdout and "inside the vLLM engine's step()" in done.stdout


def test_step_benchmark_prints_both_ratios() -> None:
    script = REPO / "benchmarks" / "step_vs_microchain.py"
    done = subprocess.run([sys.executable, str(script), "--repeat", "3", "--rounds", "1"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("ratio") >= 2 and "microchain execute" in done.stdout
