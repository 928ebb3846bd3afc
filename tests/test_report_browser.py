"""The report page in a real browser: Debian's headless Chromium, driven over the DevTools
protocol through a pipe (``--remote-debugging-pipe``: Python's stdlib only, no port, no
websocket, no driver, no browser download).

A small real run is trained on tiny IDX files, its report is opened from ``file://``, and the
test checks that every image loaded, that every figure tagged ``data-key`` equals
``summary.json`` (as :func:`genlab.report.format_value` writes it), that nothing was fetched
from the network, that the console stayed clean, and saves a screenshot.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from genlab import report
from genlab.cli import main
from genlab.report import format_value, lookup
from tests.test_report import write_gan_run

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",  # the tests may run as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--remote-debugging-pipe",
)
TIMEOUT = 30.0


def find_chromium() -> str | None:
    """The system Chromium: $GENLAB_CHROMIUM, /usr/bin/chromium, or one on PATH."""
    for candidate in (os.environ.get("GENLAB_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)


class DevTools:
    """A minimal Chrome DevTools Protocol client over Chromium's debugging pipe.

    Chromium reads NUL-terminated JSON commands on fd 3 and writes replies and events on
    fd 4. :meth:`call` sends one command and waits for its reply; events that arrive in the
    meantime are kept in :attr:`events` for the test to inspect. The browser is started with
    ``os.posix_spawn`` (its file actions put the pipes on fds 3 and 4; unlike a
    ``preexec_fn`` this is safe in a process that already runs torch's threads), in its own
    process group, with its stderr in ``log`` for the failure message.
    """

    def __init__(self, binary: str, profile: Path, log: Path) -> None:
        commands_r, self._to_browser = os.pipe()
        self._from_browser, replies_w = os.pipe()
        # Lift the child's ends above fd 4 so that moving them onto 3 and 4 cannot clobber
        # one another; every pipe fd is close-on-exec, so only 0-4 reach the browser.
        child_in = fcntl.fcntl(commands_r, fcntl.F_DUPFD_CLOEXEC, 5)
        child_out = fcntl.fcntl(replies_w, fcntl.F_DUPFD_CLOEXEC, 5)
        os.close(commands_r)
        os.close(replies_w)
        self.log = log
        try:
            self.pid = os.posix_spawn(
                binary,
                [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                os.environ,
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_OPEN, 1, str(log), os.O_WRONLY | os.O_CREAT, 0o644),
                    (os.POSIX_SPAWN_DUP2, 1, 2),
                    (os.POSIX_SPAWN_DUP2, child_in, 3),
                    (os.POSIX_SPAWN_DUP2, child_out, 4),
                ],
                setpgroup=0,
            )
        finally:
            os.close(child_in)
            os.close(child_out)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        """Send one command and return its ``result`` (fail the test on a protocol error)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise AssertionError(f"{method} failed: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str) -> dict[str, Any]:
        """Wait for the next event called ``method`` (it may already have arrived)."""
        while True:
            for event in self.events:
                if event.get("method") == method and not event.get("_seen"):
                    event["_seen"] = True
                    return event
            self.events.append(self._receive())

    def _receive(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise AssertionError(f"Chromium did not answer within {timeout:.0f} s")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise AssertionError(f"Chromium exited; its output ends:\n{self.log_tail()}")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def log_tail(self, lines: int = 20) -> str:
        """The last lines Chromium wrote to stdout/stderr."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no output)"

    def _wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.waitpid(self.pid, os.WNOHANG)[0]:
                return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        """Ask the browser to quit; kill its process group if it does not within 5 s."""
        try:
            os.write(
                self._to_browser, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0"
            )
        except OSError:
            pass
        if not self._wait(5.0):
            os.killpg(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self._to_browser)
        os.close(self._from_browser)


def open_page(browser: DevTools, url: str) -> str:
    """Open ``url`` in a new tab and wait until it has loaded; return the tab's session id."""
    target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"
    ]
    for domain in ("Page", "Runtime", "Log", "Network"):
        browser.call(f"{domain}.enable", session=session)
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1200, "height": 900, "deviceScaleFactor": 1, "mobile": False},
        session=session,
    )
    browser.call("Page.navigate", {"url": url}, session=session)
    browser.wait_for("Page.loadEventFired")
    return session


