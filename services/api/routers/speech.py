"""The interviewer avatar's spoken lines, for the candidate page (header X-Invite-Token)."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Header, Response
from fastapi.responses import JSONResponse

from services.api.deps import CandidateInterview, DbSession, PublisherDep, SettingsDep, StorageDep
from services.core.interviews import speech

router = APIRouter(prefix="/candidate", tags=["candidate"])

# Private: the request carries the candidate's token. A day is long enough for one interview;
# the ETag lets the page revalidate cheaply after that.
_CACHE_CONTROL = "private, max-age=86400"


@router.get(
    "/speech/{line_id}",
    response_class=Response,
    responses={
        200: {"content": {"audio/wav": {}}, "description": "The line, spoken."},
        202: {"description": 'Being spoken: ask again after Retry-After. {"state": "pending"}'},
        304: {"description": "Unchanged since the ETag given in If-None-Match."},
        404: {"description": "The interview has no such line."},
    },
)
def get_speech(
    line_id: str,
    interview: CandidateInterview,
    session: DbSession,
    storage: StorageDep,
    publisher: PublisherDep,
    settings: SettingsDep,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """One line of the avatar (ids from GET /candidate/interview `lines`) as 16-bit mono WAV."""
    clip = speech.clip_for(
        session,
        storage=storage,
        publisher=publisher,
        voice=settings.tts_voice,
        interview=interview,
        line_id=line_id,
    )
    if clip is None:
        return JSONResponse({"state": "pending"}, status_code=202, headers={"Retry-After": "1"})
    etag = f'"{hashlib.sha256(clip.wav).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Cache-Control": _CACHE_CONTROL, "Vary": "X-Invite-Token"}
    if if_none_match and etag in {tag.strip() for tag in if_none_match.split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(content=clip.wav, media_type="audio/wav", headers=headers)
