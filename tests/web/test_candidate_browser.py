"""The candidate's interview in a real browser, speaking through Chromium's fake microphone."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import av
import jiwer
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from models.asr import decode_audio
from services.core.audit.orm import AuditEvent
from services.core.db import unit_of_work
from services.core.fairness.orm import SelfIdentification
from services.core.interviews import review
from services.core.interviews.orm import Answer, Interview, Score, Transcript
from services.core.organisations.orm import StaffRole, User
from services.core.roles.orm import JobRole
from services.core.storage import get_storage
from tests.services.pipeline import FINAL, RealWorker, normalise, reference, wait_for_state
from tests.web.conftest import CONTACT, LAPTOP, PHONE, Invitation, PageLog, microphone

pytestmark = pytest.mark.slow

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@dataclass
class Camera:
    """Screenshots of each step on the phone and the laptop viewport, for docs/screenshots/."""

    page: Page
    prefix: str
    taken: list[str] = field(default_factory=list)

    def shoot(self, step: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        for label, size in (("phone", PHONE), ("laptop", LAPTOP)):
            self.page.set_viewport_size(size)
            name = f"{self.prefix}-{len(self.taken) // 2 + 1:02d}-{step}-{label}.png"
            self.page.screenshot(path=SHOTS / name, full_page=True)
            self.taken.append(name)
        self.page.set_viewport_size(PHONE)


@dataclass
class Traffic:
    """The API calls a page made: method, path, status."""

    calls: list[tuple[str, str, int]] = field(default_factory=list)

    @classmethod
    def attach(cls, page: Page) -> Traffic:
        traffic = cls()
        page.on(
            "response",
            lambda r: (
                traffic.calls.append((r.request.method, urlsplit(r.url).path, r.status))
                if "/api/v1/" in r.url
                else None
            ),
        )
        return traffic

    def uploads(self) -> list[str]:
        return [
            p for (m, p, _) in self.calls if m in ("PUT", "POST") and "/candidate/answers/" in p
        ]


def _open(browser: Browser, live_server: str) -> tuple[Page, PageLog, Traffic]:
    page = browser.new_page(base_url=live_server, viewport=PHONE)
    page.on("dialog", lambda dialog: dialog.accept())  # "leave the page?" while recording
    return page, PageLog.attach(page), Traffic.attach(page)


def _best_window_wer(reference_text: str, transcript: str) -> float:
    """WER of the reference against the transcript's best-matching run of words.

    The fake microphone loops, so an answer holds the sentence once whole and pieces of it
    either side; this scores the whole one.
    """
    ref, hyp = normalise(reference_text), normalise(transcript).split()
    n = len(ref.split())
    windows = (
        " ".join(hyp[i : i + k])
        for k in range(max(1, n - 3), n + 4)
        for i in range(0, max(1, len(hyp) - k + 1))
    )
    return min(jiwer.wer(ref, w) for w in windows if w)


def _answers(interview_id: str) -> dict[str, Answer]:
    with unit_of_work() as session:
        rows = session.scalars(select(Answer).where(Answer.interview_id == interview_id))
        answers = {a.question_id: a for a in rows}
        for a in answers.values():
            session.expunge(a)
        return answers


def _actions(subject: str) -> list[str]:
    with unit_of_work() as session:
        return list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.subject == subject)
                .order_by(AuditEvent.seq)
            )
        )


def _watch_mouth(page: Page, seconds: float) -> set[str]:
    """The avatar mouth's openings seen while it speaks (it moves with the audio)."""
    seen: set[str] = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen.add(page.locator(".avatar [data-open]").first.get_attribute("data-open") or "")
        page.wait_for_timeout(50)
    return seen


def _device_check(page: Page, *, camera: bool, heard: bool = True) -> None:
    if not camera:
        page.get_by_label("Use my camera").uncheck()
    page.get_by_role("button", name="Start the check").click()
    main = page.locator("main")
    if heard:
        expect(main.get_by_text("We can hear you.")).to_be_visible(timeout=10_000)
        page.get_by_role("button", name="Continue", exact=True).click()
    else:
        expect(main.get_by_text("Your microphone is on.")).to_be_visible(timeout=10_000)
        page.get_by_role("button", name="Continue", exact=True).click()
        expect(main).to_contain_text("We have not heard any sound yet")
        page.get_by_role("button", name="Continue", exact=True).click()


