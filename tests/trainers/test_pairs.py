"""Pairs from hand-made episodes: counts, augmentation, cap, dedup, filters, errors, files."""

from __future__ import annotations

import json

import pytest

from callgym.episode import EpisodeWriter
from callgym.errors import ConfigError, DataError
from callgym.trainers import build_pairs, load_pairs, save_pairs
from callgym.trainers.pairs_io import summarize
from callgym.cli import main
from tests.trainers.helpers import episode, gold


def _problem(index: int, n_correct: int, n_wrong: int, agent: str = "oracle") -> list:
    """``n_correct`` distinct correct chains and ``n_wrong`` distinct student failures."""
    won = [
        episode(index, [f"Reasoning('way {k}')", *gold(index)], correct=True, agent=agent, sample=k)
        for k in range(n_correct)
    ]
    lost = [episode(index, [f"Answer({index + 2 + k})"], correct=False, sample=k) for k in range(n_wrong)]
    return won + lost


def _pairs_of(pairs, index: int) -> list[tuple[str, str]]:
    return [(json.dumps(r["chosen"]), json.dumps(r["rejected"])) for r in pairs if r["index"] == index]


def test_all_combinations_per_problem():
    pairs = build_pairs(_problem(0, 2, 3) + _problem(1, 1, 4))
    assert len(_pairs_of(pairs, 0)) == 2 * 3 and len(_pairs_of(pairs, 1)) == 1 * 4
    assert len(set(_pairs_of(pairs, 0))) == 6  # every combination once
    assert [p.combinations for p in pairs.problems] == [6, 4]


def test_no_augmentation_uses_each_chain_at_most_once():
    pairs = build_pairs(_problem(0, 2, 3) + _problem(1, 4, 1), augment=False)
    for index, expected in ((0, 2), (1, 1)):
        chosen, rejected = zip(*_pairs_of(pairs, index), strict=True)
        assert len(chosen) == expected and len(set(chosen)) == len(set(rejected)) == expected


def test_cap_samples_reproducibly_and_per_problem():
    episodes = _problem(0, 3, 3)
    first = build_pairs(episodes, cap=4, seed=1)
    assert len(first) == 4
    assert _pairs_of(build_pairs(list(reversed(episodes)), cap=4, seed=1), 0) == _pairs_of(first, 0)
    # another problem in the set does not change this problem's sample
    assert _pairs_of(build_pairs(episodes + _problem(1, 3, 3), cap=4, seed=1), 0) == _pairs_of(first, 0)
    samples = {tuple(_pairs_of(build_pairs(episodes, cap=4, seed=s), 0)) for s in range(6)}
    assert len(samples) > 1  # the seed matters
    assert len(build_pairs(episodes, cap=100)) == 9


def test_identical_chains_are_deduplicated():
    same_failure = [episode(0, ["Answer(7)"], correct=False, sample=k) for k in range(3)]
    same_success = [episode(0, gold(0), correct=True, agent=a) for a in ("oracle", "teacher")]
    pairs = build_pairs(same_failure + same_success)
    assert len(pairs) == 1
    assert (
        pairs.problems[0].duplicates == 3
        and summarize(pairs)["envs"]["callgym-test/Toy-v0"]["duplicates_dropped"] == 3
    )


def test_agent_filters():
    episodes = [
        episode(0, gold(0), correct=True, agent="oracle"),
        episode(0, ["Reasoning('x')", *gold(0)], correct=True, agent="student"),
        episode(0, ["Answer(5)"], correct=False, agent="student"),
        episode(0, ["Answer(6)"], correct=False, agent="teacher"),
    ]
    assert {(r["chosen_agent"], r["rejected_agent"]) for r in build_pairs(episodes)} == {
        ("oracle", "student"),
        ("student", "student"),
    }
    assert {r["chosen_agent"] for r in build_pairs(episodes, chosen_agents=["oracle"])} == {"oracle"}
    assert {r["chosen_agent"] for r in build_pairs(episodes, chosen_agents="student")} == {"student"}
    assert len(build_pairs(episodes, rejected_agents=None)) == 4
    with pytest.raises(ConfigError, match="chosen_agents is empty"):
        build_pairs(episodes, chosen_agents=[])


