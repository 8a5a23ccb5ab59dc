"""Paired before/after comparison with the exact McNemar test, from lists, files and the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from callgym.benchmarks.compare import compare, compare_runs, load_run
from callgym.benchmarks.stats import mcnemar_exact
from callgym.episode import Episode, EpisodeWriter
from callgym.errors import DataError
from callgym.leaderboards import Leaderboard, runs_from_episodes
from tests.leaderboards.scripted import play

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


def write(path: Path, episodes: list[Episode]) -> Path:
    with EpisodeWriter(path) as writer:
        for e in episodes:
            writer.write(e)
    return path


def test_compare_two_jsonl_files(tmp_path: Path) -> None:
    before = play("student", 0.3, 40)
    after = play("student-dpo", 0.7, 40)
    result = compare_runs(write(tmp_path / "before.jsonl", before), write(tmp_path / "after.jsonl", after))
    direct = compare(before, after)
    assert result.rows[0] == direct.rows[0]
    assert (result.label_a, result.label_b) == (str(tmp_path / "before.jsonl"), str(tmp_path / "after.jsonl"))


def test_compare_bench_folders(tmp_path: Path) -> None:
    before, after = play("student", 0.3, 40), play("student-dpo", 0.7, 40)
    for name, episodes in (("before", before), ("after", after)):
        (tmp_path / name).mkdir()
        write(tmp_path / name / "callgym-test_Toy-v0.jsonl", episodes)
    assert compare_runs(tmp_path / "before", tmp_path / "after").rows[0] == compare(before, after).rows[0]


def test_compare_leaderboard_run_ids_and_their_exclusions(tmp_path: Path) -> None:
    db = tmp_path / "lb.db"
    before = play("student", 0.3, 40)
    after = play("student-dpo", 0.7, 40)
    with Leaderboard(db) as board:
        (before_id,) = board.add_runs(runs_from_episodes(before, tag="before-dpo"))
        (after_id,) = board.add_runs(runs_from_episodes(after, tag="after-dpo", used={("callgym-test/Toy-v0", i) for i in range(5)}))
    result = compare_runs(str(before_id), str(after_id), db=db)
    row = result.rows[0]
    assert (row.n, row.unpaired_a, result.excluded_b) == (35, 5, 5)
    expected = compare(before, after, used={("callgym-test/Toy-v0", i) for i in range(5)}).rows[0]
    assert (row.b, row.c, row.p_value) == (expected.b, expected.c, expected.p_value)
    assert "student-dpo" in result.label_b
    both = load_run(f"{before_id},{after_id}", db=db)
    assert len(both.episodes) == 75


def test_bad_references_say_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="neither an episodes file, a folder of them nor a leaderboard run id"):
        load_run(tmp_path / "missing.jsonl")
    with pytest.raises(DataError, match="a `callgym bench --out` folder"):
        load_run(tmp_path)  # a folder without episodes files
    with pytest.raises(DataError, match="no leaderboard here yet"):
        load_run("3", db=tmp_path / "none.db")
    with Leaderboard(tmp_path / "lb.db"):
        pass
    with pytest.raises(DataError, match="no run with id 3"):
        load_run("3", db=tmp_path / "lb.db")


def test_the_constant_answer_baseline_sits_beside_both_accuracies() -> None:
    golds = ["True", "True", "False", "Unknown"]
    before = [Episode(env_id=FOL, index=i, gold=g, answer="True", correct=g == "True") for i, g in enumerate(golds)]
    after = [Episode(env_id=FOL, index=i, gold=g, correct=True) for i, g in enumerate(golds)]
    (row,) = compare(before, after).rows
    assert row.acc_a == row.constant == 0.5  # "always True" is all the before run does
    other = [Episode(env_id=GSM, index=i, gold=i, correct=False) for i in range(4)]
    total = compare(before + other, after + other).total
    assert total is not None and total.constant == pytest.approx((0.5 * 4 + 0.25 * 4) / 8)
