"""A role's open link in a real browser: a recruiter creates it on the role page, someone opens
it, gives a name and an email, and lands on their own interview's welcome and consent page;
the recruiter then extends that candidate's invitation from the candidate page."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from services.core import security
from services.core.audit.orm import AuditEvent
from services.core.db import unit_of_work
from services.core.interviews.orm import Candidate, Interview, Invitation
from tests.services.conftest import PASSWORD, Org
from tests.web.conftest import PageLog

pytestmark = pytest.mark.slow
SIGNED_OUT = r"status of 401 .*@ http://127\.0\.0\.1:\d+/api/v1/me$"  # before sign-in


def _sign_in(page: Page, org: Org) -> None:
    page.goto("/staff/")
    page.get_by_label("Email").fill(org.emails["recruiter"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_someone_opens_the_role_s_open_link_and_lands_in_their_own_interview(
    org: Org, live_server: str, launch: Callable[..., Browser]
) -> None:
    browser = launch()
    staff = browser.new_page(base_url=live_server)
    staff_log = PageLog.attach(staff)
    _sign_in(staff, org)
    staff.goto(f"/staff/#/roles/{org.role_id}")
    section = staff.locator("section.open-link")
    section.get_by_label("At most how many candidates (optional)").fill("5")
    section.get_by_role("button", name="Create an open link").click()
    link = section.get_by_label("Open link for this role")
    expect(link).to_have_value(re.compile(r"/interview/#open=[\w-]{43}$"))
    url = link.input_value()

    page = browser.new_page()
    log = PageLog.attach(page)
    page.goto(url)
    expect(page.get_by_role("heading", name="Interview for Role a")).to_be_visible()
    expect(page.locator("#context")).to_have_text("Role a · Org a")
    page.get_by_role("button", name="Start my interview").click()
    expect(page.get_by_text("Enter your name.")).to_be_visible()
    page.get_by_label("Your name").fill("Noor Applicant")
    page.get_by_label("Your email").fill("Noor@Example.com")
    page.get_by_role("button", name="Start my interview").click()

    expect(page.get_by_role("heading", name="Your interview for Role a")).to_be_visible()
    expect(page.get_by_label(re.compile("I agree that my answers are recorded"))).to_be_visible()
    personal = page.evaluate("window.location.hash").removeprefix("#")
    assert not personal.startswith("open=")
    with unit_of_work() as session:
        interview = session.scalars(
            select(Interview).join(Candidate, Candidate.id == Interview.candidate_id)
            .where(Candidate.email == "noor@example.com")
        ).one()
        invitation = session.get(Invitation, interview.invitation_id)
        assert invitation is not None and invitation.open_link_id is not None
        assert invitation.token_hash == security.token_hash(personal)
        assert interview.state.value == "invited"
        interview_id = interview.id

    staff.reload()
    expect(staff.locator("section.open-link")).to_contain_text("1 candidate used it (cap 5)")
    staff.goto(f"/staff/#/interviews/{interview_id}")
    panel = staff.locator("section.invitation-panel")
    expect(panel).to_contain_text("The invitation expires on")
    expect(panel).to_contain_text("came through the role's open link")
    panel.get_by_text("Give more time").click()
    panel.get_by_label("More days to answer").fill("3")
    panel.get_by_label("Why?").fill("Asked for a few more days.")
    panel.get_by_role("button", name="Extend and email the link again").click()
    expect(staff.get_by_text(re.compile("the link was emailed to the candidate again"))).to_be_visible()
    with unit_of_work() as session:
        assert session.scalars(
            select(AuditEvent).where(AuditEvent.action == "invitation.extended")
        ).one().subject == f"interview:{interview_id}"

    staff.goto(f"/staff/#/roles/{org.role_id}")
    section.get_by_role("button", name="Disable the open link").click()
    expect(section).to_contain_text("Disabled")
    page.goto("about:blank")
    page.goto(url)
    expect(page.get_by_role("heading", name="This link has been closed")).to_be_visible()
    assert log.problems(r"status of 410") == []
    assert staff_log.problems(SIGNED_OUT) == []
