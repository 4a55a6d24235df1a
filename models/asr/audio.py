"""Decoding of uploaded recordings into 16 kHz mono float samples."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import av
import av.container
import av.stream
import numpy as np

from models.asr.errors import AudioError

SAMPLE_RATE = 16000
"""Sample rate of every ``DecodedAudio``: the rate Whisper and webrtcvad expect."""

# Declared durations are estimates (mp3 bitrate guesses, container padding), so a file is
# refused up front only when it is clearly too long; the decoded sample count decides the rest.
_DECLARED_DURATION_SLACK_S = 1.0


@dataclass(frozen=True)
class DecodedAudio:
    """A recording decoded to mono float32 samples at 16 kHz.

    Attributes:
        samples: float32 mono samples in [-1, 1].
        sample_rate: Always ``SAMPLE_RATE`` (16000).
        duration: Length in seconds.
        source_format: Container name reported by PyAV, e.g. "ogg" or "matroska,webm".
    """

    samples: np.ndarray
    sample_rate: int
    duration: float
    source_format: str


def decode_audio(
    path: str | os.PathLike[str], *, max_seconds: float = 900.0, min_seconds: float = 0.5
) -> DecodedAudio:
    """Decodes the first audio stream of a file to 16 kHz mono float32.

    A truncated or partly corrupt stream yields what could be decoded before the damage.

    Args:
        path: File to decode (webm/Opus, ogg/Opus, wav, mp3, flac, mp4/m4a with AAC, ...).
        max_seconds: Longest accepted recording; decoding stops as soon as it is exceeded.
        min_seconds: Shortest accepted recording.

    Returns:
        The decoded audio.

    Raises:
        AudioError: The file is empty, not audio, has no audio track, is corrupt, or is
            too long or too short.
        FileNotFoundError: ``path`` does not exist (a caller or storage problem, not the
            recording's).
    """
    path = os.fspath(path)
    if os.path.getsize(path) == 0:
        raise AudioError("empty", "The file is empty.")
    container = _open_input(path)
    with container:
        stream = _first_audio_stream(container)
        _refuse_declared_too_long(container, stream, max_seconds)
        samples = _decode_stream(container, stream, max_seconds)
        source_format = container.format.name
    if samples.size == 0:
        raise AudioError("corrupt", "The audio track is damaged: no sound could be decoded.")
    duration = samples.size / SAMPLE_RATE
    if duration < min_seconds:
        raise AudioError(
            "too_short",
            f"The recording is {duration:.1f} s long; at least {min_seconds:g} s are needed.",
        )
    return DecodedAudio(
        samples=samples, sample_rate=SAMPLE_RATE, duration=duration, source_format=source_format
    )


def _open_input(path: str) -> av.container.InputContainer:
    try:
        return av.open(path, mode="r")
    except av.FFmpegError as exc:
        raise AudioError(
            "not_audio", "The file is not a recording in any audio or video format we can read."
        ) from exc


def _first_audio_stream(container: av.container.InputContainer) -> av.stream.Stream:
    if not container.streams.audio:
        raise AudioError("no_audio_track", "The file contains no audio track.")
    return container.streams.audio[0]


def _refuse_declared_too_long(
    container: av.container.InputContainer, stream: av.stream.Stream, max_seconds: float
) -> None:
    declared = _declared_duration(container, stream)
    if declared is not None and declared > max_seconds + _DECLARED_DURATION_SLACK_S:
        raise _too_long(max_seconds)


def _declared_duration(
    container: av.container.InputContainer, stream: av.stream.Stream
) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _decode_stream(
    container: av.container.InputContainer, stream: av.stream.Stream, max_seconds: float
) -> np.ndarray:
    max_samples = int(max_seconds * SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    total = 0
    for chunk in _resampled_chunks(_decoded_frames(container, stream)):
        chunks.append(chunk)
        total += chunk.size
        if total > max_samples:
            raise _too_long(max_seconds)
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(chunks)


def _decoded_frames(
    container: av.container.InputContainer, stream: av.stream.Stream
) -> Iterator[av.AudioFrame]:
    """Yields every frame that decodes, stopping quietly where the file is damaged."""
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except av.FFmpegError:
            # Truncated or garbled container: keep what was read before the damage.
            return
        try:
            frames = packet.decode()
        except av.FFmpegError:
            # One bad packet must not cost the rest of the recording.
            continue
        yield from frames


def _resampled_chunks(frames: Iterator[av.AudioFrame]) -> Iterator[np.ndarray]:
    """Converts frames to 16 kHz mono float32, rebuilding the resampler when the input changes."""
    resampler: av.AudioResampler | None = None
    setup: tuple[str, str, int] | None = None
    for frame in frames:
        frame_setup = (frame.format.name, frame.layout.name, frame.sample_rate)
        if frame_setup != setup:
            # Chained or re-configured streams change layout or rate mid-file; a resampler
            # accepts only the input it was built for.
            if resampler is not None:
                yield from _flush(resampler)
            resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            setup = frame_setup
        for out in resampler.resample(frame):
            yield _to_float(out)
    if resampler is not None:
        yield from _flush(resampler)


def _flush(resampler: av.AudioResampler) -> Iterator[np.ndarray]:
    for out in resampler.resample(None):
        yield _to_float(out)


def _to_float(frame: av.AudioFrame) -> np.ndarray:
    # Resampling to s16 rather than float makes FFmpeg normalise the down-mix matrix, so a
    # loud stereo file cannot exceed full scale once folded to mono (float output would
    # sum channels at -3 dB each and clip); this is also what faster-whisper does.
    return frame.to_ndarray()[0].astype(np.float32) / 32768.0


def _too_long(max_seconds: float) -> AudioError:
    return AudioError("too_long", f"The recording is longer than the {max_seconds:g} s allowed.")


def remux_for_playback(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> bool:
    """Rewrites a browser's webm recording with a duration and a seek index, without re-encoding.

    MediaRecorder writes webm as a live stream: no duration and no cues, so players cannot
    show the length or seek. Copying the packets into a new file lets the muxer write both.
    A stream damaged part-way keeps the packets before the damage.

    Args:
        src: The recording as uploaded.
        dst: Where to write the playable copy (same container, same codecs).

    Returns:
        True if ``dst`` was written; False if ``src`` is not webm/Matroska (nothing to do).

    Raises:
        AudioError: ``src`` is not readable media, or holds no audio or video packet.
    """
    container = _open_input(os.fspath(src))
    with container:
        if "matroska" not in container.format.name and "webm" not in container.format.name:
            return False
        streams = [s for s in container.streams if s.type in ("audio", "video")]
        if not streams:
            raise AudioError("no_audio_track", "The file contains no audio track.")
        copied = 0
        with av.open(os.fspath(dst), mode="w", format="webm") as out:
            targets = {s.index: out.add_stream_from_template(s) for s in streams}
            try:
                for packet in container.demux(streams):
                    if packet.dts is None:  # the demuxer's end-of-stream marker
                        continue
                    packet.stream = targets[packet.stream.index]
                    out.mux(packet)
                    copied += 1
            except av.FFmpegError:
                pass  # truncated or damaged tail: keep what came before it
    if copied == 0:
        raise AudioError("corrupt", "The recording is damaged: it holds no sound.")
    return True
