"""Drive headless Chromium over the DevTools protocol on a pipe (``--remote-debugging-pipe``):
fd 3 carries our commands, fd 4 its answers, each a JSON message ended by a NUL byte. No
websocket client or browser-automation package needed, only the real browser.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
)


def find_chromium() -> str | None:
    """The Chromium binary, or None (Debian's package installs /usr/bin/chromium)."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Browser:
    """One headless Chromium with one page; records JS exceptions and network requests."""

    def __init__(self, binary: str, profile: Path, width: int = 1280, height: int = 900) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # Parked above 10 so the child's dup2 onto 3 and 4 cannot overwrite one with the other.
        high_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
        high_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)

        def wire_fds() -> None:  # runs in the child between fork and exec
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.log = profile / "chromium.log"
        profile.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                binary,
                *FLAGS,
                f"--user-data-dir={profile}",
                "--remote-debugging-pipe",
                f"--window-size={width},{height}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("wb"),
            preexec_fn=wire_fds,
            close_fds=False,
        )
        for fd in (to_browser_r, from_browser_w, high_r, high_w):
            os.close(fd)
        self._next_id = 0
        self._answers: queue.Queue[dict[str, Any]] = queue.Queue()
        self.exceptions: list[str] = []
        self.console_errors: list[str] = []
        self.requests: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.session = self._open_page(width, height)

    # ------------------------------------------------------------------ protocol

    def _read(self) -> None:
        buffer = b""
        while chunk := os.read(self._from_browser, 1 << 16):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for raw in messages:
                message = json.loads(raw)
                if "id" in message:
                    self._answers.put(message)
                else:
                    self._event(message)

    def _event(self, message: dict[str, Any]) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.exceptions.append(details.get("exception", {}).get("description") or details.get("text", ""))
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            self.console_errors.append(
                " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
            )
        elif method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])

    def send(self, method: str, params: dict[str, Any] | None = None, *, session: str | None = "page",
             timeout: float = 20.0) -> dict[str, Any]:
        """Send a command to the page's session ("page"), another session, or the browser (None)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        session = getattr(self, "session", None) if session == "page" else session
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._answers.get(timeout=max(0.01, deadline - time.monotonic()))
            if answer["id"] == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})

    def _open_page(self, width: int, height: int) -> str:
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=None)["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True}, session=None)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Network"):
            self.send(f"{domain}.enable", session=session)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        return session

    # ------------------------------------------------------------------ page helpers

    def open(
        self,
        path: Path,
        *,
        fragment: str = "",
        ready: str = "document.documentElement.dataset.ready === 'true'",
    ) -> None:
        """Load a file (``fragment``: the part after ``#``) and wait until ``ready`` (JS) holds."""
        self.send("Page.navigate", {"url": "about:blank"})  # a fresh document even when only the hash changes
        self.send("Page.navigate", {"url": path.resolve().as_uri() + (f"#{fragment}" if fragment else "")})
        deadline = time.monotonic() + 15
        while not self.eval(f"document.readyState === 'complete' && ({ready})"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{path} did not become ready: {ready}")
            time.sleep(0.05)

    def eval(self, expression: str) -> Any:
        """Evaluate JS in the page and return its (JSON) value."""
        result = self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"JS error in {expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """A real mouse click (press and release) at the centre of the first matching element."""
        box = self.eval(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " e.scrollIntoView({block: 'center'});"
            " const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.send(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1},
            )

    def press_escape(self) -> None:
        for kind in ("keyDown", "keyUp"):
            self.send(
                "Input.dispatchKeyEvent",
                {"type": kind, "key": "Escape", "code": "Escape", "windowsVirtualKeyCode": 27},
            )

    def screenshot(self, path: Path, *, full_page: bool = True) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1})
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", params)["data"]))
        return path

    def close(self) -> None:
        try:
            self.send("Browser.close", session=None, timeout=5)
        except Exception:  # noqa: BLE001 - the browser may already be gone; kill it below
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_browser)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