def evaluate(browser: DevTools, session: str, expression: str) -> Any:
    """The value of a JavaScript expression in the page (JSON-serialisable)."""
    result = browser.call(
        "Runtime.evaluate",
        {"expression": expression, "returnByValue": True, "awaitPromise": True},
        session=session,
    )
    assert "exceptionDetails" not in result, result["exceptionDetails"]
    return result["result"].get("value")


def console_errors(events: list[dict[str, Any]]) -> list[str]:
    """Uncaught exceptions, console.error calls and error log entries (CSP included)."""
    errors = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            errors.append(json.dumps(params.get("exceptionDetails", {}))[:300])
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append(json.dumps(params.get("args", []))[:300])
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            errors.append(params["entry"].get("text", "")[:300])
    return errors


@pytest.fixture
def chromium() -> str:
    binary = find_chromium()
    if binary is None:
        pytest.skip(
            "no Chromium binary (install Debian's `chromium` package, or set GENLAB_CHROMIUM)"
        )
    return binary


IMAGES_JS = (
    "Promise.all([...document.images].map(i => i.decode().catch(() => null)))"
    ".then(() => [...document.images].map(i => ({file: i.dataset.file,"
    " complete: i.complete, width: i.naturalWidth, height: i.naturalHeight})))"
)
FIGURES_JS = (
    "[...document.querySelectorAll('[data-key]')].map(e => ({key: e.dataset.key,"
    " value: e.dataset.value, text: e.textContent}))"
)


def check_page(browser: DevTools, page: Path, screenshot: Path) -> list[dict[str, Any]]:
    """Open a report; check its images, figures, network and console; save a screenshot.

    Returns the page's images (file name, natural size) for further checks.
    """
    summary = json.loads((page.parent / "summary.json").read_text())
    before = len(browser.events)
    session = open_page(browser, page.resolve().as_uri())
    images = evaluate(browser, session, IMAGES_JS)
    figures = evaluate(browser, session, FIGURES_JS)
    shot = browser.call(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session=session
    )
    events = browser.events[before:]

    assert images, "the page shows no images"
    for image in images:
        assert image["complete"] and image["width"] > 0 and image["height"] > 0, image
    assert {"epochs_run", "best_epoch"} <= {f["key"] for f in figures}
    for figure in figures:
        expected = lookup(summary, figure["key"])
        assert json.loads(figure["value"]) == expected, figure
        assert figure["text"] == format_value(expected, figure["key"]), figure
    fetched = [
        e["params"]["request"]["url"]
        for e in events
        if e.get("method") == "Network.requestWillBeSent"
        and not e["params"]["request"]["url"].startswith(("file:", "data:"))
    ]
    assert fetched == [], f"the page fetched {fetched}"
    assert console_errors(events) == []

    screenshot.write_bytes(base64.b64decode(shot["data"]))
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 10_000
    return images


def test_reports_in_headless_chromium(chromium: str, tiny_fashion: Path, tmp_path: Path) -> None:
    # A small real classifier run, and a GAN run folder written by hand (GIF and snapshots).
    run_dir = tmp_path / "fm10"
    argv = ["classify", "train", "--epochs", "2", "--data-dir", str(tiny_fashion)]
    assert main([*argv, "--out", str(run_dir), "--quiet", "--device", "cpu"]) == 0
    assert main(["report", str(run_dir)]) == 0
    plots = sorted(p.name for p in (run_dir / "plots").iterdir() if p.suffix == ".png")
    assert len(plots) >= 4, plots
    gan_dir = write_gan_run(tmp_path / "gan-exp")
    report.write_report(gan_dir)

    browser = DevTools(chromium, tmp_path / "profile", tmp_path / "chromium.log")
    try:
        images = check_page(browser, run_dir / "report.html", tmp_path / "classifier.png")
        gan_images = check_page(browser, gan_dir / "report.html", tmp_path / "gan.png")
    finally:
        browser.close()
    assert sorted(i["file"] for i in images) == plots
    assert "training.gif" in {i["file"] for i in gan_images}
