"""detect_speech on real speech, on silence and on noise."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from models.asr import SAMPLE_RATE, DecodedAudio, detect_speech
from tests.models.asr.media import synthetic, white_noise


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)


def test_speech_clip_has_speech_with_short_silent_edges(jfk: DecodedAudio) -> None:
    activity = detect_speech(jfk)

    assert activity.has_speech
    assert activity.speech_ratio > 0.5
    assert 0.0 < activity.leading_silence < 1.0
    assert activity.trailing_silence < 1.0
    assert activity.speech_seconds == pytest.approx(sum(r.end - r.start for r in activity.regions))


def test_silence_around_speech_is_measured(librispeech: DecodedAudio) -> None:
    padded = synthetic(np.concatenate([_silence(2.0), librispeech.samples, _silence(3.0)]))

    activity = detect_speech(padded)
    alone = detect_speech(librispeech)

    assert activity.leading_silence == pytest.approx(2.0 + alone.leading_silence, abs=0.1)
    assert activity.trailing_silence == pytest.approx(3.0 + alone.trailing_silence, abs=0.1)
    assert activity.speech_seconds == pytest.approx(alone.speech_seconds, abs=0.3)


def test_regions_are_ordered_merged_and_free_of_blips(librispeech: DecodedAudio) -> None:
    activity = detect_speech(librispeech, min_region_ms=150, merge_gap_ms=300)

    regions = activity.regions
    assert all(r.end - r.start >= 0.15 for r in regions)
    assert all(b.start - a.end >= 0.3 for a, b in pairwise(regions))
    assert all(0.0 <= r.start < r.end <= librispeech.duration for r in regions)


def test_minute_of_silence_has_no_speech() -> None:
    activity = detect_speech(synthetic(_silence(60.0)))

    assert not activity.has_speech
    assert activity.regions == ()
    assert activity.leading_silence == activity.trailing_silence == 60.0


@pytest.mark.parametrize("rms", [0.01, 0.05, 0.2])
def test_minute_of_white_noise_has_no_speech(rms: float) -> None:
    activity = detect_speech(synthetic(white_noise(60.0, rms)))

    assert not activity.has_speech
    assert activity.speech_ratio < 0.01


def test_speech_in_a_noisy_room_is_still_found(librispeech: DecodedAudio) -> None:
    noise = white_noise(librispeech.duration, 0.02)[: librispeech.samples.size]
    noisy = librispeech.samples + noise

    activity = detect_speech(synthetic(noisy))

    assert activity.has_speech
    assert activity.speech_ratio > 0.3


@pytest.mark.parametrize(("option", "value"), [("frame_ms", 25), ("aggressiveness", 4)])
def test_settings_webrtcvad_cannot_use_are_refused(
    option: str, value: int, jfk: DecodedAudio
) -> None:
    with pytest.raises(ValueError, match=option):
        detect_speech(jfk, **{option: value})
