"""The role editor and the webhooks page in a real browser: a recruiter builds a role from the
bank and a question of their own, reorders it with the keyboard and saves it; edits a role
with scored candidates and watches the band preview follow the levels; an admin adds a
webhook and sees its secret once."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from services.core.audit.orm import AuditEvent
from services.core.db import unit_of_work
from services.core.roles.orm import JobRole
from services.core.webhooks.orm import WebhookEndpoint
from tests.services.conftest import PASSWORD, Org
from tests.services.test_role_editor import scored_candidate
from tests.web.conftest import PageLog

pytestmark = pytest.mark.slow

SIGNED_OUT = r"status of 401 .*@ http://127\.0\.0\.1:\d+/api/v1/me$"
CUSTOM = "Tell me about a time you had to hand over a night shift that had gone badly wrong."


def _sign_in(page: Page, org: Org, who: str) -> None:
    page.goto("/staff/")
    page.get_by_label("Email").fill(org.emails[who])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _actions(org: Org) -> list[str]:
    with unit_of_work() as session:
        return list(session.scalars(
            select(AuditEvent.action).where(AuditEvent.org_id == org.org_id)
        ))


def test_a_recruiter_builds_a_role_from_the_bank_and_a_question_of_their_own(
    org: Org, live_server: str, launch: Callable[..., Browser]
) -> None:
    page = launch().new_page(base_url=live_server)
    log = PageLog.attach(page)
    _sign_in(page, org, "recruiter")
    page.get_by_role("link", name="New role").click()
    expect(page.get_by_role("heading", name="New role", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Once the first candidate starts")
    page.get_by_label("Title").fill("Night shift lead")

    page.get_by_label("Show questions for").select_option(label="Collaboration")
    picker = page.locator(".question-picker")
    banked = picker.locator("li", has_text="Parley's question bank").first
    bank_text = banked.locator("div > div").first.inner_text()
    banked.get_by_role("button", name=re.compile("^Add to the script")).click()
    script = page.locator(".script--edit")
    expect(script.locator("li")).to_have_count(1)
    expect(script.locator("li").first).to_contain_text(bank_text)

    page.get_by_text("Write a question of your own").click()
    page.get_by_label("Competency it assesses").select_option(label="Communication")
    page.get_by_label("Question", exact=True).fill(CUSTOM)
    page.get_by_role("button", name="Add this question").click()
    expect(script.locator("li")).to_have_count(2)
    expect(script.locator("li").nth(1)).to_contain_text(CUSTOM)

    page.get_by_role("button", name="Move up: question 2").focus()
    page.keyboard.press("Enter")
    expect(script.locator("li").first).to_contain_text(CUSTOM)
    expect(page.locator("main [role=status]")).to_contain_text("moved to position 1 of 2")
    focused = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert focused == "Move down: question 1"  # focus stays with the question that moved

    page.get_by_label("Required level for Communication").fill("2")
    page.get_by_label("Exceeds level for Communication").fill("2")
    expect(page.locator("main")).to_contain_text("the required level must be below the exceeds")
    page.get_by_label("Exceeds level for Communication").fill("4")
    page.get_by_label("Think time (seconds)").fill("20")
    page.get_by_role("button", name="Create role").click()

    expect(page.get_by_role("heading", name="Night shift lead", level=1)).to_be_visible()
    items = page.locator("section", has=page.get_by_role("heading", name="Interview script"))
    expect(items.locator("li").first).to_contain_text(CUSTOM)
    expect(items.locator("li").nth(1)).to_contain_text(bank_text)
    thresholds = page.locator("section", has=page.get_by_role("heading", name="Thresholds"))
    expect(thresholds.get_by_role("row", name=re.compile("^Communication"))).to_contain_text("24")
    with unit_of_work() as session:
        role = session.scalars(select(JobRole).where(JobRole.title == "Night shift lead")).one()
        texts = [item.question.text for item in role.script]
        levels = {t.competency_key: (t.required_level, t.exceeds_level) for t in role.thresholds}
        assert (texts, role.think_seconds) == ([CUSTOM, bank_text], 20)
        assert levels == {"communication": (2, 4), "collaboration": (3, 4)}
    assert {"question_bank.install", "question.create", "role.create"} <= set(_actions(org))
    assert log.problems(SIGNED_OUT) == []


def test_the_band_preview_follows_the_levels_of_a_role_candidates_have_started(
    org: Org, live_server: str, launch: Callable[..., Browser]
) -> None:
    for name, value in [("Ann", 40.0), ("Bob", 55.0), ("Cy", 60.0), ("Di", 80.0)]:
        scored_candidate(org, name, {"communication": [value]})
    page = launch().new_page(base_url=live_server)
    log = PageLog.attach(page)
    _sign_in(page, org, "recruiter")
    page.get_by_role("link", name="Role a").click()
    page.get_by_role("link", name="Edit role").click()

    expect(page.get_by_role("heading", name="Edit Role a", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Candidates have started this interview.")
    expect(page.get_by_role("button", name=re.compile("^Move"))).to_have_count(0)
    expect(page.get_by_label("Rubric version")).to_be_disabled()
    row = page.locator("fieldset[data-competency=communication]")
    counts = row.locator(".band-counts")
    expect(counts).to_have_text("Below: 1 · Meets: 2 · Exceeds: 1")  # levels 3 and 4: 50, 75
    expect(row.locator("svg.band-chart rect")).to_have_count(4)
    expect(row.locator("svg.band-chart line.band-chart__rule")).to_have_count(2)
    row.get_by_text("The chart as a table").click()
    expect(row.get_by_role("row", name=re.compile("^55"))).to_contain_text("meets")

    row.get_by_label("Required level for Communication").fill("3.4")  # 60
    expect(counts).to_have_text("Below: 2 · Meets: 1 · Exceeds: 1")
    row.get_by_label("Exceeds level for Communication").fill("5")
    expect(counts).to_have_text("Below: 2 · Meets: 2 · Exceeds: 0")
    page.get_by_label("Think time (seconds)").fill("45")
    page.get_by_role("button", name="Save changes").click()

    expect(page.get_by_role("heading", name="Role a", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Think time 45 seconds")
    with unit_of_work() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "role.update")).one()
    # The script's other competency had no levels: the editor offered the usual 3 and 4.
    assert event.data["after"] == {  # type: ignore[index]
        "think_seconds": 45,
        "thresholds": {"communication": [3.4, 5.0], "problem_solving": [3.0, 4.0]},
    }
    assert log.problems(SIGNED_OUT) == []


def test_an_admin_adds_a_webhook_sees_its_secret_once_and_reads_its_log(
    org: Org, live_server: str, launch: Callable[..., Browser]
) -> None:
    page = launch().new_page(base_url=live_server)
    log = PageLog.attach(page)
    _sign_in(page, org, "admin")
    page.get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("No webhooks yet.")

    page.get_by_label("Address (http or https)").fill("https://ats.example.com/parley")
    page.get_by_label(re.compile("^Interview completed")).uncheck()
    page.get_by_role("button", name="Add webhook").click()

    secret_box = page.get_by_label("Signing secret")
    expect(secret_box).to_be_focused()
    secret = secret_box.input_value()
    with unit_of_work() as session:
        endpoint = session.scalars(select(WebhookEndpoint)).one()
        assert (endpoint.secret, endpoint.events) == (secret, ["interview.scored"])
    expect(page.locator("main")).to_contain_text("shown only this once")
    expect(page.locator("main")).to_contain_text("X-Parley-Signature")
    expect(page.get_by_role("button", name="Copy secret")).to_be_visible()
    listed = page.get_by_role("row", name=re.compile(r"ats\.example\.com"))
    expect(listed).to_contain_text("Active")

    listed.get_by_role("button", name=re.compile("^Send a test ping")).click()
    log_section = page.locator("section", has=page.get_by_role("heading", name=re.compile("^Delivery log")))
    expect(log_section.get_by_role("row", name=re.compile("ping"))).to_contain_text("pending")
    listed.get_by_role("button", name=re.compile("^Deactivate")).click()
    page.get_by_role("button", name="Yes, deactivate").click()
    expect(page.get_by_role("row", name=re.compile(r"ats\.example\.com"))).to_contain_text(
        "Deactivated"
    )

    page.reload()
    expect(page.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"ats\.example\.com"))).to_be_visible()
    assert secret not in page.content()  # shown once, never again
    assert {"webhook.created", "webhook.deactivated"} <= set(_actions(org))
    assert log.problems(SIGNED_OUT) == []
