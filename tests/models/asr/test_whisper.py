"""Model resolution and real Whisper transcription (tiny.en for speed, base once)."""

from __future__ import annotations

import hashlib
import re
from itertools import pairwise
from pathlib import Path

import jiwer
import numpy as np
import pytest

from models.asr import (
    BASE_MODEL_SHA256,
    SAMPLE_RATE,
    DecodedAudio,
    ModelIntegrityError,
    Transcriber,
    WhisperOptions,
    detect_speech,
    resolve_model_dir,
)
from models.asr.whisper import BASE_MODEL_SIZE, _assemble, _SplitModel
from tests.models.asr.media import JFK, LIBRISPEECH, synthetic

MAX_WER = 0.10


def _normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def _wer(reference: str, hypothesis: str) -> float:
    return float(jiwer.wer(_normalise(reference), _normalise(hypothesis)))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@pytest.fixture(scope="module")
def tiny() -> Transcriber:
    return Transcriber(WhisperOptions(model="tiny.en"))


@pytest.fixture(scope="module")
def clips(jfk: DecodedAudio, librispeech: DecodedAudio) -> dict[str, DecodedAudio]:
    return {JFK: jfk, LIBRISPEECH: librispeech}


@pytest.mark.slow
@pytest.mark.parametrize("name", [JFK, LIBRISPEECH])
def test_tiny_en_transcribes_reference_clips_within_wer(
    name: str,
    tiny: Transcriber,
    clips: dict[str, DecodedAudio],
    manifest: dict[str, dict[str, str]],
) -> None:
    audio = clips[name]

    result = tiny.transcribe(audio, activity=detect_speech(audio))

    assert _wer(manifest[name]["text"], result.text) <= MAX_WER
    assert result.language == "en"
    assert result.duration == audio.duration
    assert result.asr_version == tiny.asr_version


@pytest.mark.slow
def test_words_are_timed_in_order_inside_the_recording(
    tiny: Transcriber, librispeech: DecodedAudio
) -> None:
    result = tiny.transcribe(librispeech)

    words = result.words
    assert len(words) >= 30
    assert all(0.0 <= w.start <= w.end <= librispeech.duration for w in words)
    assert all(a.start <= b.start for a, b in pairwise(words))
    assert all(w.text == w.text.strip() and w.text for w in words)
    assert all(0.0 <= w.probability <= 1.0 for w in words)
    assert " ".join(s.text for s in result.segments) == result.text


@pytest.mark.slow
def test_silence_with_its_activity_gives_an_empty_transcript(tiny: Transcriber) -> None:
    silence = synthetic(np.zeros(10 * SAMPLE_RATE, dtype=np.float32))

    result = tiny.transcribe(silence, activity=detect_speech(silence))

    assert result.text == ""
    assert result.segments == () and result.words == ()
    assert result.duration == 10.0


@pytest.mark.slow
def test_silence_gives_an_empty_transcript_even_without_activity(tiny: Transcriber) -> None:
    silence = synthetic(np.zeros(10 * SAMPLE_RATE, dtype=np.float32))

    assert tiny.transcribe(silence).text == ""


@pytest.mark.slow
def test_asr_version_names_the_model_and_decoding_options(tiny: Transcriber) -> None:
    assert tiny.asr_version == "faster-whisper 1.2.1/whisper-tiny.en/int8/beam5/vad/en"


def test_tiny_en_resolves_to_the_packaged_folder() -> None:
    folder = resolve_model_dir(WhisperOptions(model="tiny.en"))

    assert (folder / "model.bin").is_file()
    assert (folder / "tokenizer.json").is_file()


def test_folder_without_a_tokenizer_is_refused(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"\0")
    (tmp_path / "config.json").write_text("{}")

    with pytest.raises(ValueError, match=r"tokenizer\.json"):
        resolve_model_dir(WhisperOptions(model=str(tmp_path)))


def test_unknown_model_name_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown Whisper model 'large-v9'"):
        resolve_model_dir(WhisperOptions(model="large-v9"))


