"""The calibration workspace in a real browser, with the real worker: two psychologists score the
same answers blind with the keyboard, see each other's scores only once both have scored,
re-score a disagreement in a calibration session, make a training snapshot, train a model on it,
read its report and promote it past the agreement gate; and the gate refusing a model.

Determinism. The snapshot holds out a fifth of the answers (at least two), chosen by a hash of
their ids, to evaluate the model against the panel. The answers are made here with fixed ids,
so the split, the labels, and so the trained model and its gate figures are the same on every
run. The held-out answers are a weak one both raters put at 2 and a strong one they put at 4
and 5 (a disagreement left out of the session): the raters' weighted kappa on them is 0.667,
and the model, trained on the other eight, orders them as the panel does (kappa 0.667 too),
which passes the default gate (raters minus 0.05).

The refusal is honest rather than arranged through the margin: a model trained on labels from
a spreadsheet scored by one person alone (the generic import) has no rater-versus-rater
agreement to be compared with, and the gate refuses any criterion without it, at any margin.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select

from services.core.calibration import promotion
from services.core.calibration.orm import LabelAssignment
from services.core.db import unit_of_work, utcnow
from services.core.fairness import service as fairness
from services.core.interviews import candidate, invitations, media
from services.core.interviews.orm import Answer, Transcript
from services.core.interviews.states import AnswerState, InterviewState
from services.core.organisations import service as organisations
from services.core.organisations.orm import Organisation, StaffRole, User
from services.core.settings import get_settings
from services.core.storage import get_storage
from tests.services.conftest import PASSWORD, Org, tone_wav
from tests.services.pipeline import RealWorker
from tests.web.conftest import PageLog

pytestmark = pytest.mark.slow

SIGNED_OUT = r"status of 401 .*@ http://127\.0\.0\.1:\d+/api/v1/me$"
REFUSED = r"status of 409 .*/promote$"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "parley-calibration-3")
HELD_OUT = {3, 7}  # what the hash of these ids holds out (asserted below)
RECORDING_SECONDS = 4.0

# (the first psychologist's level, the second's, the answer), weak to strong STAR answers to
# "Tell me about a time you had to deliver bad news to a stakeholder."
ANSWERS = [
    (3, 3, "Last spring our supplier damaged a sofa, so I phoned the customer that afternoon, "
           "explained what had happened and offered the next delivery slot. She agreed to wait "
           "a week."),
    (1, 2, "We always try to keep stakeholders informed. Honesty is the best policy when things "
           "go wrong, and people generally appreciate that."),
    (1, 1, "You just have to be upfront with people. Bad news is part of the job and everybody "
           "deals with it in their own way."),
    (2, 2, "There was a delay on a project once and I let the client know. It was a bit awkward "
           "but we sorted it out between us in the end."),
    (2, 3, "I was involved in telling a customer their order would be late, together with my "
           "manager. They were not happy about it but they accepted it."),
    (3, 3, "When the survey results came back late, I wrote to the site manager the same morning "
           "with the revised date and what it meant for his crew, and he moved two jobs around."),
    (4, 4, "Our launch slipped by three weeks. I called the client rather than emailing, because "
           "she would have questions straight away. I opened with the new date, then the cause, "
           "then what we had already done to protect her event. She asked for weekly updates, "
           "which I sent every Friday, and she renewed the contract."),
    (4, 5, "A test failure meant we could not ship to the hospital on time. I asked for a short "
           "meeting with the ward manager before the rota was planned, since that was when the "
           "delay would hurt least. I explained what failed, showed the revised plan and agreed a "
           "fallback. The ward kept its old devices for two weeks without any incident."),
    (5, 5, "A regulator's change meant the system our biggest customer had paid for would be four "
           "months late, and I had to tell their operations director before the rumour reached "
           "her. I called her that day, gave the date first, then the reason in plain words, then "
           "three options with their costs, and asked which mattered most to her team. I followed "
           "up in writing within the hour and checked in weekly. She chose the phased option, we "
           "kept the account, and I now prepare the options before such a call."),
    (5, 4, "As project lead I found out on a Thursday that a data migration would corrupt two "
           "years of a charity's donor records if we went ahead on the agreed date. I told the "
           "chief executive myself that evening, by phone, because the trustees met on Monday. I "
           "explained what we had found and that we needed six more weeks, and offered a written "
           "summary for the trustees and a plan with weekly checkpoints. The trustees approved "
           "the delay, the migration ran cleanly in March, and afterwards I changed our checklist "
           "so that risks like this surface a month earlier."),
]
COMMENT = "Names a concrete call, to whom and when; no reasons for the order of points."


def _answer_id(n: int) -> str:
    return uuid.uuid5(NAMESPACE, f"answer-{n}").hex


def _key(text: str) -> str:
    return " ".join(text.split()[:6])


def _timed_words(text: str) -> list[dict[str, object]]:
    tokens = text.split()
    step = RECORDING_SECONDS / len(tokens)
    return [{"start": round(i * step, 3), "end": round(i * step + 0.8 * step, 3), "text": f" {w}",
             "probability": 0.95} for i, w in enumerate(tokens)]


def _candidates_answered(org: Org) -> None:
    """Ten consented candidates who answered the role's communication question: the first
    with a recording and its timed words, the others typed (an accommodation), so transcribed
    without Whisper. Their answers' ids are fixed (see the module's docstring). Once finished,
    each says their sex in the voluntary questions, for the report's subgroup figures."""
    storage = get_storage()
    interviews = []
    with unit_of_work(org_id=org.org_id) as session:
        for n, (_, _, text) in enumerate(ANSWERS):
            issued = invitations.invite_candidate(
                session, org_id=org.org_id, actor_id=None, role_id=org.role_id,
                name=f"Candidate {n}", email=f"candidate{n}@example.com", ttl_days=7)
            candidate.record_consent(session, interview=issued.interview, accepted=True,
                                     notice_version=candidate.NOTICE_VERSION, client="test")
            answer_id = _answer_id(n)
            interviews.append(issued.interview)
            if n == 0:
                key = media.answer_key(answer_id, "wav")
                storage.put(key, tone_wav(RECORDING_SECONDS))
                session.add(Answer(id=answer_id, org_id=org.org_id, interview_id=issued.interview.id,
                                   question_id=org.question_ids[0], state=AnswerState.TRANSCRIBED,
                                   state_changed_at=utcnow(), content_type="audio/wav",
                                   media_key=key, duration_seconds=RECORDING_SECONDS))
                session.add(Transcript(
                    org_id=org.org_id, answer_id=answer_id, asr_version="test-asr", text=text,
                    language="en", language_probability=0.99, words=_timed_words(text),
                    speech_regions=[[0.0, RECORDING_SECONDS]], quality_flags=[],
                    processing_seconds=0.1))
                session.flush()
                continue
            issued.interview.typed_answers = True
            session.add(Answer(id=answer_id, org_id=org.org_id, interview_id=issued.interview.id,
                               question_id=org.question_ids[0], state=AnswerState.RECEIVING,
                               state_changed_at=utcnow(), content_type="text/plain"))
            session.flush()
            candidate.submit_typed_answer(session, settings=get_settings(), storage=storage,
                                          interview=issued.interview,
                                          question_id=org.question_ids[0], text=text)
        for n, interview in enumerate(interviews):
            interview.state = InterviewState.COMPLETED
            fairness.record_self_identification(session, interview=interview,
                                                sex="female" if n % 2 else "male",
                                                race_ethnicity=None, age_band=None)


