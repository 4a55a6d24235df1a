"""A candidate's CV: one PDF a recruiter keeps with the interview, for people to read.

Scoring never reads it: the scores come from the answers' words alone (an import contract in
pyproject.toml keeps scoring away from this module). The file lives in media storage under the
interview's folder, which the purge deletes with everything else (privacy.py). The audit log
records every upload, view and removal, never the file's name, which often holds the
candidate's own.
"""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.core.audit import service as audit
from services.core.db import after_commit, new_id, utcnow
from services.core.errors import Conflict, Invalid, NotFound, UnsupportedMedia
from services.core.interviews.orm import CandidateCv, Interview
from services.core.interviews.review import get_interview
from services.core.storage import MediaStorage

CONTENT_TYPE = "application/pdf"
DEFAULT_FILENAME = "cv.pdf"
_MAX_FILENAME = 200
# Readers accept a PDF whose end-of-file marker is within its last 1024 bytes; a file without
# one was cut off on the way.
_EOF_WINDOW = 1024


def interview_folder(interview_id: str) -> str:
    """Every file kept about an interview itself (not its answers) lives under this prefix."""
    return f"interviews/{interview_id}"


def _key(interview_id: str) -> str:
    # A new key per upload: a replacement never overwrites the file a committed row points to.
    return f"{interview_folder(interview_id)}/cv/{new_id()}.pdf"


def check_declared_type(content_type: str) -> None:
    """Refuse an upload that does not even claim to be a PDF (before its body is read)."""
    declared = content_type.split(";")[0].strip().lower()
    if declared != CONTENT_TYPE:
        raise UnsupportedMedia(
            f"A CV must be a PDF file, not {declared or 'an unnamed type'}.", code="not_pdf"
        )


def check_pdf(data: bytes, *, content_type: str) -> None:
    """Refuse anything but a whole PDF, whatever its name or declared type says."""
    check_declared_type(content_type)
    if not data:
        raise Invalid("The file is empty.", code="empty_upload")
    if not data.startswith(b"%PDF-"):
        raise UnsupportedMedia(
            "This file is not a PDF, whatever its name says. Save the CV as a PDF and try again.",
            code="not_pdf",
        )
    if b"%%EOF" not in data[-_EOF_WINDOW:]:
        raise Invalid(
            "This PDF is incomplete: its end is missing. Upload the whole file again.",
            code="truncated_pdf",
        )


def clean_filename(name: str | None) -> str:
    """The name to show and offer on download: no folders, control characters or quotes."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[\x00-\x1f\x7f\"]", "", base).strip(" .")[:_MAX_FILENAME].strip()
    if not base:
        return DEFAULT_FILENAME
    return base if base.lower().endswith(".pdf") else f"{base[: _MAX_FILENAME - 4]}.pdf"


def cv_of(session: Session, *, interview_id: str) -> CandidateCv | None:
    """The interview's CV, if one is kept; NotFound for an interview that does not exist."""
    interview = get_interview(session, interview_id=interview_id)
    return session.scalar(select(CandidateCv).where(CandidateCv.interview_id == interview.id))


def _record(session: Session, interview: Interview, actor_id: str, action: str,
            data: dict[str, object]) -> None:
    audit.record(session, org_id=interview.org_id, actor=f"user:{actor_id}", action=action,
                 subject=f"interview:{interview.id}", data=data)


def upload_cv(
    session: Session,
    *,
    storage: MediaStorage,
    actor_id: str,
    interview_id: str,
    data: bytes,
    content_type: str,
    filename: str | None,
) -> CandidateCv:
    """Keep a PDF as the interview's CV, replacing the one before; logged without its name.

    The new file is written before the commit and the old one deleted after it, so a failed
    transaction leaves at most an unreferenced file in the interview's folder, which the purge
    deletes with it.
    """
    check_pdf(data, content_type=content_type)
    interview = get_interview(session, interview_id=interview_id)
    # The interview's row is the lock (PostgreSQL): two first uploads at once would otherwise
    # both find no CV and both insert one.
    session.execute(select(Interview.id).where(Interview.id == interview.id).with_for_update())
    row = session.scalar(
        select(CandidateCv).where(CandidateCv.interview_id == interview.id).with_for_update()
    )
    replaced = row is not None
    key = _key(interview.id)
    storage.put(key, data)
    if row is None:
        row = CandidateCv(org_id=interview.org_id, interview_id=interview.id)
        session.add(row)
    else:
        old_key = row.storage_key
        after_commit(session, lambda: storage.delete(old_key))
    row.storage_key, row.filename = key, clean_filename(filename)
    row.size_bytes, row.sha256 = len(data), hashlib.sha256(data).hexdigest()
    row.uploaded_by_id, row.uploaded_at = actor_id, utcnow()
    try:
        session.flush()
    except IntegrityError:  # SQLite, which has no row locks: the other upload won
        raise Conflict("Another CV for this candidate was uploaded at the same moment. "
                       "Reload the page, then upload again if yours should replace it.",
                       code="cv_upload_conflict") from None
    _record(session, interview, actor_id, "cv.uploaded",
            {"size_bytes": len(data), "replaced": replaced})
    return row


def open_cv(
    session: Session, *, storage: MediaStorage, actor_id: str, interview_id: str, download: bool
) -> tuple[CandidateCv, bytes]:
    """The CV's record and bytes for a person about to read or download it; the view is logged."""
    row = cv_of(session, interview_id=interview_id)
    if row is None:
        raise NotFound("No CV is kept for this candidate.", code="no_cv")
    try:
        data = storage.get(row.storage_key)
    except FileNotFoundError as exc:
        raise NotFound("The CV's file could not be found in storage.", code="no_cv") from exc
    interview = get_interview(session, interview_id=interview_id)
    _record(session, interview, actor_id, "cv.viewed", {"download": download})
    return row, data


def remove_cv(session: Session, *, storage: MediaStorage, actor_id: str, interview_id: str) -> bool:
    """Delete the interview's CV (the file after the commit); False if there was none."""
    row = cv_of(session, interview_id=interview_id)
    if row is None:
        return False
    key = row.storage_key
    session.delete(row)
    session.flush()
    after_commit(session, lambda: storage.delete(key))
    interview = get_interview(session, interview_id=interview_id)
    _record(session, interview, actor_id, "cv.removed", {})
    return True
