"""The candidate's data rights, from their own invite link (header X-Invite-Token).

They work on an expired link too: the right to one's data outlasts the time to answer.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import asdict
from typing import IO

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from services.api import schemas
from services.api.deps import CandidateDataSubject, DbSession, PublisherDep, SettingsDep, StorageDep
from services.core.db import utcnow
from services.core.interviews import export, privacy
from services.core.interviews.orm import Interview
from services.core.settings import Settings

router = APIRouter(prefix="/candidate", tags=["candidate"])
_IN_MEMORY_BYTES = 16 * 1024 * 1024  # larger downloads are spooled to a temporary file


def _rights(interview: Interview, settings: Settings) -> dict[str, object]:
    return {
        **asdict(privacy.requests_of(interview)),
        "deletion_grace_days": min(settings.deletion_grace_days, privacy.MAX_GRACE_DAYS),
    }


@router.get("/rights", response_model=schemas.CandidateRightsOut)
def rights(interview: CandidateDataSubject, settings: SettingsDep) -> dict[str, object]:
    """What the candidate has asked for so far (deletion, a person's review)."""
    return _rights(interview, settings)


def _chunks(archive: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := archive.read(1024 * 1024):
            yield chunk
    finally:
        archive.close()


@router.get(
    "/data",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}}}},
)
def download_data(
    interview: CandidateDataSubject, session: DbSession, storage: StorageDep
) -> StreamingResponse:
    """A zip of everything held about the candidate, with a plain-language explanation."""
    archive = tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY_BYTES)  # noqa: SIM115
    try:
        export.export_data(session, storage=storage, interview=interview, out=archive)
    except BaseException:
        archive.close()
        raise
    archive.seek(0)
    filename = f"parley-my-data-{utcnow():%Y-%m-%d}.zip"
    return StreamingResponse(
        _chunks(archive),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/deletion", response_model=schemas.CandidateRightsOut, status_code=202)
def request_deletion(
    interview: CandidateDataSubject,
    session: DbSession,
    settings: SettingsDep,
    publisher: PublisherDep,
) -> dict[str, object]:
    """Schedule the deletion of everything about the candidate, by `deletion_due_at`."""
    privacy.request_deletion(
        session, publisher=publisher, interview=interview, grace_days=settings.deletion_grace_days
    )
    return _rights(interview, settings)


@router.post("/human-review", response_model=schemas.CandidateRightsOut, status_code=201)
def request_human_review(
    body: schemas.HumanReviewIn,
    interview: CandidateDataSubject,
    session: DbSession,
    settings: SettingsDep,
) -> dict[str, object]:
    """Ask for a person to review the interview; recruiters see it flagged, with the message."""
    privacy.request_human_review(session, interview=interview, message=body.message)
    return _rights(interview, settings)
