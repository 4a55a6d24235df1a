"""Redaction: personal data out, the evidence a scorer needs kept, offsets back to the original.

The table marks what must go in place, ``{KIND:original text}``; a sentence without marks must
come back unchanged. Entries marked ``xfail`` are known misses kept in the table so that the
precision and recall printed by ``test_precision_and_recall_on_the_table`` stay honest.
"""

from __future__ import annotations

import re
import time

import pytest

from models.scoring import REPLACEMENTS, RedactedText, redact

_MARK = re.compile(r"\{(EMAIL|PHONE|URL|ADDRESS|NAME|ID|DOB):([^}]*)\}")
_KINDS = {token[1:-1]: kind for kind, token in REPLACEMENTS.items()}
_KNOWN = ("Sarah Connor",)


_Case = tuple[str, tuple[str, ...], str]


def _case(marked: str, *, known: tuple[str, ...] = (), miss: str = "") -> _Case:
    return marked, known, miss


def _params(cases: list[_Case], *, misses_fail: bool = False) -> list[pytest.ParameterSet]:
    """One parameter set per case; with ``misses_fail``, known misses are strict xfails."""
    return [
        pytest.param(
            marked,
            known,
            marks=[pytest.mark.xfail(strict=True, reason=miss)] if miss and misses_fail else [],
            id=marked[:60],
        )
        for marked, known, miss in cases
    ]


REDACTED = [
    # Emails, spoken and written
    _case("my email is {EMAIL:john dot smith at gmail dot com}"),
    _case("you can email me at {EMAIL:jane_doe@example.co.uk} any time"),
    _case("reach me at {EMAIL:sarah at hotmail dot com} and I'll reply", known=_KNOWN),
    _case("My email address is {EMAIL:ahmed underscore k at outlook dot com}."),
    # Phones
    _case("call me on {PHONE:oh seven seven double oh one two three four five six}"),
    _case("the number is {PHONE:five five five, one two three, four five six seven}."),
    _case("My mobile is {PHONE:+44 20 7946 0958}, evenings are best."),
    _case("You can reach me on {PHONE:(555) 123-4567} after six."),
    _case("call {PHONE:07700 900123} if the line drops"),
    _case("it's {PHONE:plus four four seven seven double oh nine oh oh one two three}"),
    # URLs
    _case("my portfolio is at {URL:www example dot com slash jobs}"),
    _case("The code is on {URL:https://github.com/sconnor/tools}, have a look."),
    _case("my linkedin is {URL:linkedin dot com slash in slash jdoe}"),
    # Addresses
    _case("I live at {ADDRESS:42 Baker Street, London NW1 6XE}."),
    _case("i live at {ADDRESS:forty two baker street} near the station"),
    _case("Send it to {ADDRESS:123 Main St, Springfield, IL 62704} please."),
    _case("my postcode is {ADDRESS:n w one six x e}"),
    _case("I live in {ADDRESS:Flat 3, 12 Elm Grove}"),
    # Names
    _case("My name is {NAME:Sarah Connor} and I'm a product manager."),
    _case("Hi, I'm {NAME:Ahmed}, thanks for having me."),
    _case("my name is {NAME:oluwaseun adeyemi} and i work in logistics"),
    _case("I'm {NAME:Thandiwe Mokoena}, I've been in retail for six years."),
    _case("so {NAME:sarah} said, look, we can't ship this", known=_KNOWN),
    _case("The client asked for {NAME:Ms Connor} directly.", known=_KNOWN),
    _case("I escalated it to {NAME:Priya Patel} and {NAME:Tom} the next morning."),
    _case("{NAME:Dr Okafor} signed off the plan on Friday."),
    _case("I spoke to {NAME:Bongani} about the rota.", miss="a lone name off the given-name list"),
    # Dates of birth
    _case("I was born on {DOB:the 3rd of May 1990}."),
    _case("I was born in {DOB:nineteen ninety two} in Leeds."),
    _case("my date of birth is {DOB:03/05/1990}"),
    # ID numbers
    _case("My national insurance number is {ID:QQ 12 34 56 C}."),
    _case("my social security number is {ID:one two three, four five, six seven eight nine}"),
    _case("SSN {ID:123-45-6789}, if you need it."),
    _case("my passport number is {ID:five three one two double eight four seven nine}"),
    # Several in one answer
    _case(
        "I'm {NAME:Sam}, my email is {EMAIL:sam.lee@gmail.com} and my number is "
        "{PHONE:555-123-4567}."
    ),
]

