"""Speech recognition for recorded answers: decoding, voice activity, Whisper transcription.

A pure library: it knows nothing of the web service, the database or the job queue.

Typical use, once per recording, with one ``Transcriber`` per process::

    audio = decode_audio(path)
    activity = detect_speech(audio)
    transcription = transcriber.transcribe(audio, activity=activity)
"""

from models.asr.audio import SAMPLE_RATE, DecodedAudio, decode_audio, remux_for_playback
from models.asr.errors import AudioError, ModelIntegrityError
from models.asr.quality import QualityThresholds, assess_quality
from models.asr.vad import SpeechActivity, SpeechRegion, detect_speech
from models.asr.whisper import (
    BASE_MODEL_SHA256,
    Segment,
    Transcriber,
    Transcription,
    WhisperOptions,
    Word,
    resolve_model_dir,
)

__all__ = [
    "BASE_MODEL_SHA256",
    "SAMPLE_RATE",
    "AudioError",
    "DecodedAudio",
    "ModelIntegrityError",
    "QualityThresholds",
    "Segment",
    "SpeechActivity",
    "SpeechRegion",
    "Transcriber",
    "Transcription",
    "WhisperOptions",
    "Word",
    "assess_quality",
    "decode_audio",
    "detect_speech",
    "remux_for_playback",
    "resolve_model_dir",
]
