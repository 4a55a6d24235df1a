"""Labelled text in, per-criterion models and an evaluation report out.

Any labelled text works: interview answers scored by a panel, essays scored by two raters on
a 1-6 scale. The CSV has one row per (item, criterion, rater) with the columns ``item_id``,
``text``, ``criterion``, ``rater`` and ``score``, and optionally ``prompt`` (the question or
essay prompt) and ``split`` ("train" or "test"; without it a stable hash of the item id puts
about a fifth of the items in the test split).
"""

from __future__ import annotations

import csv
import hashlib
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from models.scoring.agreement import Agreement, agreement, mean_pairwise
from models.scoring.features import Answer
from models.scoring.scorer import AnswerFeaturizer, CompetencyScorer

REQUIRED_COLUMNS = ("item_id", "text", "criterion", "rater", "score")
AGGREGATES: dict[str, Callable[[Sequence[float]], float]] = {
    "mean": statistics.fmean,
    "median": statistics.median,
}


@dataclass(frozen=True)
class Label:
    item_id: str
    text: str
    criterion: str
    rater: str
    score: float
    prompt: str = ""
    split: str = ""


@dataclass
class Item:
    """One (item, criterion) with every rater's score and their aggregate."""

    item_id: str
    text: str
    prompt: str
    split: str
    ratings: dict[str, float] = field(default_factory=dict)
    label: float = float("nan")


def read_labels(path: Path) -> list[Label]:
    """Rows of a labelled CSV; raises ValueError naming the line of a malformed row."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path.name}: missing column(s) {', '.join(missing)}")
        labels = []
        for line, row in enumerate(reader, start=2):
            try:
                score = float(row["score"])
            except ValueError:
                raise ValueError(
                    f"{path.name}, line {line}: score {row['score']!r} is not a number"
                ) from None
            if not row["item_id"] or not row["criterion"]:
                raise ValueError(f"{path.name}, line {line}: item_id and criterion are required")
            labels.append(Label(row["item_id"], row["text"], row["criterion"], row["rater"] or "?",
                                score, row.get("prompt") or "", (row.get("split") or "").lower()))
    if not labels:
        raise ValueError(f"{path.name}: no labelled rows")
    return labels


def in_test_split(item_id: str, test_share: float = 0.2) -> bool:
    """A stable split: the same item is in the same split on every machine and run."""
    digest = hashlib.sha256(item_id.encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < test_share


def aggregate(labels: Iterable[Label], how: str = "mean") -> dict[str, list[Item]]:
    """Criterion -> items, each with its raters' scores combined mechanically by ``how``."""
    combine = AGGREGATES[how]
    items: dict[tuple[str, str], Item] = {}
    for label in labels:
        key = (label.criterion, label.item_id)
        if key not in items:
            split = label.split or ("test" if in_test_split(label.item_id) else "train")
            items[key] = Item(label.item_id, label.text, label.prompt, split)
        items[key].ratings[label.rater] = label.score
    by_criterion: dict[str, list[Item]] = defaultdict(list)
    for (criterion, _), item in sorted(items.items()):
        item.label = combine(list(item.ratings.values()))
        by_criterion[criterion].append(item)
    return dict(by_criterion)


@dataclass(frozen=True)
class CriterionReport:
    criterion: str
    train_items: int
    test_items: int
    levels: tuple[float, ...]
    model_vs_panel: Agreement
    rater_vs_rater: Agreement | None
    # (item id, the model's level, the panel's label) for each held-out item, for subgroup
    # figures; left out of as_dict.
    held_out: tuple[tuple[str, float, float], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion,
            "train_items": self.train_items,
            "test_items": self.test_items,
            "levels": list(self.levels),
            "model_vs_panel": self.model_vs_panel.as_dict(),
            "rater_vs_rater": self.rater_vs_rater.as_dict() if self.rater_vs_rater else None,
        }


def _answers(items: Sequence[Item]) -> list[Answer]:
    return [Answer(i.text, i.prompt) for i in items]


