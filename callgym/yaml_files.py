"""Reading the YAML files users write (configs, suites): one place for the error messages."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from callgym.errors import DataError


def read_yaml_mapping(path: str | os.PathLike[str], hint: str, what: str = "config file") -> dict[str, Any]:
    """Load a YAML file that must hold a mapping.

    Args:
        path: the file.
        hint: what to do when it is missing, e.g. "the embedded default is configs/demo.yaml".
        what: what the file is, for the message ("config file", "suite file").

    Raises:
        DataError: missing file, invalid YAML or not a mapping; the message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such {what}; {hint}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise DataError(f"{path}: not valid YAML ({e})") from e
    if not isinstance(data, dict):
        raise DataError(f"{path}: must hold a mapping of settings, got {type(data).__name__}")
    return data


def import_yaml_modules(modules: Any, path: str | os.PathLike[str]) -> None:
    """Import the modules a YAML file's ``imports:`` list names (code that registers envs,
    agents or backends without being installed as a package)."""
    from callgym.plugins import import_modules

    if modules is None:
        return
    if not isinstance(modules, list):
        raise DataError(f"{path}: imports must be a list of module names, e.g. imports: [mypackage.envs]")
    import_modules(modules, where=f"{path}: imports:")
