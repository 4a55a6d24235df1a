"""decode_audio on real clips, on the formats browsers and phones upload, and on bad files."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import numpy as np
import pytest

from models.asr import SAMPLE_RATE, AudioError, DecodedAudio, decode_audio
from tests.models.asr.media import JFK, LIBRISPEECH, SPEECH_DIR, encode, video_without_audio

MATROSKA_CLUSTER_ID = bytes.fromhex("1F43B675")


def _rms_db(samples: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(samples.astype(np.float64) ** 2))))


def _webm_of(audio: DecodedAudio, tmp_path: Path) -> bytes:
    return encode(audio.samples, tmp_path / "full.webm", "webm", "libopus").read_bytes()


def _wav_header(data_bytes: int) -> bytes:
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, SAMPLE_RATE, SAMPLE_RATE * 2, 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_bytes)
        + b"WAVEfmt "
        + fmt
        + b"data"
        + struct.pack("<I", data_bytes)
    )


@pytest.mark.parametrize("name", [JFK, LIBRISPEECH])
def test_real_clip_decodes_to_16k_mono_with_its_duration(
    name: str, manifest: dict[str, dict[str, str]]
) -> None:
    audio = decode_audio(SPEECH_DIR / name)

    assert audio.sample_rate == SAMPLE_RATE
    assert audio.samples.dtype == np.float32
    assert audio.samples.ndim == 1
    assert audio.duration == pytest.approx(float(manifest[name]["duration_s"]), abs=0.02)
    assert audio.samples.size == round(audio.duration * SAMPLE_RATE)
    assert np.abs(audio.samples).max() <= 1.0
    assert audio.source_format == "flac"


def test_loud_stereo_clip_is_folded_to_mono_without_clipping(jfk: DecodedAudio) -> None:
    # The JFK clip peaks near full scale in both channels; a plain sum would clip.
    assert np.abs(jfk.samples).max() < 0.99


@pytest.mark.parametrize(
    ("container", "codec", "suffix", "source_format"),
    [
        ("ogg", "libopus", "ogg", "ogg"),
        ("webm", "libopus", "webm", "matroska,webm"),
        ("mp3", "libmp3lame", "mp3", "mp3"),
        ("ipod", "aac", "m4a", "mov,mp4,m4a,3gp,3g2,mj2"),
        ("mp4", "aac", "mp4", "mov,mp4,m4a,3gp,3g2,mj2"),
        ("wav", "pcm_s16le", "wav", "wav"),
    ],
)
def test_uploaded_formats_decode_to_the_same_recording(
    container: str,
    codec: str,
    suffix: str,
    source_format: str,
    jfk: DecodedAudio,
    tmp_path: Path,
) -> None:
    path = encode(jfk.samples, tmp_path / f"answer.{suffix}", container, codec)

    audio = decode_audio(path)

    assert audio.sample_rate == SAMPLE_RATE
    assert audio.source_format == source_format
    # AAC adds an encoder delay of a few tens of milliseconds.
    assert audio.duration == pytest.approx(jfk.duration, abs=0.1)
    assert _rms_db(audio.samples) == pytest.approx(_rms_db(jfk.samples), abs=1.5)


def test_zero_byte_file_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "answer.webm"
    path.write_bytes(b"")

    with pytest.raises(AudioError) as caught:
        decode_audio(path)

    assert caught.value.code == "empty"
    assert caught.value.message == "The file is empty."


def test_random_bytes_named_webm_are_not_audio(tmp_path: Path) -> None:
    path = tmp_path / "answer.webm"
    path.write_bytes(np.random.default_rng(7).bytes(50_000))

    with pytest.raises(AudioError) as caught:
        decode_audio(path)

    assert caught.value.code == "not_audio"


def test_video_without_sound_has_no_audio_track(tmp_path: Path) -> None:
    path = video_without_audio(tmp_path / "answer.mp4")

    with pytest.raises(AudioError) as caught:
        decode_audio(path)

    assert caught.value.code == "no_audio_track"
    assert caught.value.message == "The file contains no audio track."


def test_truncated_webm_yields_the_part_before_the_cut(jfk: DecodedAudio, tmp_path: Path) -> None:
    data = _webm_of(jfk, tmp_path)
    path = tmp_path / "cut.webm"
    path.write_bytes(data[: len(data) // 2])

    audio = decode_audio(path)

    assert 3.0 < audio.duration < jfk.duration - 3.0
    reference = jfk.samples[: audio.samples.size]
    assert _rms_db(audio.samples) == pytest.approx(_rms_db(reference), abs=1.5)


def test_garbled_middle_of_webm_keeps_the_rest(jfk: DecodedAudio, tmp_path: Path) -> None:
    data = bytearray(_webm_of(jfk, tmp_path))
    data[30_000:40_000] = np.random.default_rng(1).bytes(10_000)
    path = tmp_path / "garbled.webm"
    path.write_bytes(bytes(data))

    audio = decode_audio(path)

    assert audio.duration > 5.0


def test_webm_cut_before_any_audio_is_corrupt(jfk: DecodedAudio, tmp_path: Path) -> None:
    data = _webm_of(jfk, tmp_path)
    # Headers intact, the upload stopped a few bytes into the first block of sound.
    path = tmp_path / "cut.webm"
    path.write_bytes(data[: data.index(MATROSKA_CLUSTER_ID) + 8])

    with pytest.raises(AudioError) as caught:
        decode_audio(path)

    assert caught.value.code == "corrupt"


def test_clip_shorter_than_minimum_is_too_short(jfk: DecodedAudio, tmp_path: Path) -> None:
    path = encode(jfk.samples[: int(0.2 * SAMPLE_RATE)], tmp_path / "short.wav", "wav", "pcm_s16le")

    with pytest.raises(AudioError) as caught:
        decode_audio(path)

    assert caught.value.code == "too_short"


@pytest.mark.parametrize(
    "max_seconds",
    [
        pytest.param(5.0, id="refused-from-declared-duration"),
        pytest.param(10.5, id="refused-while-decoding"),
    ],
)
def test_file_over_max_seconds_is_too_long(
    max_seconds: float, jfk: DecodedAudio, tmp_path: Path
) -> None:
    path = encode(jfk.samples, tmp_path / "long.ogg", "ogg", "libopus")

    with pytest.raises(AudioError) as caught:
        decode_audio(path, max_seconds=max_seconds)

    assert caught.value.code == "too_long"


def test_multi_hour_file_is_refused_without_decoding(tmp_path: Path) -> None:
    three_hours = 3 * 3600 * SAMPLE_RATE * 2
    path = tmp_path / "marathon.wav"
    with path.open("wb") as f:
        f.write(_wav_header(three_hours))
        f.truncate(len(_wav_header(0)) + three_hours)  # sparse: 345 MB of silence, no disk

    started = time.perf_counter()
    with pytest.raises(AudioError) as caught:
        decode_audio(path)

    assert caught.value.code == "too_long"
    assert time.perf_counter() - started < 1.0


def test_missing_file_is_not_an_audio_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        decode_audio(tmp_path / "never-uploaded.webm")
