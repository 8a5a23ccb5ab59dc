"""The `callgym` command as a user meets it: real subcommands, real files, one-line errors."""

from __future__ import annotations

import json

import pytest

from callgym.cli import main
from callgym.episode import read_episodes


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as e:  # argparse exits on bad flags
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_envs_lists_both_ids(capsys):
    code, out, _ = run(capsys, "envs")
    assert code == 0 and "callgym/FOL-v0" in out and "callgym/GSM8K-v0" in out


def test_rollout_writes_episodes_and_prints_accuracy_with_an_interval(tmp_path, capsys):
    out_file = tmp_path / "o.jsonl"
    code, out, _ = run(
        capsys, "rollout", "--env", "callgym/FOL-v0", "--env-arg", "split=test", "--agent", "oracle", "--n",
        "6", "--out", str(out_file), "--quiet",
    )
    assert code == 0 and "accuracy 6/6 = 100.0% (95% CI" in out
    episodes = read_episodes(out_file)
    assert len(episodes) == 6 and all(e.env_kwargs == {"split": "test"} for e in episodes)
    line = json.loads(out_file.read_text().splitlines()[0])
    for key in (
        "env_id", "index", "seed", "agent", "messages", "reward", "correct", "steps", "invalid_calls",
        "seconds",
    ):
        assert key in line
    code, out, _ = run(
        capsys, "rollout", "--env", "callgym/FOL-v0", "--env-arg", "split=test", "--agent", "oracle", "--n",
        "8", "--out", str(out_file), "--resume", "--quiet",
    )
    assert code == 0 and "(6 already in the file)" in out and len(read_episodes(out_file)) == 8


@pytest.mark.parametrize(
    "argv, message",
    [
        (["rollout", "--env", "callgym/GSM8k-v0", "--agent", "oracle"], "Did you mean 'callgym/GSM8K-v0'"),
        (["rollout", "--env", "callgym/FOL-v0", "--agent", "orcale"], "Did you mean 'oracle'"),
        (["rollout", "--env", "callgym/FOL-v0", "--n", "ten"], "'ten' is not an integer"),
        (
            ["rollout", "--env", "callgym/FOL-v0", "--agent", "oracle", "--env-arg", "split"],
            "must look like key=value",
        ),
        (
            ["rollout", "--env", "callgym/FOL-v0", "--agent", "oracle", "--env-arg", "split=dev"],
            "split='dev'",
        ),
        (
            ["rollout", "--env", "callgym/GSM8K-v0", "--agent", "oracle", "--env-arg", "data=/nope.jsonl"],
            "/nope.jsonl",
        ),
        (["bench", "--suite", "smok", "--agent", "oracle"], "Did you mean 'smoke'"),
        (
            ["compare", "nope.jsonl", "also-nope.jsonl"],
            "neither an episodes file, a folder of them nor a leaderboard run id",
        ),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_input_stops_with_one_line_and_exit_2(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_malformed_data_file_names_the_line(tmp_path, capsys):
    data = tmp_path / "gsm.jsonl"
    data.write_text('{"question": "1+1?", "answer": "#### 2"}\n{"question": "oops"\n')
    code, _, err = run(
        capsys, "rollout", "--env", "callgym/GSM8K-v0", "--env-arg", f"data={data}", "--agent", "oracle"
    )
    assert code == 2 and "gsm.jsonl:2" in err


def test_bench_compare_and_leaderboard(tmp_path, capsys):
    db = str(tmp_path / "lb.db")
    printed = {}
    for agent in ("oracle", "random"):
        code, printed[agent], _ = run(
            capsys, "bench", "--suite", "smoke", "--agent", agent, "--n", "4", "--db", db, "--out",
            str(tmp_path / agent),
            "--quiet",
        )
        assert code == 0 and agent in printed[agent]
        # the constant-answer baseline beside the accuracy, per difficulty, with the tools used
        assert "const %" in printed[agent] and "accuracy % by difficulty" in printed[agent]
    assert "Prove" in printed["oracle"]  # the tools the episodes called (the oracle proves every FOL problem)
    code, out, _ = run(capsys, "leaderboard", "show", "--db", db)
    assert code == 0 and "callgym/FOL-v0" in out and "oracle" in out and "random" in out
    code, out, _ = run(capsys, "compare", str(tmp_path / "random" / "callgym_FOL-v0.jsonl"),
                       str(tmp_path / "oracle" / "callgym_FOL-v0.jsonl"))
    assert code == 0 and "McNemar" in out and "+" in out  # the oracle solves more: a positive difference
    assert "const %" in out
    site = tmp_path / "site"
    code, out, _ = run(
        capsys, "leaderboard", "export", "--db", db, "--md", str(tmp_path / "lb.md"), "--html", str(site)
    )
    assert code == 0 and (site / "index.html").exists() and "| 1 |" in (tmp_path / "lb.md").read_text()


def test_leaderboard_without_a_database_is_a_clear_error(tmp_path, capsys):
    code, _, err = run(capsys, "leaderboard", "show", "--db", str(tmp_path / "none.db"))
    assert code == 2 and "run `callgym bench` first" in err


def test_lm_eval_path_prints_the_task_folder(capsys):
    code, out, _ = run(capsys, "lm-eval-path")
    assert code == 0 and out.strip().endswith("lm_eval_tasks")
