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
from collections.abc import Sequence
from pathlib import Path

from models.scoring import registry
from models.scoring.embeddings import MINILM
from models.scoring.scorer import AnswerFeaturizer
from models.scoring.training import mean_qwk, read_labels, report_markdown, train_all


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.scoring.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--aggregate", default="mean", choices=["mean", "median"])
    parser.add_argument("--per-prompt", action="store_true")
    parser.add_argument("--no-embeddings", action="store_true",
                        help="interpretable features and n-grams only (faster)")
    parser.add_argument("--save-to", type=Path, help="registry folder to save the models in")
    parser.add_argument("--version", help="model version name, with --save-to")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        labels = read_labels(args.data)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    featurizer = AnswerFeaturizer(encoder=None if args.no_embeddings else MINILM)
    models, reports = train_all(
        labels, featurizer=featurizer, how=args.aggregate, per_prompt=args.per_prompt,
        progress=lambda key: print(f"training {key}", file=sys.stderr, flush=True),
    )
    elapsed = time.perf_counter() - started
    summary = {
        "data": str(args.data),
        "data_sha256": hashlib.sha256(args.data.read_bytes()).hexdigest(),
        "rows": len(labels),
        "items": len({label.item_id for label in labels}),
        "aggregate": args.aggregate,
        "embeddings": not args.no_embeddings,
        "seconds": round(elapsed, 1),
        "mean_qwk_model": round(mean_qwk(reports), 4),
        "criteria": [r.as_dict() for r in reports],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(summary, indent=2) + "\n")
    markdown = report_markdown(reports, title=f"Evaluation of {args.data.name}")
    (args.out / "report.md").write_text(markdown)
    print(markdown)
    print(f"{summary['items']} items, {summary['rows']} rows in {elapsed:.1f} s")
    if args.save_to:
        card = {"name": args.version, "calibrated": False, "training_data": summary}
        registry.save(args.save_to, args.version or f"trained-{summary['data_sha256'][:12]}",
                      models, card)
    return 0


if __name__ == "__main__":
    sys.exit(main())