def test_strict_chosen_drops_correct_chains_with_invalid_calls():
    sloppy = episode(0, ["Sum(x)", *gold(0)], correct=True, agent="oracle", invalid_calls=1)
    clean = episode(0, gold(0), correct=True, agent="teacher")
    wrong = episode(0, ["Answer(9)"], correct=False)
    assert len(build_pairs([sloppy, clean, wrong])) == 2
    assert [r["chosen_agent"] for r in build_pairs([sloppy, clean, wrong], strict_chosen=True)] == ["teacher"]


def test_problems_are_grouped_by_env_kwargs_too():
    a = [
        episode(0, gold(0), correct=True, agent="oracle", env_kwargs={"split": "train"}),
        episode(0, ["Answer(3)"], correct=False, env_kwargs={"split": "train"}),
    ]
    b = [episode(0, gold(0), correct=True, agent="oracle", env_kwargs={"split": "test"})]
    pairs = build_pairs(a + b)
    assert len(pairs) == 1 and pairs.used_problems() == [
        {"env_id": "callgym-test/Toy-v0", "env_kwargs": {"split": "train"}, "index": 0}
    ]


def test_missing_side_errors_name_what_is_missing_and_the_fix():
    correct_only = [episode(0, gold(0), correct=True, agent="oracle")]
    wrong_only = [episode(0, ["Answer(3)"], correct=False)]
    with pytest.raises(DataError, match=r"no incorrect chains.*--samples"):
        build_pairs(correct_only)
    with pytest.raises(DataError, match=r"no correct chains.*oracle"):
        build_pairs(wrong_only)
    with pytest.raises(DataError, match="no correct chains"):
        build_pairs(correct_only + wrong_only, chosen_agents=["teacher"])
    with pytest.raises(DataError, match="no problem has both"):
        build_pairs([*correct_only, episode(1, ["Answer(3)"], correct=False)])
    with pytest.raises(ConfigError, match="cap=0"):
        build_pairs(correct_only + wrong_only, cap=0)


def test_conversational_format():
    wrong = episode(2, ["Sum(a=2, b=2)", "Answer(4)"], correct=False, truncated=True)
    wrong.messages[3]["role"] = "tool"  # an env result under another role name
    record = build_pairs([episode(2, gold(2), correct=True, agent="oracle"), wrong])[0]
    assert [m["role"] for m in record["prompt"]] == ["system", "user"]
    assert [m["role"] for m in record["chosen"]] == [
        "assistant",
        "user",
        "assistant",
    ]  # final env text dropped
    assert [m["role"] for m in record["rejected"]] == ["assistant", "user", "assistant"]
    assert record["chosen"][1]["content"] == "result of Sum(a=2, b=1): 3"
    assert record["rejected_reason"] == "truncated" and record["prompt_matches"]
    assert set(record["chosen"][0]) == {"role", "content"}


def test_turns_both_chains_share_move_into_the_prompt():
    boot = "Reasoning('step by step')"
    record = build_pairs(
        [
            episode(2, [boot, *gold(2)], correct=True, agent="oracle"),
            episode(2, [boot, "Answer(5)"], correct=False),
        ]
    )[0]
    assert [m["role"] for m in record["prompt"]] == ["system", "user", "assistant", "user"]
    assert record["prompt"][2]["content"] == boot
    assert record["chosen"][0]["content"] == gold(2)[0] and record["rejected"] == [
        {"role": "assistant", "content": "Answer(5)"}
    ]


def test_files_written_and_read_back(tmp_path):
    runs = tmp_path / "runs.jsonl"
    with EpisodeWriter(runs) as w:
        for ep in _problem(0, 2, 2) + _problem(3, 1, 1) + [episode(5, gold(5), correct=True, agent="oracle")]:
            w.write(ep)
    pairs = build_pairs([runs], cap=3, seed=0)
    paths = save_pairs(pairs, tmp_path / "pairs")
    dataset = load_pairs(tmp_path / "pairs")
    assert len(dataset) == 4 and dataset[0]["chosen"][0]["role"] == "assistant"
    assert len((tmp_path / "pairs" / "pairs.jsonl").read_text().splitlines()) == 4
    assert len(load_pairs(paths["pairs.jsonl"])) == 4
    summary = json.loads((tmp_path / "pairs" / "summary.json").read_text())
    env = summary["envs"]["callgym-test/Toy-v0"]
    assert summary["num_pairs"] == 4 and summary["num_problems"] == 2
    assert (
        env["problems_seen"] == 3
        and env["problems_without_incorrect"] == 1
        and env["rejected_reasons"] == {"wrong_answer": 4}
    )
    assert summary["pairs_per_problem"] == {"min": 1, "mean": 2.0, "max": 3}
    assert summary["lengths"]["chosen_assistant_turns"] > summary["lengths"]["rejected_assistant_turns"]
    assert summary["settings"]["sources"] == [str(runs)]
    used = json.loads((tmp_path / "pairs" / "used_problems.json").read_text())
    assert [u["index"] for u in used] == [0, 3]


