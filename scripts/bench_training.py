#!/usr/bin/env python3
"""Benchmark: generic training and evaluation on a large labelled CSV (target: 15,000 items in
under 10 minutes on 2 cores).

    .venv/bin/python scripts/bench_training.py [--items 15000] [--embeddings] [--keep FILE]

No 15,000-item multi-rater set ships with Parley, so this one is made from the seed answers:
each item recombines the sentences of a seed answer of one level with one sentence of another
answer of that level, and every sentence gets a distinct marker word, so no sentence repeats
(the sentence-embedding cache gets no free hits). Two raters label each item: the source level,
each moved by one step with probability 0.2. The same file is trained twice in this process:
(a) interpretable features and n-grams, which is what ``parley train`` uses by default past
2,000 items, (b) the same plus sentence embeddings (--embeddings).
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models.scoring import seed  # noqa: E402
from models.scoring.text import split_sentences  # noqa: E402
from models.scoring.train import train_file  # noqa: E402

TARGET_S = 600.0
_MARKERS = ("today", "again", "there", "then", "still", "indeed", "really", "also", "now", "soon")


def write_items(path: Path, items: int, seed_value: int = 15) -> None:
    rng = np.random.default_rng(seed_value)
    by_level: dict[tuple[str, int], list[list[str]]] = defaultdict(list)
    for row in seed.seed_rows():
        sentences = [s.text for s in split_sentences(row["text"])]
        by_level[(row["criterion"], int(row["score"]))].append(sentences)
    keys = sorted(by_level)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["item_id", "text", "criterion", "rater", "score", "prompt"])
        for i in range(items):
            criterion, level = keys[i % len(keys)]
            pool = by_level[(criterion, level)]
            base = list(pool[rng.integers(len(pool))])
            extra = pool[rng.integers(len(pool))]
            base.insert(int(rng.integers(len(base) + 1)), extra[rng.integers(len(extra))])
            text = " ".join(f"{s.rstrip('.!?')} {_MARKERS[rng.integers(len(_MARKERS))]} {i}."
                            for s in base)
            for rater in ("rater-1", "rater-2"):
                noisy = level + (rng.choice([-1, 1]) if rng.random() < 0.2 else 0)
                writer.writerow([f"item-{i}", text, criterion, rater,
                                 int(np.clip(noisy, 1, 5)), "p"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=15_000)
    parser.add_argument("--embeddings", action="store_true",
                        help="also run (b), with sentence embeddings forced on")
    parser.add_argument("--keep", type=Path, help="write the generated CSV here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = args.keep or Path(scratch) / "labels.csv"
        started = time.perf_counter()
        write_items(path, args.items)
        print(f"{args.items} items x 2 raters written in {time.perf_counter() - started:.1f} s "
              f"({path.stat().st_size / 1e6:.1f} MB)")
        variants: list[tuple[str, bool | str]] = [("(a) features + n-grams", False)]
        if args.embeddings:
            variants.append(("(b) features + n-grams + embeddings", True))
        print("\n| variant | items | seconds | mean QWK model | mean QWK raters | target |")
        print("|---|---|---|---|---|---|")
        passed = True
        for label, embeddings in variants:
            started = time.perf_counter()
            result = train_file(path, embeddings=embeddings)
            seconds = time.perf_counter() - started
            raters = np.mean([c["rater_vs_rater"]["qwk"] for c in result.summary["criteria"]])
            ok = seconds < TARGET_S
            passed &= ok
            print(f"| {label} | {result.summary['items']} | {seconds:.0f} | "
                  f"{result.summary['mean_qwk_model']:.3f} | {raters:.3f} | "
                  f"{'PASS' if ok else 'FAIL'} (< {TARGET_S:.0f} s) |", flush=True)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
