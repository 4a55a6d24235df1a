"""The candidate's pages by keyboard alone, with a visible focus, and text at WCAG AA contrast."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import PHONE, Invitation, PageLog, microphone

pytestmark = pytest.mark.slow

# Every visible text node's colour against the first opaque background behind it (WCAG 2.1
# relative luminance); 4.5:1, or 3:1 for large text (24 px, or 18.66 px bold).
_CONTRAST = """
() => {
  const lin = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const rgba = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c.length >= 3 && (c.length === 3 || c[3] > 0.9)) return c;
    }
    return [255, 255, 255];
  };
  const problems = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || el.closest("svg, [hidden], .visually-hidden")) continue;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (style.visibility === "hidden" || style.display === "none" || !box.width || !box.height) continue;
    if (el.closest("button:disabled, input:disabled")) continue;  // exempt by WCAG
    const fg = rgba(style.color), bg = background(el);
    const [l1, l2] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    const text = node.textContent.trim().slice(0, 40);
    if (ratio < needed) problems.push(`${ratio.toFixed(2)} < ${needed}: "${text}" (${style.color})`);
  }
  return problems;
}
"""

_FOCUS_SHOWN = """
() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return el !== document.body && style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
}
"""


def _tab_to(page: Page, name: str, limit: int = 40) -> None:
    """Press Tab until the element with this accessible name has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        label = page.evaluate(
            "() => { const e = document.activeElement; return (e.labels && e.labels[0] ?"
            " e.labels[0].textContent : e.textContent || '').trim(); }"
        )
        if label.startswith(name):
            assert page.evaluate(_FOCUS_SHOWN), f"no visible focus on {name!r}"
            return
    raise AssertionError(f"Tab never reached {name!r}")


def test_the_interview_starts_by_keyboard_alone_and_every_text_is_readable(
    invitation: Invitation,
    live_server: str,
    speech_wav: Path,
    launch: Callable[..., Browser],
) -> None:
    browser = launch(*microphone(speech_wav))
    page = browser.new_page(base_url=live_server, viewport=PHONE)
    log = PageLog.attach(page)
    main = page.locator("main")
    page.goto(f"/interview/#{invitation.token}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Your interview for")
    problems = {"welcome": page.evaluate(_CONTRAST)}

    _tab_to(page, "I have read this page")
    page.keyboard.press("Space")
    expect(page.get_by_label("I have read this page")).to_be_checked()
    _tab_to(page, "Agree and continue")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your microphone")

    _tab_to(page, "Start the check")
    page.keyboard.press("Enter")
    expect(main.get_by_text("We can hear you.")).to_be_visible(timeout=10_000)
    problems["device check"] = page.evaluate(_CONTRAST)
    _tab_to(page, "Continue")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Before you start")
    problems["guidelines"] = page.evaluate(_CONTRAST)

    _tab_to(page, "Try a practice question")
    page.keyboard.press("Enter")
    expect(page.locator(".avatar__caption")).to_contain_text("AI interviewer", timeout=20_000)
    problems["practice"] = page.evaluate(_CONTRAST)
    _tab_to(page, "Start recording now")
    page.keyboard.press("Enter")
    _tab_to(page, "Finish practice answer")
    page.keyboard.press("Enter")
    expect(main.get_by_role("heading", name="That is how it works")).to_be_visible()
    problems["practice done"] = page.evaluate(_CONTRAST)
    assert {step: found for step, found in problems.items() if found} == {}
    assert log.problems() == []
