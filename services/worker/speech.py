"""Speaking the avatar's lines: one Piper voice per process, each line stored once per voice."""

from __future__ import annotations

import functools
import logging
import time

from models.tts import SpeechOptions, Synthesizer, UnknownVoiceError
from services.core.interviews import speech
from services.core.storage import get_storage

log = logging.getLogger(__name__)

__all__ = ["TransientError", "UnknownVoiceError", "synthesize_line", "synthesizer"]


class TransientError(Exception):
    """A failure worth retrying: the store was briefly unavailable."""


@functools.cache
def synthesizer(voice: str) -> Synthesizer:
    """The voice, loaded once per worker process; UnknownVoiceError names the voices there are."""
    return Synthesizer(SpeechOptions(voice=voice))


def synthesize_line(text: str, voice: str) -> str:
    """Store the line spoken by the voice unless it is already stored; returns what happened."""
    key = speech.speech_key(text, voice)
    storage = get_storage()
    try:
        if storage.exists(key):
            return "cached"
        started = time.perf_counter()
        spoken = synthesizer(voice).synthesize(text)
        storage.put(key, spoken.wav)
    except OSError as exc:
        raise TransientError(str(exc)) from exc
    log.info(
        "spoke %s (%.1f s of audio in %.2f s, %s)",
        key,
        spoken.duration,
        time.perf_counter() - started,
        spoken.tts_version,
    )
    return "synthesized"
