"""Per-process resources of a worker: the Whisper and scoring models are loaded once and kept."""

from __future__ import annotations

import functools

from models.asr import Transcriber, WhisperOptions
from models.scoring import registry, seed
from models.scoring.registry import ScoringModel
from services.core.db import unit_of_work
from services.core.roles.bank import question_bank
from services.core.scoring import service as scoring
from services.core.settings import get_settings


def whisper_options() -> WhisperOptions:
    settings = get_settings()
    return WhisperOptions(
        model=settings.asr_model,
        device=settings.asr_device,
        compute_type=settings.asr_compute_type,
        beam_size=settings.asr_beam_size,
        batch_size=settings.asr_batch_size,
        cpu_threads=settings.asr_cpu_threads,
        vad_model=settings.asr_vad,
        language=settings.asr_language or None,
        cache_dir=str(settings.model_cache_dir),
    )


@functools.cache
def transcriber() -> Transcriber:
    return Transcriber(whisper_options())


def scoring_model(org_id: str | None = None) -> ScoringModel:
    """The model that scores for an organisation: the one a psychologist promoted for it
    (calibration/promotion.py), else the seed model. Each is loaded once per worker process."""
    if org_id is not None:
        with unit_of_work() as session:
            version = scoring.promoted_model(session, org_id=org_id)
        if version is not None:
            return promoted_model(version)
    return seed_model()


@functools.cache
def promoted_model(version: str) -> ScoringModel:
    """A trained artifact from the registry; ArtifactError if it is missing or was changed."""
    settings = get_settings()
    assert settings.scoring_model_dir is not None
    return registry.load(settings.scoring_model_dir / version)


@functools.cache
def seed_model() -> ScoringModel:
    """The seed model, scoring until a calibrated one is promoted.

    Built once into the model cache from the seed answers Parley ships, then loaded from its
    locked artifact; loaded once per worker process.
    """
    settings = get_settings()
    assert settings.scoring_model_dir is not None
    questions = {q.key: q.text for q in question_bank()}
    folder = seed.build(settings.scoring_model_dir, questions)
    return registry.load(folder)
