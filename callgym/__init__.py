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

# The public API (callgym.api): loaded on first use, so `import callgym` stays light.
_LAZY = {
    "rollout": "callgym.api:rollout",
    "bench": "callgym.api:bench",
    "compare": "callgym.api:compare",
    "train_dpo": "callgym.api:train_dpo",
    "build_pairs": "callgym.trainers.pairs:build_pairs",
    "save_pairs": "callgym.trainers.pairs_io:save_pairs",
    "Leaderboard": "callgym.leaderboards.store:Leaderboard",
    "publish": "callgym.leaderboards.store:publish",
    "Sampling": "callgym.agents.backends.base:Sampling",
    "make_agent": "callgym.agents:make_agent",
}

__all__ = ["__version__", "check_env", "envs", "make", *_LAZY]


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module 'callgym' has no attribute {name!r}")
    from callgym.registry import load_reference

    value = load_reference(_LAZY[name])
    globals()[name] = value
    return value
