"""Third-party envs end to end: docs/environments.md's example plugin (unitgym), installed
from its own pyproject into a throwaway folder, driven through the CLI like a user would;
``--import`` and ``imports:`` for code that is not installed; a broken plugin reported in
one line without breaking callgym's own envs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from callgym.envs import check_env, make
from callgym.envs import env_ids as callgym_env_ids
from callgym.errors import DataError

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "docs" / "examples" / "unitgym"
UNITS = "unitgym/Units-v0"


def run(args: list[str], path: list[Path], cwd: Path, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, [*path, REPO])), "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "callgym.cli", *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=300)
    assert (done.returncode == 0) == ok, (args, done.returncode, done.stdout, done.stderr)
    return done


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """unitgym installed by pip from its pyproject (with its entry point) into a temp folder."""
    target = tmp_path_factory.mktemp("site")
    source = tmp_path_factory.mktemp("src") / "unitgym"
    shutil.copytree(EXAMPLE, source)  # pip's build writes into the source folder; keep the repo clean
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(target), str(source)], check=True, timeout=300)
    assert list(target.glob("unitgym-0.1.0.dist-info"))
    return target


def test_the_installed_plugin_runs_through_every_command(site, tmp_path):
    assert UNITS in run(["envs"], [site], tmp_path).stdout
    out = run(
        ["rollout", "--env", UNITS, "--agent", "oracle", "--n", "6", "--out", "oracle.jsonl"],
        [site],
        tmp_path,
    )
    assert "accuracy 6/6" in out.stdout
    run(
        ["rollout", "--env", UNITS, "--agent", "random", "--n", "6", "--out", "random.jsonl"],
        [site],
        tmp_path,
    )
    suite = site / "unitgym" / "suite.yaml"
    bench = run(
        ["bench", "--suite", str(suite), "--agent", "oracle", "--n", "6", "--db", "lb.sqlite", "--quiet"],
        [site],
        tmp_path,
    )
    assert UNITS in bench.stdout
    pairs = run(["pairs", "oracle.jsonl", "random.jsonl", "--out", "pairs", "--rejected-agents", "random"],
                [site], tmp_path)
    summary = json.loads((tmp_path / "pairs" / "summary.json").read_text())
    assert summary["num_pairs"] >= 1 and UNITS in summary["envs"], pairs.stdout
    board = run(["leaderboard", "show", "--db", "lb.sqlite"], [site], tmp_path).stdout
    assert UNITS in board and "100.0 ±" in board


def test_a_module_on_the_path_enters_with_import_and_imports(tmp_path):
    source = [EXAMPLE]  # on the path, not installed: no entry point
    assert UNITS not in run(["envs"], source, tmp_path).stdout
    assert UNITS in run(["envs", "--import", "unitgym"], source, tmp_path).stdout
    out = run(
        ["rollout", "--env", UNITS, "--agent", "oracle", "--n", "3", "--import", "unitgym"], source, tmp_path
    )
    assert "accuracy 3/3" in out.stdout
    out = run(["rollout", "--env", f"unitgym:{UNITS}", "--agent", "oracle", "--n", "3"], source, tmp_path)
    assert "accuracy 3/3" in out.stdout  # gymnasium's module:id form
    suite = tmp_path / "suite.yaml"
    suite.write_text(f"name: u\nversion: 1\nimports: [unitgym]\nenvs:\n  - id: {UNITS}\n    n: 3\n")
    assert UNITS in run(["bench", "--suite", str(suite), "--agent", "oracle", "--db", "lb.sqlite", "--quiet"],
                        source, tmp_path).stdout
    missing = run(["envs", "--import", "no_such_module"], source, tmp_path, ok=False)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "no_such_module" in missing.stderr


def test_a_broken_plugin_is_one_line_and_callgym_still_works(tmp_path):
    site = tmp_path / "site"
    (site / "brokenplugin").mkdir(parents=True)
    (site / "brokenplugin" / "__init__.py").write_text("import no_such_dependency\n")
    info = site / "brokenplugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: brokenplugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[callgym.envs]\nbroken = brokenplugin\n")
    listing = run(["envs"], [site], tmp_path)
    assert "callgym/FOL-v0" in listing.stdout
    (line,) = [x for x in listing.stderr.splitlines() if "brokenplugin" in x]
    assert "No module named 'no_such_dependency'" in line
    assert "accuracy 2/2" in run(["rollout", "--env", "callgym/FOL-v0", "--agent", "oracle", "--n", "2"],
                                 [site], tmp_path).stdout
    unknown = run(["rollout", "--env", "broken/X-v0", "--agent", "oracle"], [site], tmp_path, ok=False)
    assert "brokenplugin" in unknown.stderr and "no_such_dependency" in unknown.stderr


def test_plugin_agents_and_backends_enter_through_entry_points(tmp_path):
    site = tmp_path / "site"
    (site / "myagents").mkdir(parents=True)
    (site / "myagents" / "__init__.py").write_text(
        "from callgym.agents.scripted import OracleAgent\n"
        "class Echo(OracleAgent):\n    name = 'echo'\n"
    )
    info = site / "myagents-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: myagents\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[callgym.agents]\necho = myagents:Echo\n"
                                           "[callgym.backends]\nnone = myagents:NoSuchBackend\n")
    out = run(
        ["rollout", "--env", "callgym/FOL-v0", "--agent", "echo", "--n", "2", "--out", "e.jsonl"],
        [site],
        tmp_path,
    )
    assert "accuracy 2/2" in out.stdout
    assert json.loads((tmp_path / "e.jsonl").read_text().splitlines()[0])["agent"] == "echo"
    bad = run(
        ["rollout", "--env", "callgym/FOL-v0", "--agent", "student", "--backend", "none"],
        [site],
        tmp_path,
        ok=False,
    )
    assert bad.returncode == 2 and "myagents:NoSuchBackend" in bad.stderr


def test_the_example_env_keeps_the_contract(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE))
    check_env("unitgym:unitgym/Units-v0", n=30, split="test")


def test_the_example_reads_its_data_files_and_names_a_bad_line(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(EXAMPLE))
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    good.write_text('{"value": 3.5, "from": "km", "to": "m"}\n{"value": 2, "from": "mi", "to": "km"}\n')
    bad.write_text('{"value": 1, "from": "m", "to": "cm"}\n{"value": 3.5, "from": "km", "to": "kg"}\n')
    check_env("unitgym:unitgym/Units-v0", n=2, data=str(good))
    with pytest.raises(DataError, match=r"bad.jsonl:2: cannot convert length \(km\) to mass \(kg\)"):
        make("unitgym:unitgym/Units-v0", data=str(bad))


def test_lm_eval_task_hooks_take_a_plugin_env(monkeypatch):
    pytest.importorskip("datasets")
    from callgym.benchmarks.lm_eval_tasks.utils import load_docs, process_results

    monkeypatch.syspath_prepend(str(EXAMPLE))
    docs = load_docs(UNITS, {"split": "test"}, n=3, imports=["unitgym"])["test"]
    scores = [process_results(doc, [doc["gold_chain"]])["accuracy"] for doc in docs]
    assert len(docs) == 3 and scores == [1.0, 1.0, 1.0]


def test_pipeline_yaml_imports_register_envs_before_the_config_is_checked(monkeypatch, tmp_path):
    from callgym.pipeline_config import load_pipeline_config

    monkeypatch.syspath_prepend(str(EXAMPLE))
    config = tmp_path / "units.yaml"
    config.write_text(
        f"name: units\nimports: [unitgym]\nenvs:\n  - id: {UNITS}\n    test_kwargs: {{split: test}}\n"
    )
    loaded = load_pipeline_config(config)
    assert loaded.imports == ["unitgym"] and UNITS in callgym_env_ids()
    config.write_text(f"name: units\nimports: unitgym\nenvs:\n  - id: {UNITS}\n")
    with pytest.raises(DataError, match="imports must be a list of module names"):
        load_pipeline_config(config)
