"""Transcription benchmark: a peer's plain faster-whisper call against Parley's pipeline.

Builds a 15-minute answer set from real speech (and a copy under background noise), then
transcribes it in fresh child processes, one per variant, so that load time, wall and CPU
time, and peak memory belong to that variant alone::

    python -m models.asr.benchmark [--data ../shared/data/speech] [--minutes 15]
        [--model base] [--quick] [--explore] [--only TEXT] [--workers N]

(a) is what a peer would write: ``WhisperModel(folder, device="cpu", compute_type="int8")
.transcribe(path, beam_size=5)``, no VAD. (b) is ``decode_audio`` -> ``detect_speech`` ->
``Transcriber.transcribe`` with ``WhisperOptions``' defaults. Both use the same model folder.
``--explore`` runs the grid of decoding setups that chose those defaults.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import multiprocessing
import os
import queue
import re
import sys
import tempfile
import time
import wave
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jiwer
import numpy as np

from models.asr.audio import SAMPLE_RATE, decode_audio
from models.asr.vad import detect_speech
from models.asr.whisper import Transcriber, WhisperOptions, resolve_model_dir

TARGET_SPEEDUP = 2.5
TARGET_WER_POINTS = 0.5
TARGET_WALL_S = 30.0
TARGET_PEAK_MB = 1536.0
CORES = 2
NOISE_SNR_DB = 12.0
ANSWER_SECONDS = 120.0

# The setups compared by --explore; each label is a row of docs/performance.md.
EXPLORE: dict[str, dict[str, Any]] = {
    "beam5 seq silero t4 (old default)": {"beam_size": 5},
    "beam5 seq silero t2": {"beam_size": 5, "cpu_threads": 2},
    "beam1 seq silero t2": {"beam_size": 1, "cpu_threads": 2},
    "beam5 seq webrtc t2": {"beam_size": 5, "cpu_threads": 2, "vad_model": "webrtc"},
    "beam1 seq webrtc t2": {"beam_size": 1, "cpu_threads": 2, "vad_model": "webrtc"},
    "beam5 batch8 silero t2": {"beam_size": 5, "batch_size": 8, "cpu_threads": 2},
    "beam1 batch8 silero t2": {"beam_size": 1, "batch_size": 8, "cpu_threads": 2},
    "beam5 batch8 webrtc t2": {
        "beam_size": 5, "batch_size": 8, "cpu_threads": 2, "vad_model": "webrtc",
    },
    "beam2 batch8 webrtc t2": {
        "beam_size": 2, "batch_size": 8, "cpu_threads": 2, "vad_model": "webrtc",
    },
    "beam1 batch4 webrtc t2": {
        "beam_size": 1, "batch_size": 4, "cpu_threads": 2, "vad_model": "webrtc",
    },
    "beam1 batch8 webrtc t2": {
        "beam_size": 1, "batch_size": 8, "cpu_threads": 2, "vad_model": "webrtc",
    },
    "beam1 batch16 webrtc t2": {
        "beam_size": 1, "batch_size": 16, "cpu_threads": 2, "vad_model": "webrtc",
    },
    "beam1 batch8 webrtc t2 no-ts": {
        "beam_size": 1, "batch_size": 8, "cpu_threads": 2, "vad_model": "webrtc",
        "without_timestamps": True,
    },
    "beam1 batch8 webrtc t4": {"beam_size": 1, "batch_size": 8, "vad_model": "webrtc"},
    "beam1 batch8 webrtc 2 procs x t1": {
        "beam_size": 1, "batch_size": 8, "cpu_threads": 1, "vad_model": "webrtc", "workers": 2,
    },
}


@dataclass(frozen=True)
class Utterance:
    """One recorded sentence placed in an answer set, times in seconds."""

    start: float
    end: float
    text: str
    group: str


@dataclass(frozen=True)
class AnswerSet:
    name: str
    path: Path
    duration: float
    utterances: tuple[Utterance, ...]

    @property
    def reference(self) -> str:
        return " ".join(u.text for u in self.utterances)


@dataclass(frozen=True)
class Job:
    """What one child process does: load a model, then transcribe one file."""

    wav: str
    peer_model_dir: str | None = None
    options: WhisperOptions | None = None


@dataclass(frozen=True)
class Run:
    load_s: float
    load_peak_mb: float
    wall_s: float
    cpu_s: float
    peak_mb: float
    load_avg: float
    text: str
    words: tuple[tuple[float, float, str], ...] = field(default=())


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    data = Path(args.data)
    if not (data / "speechocean762" / "manifest.csv").is_file():
        print(f"No speech data at {data.resolve()}: this benchmark needs ../shared/data/speech "
              "(speechocean762/ and clips/ with their manifest.csv); pass --data.",
              file=sys.stderr)
        return 2
    minutes = 2.0 if args.quick else args.minutes
    model_dir = str(resolve_model_dir(WhisperOptions(model=args.model)))
    print(f"machine: {os.cpu_count()} CPUs, load {_load():.2f}; model {model_dir}")
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as folder:
        sets = build_answer_sets(data, minutes=minutes, folder=Path(folder), seed=args.seed)
        for answer_set in sets:
            print(f"{answer_set.name}: {answer_set.duration / 60:.2f} min, "
                  f"{len(answer_set.utterances)} sentences")
        peer = {s.name: _run_one(Job(wav=str(s.path), peer_model_dir=model_dir)) for s in sets}
        if args.explore:
            _explore(sets, peer, args)
            return 0
        options = WhisperOptions(model=args.model)
        ours = {s.name: _run_one(Job(wav=str(s.path), options=options)) for s in sets}
        print(f"\n(b) = {Transcriber.__name__} with {_describe_options(options)}\n")
        passed = _report(sets, peer, ours)
        _report_throughput(sets[0], options, args.workers)
        _report_groups(sets[0], ours[sets[0].name])
    return 0 if passed else 1


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m models.asr.benchmark", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data/speech", help="real speech folder")
    parser.add_argument("--minutes", type=float, default=15.0, help="length of an answer set")
    parser.add_argument("--model", default="base", help="WhisperOptions.model")
    parser.add_argument("--quick", action="store_true", help="about 2 minutes: a smoke run")
    parser.add_argument("--seed", type=int, default=762)
    parser.add_argument("--explore", action="store_true", help="compare the decoding setups")
    parser.add_argument("--only", default="", help="with --explore: labels containing this")
    parser.add_argument("--workers", type=int, default=1,
                        help=f"worker processes sharing the {CORES} cores for throughput")
    return parser.parse_args(argv)


# Answer sets.


def build_answer_sets(
    data: Path, *, minutes: float, folder: Path, seed: int
) -> tuple[AnswerSet, AnswerSet]:
    """A clean and a noisy answer set, written as 16 kHz WAV files in ``folder``."""
    rng = np.random.default_rng(seed)
    recordings = _recordings(data)
    pieces: list[np.ndarray] = []
    placed: list[Utterance] = []
    position = answer_start = 0
    limit = int(minutes * 60 * SAMPLE_RATE)
    while True:
        for index in rng.permutation(len(recordings)):
            samples, text, group = recordings[index]
            new_answer = position - answer_start >= ANSWER_SECONDS * SAMPLE_RATE
            pause = int((rng.uniform(3.0, 6.0) if new_answer else rng.uniform(0.8, 3.0))
                        * SAMPLE_RATE)
            if position + pause + samples.size > limit:
                return _write_sets(np.concatenate(pieces), tuple(placed), folder, rng)
            answer_start = position if new_answer else answer_start
            pieces += [np.zeros(pause, dtype=np.float32), samples]
            position += pause
            placed.append(Utterance(position / SAMPLE_RATE,
                                    (position + samples.size) / SAMPLE_RATE, text, group))
            position += samples.size


def _recordings(data: Path) -> list[tuple[np.ndarray, str, str]]:
    """Every single-speaker recording with its reference text and speaker group."""
    found = []
    with (data / "speechocean762" / "manifest.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            age = "child" if int(row["age"]) < 18 else "adult"
            gender = {"f": "female", "m": "male"}[row["gender"]]
            audio = decode_audio(data / "speechocean762" / row["file"])
            found.append((audio.samples, row["text"], f"Mandarin L1 {age} {gender}"))
    with (data / "clips" / "manifest.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            # Overlapping talkers and split stereo channels have no single reference.
            if row["reference_quality"] == "exact":
                audio = decode_audio(data / "clips" / row["file"])
                found.append((audio.samples, row["text"], "native English (JFK, LibriSpeech)"))
    return found


def _write_sets(
    speech: np.ndarray, placed: tuple[Utterance, ...], folder: Path, rng: np.random.Generator
) -> tuple[AnswerSet, AnswerSet]:
    speaking = np.zeros(speech.size, dtype=bool)
    for u in placed:
        speaking[int(u.start * SAMPLE_RATE) : int(u.end * SAMPLE_RATE)] = True
    speech_power = float(np.mean(speech[speaking] ** 2))
    # A faint room tone keeps the pauses from being digital silence, which no microphone gives.
    clean = speech + _scaled(_pink(speech.size, rng), speech_power, snr_db=45.0)
    noise = _pink(speech.size, rng) + _babble(speech, placed, rng)
    noisy = clean + _scaled(noise, speech_power, snr_db=NOISE_SNR_DB)
    duration = speech.size / SAMPLE_RATE
    return (
        AnswerSet("clean", _write_wav(folder / "clean.wav", clean), duration, placed),
        AnswerSet(f"noisy {NOISE_SNR_DB:g} dB", _write_wav(folder / "noisy.wav", noisy),
                  duration, placed),
    )


def _pink(size: int, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(size))
    spectrum /= np.sqrt(np.maximum(np.fft.rfftfreq(size, 1 / SAMPLE_RATE), 20.0))
    pink = np.fft.irfft(spectrum, n=size)
    return (pink / np.sqrt(np.mean(pink**2))).astype(np.float32)


def _babble(speech: np.ndarray, placed: Sequence[Utterance], rng: np.random.Generator,
            talkers: int = 6) -> np.ndarray:
    """Several talkers at once, time-reversed so that no word in it can be recognised."""
    sentences = [speech[int(u.start * SAMPLE_RATE) : int(u.end * SAMPLE_RATE)][::-1]
                 for u in placed]
    babble = np.zeros(speech.size, dtype=np.float32)
    for _ in range(talkers):
        stream = np.concatenate([sentences[i] for i in rng.permutation(len(sentences))])
        stream = np.resize(stream, speech.size)
        babble += stream / (np.sqrt(np.mean(stream**2)) + 1e-9)
    return babble / np.sqrt(np.mean(babble**2))


def _scaled(noise: np.ndarray, speech_power: float, *, snr_db: float) -> np.ndarray:
    return noise * np.float32(np.sqrt(speech_power / np.mean(noise**2) / 10 ** (snr_db / 10)))


def _write_wav(path: Path, samples: np.ndarray) -> Path:
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm.tobytes())
    return path


# Child processes.


def run_jobs(jobs: Sequence[Job]) -> list[Run]:
    """Runs each job in its own fresh process, all starting to transcribe at once."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(jobs))
    results = context.Queue()
    workers = [context.Process(target=_child, args=(job, barrier, results)) for job in jobs]
    for worker in workers:
        worker.start()
    runs: list[Run | str] = []
    while len(runs) < len(jobs):
        try:
            runs.append(results.get(timeout=5))
        except queue.Empty:
            if not all(w.is_alive() for w in workers):
                runs.append("a benchmark process died without a result")
    for worker in workers:
        worker.join(timeout=30)
    failed = [r for r in runs if isinstance(r, str)]
    if failed:
        raise RuntimeError(failed[0])
    return [r for r in runs if isinstance(r, Run)]