UNCHANGED = [
    _case("We cut onboarding time by 40 percent in three weeks."),
    _case("In March 2021 we raised £12,000 from 1,200 customers."),
    _case("I'm responsible for a budget of $2.5 million."),
    _case("I'm not sure we'd have shipped without the 2019 redesign."),
    # A role title, not a name: the scorer may need it.
    _case("I am Head of Operations at a logistics company."),
    _case("I'm Happy to walk you through it."),
    _case("I'm Lead Engineer on the payments team."),
    _case("The review was at 9:30 on the 14th of June, and it ran two hours."),
    _case("We migrated 3,000 users to Kubernetes and Salesforce over six months."),
    _case("Our NPS went from thirty two to fifty one in a quarter."),
    _case("We worked with Booking.com and Amazon on the partnership."),
    _case("I walked five miles down the road to the depot every day."),
    _case("We shipped version 2.4.1 on 12/03/2022 and closed 250 tickets."),
    _case("The senior engineer and the product manager at Aston Martin agreed."),
    _case("Call me Monday if anything changes."),
    _case("We went from 10 000 to 25 000 requests per second, twenty, thirty, forty percent."),
    _case("I'm Scrum certified and I ran the stand-ups for two teams."),
    _case("We launched in Paris and Sydney in Q3, 2022, with 12 people."),
    _case("Our CI runs on Jenkins and the docs live in Confluence."),
    _case("We sold through John Lewis and Argos.", miss="a retailer named after a person"),
]


def _parse(marked: str) -> tuple[str, list[tuple[int, int, str]], str]:
    """The original text, the expected spans in it, and the expected redacted text."""
    original, redacted, spans, position = [], [], [], 0
    offset = 0
    for mark in _MARK.finditer(marked):
        plain = marked[position : mark.start()]
        original.append(plain)
        redacted += [plain, f"[{mark[1]}]"]
        offset += len(plain)
        spans.append((offset, offset + len(mark[2]), _KINDS[mark[1]]))
        original.append(mark[2])
        offset += len(mark[2])
        position = mark.end()
    original.append(marked[position:])
    redacted.append(marked[position:])
    return "".join(original), spans, "".join(redacted)


@pytest.mark.parametrize(("marked", "known"), _params(REDACTED + UNCHANGED, misses_fail=True))
def test_redacts_exactly_the_marked_spans(marked: str, known: tuple[str, ...]) -> None:
    text, spans, expected = _parse(marked)
    result = redact(text, known_names=known)
    assert result.text == expected
    assert [(r.start, r.end, r.kind) for r in result.redactions] == spans


@pytest.mark.parametrize(("marked", "known"), _params(REDACTED + UNCHANGED))
def test_each_redaction_points_at_its_original_span(marked: str, known: tuple[str, ...]) -> None:
    text, _, _ = _parse(marked)
    result = redact(text, known_names=known)
    ends = [0]
    for r in result.redactions:
        assert r.start >= ends[-1] and r.end > r.start, "sorted and never overlapping"
        assert r.replacement == REPLACEMENTS[r.kind]
        assert text[r.start : r.end].strip() == text[r.start : r.end]
        ends.append(r.end)


@pytest.mark.parametrize(("marked", "known"), _params(REDACTED + UNCHANGED))
def test_map_offset_round_trips_outside_redactions(marked: str, known: tuple[str, ...]) -> None:
    text, _, _ = _parse(marked)
    result = redact(text, known_names=known)
    inside = _token_positions(result)
    for position, char in enumerate(result.text):
        if position not in inside:
            assert text[result.map_offset(position)] == char
    assert result.map_offset(len(result.text)) == len(text)


@pytest.mark.parametrize(("marked", "known"), _params(REDACTED + UNCHANGED))
def test_redacting_twice_changes_nothing(marked: str, known: tuple[str, ...]) -> None:
    text, _, _ = _parse(marked)
    once = redact(text, known_names=known)
    twice = redact(once.text, known_names=known)
    assert twice.text == once.text
    assert twice.redactions == ()


