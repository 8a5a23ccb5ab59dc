"""Bad input to the CLI, table-driven: every case must stop with exit 2 and exactly one line
on stderr that names the value, with no traceback, before any work: the input files stay
byte-identical and nothing is created (no episodes, no output folder, no database).

Each case runs ``main()`` in-process in a fresh folder (fast); a sample also runs through
the real ``callgym`` entry point in a subprocess. No case may load a model: every agent
here is scripted, and a case that reached a model would fail the "nothing created" check
long before it finished.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from callgym.cli import main

ROOT = Path(__file__).resolve().parents[1]
FOL = ["--env", "callgym/FOL-v0", "--agent", "oracle", "--quiet"]
GSM = ["--env", "callgym/GSM8K-v0", "--agent", "oracle", "--quiet"]

EPISODE = b'{"env_id": "callgym/FOL-v0", "index": 0}\n'
BOMB = b"".join(
    b"%s: &%s [%s]\n"
    % (bytes([c]), bytes([c]), b",".join([b"*" + bytes([c - 1])] * 9) if c > 97 else b'"lol"')
    for c in range(97, 97 + 9)
)
GOOD_SUITE = b"name: s\nenvs:\n  - id: callgym/FOL-v0\n    kwargs: {split: test}\n    n: 2\n"
PIPELINE = (
    b"name: t\nstudent: {agent: random}\nteacher: {agent: oracle}\n"
    b"envs:\n  - id: callgym/FOL-v0\n    train_kwargs: {split: train}\n    test_kwargs: {split: test}\n"
    b"bench_n: 2\nrollouts: {n: 2, samples: 1}\n"
)


@dataclass
class Case:
    id: str
    argv: list[str]
    expect: str  # must appear in the one stderr line: the offending value or place
    files: dict[str, bytes] = field(default_factory=dict)
    dirs: tuple[str, ...] = ()


def episodes_case(id: str, content: bytes, expect: str) -> Case:
    return Case(id, ["pairs", "ep.jsonl", "--out", "pairs"], expect, {"ep.jsonl": content})


CASES = [
    # ---------------------------------------------------------------- non-UTF-8 files
    episodes_case("pairs-non-utf8", EPISODE + b'{"env_id": "\xff"}\n', "ep.jsonl:2:13"),
    Case(
        "compare-non-utf8",
        ["compare", "a.jsonl", "b.jsonl"],
        "a.jsonl:1",
        {"a.jsonl": b"\xfe\n", "b.jsonl": EPISODE},
    ),
    Case(
        "resume-non-utf8",
        ["rollout", *FOL, "--out", "ep.jsonl", "--resume"],
        "ep.jsonl:2:1",
        {"ep.jsonl": EPISODE + b"\x80\n"},
    ),
    Case(
        "gsm8k-data-non-utf8",
        ["rollout", *GSM, "--env-arg", "data=g.jsonl"],
        "g.jsonl:1:15",
        {"g.jsonl": b'{"question": "\xff"}\n'},
    ),
    Case(
        "folio-data-non-utf8",
        ["rollout", *FOL, "--env-arg", "data=f.jsonl"],
        "f.jsonl:1",
        {"f.jsonl": b"\xc3\x28\n"},
    ),
    Case(
        "suite-non-utf8",
        ["bench", "--suite", "s.yaml", "--agent", "oracle"],
        "s.yaml:1:7",
        {"s.yaml": b"name: \xff\n"},
    ),
    Case(
        "pipeline-non-utf8", ["pipeline", "--config", "p.yaml"], "p.yaml:2", {"p.yaml": b"name: t\n\xff: 1\n"}
    ),
    Case(
        "dpo-config-non-utf8", ["train", "dpo", "--config", "d.yaml"], "d.yaml:1", {"d.yaml": b"beta: \xe9\n"}
    ),
    Case(
        "exclude-non-utf8",
        ["compare", "a.jsonl", "a.jsonl", "--exclude", "used.json"],
        "used.json:1:1",
        {"a.jsonl": EPISODE, "used.json": b"\xff"},
    ),
    # ---------------------------------------------------------------- episode records
    episodes_case("steps-not-a-list", b'{"env_id": "e", "index": 0, "steps": "nope"}\n', "'steps'"),
    episodes_case(
        "step-without-action", b'{"env_id": "e", "index": 0, "steps": [{"bogus": 1}]}\n', "steps[0]"
    ),
    episodes_case(
        "step-action-a-number",
        b'{"env_id": "e", "index": 0, "steps": [{"action": 1, "observation": ""}]}\n',
        "steps[0].action",
    ),
    episodes_case("messages-a-number", b'{"env_id": "e", "index": 0, "messages": 5}\n', "'messages'"),
    episodes_case("message-not-an-object", b'{"env_id": "e", "index": 0, "messages": [3]}\n', "messages[0]"),
    episodes_case("env-id-null", b'{"env_id": null, "index": 0}\n', "'env_id'"),
    episodes_case("index-a-bool", b'{"env_id": "e", "index": true}\n', "'index'"),
    episodes_case("index-a-string", b'{"env_id": "e", "index": "3"}\n', "'index'"),
    episodes_case("correct-a-string", b'{"env_id": "e", "index": 0, "correct": "yes"}\n', "'correct'"),
    episodes_case("env-kwargs-a-list", b'{"env_id": "e", "index": 0, "env_kwargs": [1]}\n', "'env_kwargs'"),
    episodes_case("line-a-list", EPISODE + b"[1, 2]\n", "ep.jsonl:2"),
    episodes_case("line-a-string", b'"hello"\n', "ep.jsonl:1"),
    episodes_case("no-index", b'{"env_id": "e"}\n', "'index'"),
    episodes_case("index-past-int64", b'{"env_id": "e", "index": 99999999999999999999999}\n', "'index'"),
    episodes_case("index-overflows-to-inf", b'{"env_id": "e", "index": 1e400}\n', "'index'"),
    episodes_case("reward-inf", b'{"env_id": "e", "index": 0, "reward": 1e999}\n', "'reward'"),
    episodes_case(
        "number-with-5000-digits", b'{"env_id": "e", "index": ' + b"9" * 5000 + b"}\n", "ep.jsonl:1"
    ),
    episodes_case("nan", b'{"env_id": "e", "index": 0, "reward": NaN}\n', "NaN"),
    episodes_case("nested-100k-deep", b"[" * 100_000 + b"\n", "ep.jsonl:1"),
    episodes_case("broken-json", b'{"env_id": \n' + EPISODE, "ep.jsonl:1"),
    Case(
        "compare-empty-file",
        ["compare", "a.jsonl", "b.jsonl"],
        "a.jsonl",
        {"a.jsonl": b"", "b.jsonl": EPISODE},
    ),
    Case(
        "compare-blank-lines",
        ["compare", "b.jsonl", "a.jsonl"],
        "a.jsonl",
        {"a.jsonl": b"\n\n", "b.jsonl": EPISODE},
    ),
    Case("pairs-a-directory", ["pairs", "d", "--out", "pairs"], "d", dirs=("d",)),
    Case("pairs-missing-file", ["pairs", "nope.jsonl", "--out", "pairs"], "nope.jsonl"),
    # ---------------------------------------------------------------- flags and paths
    Case("env-arg-unclosed-list", ["rollout", *FOL, "--env-arg", "size=[unclosed"], "size=[unclosed"),
    Case("env-arg-without-equals", ["rollout", *FOL, "--env-arg", "split"], "'split'"),
    Case("env-arg-unknown", ["rollout", *FOL, "--env-arg", "bogus=1"], "'bogus'"),
    Case("env-arg-typo", ["rollout", *FOL, "--env-arg", "splt=test"], "Did you mean 'split'"),
    Case("env-arg-bad-split", ["rollout", *FOL, "--env-arg", "split=nope"], "split='nope'"),
    Case("env-arg-bad-size", ["rollout", *GSM, "--env-arg", "size=-3"], "size=-3"),
    Case(
        "env-arg-python-tag", ["rollout", *GSM, "--env-arg", "size=!!python/name:os.system"], "!!python/name"
    ),
    Case("env-arg-missing-data", ["rollout", *GSM, "--env-arg", "data=missing.jsonl"], "missing.jsonl"),
    Case("backend-arg-unclosed", ["rollout", *FOL, "--backend-arg", "x={"], "x={"),
    Case("out-a-directory", ["rollout", *FOL, "--out", "d"], "d", dirs=("d",)),
    Case("out-under-a-file", ["rollout", *FOL, "--out", "f/ep.jsonl"], "f", {"f": b"x"}),
    Case(
        "compare-md-missing-folder",
        ["compare", "a.jsonl", "a.jsonl", "--md", "no/such/c.md"],
        "no/such",
        {"a.jsonl": EPISODE},
    ),
    Case("pairs-out-a-file", ["pairs", "ep.jsonl", "--out", "f"], "f", {"ep.jsonl": EPISODE, "f": b"x"}),
    Case(
        "bench-out-a-file",
        ["bench", "--suite", "s.yaml", "--agent", "oracle", "--out", "f"],
        "f",
        {"s.yaml": GOOD_SUITE, "f": b"x"},
    ),
    Case(
        "bench-db-a-directory",
        ["bench", "--suite", "s.yaml", "--agent", "oracle", "--out", "o", "--db", "d"],
        "d",
        {"s.yaml": GOOD_SUITE},
        dirs=("d",),
    ),
    Case(
        "bench-db-not-sqlite",
        ["bench", "--suite", "s.yaml", "--agent", "oracle", "--out", "o", "--db", "x.db"],
        "x.db",
        {"s.yaml": GOOD_SUITE, "x.db": b"not a database" * 100},
    ),
    Case(
        "export-md-under-a-file",
        ["leaderboard", "export", "--db", "x.db", "--md", "f/x.md"],
        "f",
        {"f": b"x"},
    ),
    # ---------------------------------------------------------------- nonsense values
    Case("n-negative", ["rollout", *FOL, "--n", "-5"], "-5"),
    Case("n-zero", ["rollout", *FOL, "--n", "0"], "'0'"),
    Case("n-not-a-number", ["rollout", *FOL, "--n", "ten"], "ten"),
    Case("start-negative", ["rollout", *FOL, "--start", "-1"], "-1"),
    Case("samples-zero", ["rollout", *FOL, "--samples", "0"], "--samples"),
    Case("temperature-negative", ["rollout", *FOL, "--temperature", "-0.5"], "-0.5"),
    Case("temperature-nan", ["rollout", *FOL, "--temperature", "nan"], "nan"),
    Case("max-tokens-zero", ["rollout", *FOL, "--max-tokens", "0"], "--max-tokens"),
    Case("batch-size-zero", ["rollout", *FOL, "--batch-size", "0"], "--batch-size"),
    Case("seed-negative", ["rollout", *FOL, "--seed", "-1"], "--seed"),
    Case("bench-n-negative", ["bench", "--suite", "smoke", "--agent", "oracle", "--n", "-5"], "-5"),
    Case("pairs-cap-zero", ["pairs", "ep.jsonl", "--out", "p", "--cap", "0"], "--cap", {"ep.jsonl": EPISODE}),
    Case("n-past-the-split", ["rollout", *GSM, "--n", "1001"], "holds 1000"),
    Case("start-past-the-split", ["rollout", *GSM, "--start", "1000", "--n", "1"], "holds 1000"),
    Case(
        "suite-n-past-the-data",
        ["bench", "--suite", "s.yaml", "--agent", "oracle", "--out", "o"],
        "holds 1",
        {
            "s.yaml": b"name: s\nenvs:\n  - id: callgym/GSM8K-v0\n    kwargs: {data: g.jsonl}\n    n: 5\n",
            "g.jsonl": b'{"question": "1+1?", "answer": "#### 2"}\n',
        },
    ),
    Case("bootstrap-unknown-tool-oracle", ["rollout", *FOL, "--bootstrap", "Nope(1)"], "Nope(1)"),
    Case(
        "bootstrap-unknown-tool-random",
        ["rollout", "--env", "callgym/GSM8K-v0", "--agent", "random", "--bootstrap", "Nope(1)"],
        "Nope(1)",
    ),
    Case("bootstrap-not-a-call", ["rollout", *GSM, "--bootstrap", "hello"], "'hello'"),
    Case(
        "bench-bootstrap-unknown-tool",
        ["bench", "--suite", "s.yaml", "--agent", "oracle", "--out", "o", "--bootstrap", "Nope(1)"],
        "Nope(1)",
        {"s.yaml": GOOD_SUITE},
    ),
    Case("resume-without-out", ["rollout", *FOL, "--resume"], "--resume"),
    # ---------------------------------------------------------------- suites
    Case(
        "suite-unknown-env-kwarg",
        ["bench", "--suite", "s.yaml", "--agent", "oracle"],
        "'bogus'",
        {"s.yaml": b"name: s\nenvs:\n  - id: callgym/FOL-v0\n    kwargs: {bogus: 1}\n"},
    ),
    Case(
        "suite-unknown-key",
        ["bench", "--suite", "s.yaml", "--agent", "oracle"],
        "Did you mean 'envs'",
        {"s.yaml": b"name: s\nenvz: []\n"},
    ),
    Case(
        "suite-unknown-env-key",
        ["bench", "--suite", "s.yaml", "--agent", "oracle"],
        "Did you mean 'n'",
        {"s.yaml": b"name: s\nenvs:\n  - id: callgym/FOL-v0\n    nn: 3\n"},
    ),
    Case(
        "suite-n-a-string",
        ["bench", "--suite", "s.yaml", "--agent", "oracle"],
        "envs[0].n",
        {"s.yaml": b"name: s\nenvs:\n  - id: callgym/FOL-v0\n    n: five\n"},
    ),
    Case(
        "suite-unknown-env",
        ["bench", "--suite", "s.yaml", "--agent", "oracle"],
        "callgym/FOL-v9",
        {"s.yaml": b"envs:\n  - id: callgym/FOL-v9\n"},
    ),
    Case(
        "suite-envs-a-string",
        ["bench", "--suite", "s.yaml", "--agent", "oracle"],
        "'envs'",
        {"s.yaml": b"envs: callgym/FOL-v0\n"},
    ),
    Case(
        "suite-a-list",
        ["bench", "--suite", "s.yaml", "--agent", "oracle"],
        "s.yaml",
        {"s.yaml": b"- 1\n- 2\n"},
    ),
    Case("suite-unknown-name", ["bench", "--suite", "smoek", "--agent", "oracle"], "Did you mean 'smoke'"),
    # ---------------------------------------------------------------- YAML itself
    Case(
        "yaml-alias-bomb-suite",
        ["bench", "--suite", "s.yaml", "--agent", "oracle"],
        "s.yaml:",
        {"s.yaml": BOMB},
    ),
    Case("yaml-alias-bomb-pipeline", ["pipeline", "--config", "p.yaml"], "p.yaml:", {"p.yaml": BOMB}),
    Case("yaml-alias-bomb-dpo", ["train", "dpo", "--config", "d.yaml"], "d.yaml:", {"d.yaml": BOMB}),
    Case(
        "yaml-recursive-alias",
        ["bench", "--suite", "s.yaml", "--agent", "oracle"],
        "s.yaml:1:",
        {"s.yaml": b"a: &a [*a]\n"},
    ),
    Case(
        "yaml-python-tag",
        ["bench", "--suite", "s.yaml", "--agent", "oracle"],
        "s.yaml:1:7",
        {"s.yaml": b'name: !!python/object/apply:os.system ["touch pwned"]\n'},
    ),
    Case(
        "yaml-python-tag-pipeline",
        ["pipeline", "--config", "p.yaml"],
        "p.yaml:1:7",
        {"p.yaml": b"name: !!python/name:os.system\n"},
    ),
    Case("yaml-custom-tag", ["pipeline", "--config", "p.yaml"], "!custom", {"p.yaml": b"name: !custom x\n"}),
    Case(
        "yaml-binary-tag",
        ["pipeline", "--config", "p.yaml"],
        "!!binary",
        {"p.yaml": b"name: !!binary aGk=\n"},
    ),
    Case(
        "yaml-syntax-error",
        ["bench", "--suite", "s.yaml", "--agent", "oracle"],
        "s.yaml:3:1",
        {"s.yaml": b"name: s\nenvs: [\n"},
    ),
    Case(
        "yaml-tab-indent",
        ["pipeline", "--config", "p.yaml"],
        "p.yaml:2:",
        {"p.yaml": b"name: t\n\tseed: 1\n"},
    ),
    Case("yaml-nul-byte", ["pipeline", "--config", "p.yaml"], "p.yaml:1:", {"p.yaml": b"name: \x00\n"}),
    Case(
        "yaml-deep-nesting",
        ["pipeline", "--config", "p.yaml"],
        "p.yaml",
        {"p.yaml": b"a: " + b"[" * 50_000 + b"\n"},
    ),
    # ---------------------------------------------------------------- pipeline configs
    Case(
        "pipeline-pairs-bogus-option",
        ["pipeline", "--config", "p.yaml"],
        "'bogus_option'",
        {"p.yaml": PIPELINE + b"pairs: {bogus_option: 1}\n"},
    ),
    Case(
        "pipeline-env-kwarg-bogus",
        ["pipeline", "--config", "p.yaml"],
        "'bogus'",
        {"p.yaml": PIPELINE.replace(b"{split: train}", b"{split: train, bogus: 1}")},
    ),
    Case(
        "pipeline-unknown-key",
        ["pipeline", "--config", "p.yaml"],
        "Did you mean 'rollouts'",
        {"p.yaml": PIPELINE + b"rollout: {n: 3}\n"},
    ),
    Case(
        "pipeline-unknown-agent",
        ["pipeline", "--config", "p.yaml"],
        "'studnt'",
        {"p.yaml": PIPELINE.replace(b"{agent: random}", b"{agent: studnt}")},
    ),
    Case(
        "pipeline-temperature-a-word",
        ["pipeline", "--config", "p.yaml"],
        "student.temperature",
        {"p.yaml": PIPELINE.replace(b"{agent: random}", b"{agent: random, temperature: hot}")},
    ),
    Case(
        "pipeline-negative-temperature",
        ["pipeline", "--config", "p.yaml"],
        "temperature=-1",
        {"p.yaml": PIPELINE + b"rollouts: {temperature: -1}\n"},
    ),
    Case(
        "pipeline-backend-arg-unknown",
        ["pipeline", "--config", "p.yaml"],
        "'bogus'",
        {"p.yaml": PIPELINE.replace(b"{agent: random}", b"{agent: student, backend_args: {bogus: 1}}")},
    ),
    Case(
        "pipeline-bootstrap-unknown-tool",
        ["pipeline", "--config", "p.yaml"],
        "Nope(1)",
        {"p.yaml": PIPELINE.replace(b"{agent: oracle}", b"{agent: oracle, bootstrap: ['Nope(1)']}")},
    ),
    Case(
        "pipeline-dpo-typo",
        ["pipeline", "--config", "p.yaml"],
        "Did you mean 'beta'",
        {"p.yaml": PIPELINE + b"dpo: {betaa: 0.1}\n"},
    ),
    Case(
        "pipeline-bench-n-past-data",
        ["pipeline", "--config", "p.yaml"],
        "holds 1",
        {
            "p.yaml": PIPELINE.replace(b"{split: test}", b"{data: g.jsonl}")
            .replace(b"callgym/FOL-v0", b"callgym/GSM8K-v0")
            .replace(b"{split: train}", b"{data: g.jsonl}"),
            "g.jsonl": b'{"question": "1+1?", "answer": "#### 2"}\n',
        },
    ),
    Case(
        "pipeline-override-unclosed",
        ["pipeline", "--config", "p.yaml", "bench_n=[1"],
        "bench_n=[1",
        {"p.yaml": PIPELINE},
    ),
    Case(
        "pipeline-override-into-a-number",
        ["pipeline", "--config", "p.yaml", "bench_n.x=1"],
        "bench_n",
        {"p.yaml": PIPELINE},
    ),
    Case(
        "pipeline-envs-a-number",
        ["pipeline", "--config", "p.yaml"],
        "envs",
        {"p.yaml": b"name: t\nenvs: 5\n"},
    ),
    Case("pipeline-missing-config", ["pipeline", "--config", "nope.yaml"], "nope.yaml"),
    Case(
        "dpo-unknown-key",
        ["train", "dpo", "--config", "d.yaml"],
        "Did you mean 'beta'",
        {"d.yaml": b"betta: 0.1\n"},
    ),
    Case(
        "dpo-missing-pairs",
        ["train", "dpo", "--config", "d.yaml", "pairs=nope", "output_dir=out"],
        "nope",
        {"d.yaml": b"beta: 0.1\n"},
    ),
    Case(
        "dpo-override-unclosed",
        ["train", "dpo", "--config", "d.yaml", "beta=[0.1"],
        "beta=[0.1",
        {"d.yaml": b"beta: 0.1\n"},
    ),
]


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file (its bytes) and folder (None) under ``folder``."""
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