def _run_one(job: Job) -> Run:
    return run_jobs([job])[0]


def _child(job: Job, barrier: Any, results: Any) -> None:
    try:
        results.put(_transcribe(job, barrier))
    except Exception as exc:  # reported to the parent, which raises it
        barrier.abort()
        results.put(f"{type(exc).__name__}: {exc}")


def _transcribe(job: Job, barrier: Any) -> Run:
    started = time.perf_counter()
    if job.peer_model_dir is not None:
        os.environ["HF_HUB_OFFLINE"] = "1"
        from faster_whisper import WhisperModel

        model = WhisperModel(job.peer_model_dir, device="cpu", compute_type="int8")
    else:
        assert job.options is not None
        transcriber = Transcriber(job.options)
    load_s, load_peak = time.perf_counter() - started, _peak_mb()
    barrier.wait()
    load_avg, cpu, wall = _load(), time.process_time(), time.perf_counter()
    words: tuple[tuple[float, float, str], ...] = ()
    if job.peer_model_dir is not None:
        segments, _ = model.transcribe(job.wav, beam_size=5)
        text = " ".join(s.text.strip() for s in segments)
    else:
        audio = decode_audio(job.wav)
        result = transcriber.transcribe(audio, activity=detect_speech(audio))
        text, words = result.text, tuple((w.start, w.end, w.text) for w in result.words)
    return Run(load_s=load_s, load_peak_mb=load_peak, wall_s=time.perf_counter() - wall,
               cpu_s=time.process_time() - cpu, peak_mb=_peak_mb(), load_avg=load_avg,
               text=text, words=words)


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _load() -> float:
    return os.getloadavg()[0]