def test_a_candidate_completes_the_interview_with_the_avatar_on_a_phone(
    invitation: Invitation,
    live_server: str,
    worker: RealWorker,
    speech_wav: Path,
    launch: Callable[..., Browser],
) -> None:
    browser = launch(*microphone(speech_wav))
    page, log, traffic = _open(browser, live_server)
    camera = Camera(page, "candidate")
    main = page.locator("main")
    q1, q2 = invitation.question_ids

    # 1. Welcome and consent.
    page.goto(f"/interview/#{invitation.token}")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Your interview for {invitation.role_title}"
    )
    expect(main).to_contain_text("An AI system transcribes what you say")
    for name in invitation.competencies:
        expect(main.locator("ul.competencies")).to_contain_text(name)
    expect(main).to_contain_text("deleted after 180 days")
    expect(main).to_contain_text(f"({CONTACT})")
    camera.shoot("welcome")
    page.get_by_label("I have read this page").check()
    page.get_by_role("button", name="Agree and continue").click()

    # 2. Device check, camera on: the fake camera and the looping speech clip.
    _device_check(page, camera=True)
    # (the check page has moved on; shoot it again from the guidelines' Back is not offered)
    expect(page.get_by_role("heading", level=1)).to_have_text("Before you start")
    camera.shoot("guidelines")

    # 3. Practice: the avatar says it is an AI, then the practice question; nothing is sent.
    page.get_by_role("button", name="Try a practice question").click()
    caption = page.locator(".avatar__caption")
    expect(caption).to_contain_text("I am an AI interviewer", timeout=20_000)
    expect(page.locator(".avatar")).to_have_attribute("data-state", "speaking")
    assert len(_watch_mouth(page, 1.5)) > 3, "the mouth should move with the audio"
    camera.shoot("practice-question")
    page.get_by_role("button", name="Start recording now").click()
    expect(main.locator(".rec-indicator")).to_contain_text("practice")
    page.wait_for_timeout(4000)
    page.get_by_role("button", name="Finish practice answer").click()
    expect(main.get_by_role("heading", name="That is how it works")).to_be_visible()
    camera.shoot("practice-done")
    assert traffic.uploads() == [] and _answers(invitation.interview_id) == {}

    # 4. Question 1: spoken by the avatar with captions; one take, then a retake.
    page.get_by_role("button", name="Start the interview").click()
    expect(main.locator(".progress-label")).to_have_text("Question 1 of 2")
    expect(caption).to_have_text(page.locator("h1.question-text").inner_text(), timeout=20_000)
    camera.shoot("question")
    expect(main.get_by_text("Time to think")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Start recording now").click()
    expect(main.locator(".rec-indicator")).to_contain_text("Recording")
    expect(main.locator(".upload")).to_contain_text("Uploaded 1 of", timeout=10_000)
    expect(page.locator(".avatar")).to_have_attribute("data-state", "listening")
    camera.shoot("recording")
    page.get_by_role("button", name="Finish answer").click()
    again = page.get_by_role("button", name="Record again (1 retake left)")
    expect(again).to_be_visible(timeout=15_000)
    expect(main.get_by_label("Your answer to question 1")).to_be_visible()  # playback
    camera.shoot("keep-or-record-again")
    again.click()
    page.get_by_role("button", name="Start recording now").click(timeout=30_000)
    # The retake runs to the 30 s limit and, with no retake left, is kept at once.
    expect(main.get_by_text("Your answer to question 1 is saved.")).to_be_visible(timeout=50_000)
    expect(main.locator(".check-status")).to_contain_text(
        "We could hear you clearly.", timeout=90_000
    )
    camera.shoot("answer-saved")

    # 5. Question 2, cut off mid-answer: the tab closes while it uploads.
    page.get_by_role("button", name="Next question").click()
    expect(main.locator(".progress-label")).to_have_text("Question 2 of 2")
    expect(caption).to_contain_text("This is the last question", timeout=20_000)
    page.get_by_role("button", name="Start recording now").click(timeout=30_000)
    expect(main.locator(".upload")).to_contain_text("Uploaded 1 of", timeout=10_000)
    assert log.problems() == []
    page.close()
    cut_off = _answers(invitation.interview_id)[q2]
    assert cut_off.state.value == "receiving" and cut_off.chunks

    # 6. The same link again: it resumes at question 2, and question 1 is untouched.
    page, log, traffic = _open(browser, live_server)
    camera.page = page
    main, caption = page.locator("main"), page.locator(".avatar__caption")
    page.goto(f"/interview/#{invitation.token}")
    expect(main).to_contain_text(
        "You have answered 1 of 2 questions; you will continue with question 2."
    )
    camera.shoot("resume")
    _device_check(page, camera=True)
    page.get_by_role("button", name="Continue with question 2").click()
    expect(caption).to_contain_text("I am an AI interviewer", timeout=20_000)
    page.get_by_role("button", name="Start recording now").click()
    expect(main.locator(".upload")).to_contain_text("Uploaded 2 of", timeout=15_000)
    page.get_by_role("button", name="Finish answer").click()
    page.get_by_role("button", name="Keep this answer").click(timeout=15_000)
    expect(main.get_by_text("Your answer to question 2 is saved.")).to_be_visible(timeout=15_000)
    page.get_by_role("button", name="Finish the interview").click()

    # 7. The end.
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you, your interview is complete"
    )
    expect(caption).to_contain_text("That is the end of the interview", timeout=20_000)
    camera.shoot("finish")
    # The optional fairness questions, after the interview.
    page.get_by_label("Sex").select_option("female")
    page.get_by_label("Age").select_option("prefer_not_to_say")
    page.get_by_role("button", name="Send my answers").click()
    expect(main).to_contain_text("Your answers are stored apart from your interview.")
    with unit_of_work() as session:
        given = session.scalars(select(SelfIdentification)).one()
    assert (given.sex, given.race_ethnicity, given.age_band) == (
        "female",
        None,
        "prefer_not_to_say",
    )
    assert log.problems() == []

    # What was stored: two answers that decode, with a duration and video; the retake and
    # the cut-off take are in the audit log; the kept retake's words are JFK's.
    answers = _answers(invitation.interview_id)
    assert set(answers) == {q1, q2}
    for question_id in (q1, q2):
        done = wait_for_state(answers[question_id].id, FINAL, timeout=120)
        assert done.state.value == "transcribed", done.failure_reason
    answers = _answers(invitation.interview_id)
    assert answers[q1].retakes_used == 1 and answers[q2].retakes_used == 0
    assert _actions(f"answer:{answers[q1].id}")[:2] == ["answer.retaken", "answer.uploaded"]
    assert _actions(f"answer:{answers[q2].id}")[:2] == ["answer.restarted", "answer.uploaded"]
    for question_id, at_least in ((q1, 25.0), (q2, 3.0)):
        key = answers[question_id].media_key
        assert key is not None and key.endswith(".webm")
        with get_storage().local_copy(key) as path, av.open(str(path)) as container:
            assert container.duration is not None, "remuxed for playback: it has a duration"
            assert container.duration / 1e6 >= at_least
            assert {s.type for s in container.streams} == {"audio", "video"}
            container.seek(int(2e6))  # and it seeks
        assert decode_audio(path).duration >= at_least
    with unit_of_work() as session:
        text = session.scalars(
            select(Transcript.text).where(Transcript.answer_id == answers[q1].id)
        ).one()
    error = _best_window_wer(reference("jfk.flac"), text)
    assert error <= 0.15, (error, text)
    assert len(list(SHOTS.glob("candidate-*.png"))) >= len(camera.taken)


