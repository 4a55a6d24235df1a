#!/usr/bin/env python3
"""Benchmark: scoring time per answer and per 15-minute interview, with the model loaded.

    .venv/bin/python scripts/bench_scoring.py [--answers 48] [--registry DIR]

Scores real-length answers (the seed set's genuine level 3-5 answers, 120-300 words, as a
15-minute interview's 6-8 two-minute answers are) with the seed model, three ways in the same
process: (a) the score alone, (b) Parley's default, the score and its three evidence sentences
found by leaving each sentence out, and (c) the same as (b) with the sentence-embedding cache
turned off (every left-out variant embedded again), the baseline the cache is measured against.
Prints p50/p95 per answer, the time for an 8-answer interview, load time and peak memory.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models.scoring import embeddings, registry, seed  # noqa: E402
from models.scoring.features import Answer  # noqa: E402

TARGET_INTERVIEW_S = 1.0
ANSWERS_PER_INTERVIEW = 8


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _questions() -> dict[str, str]:
    bank = ROOT / "services" / "core" / "rubrics" / "data" / "question_bank.json"
    return {q["key"]: q["text"] for q in json.loads(bank.read_text(encoding="utf-8"))}


def _timed(model: registry.ScoringModel, cases: list[tuple[str, Answer]], evidence: int,
           *, cached: bool) -> list[float]:
    encoder = embeddings.get_encoder(embeddings.MINILM)
    seconds = []
    for criterion, answer in cases:
        if not cached:
            encoder._cache.clear()  # the baseline: nothing embedded before is reused
        started = time.perf_counter()
        model.score(criterion, answer, evidence=evidence)
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=int, default=48)
    parser.add_argument("--registry", type=Path, help="where the seed model is (or is built)")
    args = parser.parse_args()
    questions = _questions()
    rows = [r for r in seed.seed_rows() if r["kind"] == "genuine" and int(r["score"]) >= 3
            and 120 <= len(r["text"].split()) <= 300][: args.answers]
    cases = [(r["criterion"], Answer(r["text"], questions[r["prompt"]])) for r in rows]
    words = statistics.fmean(len(a.text.split()) for _, a in cases)
    with tempfile.TemporaryDirectory() as scratch:
        root = args.registry or Path(scratch)
        started = time.perf_counter()
        folder = seed.build(root, questions, evaluate=False)
        built = time.perf_counter() - started
        started = time.perf_counter()
        model = registry.load(folder)
        embeddings.get_encoder(embeddings.MINILM)
        loaded = time.perf_counter() - started
        _timed(model, cases[:2], 3, cached=True)  # warm-up: first onnxruntime calls
        runs = {
            "(a) score only": _timed(model, cases, 0, cached=False),
            "(b) Parley: score + 3 evidence sentences": _timed(model, cases, 3, cached=False),
            "(c) baseline: (b) without the embedding cache": [],
        }
        encoder = embeddings.get_encoder(embeddings.MINILM)
        original = encoder.encode

        def uncached(texts, batch_size=32):  # type: ignore[no-untyped-def]
            encoder._cache.clear()
            return original(texts, batch_size)

        encoder.encode = uncached  # type: ignore[method-assign]
        runs["(c) baseline: (b) without the embedding cache"] = _timed(model, cases, 3, cached=False)
        encoder.encode = original  # type: ignore[method-assign]
    print(f"seed model: built in {built:.1f} s (once per machine), loaded in {loaded:.2f} s; "
          f"{len(cases)} answers of {words:.0f} words on average\n")
    print("| variant | p50 per answer s | p95 per answer s | 8-answer interview s |")
    print("|---|---|---|---|")
    for label, seconds in runs.items():
        ordered = sorted(seconds)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        interview = statistics.fmean(seconds) * ANSWERS_PER_INTERVIEW
        print(f"| {label} | {statistics.median(seconds):.3f} | {p95:.3f} | {interview:.2f} |")
    ours = statistics.fmean(runs["(b) Parley: score + 3 evidence sentences"])
    base = statistics.fmean(runs["(c) baseline: (b) without the embedding cache"])
    interview = ours * ANSWERS_PER_INTERVIEW
    print(f"\n(c)/(b): {base / ours:.1f}x; peak memory {_peak_mb():.0f} MB")
    passed = interview < TARGET_INTERVIEW_S
    print(f"{'PASS' if passed else 'FAIL'}  a 15-minute interview ({ANSWERS_PER_INTERVIEW} "
          f"answers) scored in under {TARGET_INTERVIEW_S:.0f} s: {interview:.2f} s")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
