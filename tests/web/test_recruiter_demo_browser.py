"""The recruiter's whole flow on the demo data, in a real browser.

The demo organisation is loaded as `parley run` loads it, its candidates' answers transcribed by
real Whisper and scored by the seed model; then a recruiter signs in, reads the ranked list,
narrows it, opens the best-fitting candidate, checks a score against its quotes and the rubric,
overrides it and records a decision, and finds both back in the list and the audit trail.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from services.core import jobs
from services.core.audit.orm import AuditEvent
from services.core.db import unit_of_work
from services.core.demo.loader import content, load_demo, staff_email
from services.core.interviews.orm import Answer, Decision, Interview
from services.core.organisations.orm import Organisation
from services.worker.scoring import score_answer
from services.worker.transcription import transcribe_answer
from tests.services.conftest import PASSWORD, Org, RecordingPublisher
from tests.web.conftest import PageLog
from tests.web.test_staff_browser import SIGNED_OUT

pytestmark = pytest.mark.slow


def _demo_processed() -> str:
    """The demo organisation with every demo answer transcribed and scored; its id."""
    publisher = RecordingPublisher()
    load_demo(publisher=publisher, password=PASSWORD)
    for name, args in publisher.published:
        if name == jobs.TRANSCRIBE_ANSWER:
            assert transcribe_answer(args[0]) == "transcribed"
    with unit_of_work() as session:
        slug = content()["organisation"]["slug"]
        org_id = session.scalars(select(Organisation.id).where(Organisation.slug == slug)).one()
        answers = session.scalars(select(Answer.id).where(Answer.org_id == org_id)).all()
    assert len(answers) == 24
    for answer_id in answers:
        assert score_answer(answer_id) == "scored"
    return org_id


def test_a_recruiter_ranks_reviews_overrides_and_decides_on_the_demo_role(
    org: Org, live_server: str, launch: Callable[..., Browser]
) -> None:
    org_id = _demo_processed()
    doc = content()
    page = launch().new_page(base_url=live_server)
    log = PageLog.attach(page)
    page.goto("/staff/")
    page.get_by_label("Email").fill(staff_email(doc["organisation"]["slug"], "recruiter"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#scoring-note")).to_contain_text("uncalibrated demo model")
    page.get_by_role("link", name=doc["role"]["title"]).click()

    section = page.locator("section", has=page.get_by_role("heading", name="Candidates"))
    rows = section.locator("tbody tr")
    expect(section.get_by_role("status")).to_have_text("5 candidates in this role.")
    expect(rows).to_have_count(5)
    fits = [int(t) for t in rows.locator("td:nth-child(2) strong").all_inner_texts()]
    assert len(fits) == 4 and fits == sorted(fits, reverse=True)  # four scored, best first
    expect(rows.last).to_contain_text("not scored yet")  # the invitation left open to try
    section.get_by_label("Interview").select_option("completed")
    expect(rows).to_have_count(4)
    best = rows.first.locator("a.candidate-name").inner_text()

    rows.first.locator("a.candidate-name").click()
    expect(page.get_by_role("heading", name=best, level=1)).to_be_visible()
    card = page.locator("article", has=page.get_by_role("heading", name=re.compile("^Question 1")))
    expect(card.get_by_role("list", name="Sentences the score rests on")).to_be_visible()
    card.locator("summary", has_text="Rubric anchors at level").click()
    expect(card.locator(".anchors li").first).to_be_visible()
    card.locator("summary", has_text="Transcript").click()
    expect(card.locator(".word").first).to_be_visible()

    fit = page.locator("section", has=page.get_by_role("heading", name=re.compile("^Fit by")))
    fit.get_by_role("button", name="Override").first.click()
    page.get_by_label("New score (0-100)").fill("12")
    page.get_by_label("Reason for the override").fill("The second example was another person's.")
    page.get_by_role("button", name="Save override").click()
    expect(page.locator("#toast")).to_contain_text("Override saved")
    page.get_by_label("New status").select_option("in_review")
    page.get_by_label("Reason").fill("Read all six answers; a panel should hear the second one.")
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator("#toast")).to_contain_text("Decision recorded: New → In review")

    page.go_back()
    section = page.locator("section", has=page.get_by_role("heading", name="Candidates"))
    row = section.get_by_role("row", name=re.compile(re.escape(best)))
    expect(row).to_contain_text("In review")
    expect(row).to_contain_text("(override)")
    with unit_of_work() as session:
        interview = session.scalars(
            select(Interview).where(Interview.org_id == org_id, Interview.status == "in_review")
        ).one()
        decision = session.scalars(
            select(Decision).where(Decision.interview_id == interview.id)
        ).one()
        actions = {e.action for e in session.scalars(
            select(AuditEvent).where(AuditEvent.subject == f"interview:{interview.id}")
        )}
    assert decision.actor_id and any(v.endswith(":transcript") for v in decision.viewed)
    assert {"interview.view", "score.overridden", "decision"} <= actions
    assert log.problems(SIGNED_OUT) == []