def _second_psychologist(org: Org) -> None:
    with unit_of_work() as session:
        organisations.create_user(session, org_id=org.org_id, email="psych2@a.example.com",
                                  name="Second Psych", role=StaffRole.PSYCHOLOGIST,
                                  password=PASSWORD)
    org.emails["psychologist2"] = "psych2@a.example.com"


def _sign_in(page: Page, org: Org, who: str) -> None:
    page.goto("/staff/")
    page.get_by_label("Email").fill(org.emails[who])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _levels(page: Page, column: int) -> int:
    """The level this rater gives the answer on the page (column 0: the first psychologist)."""
    shown = " ".join(page.locator(".transcript").inner_text().split())
    return next(a[column] for a in ANSWERS if shown.startswith(_key(a[2])))


def _score_queue(page: Page, column: int, *, first_by_hand: Callable[[Page], None] | None = None,
                 start: int = 1) -> None:
    """Score the rater's queue with the keyboard alone: a number key, Enter, and Enter again on
    the focused "Next" link."""
    for n in range(start, len(ANSWERS) + 1):
        # the next page's own heading: a key pressed while it loads would be lost
        expect(page.get_by_role("heading", level=1, name=f"Answer {n} of {len(ANSWERS)}")).to_be_visible()
        if n == 1 and first_by_hand:
            first_by_hand(page)
        else:
            page.keyboard.press(str(_levels(page, column)))
            page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Score submitted")).to_be_visible()
        page.keyboard.press("Enter")  # the focused "Next" (or, at the end, "Back to the batch")