def prepare(folder: Path, case: Case) -> None:
    for name in case.dirs:
        (folder / name).mkdir(parents=True)
    for name, content in case.files.items():
        (folder / name).write_bytes(content)


def check(
    case: Case, code: int, err: str, before: dict[str, bytes | None], after: dict[str, bytes | None]
) -> None:
    lines = err.strip().splitlines()
    assert code == 2, (code, err)
    assert len(lines) == 1, err
    assert "Traceback" not in err and "error" in lines[0], err
    assert case.expect in lines[0], lines[0]
    assert after == before, (
        f"files changed or created: {sorted(set(after) ^ set(before)) or 'contents differ'}"
    )


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CALLGYM_HOME", str(tmp_path / "home"))  # the default leaderboard lands here
    return tmp_path


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_in_process(case: Case, workdir: Path, capsys) -> None:
    prepare(workdir, case)
    before = snapshot(workdir)
    try:
        code = main(case.argv)
    except SystemExit as e:  # argparse
        code = int(e.code or 0)
    _, err = capsys.readouterr()
    check(case, code, err, before, snapshot(workdir))


ENTRY_POINT_CASES = ["pairs-non-utf8", "env-arg-unclosed-list", "n-negative", "yaml-alias-bomb-suite",
                     "pipeline-pairs-bogus-option", "compare-md-missing-folder"]


