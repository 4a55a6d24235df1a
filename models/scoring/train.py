"""Train and evaluate per-criterion models on any labelled text CSV (see ``training``)::

    python -m models.scoring.train --data labels.csv --out report/ [--per-prompt]
        [--aggregate mean|median] [--no-embeddings] [--save-to REGISTRY --version NAME]

Writes ``report.json`` and ``report.md`` to ``--out``: per criterion, quadratic weighted kappa,
Pearson r, exact and adjacent agreement of the model against the aggregated label on held-out
items, beside rater-versus-rater agreement on the same items.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.scoring import registry
from models.scoring.embeddings import MINILM_INT8
from models.scoring.scorer import AnswerFeaturizer, CompetencyScorer
from models.scoring.training import mean_qwk, read_labels, report_markdown, train_all


@dataclass
class TrainingResult:
    """Fitted models per criterion, the evaluation as data, and as Markdown."""

    models: dict[str, CompetencyScorer]
    summary: dict[str, Any]
    markdown: str
    # criterion -> (item id, the model's level, the panel's label) on the held-out items
    held_out: dict[str, tuple[tuple[str, float, float], ...]] = field(default_factory=dict)


# Sentence embeddings cost about 10 ms a sentence on 2 cores; past this many items they would
# take the run beyond 10 minutes, so "auto" leaves them out (and the report says so).
AUTO_EMBEDDINGS_MAX_ITEMS = 2_000


def train_file(
    path: Path, *, aggregate: str = "mean", per_prompt: bool = False,
    embeddings: bool | str = "auto",
    progress: Callable[[str, int, int], None] = lambda key, done, total: None,
) -> TrainingResult:
    """Read, aggregate, train and evaluate; ValueError (naming the line) for a malformed file.

    Args:
        embeddings: True, False, or "auto" (on up to ``AUTO_EMBEDDINGS_MAX_ITEMS`` items).
    """
    started = time.perf_counter()
    labels = read_labels(path)
    items = len({label.item_id for label in labels})
    if embeddings == "auto":
        embeddings = items <= AUTO_EMBEDDINGS_MAX_ITEMS
    featurizer = AnswerFeaturizer(encoder=MINILM_INT8 if embeddings else None)
    models, reports = train_all(labels, featurizer=featurizer, how=aggregate,
                                per_prompt=per_prompt, progress=progress)
    summary = {
        "data": path.name,
        "data_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "rows": len(labels),
        "items": items,
        "raters": len({label.rater for label in labels}),
        "aggregate": aggregate,
        "per_prompt": per_prompt,
        "embeddings": bool(embeddings),
        "seconds": round(time.perf_counter() - started, 1),
        "mean_qwk_model": round(mean_qwk(reports), 4),
        "criteria": [r.as_dict() for r in reports],
    }
    return TrainingResult(models, summary,
                          report_markdown(reports, title=f"Evaluation of {path.name}"),
                          {r.criterion: r.held_out for r in reports})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.scoring.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--aggregate", default="mean", choices=["mean", "median"])
    parser.add_argument("--per-prompt", action="store_true")
    parser.add_argument("--embeddings", choices=["auto", "on", "off"], default="auto",
                        help="sentence embeddings; auto: on up to "
                             f"{AUTO_EMBEDDINGS_MAX_ITEMS} items")
    parser.add_argument("--no-embeddings", action="store_const", const="off", dest="embeddings",
                        help="the same as --embeddings off")
    parser.add_argument("--save-to", type=Path, help="registry folder to save the models in")
    parser.add_argument("--version", help="model version name, with --save-to")
    args = parser.parse_args(argv)
    try:
        result = train_file(
            args.data, aggregate=args.aggregate, per_prompt=args.per_prompt,
            embeddings={"auto": "auto", "on": True, "off": False}[args.embeddings],
            progress=lambda key, done, total: print(f"training {key} ({done + 1}/{total})",
                                                    file=sys.stderr, flush=True),
        )
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(result.summary, indent=2) + "\n")
    (args.out / "report.md").write_text(result.markdown)
    print(result.markdown)
    print(f"{result.summary['items']} items, {result.summary['rows']} rows "
          f"in {result.summary['seconds']} s")
    if args.save_to:
        version = args.version or f"trained-{result.summary['data_sha256'][:12]}"
        card = {"name": version, "calibrated": False, "training_data": result.summary}
        registry.save(args.save_to, version, result.models, card)
    return 0


if __name__ == "__main__":
    sys.exit(main())
