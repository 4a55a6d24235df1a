"""The ranked candidate list in a real browser: pages, search, band filters and sort."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, expect

from tests.services.conftest import Org
from tests.services.test_standings import _fill_role
from tests.web.conftest import PageLog
from tests.web.test_staff_browser import SIGNED_OUT, _sign_in

pytestmark = pytest.mark.slow


def test_a_recruiter_pages_searches_and_filters_the_ranked_list(
    org: Org, live_server: str, launch: Callable[..., Browser]
) -> None:
    # 60 scored candidates from 1 to 99.3 (the role: meets from 50, exceeds from 75), one unscored
    _fill_role(org, [round(1 + i * 1.66, 1) for i in range(60)] + [None])
    page = launch().new_page(base_url=live_server)
    log = PageLog.attach(page)
    _sign_in(page, org, "recruiter")
    page.get_by_role("link", name="Role a").click()

    section = page.locator("section", has=page.get_by_role("heading", name="Candidates"))
    rows = section.locator("tbody tr")
    expect(section.get_by_role("status")).to_have_text("62 candidates in this role.")
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text("99")  # best fit first
    section.get_by_role("button", name="Show more candidates").click()
    expect(rows).to_have_count(62)
    expect(section.get_by_role("button", name="Show more candidates")).to_be_hidden()
    expect(rows.last).to_contain_text("not scored yet")

    section.get_by_label("Communication").select_option("exceeds")
    # 75 and above: 1 + 1.66 i >= 75 for i = 45 ... 59
    expect(section.get_by_role("status")).to_contain_text("15 candidates match these filters")
    expect(rows).to_have_count(15)
    section.get_by_label("Search").fill("chen")
    expect(section.get_by_role("status")).to_contain_text("2 candidates match")  # Chen Wei 50, 58
    expect(rows.filter(has_text=re.compile("Chen Wei 5[08]"))).to_have_count(2)

    section.get_by_role("button", name="Clear filters").click()
    expect(section.get_by_role("status")).to_have_text("62 candidates in this role.")
    section.get_by_label("Sort by").select_option("name")
    expect(rows.first).to_contain_text("Ada Obi 0")
    section.get_by_label("Search").fill("nobody at all")
    expect(section).to_contain_text("No candidate matches these filters.")
    assert log.problems(SIGNED_OUT) == []
