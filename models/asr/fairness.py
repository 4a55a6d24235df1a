"""Transcription word error rate by speaker group, so that an ASR change can be judged for fairness.

Transcribes every clip of speechocean762 (read English sentences by Mandarin-L1 adults and
children) with Parley's own path, ``decode_audio`` -> ``detect_speech`` ->
``Transcriber.transcribe``, and reports the pooled WER of each speaker group::

    python -m models.asr.fairness [--data ../shared/data/speech/speechocean762] [--model base]
        [--compare KEY=VALUE ...] [--json OUT] [--resamples 2000] [--seed 762]

The first configuration is the worker's default (``WhisperOptions`` with ``--model``, which is
what the ``PARLEY_ASR_*`` settings default to). ``--compare`` runs a second one with the given
changes, e.g. ``--compare beam_size=1 batch_size=4 vad=webrtc cpu_threads=2``, and shows the
change per group. Keys are ``WhisperOptions`` fields, ``vad`` for ``vad_model``, or the
worker's setting names (``PARLEY_ASR_BEAM_SIZE=1``).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jiwer
import numpy as np

from models.asr.audio import decode_audio
from models.asr.benchmark import normalise
from models.asr.vad import detect_speech
from models.asr.whisper import Transcriber, WhisperOptions

CHILD_UNDER = 18
"""Speakers younger than this are children (speechocean762's are 6-15, its adults 19-43)."""
GENDERS = {"f": "female", "m": "male"}
CELLS = ("female adult", "female child", "male adult", "male child")
GROUPS = ("all", "female", "male", "adult", "child", *CELLS)
# Each gap compares the groups of one dimension: the worst minus the best.
DIMENSIONS = {"gender": ("female", "male"), "age": ("adult", "child"), "gender x age": CELLS}
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
FOOTER = (
    "Reference: the prompt each speaker read, not a verbatim transcript; a few speakers skip or "
    "repeat words, and those count as errors of the recogniser. Child: under {cut} (ages {kids} "
    "here), adult: {cut} and over (ages {adults}). WER is pooled: a group's word errors over its "
    "reference words, after lower-casing, removing punctuation and reading numerals digit by "
    "digit (the children's prompts include digit strings such as NINE THREE TWO). "
    "95% CI: percentile bootstrap over speakers ({resamples} resamples, seed {seed}), drawn "
    "within each gender x age cell, the same draws for both configurations; a speaker's two "
    "clips stay together."
)


@dataclass(frozen=True)
class Clip:
    """One recorded sentence and who read it."""

    file: str
    speaker: str
    gender: str
    age: int
    reference: str

    @property
    def age_group(self) -> str:
        return "child" if self.age < CHILD_UNDER else "adult"

    @property
    def cell(self) -> str:
        return f"{self.gender} {self.age_group}"


@dataclass(frozen=True)
class ClipResult:
    """A clip's transcript and its word errors against the reference, both normalised."""

    clip: Clip
    hypothesis: str
    errors: int
    reference_words: int


@dataclass(frozen=True)
class GroupWer:
    group: str
    speakers: int
    clips: int
    reference_words: int
    errors: int
    wer: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class Gap:
    """The worst group of a dimension minus its best, in WER (a fraction, not points)."""

    dimension: str
    worst: str
    best: str
    difference: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class FairnessReport:
    label: str
    asr_version: str
    seconds: float
    groups: tuple[GroupWer, ...]
    gaps: tuple[Gap, ...]
    clips: tuple[ClipResult, ...]

    def group(self, name: str) -> GroupWer:
        return next(g for g in self.groups if g.group == name)


@dataclass(frozen=True)
class GroupChange:
    """WER of the second configuration minus the first, for one group, paired by speaker."""

    group: str
    before: float
    after: float
    change: float
    ci_low: float
    ci_high: float


def load_clips(folder: Path) -> list[Clip]:
    """The clips of a speechocean762-style folder (manifest.csv: file, speaker, gender, age, text)."""
    with (folder / "manifest.csv").open(newline="", encoding="utf-8") as f:
        return [
            Clip(file=row["file"], speaker=row["speaker"], gender=GENDERS[row["gender"]],
                 age=int(row["age"]), reference=row["text"])
            for row in csv.DictReader(f)
        ]


def comparable(text: str) -> str:
    """``normalise``d, numerals read digit by digit: Whisper writes "9 3 2" for NINE THREE TWO."""
    return normalise(re.sub(r"[0-9]", lambda digit: f" {DIGITS[int(digit[0])]} ", text))


def score_clip(clip: Clip, hypothesis: str) -> ClipResult:
    """Counts substitutions, deletions and insertions against the clip's reference."""
    reference, hypothesis = comparable(clip.reference), comparable(hypothesis)
    words = jiwer.process_words(reference, hypothesis)
    return ClipResult(
        clip=clip,
        hypothesis=hypothesis,
        errors=words.substitutions + words.deletions + words.insertions,
        reference_words=words.hits + words.substitutions + words.deletions,
    )


def transcribe_clips(
    clips: Sequence[Clip], folder: Path, transcriber: Transcriber
) -> list[ClipResult]:
    """Transcribes each clip as the worker transcribes an answer, and scores it."""
    results = []
    for clip in clips:
        audio = decode_audio(folder / clip.file)
        transcription = transcriber.transcribe(audio, activity=detect_speech(audio))
        results.append(score_clip(clip, transcription.text))
    return results


def summarise(
    results: Sequence[ClipResult], *, resamples: int = 2000, seed: int = 762,
    label: str = "", asr_version: str = "", seconds: float = 0.0,
) -> FairnessReport:
    """Pooled WER, counts and a speaker-bootstrap 95% interval for every group, and the gaps."""
    replicates = _replicate_wers(results, _draws(results, resamples, seed))
    groups = []
    for name in GROUPS:
        members = [r for r in results if name in _groups_of(r.clip)]
        errors, words = sum(r.errors for r in members), sum(r.reference_words for r in members)
        low, high = _interval(replicates[name])
        groups.append(GroupWer(
            group=name, speakers=len({r.clip.speaker for r in members}), clips=len(members),
            reference_words=words, errors=errors, wer=errors / words if words else float("nan"),
            ci_low=low, ci_high=high,
        ))
    point = {g.group: g.wer for g in groups if g.reference_words}
    gaps = []
    for dimension, names in DIMENSIONS.items():
        present = [n for n in names if n in point]
        if len(present) < 2:
            continue
        worst, best = max(present, key=point.__getitem__), min(present, key=point.__getitem__)
        low, high = _interval(replicates[worst] - replicates[best])
        gaps.append(Gap(dimension=dimension, worst=worst, best=best,
                        difference=point[worst] - point[best], ci_low=low, ci_high=high))
    return FairnessReport(label=label, asr_version=asr_version, seconds=seconds,
                          groups=tuple(groups), gaps=tuple(gaps), clips=tuple(results))


def compare(
    before: FairnessReport, after: FairnessReport, *, resamples: int = 2000, seed: int = 762
) -> tuple[GroupChange, ...]:
    """Per-group change from ``before`` to ``after``, both runs resampled with the same speakers."""
    if [r.clip for r in before.clips] != [r.clip for r in after.clips]:
        raise ValueError("The two reports must cover the same clips in the same order")
    draws = _draws(before.clips, resamples, seed)
    first, second = _replicate_wers(before.clips, draws), _replicate_wers(after.clips, draws)
    changes = []
    for name in GROUPS:
        low, high = _interval(second[name] - first[name])
        a, b = before.group(name).wer, after.group(name).wer
        changes.append(GroupChange(group=name, before=a, after=b, change=b - a,
                                   ci_low=low, ci_high=high))
    return tuple(changes)


def _groups_of(clip: Clip) -> tuple[str, ...]:
    return ("all", clip.gender, clip.age_group, clip.cell)


def _speaker_totals(results: Sequence[ClipResult]) -> dict[str, dict[str, tuple[int, int]]]:
    """Per cell, each speaker's summed (errors, reference words), speakers in sorted order."""
    totals: dict[str, dict[str, tuple[int, int]]] = {cell: {} for cell in CELLS}
    for r in sorted(results, key=lambda r: r.clip.speaker):
        errors, words = totals[r.clip.cell].get(r.clip.speaker, (0, 0))
        totals[r.clip.cell][r.clip.speaker] = (errors + r.errors, words + r.reference_words)
    return totals


def _draws(results: Sequence[ClipResult], resamples: int, seed: int) -> dict[str, np.ndarray]:
    """For each cell, ``resamples`` rows of speaker positions drawn with replacement."""
    rng = np.random.default_rng(seed)
    totals = _speaker_totals(results)
    return {cell: rng.integers(0, max(len(totals[cell]), 1), size=(resamples, len(totals[cell])))
            for cell in CELLS}


def _replicate_wers(
    results: Sequence[ClipResult], draws: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Each group's pooled WER in every bootstrap resample."""
    errors, words = {}, {}
    for cell, speakers in _speaker_totals(results).items():
        counts = np.array(list(speakers.values()), dtype=np.int64).reshape(-1, 2)
        errors[cell] = counts[draws[cell], 0].sum(axis=1)
        words[cell] = counts[draws[cell], 1].sum(axis=1)
    wers = {}
    for name in GROUPS:
        cells = [c for c in CELLS if name in ("all", c) or name in c.split()]
        with np.errstate(invalid="ignore", divide="ignore"):
            wers[name] = sum(errors[c] for c in cells) / sum(words[c] for c in cells)
    return wers


def _interval(replicates: np.ndarray) -> tuple[float, float]:
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return float("nan"), float("nan")
    low, high = np.percentile(finite, [2.5, 97.5])
    return float(low), float(high)


# Configurations.

_PARSERS: dict[str, Callable[[str], Any]] = {
    "model": str,
    "device": str,
    "compute_type": str,
    "beam_size": int,
    "batch_size": int,
    "cpu_threads": int,
    "language": lambda v: None if v.lower() in ("", "auto", "none") else v,
    "vad_filter": lambda v: {"true": True, "false": False}[v.lower()],
    "vad_model": lambda v: {"webrtc": "webrtc", "silero": "silero"}[v.lower()],
    "without_timestamps": lambda v: {"true": True, "false": False}[v.lower()],
}
# PARLEY_ASR_VAD is the worker's name for vad_model; the other settings are the field names.
_ALIASES = {"vad": "vad_model"}


def parse_overrides(pairs: Sequence[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs as ``WhisperOptions`` fields (``beam_size=1``, ``PARLEY_ASR_VAD=webrtc``).

    Raises:
        ValueError: A pair has no "=", names no option, or has a value the option refuses.
    """
    overrides: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        name = key.strip().lower().removeprefix("parley_asr_")
        name = _ALIASES.get(name, name)
        if not sep or name not in _PARSERS:
            raise ValueError(f"Cannot use {pair!r}: expected KEY=VALUE with KEY one of "
                             f"{', '.join(sorted([*_PARSERS, *_ALIASES]))}")
        try:
            overrides[name] = _PARSERS[name](value.strip())
        except (KeyError, ValueError) as exc:
            raise ValueError(f"Cannot use {pair!r}: {value!r} is not a value for {name}") from exc
    return overrides


def describe(options: WhisperOptions) -> str:
    return " ".join(f"{f.name}={getattr(options, f.name)}"
                    for f in dataclasses.fields(options) if f.name != "cache_dir")


def run(clips: Sequence[Clip], folder: Path, options: WhisperOptions, *, label: str,
        resamples: int, seed: int) -> FairnessReport:
    """Loads one Transcriber for ``options``, transcribes every clip, and summarises."""
    transcriber = Transcriber(options)
    started = time.perf_counter()
    results = transcribe_clips(clips, folder, transcriber)
    return summarise(results, resamples=resamples, seed=seed, label=label,
                     asr_version=transcriber.asr_version, seconds=time.perf_counter() - started)


# Output.


def _pct(value: float) -> str:
    return f"{value * 100:.1f}"


def _span(low: float, high: float, *, signed: bool = False) -> str:
    form = "{:+.1f}" if signed else "{:.1f}"
    return f"{form.format(low * 100)} to {form.format(high * 100)}"


def format_report(report: FairnessReport) -> str:
    lines = ["| group | speakers | clips | ref words | WER % | 95% CI |", "|---|---|---|---|---|---|"]
    lines += [f"| {g.group} | {g.speakers} | {g.clips} | {g.reference_words} | {_pct(g.wer)} "
              f"| {_span(g.ci_low, g.ci_high)} |" for g in report.groups]
    lines += ["", "| gap (worst - best) | worst | best | points | 95% CI |", "|---|---|---|---|---|"]
    lines += [f"| {gap.dimension} | {gap.worst} | {gap.best} | {gap.difference * 100:+.1f} "
              f"| {_span(gap.ci_low, gap.ci_high, signed=True)} |" for gap in report.gaps]
    return "\n".join(lines)


def format_comparison(
    before: FairnessReport, after: FairnessReport, changes: Sequence[GroupChange]
) -> str:
    lines = ["| group | speakers | clips | ref words | A WER % (95% CI) | B WER % (95% CI) "
             "| B - A points (95% CI) |", "|---|---|---|---|---|---|---|"]
    for a, b, change in zip(before.groups, after.groups, changes, strict=True):
        lines.append(
            f"| {a.group} | {a.speakers} | {a.clips} | {a.reference_words} "
            f"| {_pct(a.wer)} ({_span(a.ci_low, a.ci_high)}) "
            f"| {_pct(b.wer)} ({_span(b.ci_low, b.ci_high)}) "
            f"| {change.change * 100:+.1f} ({_span(change.ci_low, change.ci_high, signed=True)}) |"
        )
    lines += ["", "| gap (worst - best) | A | B |", "|---|---|---|"]
    for a, b in zip(before.gaps, after.gaps, strict=True):
        lines.append(f"| {a.dimension} | {a.worst} - {a.best}: {a.difference * 100:+.1f} "
                     f"({_span(a.ci_low, a.ci_high, signed=True)}) "
                     f"| {b.worst} - {b.best}: {b.difference * 100:+.1f} "
                     f"({_span(b.ci_low, b.ci_high, signed=True)}) |")
    return "\n".join(lines)


def footer(clips: Sequence[Clip], *, resamples: int, seed: int) -> str:
    def ages(kind: str) -> str:
        found = [c.age for c in clips if c.age_group == kind]
        return f"{min(found)}-{max(found)}" if found else "none"

    return FOOTER.format(cut=CHILD_UNDER, kids=ages("child"), adults=ages("adult"),
                         resamples=resamples, seed=seed)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    folder = Path(args.data)
    if not (folder / "manifest.csv").is_file():
        print(f"No speechocean762 data at {folder.resolve()}: this report needs the folder with "
              "its manifest.csv and wav/ (../shared/data/speech/speechocean762 in the project's "
              "checkout and CI); pass --data.", file=sys.stderr)
        return 2
    configurations = {"A": WhisperOptions(model=args.model)}
    if args.compare is not None:
        try:
            overrides = parse_overrides(args.compare)
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 2
        configurations["B"] = dataclasses.replace(configurations["A"], **overrides)
    clips = load_clips(folder)
    settings = {"resamples": args.resamples, "seed": args.seed}
    reports = [run(clips, folder, options, label=label, **settings)
               for label, options in configurations.items()]
    print(f"{len(clips)} clips, {len({c.speaker for c in clips})} speakers, {folder}")
    for report, options in zip(reports, configurations.values(), strict=True):
        print(f"{report.label}: {describe(options)}\n   {report.asr_version}, "
              f"transcribed in {report.seconds:.0f} s")
    changes = compare(*reports, **settings) if len(reports) == 2 else ()
    print("\n" + (format_comparison(*reports, changes) if changes else format_report(reports[0])))
    print("\n" + footer(clips, **settings))
    if args.json:
        _write_json(Path(args.json), reports, changes, folder, settings)
    return 0


def _write_json(path: Path, reports: Sequence[FairnessReport],
                changes: Sequence[GroupChange], folder: Path, settings: dict[str, int]) -> None:
    document = {"data": str(folder), "child_under": CHILD_UNDER, **settings,
                "reports": [dataclasses.asdict(r) for r in reports],
                "changes": [dataclasses.asdict(c) for c in changes]}
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m models.asr.fairness", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data/speech/speechocean762",
                        help="a folder with manifest.csv (file, speaker, gender, age, text)")
    parser.add_argument("--model", default="base", help="WhisperOptions.model of both runs")
    parser.add_argument("--compare", nargs="+", metavar="KEY=VALUE",
                        help="run a second configuration with these changes and compare")
    parser.add_argument("--json", metavar="OUT", help="also write every figure and transcript")
    parser.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples")
    parser.add_argument("--seed", type=int, default=762, help="bootstrap seed")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
