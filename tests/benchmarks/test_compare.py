"""Paired before/after comparison with the exact McNemar test.

Runs named by path or leaderboard id: tests/leaderboards/test_references.py.
"""

from __future__ import annotations

import pytest

from callgym.benchmarks.compare import compare
from callgym.benchmarks.stats import mcnemar_exact
from callgym.episode import Episode
from callgym.errors import DataError

FOL, GSM = "callgym/FOL-v0", "callgym/GSM8K-v0"


def outcomes(env_id: str, pattern: str, **kw: object) -> list[Episode]:
    """Episodes whose correctness reads off a string: '1' right, '0' wrong, index = position."""
    return [Episode(env_id=env_id, index=i, correct=ch == "1", **kw) for i, ch in enumerate(pattern)]


def test_counts_discordant_pairs_and_tests_them() -> None:
    before = outcomes(FOL, "1100110000")
    after = outcomes(FOL, "1010111100")
    (row,) = compare(before, after, label_a="before", label_b="after").rows
    # index: 1 right->wrong (b=1); 2, 6, 7 wrong->right (c=3)
    assert (row.n, row.correct_a, row.correct_b, row.b, row.c) == (10, 4, 6, 1, 3)
    assert row.difference == pytest.approx(0.2)
    assert row.p_value == mcnemar_exact(1, 3) == 0.625


def test_pairs_only_identical_problems_and_counts_the_rest() -> None:
    a = outcomes(FOL, "1111") + outcomes(FOL, "00", env_kwargs={"split": "test"})
    b = outcomes(FOL, "111") + [Episode(env_id=FOL, index=0, sample=1, correct=True)]
    result = compare(a, b)
    by_config = {tuple(r.env_kwargs.items()): r for r in result.rows}
    default = by_config[()]
    assert (default.n, default.unpaired_a, default.unpaired_b) == (3, 1, 1)  # index 3 / sample 1 unmatched
    test_split = by_config[(("split", "test"),)]
    assert (test_split.n, test_split.unpaired_a, test_split.unpaired_b) == (0, 2, 0)
    assert result.total is not None and result.total.n == 3


def test_pooled_total_over_envs() -> None:
    a = outcomes(FOL, "0000") + outcomes(GSM, "1100")
    b = outcomes(FOL, "1110") + outcomes(GSM, "1000")
    result = compare(a, b)
    assert [r.env_id for r in result.rows] == [FOL, GSM]
    assert result.total is not None
    assert (result.total.n, result.total.b, result.total.c) == (8, 1, 3)
    assert result.total.p_value == mcnemar_exact(1, 3)
    assert result.to_dict()["total"]["difference"] == pytest.approx(0.25)


def test_training_problems_are_excluded_from_both_sides_and_reported() -> None:
    a, b = outcomes(FOL, "0000000000"), outcomes(FOL, "1111111111")
    result = compare(a, b, used={(FOL, i) for i in range(6)})
    assert (result.excluded_a, result.excluded_b, result.rows[0].n) == (6, 6, 4)


def test_a_problem_twice_in_one_run_is_an_error() -> None:
    with pytest.raises(DataError, match="index 0 sample 0 twice"):
        compare(outcomes(FOL, "11") + outcomes(FOL, "1"), outcomes(FOL, "11"), label_a="A")


def test_the_constant_answer_baseline_sits_beside_both_accuracies() -> None:
    golds = ["True", "True", "False", "Unknown"]
    before = [
        Episode(env_id=FOL, index=i, gold=g, answer="True", correct=g == "True") for i, g in enumerate(golds)
    ]
    after = [Episode(env_id=FOL, index=i, gold=g, correct=True) for i, g in enumerate(golds)]
    (row,) = compare(before, after).rows
    assert row.acc_a == row.constant == 0.5  # "always True" is all the before run does
    other = [Episode(env_id=GSM, index=i, gold=i, correct=False) for i in range(4)]
    total = compare(before + other, after + other).total
    assert total is not None and total.constant == pytest.approx((0.5 * 4 + 0.25 * 4) / 8)
