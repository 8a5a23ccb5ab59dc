"""Small, exact statistics for benchmark results: no scipy, no approximations that break on
small samples.

* :func:`wilson_interval` bounds a proportion (accuracy) with the Wilson score interval,
  which stays inside [0, 1] and behaves at 0/n and n/n, unlike the normal (Wald) interval.
* :func:`mcnemar_exact` tests whether two models that answered the *same* problems differ:
  only discordant problems count, and under the null each is equally likely to favour
  either model, so the p-value is a two-sided binomial test with p = 1/2.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from callgym.errors import ConfigError, DataError


def z_for(confidence: float) -> float:
    """The two-sided normal quantile for a confidence level, e.g. ``z_for(0.95) ≈ 1.96``."""
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence={confidence!r} must be between 0 and 1, e.g. 0.95")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes out of ``n`` trials.

    Args:
        k: successes (correct episodes), ``0 <= k <= n``.
        n: trials (episodes). ``n == 0`` gives the uninformative ``(0.0, 1.0)``.
        z: normal quantile; 1.96 for 95% (see :func:`z_for`).

    Returns:
        ``(low, high)``, both within [0, 1].

    >>> [round(x, 4) for x in wilson_interval(81, 263)]
    [0.2553, 0.3662]
    """
    _check_counts(k=k, n=n)
    if z <= 0 or not math.isfinite(z):
        raise ConfigError(f"z={z!r} must be a positive number, e.g. 1.96 for a 95% interval")
    if n == 0:
        return 0.0, 1.0
    p = k / n
    z2 = z * z
    denominator = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1.0 - p) / n + z2 / (4 * n * n)) / denominator
    # Exact 0 and 1 at the edges: floating-point rounding would otherwise give 1e-17 or 0.99999.
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return low, high


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar test on the discordant pairs of a paired comparison.

    Args:
        b: problems model A solved and model B did not.
        c: problems model B solved and model A did not.

    Returns:
        The p-value: ``min(1, 2 * P(X <= min(b, c)))`` for ``X ~ Binomial(b + c, 1/2)``.
        With no discordant pairs there is no evidence of a difference: 1.0.

    >>> mcnemar_exact(1, 5)
    0.21875
    """
    _check_counts(b=b, c=c)
    n = b + c
    if n == 0:
        return 1.0
    term = tail = 1  # C(n, 0); each next C(n, i + 1) = C(n, i) * (n - i) / (i + 1), exact in integers
    for i in range(min(b, c)):
        term = term * (n - i) // (i + 1)
        tail += term
    # Integer numerator and denominator: exact, and int / int rounds once (no 0.5**n underflow
    # partway through the sum); a p-value below ~1e-308 correctly becomes 0.0.
    return min(1.0, 2 * tail / 2**n)


def proportion(k: int, n: int) -> float:
    """``k / n``, or 0.0 for an empty sample (reported next to ``n = 0``, never alone)."""
    _check_counts(k=k, n=n)
    return k / n if n else 0.0


def _check_counts(**counts: int) -> None:
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise DataError(f"{name}={value!r} must be a non-negative integer count")
    if "k" in counts and counts["k"] > counts["n"]:
        raise DataError(f"k={counts['k']} successes cannot exceed n={counts['n']} trials")
