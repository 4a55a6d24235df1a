"""Sentences and words of a transcript, with character offsets back into it."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A sentence ends at . ! or ? followed by space; Whisper punctuates, so this is enough. A run-on
# without punctuation is cut every _MAX_WORDS words so no "sentence" swallows a whole answer.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_MAX_WORDS = 40
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?|\d+(?:[.,]\d+)?%?|\[[A-Z_]+\]")


@dataclass(frozen=True)
class Sentence:
    """One sentence of a text.

    Attributes:
        start: Offset of its first character in the text.
        end: Offset just past its last character.
        text: The sentence itself, ``text[start:end]`` of the whole.
    """

    start: int
    end: int
    text: str


def split_sentences(text: str) -> tuple[Sentence, ...]:
    """The sentences of ``text``, in order, without surrounding whitespace."""
    sentences: list[Sentence] = []
    position = 0
    for piece in [*_SENTENCE_END.split(text)]:
        start = text.index(piece, position) if piece else position
        position = start + len(piece)
        sentences.extend(_cut_run_on(piece, start))
    return tuple(s for s in sentences if s.text)


def _cut_run_on(piece: str, offset: int) -> list[Sentence]:
    words = list(re.finditer(r"\S+", piece))
    out: list[Sentence] = []
    for first in range(0, len(words), _MAX_WORDS):
        chunk = words[first : first + _MAX_WORDS]
        start, end = chunk[0].start(), chunk[-1].end()
        out.append(Sentence(offset + start, offset + end, piece[start:end]))
    return out


def words(text: str) -> list[str]:
    """Lower-cased word tokens: letters with an inner apostrophe, numbers, redaction tokens."""
    return [w.lower() for w in _WORD.findall(text)]
