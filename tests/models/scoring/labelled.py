"""A small labelled data set with two raters, written as the generic training CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

_GOOD = ("I phoned the supplier myself that morning because the order was late, agreed a new "
         "date, and told the team what it meant. As a result we delivered on time, and I "
         "learned to check stock earlier.")
_POOR = "We usually try to sort things out as a team, communication is important really."


def labelled_csv(path: Path, items: int = 60) -> Path:
    """Two raters who mostly agree, on answers whose quality the text shows."""
    rng = np.random.default_rng(7)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["item_id", "text", "criterion", "rater", "score", "prompt"])
        for i in range(items):
            quality = i % 4 + 1  # 1..4
            sentences = [_GOOD] * (quality - 1) + [_POOR] * (4 - quality)
            text = f"Answer {i}. " + " ".join(sentences)
            for rater in ("r1", "r2"):
                score = int(np.clip(quality + rng.choice([-1, 0, 0, 0, 1]), 1, 4))
                writer.writerow([f"e{i}", text, "essay", rater, score, "p1"])
    return path