def test_a_silent_microphone_is_told_at_once_and_records_again_without_a_retake(
    invitation: Invitation,
    live_server: str,
    worker: RealWorker,
    silent_wav: Path,
    launch: Callable[..., Browser],
) -> None:
    browser = launch(*microphone(silent_wav))
    page, log, _ = _open(browser, live_server)
    main = page.locator("main")
    page.goto(f"/interview/#{invitation.token}")
    page.get_by_label("I have read this page").check()
    page.get_by_role("button", name="Agree and continue").click()
    _device_check(page, camera=False, heard=False)
    page.get_by_role("button", name="Skip the practice").click()
    page.get_by_role("button", name="Start recording now").click(timeout=30_000)
    page.wait_for_timeout(4000)
    page.get_by_role("button", name="Finish answer").click()
    page.get_by_role("button", name="Keep this answer").click(timeout=15_000)
    notice = main.locator(".nospeech")
    expect(notice).to_contain_text("We couldn't hear you", timeout=30_000)
    expect(notice).to_contain_text("This does not count as a retake.")
    Camera(page, "candidate-silent").shoot("no-speech")
    notice.get_by_role("button", name="Record question 1 again").click()
    page.get_by_role("button", name="Start recording now").click(timeout=30_000)
    page.wait_for_timeout(3500)
    page.get_by_role("button", name="Finish answer").click()
    # Still the one retake the role allows: the silent take did not use it.
    expect(page.get_by_role("button", name="Record again (1 retake left)")).to_be_visible(
        timeout=15_000
    )
    assert log.problems() == []


