"""The README's Python study runs as written, scaled down: a tiny random model instead of
SmolLM2 and a few problems instead of the smoke suite (the same code path: hf backend, bench,
rollouts, pairs, SFT + DPO, bench again, compare, publish)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
SUITE = (
    "name: tiny\nversion: 1\nenvs:\n"
    "  - id: callgym/FOL-v0\n    kwargs: {split: test, max_steps: 2}\n    n: 3\n"
)


def study_block() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- python-study -->\n```python\n(.*?)```", text, re.S)
    assert match, "README lost its <!-- python-study --> block"
    return match.group(1)


def scaled_down(code: str, model: Path, suite: Path) -> str:
    substitutions = {
        '"smollm2-135m"': repr(str(model)),
        'bench("smoke"': f"bench({str(suite)!r}",
        "n=16": "n=3",
        "Sampling(temperature=0.8)": "Sampling(temperature=0.8, max_tokens=8)",
        # its tokenizer is tiny too
        "max_steps=16, sft_warmup_steps=12": "max_steps=2, sft_warmup_steps=1, max_length=8192",
    }
    for old, new in substitutions.items():
        assert old in code, f"the README's study no longer holds {old!r}; update this test"
        code = code.replace(old, new)
    return code


@pytest.mark.slow
def test_the_readme_study_runs(tmp_path, monkeypatch, capsys):
    import callgym
    from tests.trainers.helpers import make_tiny_model

    model = make_tiny_model(tmp_path / "tiny")
    (tmp_path / "tiny.yaml").write_text(SUITE)
    monkeypatch.chdir(tmp_path)
    exec(compile(scaled_down(study_block(), model, tmp_path / "tiny.yaml"), str(README), "exec"), {})  # noqa: S102
    printed = capsys.readouterr().out
    assert "callgym/FOL-v0: " in printed and "exact McNemar p = " in printed
    with callgym.Leaderboard(tmp_path / "runs/study/leaderboard.sqlite") as board:
        assert sorted(run.tag for run in board.runs()) == ["", "after-dpo"]
    assert (tmp_path / "runs/study/model/results.json").is_file()
