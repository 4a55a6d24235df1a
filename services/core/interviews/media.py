"""Where answer media lives and a first look at what an upload really is."""

from __future__ import annotations

import hashlib

from services.core.errors import Invalid, UnsupportedMedia
from services.core.storage import MediaStorage

PLAYBACK_TYPES = {
    "webm": "video/webm",
    "ogg": "audio/ogg",
    "mp4": "video/mp4",
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
}


def check_content_type(content_type: str, *, accepted: list[str]) -> None:
    """Refuse a declared type outside the configured list (Settings.accepted_media_types)."""
    base = content_type.split(";")[0].strip().lower()
    if base not in {t.lower() for t in accepted}:
        raise UnsupportedMedia(
            f"Answers must be audio or video recordings, not {base or 'an unnamed type'}.",
            accepted=sorted(accepted),
        )


def sniff(head: bytes, *, total_size: int) -> str:
    """The container a file's first bytes announce, whatever its declared type says."""
    if total_size == 0:
        raise Invalid("The recording is empty.", code="empty_upload")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"fLaC"):
        return "flac"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    raise UnsupportedMedia("The upload is not an audio or video recording.", code="not_media")


def answer_folder(answer_id: str) -> str:
    """Every file of one answer (its chunks and its recording) lives under this prefix."""
    return f"answers/{answer_id}"


def chunks_folder(answer_id: str) -> str:
    return f"answers/{answer_id}/chunks"


def chunk_key(answer_id: str, index: int) -> str:
    return f"{chunks_folder(answer_id)}/{index:06d}"


def answer_key(answer_id: str, extension: str) -> str:
    return f"answers/{answer_id}/answer.{extension}"


def playback_type(media_key: str) -> str:
    return PLAYBACK_TYPES.get(media_key.rsplit(".", 1)[-1], "application/octet-stream")


def sha256_of(storage: MediaStorage, keys: list[str]) -> str:
    digest = hashlib.sha256()
    for key in keys:
        digest.update(storage.get(key))
    return digest.hexdigest()
