"""The interviewer avatar in a real browser: it speaks a line with captions and a moving mouth,
nods while the candidate talks, holds still in reduced motion, and offers Play when autoplay is
refused."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import PageLog

AUTOPLAY = "--autoplay-policy=no-user-gesture-required"
LINE = "Tell me about a time you had to deliver bad news to a stakeholder."

# Loads the avatar into the interview page (no token: it shows "this link does not work", but
# with the page's own stylesheets and CSP), and makes a 2.4 s tone whose loudness jumps every
# 200 ms, as a blob: URL like the ones the page makes from the speech endpoint.
SET_UP = """async () => {
  const { Avatar } = await import("/interview/avatar.js");
  const slot = document.createElement("div");
  document.querySelector("main").prepend(slot);
  window.avatar = new Avatar(slot);
  const rate = 24000, seconds = 2.4, n = rate * seconds;
  const view = new DataView(new ArrayBuffer(44 + n * 2));
  const text = (at, s) => [...s].forEach((c, i) => view.setUint8(at + i, c.charCodeAt(0)));
  text(0, "RIFF"); view.setUint32(4, 36 + n * 2, true); text(8, "WAVEfmt ");
  view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, rate, true); view.setUint32(28, rate * 2, true);
  view.setUint16(32, 2, true); view.setUint16(34, 16, true);
  text(36, "data"); view.setUint32(40, n * 2, true);
  const loudness = [0.7, 0.1, 0.45, 0.02, 0.6, 0.25];
  for (let i = 0; i < n; i += 1) {
    const t = i / rate, amp = loudness[Math.floor(t / 0.2) % loudness.length];
    const v = amp * (0.7 * Math.sin(2 * Math.PI * 220 * t) + 0.3 * Math.sin(2 * Math.PI * 440 * t));
    view.setInt16(44 + i * 2, Math.round(v * 32767), true);
  }
  window.toneUrl = URL.createObjectURL(new Blob([view.buffer], { type: "audio/wav" }));
  // Every value the mouth takes, with the state the avatar is in at that moment.
  window.mouth = [];
  const mouth = document.querySelector(".avatar__mouth"), root = document.querySelector(".avatar");
  new MutationObserver(() => window.mouth.push([Number(mouth.dataset.open), root.dataset.state]))
    .observe(mouth, { attributes: true, attributeFilter: ["data-open"] });
}"""

SAY = """(text) => {
  window.said = false;
  window.avatar.say(text, window.toneUrl).then(() => { window.said = true; });
}"""

# Feeds a microphone level at 60 Hz, as the page does from its LevelMeter.
FEED = """async ({ level, ms }) => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    window.avatar.listen(level);
    await new Promise((r) => setTimeout(r, 16));
  }
  return document.querySelector(".avatar").classList.contains("avatar--nodding");
}"""


def _open(page: Page) -> PageLog:
    log = PageLog.attach(page)
    page.goto("/interview/")
    expect(page.locator("main")).to_contain_text("link")
    page.evaluate(SET_UP)
    return log


def test_the_avatar_moves_its_mouth_with_its_audio_and_nods_while_the_candidate_talks(
    live_server: str, launch: Callable[..., Browser]
) -> None:
    page = launch(AUTOPLAY).new_page(base_url=live_server)
    log = _open(page)
    avatar = page.locator(".avatar")
    expect(page.get_by_role("img", name="Parley's AI interviewer")).to_be_visible()
    expect(avatar.locator(".avatar__badge")).to_have_text("AI interviewer")
    caption = avatar.locator(".avatar__caption")
    expect(caption).to_have_attribute("aria-live", "polite")

    page.evaluate(SAY, LINE)
    expect(caption).to_have_text(LINE)
    expect(avatar).to_have_attribute("data-state", "speaking")
    expect(avatar).to_have_class(re.compile(r"\bavatar--audible\b"))
    page.wait_for_function("() => window.said === true", timeout=10_000)
    expect(avatar).to_have_attribute("data-state", "idle")
    expect(caption).to_have_text(LINE)  # captions stay until the next line

    # It opened and closed with the tone's loudness while speaking, and closes after.
    mouth = page.evaluate("window.mouth")
    assert len({value for value, state in mouth if value > 0 and state == "speaking"}) >= 5, mouth
    expect(page.locator(".avatar__mouth")).to_have_attribute("data-open", "0")

    assert page.evaluate(FEED, {"level": 0.6, "ms": 250}) is False  # not on the first frames
    assert page.evaluate(FEED, {"level": 0.6, "ms": 1250}) is True
    assert page.evaluate(FEED, {"level": 0.0, "ms": 2000}) is False

    # Turning reduced motion on while the page is open stills the avatar at once.
    page.emulate_media(reduced_motion="reduce")
    expect(avatar).to_have_class(re.compile(r"\bavatar--reduced\b"))
    assert page.locator(".avatar__head").get_attribute("transform") is None
    assert log.problems() == []


def test_in_reduced_motion_the_avatar_holds_still_and_still_captions(
    live_server: str, launch: Callable[..., Browser]
) -> None:
    page = launch(AUTOPLAY).new_page(base_url=live_server, reduced_motion="reduce")
    log = _open(page)
    avatar = page.locator(".avatar")
    expect(avatar).to_have_class(re.compile(r"\bavatar--reduced\b"))

    page.evaluate(SAY, LINE)
    expect(avatar.locator(".avatar__caption")).to_have_text(LINE)
    expect(avatar).to_have_attribute("data-state", "speaking")
    expect(avatar.locator(".avatar__wave")).to_be_visible()  # the still "speaking" mark
    page.wait_for_function("() => window.said === true", timeout=10_000)
    expect(avatar).to_have_attribute("data-state", "idle")
    # One still shape while speaking, closed after: no mouth animation.
    assert {value for value, _ in page.evaluate("window.mouth")} <= {0.3, 0}

    assert page.evaluate(FEED, {"level": 0.6, "ms": 1500}) is False
    for part in (".avatar__head", ".avatar__eyes"):
        assert page.locator(part).get_attribute("transform") is None
    assert log.problems() == []


# Playwright's evaluate() counts as a user gesture, so Chromium would allow autoplay: this
# refuses play() as Safari does, unless it is called while a click is being handled.
STRICT_AUTOPLAY = """
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  if (window.event && window.event.type === "click") return play.call(this);
  return Promise.reject(new DOMException("play() needs a user gesture", "NotAllowedError"));
};
"""


def test_when_autoplay_is_refused_the_caption_shows_for_reading_time_and_play_plays_it(
    live_server: str, launch: Callable[..., Browser]
) -> None:
    page = launch().new_page(base_url=live_server)
    page.add_init_script(STRICT_AUTOPLAY)
    log = _open(page)
    avatar = page.locator(".avatar")
    play = avatar.get_by_role("button", name="Play")

    page.evaluate(SAY, "Thank you. Next question.")
    expect(avatar.locator(".avatar__caption")).to_have_text("Thank you. Next question.")
    expect(play).to_be_visible()
    expect(avatar).not_to_have_class(re.compile(r"\bavatar--audible\b"))
    page.wait_for_function("() => window.said === true", timeout=10_000)
    expect(avatar).to_have_attribute("data-state", "idle")

    play.focus()
    assert page.evaluate("document.activeElement.matches(':focus-visible')") is True
    play.click()
    expect(avatar).to_have_attribute("data-state", "speaking")
    expect(avatar).to_have_class(re.compile(r"\bavatar--audible\b"))
    expect(play).to_be_hidden()
    expect(avatar).to_have_attribute("data-state", "idle", timeout=10_000)
    assert any(value > 0 for value, _ in page.evaluate("window.mouth"))
    assert log.problems() == []