def _assignment_of(org: Org, rater_email: str, n: int, round_: int = 1) -> str:
    with unit_of_work(org_id=org.org_id) as session:
        return session.scalars(select(LabelAssignment.id).where(
            LabelAssignment.answer_id == _answer_id(n), LabelAssignment.round == round_,
            LabelAssignment.rater_id == select(User.id).where(User.email == rater_email)
            .scalar_subquery(),
        )).one()


def _bar(page: Page, name: str) -> Locator:
    return page.get_by_role("progressbar", name=name)


def _wait_for_report(page: Page) -> None:
    report = page.get_by_role("heading", name="Evaluation on held-out answers")
    expect(report).to_be_visible(timeout=120_000)


def test_two_psychologists_calibrate_train_and_promote_past_the_gate(
    org: Org, live_server: str, worker: RealWorker, launch: Callable[..., Browser]
) -> None:
    _candidates_answered(org)
    _second_psychologist(org)
    held_out = promotion._held_out({_answer_id(n): {} for n in range(len(ANSWERS))})
    assert held_out == {_answer_id(n) for n in HELD_OUT}
    browser = launch()
    a = browser.new_context(base_url=live_server).new_page()
    b = browser.new_context(base_url=live_server).new_page()
    logs = [PageLog.attach(a), PageLog.attach(b)]

    # A psychologist lands on the workspace and makes a batch: the panel of two, two per answer.
    _sign_in(a, org, "psychologist")
    expect(a.get_by_role("heading", name="Calibration", level=1)).to_be_visible()
    expect(a.get_by_role("link", name="Calibration")).to_have_attribute("aria-current", "page")
    a.get_by_label("Batch name").fill("Communication pilot")
    a.get_by_label("Role", exact=True).select_option(label="Role a")
    a.get_by_label(re.compile(r"^Tell me about a time you had to deliver bad news")).check()
    expect(a.get_by_label("Psychologist (psychologist)")).to_be_checked()  # the author, by default
    a.get_by_label("Second Psych (psychologist)").check()
    a.get_by_label("Raters per answer").fill("2")
    a.get_by_role("button", name="Create batch").click()
    expect(a.get_by_role("heading", name="Communication pilot", level=1)).to_be_visible()
    expect(a.locator("#toast")).to_contain_text("20 labels to give")
    expect(_bar(a, "Blind round: all raters")).to_have_attribute("aria-valuetext", "0 of 20")

    # A scores the first answer by hand: the recording seeks to a word, a draft survives a
    # reload, and Ctrl+Enter submits from the comment box. The rest with the keyboard alone.
    def by_hand(page: Page) -> None:
        audio = page.locator("audio")
        word = page.locator(".transcript .word").nth(10)
        start = _timed_words(ANSWERS[0][2])[10]["start"]
        word.click()
        page.wait_for_function(
            "([t]) => Math.abs(document.querySelector('audio').currentTime - t) < 0.3", arg=[start])
        audio.evaluate("a => a.pause()")
        expect(page.locator("main")).to_contain_text("You score blind: other raters' scores appear")
        page.keyboard.press("3")
        three = page.get_by_role("button", name=re.compile(r"^3 "))
        expect(three).to_have_attribute("aria-pressed", "true")
        page.get_by_label("Comment").fill(COMMENT)
        expect(page.locator(".cal-save")).to_contain_text("Saved")
        page.reload()
        expect(three).to_have_attribute("aria-pressed", "true")
        expect(page.get_by_label("Comment")).to_have_value(COMMENT)
        page.get_by_label("Comment").press("Control+Enter")
        notice = "Other raters' scores appear once everyone has scored."
        expect(page.locator("p.notice", has_text=notice)).to_be_visible()

    a.get_by_role("link", name="Start scoring").click()
    _score_queue(a, 0, first_by_hand=by_hand)
    expect(a.get_by_role("heading", name="Communication pilot", level=1)).to_be_visible()
    expect(_bar(a, "Blind round: Psychologist")).to_have_attribute("aria-valuetext", "10 of 10")

    # B scores blind: no score of A's before B's own is in; A's appears the moment it is.
    _sign_in(b, org, "psychologist2")
    expect(b.get_by_role("heading", name="Calibration", level=1)).to_be_visible()
    b.get_by_role("link", name="Start scoring: Communication pilot").click()
    expect(b.get_by_role("heading", level=1, name="Answer 1 of 10")).to_be_visible()
    main = b.locator("main")
    expect(main).to_contain_text("You score blind")
    expect(main).not_to_contain_text(COMMENT)
    expect(b.get_by_role("table")).to_have_count(0)
    b.keyboard.press(str(_levels(b, 1)))
    b.keyboard.press("Enter")
    reveal = b.get_by_role("table").filter(has_text="Everyone's scores")
    expect(reveal).to_contain_text("Psychologist")
    expect(reveal).to_contain_text(COMMENT)
    b.keyboard.press("Enter")
    _score_queue(b, 1, start=2)

    # A sees B's score beside their own now.
    a.goto(f"/staff/#/label/{_assignment_of(org, org.emails['psychologist'], 1)}")
    mine = a.get_by_role("table").filter(has_text="Everyone's scores")
    expect(mine.get_by_role("row", name=re.compile("Second Psych"))).to_contain_text("2")
    expect(mine.get_by_role("row", name=re.compile("^Psychologist"))).to_contain_text("1")

    # The batch: agreement of the blind round, the disagreements widest first, a session on two.
    a.goto("/staff/#/calibration")
    a.get_by_role("link", name="Communication pilot").first.click()
    criterion = a.get_by_role("region", name="Agreement on Communication")
    expect(criterion.get_by_role("row", name=re.compile("^Blind round"))).to_contain_text("10")
    expect(criterion.locator("svg.cal-chart").first).to_be_visible()
    csv_link = a.get_by_role("link", name="Download CSV")
    expect(csv_link).to_have_attribute("href", re.compile(r"agreement\?format=csv$"))
    with a.expect_download() as download:
        a.get_by_role("link", name="Download CSV").click()
    assert "session_before" not in download.value.path().read_text()
    boxes = a.get_by_role("region", name="Disagreements").get_by_role("checkbox")
    expect(boxes).to_have_count(4)
    for i in range(2, 4):
        boxes.nth(i).uncheck()
    a.get_by_role("button", name="Open calibration session").click()
    expect(a.locator("#toast")).to_contain_text("2 answers to re-score")
    session = a.get_by_role("region", name="Calibration session")
    expect(session.locator("article")).to_have_count(2)
    expect(session).to_contain_text("hidden")
    expect(_bar(a, "Calibration re-score: all raters")).to_have_attribute("aria-valuetext", "0 of 4")

    # Both re-score apart, with the panel's first scores in front of them, agreeing this time.
    for page in (a, b):
        page.goto("/staff/#/calibration")
        page.get_by_role("link", name=re.compile("^Start scoring")).click()
        for n in (1, 2):
            expect(page.get_by_role("heading", level=1, name=f"Answer {n} of 2")).to_be_visible()
            expect(page.locator(".chip", has_text="Calibration re-score")).to_be_visible()
            first_scores = page.get_by_role("table").filter(has_text="Discussed in the calibration")
            expect(first_scores).to_contain_text("Second Psych")
            shown = " ".join(page.locator(".transcript").inner_text().split())
            agreed = next(x[0] for x in ANSWERS if shown.startswith(_key(x[2])))
            page.keyboard.press(str(agreed))
            page.keyboard.press("Enter")
            expect(page.get_by_role("heading", name="Score submitted")).to_be_visible()
            page.keyboard.press("Enter")
    a.goto("/staff/#/calibration")
    a.get_by_role("link", name="Communication pilot").first.click()
    criterion = a.get_by_role("region", name="Agreement on Communication")
    before = criterion.get_by_role("row", name=re.compile("before re-score"))
    after = criterion.get_by_role("row", name=re.compile("after re-score"))
    exact = 8  # the column of exact agreement
    expect(before.get_by_role("cell").nth(exact)).to_have_text("0%")  # on the two disputed answers
    expect(after.get_by_role("cell").nth(exact)).to_have_text("100%")
    expect(session.locator("article").first).not_to_contain_text("hidden")

    # A snapshot of the final labels, trained by the worker; its report beside the raters.
    a.get_by_label("Aggregate").select_option("mean")
    a.get_by_role("button", name="Make training snapshot").click()
    expect(a.locator("#toast")).to_contain_text("Snapshot version 1: 10 answers from 2 raters")
    a.get_by_role("button", name="Train on snapshot version 1").click()
    expect(a.get_by_role("heading", name="Training run", level=1)).to_be_visible()
    _wait_for_report(a)
    report = a.locator("table.cal-report")
    expect(report).to_contain_text("Model versus panel")
    expect(report).to_contain_text("Rater versus rater")
    expect(report.get_by_role("row", name=re.compile("^Communication"))).to_contain_text("2")
    gate = a.get_by_role("region", name="Agreement gate and promotion")
    expect(gate).to_contain_text("Every criterion passes the gate at your organisation's margin of 0.05")
    expect(gate.locator(".cal-margin")).to_have_text("0.05")
    a.get_by_label("Reason for the promotion").fill("Agrees with the panel on the held-out answers.")
    a.get_by_role("button", name="Promote this model").click()
    expect(gate.get_by_role("status")).to_contain_text("Promoted.")
    expect(a.locator("#scoring-note")).to_contain_text("calibrated by psychologists")
    run_id = a.url.rsplit("/", 1)[1]
    with unit_of_work() as session_:
        organisation = session_.get(Organisation, org.org_id)
        assert organisation is not None and organisation.scoring_model_version
        assert organisation.scoring_model_version.endswith(run_id[:12])

    for log in logs:
        assert log.problems(SIGNED_OUT) == []


