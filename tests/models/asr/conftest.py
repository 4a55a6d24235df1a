"""Fixtures for the speech-recognition tests: the shipped clips and their references."""

from __future__ import annotations

import csv

import pytest

from models.asr import DecodedAudio, decode_audio
from tests.models.asr.media import JFK, LIBRISPEECH, SPEECH_DIR


@pytest.fixture(scope="session")
def manifest() -> dict[str, dict[str, str]]:
    """Rows of tests/data/speech/manifest.csv keyed by file name."""
    with (SPEECH_DIR / "manifest.csv").open(newline="", encoding="utf-8") as f:
        return {row["file"]: row for row in csv.DictReader(f)}


@pytest.fixture(scope="session")
def jfk() -> DecodedAudio:
    return decode_audio(SPEECH_DIR / JFK)


@pytest.fixture(scope="session")
def librispeech() -> DecodedAudio:
    return decode_audio(SPEECH_DIR / LIBRISPEECH)