def test_a_candidate_granted_typed_answers_types_them_and_they_are_scored(
    invitation: Invitation,
    live_server: str,
    worker: RealWorker,
    launch: Callable[..., Browser],
) -> None:
    with unit_of_work() as session:
        actor = session.scalars(select(User.id).where(User.role == StaffRole.RECRUITER)).first()
        assert actor is not None
        review.set_accommodations(
            session,
            actor_id=actor,
            interview_id=invitation.interview_id,
            granted=review.Accommodations(extra_think_seconds=5, typed_answers=True),
            reason="Asked for it by email.",
        )
        interview = session.get(Interview, invitation.interview_id)
        assert interview is not None
        session.get(JobRole, interview.role_id).feedback_enabled = True  # type: ignore[union-attr]
    page, log, traffic = _open(launch(), live_server)
    main = page.locator("main")
    page.goto(f"/interview/#{invitation.token}")
    page.get_by_label("I have read this page").check()
    page.get_by_role("button", name="Agree and continue").click()
    # No device check: nothing is recorded.
    expect(page.get_by_role("heading", level=1)).to_have_text("Before you start")
    expect(main).to_contain_text("8 seconds to think, then you type your answer")
    page.get_by_role("button", name="Start question 1").click()
    texts = [
        "When our supplier failed a week before launch, I called the client myself, explained "
        "the delay and the new plan, and we shipped ten days later with no penalty.",
        "I led a team of four through a rewrite of our billing system. I set weekly goals and "
        "checked in with each person, and we finished on time.",
    ]
    for n, text in enumerate(texts, start=1):
        expect(main.locator(".progress-label")).to_have_text(f"Question {n} of 2")
        page.get_by_role("button", name="Start typing now").click(timeout=30_000)
        page.get_by_label("Your answer").fill(text)
        expect(main).to_contain_text(f"{len(text)} of 8000 characters")
        if n == 1:
            Camera(page, "candidate-typed").shoot("typed-answer")
        page.get_by_role("button", name="Send answer").click()
        expect(main.get_by_text(f"Your answer to question {n} is saved.")).to_be_visible()
        page.get_by_role(
            "button", name="Finish the interview" if n == 2 else "Next question"
        ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you, your interview is complete"
    )
    expect(main).to_contain_text(
        "A short report on the strengths your answers showed will be here from"
    )
    assert not any("/chunks/" in p for p in traffic.uploads())
    answers = _answers(invitation.interview_id)
    for question_id, text in zip(invitation.question_ids, texts, strict=True):
        assert answers[question_id].content_type == "text/plain"
        with unit_of_work() as session:
            stored = session.scalars(
                select(Transcript.text).where(Transcript.answer_id == answers[question_id].id)
            ).one()
        assert stored == text
        deadline = time.monotonic() + 60
        while True:
            with unit_of_work() as session:
                scores = session.scalars(
                    select(Score).where(Score.answer_id == answers[question_id].id)
                ).all()
            if scores or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert scores, "the typed answer is scored from its text"
    assert log.problems() == []