def test_the_gate_refuses_a_model_no_two_raters_can_be_compared_with_at_any_margin(
    org: Org, live_server: str, worker: RealWorker, launch: Callable[..., Browser]
) -> None:
    browser = launch()
    admin = browser.new_context(base_url=live_server).new_page()
    page = browser.new_context(base_url=live_server).new_page()
    logs = [PageLog.attach(admin), PageLog.attach(page)]
    # An admin widens the gate as far as it goes, saying why; a psychologist cannot.
    _sign_in(admin, org, "admin")
    admin.get_by_role("link", name="Calibration").click()
    gate_card = admin.get_by_role("region", name="Promotion gate")
    expect(gate_card.locator(".cal-margin")).to_have_text("0.05")
    admin.get_by_label("Margin (0 to 0.5)").fill("0.5")
    admin.get_by_role("button", name="Change the margin").click()
    expect(gate_card.locator(".form-error")).to_contain_text("Say why")
    admin.get_by_label("Reason for the change").fill("A first pilot: let us see what the gate does.")
    admin.get_by_role("button", name="Change the margin").click()
    expect(gate_card.locator(".cal-margin")).to_have_text("0.50")

    _sign_in(page, org, "psychologist")
    expect(page.get_by_role("region", name="Promotion gate")).to_contain_text(
        "An admin can change the margin")
    expect(page.get_by_role("button", name="Change the margin")).to_have_count(0)
    # Labels one psychologist gave alone in a spreadsheet, brought in by the generic import.
    sheet = io.StringIO()
    writer = csv.writer(sheet)
    writer.writerow(["item_id", "text", "criterion", "rater", "score", "prompt", "split"])
    for n, (level, _, text) in enumerate(ANSWERS):
        writer.writerow([f"sheet-{n}", text, "communication", "sheet-rater", level, "bad-news",
                         "test" if n in HELD_OUT else "train"])
    csrf = page.request.get("/api/v1/me").json()["csrf_token"]
    started = page.request.post("/api/v1/training-runs?embeddings=off", data=sheet.getvalue(),
                                headers={"Content-Type": "text/csv", "X-CSRF-Token": csrf})
    assert started.status == 202, started.text()

    page.reload()  # the workspace lists the run
    page.get_by_role("region", name="Training runs").get_by_role("link").click()
    _wait_for_report(page)
    gate = page.get_by_role("region", name="Agreement gate and promotion")
    expect(gate).to_contain_text("margin of 0.50; promotion will be refused")
    expect(gate.get_by_role("row", name=re.compile("^Communication"))).to_contain_text(
        "no two raters share held-out answers to compare with")
    page.get_by_role("button", name="Promote this model").click()
    expect(page.locator(".form-error")).to_contain_text("Say why")
    page.get_by_label("Reason for the promotion").fill("The spreadsheet's labels look right to me.")
    page.get_by_role("button", name="Promote this model").click()
    refusal = gate.get_by_role("alert").filter(has_text="Promotion refused")
    expect(refusal).to_contain_text("Communication: no two raters share held-out answers")
    with unit_of_work() as session:
        organisation = session.get(Organisation, org.org_id)
        assert organisation is not None and organisation.scoring_model_version is None
    for log in logs:
        assert log.problems(SIGNED_OUT, REFUSED) == []
