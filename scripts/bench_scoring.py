#!/usr/bin/env python3
"""Benchmark: scoring time per answer and per 15-minute interview, with the model loaded.

    .venv/bin/python scripts/bench_scoring.py [--answers 48] [--registry DIR]

Scores real-length answers (the seed set's genuine level 3-5 answers, 120-300 words, as a
15-minute interview's 6-8 two-minute answers are) with the seed model, three ways in the same
process, each answer by all three in turn so that a busy moment falls on all of them: (a) the
score alone, (b) Parley's default, the score and its three evidence sentences found by leaving
each sentence out (each sentence read and embedded once, every variant a sum without it), and
(c) the baseline: the same result the way Parley computed it before, on the MiniLM file as
shipped (float products; the seed model's own encoder multiplies in int8), predicting the
answer, then its gates, then scoring every left-out variant as a new text (its sentences found
in the encoder's cache).

A worker sees each answer once but the same few questions for every candidate of a role, so
before each answer the encoders' caches are emptied and the question bank embedded again,
outside the timing. Prints p50/p95 per answer, the time for an 8-answer interview, load time and peak
memory.
"""

from __future__ import annotations

import argparse
import copy
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
from models.scoring.text import split_sentences  # noqa: E402

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


def _fresh(questions: list[str]) -> None:
    """Nothing of the answers embedded before; the questions, as a worker has them."""
    for name in (embeddings.MINILM, embeddings.MINILM_INT8):
        encoder = embeddings.get_encoder(name)
        encoder._cache.clear()
        encoder.encode(questions)


def _shipped_encoder(model: registry.ScoringModel) -> registry.ScoringModel:
    """The model with its featurizers on the shipped MiniLM file, as before."""
    scorers = {}
    for criterion, scorer in model.scorers.items():
        scorers[criterion] = copy.deepcopy(scorer)
        scorers[criterion].featurizer_.encoder = embeddings.MINILM
    return registry.ScoringModel(version=model.version, scorers=scorers, card=model.card)


def _previous(model: registry.ScoringModel, criterion: str, answer: Answer) -> None:
    """The baseline: predict, gates and one full featurization per left-out variant."""
    scorer = model.scorers[criterion]
    scorer.predict([answer])
    scorer.predict([answer])  # the gates were a second featurization of the answer
    sentences = split_sentences(answer.text)
    variants = [
        Answer(" ".join(s.text for j, s in enumerate(sentences) if j != i), answer.question)
        for i in range(len(sentences))
    ]
    scorer.score_100([answer, *variants])


def _timed(model: registry.ScoringModel, cases: list[tuple[str, Answer]],
           questions: list[str]) -> dict[str, list[float]]:
    before = _shipped_encoder(model)
    ways = {
        "(a) score only": lambda c, a: model.score(c, a, evidence=0),
        "(b) Parley: score + 3 evidence sentences": lambda c, a: model.score(c, a, evidence=3),
        "(c) baseline: (b) as computed before": lambda c, a: _previous(before, c, a),
    }
    seconds: dict[str, list[float]] = {label: [] for label in ways}
    for n, (criterion, answer) in enumerate(cases):
        order = list(ways.items())
        for label, way in order[n % 3:] + order[: n % 3]:
            _fresh(questions)
            started = time.perf_counter()
            way(criterion, answer)
            seconds[label].append(time.perf_counter() - started)
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
        embeddings.get_encoder(embeddings.MINILM_INT8)
        loaded = time.perf_counter() - started
        embeddings.get_encoder(embeddings.MINILM)  # the baseline's
        _timed(model, cases[:4], list(questions.values()))  # warm-up: first onnxruntime calls
        runs = _timed(model, cases, list(questions.values()))
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
    base = statistics.fmean(runs["(c) baseline: (b) as computed before"])
    interview = ours * ANSWERS_PER_INTERVIEW
    print(f"\n(c)/(b): {base / ours:.1f}x; peak memory {_peak_mb():.0f} MB")
    passed = interview < TARGET_INTERVIEW_S
    print(f"{'PASS' if passed else 'FAIL'}  a 15-minute interview ({ANSWERS_PER_INTERVIEW} "
          f"answers) scored in under {TARGET_INTERVIEW_S:.0f} s: {interview:.2f} s")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
