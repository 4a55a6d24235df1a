"""What the interviewer avatar says, and where its recorded speech is kept.

The fixed lines are neutral on purpose: they state what the interviewer is and never praise,
encourage or judge an answer. Each line is spoken once per (text, voice) by the worker's
`speech.synthesize` task and then served from storage to every candidate.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from services.core import jobs
from services.core.errors import NotFound
from services.core.interviews.candidate import script_of
from services.core.interviews.orm import Interview
from services.core.roles.orm import JobRole, ScriptItem
from services.core.storage import MediaStorage

FIXED_LINES: dict[str, str] = {
    "intro": (
        "Hello. I am an AI interviewer, not a person. I read each question aloud and do not "
        "react to your answers. People at the organisation make every decision."
    ),
    "practice": (
        "This is a practice question, and it is not kept. "
        "Tell me about something you enjoy doing in your free time."
    ),
    "next": "Thank you. Here is the next question.",
    "last": "Thank you. This is the last question.",
    "finish": "Thank you. That is the end of the interview.",
}
QUESTION_PREFIX = "q:"
_VOICE = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class SpeechClip:
    """A stored line: its storage key and WAV bytes."""

    key: str
    wav: bytes


def normalise(text: str) -> str:
    """The text as spoken: Unicode NFC, whitespace runs made one space, ends trimmed.

    The same rule as models.tts.normalise_text, so a key names exactly what is spoken.
    """
    return " ".join(unicodedata.normalize("NFC", text).split())


def speech_key(text: str, voice: str) -> str:
    """Storage key of a line spoken by a voice: speech/<voice>/<sha256 of the text>.wav."""
    if not _VOICE.fullmatch(voice):
        raise ValueError(f"unsafe voice id: {voice!r}")
    digest = hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()
    return f"speech/{voice}/{digest}.wav"


def _lines(script: Sequence[ScriptItem]) -> list[dict[str, str]]:
    fixed = [{"id": line_id, "text": text} for line_id, text in FIXED_LINES.items()]
    ordered = sorted(script, key=lambda item: item.position)
    return fixed + [
        {"id": f"{QUESTION_PREFIX}{item.question_id}", "text": item.question.text}
        for item in ordered
    ]


def lines_for(session: Session, *, interview: Interview) -> list[dict[str, str]]:
    """Every line the avatar may say in an interview: the fixed ones, then each question."""
    return _lines(script_of(session, interview=interview))


def line_text(session: Session, *, interview: Interview, line_id: str) -> str:
    """The text of one of an interview's lines; NotFound for an id that is not one."""
    if line_id in FIXED_LINES:
        return FIXED_LINES[line_id]
    if line_id.startswith(QUESTION_PREFIX):
        question_id = line_id.removeprefix(QUESTION_PREFIX)
        for item in script_of(session, interview=interview):
            if item.question_id == question_id:
                return item.question.text
    raise NotFound("This interview has no such spoken line.", code="unknown_line")


def publish_missing(
    session: Session,
    *,
    storage: MediaStorage,
    publisher: jobs.JobPublisher,
    voice: str,
    texts: Iterable[str],
) -> list[str]:
    """After commit, queue synthesis of each text not yet stored; returns the keys queued."""
    queued: list[str] = []
    for text in dict.fromkeys(normalise(t) for t in texts):
        key = speech_key(text, voice)
        if not storage.exists(key):
            jobs.publish_after_commit(session, publisher, jobs.SYNTHESIZE_SPEECH, text, voice)
            queued.append(key)
    return queued


def prepare_role(
    session: Session,
    *,
    storage: MediaStorage,
    publisher: jobs.JobPublisher,
    voice: str,
    role: JobRole,
) -> list[str]:
    """Queue every line of a new role, so its audio is ready before a candidate arrives."""
    texts = [line["text"] for line in _lines(role.script)]
    return publish_missing(session, storage=storage, publisher=publisher, voice=voice, texts=texts)


def clip_for(
    session: Session,
    *,
    storage: MediaStorage,
    publisher: jobs.JobPublisher,
    voice: str,
    interview: Interview,
    line_id: str,
) -> SpeechClip | None:
    """One of an interview's lines as stored speech, or None once its synthesis is queued."""
    text = line_text(session, interview=interview, line_id=line_id)
    key = speech_key(text, voice)
    try:
        return SpeechClip(key=key, wav=storage.get(key))
    except FileNotFoundError:
        # Queued again on every poll while missing: the task skips a line already stored.
        jobs.publish_after_commit(
            session, publisher, jobs.SYNTHESIZE_SPEECH, normalise(text), voice
        )
        return None