def _token_positions(result: RedactedText) -> set[int]:
    positions: set[int] = set()
    shift = 0
    for r in result.redactions:
        start = r.start + shift
        positions.update(range(start, start + len(r.replacement)))
        shift += len(r.replacement) - (r.end - r.start)
    return positions


def test_a_quote_maps_back_to_the_words_it_came_from() -> None:
    text = "Thanks. I'm Ahmed Khan and I cut our churn by 12 percent in 2022."
    result = redact(text)
    quote = "I cut our churn by 12 percent"
    start = result.text.index(quote)
    span = slice(result.map_offset(start), result.map_offset(start + len(quote)))
    assert text[span] == quote
    token = result.text.index("[NAME]")
    assert result.map_offset(token) == text.index("Ahmed")
    assert result.map_offset(token + 3) == text.index("Ahmed")
    assert result.map_offset(token + len("[NAME]")) == text.index(" and")


def test_map_offset_rejects_an_offset_outside_the_text() -> None:
    result = redact("call 07700 900123")
    with pytest.raises(ValueError):
        result.map_offset(len(result.text) + 1)
    with pytest.raises(ValueError):
        result.map_offset(-1)


def test_known_names_match_whole_and_by_part_in_any_case() -> None:
    result = redact(
        "SARAH joined, then connor left; Sarah Connor came back.", known_names=["Sarah Connor"]
    )
    assert result.text == "[NAME] joined, then [NAME] left; [NAME] came back."


def test_a_known_name_that_is_a_common_word_matches_only_capitalised() -> None:
    result = redact(
        "I will ask Will, and Will White will check the white board.", known_names=["Will White"]
    )
    assert result.text == "I will ask [NAME], and [NAME] will check the white board."


def test_english_variants_are_accepted_and_other_locales_refused() -> None:
    assert redact("my name is Sarah Connor", locale="en-GB").text == "my name is [NAME]"
    assert redact("my name is Sarah Connor", locale="en_US").text == "my name is [NAME]"
    with pytest.raises(ValueError, match="locale"):
        redact("mein Name ist Sarah Connor", locale="de")


def test_a_typographic_apostrophe_reads_as_a_plain_one() -> None:
    text = "I\u2019m Ahmed and this is Aoife O\u2019Brien\u2019s team."
    result = redact(text, known_names=["Aoife O'Brien"])
    assert result.text == "I\u2019m [NAME] and this is [NAME]\u2019s team."


def test_empty_text_has_nothing_to_redact() -> None:
    assert redact("") == RedactedText(text="", redactions=())


def test_precision_and_recall_on_the_table() -> None:
    """Span-level counts over the whole table, known misses included; printed with ``-s``."""
    true_pos = false_pos = false_neg = 0
    for marked, known, _ in REDACTED + UNCHANGED:
        text, spans, _ = _parse(marked)
        found = [(r.start, r.end, r.kind) for r in redact(text, known_names=known).redactions]
        true_pos += len(set(found) & set(spans))
        false_pos += len(set(found) - set(spans))
        false_neg += len(set(spans) - set(found))
    precision = true_pos / (true_pos + false_pos)
    recall = true_pos / (true_pos + false_neg)
    print(f"\nredaction table: precision {precision:.3f}, recall {recall:.3f} ({true_pos} spans)")
    assert precision >= 0.95 and recall >= 0.9


def test_a_3000_word_transcript_redacts_quickly() -> None:
    sentences = [_parse(marked)[0] for marked, _, _ in REDACTED + UNCHANGED]
    words: list[str] = []
    while len(words) < 3000:
        words += " ".join(sentences).split()
    transcript = " ".join(words[:3000])
    redact(transcript)
    started = time.perf_counter()
    result = redact(transcript, known_names=["Sarah Connor"])
    elapsed = time.perf_counter() - started
    print(f"\n3000 words, {len(result.redactions)} redactions: {elapsed * 1000:.1f} ms")
    assert elapsed < 1.0  # generous: about 20x the 50 ms target, so a busy machine won't flake
