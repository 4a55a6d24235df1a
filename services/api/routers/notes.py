"""What recruiters keep with a candidate for people to read: their CV and recruiters' notes."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, unquote

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from services.api import schemas
from services.api.deps import DbSession, Recruiting, SettingsDep, StorageDep
from services.api.uploads import read_body
from services.core.interviews import cv, notes
from services.core.interviews.notes import NoteView
from services.core.interviews.orm import CandidateCv

router = APIRouter(tags=["interviews"])

# The PDF is someone else's file: framed by Parley's own page only, in an opaque origin
# (`sandbox`), loading and running nothing. Chromium's PDF viewer needs the inline styles; it
# renders in a sandboxed document (checked by tests/web/test_staff_browser.py), though older
# browsers refuse to, which is one reason the page always offers the download too.
_PDF_CSP = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; object-src 'self'; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)


def _cv_out(interview_id: str, row: CandidateCv) -> dict[str, object]:
    return {
        "filename": row.filename,
        "size_bytes": row.size_bytes,
        "uploaded_at": row.uploaded_at,
        "uploaded_by_id": row.uploaded_by_id,
        "url": f"/api/v1/interviews/{interview_id}/cv/file",
    }


@router.get("/interviews/{interview_id}/cv", response_model=schemas.CvOut | None)
def get_cv(interview_id: str, staff: Recruiting, session: DbSession) -> dict[str, object] | None:
    """The CV's name, size and date, or null when none is kept."""
    row = cv.cv_of(session, interview_id=interview_id)
    return _cv_out(interview_id, row) if row is not None else None


@router.put("/interviews/{interview_id}/cv", response_model=schemas.CvOut)
async def put_cv(
    interview_id: str,
    request: Request,
    staff: Recruiting,
    session: DbSession,
    settings: SettingsDep,
    storage: StorageDep,
    content_type: Annotated[str, Header()] = "",
    x_filename: Annotated[
        str, Header(max_length=1000, description="The file's name, percent-encoded (UTF-8).")
    ] = "",
) -> dict[str, object]:
    """Upload the candidate's CV, a PDF as the raw body, replacing any kept before."""
    limit = settings.max_cv_bytes
    cv.check_declared_type(content_type)  # before a byte of the body is read
    data = await read_body(
        request, limit=limit, too_large=f"A CV may be at most {limit / 1024 / 1024:g} MiB."
    )
    row = await run_in_threadpool(
        cv.upload_cv,
        session,
        storage=storage,
        actor_id=staff.user.id,
        interview_id=interview_id,
        data=data,
        content_type=content_type,
        filename=unquote(x_filename),
    )
    return _cv_out(interview_id, row)


def _disposition(kind: str, filename: str) -> str:
    fallback = filename.encode("ascii", "replace").decode().replace("?", "_").replace("\\", "_")
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.get(
    "/interviews/{interview_id}/cv/file",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def cv_file(
    interview_id: str,
    staff: Recruiting,
    session: DbSession,
    storage: StorageDep,
    download: bool = False,
) -> Response:
    """The CV itself, to read in the page (inline) or to save (?download=true); logged."""
    row, data = cv.open_cv(
        session, storage=storage, actor_id=staff.user.id, interview_id=interview_id,
        download=download,
    )
    headers = {
        "Content-Disposition": _disposition("attachment" if download else "inline", row.filename),
        "Content-Security-Policy": _PDF_CSP,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "SAMEORIGIN",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    return Response(data, media_type=cv.CONTENT_TYPE, headers=headers)


@router.delete("/interviews/{interview_id}/cv", status_code=204)
def delete_cv(
    interview_id: str, staff: Recruiting, session: DbSession, storage: StorageDep
) -> Response:
    """Remove the candidate's CV; removing one that is not there is not an error."""
    cv.remove_cv(session, storage=storage, actor_id=staff.user.id, interview_id=interview_id)
    return Response(status_code=204)


def _note_out(note: NoteView, staff_id: str) -> dict[str, object]:
    return {
        "id": note.id,
        "body": note.body,
        "created_at": note.created_at,
        "author_id": note.author_id,
        "author_name": note.author_name,
        "mine": note.author_id == staff_id,
    }


@router.get("/interviews/{interview_id}/notes", response_model=list[schemas.NoteOut])
def list_notes(
    interview_id: str, staff: Recruiting, session: DbSession
) -> list[dict[str, object]]:
    """Recruiters' notes on the candidate, newest first."""
    return [_note_out(n, staff.user.id) for n in notes.notes_of(session, interview_id=interview_id)]


@router.post(
    "/interviews/{interview_id}/notes", response_model=schemas.NoteOut, status_code=201
)
def add_note(
    interview_id: str, body: schemas.NoteIn, staff: Recruiting, session: DbSession
) -> dict[str, object]:
    note = notes.add_note(session, author=staff.user, interview_id=interview_id, body=body.body)
    return _note_out(note, staff.user.id)


@router.delete("/interviews/{interview_id}/notes/{note_id}", status_code=204)
def delete_note(interview_id: str, note_id: str, staff: Recruiting, session: DbSession) -> Response:
    """Delete a note; only its author may (403 not_your_note for anyone else)."""
    notes.remove_note(session, actor_id=staff.user.id, interview_id=interview_id, note_id=note_id)
    return Response(status_code=204)
