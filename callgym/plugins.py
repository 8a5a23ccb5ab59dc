"""Code from other packages: entry points and ``--import MODULE``.

Three entry-point groups open callgym to other packages, the way gymnasium's and
lm-eval's registries are opened:

* ``callgym.envs``: a module whose import registers env ids (with :func:`callgym.envs.register`
  or ``gymnasium.register``), or a callable that registers them when called.
* ``callgym.agents`` and ``callgym.backends``: the entry point's name is the agent or backend
  name and its value the class (``"package.module:Class"``, loaded on first use).

Plugins load lazily, once, the first time callgym needs a name it does not know (or lists
them). A plugin that fails to import is logged in one line naming its package and is
otherwise skipped: callgym's own envs, agents and backends keep working.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any

from callgym.errors import UsageError

if TYPE_CHECKING:
    from callgym.registry import Registry

logger = logging.getLogger(__name__)

ENVS_GROUP = "callgym.envs"

# "package (entry point name)" -> one-line reason, for every plugin that failed to load.
FAILURES: dict[str, str] = {}


def plugin_entry_points(group: str) -> list[EntryPoint]:
    """The installed entry points of ``group``, sorted by name (a stable order)."""
    return sorted(entry_points(group=group), key=lambda ep: ep.name)


def describe(ep: EntryPoint) -> str:
    """``"unitgym (entry point units = unitgym.envs)"``: which package a plugin comes from."""
    package = ep.dist.name if ep.dist is not None else ep.value.partition(":")[0].partition(".")[0]
    return f"{package} (entry point {ep.name} = {ep.value})"


def load_env_plugins(adopt: Callable[[Callable[[], object]], object]) -> None:
    """Import every ``callgym.envs`` entry point (calling it when it is a callable).

    Args:
        adopt: runs one plugin's import and records the env ids it registers.
    """
    for ep in plugin_entry_points(ENVS_GROUP):
        run_plugin(ep, lambda ep=ep: _load_and_call(ep), adopt)


def register_named_plugins(group: str, registry: Registry[Any]) -> None:
    """Register each entry point of ``group`` by name, lazily (its module loads on first use).

    A value without ``:attr`` is a module whose import registers its names itself.
    """
    for ep in plugin_entry_points(group):
        if ":" not in ep.value:
            run_plugin(ep, lambda ep=ep: _load_and_call(ep), lambda load: load())
        elif registry.holds(ep.name):
            _fail(ep, f"the {registry.kind} name {ep.name!r} is taken already; rename the entry point")
        else:
            registry.register(ep.name, ep.value)


def run_plugin(
    ep: EntryPoint, load: Callable[[], object], adopt: Callable[[Callable[[], object]], object]
) -> None:
    try:
        adopt(load)
    except Exception as e:  # noqa: BLE001 - any failure of foreign code is reported, not raised
        _fail(ep, f"{type(e).__name__}: {e}")


def _load_and_call(ep: EntryPoint) -> object:
    loaded = ep.load()
    if callable(loaded) and not isinstance(loaded, type):
        loaded()  # a registration function (a module or a class is registered by importing it)
    return loaded


def _fail(ep: EntryPoint, reason: str) -> None:
    where = describe(ep)
    first_line = reason.strip().splitlines()[0] if reason.strip() else reason
    FAILURES[where] = first_line
    logger.warning("plugin %s failed to load and is skipped: %s", where, first_line)


def import_modules(modules: Iterable[str], where: str = "--import") -> None:
    """Import user modules that register envs, agents or backends (``--import``, ``imports:``).

    Raises:
        UsageError: a module that cannot be imported (one line naming it and the reason).
    """
    from callgym.envs import adopting_new_ids

    for module in modules:
        if not isinstance(module, str) or not module.strip():
            raise UsageError(f"{where}: {module!r} is not a module name; give e.g. {where} mypackage.envs")
        try:
            adopting_new_ids(lambda module=module: importlib.import_module(module.strip()))
        except UsageError:
            raise
        except Exception as e:  # noqa: BLE001 - the user's module may raise anything at import
            reason = (str(e).strip().splitlines() or [""])[0]
            raise UsageError(
                f"{where} {module}: cannot import it ({type(e).__name__}: {reason}); "
                "check the name and that its folder is on PYTHONPATH"
            ) from e
