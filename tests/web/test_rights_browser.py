"""Data rights in a real browser: the candidate's "Your data" section (web/interview/rights.js)
with the zip download, a human-review request and a confirmed deletion request, under the page's
CSP; and what recruiters then see on the candidate list and the interview page."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, expect

from services.api.app import create_app
from services.core.db import unit_of_work
from services.core.interviews.orm import Interview
from tests.services.conftest import PASSWORD, Org, RecordingPublisher
from tests.web.conftest import PageLog

pytestmark = pytest.mark.slow
SIGNED_OUT = r"status of 401 .*@ http://127\.0\.0\.1:\d+/api/v1/me$"  # before sign-in

# app.js does not place the section itself yet; the test mounts it in a container of its own.
_MOUNT = """async () => {
  const { rightsSection } = await import("/interview/rights.js");
  const box = document.createElement("div");
  box.id = "rights-under-test";
  box.append(rightsSection());
  document.body.append(box);
}"""


def test_the_candidate_downloads_asks_for_a_person_and_asks_for_deletion(
    live_server: str, org: Org, launch: Callable[..., Browser]
) -> None:
    page = launch().new_page(accept_downloads=True)
    log = PageLog.attach(page)
    page.goto(f"{live_server}/interview/#{org.invite_token}")
    expect(page.locator("h1")).to_be_visible()
    page.evaluate(_MOUNT)
    section = page.locator("#rights-under-test")

    with page.expect_download() as download:
        section.get_by_role("button", name="Download my data").click()
    archive = zipfile.ZipFile(download.value.path())
    assert {"explanation.md", "my-data.json", "recordings/question-1.wav"} <= set(
        archive.namelist()
    )

    section.get_by_role("button", name="Ask for a human review").click()
    section.get_by_label("Anything you want them to know (optional)").fill("Please look again.")
    section.get_by_role("button", name="Send my request").click()
    expect(section.get_by_text("You asked for a review by a person")).to_be_visible()

    section.get_by_role("button", name="Ask to delete my data").click()
    expect(section.get_by_role("heading", name="Delete your data?")).to_be_visible()
    expect(section.get_by_text("within 30 days")).to_be_visible()
    section.get_by_role("button", name="Yes, delete my data").click()
    expect(section.get_by_text("You asked for your data to be deleted.")).to_be_visible()
    expect(section.get_by_role("button", name="Ask to delete my data")).to_be_disabled()

    with unit_of_work() as session:
        interview = session.get(Interview, org.interview_id)
        assert interview is not None
        assert interview.deletion_due_at is not None
        assert interview.human_review_message == "Please look again."
    assert log.problems() == []


def test_a_recruiter_sees_the_deletion_due_date_and_the_review_request(
    live_server: str, org: Org, launch: Callable[..., Browser]
) -> None:
    client = TestClient(create_app(publisher=RecordingPublisher()))
    client.headers["X-Invite-Token"] = org.invite_token
    assert client.post("/api/v1/candidate/deletion").status_code == 202
    assert client.post("/api/v1/candidate/human-review", json={"message": "Look again, please."}
                       ).status_code == 201
    page = launch().new_page(base_url=live_server)
    log = PageLog.attach(page)

    page.goto("/staff/")
    page.get_by_label("Email").fill(org.emails["recruiter"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Role a").click()
    row = page.get_by_role("row", name=re.compile("Cand a"))
    expect(row).to_contain_text("Deletion requested, due")
    expect(row).to_contain_text("Asked for a human review")
    row.get_by_role("link", name="Cand a").click()

    expect(page.get_by_role("heading", name="Cand a", level=1)).to_be_visible()
    notice = page.locator(".notice", has_text="Deletion requested, due")
    expect(notice).to_contain_text("everything about them")
    expect(page.locator(".notice", has_text="asked for a human review")).to_contain_text(
        "Look again, please."
    )
    assert log.problems(SIGNED_OUT) == []