def fit_criterion(
    items: Sequence[Item], *, featurizer: AnswerFeaturizer, levels: tuple[float, ...],
    gate_cap: float | None,
) -> CompetencyScorer:
    return CompetencyScorer(featurizer=featurizer, levels=levels, gate_cap=gate_cap).fit(
        _answers(items), [i.label for i in items]
    )


def evaluate_criterion(
    criterion: str, items: Sequence[Item], *, featurizer: AnswerFeaturizer,
    gate_cap: float | None = None,
) -> tuple[CompetencyScorer, CriterionReport]:
    """Train on the train split, compare with the panel on the test split, then refit on all."""
    train = [i for i in items if i.split != "test"]
    test = [i for i in items if i.split == "test"]
    if len(train) < 5 or len(test) < 2:
        raise ValueError(f"{criterion}: needs at least 5 train and 2 test items "
                         f"(has {len(train)} and {len(test)})")
    levels = tuple(sorted({float(s) for i in items for s in i.ratings.values()}))
    model = fit_criterion(train, featurizer=featurizer, levels=levels, gate_cap=gate_cap)
    predicted = model.predict(_answers(test))
    raters: dict[str, dict[str, float]] = defaultdict(dict)
    for item in test:
        for rater, score in item.ratings.items():
            raters[rater][item.item_id] = score
    report = CriterionReport(
        criterion=criterion,
        train_items=len(train),
        test_items=len(test),
        levels=levels,
        model_vs_panel=agreement(predicted, [i.label for i in test]),
        rater_vs_rater=mean_pairwise(raters),
        held_out=tuple((i.item_id, float(p), float(i.label)) for i, p in zip(test, predicted,
                                                                              strict=True)),
    )
    final = fit_criterion(items, featurizer=featurizer, levels=levels, gate_cap=gate_cap)
    return final, report


def train_all(
    labels: Sequence[Label], *, featurizer: AnswerFeaturizer, how: str = "mean",
    per_prompt: bool = False, gate_cap: float | None = None,
    progress: Callable[[str, int, int], None] = lambda key, done, total: None,
) -> tuple[dict[str, CompetencyScorer], list[CriterionReport]]:
    """A model per criterion (or per criterion and prompt), each with its held-out report.

    ``progress(key, done, total)`` is called before each model is trained.
    """
    groups: dict[str, list[Item]] = {}
    for criterion, items in aggregate(labels, how).items():
        if not per_prompt:
            groups[criterion] = items
            continue
        for item in items:
            groups.setdefault(f"{criterion}/{item.prompt}", []).append(item)
    models: dict[str, CompetencyScorer] = {}
    reports: list[CriterionReport] = []
    for done, (key, group) in enumerate(groups.items()):
        progress(key, done, len(groups))
        models[key], report = evaluate_criterion(key, group, featurizer=featurizer,
                                                 gate_cap=gate_cap)
        reports.append(report)
    return models, reports


def report_markdown(reports: Sequence[CriterionReport], *, title: str) -> str:
    """The evaluation as a Markdown table: model versus panel beside rater versus rater."""
    lines = [
        f"# {title}",
        "",
        "Held-out items only. Model: the prediction against the panel's aggregated label. "
        "Raters: mean over pairs of raters on the same items.",
        "",
        "| criterion | train | test | QWK model | QWK raters | r model | r raters "
        "| exact model | exact raters | adjacent model | adjacent raters |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in reports:
        m, h = r.model_vs_panel, r.rater_vs_rater

        def pair(value: float, other: float | None) -> str:
            return f"{value:.3f} | {'n/a' if other is None else f'{other:.3f}'}"

        lines.append(
            f"| {r.criterion} | {r.train_items} | {r.test_items} | "
            f"{pair(m.qwk, h.qwk if h else None)} | {pair(m.pearson, h.pearson if h else None)} | "
            f"{pair(m.exact, h.exact if h else None)} | "
            f"{pair(m.adjacent, h.adjacent if h else None)} |"
        )
    return "\n".join(lines) + "\n"


def mean_qwk(reports: Sequence[CriterionReport]) -> float:
    return float(np.mean([r.model_vs_panel.qwk for r in reports]))
