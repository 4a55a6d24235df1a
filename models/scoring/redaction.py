"""Personal data out of a transcript before it is scored, with offsets back to the original.

Written for Whisper output, so spoken forms count as much as written ones: "john dot smith at
gmail dot com", "oh seven seven double oh one two three...", "www example dot com slash jobs".

Precision matters as much as recall: an over-eager redactor destroys the evidence a scorer
needs. So work numbers, amounts, percentages, durations, years and dates of events, company,
product and role names stay; dates are redacted only after a birth cue ("born on", "date of
birth"), bare domains only with a path, ``www``, a scheme or a website cue, street addresses only
when Title Case or after a residence cue ("I live at"), and "I'm X" only when X is capitalised
and not on a stop-list ("I'm Happy", "I'm Head of Operations" stay).

Not covered: cities or countries alone, birthplaces, ages ("I'm 34"), nationality or religion
("I'm British"), names that are neither known, self-introduced, after an honorific nor on the
short given-name list, and spoken postcodes or IDs without a cue ("my postcode is...").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import MappingProxyType

REPLACEMENTS = MappingProxyType(
    {
        "email": "[EMAIL]",
        "url": "[URL]",
        "id_number": "[ID]",
        "date_of_birth": "[DOB]",
        "phone": "[PHONE]",
        "address": "[ADDRESS]",
        "name": "[NAME]",
    }
)
"""The fixed replacement token of each kind, highest priority first (wins an overlap)."""

_PRIORITY = {kind: rank for rank, kind in enumerate(REPLACEMENTS)}
_Span = tuple[int, int, str]


@dataclass(frozen=True)
class Redaction:
    """One span of personal data that was replaced.

    Attributes:
        start: Offset of the first character in the original text.
        end: Offset just past the last character in the original text.
        kind: "email", "url", "id_number", "date_of_birth", "phone", "address" or "name".
        replacement: The token that stands in the redacted text, e.g. "[EMAIL]".
    """

    start: int
    end: int
    kind: str
    replacement: str


@dataclass(frozen=True)
class RedactedText:
    """A transcript with personal data replaced by fixed tokens.

    Attributes:
        text: The redacted text.
        redactions: What was replaced, in order of position, never overlapping.
    """

    text: str
    redactions: tuple[Redaction, ...]

    def map_offset(self, redacted_offset: int) -> int:
        """The original offset of a character offset in the redacted text.

        Offsets outside replacement tokens map exactly; one inside a token maps to the start of
        the span it replaced and one just past a token to that span's end, so a quote's
        ``[start, end)`` maps to an original span that covers it.

        Args:
            redacted_offset: An offset in ``text``, from 0 to ``len(text)`` inclusive.

        Raises:
            ValueError: If the offset lies outside the redacted text.
        """
        if not 0 <= redacted_offset <= len(self.text):
            raise ValueError(f"offset {redacted_offset} outside 0..{len(self.text)}")
        shift = 0
        for redaction in self.redactions:
            token_start = redaction.start + shift
            if redacted_offset < token_start:
                break
            token_end = token_start + len(redaction.replacement)
            if redacted_offset < token_end:
                return redaction.start
            if redacted_offset == token_end:
                return redaction.end
            shift += len(redaction.replacement) - (redaction.end - redaction.start)
        return redacted_offset - shift


def redact(text: str, *, known_names: Iterable[str] = (), locale: str = "en") -> RedactedText:
    """Replace names, emails, phone numbers, URLs, addresses, ID numbers and birth dates.

    Args:
        text: A transcript, spoken or written forms, any casing.
        known_names: Names to remove wherever they appear, such as the candidate's own; each
            matches whole and part by part, case-insensitively (parts that are common words,
            like "Will" or "White", only when capitalised).
        locale: The transcript's language; only English ("en", "en-GB", "en_US"...) for now.

    Returns:
        The redacted text with each replacement's span in the original.

    Raises:
        ValueError: For a locale without rules, rather than pass personal data on unredacted.
    """
    if locale.replace("_", "-").split("-")[0].lower() != "en":
        raise ValueError(f"no redaction rules for locale {locale!r}; supported: en")
    # Same length, so offsets hold: a typographic apostrophe reads as a plain one.
    search = text.replace("\u2019", "'")
    starts = _number_starts(search)
    candidates = [
        *_emails(search),
        *_urls(search),
        *_id_numbers(search),
        *_dates_of_birth(search),
        *_phones(search, starts),
        *_addresses(search, starts),
        *_names(search, tuple(known_names)),
    ]
    chosen = _resolve(candidates, blocked=[m.span() for m in _TOKEN.finditer(search)])
    return _apply(text, chosen)


def _resolve(candidates: list[_Span], *, blocked: list[tuple[int, int]]) -> list[_Span]:
    """Non-overlapping spans: higher priority first, then longer, then earlier."""
    taken = list(blocked)
    chosen: list[_Span] = []
    for start, end, kind in sorted(candidates, key=lambda s: (_PRIORITY[s[2]], s[0] - s[1], s[0])):
        if start < end and all(end <= a or start >= b for a, b in taken):
            taken.append((start, end))
            chosen.append((start, end, kind))
    return sorted(chosen)


def _apply(text: str, spans: list[_Span]) -> RedactedText:
    pieces: list[str] = []
    redactions: list[Redaction] = []
    position = 0
    for start, end, kind in spans:
        pieces += [text[position:start], REPLACEMENTS[kind]]
        redactions.append(Redaction(start, end, kind, REPLACEMENTS[kind]))
        position = end
    pieces.append(text[position:])
    return RedactedText("".join(pieces), tuple(redactions))


def _wordset(spec: str) -> frozenset[str]:
    return frozenset(spec.split())


def _words(spec: str) -> str:
    """A regex alternation of the words in ``spec``, longest first."""
    return "|".join(sorted(spec.split(), key=len, reverse=True))


_TOKEN = re.compile(r"\[(?:" + "|".join(v[1:-1] for v in REPLACEMENTS.values()) + r")\]")
_UNIT_WORDS = "zero nought oh o one two three four five six seven eight nine"
_TEEN_WORDS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen"
_TENS_WORDS = "twenty thirty forty fifty sixty seventy eighty ninety"
_UNIT = rf"(?:(?:{_words(_UNIT_WORDS)})(?!'))"  # not the "o" of "o'clock"
_TEEN = rf"(?:{_words(_TEEN_WORDS)})"
_TENS = rf"(?:{_words(_TENS_WORDS)})"
_NUMBER_WORDS = _wordset(f"{_UNIT_WORDS} {_TEEN_WORDS} {_TENS_WORDS} double triple plus")
_WORD_OR_NUMBER = re.compile(r"[a-z]+|\d+|\+", re.I)
_MONTH = _words(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
)
_ORDINAL = _words(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth "
    "thirtieth"
)
_TLD = _words(
    "com org net edu gov io co uk us ca au de fr es it nl ie in eu dev ai app me info biz tech "
    "xyz ly tv ch se dk fi pl br mx jp cn nz za ng ke sg hk"
)

# ---- email and URL ------------------------------------------------------------------------

_LABEL = r"[a-z0-9][a-z0-9-]*+"
_DOT = r"(?:\s+dot\s+|\.)"
_DOMAIN = rf"{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}(?:{_TLD})(?![\w-])"
_EMAIL = re.compile(
    rf"""(?<![\w.+-])(?P<local>[a-z0-9+]++(?:(?P<sep>[._-]|\s+(?:dot|underscore|dash|hyphen|period)\s+)
    [a-z0-9+]++)*)(?P<at>\s*@\s*|\s+at(?:\s+(?:sign|symbol))?\s+){_DOMAIN}""",
    re.I | re.X,
)
_FREE_MAIL = _wordset("gmail googlemail hotmail outlook yahoo icloud aol protonmail proton gmx")
_EMAIL_CUE = re.compile(r"\b(?:e-?mail|reach me|contact me|write to me|message me)\b", re.I)
_EMAIL_LEAD = re.compile(r"\be-?mail(?:\s+address)?(?:\s+is|'s|:)\s+((?:[a-z0-9]+\s+){1,2})$", re.I)


def _emails(text: str) -> Iterator[_Span]:
    for match in _EMAIL.finditer(text):
        start, before = match.start(), text[max(0, match.start() - 60) : match.start()]
        domain = re.split(r"\s+dot\s+|\.", text[match.end("at") : match.end()], flags=re.I)[0]
        if not (
            "@" in match["at"]
            or match["sep"]
            or domain.lower() in _FREE_MAIL
            or _EMAIL_CUE.search(before[-40:])
        ):
            continue
        lead = _EMAIL_LEAD.search(before)
        if lead and "@" not in match["at"]:
            start -= len(lead[1])
        yield start, match.end(), "email"


_URL_WRITTEN = re.compile(r"(?<![\w@])(?:https?://|www\.)[^\s<>\"'()]+", re.I)
_URL = re.compile(
    rf"""(?<![\w@.-])
    (?P<scheme>(?:https?|h\s?t\s?t\s?p\s?s?)(?:\s*:\s*|\s+colon\s+)
        (?://|(?:forward\s+)?slash\s+(?:forward\s+)?slash)\s*)?
    (?P<www>(?:www|w\s?w\s?w)(?:\s+dot\s+|\.|\s+))?
    {_DOMAIN}
    (?P<path>(?:(?:/|\s+(?:forward\s+)?slash\s+)[\w~%+=&\#.-]*)*)""",
    re.I | re.X,
)
_URL_CUE = re.compile(r"\b(?:website|site|blog|portfolio|url|link|profile|page)\b", re.I)


def _urls(text: str) -> Iterator[_Span]:
    for match in _URL_WRITTEN.finditer(text):
        yield match.start(), match.start() + len(match[0].rstrip(".,;:!?")), "url"
    for match in _URL.finditer(text):
        cue = _URL_CUE.search(text[max(0, match.start() - 30) : match.start()])
        if match["scheme"] or match["www"] or match["path"].strip() or cue:
            yield match.start(), match.start() + len(match[0].rstrip(".,;:!?")), "url"


# ---- digits: phones, ID numbers -------------------------------------------------------------

_PHONE_WRITTEN = re.compile(
    r"""(?<![\w+/.-])(?:
    \+\d{1,3}(?:[\s.-]?(?:\(\d{1,4}\)|\d{1,5})){2,5}
    | \(\d{3,5}\)[\s.-]?\d{3,4}[\s.-]?\d{3,4}
    | \d{3}[.-]\d{3}[.-]\d{4}
    | 0\d{2,4}[\s-]?\d{3,4}[\s-]?\d{3,4}
    | \d{3}\s\d{3}\s\d{4}
    )(?![\w/-]|[.,]\d)""",
    re.X,
)
_DIGIT_TOKEN = rf"""(?:\b(?:(?:double|triple)\s+{_UNIT}|{_TENS}(?:[\s-]+{_UNIT}(?![\w']))?|{_TEEN}
    |{_UNIT})\b(?!')|(?<![\d.,])\d+(?![.,]?\d))"""
_SPOKEN_RUN = re.compile(
    rf"(?:(?:\+|\bplus\s+)\s*)?{_DIGIT_TOKEN}(?:(?:\s*[,.-]\s*|\s+dash\s+|\s+){_DIGIT_TOKEN})+",
    re.I | re.X,
)
_RUN_PIECE = re.compile(rf"{_DIGIT_TOKEN}|\s*[,.-]\s*|\s+dash\s+|\s+|\+|plus", re.I | re.X)


def _number_starts(text: str) -> list[int]:
    """Where digits or number words start: the only places a phone or a house number can.

    Trying the heavier patterns only there keeps a long transcript fast.
    """
    return [
        m.start()
        for m in _WORD_OR_NUMBER.finditer(text)
        if m[0][0] in "+0123456789" or m[0].lower() in _NUMBER_WORDS
    ]


def _matches_at(pattern: re.Pattern[str], text: str, starts: list[int]) -> Iterator[re.Match[str]]:
    """Like ``pattern.finditer(text)``, trying only the given start positions."""
    end = 0
    for start in starts:
        match = pattern.match(text, start) if start >= end else None
        if match:
            end = match.end()
            yield match


def _phones(text: str, starts: list[int]) -> Iterator[_Span]:
    for match in _PHONE_WRITTEN.finditer(text):
        if 10 <= sum(c.isdigit() for c in match[0]) <= 15:
            yield *match.span(), "phone"
    for match in _matches_at(_SPOKEN_RUN, text, starts):
        groups, singles, spoken = _digit_groups(match[0])
        # Counting aloud ("twenty, thirty, forty") has no run of single digits.
        if spoken and singles >= 3 and 7 <= sum(groups) <= 15:
            yield *match.span(), "id_number" if groups == [3, 2, 4] else "phone"


def _digit_groups(run: str) -> tuple[list[int], int, bool]:
    """Digits per group (split at commas, dashes, stops), digits said singly, any words."""
    groups, singles, spoken = [0], 0, False
    for piece in _RUN_PIECE.findall(run):
        word = piece.strip().lower()
        if word in {",", ".", "-", "dash"}:
            groups.append(0)
        elif word and word not in {"+", "plus"}:
            digits, single = _token_digits(word)
            groups[-1] += digits
            singles += single
            spoken = spoken or not word.isdigit()
    return [g for g in groups if g], singles, spoken


def _token_digits(word: str) -> tuple[int, bool]:
    """How many digits a number token stands for, and whether they are said one by one."""
    first = word.lower().split()[0]
    if word.isdigit():
        return len(word), False
    if first in {"double", "triple"}:
        return (2 if first == "double" else 3), True
    if re.fullmatch(_UNIT, first, re.I):
        return 1, True
    return 2, False


_SSN = re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])")
_NINO = re.compile(r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b")
_SPOKEN_DIGIT = rf"(?:(?:double|triple)\s+{_UNIT}|{_TENS}|{_TEEN}|{_UNIT})"
_CODE_PART = rf"(?:{_SPOKEN_DIGIT}|[a-z]{{0,3}}\d[a-z\d]*|[a-z]|(?-i:[A-Z]{{2}}))(?![\w'])"
_CODE = re.compile(rf"\b{_CODE_PART}(?:(?:\s*[,/.-]\s*|\s+){_CODE_PART})*", re.I)
_CODE_PIECE = re.compile(_CODE_PART, re.I)
_CUE_TAIL = r"(?:\s+(?:is|was|it's|number|no\.?))*\s*[:,]?\s+"
_ID_CUE = re.compile(
    r"\b(?:national\s+insurance|NI\s+number|NINO|social\s+security|SSN|SIN|passport"
    r"|driv(?:ing|er'?s)\s+licen[cs]e|tax\s+file|(?:tax|employee|staff|student|patient"
    r"|membership|member|customer|account|identity|identification|ID)\s+(?:number|no\b|ID))"
    + _CUE_TAIL,
    re.I,
)
_POSTCODE_CUE = re.compile(r"\b(?:post\s?code|postal\s+code|zip(?:\s+code)?)" + _CUE_TAIL, re.I)


def _id_numbers(text: str) -> Iterator[_Span]:
    for pattern in (_SSN, _NINO):
        yield from ((*m.span(), "id_number") for m in pattern.finditer(text))
    yield from _cued_codes(text, _ID_CUE, "id_number", min_chars=6, min_digits=4)


def _cued_codes(
    text: str, cue: re.Pattern[str], kind: str, *, min_chars: int, min_digits: int
) -> Iterator[_Span]:
    """The code that follows a cue, in letters, digits or spoken digits ("q q one two...")."""
    for found in cue.finditer(text):
        code = _CODE.match(text, found.end())
        if not code:
            continue
        parts = list(_CODE_PIECE.finditer(text, code.start(), code.end()))
        while parts and parts[-1][0] in {"I", "a"}:  # the pronoun or article after the code
            parts.pop()
        chars = digits = 0
        for part in parts:
            said = re.fullmatch(_SPOKEN_DIGIT, part[0], re.I)
            count = _token_digits(part[0])[0] if said else sum(c.isdigit() for c in part[0])
            digits += count
            chars += count if said else len(part[0])
        if parts and chars >= min_chars and digits >= min_digits:
            yield code.start(), parts[-1].end(), kind


# ---- dates of birth ----------------------------------------------------------------------------

_DATE_PART = (
    rf"(?:\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}[./-]\d{{1,2}}[./-]\d{{2,4}}|\d{{1,4}}(?:st|nd|rd|th)?"
    rf"|{_MONTH}|{_ORDINAL}|{_TENS}|{_TEEN}|{_UNIT}|hundred|thousand)\b"
)
_DATE = re.compile(
    rf"(?:the\s+)?\b{_DATE_PART}(?:(?:\s*,\s*|\s+)(?:(?:of|the|and)\s+)*\b{_DATE_PART})*", re.I
)
_BIRTH_CUE = re.compile(
    r"\b(?:born|date\s+of\s+birth|d\.o\.b\.?|dob|birthday)(?:\s+(?:is|was|on|in)|'s)*\s*[:,]?\s*",
    re.I,
)
_DATE_EVIDENCE = re.compile(rf"\d{{4}}|\d[./-]\d|\b(?:{_MONTH})\b", re.I)
_YEAR_WORD = re.compile(rf"\b(?:{_TENS}|{_TEEN}|{_UNIT}|hundred|thousand)\b", re.I)


def _dates_of_birth(text: str) -> Iterator[_Span]:
    for cue in _BIRTH_CUE.finditer(text):
        date = _DATE.match(text, cue.end())
        # A year, a month or a spoken year ("nineteen ninety"), not "the fifth" alone.
        if date and (_DATE_EVIDENCE.search(date[0]) or len(_YEAR_WORD.findall(date[0])) >= 2):
            yield *date.span(), "date_of_birth"


# ---- addresses ---------------------------------------------------------------------------------

_NUMBER_WORD = rf"(?:{_TENS}|{_TEEN}|{_UNIT}|hundred)"
_STREET_TYPE = _words(
    "street st road rd avenue ave lane ln drive dr boulevard blvd close court ct crescent place "
    "pl terrace square sq gardens grove way walk mews parkway highway hwy row"
)
_STREET = re.compile(
    rf"(?<![\w.,£$€-])(?P<house>\d{{1,5}}[a-z]?|\b(?:{_NUMBER_WORD}[\s-]+){{0,3}}{_NUMBER_WORD})"
    rf"(?:\s*,)?\s+(?P<name>(?:[^\W\d_][\w'-]*+\s+){{1,3}}(?:{_STREET_TYPE}))\b",
    re.I,
)
_UK_POSTCODE = r"(?:[A-Z]{1,2}\d[A-Z\d]?|GIR) ?\d[A-Z]{2}"
_US_ZIP = (
    r"(?-i:AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH"
    r"|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC)\s+\d{5}(?:-\d{4})?"
)
_POSTCODE = re.compile(rf"\b(?:{_UK_POSTCODE}|{_US_ZIP})\b")
_ADDRESS_TAIL = re.compile(
    rf"(?:\s*,)?\s+(?:(?-i:[A-Z][\w'-]+)(?:\s+(?-i:[A-Z][\w'-]+))?\s*,?\s+)?"
    rf"(?:{_UK_POSTCODE}|{_US_ZIP}|\d{{5}}(?:-\d{{4}})?)\b",
    re.I,
)
_RESIDENCE_CUE = re.compile(
    r"\b(?:live|lives|living|lived|reside|residing|address|moved|home|house|flat|apartment)\b"
    r"\W+(?:\w+\W+){0,2}$",
    re.I,
)


_UNIT_BEFORE = re.compile(r"\b(?:flat|apartment|apt|unit|suite)\s+\d{1,4}[a-z]?\s*,?\s*$", re.I)


def _addresses(text: str, starts: list[int]) -> Iterator[_Span]:
    for street in _matches_at(_STREET, text, starts):
        if _plausible_street(text, street):
            tail = _ADDRESS_TAIL.match(text, street.end())
            # "Flat 3, 12 Elm Grove": the flat belongs to the address it comes before.
            unit = _UNIT_BEFORE.search(text, max(0, street.start() - 20), street.start())
            start = unit.start() if unit else street.start()
            yield start, tail.end() if tail else street.end(), "address"
    yield from ((*m.span(), "address") for m in _POSTCODE.finditer(text))
    yield from _cued_codes(text, _POSTCODE_CUE, "address", min_chars=5, min_digits=2)


def _plausible_street(text: str, street: re.Match[str]) -> bool:
    """Title Case and not a year ("42 Baker Street"), or after a residence cue ("I live at")."""
    before = text[max(0, street.start() - 40) : street.start()]
    if _RESIDENCE_CUE.search(before):
        return True
    titled = all(word[0].isupper() for word in street["name"].split())
    return titled and not re.fullmatch(r"(?:19|20)\d\d", street["house"])


# ---- names -------------------------------------------------------------------------------------

_NOT_NAMES = _wordset(
    """a an the and or but so if then than that this these those there here it its is are was
    were be been am do did have has had not no yes just also very really quite too still now
    currently already always never only even about from for in on at to with by of into over
    under after before during since until while as like because although though however when
    where what who why how which well okay ok oh um uh i i'm me my we us our you your he him
    his she her they them their happy sure glad excited passionate responsible able afraid aware
    available based certain comfortable confident curious delighted eager fine good great honest
    interested keen lucky motivated nervous new open organised organized proud ready sorry tired
    used willing grateful thankful thrilled familiar fluent experienced skilled qualified
    certified trained hoping looking going working trying leading managing building doing
    getting planning learning applying calling speaking talking thinking originally actually
    basically definitely probably head lead senior junior chief principal staff director manager
    engineer developer designer analyst consultant architect officer president founder owner
    partner associate assistant intern student graduate member part team vice deputy acting
    interim global regional monday tuesday wednesday thursday friday saturday sunday january
    february march april may june july august september october november december english british
    american canadian australian irish scottish welsh french german spanish italian indian
    chinese japanese korean nigerian ghanaian kenyan pakistani bangladeshi polish romanian
    brazilian mexican european african asian muslim christian jewish hindu sikh buddhist catholic
    agile scrum lean will mark bill grace hope joy faith rose frank chase hunter page ray rich
    white black brown green grey gray young long king hill wood street road"""
)
"""Capitalised words that are not names after "I'm", nor surnames, nor name parts matched in
lower case; and words that end a name after "my name is"."""

_GIVEN_NAMES = _wordset(
    """James John Robert Michael David Richard Thomas Charles Christopher Daniel Matthew Anthony
    Steven Andrew Joshua Kevin Brian George Timothy Jason Jeffrey Ryan Jacob Gary Nicholas Eric
    Jonathan Stephen Justin Scott Benjamin Samuel Gregory Alexander Patrick Peter Oliver Harry
    Henry Edward Liam Noah Ethan Lucas Owen Connor Callum Jamie Luke Adam Simon Paul Martin Ian
    Neil Stuart Graham Craig Gareth Rhys Dylan Sean Declan Niall Tom Ben Dan Joe Chris Alex Sam
    Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Nancy Lisa Margaret
    Sandra Ashley Kimberly Emily Donna Michelle Carol Amanda Melissa Deborah Stephanie Rebecca
    Laura Sharon Cynthia Kathleen Amy Helen Anna Brenda Nicole Emma Samantha Katherine Christine
    Rachel Catherine Heather Diane Julie Olivia Sophie Sophia Isabella Amelia Chloe Lucy Hannah
    Megan Lauren Zoe Abigail Natalie Claire Fiona Siobhan Aoife Niamh Gemma Louise Alice Eleanor
    Priya Anjali Rahul Amit Ravi Sanjay Vikram Arjun Rohan Aditya Deepak Pooja Neha Sunita Kavita
    Anil Suresh Ramesh Rajesh Arun Nisha Divya Shreya Aarav Ananya Harpreet Gurpreet Simran Ahmed
    Ahmad Mohammed Muhammad Mohamed Omar Hassan Hussein Ibrahim Yusuf Youssef Khalid Tariq Bilal
    Hamza Imran Faisal Karim Aisha Fatima Zainab Mariam Maryam Layla Amina Yasmin Samira Leila
    Nadia Chidi Chinedu Chiamaka Ngozi Oluwaseun Olumide Adebayo Ayodele Tunde Kwame Kofi Akosua
    Abena Kwabena Thabo Sipho Themba Nomvula Lerato Wanjiru Njeri Otieno Kamau Wei Xin Hiroshi
    Takeshi Yuki Haruto Kenji Akira Minh Linh Thanh Jose Juan Carlos Luis Miguel Javier
    Alejandro Diego Pablo Sergio Mateo Santiago Sofia Lucia Valentina Camila Isabel Elena
    Gabriela Maria Carmen Ximena Klaus Lukas Anja Katarina Piotr Tomasz Agnieszka Katarzyna
    Magdalena Marek Pierre Antoine Giulia Giuseppe Francesco Marco Luca Matteo Chiara Ivan
    Dmitri Olga Natasha Svetlana Andrei Mihai Ioana Nikos Eleni Lars Sven Ingrid Astrid Anders
    Erik"""
)
"""Common given names across cultures, none of them a common word, place or product name
("Will", "Grace", "Paris", "Ruby", "Alexa" are left out). Heard alone or before a surname."""

_NAME_WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")
_TITLED_WORD = re.compile(r"(?<![\w'-])[A-Z][a-z]+\b")
_GAP = re.compile(r"[ \t]+")
_INTRO = re.compile(
    r"\b(?:(?P<strong>my\s+(?:(?:first|last|full|given|family)\s+)?(?:name|surname)(?:\s+is|'s))"
    r"|(?:i'm|i\s+am)(?:\s+called)?|call\s+me|i\s+go\s+by)\s+",
    re.I,
)
_HONORIFIC = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Professor|Sir|Dame)\.?\s+")
_PARTICLES = _wordset("al bin da de del della der di du el la le st van von")


def _names(text: str, known_names: tuple[str, ...]) -> Iterator[_Span]:
    yield from _known_names(text, known_names)
    for intro in _INTRO.finditer(text):
        end = _name_run(text, intro.end(), lower_ok=intro["strong"] is not None)
        if end > intro.end():
            yield intro.end(), end, "name"
    for honorific in _HONORIFIC.finditer(text):
        end = _name_run(text, honorific.end())
        if end > honorific.end():
            yield honorific.start(), end, "name"
    for word in _TITLED_WORD.finditer(text):
        if word[0] in _GIVEN_NAMES and not _after_titled_word(text, word.start()):
            gap = _GAP.match(text, word.end())
            surname_end = _name_run(text, gap.end(), max_words=2) if gap else 0
            yield (
                word.start(),
                surname_end if gap and surname_end > gap.end() else word.end(),
                "name",
            )


def _name_run(text: str, position: int, *, lower_ok: bool = False, max_words: int = 3) -> int:
    """Where a run of name-like words starting at ``position`` ends (``position`` if none)."""
    end = position
    for _ in range(max_words):
        word = _NAME_WORD.match(text, position)
        if not word or word[0].lower() in _NOT_NAMES:
            break
        titled = word[0][0].isupper() and any(c.islower() for c in word[0][1:])
        if not (titled or (lower_ok and word[0].islower())):
            break
        end = word.end() - (2 if word[0][-2:] == "'s" else 0)
        gap = _GAP.match(text, end)
        if end < word.end() or not gap:
            break
        position = gap.end()
    return end


def _after_titled_word(text: str, start: int) -> bool:
    """Whether a capitalised word other than a function word just precedes, as in "Aston Martin"."""
    before = re.search(r"([^\W\d_]+)[ \t]+$", text[max(0, start - 30) : start])
    return bool(before and before[1][0].isupper() and before[1].lower() not in _NOT_NAMES)


def _known_names(text: str, known_names: tuple[str, ...]) -> Iterator[_Span]:
    """Each known name whole, then each part: any case, or capitalised if a common word."""
    whole, any_case, titled = set(), set(), set()
    for name in (n.replace("\u2019", "'") for n in known_names):
        parts = [p for p in name.split() if len(p) > 1 and p.lower() not in _PARTICLES]
        whole.add(r"\s+".join(map(re.escape, name.split())))
        for part in parts:
            common = part.lower() in _NOT_NAMES
            (titled if common else any_case).add(re.escape(part[0].upper() + part[1:]))
    for patterns, flags in ((whole | any_case, re.I), (titled, 0)):
        alternatives = "|".join(sorted(p for p in patterns if p))
        if alternatives:
            pattern = re.compile(rf"(?<![\w'-])(?:{alternatives})(?![\w-])", flags)
            yield from ((*m.span(), "name") for m in pattern.finditer(text))