def test_load_pairs_errors(tmp_path):
    with pytest.raises(DataError, match="not a pairs folder"):
        load_pairs(tmp_path)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "x"}\n')
    with pytest.raises(DataError, match="missing"):
        load_pairs(bad)


def pairs_main(argv):
    return main(["pairs", *argv])


def test_cli(tmp_path, capsys):
    runs = tmp_path / "runs.jsonl"
    with EpisodeWriter(runs) as w:
        for ep in _problem(0, 2, 2):
            w.write(ep)
    assert (
        pairs_main([str(runs), "--out", str(tmp_path / "p"), "--no-augment", "--chosen-agents", "oracle"])
        == 0
    )
    assert len(load_pairs(tmp_path / "p")) == 2
    assert pairs_main([str(runs), "--out", str(tmp_path / "q"), "--chosen-agents", "teacher"]) == 2
    assert "no correct chains" in capsys.readouterr().err


# ----------------------------------------------------------------------------- error types


@pytest.fixture(scope="module")
def played(tmp_path_factory):
    """Real episodes on the toy env: oracle chains, and student failures of three kinds (a wrong
    answer, a syntax error first on odd problems, a call to an unknown function on even ones)."""
    from callgym.agents.rollout import rollout
    from callgym.agents.scripted import OracleAgent
    from tests.conftest import TOY_ENV
    from tests.leaderboards.scripted import play

    folder = tmp_path_factory.mktemp("played")
    rollout(TOY_ENV, {}, OracleAgent(), range(12), out=folder / "oracle.jsonl", progress=False)
    student = play("student-model", 0.0, 12, sloppiness=0.5)
    with EpisodeWriter(folder / "student.jsonl") as w:
        for ep in student:
            w.write(ep)
    return folder, student


def test_pairs_are_labelled_with_the_rejected_chains_error_types(played):
    folder, student = played
    pairs = build_pairs([folder / "oracle.jsonl", folder / "student.jsonl"])
    by_index = {ep.index: ep for ep in student}
    labels = {r["index"]: (r["rejected_error_type"], r["rejected_error_types"]) for r in pairs}
    assert len(labels) == 12
    for index, (first, every) in labels.items():
        invalid = [s.error_type for s in by_index[index].steps if not s.valid]
        assert first == (invalid[0] if invalid else "") and every == ",".join(dict.fromkeys(invalid))
    assert {first for first, _ in labels.values()} == {"", "syntax_error", "unknown_function"}
    summary = summarize(pairs)["envs"]["callgym-test/Toy-v0"]["rejected_error_types"]
    assert summary == dict(__import__("collections").Counter(first or "none" for first, _ in labels.values()))


def test_pairs_select_rejected_chains_by_error_type(played, tmp_path):
    folder, student = played
    runs = [str(folder / "oracle.jsonl"), str(folder / "student.jsonl")]
    syntax = {ep.index for ep in student if any(s.error_type == "syntax_error" for s in ep.steps)}
    assert syntax and len(syntax) < 12
    assert pairs_main([*runs, "--out", str(tmp_path / "p"), "--rejected-error-type", "syntax_error"]) == 0
    dataset = load_pairs(tmp_path / "p")
    assert set(dataset["index"]) == syntax and set(dataset["rejected_error_type"]) == {"syntax_error"}
    both = build_pairs(runs, rejected_error_types="syntax_error, unknown_function")
    assert {r["rejected_error_type"] for r in both} == {"syntax_error", "unknown_function"}
    assert json.loads((tmp_path / "p" / "summary.json").read_text())["settings"]["rejected_error_types"] == [
        "syntax_error"
    ]
    with pytest.raises(DataError, match="with an invalid reply of type tool_error"):
        build_pairs(runs, rejected_error_types=["tool_error"])
    with pytest.raises(ConfigError, match="Did you mean 'syntax_error'"):
        build_pairs(runs, rejected_error_types=["syntax"])
