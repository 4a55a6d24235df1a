"""Agreement between two sets of ratings: what the model must match and raters achieve."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import pearsonr
from sklearn.metrics import cohen_kappa_score


@dataclass(frozen=True)
class Agreement:
    """Agreement of two raters (or a model and a panel) on the same items.

    Attributes:
        n: Items compared.
        qwk: Quadratic weighted kappa of the ratings rounded to whole levels.
        pearson: Pearson correlation of the unrounded ratings (nan when one side is constant).
        exact: Share of items with the same rounded level.
        adjacent: Share of items whose rounded levels differ by at most one.
    """

    n: int
    qwk: float
    pearson: float
    exact: float
    adjacent: float

    def as_dict(self) -> dict[str, float]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def agreement(a: Sequence[float], b: Sequence[float]) -> Agreement:
    """How well ratings ``a`` and ``b`` of the same items agree."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape or x.size < 2:
        raise ValueError("agreement needs two equally long rating lists of at least 2 items")
    rx, ry = np.rint(x).astype(int), np.rint(y).astype(int)
    labels = sorted(set(rx) | set(ry))
    qwk = (
        1.0 if len(labels) == 1 else float(cohen_kappa_score(rx, ry, labels=labels, weights="quadratic"))
    )
    constant = np.ptp(x) == 0 or np.ptp(y) == 0
    return Agreement(
        n=int(x.size),
        qwk=qwk,
        pearson=float("nan") if constant else float(pearsonr(x, y).statistic),
        exact=float(np.mean(rx == ry)),
        adjacent=float(np.mean(np.abs(rx - ry) <= 1)),
    )


def mean_pairwise(ratings: Mapping[str, Mapping[str, float]], min_items: int = 2) -> Agreement | None:
    """Rater-versus-rater agreement: the mean over rater pairs of their agreement on shared items.

    Args:
        ratings: rater -> item -> score.
        min_items: Fewest shared items for a pair to count.

    Returns:
        Means weighted by shared items, with ``n`` the number of rated pairs of observations;
        None when no pair of raters shares enough items.
    """
    results: list[Agreement] = []
    for first, second in itertools.combinations(sorted(ratings), 2):
        shared = sorted(set(ratings[first]) & set(ratings[second]))
        if len(shared) >= min_items:
            results.append(agreement([ratings[first][i] for i in shared],
                                     [ratings[second][i] for i in shared]))
    if not results:
        return None
    weights = np.array([r.n for r in results], dtype=float)

    def mean(field: str) -> float:
        values = np.array([getattr(r, field) for r in results])
        ok = ~np.isnan(values)
        return float(np.average(values[ok], weights=weights[ok])) if ok.any() else float("nan")

    return Agreement(n=int(weights.sum()), qwk=mean("qwk"), pearson=mean("pearson"),
                     exact=mean("exact"), adjacent=mean("adjacent"))
