"""Reading the YAML users write (configs, suites, ``key=value`` flags): the one loader of
the package, and one place for its error messages.

The loader is PyYAML's safe loader made stricter, because these files come from anywhere:

* only plain YAML types (null, bool, int, float, str, lists, mappings, ``<<`` merges);
  any other tag (``!!python/object``, ``!!binary``, ``!custom``) is refused, and dates stay
  strings instead of becoming ``datetime`` objects nothing downstream can store;
* anchors and aliases work, but the document they expand to is capped at
  :data:`MAX_NODES` nodes and may not contain itself: an alias bomb ("billion laughs")
  fails at once instead of exhausting memory when something walks the result;
* every error is one line: ``file:line:column: problem``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from callgym.errors import ConfigError, DataError
from callgym.text_files import read_text

CONFIGS_DIR = Path(__file__).parent / "configs"  # shipped in the wheel: demo, study-gpu, dpo, ...
MAX_NODES = 100_000  # far above any real config, far below what hurts
MAX_BYTES = 1 << 20  # PyYAML's pure-Python parser needs ~5 s for a megabyte

_STANDARD_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "str", "seq", "map", "merge")
)


class _Loader(yaml.SafeLoader):
    """SafeLoader without timestamps and ``=`` values, checked for tags and alias expansion."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag in _STANDARD_TAGS]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def compose_document(self) -> yaml.Node | None:
        node = super().compose_document()
        if node is not None:
            _check_graph(node)
        return node


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    return []


def _check_graph(root: yaml.Node) -> None:
    """Refuse non-standard tags, self-containing aliases and expansions past MAX_NODES.

    Aliases make the node tree a graph that shares subtrees; its expanded size is counted
    once per distinct node (memoised), so the check is linear in the text.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        if finished:
            open_nodes.discard(id(node))
            sizes[id(node)] = size = 1 + sum(sizes[id(c)] for c in _children(node))
            if size > MAX_NODES:
                raise _problem(
                    node,
                    f"aliases expand this document past {MAX_NODES:,} values; "
                    "write it out without the aliases",
                )
            continue
        if id(node) in sizes:
            continue
        if id(node) in open_nodes:
            raise _problem(node, "an alias refers to a value that contains it; remove the recursive alias")
        if node.tag not in _STANDARD_TAGS:
            raise _problem(node, f"tag {node.tag.replace('tag:yaml.org,2002:', '!!')!r} is not allowed; "
                                 "use plain YAML (strings, numbers, booleans, lists, mappings)")
        open_nodes.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


class _Refused(yaml.MarkedYAMLError):
    """Valid YAML that callgym will not load (its message says what to do instead)."""


def _problem(node: yaml.Node, message: str) -> yaml.MarkedYAMLError:
    return _Refused(problem=message, problem_mark=node.start_mark)


def load_yaml(text: str, where: str) -> Any:
    """Parse YAML text; every failure is a one-line DataError ``where:line:column: problem``."""
    if len(text) > MAX_BYTES:
        raise DataError(
            f"{where}: {len(text):,} characters of YAML (limit {MAX_BYTES:,}); is this the right file?"
        )
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a stricter SafeLoader
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        place = f"{where}:{mark.line + 1}:{mark.column + 1}" if mark else where
        context = f" ({e.context})" if e.context and e.problem else ""
        fix = "" if isinstance(e, _Refused) else "; fix the YAML"
        raise DataError(f"{place}: {_one_line(e.problem or e.context)}{context}{fix}") from None
    except yaml.reader.ReaderError as e:
        line = text.count("\n", 0, e.position) + 1
        column = e.position - (text.rfind("\n", 0, e.position) + 1) + 1
        raise DataError(
            f"{where}:{line}:{column}: character {e.character!r} is not allowed in YAML; remove it"
        ) from None
    except yaml.YAMLError as e:
        raise DataError(f"{where}: not valid YAML ({_one_line(str(e))})") from None
    except RecursionError:
        raise DataError(f"{where}: YAML nested too deeply; flatten it") from None


def _one_line(text: str | None) -> str:
    return " ".join((text or "invalid YAML").split())


def shipped_or_path(name_or_path: str | os.PathLike[str], folder: Path, what: str) -> Path:
    """A YAML file: a path as given, or a bare name (no suffix) of one shipped in ``folder``.

    Raises:
        ConfigError: an unknown shipped name, with a did-you-mean and the shipped names.
    """
    from callgym.registry import did_you_mean

    path = Path(name_or_path)
    if path.suffix:
        return path
    shipped = sorted(p.stem for p in folder.glob("*.yaml"))
    if str(name_or_path) not in shipped:
        raise ConfigError(f"unknown {what} {str(name_or_path)!r}.{did_you_mean(str(name_or_path), shipped)} "
                          f"Shipped: {', '.join(shipped)}; or pass a YAML file")
    return folder / f"{name_or_path}.yaml"


def read_yaml_mapping(path: str | os.PathLike[str], hint: str, what: str = "config file") -> dict[str, Any]:
    """Load a YAML file that must hold a mapping.

    Args:
        path: the file.
        hint: what to do when it is missing, e.g. "the embedded default is configs/demo.yaml".
        what: what the file is, for the message ("config file", "suite file").

    Raises:
        DataError: missing, unreadable or non-UTF-8 file, invalid YAML or not a mapping;
            the message names the file (and the line and column when it can).
    """
    path = Path(path)
    data = load_yaml(read_text(path, what, hint), str(path)) or {}
    if not isinstance(data, dict):
        raise DataError(
            f"{path}: must hold a mapping of settings (key: value lines), got {type(data).__name__}"
        )
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


def parse_key_values(items: Iterable[str] | None, flag: str) -> dict[str, Any]:
    """``["k=v", ...]`` to a dict; values are read as YAML (``3``, ``true``, ``[1, 2]``, ``x``)."""
    result: dict[str, Any] = {}
    for item in items or ():
        key, sep, value = str(item).partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{flag} {item!r} must look like key=value, e.g. {flag} split=test")
        result[key.strip()] = load_yaml(value, f"{flag} {item!r}") if value else ""
    return result
