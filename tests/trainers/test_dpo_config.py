"""DPOConfig: YAML, key=value overrides, validation that names the field and the value."""

from __future__ import annotations

import pytest

from callgym.errors import ConfigError, DataError
from callgym.trainers import DPOConfig
from callgym.cli import main


def test_yaml_then_overrides(tmp_path):
    path = tmp_path / "dpo.yaml"
    path.write_text("pairs: runs/pairs\noutput_dir: runs/dpo\nbeta: 0.3\nlearning_rate: 5e-6\nlora: true\n")
    config = DPOConfig.from_yaml(
        path, ["beta=0.5", "lora_target_modules=[q_proj, v_proj]", "max_length=null"]
    )
    assert (config.beta, config.learning_rate, config.lora) == (0.5, 5e-6, True)
    assert config.lora_target_modules == ["q_proj", "v_proj"] and config.max_length is None
    assert DPOConfig.from_yaml(None, {"pairs": "p"}).with_overrides(["seed=3"]).seed == 3
    assert DPOConfig.from_yaml(path).to_dict()["beta"] == 0.3


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["betta=0.1"], r"unknown key 'betta'. Did you mean 'beta'"),
        (["beta=0"], r"beta=0 must be a positive number"),
        (["learning_rate=fast"], r"learning_rate='fast' must be a number"),
        (["loss_type=kto"], r"loss_type='kto'; use one of sigmoid"),
        (["max_steps=0"], r"max_steps=0 must be positive"),
        (["lora_dropout=1.5"], r"lora_dropout=1.5"),
        (["max_length=8"], r"max_length=8 must be an integer >= 16"),
        (["trl_args=3"], r"trl_args=3 must be a mapping"),
        (["beta"], r"must look like key=value"),
    ],
)
def test_bad_values_name_the_field_and_value(overrides, message):
    with pytest.raises(ConfigError, match=message):
        DPOConfig.from_yaml(None, overrides)


def test_file_errors(tmp_path):
    with pytest.raises(DataError, match="no such config file"):
        DPOConfig.from_yaml(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a list\n")
    with pytest.raises(DataError, match="must hold a mapping"):
        DPOConfig.from_yaml(bad)


def test_paths_are_required_at_train_time():
    with pytest.raises(ConfigError, match="pairs is not set"):
        DPOConfig().require_paths()


def test_help_lists_every_field():
    text = DPOConfig.help_text()
    for name in ("mask_env_tokens", "sft_warmup_steps", "lora_r", "resume", "trl_args"):
        assert f"  {name} (default" in text


def test_cli_prints_config_and_rejects_bad_input(capsys):
    assert main(["train", "dpo", "pairs=p", "output_dir=o", "beta=0.2", "--print-config"]) == 0
    assert "beta: 0.2" in capsys.readouterr().out
    assert main(["train", "dpo", "betta=0.2"]) == 2
    assert "Did you mean 'beta'" in capsys.readouterr().err
