"""Recruiters' free-text notes on a candidate: added by anyone recruiting, deleted by the author.

The notes are for people only; scoring never reads them (an import contract in pyproject.toml).
They go with the interview when its data is deleted (ON DELETE CASCADE). The audit log records
that a note was added or removed, never its text: the log outlives a deletion, and a note is
likely to name the candidate (see review.without_identity).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core.audit import service as audit
from services.core.errors import Forbidden, Invalid, NotFound
from services.core.interviews.orm import Interview, Note
from services.core.interviews.review import get_interview
from services.core.organisations.orm import User

MAX_NOTE_CHARS = 5000


@dataclass(frozen=True)
class NoteView:
    """A note as the candidate page lists it."""

    id: str
    body: str
    created_at: dt.datetime
    author_id: str
    author_name: str


def notes_of(session: Session, *, interview_id: str) -> list[NoteView]:
    """The interview's notes, newest first, with their authors' names."""
    interview = get_interview(session, interview_id=interview_id)
    rows = session.execute(
        select(Note, User.name)
        .join(User, User.id == Note.author_id)
        .where(Note.interview_id == interview.id)
        .order_by(Note.created_at.desc(), Note.id.desc())
    )
    return [_view(note, name) for note, name in rows]


def _view(note: Note, author_name: str) -> NoteView:
    return NoteView(id=note.id, body=note.body, created_at=note.created_at,
                    author_id=note.author_id, author_name=author_name)


def _record(session: Session, interview: Interview, actor_id: str, action: str,
            note: Note) -> None:
    audit.record(session, org_id=interview.org_id, actor=f"user:{actor_id}", action=action,
                 subject=f"interview:{interview.id}", data={"note_id": note.id})


def add_note(session: Session, *, author: User, interview_id: str, body: str) -> NoteView:
    """Add a note to the candidate; logged without its text."""
    text = body.strip()
    if not text:
        raise Invalid("Write something before adding the note.", code="empty_note", field="body")
    if len(text) > MAX_NOTE_CHARS:
        raise Invalid(
            f"A note may hold at most {MAX_NOTE_CHARS} characters; this one has {len(text)}.",
            code="note_too_long",
            field="body",
        )
    interview = get_interview(session, interview_id=interview_id)
    note = Note(org_id=interview.org_id, interview_id=interview.id, author_id=author.id, body=text)
    session.add(note)
    session.flush()
    _record(session, interview, author.id, "note.added", note)
    return _view(note, author.name)


def remove_note(session: Session, *, actor_id: str, interview_id: str, note_id: str) -> None:
    """Delete a note; only its author may."""
    interview = get_interview(session, interview_id=interview_id)
    note = session.get(Note, note_id)
    if note is None or note.interview_id != interview.id:
        raise NotFound("No such note.")
    if note.author_id != actor_id:
        raise Forbidden("Only the person who wrote a note can delete it.", code="not_your_note")
    session.delete(note)
    session.flush()
    _record(session, interview, actor_id, "note.removed", note)
