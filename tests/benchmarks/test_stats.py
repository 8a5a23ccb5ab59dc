"""Wilson interval and exact McNemar test against published and hand-computed values."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callgym.benchmarks.stats import mcnemar_exact, proportion, wilson_interval, z_for
from callgym.errors import ConfigError, DataError


# Newcombe (1998), "Two-sided confidence intervals for the single proportion", Statistics in
# Medicine 17:857-872, Table I, method 3 (Wilson score interval without continuity correction).
@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718),
     (29, 29, 0.8830, 1.0)],
)
def test_wilson_matches_newcombe_table(k: int, n: int, low: float, high: float) -> None:
    got = wilson_interval(k, n)
    assert got == pytest.approx((low, high), abs=5e-5)


def test_wilson_by_hand_zero_of_ten() -> None:
    # p = 0: centre = half = (z^2 / 2n) / (1 + z^2 / n) with z = 1.96, n = 10.
    z2 = 1.96**2
    assert wilson_interval(0, 10) == (0.0, pytest.approx(2 * (z2 / 20) / (1 + z2 / 10)))


def test_wilson_edges_are_exact_and_empty_sample_is_uninformative() -> None:
    assert wilson_interval(0, 7)[0] == 0.0
    assert wilson_interval(7, 7)[1] == 1.0
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_wilson_narrows_with_confidence_level() -> None:
    low90, high90 = wilson_interval(40, 100, z_for(0.90))
    low99, high99 = wilson_interval(40, 100, z_for(0.99))
    assert low99 < low90 < 0.4 < high90 < high99


@given(st.integers(0, 2000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_contains_estimate_and_is_symmetric(kn: tuple[int, int]) -> None:
    k, n = kn
    low, high = wilson_interval(k, n)
    assert 0.0 <= low <= proportion(k, n) <= high <= 1.0
    mirror_low, mirror_high = wilson_interval(n - k, n)
    assert (low, high) == pytest.approx((1 - mirror_high, 1 - mirror_low), abs=1e-12)


@pytest.mark.parametrize(("k", "n"), [(-1, 5), (6, 5), (1.5, 5), (True, 5)])
def test_wilson_rejects_bad_counts(k: object, n: int) -> None:
    with pytest.raises(DataError, match="k="):
        wilson_interval(k, n)  # type: ignore[arg-type]


def test_bad_z_and_confidence_name_the_fix() -> None:
    with pytest.raises(ConfigError, match="z=0"):
        wilson_interval(1, 2, z=0)
    with pytest.raises(ConfigError, match="0.95"):
        z_for(95)
    assert z_for(0.95) == pytest.approx(1.959964, abs=1e-6)


@pytest.mark.parametrize(
    ("b", "c", "p"),
    [
        (1, 5, 14 / 64),  # 2 * (C(6,0) + C(6,1)) / 2^6
        (2, 8, 112 / 1024),  # 2 * (1 + 10 + 45) / 2^10
        (0, 5, 2 / 32),
        (3, 3, 1.0),  # the two-sided sum passes 1: capped
        (0, 0, 1.0),  # no discordant pairs, no evidence
        # Agresti, Categorical Data Analysis (3rd ed.), Table 11.1, presidential approval:
        # 150 vs 86 discordant; exact p cross-checked with scipy.stats.binomtest.
        (150, 86, 3.7159361395713866e-05),
    ],
)
def test_mcnemar_exact_known_values(b: int, c: int, p: float) -> None:
    assert mcnemar_exact(b, c) == pytest.approx(p, rel=1e-12)


@given(st.integers(0, 60), st.integers(0, 60))
def test_mcnemar_equals_brute_force_binomial(b: int, c: int) -> None:
    n = b + c
    tail = sum(Fraction(math.comb(n, i), 2**n) for i in range(min(b, c) + 1))
    assert mcnemar_exact(b, c) == pytest.approx(float(min(Fraction(1), 2 * tail)), rel=1e-12)
    assert mcnemar_exact(b, c) == mcnemar_exact(c, b)


def test_mcnemar_large_counts_do_not_overflow() -> None:
    assert mcnemar_exact(0, 5000) == 0.0
    assert 0.0 < mcnemar_exact(2400, 2600) < 0.01
    assert mcnemar_exact(2500, 2500) == 1.0


def test_mcnemar_rejects_negative_counts() -> None:
    with pytest.raises(DataError, match="b=-1"):
        mcnemar_exact(-1, 3)