def test_base_is_assembled_once_and_matches_the_pinned_hash(tmp_path: Path) -> None:
    options = WhisperOptions(model="base", cache_dir=str(tmp_path))

    folder = resolve_model_dir(options)
    again = resolve_model_dir(options)

    model_bin = folder / "model.bin"
    assert folder == again == tmp_path / "whisper-base"
    assert _sha256(model_bin) == BASE_MODEL_SHA256
    assert (folder / "ASSEMBLED.sha256").read_text().strip() == BASE_MODEL_SHA256
    names = {p.name for p in folder.iterdir()}
    assert {"config.json", "tokenizer.json", "vocabulary.json"} <= names
    assert [p.name for p in tmp_path.iterdir()] == ["whisper-base"]  # no staging left over


def test_damaged_assembled_base_is_assembled_again(tmp_path: Path) -> None:
    # Chosen behaviour: a cache that fails the cheap check (marker, sizes) is rebuilt from
    # the installed packages, not reported; only the packages themselves failing the hash
    # is an error (next test).
    options = WhisperOptions(model="base", cache_dir=str(tmp_path))
    model_bin = resolve_model_dir(options) / "model.bin"
    with model_bin.open("r+b") as f:
        f.truncate(BASE_MODEL_SIZE // 2)

    folder = resolve_model_dir(options)

    assert (folder / "model.bin").stat().st_size == BASE_MODEL_SIZE
    assert _sha256(folder / "model.bin") == BASE_MODEL_SHA256


def test_parts_that_do_not_match_the_pinned_hash_are_refused(tmp_path: Path) -> None:
    parts = (tmp_path / "model.bin.part1", tmp_path / "model.bin.part2")
    for part in parts:
        part.write_bytes(b"not whisper")
    (tmp_path / "config.json").write_text("{}")
    tampered = _SplitModel(
        name="whisper-base",
        parts=parts,
        extra_files=(tmp_path / "config.json",),
        sha256=BASE_MODEL_SHA256,
        size=BASE_MODEL_SIZE,
    )
    cache = tmp_path / "cache"

    with pytest.raises(ModelIntegrityError, match="SHA-256"):
        _assemble(tampered, cache)

    assert list(cache.iterdir()) == []


@pytest.mark.slow
def test_base_transcribes_jfk(tmp_path: Path, jfk: DecodedAudio, manifest: dict) -> None:
    transcriber = Transcriber(WhisperOptions(model="base", cache_dir=str(tmp_path)))

    result = transcriber.transcribe(jfk)

    assert _wer(manifest[JFK]["text"], result.text) <= MAX_WER
    assert transcriber.asr_version == "faster-whisper 1.2.1/whisper-base/int8/beam5/vad/en"


@pytest.mark.slow
@pytest.mark.parametrize("name", [JFK, LIBRISPEECH])
def test_the_batched_webrtc_setup_transcribes_within_wer_in_recording_time(
    name: str, clips: dict[str, DecodedAudio], manifest: dict[str, dict[str, str]]
) -> None:
    # The throughput setup (docs/performance.md): speech cut out by webrtcvad, laid end to end,
    # decoded greedily in batches; words must come back timed in the original recording.
    transcriber = Transcriber(
        WhisperOptions(model="tiny.en", beam_size=1, batch_size=4, vad_model="webrtc")
    )
    audio = clips[name]
    padded = synthetic(np.concatenate([np.zeros(3 * SAMPLE_RATE, dtype=np.float32),
                                       audio.samples]))
    activity = detect_speech(padded)

    result = transcriber.transcribe(padded, activity=activity)

    assert _wer(manifest[name]["text"], result.text) <= MAX_WER
    assert transcriber.asr_version.endswith("/beam1/batch4/webrtcvad/en")
    starts = [w.start for w in result.words]
    assert starts == sorted(starts)
    first_speech = activity.regions[0].start
    assert result.words[0].start >= first_speech - 0.5  # the 3 s of silence is not skipped over
    assert all(w.end <= padded.duration for w in result.words)
