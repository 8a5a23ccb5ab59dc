"""Benchmark metrics per env config and difficulty, and the exclusion of training problems."""

from __future__ import annotations

import pytest

from callgym.benchmarks.metrics import (
    compute_metrics,
    difficulty_label,
    exclude,
    used_problems,
)
from callgym.benchmarks.stats import wilson_interval
from callgym.episode import Episode, Step
from callgym.errors import DataError
from tests.leaderboards.scripted import play

FOL = "callgym/FOL-v0"
GSM = "callgym/GSM8K-v0"


def episode(env_id: str = FOL, index: int = 0, *, correct: bool = False, valid: tuple[bool, ...] = (True,),
            difficulty: object = None, **kw: object) -> Episode:
    steps = [Step(action="A()", observation="ok", call="A()" if v else None, valid=v) for v in valid]
    return Episode(env_id=env_id, index=index, correct=correct, steps=steps, difficulty=difficulty, **kw)


def test_hand_computed_group() -> None:
    eps = [
        episode(index=0, correct=True, valid=(True, True), tokens_out=10, seconds=1.0),
        episode(index=1, correct=True, valid=(False, True, True), tokens_out=20, seconds=2.0),
        episode(index=2, correct=False, valid=(False,), tokens_out=30, seconds=3.0),
        episode(index=3, correct=False, valid=(True, True), tokens_out=40, seconds=6.0),
    ]
    (group,) = compute_metrics(eps).groups
    assert (group.env_id, group.difficulty, group.n, group.correct) == (FOL, "all", 4, 2)
    assert group.accuracy == 0.5
    assert (group.ci_low, group.ci_high) == wilson_interval(2, 4)
    assert group.valid_call_rate == pytest.approx(6 / 8)  # valid calls over all calls, not per episode
    assert group.mean_steps == 2.0
    assert group.mean_tokens_out == 25.0
    assert group.seconds_per_episode == 3.0


def test_groups_by_env_config_and_difficulty_in_numeric_order() -> None:
    eps = [episode(index=i, correct=i < 3, difficulty=d) for i, d in enumerate([10, 2, 2, 10, 1])]
    eps += [episode(GSM, index=0, correct=True), episode(FOL, index=0, env_kwargs={"split": "train"})]
    report = compute_metrics(eps)
    labels = [(g.env_id, g.env_kwargs.get("split"), g.difficulty) for g in report.groups]
    assert labels == [
        (FOL, None, "all"), (FOL, None, "1"), (FOL, None, "2"), (FOL, None, "10"),
        (FOL, "train", "all"), (GSM, None, "all"),
    ]
    by_level = {g.difficulty: g for g in report.groups if g.env_id == FOL and not g.env_kwargs}
    assert (by_level["2"].n, by_level["2"].correct) == (2, 2)
    assert report.n == 7
    assert [g.difficulty for g in report.overall()] == ["all", "all", "all"]


def test_the_most_common_answer_shows_a_collapse() -> None:
    eps = [episode(index=i, answer=a) for i, a in enumerate(["True", "True", "False", None, "True"])]
    (group,) = compute_metrics(eps).groups
    assert (group.top_answer, group.top_answer_share) == ("True", 0.75)  # of the 4 that answered
    (silent,) = compute_metrics([episode()]).groups
    assert silent.top_answer is None and "top_answer_share" not in [row[0] for row in silent.metric_rows()]


def test_no_calls_has_no_valid_call_rate_rather_than_zero() -> None:
    (group,) = compute_metrics([episode(valid=())]).groups
    assert group.valid_call_rate is None
    assert "valid_call_rate" not in [row[0] for row in group.metric_rows()]


def test_accepts_episode_dicts_and_rejects_junk() -> None:
    eps = [episode(index=i, correct=True).to_dict() for i in range(3)]
    assert compute_metrics(eps).groups[0].accuracy == 1.0
    with pytest.raises(DataError, match="episode #1"):
        compute_metrics([eps[0], {"index": 3}])
    with pytest.raises(DataError, match="malformed"):
        compute_metrics([{"env_id": FOL, "index": 0, "steps": [{"nope": 1}]}])


def test_exclude_by_env_and_index_matches_every_config() -> None:
    eps = [episode(index=i) for i in range(5)] + [episode(index=1, env_kwargs={"split": "test"})]
    kept, dropped = exclude(eps, {(FOL, 1), (FOL, 3), (GSM, 0)})
    assert dropped == 3
    assert sorted(e.index for e in kept) == [0, 2, 4]


def test_exclude_with_kwargs_only_matches_that_split() -> None:
    train = [episode(index=i, env_kwargs={"split": "train"}) for i in range(3)]
    test = [episode(index=i, env_kwargs={"split": "test"}) for i in range(3)]
    used = used_problems(train)
    kept, dropped = exclude(train + test, used)
    assert dropped == 3
    assert all(e.env_kwargs == {"split": "test"} for e in kept)
    # kwargs may also be given as a dict, in any key order
    assert exclude(test, [(FOL, {"split": "test"}, 0)])[1] == 1


def test_metrics_report_how_many_were_excluded() -> None:
    eps = [episode(index=i, correct=True) for i in range(10)]
    report = compute_metrics(eps, used={(FOL, i) for i in range(4)})
    assert (report.excluded, report.n) == (4, 6)
    assert report.to_dict()["excluded"] == 4


@pytest.mark.parametrize("bad", ["FOL-1", (FOL,), (FOL, {}, 1, 2)])
def test_malformed_used_keys_are_refused(bad: object) -> None:
    with pytest.raises(DataError, match="used problem"):
        exclude([episode()], [bad])  # type: ignore[list-item]


def test_difficulty_labels() -> None:
    assert [difficulty_label(v) for v in (3, 3.0, 2.5, "hard", None)] == ["3", "3", "2.5", "hard", "unknown"]


def test_real_rollout_episodes() -> None:
    eps = play("scripted-model", skill=0.5, n=30, sloppiness=0.3)
    report = compute_metrics(eps)
    overall = report.overall()[0]
    assert overall.n == 30
    assert overall.correct == sum(e.correct for e in eps)
    invalid = sum(e.invalid_calls for e in eps)
    assert invalid > 0
    assert overall.valid_call_rate == pytest.approx(1 - invalid / sum(e.num_steps for e in eps))
    assert overall.mean_tokens_out == pytest.approx(sum(e.tokens_out for e in eps) / 30)
    assert [g.difficulty for g in report.groups] == ["all", "0", "1", "2"]  # the toy env's i % 3
