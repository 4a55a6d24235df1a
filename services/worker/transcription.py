"""The transcription flow of one answer: claim, decode, detect speech, transcribe, store."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from dataclasses import asdict
from pathlib import Path

from sqlalchemy.exc import OperationalError

from models.asr import (
    AudioError,
    assess_quality,
    decode_audio,
    detect_speech,
    remux_for_playback,
)
from services.core.db import unit_of_work
from services.core.interviews import processing
from services.core.settings import get_settings
from services.core.storage import get_storage
from services.worker import runtime

log = logging.getLogger(__name__)


class TransientError(Exception):
    """A failure worth retrying: the database, the store or the broker was briefly unavailable."""


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _transcribe_file(path: Path, *, audio_sha256: str) -> processing.TranscriptRecord:
    settings = get_settings()
    started = time.perf_counter()
    audio = decode_audio(path, max_seconds=settings.max_answer_seconds)
    activity = detect_speech(audio)
    result = runtime.transcriber().transcribe(audio, activity=activity)
    flags = assess_quality(result, activity, expected_language=settings.asr_language or None)
    return processing.TranscriptRecord(
        asr_version=result.asr_version,
        text=result.text,
        language=result.language,
        language_probability=result.language_probability,
        words=[asdict(w) for w in result.words],
        speech_regions=[[r.start, r.end] for r in activity.regions],
        quality_flags=list(flags),
        duration_seconds=audio.duration,
        speech_seconds=activity.speech_seconds,
        processing_seconds=round(time.perf_counter() - started, 3),
        audio_sha256=audio_sha256,
    )


def _remux_for_playback(media_key: str, path: Path) -> None:
    """Store a browser's webm again with a duration and a seek index, for staff playback.

    The audio is the same packet for packet, so the local copy is transcribed as it is.
    """
    if not media_key.endswith(".webm"):
        return
    playable = path.with_name(f"{path.name}.playable.webm")
    try:
        if remux_for_playback(path, playable):
            get_storage().put(media_key, playable.read_bytes())
    finally:
        playable.unlink(missing_ok=True)


def _fail(claim: processing.ClaimedAnswer, code: str, reason: str) -> str:
    with unit_of_work() as session:
        processing.mark_failed(session, claim=claim, code=code, reason=reason)
    return "failed"


def transcribe_answer(answer_id: str) -> str:
    """Run the whole chain for one answer; returns what happened, for logs and tests."""
    settings = get_settings()
    with unit_of_work() as session:
        claim = processing.claim_for_transcription(
            session,
            answer_id=answer_id,
            stale_after=dt.timedelta(seconds=settings.stuck_after_seconds),
        )
    if claim is None:
        return "skipped"  # already done, or another worker holds it
    try:
        with get_storage().local_copy(claim.media_key) as path:
            # The hash of the file as uploaded: on local media `path` is the stored file, which
            # the remux replaces.
            received = _file_sha256(path)
            _remux_for_playback(claim.media_key, path)
            record = _transcribe_file(path, audio_sha256=received)
    except AudioError as exc:
        return _fail(claim, exc.code, exc.message)
    except FileNotFoundError:
        return _fail(claim, "media_missing", "The recording could not be found in storage.")
    except OSError as exc:
        _release(claim)
        raise TransientError(str(exc)) from exc
    except Exception:
        # A bug, not bad input: fail visibly rather than loop; the log has the traceback.
        log.exception("transcription of answer %s crashed", answer_id)
        return _fail(claim, "internal_error", "An unexpected error stopped the transcription.")
    try:
        with unit_of_work() as session:
            processing.save_transcript(session, claim=claim, record=record)
    except OperationalError as exc:  # the database went away between claim and save
        _release(claim)
        raise TransientError(str(exc)) from exc
    return "no_speech" if not record.words else "transcribed"


def _release(claim: processing.ClaimedAnswer) -> None:
    """Hand the answer back for the retry; if even that fails, the sweeper will."""
    try:
        with unit_of_work() as session:
            processing.release(session, claim=claim)
    except OperationalError:
        log.warning("could not release answer %s; the sweeper will requeue it", claim.answer_id)


def fail_after_retries(answer_id: str, reason: str) -> None:
    """Retries ran out on a transient error: say so on the answer instead of leaving it hanging."""
    with unit_of_work() as session:
        claim = processing.claim_for_transcription(
            session, answer_id=answer_id, stale_after=dt.timedelta(0)
        )
        if claim is not None:
            processing.mark_failed(session, claim=claim, code="retries_exhausted", reason=reason)
