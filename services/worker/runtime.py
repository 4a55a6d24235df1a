"""Per-process resources of a worker: the Whisper model is loaded once and kept."""

from __future__ import annotations

import functools

from models.asr import Transcriber, WhisperOptions
from services.core.settings import get_settings


def whisper_options() -> WhisperOptions:
    settings = get_settings()
    return WhisperOptions(
        model=settings.asr_model,
        device=settings.asr_device,
        compute_type=settings.asr_compute_type,
        beam_size=settings.asr_beam_size,
        cpu_threads=settings.asr_cpu_threads,
        language=settings.asr_language or None,
        cache_dir=str(settings.model_cache_dir),
    )


@functools.cache
def transcriber() -> Transcriber:
    return Transcriber(whisper_options())
