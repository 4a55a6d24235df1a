"""Test helpers that make recordings: the shipped clips, generated signals, encoded files."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from models.asr import SAMPLE_RATE, DecodedAudio

SPEECH_DIR = Path(__file__).resolve().parents[2] / "data" / "speech"
JFK = "jfk.flac"
LIBRISPEECH = "librispeech_2412-153948-0000.flac"


def synthetic(samples: np.ndarray) -> DecodedAudio:
    """Wraps generated 16 kHz samples as a decoded recording."""
    samples = samples.astype(np.float32)
    return DecodedAudio(
        samples=samples,
        sample_rate=SAMPLE_RATE,
        duration=samples.size / SAMPLE_RATE,
        source_format="generated",
    )


def white_noise(seconds: float, rms: float, seed: int = 0) -> np.ndarray:
    """Gaussian white noise; rms 0.05 is about -26 dBFS, a noisy room at speech level."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(seconds * SAMPLE_RATE)) * rms).astype(np.float32)


def encode(samples: np.ndarray, path: Path, container: str, codec: str) -> Path:
    """Encodes 16 kHz mono float samples with PyAV, as a browser or phone upload would be."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)
    rate = 48000 if codec == "libopus" else 44100
    with av.open(str(path), mode="w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        for start in range(0, pcm.size, SAMPLE_RATE):
            frame = av.AudioFrame.from_ndarray(
                pcm[None, start : start + SAMPLE_RATE], format="s16", layout="mono"
            )
            frame.sample_rate = SAMPLE_RATE
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def video_without_audio(path: Path, frames: int = 25) -> Path:
    """An mp4 with a picture and no sound, as a camera-only upload would be."""
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            image = np.full((48, 64, 3), i * 4 % 256, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path
