"""Quality flags: each fires on the case it names and stays quiet on a good transcript."""

from __future__ import annotations

from models.asr import SpeechActivity, SpeechRegion, Transcription, assess_quality
from models.asr.whisper import Word


def _transcription(
    words: int, probability: float = 0.9, language: str = "en", language_probability: float = 1.0
) -> Transcription:
    timed = tuple(
        Word(start=i * 0.4, end=i * 0.4 + 0.3, text=f" w{i}", probability=probability)
        for i in range(words)
    )
    return Transcription(
        text=" ".join(w.text for w in timed),
        language=language,
        language_probability=language_probability,
        duration=60.0,
        segments=(),
        words=timed,
        asr_version="test",
    )


def _activity(speech_seconds: float, duration: float = 60.0) -> SpeechActivity:
    return SpeechActivity(
        regions=(SpeechRegion(0.0, speech_seconds),),
        speech_seconds=speech_seconds,
        speech_ratio=speech_seconds / duration,
        leading_silence=0.0,
        trailing_silence=duration - speech_seconds,
    )


def test_a_full_clear_answer_has_no_flags() -> None:
    assert assess_quality(_transcription(150), _activity(50), expected_language="en") == ()


def test_each_problem_raises_its_own_flag() -> None:
    assert assess_quality(_transcription(8), _activity(50), expected_language="en") == (
        "too_short",
    )
    assert assess_quality(
        _transcription(150, probability=0.3), _activity(50), expected_language="en"
    ) == ("low_confidence",)
    assert assess_quality(_transcription(150), _activity(10), expected_language="en") == (
        "mostly_non_speech",
    )
    assert assess_quality(
        _transcription(150),
        _activity(50),
        expected_language="en",
        detected_language="de",
        detected_probability=0.93,
    ) == ("wrong_language",)


def test_an_unsure_language_guess_is_not_a_mismatch() -> None:
    flags = assess_quality(
        _transcription(150),
        _activity(50),
        expected_language="en",
        detected_language="nl",
        detected_probability=0.3,
    )
    assert flags == ()
