"""callgym as users get it: a built wheel (not the source tree, not editable) installed into a
temp folder, run from a temp directory outside any clone."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    build, site = tmp_path_factory.mktemp("wheel"), tmp_path_factory.mktemp("site")
    source = tmp_path_factory.mktemp("src") / "callgym"
    # A copy of the tracked files: setuptools writes build/ and *.egg-info into the source.
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        src, dst = REPO / name, source / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            dst.symlink_to(os.readlink(src))
        elif src.is_file():
            dst.write_bytes(src.read_bytes())
    pip = [sys.executable, "-m", "pip", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(build), str(source)],
                   check=True, timeout=600)
    (wheel,) = build.glob("callgym-*.whl")
    assert "callgym/configs/demo.yaml" in zipfile.ZipFile(wheel).namelist()
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True, timeout=600)
    return site


def run(site: Path, cwd: Path, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(site), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


def test_the_installed_wheel_runs_outside_a_clone(installed, tmp_path):
    where = run(installed, tmp_path, "-c", "import callgym; print(callgym.__file__)")
    assert where.startswith(str(installed))
    assert "--config" in run(
        installed, tmp_path, "-m", "callgym.cli", "pipeline", "--config", "demo", "--help"
    )
    assert "callgym/FOL-v0" in run(installed, tmp_path, "-m", "callgym.cli", "envs")
    name = run(installed, tmp_path, "-c", "from callgym.pipeline_config import load_pipeline_config as load; "
                                          "print(load('demo').name, load('study-gpu').name)")
    assert name.split() == ["demo", "study-gpu"]
