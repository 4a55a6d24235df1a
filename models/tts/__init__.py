"""Text to speech for the interviewer avatar's lines, with Piper and a voice shipped on PyPI.

A pure library: it knows nothing of the web service, the database or the job queue, and it
never downloads anything at run time.

Typical use, with one ``Synthesizer`` per process::

    synthesizer = Synthesizer(SpeechOptions(voice=VOICE_ID))
    speech = synthesizer.synthesize("Thank you. Here is the next question.")
    speech.wav  # a 16-bit mono WAV file
"""

from models.tts.synthesis import Speech, SpeechOptions, Synthesizer, normalise_text, synthesize
from models.tts.voices import (
    VOICE_ID,
    UnknownVoiceError,
    VoiceFiles,
    available_voices,
    voice_files,
)

__all__ = [
    "VOICE_ID",
    "Speech",
    "SpeechOptions",
    "Synthesizer",
    "UnknownVoiceError",
    "VoiceFiles",
    "available_voices",
    "normalise_text",
    "synthesize",
    "voice_files",
]
