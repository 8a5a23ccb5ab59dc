"""Run records from episodes: grouping, exclusion, samples, comparable sets, before/after pairs."""

from __future__ import annotations

import pytest

from callgym.errors import DataError
from callgym.leaderboards import RunRecord, before_after_pairs, group_runs, rank, runs_from_episodes
from callgym.leaderboards.records import MetricRow, env_version_of, pick_samples
from tests.leaderboards.scripted import play

TOY = "callgym-test/Toy-v0"


def acc(value: float, low: float | None = None) -> list[MetricRow]:
    return [MetricRow("e", "all", "accuracy", value, value - 0.1 if low is None else low, value + 0.1)]


def test_one_run_per_env_config_and_model_config() -> None:
    episodes = play("a", 0.5, 10) + play("a", 0.5, 10, env_kwargs={"max_steps": 3}) + play("b", 0.9, 10)
    runs = runs_from_episodes(episodes, suite="smoke", suite_version=2, model_size=7_000_000)
    assert sorted((r.model, tuple(r.env_kwargs.items())) for r in runs) == [
        ("a", ()), ("a", (("max_steps", 3),)), ("b", ())]
    run = runs[0]
    assert (run.env_version, run.suite_version, run.n, run.problems, run.lineage) == (
        "0",
        "2",
        10,
        10,
        run.model,
    )
    assert run.version and run.created.endswith("Z")
    assert {m.difficulty for m in run.metrics} == {"all", "0", "1", "2"}
    assert run.difficulties() == ["0", "1", "2"]


def test_exclusions_are_counted_per_run_and_all_excluded_is_an_error() -> None:
    episodes = play("a", 0.5, 10)
    (run,) = runs_from_episodes(episodes, used={(TOY, i) for i in range(3)}, excluded={TOY: 7})
    assert (run.n, run.excluded) == (7, 3 + 7)
    with pytest.raises(DataError, match="all 10 episodes of callgym-test/Toy-v0 played training problems"):
        runs_from_episodes(episodes, used={(TOY, i) for i in range(10)})


def test_samples_mix_right_and_wrong_episodes() -> None:
    episodes = play("a", 0.5, 30)
    chosen = pick_samples(episodes, 4)
    assert sum(e.correct for e in chosen) == 2 and len(chosen) == 4
    all_right = [e for e in episodes if e.correct]
    assert len(pick_samples(all_right, 4)) == 4  # falls back to what exists
    (run,) = runs_from_episodes(episodes, samples=3)
    assert len(run.samples) == 3 and all("messages" in s for s in run.samples)


def test_incomparable_runs_never_share_a_ranking() -> None:
    base = dict(env_id="callgym/FOL-v0", suite="default", suite_version="1")
    runs = [
        RunRecord(model="a", metrics=acc(0.5), **base),
        RunRecord(model="b", metrics=acc(0.7), **base),
        RunRecord(model="c", metrics=acc(0.9), **{**base, "suite_version": "2"}),
        RunRecord(model="d", metrics=acc(0.9), env_kwargs={"split": "train"}, **base),
        RunRecord(model="e", metrics=acc(0.9), **{**base, "env_id": "callgym/FOL-v1"}),
        RunRecord(model="f", metrics=acc(0.6), seed=7, n=999, **base),  # seed and n do not split a set
    ]
    groups = group_runs(runs)
    assert [[r.model for r in members] for _, members in groups] == [["b", "f", "a"], ["d"], ["c"], ["e"]]
    assert groups[1][0] == "callgym/FOL-v0 (env v0) · suite default v1 · split=train"


def test_rank_breaks_ties_on_the_lower_bound() -> None:
    runs = [RunRecord(env_id="e-v0", model="wide", metrics=acc(0.8, 0.5)),
            RunRecord(env_id="e-v0", model="narrow", metrics=acc(0.8, 0.75))]
    assert [r.model for r in rank(runs)] == ["narrow", "wide"]


def test_before_after_pairs_follow_tags_and_lineage() -> None:
    def run(
        model: str, tag: str, lineage: str = "", created: str = "2026-01-01T00:00:00Z", **kw: object
    ) -> RunRecord:
        return RunRecord(env_id="e-v0", model=model, tag=tag, lineage=lineage, created=created, **kw)

    runs = [
        run("small", "before-dpo"),
        run("small", "before-dpo", created="2026-01-02T00:00:00Z", notes="latest"),
        run("out/small-dpo", "after-dpo", lineage="small"),
        run("other", "before-dpo"),  # no after run: no pair
        run("out/x", "after-dpo", lineage="small", env_kwargs={"split": "x"}),  # another benchmark
        run("small", "baseline"),
    ]
    pairs = before_after_pairs(runs)
    assert [(b.model, b.notes, a.model) for b, a in pairs] == [("small", "latest", "out/small-dpo")]


def test_env_version_comes_from_the_id() -> None:
    assert [env_version_of(e) for e in ("callgym/FOL-v0", "ns/Thing-v12", "plain")] == ["0", "12", ""]
