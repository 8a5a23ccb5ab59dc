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


# ----------------------------------------------------------------------------- step budgets, error types


def test_budget_curve_by_hand() -> None:
    eps = [
        episode(index=0, correct=True, valid=(True, True)),  # solved at step 2
        episode(index=1, correct=True, valid=(False, True, True, True)),  # solved at step 4
        episode(index=2, correct=False, valid=(True,) * 5),  # never solved, ran 5 steps
        episode(index=3, correct=True, valid=(True,)),  # solved at step 1
    ]
    (group,) = compute_metrics(eps).groups
    assert [(k, v) for k, v, _, _ in group.budget_curve] == [
        (1, 0.25),
        (2, 0.5),
        (3, 0.5),
        (4, 0.75),
        (5, 0.75),
    ]
    assert group.budget_curve[-1][1] == group.accuracy
    assert all(
        group.budget_curve[i][2:] == wilson_interval(round(v * 4), 4)
        for i, (_, v, *_) in enumerate(group.budget_curve)
    )
    names = [name for name, *_ in group.metric_rows()]
    assert [n for n in names if n.startswith("accuracy@")] == [f"accuracy@{k}" for k in range(1, 6)]


@pytest.mark.parametrize("budget", [2, 3])
def test_accuracy_at_k_is_what_a_run_limited_to_k_steps_scores(budget: int) -> None:
    """The curve's claim, checked for real: the same agent run again with max_steps=k."""
    long_run = compute_metrics(play("m", skill=0.6, n=40, sloppiness=0.5)).overall()[0]
    short_run = compute_metrics(
        play("m", skill=0.6, n=40, sloppiness=0.5, env_kwargs={"max_steps": budget})
    ).overall()[0]
    at_k = dict((k, v) for k, v, _, _ in long_run.budget_curve)[budget]
    assert at_k == short_run.accuracy
    assert 0 < at_k < long_run.accuracy or budget == 3  # at 2 steps the sloppy episodes have not answered yet


def test_error_counts_by_type_from_real_episodes() -> None:
    eps = play("m", skill=0.5, n=30, sloppiness=0.5)
    (overall,) = compute_metrics(eps).overall()
    sloppy = [e for e in eps if e.invalid_calls]
    expected = {
        "syntax_error": sum(e.index % 2 for e in sloppy),
        "unknown_function": sum(1 - e.index % 2 for e in sloppy),
    }
    assert overall.error_counts == expected and all(expected.values())
    rows = {name: value for name, value, *_ in overall.metric_rows()}
    assert rows["error:syntax_error"] == expected["syntax_error"] and rows["calls"] == overall.calls
    assert all(s.error_type is None for e in eps for s in e.steps if s.valid)


def test_old_steps_without_a_type_count_as_unclassified_and_foreign_types_are_kept() -> None:
    eps = [episode(valid=(False, True)), episode(index=1, valid=(False,))]
    eps[1].steps[0].error_type = "bfcl_state_mismatch"
    (group,) = compute_metrics(eps).groups
    assert group.error_counts == {"unclassified": 1, "bfcl_state_mismatch": 1}


def test_constant_baseline_and_tool_use_per_difficulty() -> None:
    from callgym.episode import Step

    def ep(index: int, gold: str, difficulty: int, calls: list[str]) -> Episode:
        steps = [Step(action=c, observation="", call=c) for c in calls]
        steps.append(Step(action="Prove(x", observation="error", call=None, valid=False))
        return Episode(env_id="callgym/FOL-v0", index=index, gold=gold, difficulty=difficulty, steps=steps)

    episodes = [
        ep(0, "True", 1, ['Premise("A(a)")', 'Prove("A(a)")', 'Answer("True")']),
        ep(1, "True", 1, ['Answer("False")']),
        ep(2, "False", 2, ['Premise("B(b)")', 'Premise("C(c)")', 'Answer("False")']),
    ]
    overall, level1, level2 = compute_metrics(episodes).groups
    assert overall.constant_accuracy == pytest.approx(2 / 3) and level1.constant_accuracy == 1.0
    # invalid calls do not count
    assert overall.tool_use == pytest.approx({"Answer": 1.0, "Premise": 2 / 3, "Prove": 1 / 3})
    assert level2.tool_use == {"Premise": 1.0, "Answer": 1.0}
    rows = {name: value for name, value, _, _ in overall.metric_rows()}
    assert rows["constant_accuracy"] == pytest.approx(2 / 3) and rows["uses:Prove"] == pytest.approx(1 / 3)
