"""What this CPU can do, and the dtype that follows from it.

bfloat16 is fast on a CPU only where the hardware multiplies it natively (x86 AVX512-BF16 or
AMX, Arm's BF16 extension); elsewhere it is emulated. Measured on an AVX2-only AMD EPYC
(Zen 3): vLLM on SmolLM2-135M generated 23 tok/s in bfloat16 and 93 tok/s in float32. vLLM's
own ``dtype="auto"`` takes bfloat16 on every x86 CPU, so callgym resolves ``"auto"`` itself,
the same way for vLLM, transformers and training. ``CALLGYM_DTYPE`` overrides the choice for
every part at once (an explicit ``dtype`` argument still wins).
"""

from __future__ import annotations

import functools
import os
import platform
from pathlib import Path

DTYPES = ("float32", "bfloat16", "float16")
# /proc/cpuinfo flags that mean native bf16 matrix math (x86: AVX512-BF16, AMX; Arm: BF16).
NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "bf16"})
# The flags worth printing when a benchmark says what machine it ran on.
SHOWN_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "asimd", "sve", "bf16")


@functools.cache
def _cpuinfo() -> dict[str, str]:
    """The first value of each key in ``/proc/cpuinfo`` (empty where that file does not exist)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (x86 ``flags``, Arm ``Features``; empty where unknown)."""
    info = _cpuinfo()
    return frozenset((info.get("flags") or info.get("Features") or "").split())


def native_bf16() -> bool:
    """True when the CPU computes bfloat16 natively (else bf16 is emulated and slow)."""
    return bool(cpu_flags() & NATIVE_BF16_FLAGS)


def cpu_dtype(requested: str = "auto") -> str:
    """The dtype name to run a model in on this CPU: ``requested``, or for ``"auto"`` the fast one.

    Raises:
        ValueError: ``requested`` (or ``CALLGYM_DTYPE``) is not auto or a known dtype.
    """
    if requested == "auto":
        requested = os.environ.get("CALLGYM_DTYPE", "auto")
        where = "CALLGYM_DTYPE"
    else:
        where = "dtype"
    if requested == "auto":
        return "bfloat16" if native_bf16() else "float32"
    if requested not in DTYPES:
        raise ValueError(f"{where}={requested!r} is not a dtype; use auto, {', '.join(DTYPES)}")
    return requested


def describe_cpu() -> str:
    """One line: the CPU's model, its relevant features and the dtype ``"auto"`` picks."""
    model = _cpuinfo().get("model name") or platform.processor() or platform.machine()
    flags = [f for f in SHOWN_FLAGS if f in cpu_flags()]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}, {cores} cores, features: {' '.join(flags) or 'unknown'}; auto dtype: {cpu_dtype()}"
