"""Staff pages in a real browser: sign in, review a transcribed and scored answer, record a
decision; a psychologist edits the rubric into a new version."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from services.api.app import create_app
from services.core.audit.orm import AuditEvent
from services.core.db import unit_of_work
from services.core.fairness.orm import SelfIdentification
from services.core.interviews.orm import Decision, Interview, Transcript
from services.core.rubrics.orm import RubricVersion
from services.worker.scoring import score_answer
from services.worker.transcription import transcribe_answer
from tests.services.conftest import PASSWORD, Org, RecordingPublisher, complete_with_score
from tests.services.pipeline import SPEECH, upload
from tests.services.test_notes_cv import minimal_pdf
from tests.web.conftest import PageLog

pytestmark = pytest.mark.slow

# Before sign-in the page asks who is signed in, and is told: nobody.
SIGNED_OUT = r"status of 401 .*@ http://127\.0\.0\.1:\d+/api/v1/me$"


def _sign_in(page: Page, org: Org, who: str) -> None:
    page.goto("/staff/")
    page.get_by_label("Email").fill(org.emails[who])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _transcribed_answer(org: Org) -> tuple[str, list[dict[str, object]]]:
    """JFK's speech as the seeded candidate's answer to question 2, transcribed in-process."""
    client = TestClient(create_app(publisher=RecordingPublisher()))
    speech = (SPEECH / "jfk.flac").read_bytes()
    answer_id = upload(client, org.invite_token, org.question_ids[1], speech, "audio/flac")
    assert transcribe_answer(answer_id) == "transcribed"
    assert score_answer(answer_id) == "scored"
    with unit_of_work() as session:
        transcript = session.scalars(
            select(Transcript).where(Transcript.answer_id == answer_id)
        ).one()
        return answer_id, transcript.words


def test_a_recruiter_reviews_a_transcript_by_ear_and_records_a_decision(
    org: Org, live_server: str, launch: Callable[..., Browser], tmp_path: Path
) -> None:
    answer_id, words = _transcribed_answer(org)
    page = launch().new_page(base_url=live_server)
    log = PageLog.attach(page)

    _sign_in(page, org, "recruiter")
    expect(page.locator("#scoring-note")).to_contain_text("uncalibrated demo model")
    page.get_by_role("link", name="Role a").click()
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("#toast")).to_contain_text("report of their strengths, never a score")
    expect(page.locator("main")).to_contain_text("Feedback to candidates after 3 days")
    with page.expect_download() as exported:
        page.get_by_role("button", name="Export the ranking (CSV)").click()
    assert exported.value.path().read_text().startswith("rank,candidate,email")
    people = tmp_path / "people.csv"
    people.write_text("name,email\nAda Lovelace,ada@example.com\nBo Chen,bo@example.com\n")
    page.get_by_text("Invite many from a CSV file").click()
    page.get_by_label("CSV file with name and email columns").set_input_files(people)
    page.get_by_role("button", name="Invite everyone in the file").click()
    expect(page.locator("main")).to_contain_text("2 invitations created and emailed.")
    page.get_by_text("Pause AI scoring for this role").click()
    page.get_by_label("Why pause AI scoring?").fill("Checking the thresholds first.")
    page.get_by_role("button", name="Pause AI scoring").click()
    expect(page.locator("main")).to_contain_text("AI scoring paused", timeout=10_000)
    page.get_by_text("AI scoring is paused: resume it").click()
    page.get_by_label("Why resume AI scoring?").fill("Thresholds checked.")
    page.get_by_role("button", name="Resume AI scoring").click()
    expect(page.get_by_text("Pause AI scoring for this role")).to_be_visible(timeout=10_000)
    candidates = page.locator("section", has=page.get_by_role("heading", name="Candidates"))
    row = candidates.get_by_role("row", name=re.compile("Cand a"))
    expect(row).to_contain_text("1/2 transcribed")
    expect(row).to_contain_text("problem solving:")  # question 2's competency, now scored
    row.get_by_role("link", name="Cand a").click()

    expect(page.get_by_role("heading", name="Cand a", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("^Fit by competency"))).to_be_visible()
    card = page.locator("article", has=page.get_by_role("heading", name=re.compile("^Question 2")))
    expect(card.locator(".score")).to_contain_text("/100")
    card.locator("summary", has_text="Transcript").click()
    index = next(i for i, w in enumerate(words) if "country" in str(w["text"]).lower())
    start = float(words[index]["start"])  # type: ignore[arg-type]
    word = card.locator(f'.word[data-i="{index}"]')
    expect(word).to_contain_text("country")
    word.click()
    # Seeking lands on the word's start; playback may then move on a little.
    page.wait_for_function(
        "([audio, start]) => audio.currentTime >= start - 0.05 && audio.currentTime < start + 2",
        arg=[card.locator("audio").element_handle(), start],
        timeout=10_000,
    )
    expect(card.locator(".word--current")).to_have_count(1)

    reason = "Clear, specific example of public service; advance to the panel."
    page.get_by_label("New status").select_option("advanced")
    page.get_by_label("Reason").fill(reason)
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator("#toast")).to_contain_text("Decision recorded: New → Advanced")

    # Override a competency's score, with a reason.
    fit = page.locator("section", has=page.get_by_role("heading", name=re.compile("^Fit by")))
    fit.get_by_role("button", name="Override").first.click()
    page.get_by_label("New score (0-100)").fill("64")
    page.get_by_label("Reason for the override").fill("The example in minute two was missed.")
    page.get_by_role("button", name="Save override").click()
    expect(page.locator("#toast")).to_contain_text("Override saved")
    fit = page.locator("section", has=page.get_by_role("heading", name=re.compile("^Fit by")))
    expect(fit).to_contain_text("64/100")
    expect(fit).to_contain_text("The example in minute two was missed.")

    # The seed candidate is still answering: grant extra retakes and typed answers.
    panel = page.locator("aside", has=page.get_by_role("heading", name="Accommodations"))
    panel.get_by_label("Extra retakes per question").fill("2")
    panel.get_by_label("Typed answers instead of spoken ones").check()
    panel.get_by_label("Note for the audit log").fill("Asked for by email.")
    panel.get_by_role("button", name="Save accommodations").click()
    expect(page.locator("#toast")).to_contain_text("Accommodations saved.")

    with unit_of_work() as session:
        decision = session.scalars(
            select(Decision).where(Decision.interview_id == org.interview_id)
        ).one()
        actions = {
            (e.action, e.subject)
            for e in session.scalars(select(AuditEvent).where(AuditEvent.org_id == org.org_id))
        }
    assert (decision.to_status, decision.reason) == ("advanced", reason)
    assert f"answer:{answer_id}:recording" in decision.viewed
    assert f"answer:{answer_id}:transcript" in decision.viewed
    assert ("interview.view", f"interview:{org.interview_id}") in actions
    assert ("answer.media.view", f"answer:{answer_id}") in actions
    assert ("accommodations.changed", f"interview:{org.interview_id}") in actions
    assert ("role.feedback_changed", f"role:{org.role_id}") in actions
    assert ("score.overridden", f"interview:{org.interview_id}") in actions
    with unit_of_work() as session:
        interview = session.get(Interview, org.interview_id)
        assert interview is not None
        assert (interview.extra_retakes, interview.typed_answers) == (2, True)
    assert log.problems(SIGNED_OUT) == []


def test_an_admin_reads_the_adverse_impact_report_and_downloads_it(
    org: Org, live_server: str, launch: Callable[..., Browser]
) -> None:
    complete_with_score(org, value=70.0, level=3.6)
    with unit_of_work() as session:
        session.add(
            SelfIdentification(org_id=org.org_id, interview_id=org.interview_id, sex="female")
        )
    page = launch().new_page(base_url=live_server)
    log = PageLog.attach(page)
    _sign_in(page, org, "admin")
    page.goto(f"/staff/#/roles/{org.role_id}")
    page.get_by_role("link", name="Adverse-impact report for this role").click()
    expect(page.get_by_role("heading", name="Adverse-impact report", level=1)).to_be_visible()
    sex = page.get_by_role("region", name="Sex", exact=True)
    expect(sex.get_by_role("row", name=re.compile("^female"))).to_contain_text("100.0%")
    expect(sex.locator("svg.impact-chart")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile("Download CSV")).click()
    text = download.value.path().read_text()
    assert text.startswith("measure,category_type,category,number_of_applicants")
    assert "overall,sex,female,1," in text
    assert log.problems(SIGNED_OUT) == []


def test_a_psychologist_cannot_open_a_candidate(
    org: Org, live_server: str, launch: Callable[..., Browser]
) -> None:
    page = launch().new_page(base_url=live_server)
    log = PageLog.attach(page)

    _sign_in(page, org, "psychologist")
    expect(page.get_by_role("heading", name="Calibration", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Roles")).to_have_count(0)

    page.goto(f"/staff/#/interviews/{org.interview_id}")
    expect(page.get_by_role("heading", name="Not available to your role")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Cand a")
    assert log.problems(SIGNED_OUT) == []


def _pdf_viewer_started(page: Page, timeout: float = 10.0) -> bool:
    """Whether Chromium's PDF viewer (an embed in a frame of the PDF's URL) is on the page."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for frame in page.frames:
            viewer = frame.locator('embed[type="application/x-google-chrome-pdf"]')
            if frame.url.endswith("/cv/file") and viewer.count():
                return True
        page.wait_for_timeout(200)
    return False