@pytest.mark.parametrize("case", [c for c in CASES if c.id in ENTRY_POINT_CASES], ids=ENTRY_POINT_CASES)
def test_bad_input_through_the_entry_point(case: Case, workdir: Path) -> None:
    prepare(workdir, case)
    before = snapshot(workdir)
    script = Path(sys.executable).with_name("callgym")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "callgym.cli"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([*command, *case.argv], capture_output=True, text=True, env=env, timeout=120)
    check(case, result.returncode, result.stderr, before, snapshot(workdir))


def test_the_table_covers_every_class() -> None:
    """Guard against the table shrinking: each class of the issue keeps its cases."""
    for prefix, least in (("yaml-", 10), ("pipeline-", 12), ("suite-", 8), ("env-arg-", 6)):
        assert sum(c.id.startswith(prefix) for c in CASES) >= least, prefix


# ----------------------------------------------------------------------------- damaged leaderboards


def leaderboard(folder: Path, *runs: str) -> Path:
    """A real leaderboard file with one run per model name."""
    from callgym.leaderboards.records import MetricRow, RunRecord
    from callgym.leaderboards.store import Leaderboard

    path = folder / "lb.db"
    with Leaderboard(path) as board:
        for model in runs:
            board.add_run(RunRecord(env_id="callgym/FOL-v0", model=model, n=4, problems=4,
                                    metrics=[MetricRow("callgym/FOL-v0", "all", "accuracy", 0.5, 0.2, 0.8)]))
    return path


