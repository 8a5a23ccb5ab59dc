"""Checks that run before any work: a bad env config, problem range, bootstrap call or
output path fails here, in one line, before a model loads or a file is written.

Commands (rollout, bench, compare, pipeline) call these first; the rollout engine and
the stages then run on values already known to be good.
"""

from __future__ import annotations

import inspect
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from callgym.errors import CallgymError, ConfigError, UnknownNameError, UsageError
from callgym.registry import did_you_mean


# ----------------------------------------------------------------------------- envs


def check_env_kwargs(env_id: str, kwargs: dict[str, Any], where: str = "") -> None:
    """Refuse keyword arguments the env's constructor does not take, with a "did you mean"."""
    try:
        cls = _env_class(env_id)
    except UnknownNameError as e:
        raise UnknownNameError(_at(where, str(e))) from e
    known = _keyword_names(cls)
    if known is None:
        return
    for key in kwargs:
        if key not in known:
            raise ConfigError(
                _at(
                    where,
                    f"{env_id} takes no argument {key!r}.{did_you_mean(str(key), known)} "
                    f"Its arguments: {', '.join(known)}",
                )
            )


def _keyword_names(cls: Any) -> list[str] | None:
    """The keyword arguments ``cls(...)`` takes, following ``**kwargs`` passed up to base
    classes (FOLEnv hands them to ToolEnv); None when they cannot be known."""
    names: list[str] = []
    for klass in inspect.getmro(cls) if inspect.isclass(cls) else [cls]:
        init = klass.__dict__.get("__init__") if inspect.isclass(cls) else klass
        if init is None:
            continue
        try:
            params = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):  # a C or dynamic callable: let the constructor decide
            return None
        names += [
            p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name != "self"
        ]
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            return list(dict.fromkeys(names))
    return None


def _env_class(env_id: str) -> Any:
    """The env's class (or creator) from callgym's registry or gymnasium's, without building it;
    ``module:Name-vN`` imports the module first, as :func:`callgym.envs.make` does."""
    import gymnasium as gym
    from gymnasium.envs.registration import load_env_creator

    from callgym.envs import ENVS

    module, sep, bare_id = env_id.partition(":")
    if sep:
        from callgym.plugins import import_modules

        import_modules([module], where=f"env {env_id!r}: module")
        env_id = bare_id
    if env_id in ENVS:
        return ENVS.get(env_id)
    if env_id not in gym.registry:
        raise UnknownNameError(ENVS.unknown_message(env_id))
    entry_point = gym.registry[env_id].entry_point
    return load_env_creator(entry_point) if isinstance(entry_point, str) else entry_point


def open_env(env_id: str, kwargs: dict[str, Any], where: str = "") -> Any:
    """Build the env once, as a run would, and return its unwrapped ToolEnv.

    Bad values inside kwargs (a missing or non-UTF-8 data file, ``size=-1``) raise here,
    named after ``where``, instead of in the middle of a run.
    """
    from callgym.envs import ensure_env

    check_env_kwargs(env_id, kwargs, where)
    try:
        return ensure_env(env_id, kwargs)
    except UsageError as e:
        message = str(e) if env_id in str(e) else f"{env_id}: {e}"
        raise type(e)(_at(where, message)) from e
    except (CallgymError, TypeError, ValueError, OSError) as e:
        raise ConfigError(_at(where, f"{env_id} refused {_shown(kwargs)}: {e}")) from e


def check_problems(env: Any, env_id: str, start: int, n: int, where: str = "") -> None:
    """Refuse a range of problem indices the env does not hold (checked before the first episode)."""
    total = env.num_problems() if hasattr(env, "num_problems") else None
    if start < 0 or n < 1:
        raise ConfigError(_at(where, f"start={start} and n={n} must be >= 0 and >= 1"))
    if total is not None and start + n > total:
        fix = f"use n={total - start} or less" if start < total else f"use a start below {total}"
        raise ConfigError(
            _at(where, f"problems {start}..{start + n - 1} asked for but {env_id} holds {total}; {fix}")
        )


