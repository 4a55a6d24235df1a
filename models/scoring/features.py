"""Interpretable features of an answer's words: what a rater looks for, as numbers.

Every feature is a rate or a count that saturates, so that saying more of the same never buys a
higher value: a long answer and a short one that show the same behaviour look alike here. Only
the words are used; nothing here (or anywhere in Parley) looks at audio, video or prosody.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from models.scoring.text import Sentence, split_sentences, words


def _pattern(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b", re.I)


# A past-tense narrative: irregular pasts that answers use, and regular -ed forms.
_PAST = _pattern(
    r"was|were|had|did|said|told|went|made|took|got|gave|found|knew|thought|sent|wrote|rang",
    r"called|spoke|met|ran|began|brought|bought|built|chose|came|felt|held|kept|led|left|lost",
    r"meant|paid|put|saw|set|sold|spent|stood|taught|understood|won|became|caught|drove|fell",
    r"[a-z]{2,}ed",
)
_TIME_ANCHOR = _pattern(
    r"last (?:year|month|week|summer|winter|spring|autumn|quarter|christmas)",
    r"(?:in|by|during|around|early|late) (?:19|20)\d\d",
    r"(?:january|february|march|april|june|july|august|september|october|november|december)",
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)",
    r"one (?:day|morning|afternoon|evening|night|shift|time)",
    r"(?:that|the next|the following|the same) (?:day|morning|afternoon|evening|week|shift)",
    r"(?:in|at) my (?:last|previous|first|current|old) (?:job|role|company|team|position)",
    r"when I (?:was|worked|started|joined)",
    r"a few (?:months|weeks|years) ago",
    r"(?:\d+|two|three|four|five|six) (?:years|months|weeks) ago",
)
_HYPOTHETICAL = _pattern(
    r"I would",
    r"I'd",
    r"I'll",
    r"would (?:be|have|need|try)",
    r"I (?:usually|always|generally|normally|tend to)",
    r"you (?:have|need|should|must|want) to",
    r"it's (?:important|key|vital|essential) to",
    r"(?:one|you) should",
    r"if I (?:had|were|was) to",
)
_I = _pattern(r"I", r"me", r"my", r"myself", r"I'm", r"I've", r"I'd")
_OTHERS = _pattern(r"we", r"us", r"our", r"they", r"people", r"everyone", r"you", r"one")
_OWN_ACTION = re.compile(
    r"\bI\s+(?:then\s+|also\s+|first\s+|quickly\s+|immediately\s+|personally\s+)?"
    r"(?:" + _PAST.pattern[5:-3] + r")\b",
    re.I,
)
_REASON = _pattern(
    r"because", r"so that", r"in order to", r"the reason", r"which meant", r"since I",
    r"so I", r"that's why", r"to make sure", r"to avoid", r"rather than", r"instead of",
)
_RESULT = _pattern(
    r"as a result", r"in the end", r"the (?:outcome|result|upshot) was", r"ended up",
    r"which meant", r"(?:we|I|it|they|that) (?:reduced|increased|saved|cut|improved|halved|doubled)",
    r"went (?:down|up) from", r"from \d+ to \d+", r"by the end", r"afterwards", r"since then",
    r"(?:was|were) (?:delivered|resolved|fixed|solved|finished|completed|approved|signed)",
    r"on time", r"(?:came|got) back", r"thanked me",
)
_QUANTITY = re.compile(
    r"\b\d+(?:[.,]\d+)?\s*(?:%|percent|per cent|hours?|days?|weeks?|months?|minutes?|people|"
    r"customers?|pounds?|dollars?|euros?|k\b|orders?|calls?|staff|members?|units?|times?)"
    r"|[£$€]\s?\d+|\b(?:half|double|twice|a third|a quarter)\b",
    re.I,
)
_REFLECTION = _pattern(
    r"I (?:learned|learnt|realised|realized|noticed|understood) (?:that|how|to)?",
    r"next time", r"looking back", r"in hindsight", r"if I did it again", r"taught me",
    r"I (?:would|'d) do (?:it )?differently", r"since then I", r"now I (?:always|make sure)",
    r"what I took away", r"the lesson",
)
_LIST = _pattern(
    r"firstly", r"secondly", r"thirdly", r"another thing", r"and also", r"as well as",
    r"on top of that", r"plus", r"other times", r"another time", r"in other situations",
)
_FILLER = _pattern(
    r"um+", r"uh+", r"er+", r"erm", r"like", r"you know", r"sort of", r"kind of", r"basically",
    r"actually", r"literally", r"I mean", r"whatever",
)
_BOAST = _pattern(
    r"I'm (?:a |an |the )?(?:great|excellent|amazing|natural|brilliant|fantastic|exceptional|"
    r"outstanding|perfect|incredible|very good|really good|best)",
    r"everyone (?:says|tells me|knows)", r"I never (?:fail|make mistakes|miss)",
    r"I'm (?:known|famous) for", r"I excel", r"second to none", r"I'm the best",
    r"(?:natural|born) leader", r"people (?:love|look up to) me",
)
_STAR_LABEL = re.compile(
    r"^(?:so\s+)?(?:the\s+)?(?:situation|task|action|result)s?(?:\s+was|\s+is|:|,|\s+-)", re.I
)
_ABSTRACT = frozenset(
    """
    communication collaboration teamwork leadership ownership accountability adaptability
    flexibility problem solving stakeholder stakeholders synergy proactive initiative
    transparency transparent alignment empower empowerment resilience growth mindset
    feedback listening influence vision strategic strategy innovation value values
    excellence passion passionate dedicated motivated skills skill competency competencies
    effective efficiently efficient solutions solution driven results outcomes impact
    goals
    """.split()  # noqa: SIM905
)

FEATURE_NAMES: tuple[str, ...] = (
    "past_narrative",
    "time_anchor",
    "hypothetical",
    "first_person_share",
    "own_actions",
    "reasoning",
    "result",
    "quantities",
    "reflection",
    "named_things",
    "question_overlap",
    "list_breadth",
    "repetition",
    "filler",
    "boasting",
    "star_labels",
    "abstract_words",
    "unknown_words",
    "content",
)
"""The interpretable features, in the column order of ``interpretable_features``."""


@dataclass(frozen=True)
class Answer:
    """What the scorer sees of one answer: its (redacted) words and the question asked.

    Attributes:
        text: The redacted transcript or typed answer.
        question: The question's text.
    """

    text: str
    question: str = ""


def _saturating(count: float, full: float) -> float:
    """0 for none, 1 from ``full`` on, linear between."""
    return min(count, full) / full


# Counted over the whole answer: each sentence's matches, summed. No pattern matches across a
# sentence's end (punctuation and a space), so this is the count over the joined text.
_COUNTED: tuple[re.Pattern[str], ...] = (
    _TIME_ANCHOR, _I, _OTHERS, _OWN_ACTION, _REASON, _RESULT, _QUANTITY, _REFLECTION, _LIST,
    _FILLER, _BOAST,
)
# Shares of sentences that show a pattern at least once.
_SHARED: tuple[re.Pattern[str], ...] = (_PAST, _HYPOTHETICAL)
_NAMED = re.compile(r"(?<=\s)[A-Z][a-z]{2,}")


@dataclass(frozen=True)
class _Parts:
    """What the features need of one sentence; an answer's features are sums over its parts."""

    counts: np.ndarray  # matches of each _COUNTED pattern, then named things and a STAR label
    shows: np.ndarray  # whether each _SHARED pattern occurs
    tokens: list[str]


