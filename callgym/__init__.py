"""callgym: a gym for function-calling reasoning.

Importing the package registers its environments (``callgym/GSM8K-v0``,
``callgym/FOL-v0``) with gymnasium.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("callgym")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+local"

from callgym import envs as envs  # noqa: E402  (registers the env ids)
from callgym.envs import check_env, make  # noqa: E402

__all__ = ["__version__", "check_env", "envs", "make"]
