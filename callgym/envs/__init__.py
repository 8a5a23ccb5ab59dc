"""callgym's environments, registered with gymnasium under the ``callgym/`` namespace.

>>> import gymnasium as gym, callgym
>>> env = gym.make("callgym/GSM8K-v0")
>>> obs, info = env.reset(seed=0, options={"index": 0})
>>> sorted(k for k in info if k in ("index", "messages", "tools"))
['index', 'messages', 'tools']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import gymnasium as gym

from callgym.errors import ConfigError, UnknownNameError
from callgym.registry import Registry

R = TypeVar("R")


def _discover() -> None:
    from callgym.plugins import load_env_plugins

    load_env_plugins(adopting_new_ids)


# id -> entry point: callgym's envs, those of installed plugins (entry-point group
# ``callgym.envs``) and of modules imported with ``--import``. This registry refuses
# collisions and suggests near names; every id is in gymnasium's registry too, so gym.make works.
ENVS: Registry[Any] = Registry("env", discover=_discover)


def register(env_id: str, entry_point: str | Callable[..., gym.Env], **kwargs: Any) -> None:
    """Register an env with callgym and gymnasium (``namespace/Name-vN``).

    Args:
        env_id: the id, e.g. ``"unitgym/Units-v0"``; the one place an env's id is written.
        entry_point: the env class or ``"package.module:Class"`` (imported on first use).
        **kwargs: default keyword arguments of the env (``make``'s keywords win over them).
    """
    ENVS.register(env_id, entry_point)
    if env_id not in gym.registry:
        gym.register(env_id, entry_point=entry_point, kwargs=kwargs, disable_env_checker=False)


def adopting_new_ids(load: Callable[[], R]) -> R:
    """Run ``load`` (a plugin's import) and list every id it registered with gymnasium as a
    callgym env, so plugins may register with ``gymnasium.register`` as well as ours."""
    before = set(gym.registry)
    result = load()
    for env_id in sorted(set(gym.registry) - before):
        if not ENVS.holds(env_id):
            ENVS.register(env_id, gym.registry[env_id].entry_point)
    return result


def make(env_id: str, **kwargs: Any) -> gym.Env:
    """``gym.make`` for callgym's ids, plugins' ids, any id in gymnasium's registry and
    gymnasium's ``"module:Name-vN"`` form (the module is imported first), with a clear error
    (and a "did you mean") for unknown ids."""
    module, sep, bare_id = env_id.partition(":")
    if sep:
        from callgym.plugins import import_modules

        import_modules([module], where=f"env {env_id!r}: module")
        if bare_id not in gym.registry:
            raise UnknownNameError(
                f"importing {module} did not register {bare_id!r}: {ENVS.unknown_message(bare_id)}"
            )
    elif env_id not in ENVS and env_id not in gym.registry:
        raise UnknownNameError(ENVS.unknown_message(env_id))
    return gym.make(env_id, **kwargs)


def ensure_env(env_id: str, env_kwargs: dict[str, Any]) -> Any:
    """Build the env once, so a bad id, env argument or data file fails (a one-line
    UsageError) before any model loads; a gymnasium env that is not a ToolEnv is refused."""
    from callgym.envs.base import ToolEnv

    try:
        env = make(env_id, **env_kwargs)
    except TypeError as e:
        raise ConfigError(f"env arguments for {env_id}: {e}") from e
    env.close()
    if not isinstance(env.unwrapped, ToolEnv):
        raise ConfigError(f"{env_id} is a gymnasium env but not a callgym ToolEnv (whose actions are "
                          "function calls); see docs/environments.md to write one")
    return env.unwrapped


def env_ids() -> list[str]:
    """Every callgym env id: callgym's own, installed plugins' and imported modules'."""
    return ENVS.names()


from callgym.envs.checker import check_env  # noqa: E402  (after make, which it uses)

__all__ = ["ENVS", "check_env", "ensure_env", "env_ids", "make", "register"]

register("callgym/GSM8K-v0", "callgym.envs.gsm8k.env:GSM8KEnv")
register("callgym/FOL-v0", "callgym.envs.fol.env:FOLEnv")
register("callgym/BFCL-MultiTurnBase-v0", "callgym.envs.bfcl.env:BFCLMultiTurnBaseEnv")
register("callgym/BFCL-MultiTurnMissFunc-v0", "callgym.envs.bfcl.env:BFCLMultiTurnMissFuncEnv")
register("callgym/BFCL-MultiTurnMissParam-v0", "callgym.envs.bfcl.env:BFCLMultiTurnMissParamEnv")
register("callgym/BFCL-MultiTurnLongContext-v0", "callgym.envs.bfcl.env:BFCLMultiTurnLongContextEnv")
