"""Text-quality flags stored with a transcript, so reviewers and the scorer know what to trust."""

from __future__ import annotations

from dataclasses import dataclass

from models.asr.vad import SpeechActivity
from models.asr.whisper import Transcription

TOO_SHORT = "too_short"
WRONG_LANGUAGE = "wrong_language"
LOW_CONFIDENCE = "low_confidence"
MOSTLY_NON_SPEECH = "mostly_non_speech"


@dataclass(frozen=True)
class QualityThresholds:
    """Where each flag starts.

    Attributes:
        min_words: Fewer words than this are too short to assess a behavioural answer
            (a complete one takes well over a minute, 150+ words).
        min_mean_probability: Mean Whisper word probability below this marks a transcript
            whose words are often guesses.
        min_speech_ratio: Less speech than this share of the recording is mostly non-speech.
        min_language_probability: The detected language must be at least this likely
            before a mismatch with the expected language is flagged.
    """

    min_words: int = 20
    min_mean_probability: float = 0.55
    min_speech_ratio: float = 0.3
    min_language_probability: float = 0.5


def assess_quality(
    transcription: Transcription,
    activity: SpeechActivity,
    *,
    expected_language: str | None,
    detected_language: str | None = None,
    detected_probability: float = 0.0,
    thresholds: QualityThresholds | None = None,
) -> tuple[str, ...]:
    """The quality flags of one transcript, in a stable order; empty when all is well.

    Args:
        transcription: The transcript to judge.
        activity: Voice activity of the same recording.
        expected_language: The language the interview is held in, or None.
        detected_language: The language the audio sounds like, when it was detected
            separately from decoding (decoding may have been forced to the expected one).
        detected_probability: The detector's confidence in `detected_language`.
        thresholds: Where each flag starts.
    """
    limits = thresholds or QualityThresholds()
    flags: list[str] = []
    if len(transcription.words) < limits.min_words:
        flags.append(TOO_SHORT)
    language, probability = detected_language, detected_probability
    if language is None:
        language, probability = transcription.language, transcription.language_probability
    if (
        expected_language
        and language
        and language != expected_language
        and probability >= limits.min_language_probability
    ):
        flags.append(WRONG_LANGUAGE)
    if transcription.words:
        mean = sum(w.probability for w in transcription.words) / len(transcription.words)
        if mean < limits.min_mean_probability:
            flags.append(LOW_CONFIDENCE)
    if activity.speech_ratio < limits.min_speech_ratio:
        flags.append(MOSTLY_NON_SPEECH)
    return tuple(flags)
