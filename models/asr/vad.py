"""Voice activity detection: where in a recording someone is speaking."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import webrtcvad

from models.asr.audio import DecodedAudio

MIN_SPEECH_SECONDS = 0.3
"""Less speech than this in a whole recording counts as no speech at all."""

# webrtcvad's classifier calls any broadband stationary noise at a moderate level speech:
# 60 s of white noise at -26 dBFS comes out as 100% speech at every aggressiveness, and so
# do pink noise and mains hum. Speech differs from such noise by its syllabic energy swings,
# so a frame also has to stand this far above the recording's own noise floor (a low
# percentile of frame energies), which steady noise never does (its 30 ms frame levels vary
# by well under 1 dB). 5 dB rather than more keeps speech in a noisy room (LibriSpeech
# under white noise at about 0 dB SNR is still found).
_ENERGY_GATE_DB = 5.0
_NOISE_FLOOR_PERCENTILE = 10.0
# Below this a frame is silence whatever webrtcvad says (dither, idle microphone hiss).
_ABSOLUTE_FLOOR_DBFS = -60.0


@dataclass(frozen=True)
class SpeechRegion:
    """One stretch of speech, in seconds from the start of the recording."""

    start: float
    end: float


@dataclass(frozen=True)
class SpeechActivity:
    """Where speech occurs in a recording.

    Attributes:
        regions: Speech stretches in time order, after merging and dropping blips.
        speech_seconds: Total length of ``regions``.
        speech_ratio: ``speech_seconds`` divided by the recording's duration.
        leading_silence: Seconds before the first region (the whole duration if none).
        trailing_silence: Seconds after the last region (the whole duration if none).
    """

    regions: tuple[SpeechRegion, ...]
    speech_seconds: float
    speech_ratio: float
    leading_silence: float
    trailing_silence: float

    @property
    def has_speech(self) -> bool:
        """Whether the recording holds at least ``MIN_SPEECH_SECONDS`` of speech."""
        return self.speech_seconds >= MIN_SPEECH_SECONDS


def detect_speech(
    audio: DecodedAudio,
    *,
    aggressiveness: int = 2,
    frame_ms: int = 30,
    min_region_ms: int = 150,
    merge_gap_ms: int = 300,
) -> SpeechActivity:
    """Finds the speech in a recording with webrtcvad and an energy gate.

    Args:
        audio: Decoded 16 kHz mono recording.
        aggressiveness: webrtcvad mode, 0 (keeps most) to 3 (drops most non-speech).
        frame_ms: Analysis frame length; webrtcvad accepts 10, 20 or 30.
        min_region_ms: Regions shorter than this after merging are dropped as blips.
        merge_gap_ms: Regions separated by less than this are merged into one.

    Returns:
        The speech regions and summary figures.

    Raises:
        ValueError: ``aggressiveness`` or ``frame_ms`` is not supported by webrtcvad.
    """
    if frame_ms not in (10, 20, 30):
        raise ValueError(f"frame_ms must be 10, 20 or 30, not {frame_ms}")
    if aggressiveness not in (0, 1, 2, 3):
        raise ValueError(f"aggressiveness must be 0 to 3, not {aggressiveness}")
    frames = _frames(audio.samples, audio.sample_rate * frame_ms // 1000)
    voiced = _webrtc_flags(frames, audio.sample_rate, aggressiveness) & _energy_gate(frames)
    frame_s = frame_ms / 1000
    runs = _runs(voiced)
    runs = _merge_close(runs, round(merge_gap_ms / frame_ms))
    runs = [(a, b) for a, b in runs if (b - a) * frame_ms >= min_region_ms]
    regions = tuple(
        SpeechRegion(start=a * frame_s, end=min(b * frame_s, audio.duration)) for a, b in runs
    )
    return _summarise(regions, audio.duration)


def _frames(samples: np.ndarray, frame_len: int) -> np.ndarray:
    """Splits samples into whole 16-bit frames; a last partial frame is ignored."""
    count = samples.size // frame_len
    pcm = np.clip(samples[: count * frame_len], -1.0, 1.0) * 32767.0
    return pcm.astype(np.int16).reshape(count, frame_len)


def _webrtc_flags(frames: np.ndarray, sample_rate: int, aggressiveness: int) -> np.ndarray:
    vad = webrtcvad.Vad(aggressiveness)
    return np.fromiter(
        (vad.is_speech(frame.tobytes(), sample_rate) for frame in frames),
        dtype=bool,
        count=len(frames),
    )


def _energy_gate(frames: np.ndarray) -> np.ndarray:
    if len(frames) == 0:
        return np.zeros(0, dtype=bool)
    signal = frames.astype(np.float64) / 32768.0
    # Without the frame mean, sub-audio drift (DC offset, handling rumble) would pass for
    # energy swings.
    signal -= signal.mean(axis=1, keepdims=True)
    rms = np.sqrt(np.mean(signal**2, axis=1))
    level_db = 20.0 * np.log10(rms + 1e-10)
    floor_db = np.percentile(level_db, _NOISE_FLOOR_PERCENTILE)
    return (level_db >= floor_db + _ENERGY_GATE_DB) & (level_db >= _ABSOLUTE_FLOOR_DBFS)


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """Returns [start, end) frame indices of each run of True."""
    padded = np.concatenate(([False], flags, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _merge_close(runs: list[tuple[int, int]], max_gap: int) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in runs:
        if merged and start - merged[-1][1] < max_gap:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _summarise(regions: tuple[SpeechRegion, ...], duration: float) -> SpeechActivity:
    speech = sum(r.end - r.start for r in regions)
    return SpeechActivity(
        regions=regions,
        speech_seconds=speech,
        speech_ratio=speech / duration if duration > 0 else 0.0,
        leading_silence=regions[0].start if regions else duration,
        trailing_silence=duration - regions[-1].end if regions else duration,
    )