# Scoring and reports.


def normalise(text: str) -> str:
    """Lower case, no punctuation but apostrophes, single spaces."""
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def word_error_rate(reference: str, hypothesis: str) -> float:
    return float(jiwer.wer(normalise(reference), normalise(hypothesis)))


def group_word_error_rates(answer_set: AnswerSet, run: Run) -> dict[str, tuple[float, int]]:
    """WER and reference word count per speaker group, words assigned by their timing."""
    bounds = [(a.end + b.start) / 2 for a, b in zip(answer_set.utterances,
                                                    answer_set.utterances[1:], strict=False)]
    heard: list[list[str]] = [[] for _ in answer_set.utterances]
    for start, end, text in run.words:
        heard[int(np.searchsorted(bounds, (start + end) / 2))].append(text)
    pairs: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for utterance, words in zip(answer_set.utterances, heard, strict=True):
        pairs[utterance.group][0].append(normalise(utterance.text))
        pairs[utterance.group][1].append(normalise(" ".join(words)))
    return {group: (float(jiwer.wer(refs, hyps)), sum(len(r.split()) for r in refs))
            for group, (refs, hyps) in sorted(pairs.items())}


def _row(label: str, answer_set: AnswerSet, run: Run, wer: float) -> str:
    minutes = answer_set.duration / 60
    return (f"| {label} | {minutes:.1f} | {run.load_s:.1f} | {run.wall_s:.1f} | {run.cpu_s:.0f}"
            f" | {run.wall_s / answer_set.duration:.3f} | {wer * 100:.1f} | {run.peak_mb:.0f}"
            f" | {run.load_avg:.1f} |")


