"""The pages in a real browser: Parley served by uvicorn, driven by Playwright's Chromium.

The browser is Debian's Chromium at /usr/bin/chromium (`python3 dev.py test` installs it);
without it these tests skip, except with CI=true, where they fail.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from tests.conftest import IN_CI, reset_caches
from tests.services.conftest import Org, seed_organisation

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Recorded in every page before its own scripts run: what the Content-Security-Policy refused.
_CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI}`);
});
"""


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: `python3 dev.py test` installs Chromium."
        if IN_CI:
            pytest.fail(f"CI=true: {message}")
        pytest.skip(message)
    with sync_playwright() as instance:
        yield instance


@pytest.fixture
def launch(playwright: Playwright) -> Iterator[Callable[..., Browser]]:
    """Start a headless Chromium with extra command-line flags; closed after the test."""
    browsers: list[Browser] = []

    def _launch(*extra_args: str) -> Browser:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=[*BROWSER_ARGS, *extra_args]
        )
        browsers.append(browser)
        return browser

    yield _launch
    for browser in browsers:
        browser.close()


@dataclass
class PageLog:
    """Console errors, uncaught exceptions and CSP violations of one page."""

    page: Page
    errors: list[str] = field(default_factory=list)

    @classmethod
    def attach(cls, page: Page) -> PageLog:
        log = cls(page)
        page.add_init_script(_CSP_WATCH)
        page.on("console", log._console)
        page.on("pageerror", lambda exc: log.errors.append(f"pageerror: {exc}"))
        return log

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text} @ {message.location.get('url', '')}")

    def problems(self, *expected: str) -> list[str]:
        """What went wrong, less the errors matching one of the `expected` patterns."""
        violations = self.page.evaluate("window.__cspViolations || []")
        found = [f"csp: {v}" for v in violations] + self.errors
        return [p for p in found if not any(re.search(e, p) for e in expected)]


@pytest.fixture
def org(sqlite_database: str) -> Org:
    return seed_organisation("a")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    pytest.fail(f"the server did not answer /healthz within 30 s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def live_server(org: Org, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """Parley's API and pages served by uvicorn in its own process, on the test's database."""
    url = f"http://127.0.0.1:{_free_port()}"
    monkeypatch.setenv("PARLEY_PUBLIC_URL", url)
    reset_caches()
    log = tmp_path / "server.log"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "services.api.app:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        url.rsplit(":", 1)[1],
    ]
    with log.open("ab") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=dict(os.environ),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_up(url, process, log)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        print(log.read_text(errors="replace")[-3000:])