def check_bootstrap(env: Any, env_id: str, calls: Iterable[str], where: str = "") -> None:
    """Every bootstrap call must parse and name one of the env's tools (for every agent)."""
    calls = list(calls)
    if not calls:
        return
    from callgym.calls import parse_call

    env.reset(seed=0, options={"index": 0})  # the toolset of a problem
    names = list(env.toolset.names)
    for text in calls:
        if not isinstance(text, str):
            raise ConfigError(
                _at(where, f"bootstrap {text!r} must be a call as text, e.g. 'Reasoning(\"...\")'")
            )
        try:
            call = parse_call(text, names)
        except CallgymError as e:
            raise ConfigError(
                _at(
                    where,
                    f"bootstrap {text!r} is not a call to a tool of {env_id}; write one "
                    f"such as {env.toolset.example}. Its tools: {', '.join(names)}",
                )
            ) from e
        if call.name not in names:
            raise ConfigError(_at(where, f"bootstrap {text!r}: {env_id} has no tool {call.name!r}."
                                         f"{did_you_mean(call.name, names)} Its tools: {', '.join(names)}"))


def check_run(
    env_id: str, kwargs: dict[str, Any], start: int, n: int, bootstrap: Sequence[str], where: str = ""
) -> None:
    """Everything about one env of a run: its kwargs, the problem range and the bootstrap calls."""
    env = open_env(env_id, kwargs, where)
    check_problems(env, env_id, start, n, where)
    check_bootstrap(env, env_id, bootstrap, where)


def check_resumable(out: str | os.PathLike[str] | None) -> None:
    """``resume`` reads ``out`` first, whole: a damaged line fails now, not after the model loaded."""
    from callgym.episode import iter_episode_dicts

    if not out:
        raise ConfigError("--resume needs --out FILE: the episodes file to continue")
    if Path(out).exists():
        for _ in iter_episode_dicts(out):
            pass


def _at(where: str, message: str) -> str:
    return f"{where}: {message}" if where else message


def _shown(kwargs: dict[str, Any]) -> str:
    text = ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) or "no arguments"
    return text if len(text) <= 120 else text[:117] + "..."


# ----------------------------------------------------------------------------- outputs


def check_output_file(path: str | os.PathLike[str] | None, flag: str) -> None:
    """The file can be created or appended to: not a directory, under a writable folder."""
    if path is None:
        return
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{flag} {path} is a directory; pass a file path such as {path / 'episodes.jsonl'}")
    if path.exists() and not os.access(path, os.W_OK):
        raise ConfigError(f"{flag} {path} is not writable; pass another path or fix its permissions")
    _check_folder_creatable(path.parent, flag, path)


def check_output_dir(path: str | os.PathLike[str] | None, flag: str) -> None:
    """The folder exists and is writable, or can be created."""
    if path is None:
        return
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{flag} {path} is a file, not a folder; pass a folder path")
    _check_folder_creatable(path, flag, path)


def check_existing_dir(path: str | os.PathLike[str] | None, flag: str) -> None:
    """The folder a file goes into must already exist (``compare --md`` does not create one)."""
    if path is None:
        return
    path = Path(path)
    check_output_file(path, flag)
    if not path.parent.is_dir():
        raise ConfigError(
            f"{flag} {path}: folder {path.parent} does not exist; create it or pass another path"
        )


def _check_folder_creatable(folder: Path, flag: str, shown: Path) -> None:
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(
            f"{flag} {shown}: {existing} is a file, so no folder can be made there; pass another path"
        )
    try:  # really try (os.access says yes to root even on a read-only file system); leaves nothing
        tempfile.TemporaryFile(dir=existing).close()
    except OSError as e:
        raise ConfigError(
            f"{flag} {shown}: cannot write in folder {existing} ({e.strerror}); pass another path"
        ) from None