_HEADER = ("| set / variant | audio min | load s | wall s | CPU s | RTF | WER % | peak MB | load |\n"
           "|---|---|---|---|---|---|---|---|---|")


def _report(sets: Sequence[AnswerSet], peer: dict[str, Run], ours: dict[str, Run]) -> bool:
    print(_HEADER)
    checks: list[tuple[str, bool]] = []
    for s in sets:
        a, b = peer[s.name], ours[s.name]
        wer_a, wer_b = word_error_rate(s.reference, a.text), word_error_rate(s.reference, b.text)
        print(_row(f"{s.name} (a) peer", s, a, wer_a))
        print(_row(f"{s.name} (b) Parley", s, b, wer_b))
        speedup, points = a.wall_s / b.wall_s, (wer_b - wer_a) * 100
        print(f"| {s.name}: a/b | | | {speedup:.2f}x | {a.cpu_s / b.cpu_s:.2f}x | | "
              f"{points:+.2f} pts | | |")
        minutes_15 = b.wall_s * 900 / s.duration
        checks += [
            (f"{s.name}: (b) >= {TARGET_SPEEDUP}x faster than (a): {speedup:.2f}x",
             speedup >= TARGET_SPEEDUP),
            (f"{s.name}: WER no more than {TARGET_WER_POINTS} points worse: {points:+.2f}",
             points <= TARGET_WER_POINTS),
            (f"{s.name}: 15 min in under {TARGET_WALL_S:.0f} s: {minutes_15:.1f} s",
             minutes_15 < TARGET_WALL_S),
            (f"{s.name}: peak worker memory under {TARGET_PEAK_MB:.0f} MB: {b.peak_mb:.0f} MB",
             b.peak_mb < TARGET_PEAK_MB),
        ]
    print()
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    return all(ok for _, ok in checks)