def test_a_recruiter_keeps_a_cv_and_a_note_on_the_candidate_page(
    org: Org, live_server: str, launch: Callable[..., Browser], tmp_path: Path
) -> None:
    document = tmp_path / "Cand a CV.pdf"
    document.write_bytes(minimal_pdf())
    page = launch().new_page(base_url=live_server)
    log = PageLog.attach(page)
    _sign_in(page, org, "recruiter")
    expect(page.get_by_role("heading", name="Roles", level=1)).to_be_visible()
    page.goto(f"/staff/#/interviews/{org.interview_id}")

    cv = page.locator("section", has=page.get_by_role("heading", name="CV", exact=True))
    expect(cv).to_contain_text("The AI never sees the CV")
    cv.get_by_label("CV (PDF)").set_input_files(document)
    cv.get_by_role("button", name="Upload CV").click()
    expect(page.locator("#toast")).to_contain_text("CV uploaded.")
    expect(cv).to_contain_text("Cand a CV.pdf")
    viewer = cv.locator("iframe.cv-frame")
    expect(viewer).to_be_visible()
    served = page.evaluate(
        "src => fetch(src).then(r => [r.status, r.headers.get('content-type'),"
        " r.headers.get('content-disposition')])",
        viewer.get_attribute("src"),
    )
    assert served[:2] == [200, "application/pdf"] and served[2].startswith("inline;")
    # Chromium's own PDF viewer starts inside the frame, despite the file's `sandbox` policy.
    assert _pdf_viewer_started(page), [f.url for f in page.frames]
    expect(cv.get_by_role("link", name="Download")).to_have_attribute(
        "href", re.compile(r"/cv/file\?download=true$"))

    notes = page.locator("aside", has=page.get_by_role("heading", name="Notes"))
    notes.get_by_label("New note").fill("Phoned: available from March.")
    notes.get_by_role("button", name="Add note").click()
    expect(notes.locator(".note")).to_have_count(1)
    expect(notes.locator(".note").first).to_contain_text("Phoned: available from March.")
    expect(notes.locator(".note").first).to_contain_text("Recruiter")
    page.reload()
    expect(notes.locator(".note")).to_contain_text("Phoned: available from March.")
    expect(cv).to_contain_text("Cand a CV.pdf")

    with unit_of_work() as session:
        actions = [e.action for e in session.scalars(
            select(AuditEvent).where(AuditEvent.org_id == org.org_id))]
    assert {"cv.uploaded", "cv.viewed", "note.added"} <= set(actions)
    assert log.problems(SIGNED_OUT) == []


def test_a_psychologist_edits_the_rubric_into_a_new_version(
    org: Org, live_server: str, launch: Callable[..., Browser]
) -> None:
    page = launch().new_page(base_url=live_server)
    log = PageLog.attach(page)
    _sign_in(page, org, "psychologist")
    page.get_by_role("link", name="Rubric").click()

    page.get_by_role("button", name="Edit as a new version").first.click()
    editor = page.locator("form.rubric-editor")
    editor.locator("details.indicator summary").first.click()
    editor.get_by_label("Anchor").first.fill("Says nothing about what they did themselves.")
    editor.get_by_role("button", name="Save as a new version").click()

    expect(page.locator("#toast")).to_contain_text("Saved as version 2")
    with unit_of_work() as session:
        versions = {v.version: v for v in session.scalars(select(RubricVersion))}
        first = versions[1].competencies[0].indicators[0].levels
        second = versions[2].competencies[0].indicators[0].levels
    anchors = {lv.level: lv.anchor for lv in second}
    assert anchors[1] == "Says nothing about what they did themselves."
    assert {lv.level: lv.anchor for lv in first}[1] != anchors[1]  # version 1 unchanged
    assert log.problems(SIGNED_OUT) == []
