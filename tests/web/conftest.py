"""The pages in a real browser: Parley served by uvicorn, driven by Playwright's Chromium.

The browser is Debian's Chromium at /usr/bin/chromium (`python3 dev.py test` installs it);
without it these tests skip, except with CI=true, where they fail.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from models.asr import decode_audio
from services.core.db import unit_of_work
from services.core.interviews import invitations
from services.core.organisations.orm import Organisation
from services.core.roles import service as roles
from services.core.roles.orm import Question
from services.core.rubrics import service as rubrics
from tests.conftest import IN_CI, reset_caches
from tests.servers import free_port, stop_group, wait_until_healthy
from tests.services.conftest import Org, seed_organisation
from tests.services.pipeline import SPEECH, RealWorker

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
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


@pytest.fixture
def live_server(org: Org, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """Parley's API and pages served by uvicorn in its own process, on the test's database."""
    url = f"http://127.0.0.1:{free_port()}"
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
        wait_until_healthy(f"{url}/healthz", process, log)
        yield url
    finally:
        stop_group(process, timeout=10)
        print(log.read_text(errors="replace")[-3000:])


# ---------------------------------------------------------------- the candidate's interview


def microphone(wav: Path) -> tuple[str, ...]:
    """Chromium flags: allow media without asking, a fake camera, and `wav` as the microphone
    (played in a loop from when the page opens the device)."""
    return (
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}",
    )

MIC_RATE = 48_000
CONTACT = "hiring@a.example.com"


def _write_wav(path: Path, pcm: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(MIC_RATE)
        w.writeframes((np.clip(pcm, -1, 1) * 32767).astype("<i2").tobytes())
    return path


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """JFK's speech as 16-bit mono 48 kHz PCM with a second of silence at each end.

    Chromium's fake microphone plays it in a loop from the moment the page opens the device,
    so any 30-second answer holds the whole sentence at least once.
    """
    audio = decode_audio(SPEECH / "jfk.flac")
    source = np.arange(audio.samples.size) / audio.sample_rate
    target = np.arange(int(audio.duration * MIC_RATE)) / MIC_RATE
    samples = np.interp(target, source, audio.samples)
    silence = np.zeros(MIC_RATE)
    path = tmp_path_factory.mktemp("mic") / "jfk-48k.wav"
    return _write_wav(path, np.concatenate([silence, samples, silence]))


@pytest.fixture(scope="module")
def silent_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A muted microphone: ten seconds of digital silence, looped."""
    return _write_wav(tmp_path_factory.mktemp("mic") / "silence.wav", np.zeros(10 * MIC_RATE))


@dataclass
class Invitation:
    token: str
    interview_id: str
    question_ids: list[str]
    role_title: str
    competencies: list[str]


@pytest.fixture
def invitation(org: Org) -> Invitation:
    """A new invitation, not yet consented, to a role with short think and answer times."""
    with unit_of_work() as session:
        organisation = session.get(Organisation, org.org_id)
        assert organisation is not None
        organisation.contact_email, organisation.retention_days = CONTACT, 180
        role = roles.create_role(
            session,
            org_id=org.org_id,
            actor="system",
            title="Community Organiser",
            description="",
            rubric_version_id=org.rubric_version_id,
            question_ids=org.question_ids,
            thresholds=[roles.Threshold("communication", 3, 4)],
            think_seconds=3,
            answer_seconds=30,
            retakes=1,
        )
        issued = invitations.invite_candidate(
            session,
            org_id=org.org_id,
            actor_id=None,
            role_id=role.id,
            name="Ada Candidate",
            email="ada@example.com",
            ttl_days=7,
        )
        assessed = {session.get(Question, q).competency_key for q in org.question_ids}  # type: ignore[union-attr]
        version = rubrics.get_version(session, rubric_version_id=org.rubric_version_id)
        return Invitation(
            token=issued.token,
            interview_id=issued.interview.id,
            question_ids=org.question_ids,
            role_title=role.title,
            competencies=[c.name for c in version.competencies if c.key in assessed],
        )


@pytest.fixture
def worker(live_server: str, tmp_path: Path) -> Iterator[RealWorker]:
    process = RealWorker(tmp_path / "worker.log")
    process.start()
    yield process
    process.stop()
    print(process.log_tail())


PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