def _parts(sentence: Sentence) -> _Parts:
    text = sentence.text
    named = sum(1 for w in _NAMED.findall(text) if w.lower() not in _ABSTRACT)
    counts = [len(p.findall(text)) for p in _COUNTED]
    counts += [named, 1 if _STAR_LABEL.search(text) else 0]
    return _Parts(
        counts=np.asarray(counts, dtype=np.float64),
        shows=np.asarray([p.search(text) is not None for p in _SHARED], dtype=np.float64),
        tokens=words(text),
    )


def _repetition(tokens: list[str]) -> float:
    """Share of word trigrams that occur more than once."""
    trigrams = list(zip(tokens, tokens[1:], tokens[2:], strict=False))
    if len(trigrams) < 4:
        return 0.0
    counts = Counter(trigrams)
    return sum(c for c in counts.values() if c > 1) / len(trigrams)


def _asked(question: str) -> frozenset[str]:
    return frozenset(w for w in words(question) if len(w) > 3) - _STOP


_STOP = frozenset(
    """
    tell about time when what that this with have your were they them then there their
    which would could should from into over also just what's you've did does done happen
    happened situation
    """.split()  # noqa: SIM905
)


def _row(
    counts: np.ndarray, shows: np.ndarray, n_sentences: int, tokens: list[str],
    asked: frozenset[str], vocabulary: Collection[str],
) -> tuple[float, ...]:
    """``FEATURE_NAMES`` from an answer's summed parts."""
    (time_anchor, first, others, own, reason, result, quantity, reflection, listing, filler,
     boast, named, star) = counts
    share = shows / n_sentences if n_sentences else np.zeros(len(_SHARED))
    n_words = max(len(tokens), 1)
    alphabetic = [t for t in tokens if t.isalpha()]
    unknown = (
        sum(1 for t in alphabetic if t not in vocabulary) / len(alphabetic)
        if vocabulary and alphabetic
        else 0.0
    )
    overlap = len(asked & set(tokens)) / len(asked) if asked and tokens else 0.0
    return (
        float(share[0]),
        _saturating(time_anchor, 2),
        float(share[1]),
        first / (first + others) if first + others else 0.0,
        _saturating(own, 4),
        _saturating(reason, 3),
        _saturating(result, 2),
        _saturating(quantity, 3),
        _saturating(reflection, 2),
        _saturating(named, 3),
        overlap,
        _saturating(listing, 3) * (1 - _saturating(max(n_sentences, 1), 12) / 2),
        _repetition(tokens),
        filler / n_words,
        _saturating(boast, 2),
        _saturating(star, 3),
        sum(1 for t in tokens if t in _ABSTRACT) / n_words,
        unknown,
        # Enough words to show something; past about 120 words, more adds nothing here.
        math.log1p(_saturating(len(tokens), 120) * 120) / math.log1p(120),
    )


