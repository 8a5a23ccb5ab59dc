"""callgym's environments, registered with gymnasium under the ``callgym/`` namespace.

>>> import gymnasium as gym, callgym
>>> env = gym.make("callgym/GSM8K-v0")
>>> obs, info = env.reset(seed=0, options={"index": 0})
>>> sorted(k for k in info if k in ("index", "messages", "tools"))
['index', 'messages', 'tools']
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from callgym.registry import Registry

# id -> entry point; this registry refuses collisions and suggests near names, and mirrors
# every id into gymnasium's registry so gym.make works too.
ENVS: Registry[str] = Registry("env")


def register(env_id: str, entry_point: str, **kwargs: Any) -> None:
    """Register an env with callgym and gymnasium (``namespace/Name-vN``)."""
    ENVS.register(env_id, entry_point)
    if env_id not in gym.registry:
        gym.register(env_id, entry_point=entry_point, kwargs=kwargs, disable_env_checker=False)


def make(env_id: str, **kwargs: Any) -> gym.Env:
    """``gym.make`` with a clear error (and a "did you mean") for unknown ids."""
    ENVS.get(env_id)  # raises UnknownNameError with suggestions
    return gym.make(env_id, **kwargs)


def env_ids() -> list[str]:
    return ENVS.names()


register("callgym/GSM8K-v0", "callgym.envs.gsm8k.env:GSM8KEnv")
register("callgym/FOL-v0", "callgym.envs.fol.env:FOLEnv")
register("callgym/BFCL-MultiTurnBase-v0", "callgym.envs.bfcl.env:BFCLMultiTurnBaseEnv")
register("callgym/BFCL-MultiTurnMissFunc-v0", "callgym.envs.bfcl.env:BFCLMultiTurnMissFuncEnv")
register("callgym/BFCL-MultiTurnMissParam-v0", "callgym.envs.bfcl.env:BFCLMultiTurnMissParamEnv")
register("callgym/BFCL-MultiTurnLongContext-v0", "callgym.envs.bfcl.env:BFCLMultiTurnLongContextEnv")