def _report_throughput(answer_set: AnswerSet, options: WhisperOptions, workers: int) -> None:
    threads = max(CORES // workers, 1)
    if workers > 1:
        options = dataclasses.replace(options, cpu_threads=threads)
    runs = run_jobs([Job(wav=str(answer_set.path), options=options)] * workers)
    wall = max(r.wall_s for r in runs) * 900 / answer_set.duration
    print(f"\nthroughput, {workers} worker process(es) x {options.cpu_threads or 'default'} "
          f"threads on {CORES} cores: {workers * 3600 / wall:.0f} fifteen-minute interviews/hour "
          f"(each in {wall:.1f} s, peak {max(r.peak_mb for r in runs):.0f} MB per process)")


def _report_groups(answer_set: AnswerSet, run: Run) -> None:
    print(f"\nWER of (b) by speaker group, {answer_set.name} set:\n"
          "| speaker group | reference words | WER % |\n|---|---|---|")
    for group, (wer, words) in group_word_error_rates(answer_set, run).items():
        print(f"| {group} | {words} | {wer * 100:.1f} |")


def _explore(sets: Sequence[AnswerSet], peer: dict[str, Run], args: argparse.Namespace) -> None:
    print(_HEADER.replace("| load |", "| load | a/b speed | WER vs a |").replace(
        "|---|\n", "|---|---|---|\n").rstrip())
    for s in sets:
        wer_a = word_error_rate(s.reference, peer[s.name].text)
        print(_row(f"{s.name} (a) peer beam5 novad t4", s, peer[s.name], wer_a) + " | |")
    for label, settings in EXPLORE.items():
        if args.only not in label:
            continue
        settings = dict(settings)
        workers = settings.pop("workers", 1)
        options = WhisperOptions(model=args.model, **settings)
        for s in sets:
            runs = run_jobs([Job(wav=str(s.path), options=options)] * workers)
            # Several processes on the same cores: the time per interview is the wall of the
            # slowest divided by how many ran at once.
            run = dataclasses.replace(max(runs, key=lambda r: r.wall_s),
                                      wall_s=max(r.wall_s for r in runs) / workers)
            wer_a = word_error_rate(s.reference, peer[s.name].text)
            wer = word_error_rate(s.reference, run.text)
            print(_row(f"{s.name} {label}", s, run, wer)
                  + f" {peer[s.name].wall_s / run.wall_s:.2f}x | {(wer - wer_a) * 100:+.2f} |",
                  flush=True)


def _describe_options(options: WhisperOptions) -> str:
    return ", ".join(f"{f.name}={getattr(options, f.name)!r}"
                     for f in dataclasses.fields(options) if f.name != "cache_dir")


if __name__ == "__main__":
    sys.exit(main())
