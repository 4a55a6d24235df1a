"""Inter-rater agreement of the psychologists' labelling panel.

Every function takes `ratings`, item id -> rater id -> score on an ordinal scale (usually the
integers 1..5; floats are accepted; a NaN score counts as missing), and some take `levels`, the
scale's value domain. A level set that misses an observed score is widened to include it, so a
stray score never turns a figure into an exception. Results are frozen dataclasses whose
`as_dict()` is JSON-safe: floats rounded to 4 places, NaN and infinities as None.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from itertools import combinations

import krippendorff
import numpy as np
from scipy.stats import f as f_dist
from sklearn.metrics import cohen_kappa_score

Ratings = Mapping[str, Mapping[str, float]]
DECIMALS = 4
NAN = float("nan")


def _json(value: object) -> object:
    if isinstance(value, _Result):
        return value.as_dict()
    if isinstance(value, float):
        return round(value, DECIMALS) if math.isfinite(value) else None
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


class _Result:
    def as_dict(self) -> dict[str, object]:
        """The fields as JSON-safe values: floats to 4 places, NaN and infinities as None."""
        return {f.name: _json(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True)
class Icc(_Result):
    """Two-way random effects, absolute agreement (Shrout & Fleiss 1979; McGraw & Wong 1996).

    With n items, k raters and the two-way ANOVA mean squares MSR (items), MSC (raters) and MSE
    (residual): ICC(2,1) = (MSR - MSE) / (MSR + (k-1) MSE + k (MSC - MSE) / n), the reliability
    of one rater's score; ICC(2,k) = (MSR - MSE) / (MSR + (MSC - MSE) / n), that of the mean of
    k raters. `f` = MSR / MSE with `df1` = n - 1 and `df2` = (n-1)(k-1), `p` its upper tail.
    The 95% intervals are McGraw & Wong's, as pingouin computes them. `items` counts the items
    of the complete block the figures come from, `raters` names its raters, `k` = len(raters).
    """

    icc21: float
    icc21_ci95: tuple[float, float]
    icc2k: float
    icc2k_ci95: tuple[float, float]
    f: float
    df1: int
    df2: int
    p: float
    items: int
    raters: list[str]
    k: int


@dataclass(frozen=True)
class RaterPair(_Result):
    """Two raters over the `n` items both scored: quadratic weighted kappa on the scores rounded
    to whole levels, the share of identical scores (`exact`) and of scores at most one level
    apart (`adjacent`)."""

    a: str
    b: str
    n: int
    qwk: float
    exact: float
    adjacent: float


@dataclass(frozen=True)
class RaterDrift(_Result):
    """A rater's leniency: over the `n` items they scored that someone else scored too, the mean
    of (their score - the mean of the other raters' scores), signed (`mean` > 0: more lenient)
    and absolute (`mean_abs`)."""

    rater: str
    n: int
    mean: float
    mean_abs: float


@dataclass(frozen=True)
class ItemSpread(_Result):
    """One item's disagreement: `spread` = max - min of its `n` scores, `sd` their sample
    standard deviation (NaN under two scores)."""

    item: str
    n: int
    spread: float
    sd: float


@dataclass(frozen=True)
class PanelAgreement(_Result):
    """Every figure for one panel; `qwk`, `exact` and `adjacent` are the pairwise figures'
    means weighted by each pair's number of shared items."""

    n_items: int
    n_raters: int
    n_ratings: int
    icc: Icc | None
    alpha: float
    pairwise: list[RaterPair]
    qwk: float
    exact: float
    adjacent: float
    drift: list[RaterDrift]


def _clean(ratings: Ratings) -> dict[str, dict[str, float]]:
    return {
        item: {rater: float(s) for rater, s in scores.items() if not math.isnan(s)}
        for item, scores in ratings.items()
    }


def _by_rater(clean: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for item, scores in clean.items():
        for rater, score in scores.items():
            out.setdefault(rater, {})[item] = score
    return out


def _level(score: float) -> int:
    return math.floor(score + 0.5)


def complete_block(ratings: Ratings) -> tuple[list[str], list[str]]:
    """The largest complete items x raters block: among the distinct rater sets of items with
    at least two raters, the set S with the most (items whose raters include S) x |S|; ties go
    to more items, then to the alphabetically first sorted names. Returns (items, raters),
    both sorted; empty lists when no item has two raters."""
    clean = _clean(ratings)
    candidates = {frozenset(scores) for scores in clean.values() if len(scores) >= 2}
    best: tuple[int, int, list[str], list[str]] | None = None
    for raters in candidates:
        items = sorted(item for item, scores in clean.items() if raters <= scores.keys())
        key = (-len(items) * len(raters), -len(items), sorted(raters), items)
        if best is None or key[:3] < best[:3]:
            best = key
    return (best[3], best[2]) if best else ([], [])


def icc(ratings: Ratings) -> Icc | None:
    """ICC(2,1) and ICC(2,k) on the largest complete block (see `complete_block`); None when it
    has fewer than 2 items or 2 raters, NaN figures when the scores do not vary."""
    clean = _clean(ratings)
    items, raters = complete_block(clean)
    if len(items) < 2 or len(raters) < 2:
        return None
    x = np.array([[clean[i][r] for r in raters] for i in items])
    n, k = x.shape
    grand, row, col = x.mean(), x.mean(axis=1), x.mean(axis=0)
    resid = x - row[:, None] - col[None, :] + grand
    df1, df2 = n - 1, (n - 1) * (k - 1)
    msr = np.float64(k * ((row - grand) ** 2).sum() / df1)
    msc = np.float64(n * ((col - grand) ** 2).sum() / (k - 1))
    mse = np.float64((resid**2).sum() / df2)
    with np.errstate(divide="ignore", invalid="ignore"):
        icc21 = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
        icc2k = (msr - mse) / (msr + (msc - mse) / n)
        f_value = msr / mse
        low, high = _icc21_ci95(icc21, msr, msc, mse, n, k)
        ci2k = (low * k / (1 + low * (k - 1)), high * k / (1 + high * (k - 1)))
    return Icc(
        icc21=float(icc21),
        icc21_ci95=(float(low), float(high)),
        icc2k=float(icc2k),
        icc2k_ci95=(float(ci2k[0]), float(ci2k[1])),
        f=float(f_value),
        df1=df1,
        df2=df2,
        p=float(f_dist.sf(f_value, df1, df2)),
        items=n,
        raters=list(raters),
        k=k,
    )


def _icc21_ci95(
    icc21: float, msr: float, msc: float, mse: float, n: int, k: int
) -> tuple[float, float]:
    """McGraw & Wong's interval for ICC(A,1), with Satterthwaite's degrees of freedom `v`."""
    fj = msc / mse
    a = n * (1 + (k - 1) * icc21) - k * icc21
    v = (n - 1) * (k - 1) * (k * icc21 * fj + a) ** 2 / ((n - 1) * k**2 * icc21**2 * fj**2 + a**2)
    f_upper = f_dist.ppf(0.975, n - 1, v)
    f_lower = f_dist.ppf(0.975, v, n - 1)
    denominator = k * msc + (k * n - k - n) * mse
    low = n * (msr - f_upper * mse) / (f_upper * denominator + n * msr)
    high = n * (f_lower * msr - mse) / (denominator + n * f_lower * msr)
    return float(low), float(high)


def krippendorff_alpha(ratings: Ratings, levels: Sequence[int] | None = None) -> float:
    """Krippendorff's ordinal alpha, 1 - observed / expected disagreement over pairable values
    (those of items with at least two scores), computed by the `krippendorff` package on the
    raters x items matrix with NaN for missing scores. NaN under two pairable values or when
    they do not vary."""
    clean = _clean(ratings)
    pairable = [s for scores in clean.values() if len(scores) >= 2 for s in scores.values()]
    if len(set(pairable)) < 2:
        return NAN
    items = sorted(clean)
    raters = sorted(_by_rater(clean))
    data = np.array([[clean[i].get(r, np.nan) for i in items] for r in raters])
    domain = None
    if levels is not None:
        domain = sorted(set(levels) | {s for scores in clean.values() for s in scores.values()})
    try:
        value = krippendorff.alpha(
            reliability_data=data, level_of_measurement="ordinal", value_domain=domain
        )
    except ValueError:
        return NAN
    return float(value)


def pairwise(ratings: Ratings, levels: Sequence[int] | None = None) -> list[RaterPair]:
    """Every rater pair sharing at least two items, ordered by names. The kappa's labels are
    `levels` (else every rounded score of the panel); two raters who give one and the same
    score throughout agree perfectly (kappa 1.0, where the formula is 0/0)."""
    by_rater = _by_rater(_clean(ratings))
    observed = {_level(s) for scores in by_rater.values() for s in scores.values()}
    labels = sorted(observed | set(levels or ()))
    pairs = []
    for a, b in combinations(sorted(by_rater), 2):
        shared = sorted(by_rater[a].keys() & by_rater[b].keys())
        if len(shared) < 2:
            continue
        xs = [by_rater[a][i] for i in shared]
        ys = [by_rater[b][i] for i in shared]
        la, lb = [_level(x) for x in xs], [_level(y) for y in ys]
        if len(set(la) | set(lb)) == 1:
            qwk = 1.0
        else:
            qwk = float(cohen_kappa_score(la, lb, labels=labels, weights="quadratic"))
        diffs = [abs(x - y) for x, y in zip(xs, ys, strict=True)]
        exact = sum(d == 0 for d in diffs) / len(diffs)
        adjacent = sum(d <= 1 for d in diffs) / len(diffs)
        pairs.append(RaterPair(a, b, len(shared), qwk, exact, adjacent))
    return pairs


def _weighted_mean(values: Sequence[float], weights: Sequence[int]) -> float:
    kept = [(v, w) for v, w in zip(values, weights, strict=True) if math.isfinite(v)]
    total = sum(w for _, w in kept)
    return sum(v * w for v, w in kept) / total if total else NAN


def drift(ratings: Ratings) -> list[RaterDrift]:
    """Every rater's drift from the rest of the panel, ordered by name (NaN means when `n` = 0)."""
    clean = _clean(ratings)
    diffs: dict[str, list[float]] = {rater: [] for rater in _by_rater(clean)}
    for scores in clean.values():
        if len(scores) < 2:
            continue
        for rater, score in scores.items():
            others = [s for other, s in scores.items() if other != rater]
            diffs[rater].append(score - statistics.fmean(others))
    return [
        RaterDrift(
            rater,
            len(d),
            statistics.fmean(d) if d else NAN,
            statistics.fmean(abs(x) for x in d) if d else NAN,
        )
        for rater, d in sorted(diffs.items())
    ]


def item_spreads(ratings: Ratings) -> list[ItemSpread]:
    """The spread of every item with at least one score, ordered by item id."""
    out = []
    for item, scores in sorted(_clean(ratings).items()):
        values = list(scores.values())
        if values:
            sd = statistics.stdev(values) if len(values) >= 2 else NAN
            out.append(ItemSpread(item, len(values), max(values) - min(values), sd))
    return out


def disagreements(ratings: Ratings, min_spread: float = 1.0) -> list[ItemSpread]:
    """Items with two or more scores at least `min_spread` apart: widest spread first, then the
    larger standard deviation, then item id."""
    found = [s for s in item_spreads(ratings) if s.n >= 2 and s.spread >= min_spread]
    return sorted(found, key=lambda s: (-s.spread, -s.sd, s.item))


def panel_agreement(ratings: Ratings, levels: Sequence[int] | None = None) -> PanelAgreement:
    """Every agreement figure of one panel; items with a single score count in `n_items` only."""
    clean = _clean(ratings)
    pairs = pairwise(clean, levels)
    weights = [p.n for p in pairs]
    return PanelAgreement(
        n_items=len(clean),
        n_raters=len(_by_rater(clean)),
        n_ratings=sum(len(scores) for scores in clean.values()),
        icc=icc(clean),
        alpha=krippendorff_alpha(clean, levels),
        pairwise=pairs,
        qwk=_weighted_mean([p.qwk for p in pairs], weights),
        exact=_weighted_mean([p.exact for p in pairs], weights),
        adjacent=_weighted_mean([p.adjacent for p in pairs], weights),
        drift=drift(clean),
    )