def damage(path: Path, sql: str) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(sql)
    conn.close()


def db_snapshot(folder: Path) -> dict[str, bytes | None]:
    """snapshot() without SQLite's own -wal/-shm sidecars: a read-only open of a WAL-mode file
    may leave an empty -wal behind (SQLite's doing; the database file itself is compared)."""
    return {k: v for k, v in snapshot(folder).items() if not k.endswith(("-wal", "-shm"))}


def run_main(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as e:
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("sql", [
    "UPDATE meta SET value = 'abc' WHERE key = 'schema_version'",
    "DELETE FROM meta WHERE key = 'schema_version'",
    "UPDATE meta SET value = 'someone-else' WHERE key = 'application'",
])
def test_a_damaged_meta_table_is_one_line_naming_the_file(sql, workdir, capsys) -> None:
    path = leaderboard(workdir, "m1")
    damage(path, sql)
    before = db_snapshot(workdir)
    for argv in (["leaderboard", "show", "--db", str(path)], ["compare", "1", "1", "--db", str(path)]):
        code, _, err = run_main(argv, capsys)
        assert code == 2 and len(err.strip().splitlines()) == 1 and "lb.db" in err, err
        assert "Traceback" not in err
    assert db_snapshot(workdir) == before


@pytest.mark.parametrize("sql", [
    "UPDATE runs SET n = 'many' WHERE model = 'bad'",
    "UPDATE runs SET model_size = 'huge' WHERE model = 'bad'",
    "UPDATE runs SET env_kwargs = '{not json' WHERE model = 'bad'",
    "UPDATE runs SET sampling = '[1' WHERE model = 'bad'",
    "UPDATE runs SET env_kwargs = '5' WHERE model = 'bad'",
    "UPDATE metrics SET value = 'high' WHERE run_id = 2",
])
def test_a_damaged_row_is_skipped_with_a_warning_and_an_error_when_asked_for(
    sql, workdir, capsys, caplog
) -> None:
    path = leaderboard(workdir, "good", "bad")
    damage(path, sql)
    before = db_snapshot(workdir)
    code, out, err = run_main(["leaderboard", "show", "--db", str(path)], capsys)
    assert code == 0 and "good" in out and "bad" not in out, (out, err)
    assert "run 2 skipped" in caplog.text and "lb.db" in caplog.text and "Traceback" not in err
    code, _, err = run_main(["compare", "2", "1", "--db", str(path)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "lb.db" in err, err
    assert db_snapshot(workdir) == before
