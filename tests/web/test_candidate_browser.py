"""The candidate's interview in a real browser, speaking through Chromium's fake microphone."""

from __future__ import annotations

import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from models.asr import decode_audio
from services.core.audit.orm import AuditEvent
from services.core.db import unit_of_work
from services.core.interviews import invitations
from services.core.interviews.orm import Answer, Transcript
from services.core.organisations.orm import Organisation
from services.core.roles import service as roles
from services.core.roles.orm import Question
from services.core.rubrics import service as rubrics
from tests.services.conftest import Org
from tests.services.pipeline import FINAL, SPEECH, RealWorker, wait_for_state
from tests.web.conftest import PageLog

pytestmark = pytest.mark.slow

MIC_RATE = 48_000
CONTACT = "hiring@a.example.com"


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """JFK's speech as 16-bit mono 48 kHz PCM with a second of silence at each end."""
    audio = decode_audio(SPEECH / "jfk.flac")
    source = np.arange(audio.samples.size) / audio.sample_rate
    target = np.arange(int(audio.duration * MIC_RATE)) / MIC_RATE
    samples = np.interp(target, source, audio.samples)
    silence = np.zeros(MIC_RATE)
    pcm = np.clip(np.concatenate([silence, samples, silence]), -1, 1)
    path = tmp_path_factory.mktemp("mic") / "jfk-48k.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(MIC_RATE)
        w.writeframes((pcm * 32767).astype("<i2").tobytes())
    return path


@dataclass
class Invitation:
    token: str
    interview_id: str
    question_ids: list[str]
    role_title: str
    competencies: list[str]


@pytest.fixture
def invitation(org: Org) -> Invitation:
    """A new invitation, not yet consented, to a role with no thinking time and short answers."""
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
            think_seconds=0,
            answer_seconds=15,
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


def test_a_candidate_answers_by_voice_and_resumes_at_the_next_question(
    invitation: Invitation,
    live_server: str,
    worker: RealWorker,
    speech_wav: Path,
    launch: Callable[..., Browser],
) -> None:
    browser = launch(
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={speech_wav}%noloop",
    )
    page = browser.new_page(base_url=live_server)
    log = PageLog.attach(page)
    main = page.locator("main")

    page.goto(f"/interview/#{invitation.token}")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Your interview for {invitation.role_title}"
    )
    expect(page.get_by_role("heading", name="How your answers are assessed")).to_be_visible()
    expect(main).to_contain_text("An AI system transcribes what you say")
    for name in invitation.competencies:
        expect(main.locator("ul.competencies")).to_contain_text(name)
    expect(main).to_contain_text("deleted after 180 days")
    expect(main).to_contain_text(f"({CONTACT})")
    page.get_by_label("I have read this page").check()
    page.get_by_role("button", name="Agree and continue").click()

    # The device check opens the microphone, and with it the clip starts playing.
    page.get_by_label("Use my camera").uncheck()
    page.get_by_role("button", name="Start the check").click()
    expect(main.get_by_text("We can hear you.")).to_be_visible(timeout=10_000)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Start question 1").click()
    expect(main.locator(".rec-indicator")).to_contain_text("Recording")
    # No thinking time; the 15 s answer time runs out by itself once the clip has played.
    expect(main.get_by_text("Your answer to question 1 is saved.")).to_be_visible(timeout=30_000)
    expect(main.locator(".check-status")).to_contain_text(
        "We could hear you clearly.", timeout=60_000
    )

    with unit_of_work() as session:
        answer = session.scalars(
            select(Answer).where(
                Answer.interview_id == invitation.interview_id,
                Answer.question_id == invitation.question_ids[0],
            )
        ).one()
        answer_id, chunks = answer.id, len(answer.chunks)
    assert chunks > 1
    done = wait_for_state(answer_id, FINAL, timeout=60)
    assert done.state.value == "transcribed", done.failure_reason
    with unit_of_work() as session:
        text = session.scalars(
            select(Transcript.text).where(Transcript.answer_id == answer_id)
        ).one()
    assert "country" in text.lower(), text

    page.reload()
    expect(main).to_contain_text(
        "You have answered 1 of 2 questions; you will continue with question 2."
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your microphone")
    assert log.problems() == []


def test_a_candidate_cut_off_mid_answer_records_it_again_from_the_start(
    org: Org, live_server: str, speech_wav: Path, launch: Callable[..., Browser]
) -> None:
    browser = launch(
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={speech_wav}%noloop",
    )
    page = browser.new_page(base_url=live_server)
    page.on("dialog", lambda dialog: dialog.accept())  # "leave the page?" while recording
    log = PageLog.attach(page)
    main = page.locator("main")

    def start_question_2() -> None:
        expect(main).to_contain_text("you will continue with question 2.")
        page.get_by_label("Use my camera").uncheck()
        page.get_by_role("button", name="Start the check").click()
        expect(main.get_by_text("We can hear you.")).to_be_visible(timeout=10_000)
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("button", name="Continue with question 2").click()
        page.get_by_role("button", name="Start recording now").click()

    page.goto(f"/interview/#{org.invite_token}")
    start_question_2()
    expect(main.locator(".upload")).to_contain_text("Uploaded 1 of", timeout=10_000)
    page.reload()  # the connection is lost mid-answer

    with unit_of_work() as session:
        cut_off = session.scalars(
            select(Answer).where(
                Answer.interview_id == org.interview_id,
                Answer.question_id == org.question_ids[1],
            )
        ).one()
        assert cut_off.state.value == "receiving" and cut_off.chunks
    start_question_2()
    expect(main.locator(".upload")).to_contain_text("Uploaded 2 of", timeout=10_000)
    page.get_by_role("button", name="Finish answer").click()
    expect(main.get_by_text("Your answer to question 2 is saved.")).to_be_visible(timeout=15_000)
    page.get_by_role("button", name="Finish the interview").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you, your interview is complete"
    )

    with unit_of_work() as session:
        answer = session.get(Answer, cut_off.id)
        assert answer is not None
        restarts = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "answer.restarted",
                AuditEvent.subject == f"answer:{answer.id}",
            )
        ).all()
        assert answer.state.value != "receiving" and len(answer.chunks) >= 2
    assert [e.data for e in restarts] == [{"previous_state": "receiving"}]
    assert log.problems() == []
