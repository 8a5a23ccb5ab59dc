"""CPU feature detection and the dtype it picks (bf16 only where the CPU computes it natively)."""

from __future__ import annotations

import pytest

from callgym import cpu


@pytest.fixture(autouse=True)
def _no_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALLGYM_DTYPE", raising=False)


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"avx2", "fma"}, "float32"),  # AVX2 only (e.g. Zen 3): bf16 would be emulated
        ({"avx2", "avx512f", "avx512bw"}, "float32"),  # AVX-512 without its BF16 extension
        ({"avx2", "avx512f", "avx512_bf16"}, "bfloat16"),
        ({"avx2", "amx_bf16", "amx_tile"}, "bfloat16"),
        ({"asimd", "bf16"}, "bfloat16"),  # Arm with the BF16 extension
        (set(), "float32"),  # no /proc/cpuinfo: the safe choice
    ],
)
def test_auto_picks_bf16_only_with_native_support(
    monkeypatch: pytest.MonkeyPatch, flags: set[str], expected: str
) -> None:
    monkeypatch.setattr(cpu, "cpu_flags", lambda: frozenset(flags))
    assert cpu.cpu_dtype() == expected
    assert cpu.cpu_dtype("float16") == "float16"  # an explicit dtype always wins


def test_the_environment_overrides_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpu, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    monkeypatch.setenv("CALLGYM_DTYPE", "float32")
    assert cpu.cpu_dtype() == "float32"
    monkeypatch.setenv("CALLGYM_DTYPE", "fp8")
    with pytest.raises(ValueError, match="CALLGYM_DTYPE='fp8'"):
        cpu.cpu_dtype()
    with pytest.raises(ValueError, match="dtype='half'"):
        cpu.cpu_dtype("half")


def test_this_machine_is_described_in_one_line() -> None:
    line = cpu.describe_cpu()
    assert "\n" not in line and line.endswith(f"auto dtype: {cpu.cpu_dtype()}")
    cpu._cpuinfo.cache_clear()
    assert cpu.cpu_flags() == cpu.cpu_flags()  # read once, cached