def interpretable_features(answer: Answer, vocabulary: Collection[str] = ()) -> np.ndarray:
    """One row of ``FEATURE_NAMES`` for an answer.

    Args:
        answer: The redacted words and the question.
        vocabulary: Known English words (lower case); with none, ``unknown_words`` is 0.
    """
    return leave_one_out_features(answer, split_sentences(answer.text), vocabulary)[0]


def leave_one_out_features(
    answer: Answer, sentences: Sequence[Sentence], vocabulary: Collection[str] = (),
    *, variants: bool = False,
) -> np.ndarray:
    """``FEATURE_NAMES`` of the answer (row 0) and, with ``variants``, of the answer without
    each of its ``sentences`` in turn (row i + 1 leaves sentence i out).

    Each sentence is read once: a variant's counts are the answer's less that sentence's.
    """
    parts = [_parts(s) for s in sentences]
    asked = _asked(answer.question)
    width = len(_COUNTED) + 2
    counts = np.sum([p.counts for p in parts], axis=0) if parts else np.zeros(width)
    shows = np.sum([p.shows for p in parts], axis=0) if parts else np.zeros(len(_SHARED))
    tokens = [t for p in parts for t in p.tokens]
    rows = [_row(counts, shows, len(parts), tokens, asked, vocabulary)]
    for i, left_out in enumerate(parts if variants else ()):
        rest = [t for j, p in enumerate(parts) if j != i for t in p.tokens]
        rows.append(_row(counts - left_out.counts, shows - left_out.shows, len(parts) - 1,
                         rest, asked, vocabulary))
    return np.asarray(rows, dtype=np.float64)


def feature_matrix(answers: Sequence[Answer], vocabulary: Collection[str] = ()) -> np.ndarray:
    """``interpretable_features`` of each answer, one row each."""
    if not answers:
        return np.zeros((0, len(FEATURE_NAMES)))
    return np.vstack([interpretable_features(a, vocabulary) for a in answers])
