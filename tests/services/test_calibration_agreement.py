"""The panel's agreement figures equal the reference implementations on the same data."""

from __future__ import annotations

import json
import math
import warnings

import krippendorff
import numpy as np
import pandas as pd
import pingouin
import pytest
from sklearn.metrics import cohen_kappa_score

from services.core.calibration.agreement import (
    Ratings,
    complete_block,
    disagreements,
    drift,
    icc,
    item_spreads,
    krippendorff_alpha,
    pairwise,
    panel_agreement,
)

LEVELS = [1, 2, 3, 4, 5]
TOL = 1e-9

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: four observers,
# twelve units, missing values; unit 12 has a single value. Published ordinal alpha: 0.815.
KRIPPENDORFF_2011 = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
}


def noisy_panel(seed: int = 20240611, items: int = 40) -> dict[str, dict[str, float]]:
    """40 items x 4 raters with leniency, noise and about 15% of the scores missing."""
    rng = np.random.default_rng(seed)
    bias = {"ana": 0.0, "ben": 0.4, "cleo": -0.5, "dev": 0.1}
    panel: dict[str, dict[str, float]] = {}
    for index in range(items):
        truth = rng.uniform(1, 5)
        panel[f"item{index:02d}"] = {
            rater: float(np.clip(round(truth + shift + rng.normal(0, 0.7)), 1, 5))
            for rater, shift in bias.items()
            if rng.random() > 0.15
        }
    return panel


@pytest.fixture
def unrounded_pingouin(monkeypatch: pytest.MonkeyPatch) -> None:
    """pingouin rounds its confidence intervals to 2 places unless told not to."""
    monkeypatch.setitem(pingouin.options, "round.column.CI95", None)


def pingouin_icc(ratings: Ratings, items: list[str], raters: list[str]) -> pd.DataFrame:
    long = pd.DataFrame(
        [(i, r, ratings[i][r]) for i in items for r in raters], columns=["item", "rater", "score"]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pingouin 0.7.0 trips pandas 3.1's deprecations
        table = pingouin.intraclass_corr(long, targets="item", raters="rater", ratings="score")
    return table.set_index("Type")


def reliability_matrix(ratings: Ratings) -> np.ndarray:
    raters = sorted({r for scores in ratings.values() for r in scores})
    return np.array([[ratings[i].get(r, np.nan) for i in sorted(ratings)] for r in raters])


@pytest.mark.usefixtures("unrounded_pingouin")
def test_icc_equals_pingouin_on_the_complete_block() -> None:
    panel = noisy_panel()
    result = icc(panel)
    assert result is not None
    items, raters = complete_block(panel)
    assert (result.items, result.raters, result.k) == (len(items), raters, len(raters))
    reference = pingouin_icc(panel, items, raters)
    single, average = reference.loc["ICC(A,1)"], reference.loc["ICC(A,k)"]
    assert result.icc21 == pytest.approx(single["ICC"], abs=TOL)
    assert result.icc2k == pytest.approx(average["ICC"], abs=TOL)
    assert result.icc21_ci95 == pytest.approx(tuple(single["CI95"]), abs=TOL)
    assert result.icc2k_ci95 == pytest.approx(tuple(average["CI95"]), abs=TOL)
    assert result.f == pytest.approx(single["F"], abs=TOL)
    assert (result.df1, result.df2) == (single["df1"], single["df2"])
    assert result.p == pytest.approx(single["pval"], abs=TOL)


@pytest.mark.usefixtures("unrounded_pingouin")
def test_incomplete_panel_uses_the_largest_complete_block() -> None:
    rng = np.random.default_rng(5)
    layout = [("abc", 6), ("bcd", 4), ("cde", 3), ("ade", 2), ("bc", 3)]
    panel: dict[str, dict[str, float]] = {}
    for raters, count in layout:
        for _ in range(count):
            truth = int(rng.integers(1, 6))
            panel[f"q{len(panel):02d}"] = {
                r: float(np.clip(truth + rng.integers(-1, 2), 1, 5)) for r in raters
            }
    items, raters = complete_block(panel)
    # {b, c} lies in 6 + 4 + 3 items: 13 x 2 = 26 beats {a, b, c}'s 6 x 3 = 18.
    assert raters == ["b", "c"]
    assert items == sorted(i for i, scores in panel.items() if {"b", "c"} <= scores.keys())
    result = icc(panel)
    assert result is not None
    assert (result.items, result.raters, result.k) == (13, ["b", "c"], 2)
    reference = pingouin_icc(panel, items, raters)
    assert result.icc21 == pytest.approx(reference.loc["ICC(A,1)", "ICC"], abs=TOL)
    assert result.icc2k == pytest.approx(reference.loc["ICC(A,k)", "ICC"], abs=TOL)


def test_block_ties_go_to_more_items_then_to_names() -> None:
    more_items = {"1": {"c": 1, "d": 2, "e": 3}, "2": {"c": 2, "d": 2, "e": 4},
                  "3": {"a": 1, "b": 2}, "4": {"a": 2, "b": 2}, "5": {"a": 3, "b": 4}}
    assert complete_block(more_items) == (["3", "4", "5"], ["a", "b"])  # 3 x 2 = 2 x 3
    same_size = {"1": {"c": 1, "d": 2}, "2": {"c": 2, "d": 3},
                 "3": {"a": 1, "b": 2}, "4": {"a": 2, "b": 2}}
    assert complete_block(same_size) == (["3", "4"], ["a", "b"])


def test_alpha_equals_the_krippendorff_package() -> None:
    panel = noisy_panel()
    data = reliability_matrix(panel)
    assert krippendorff_alpha(panel) == pytest.approx(
        krippendorff.alpha(reliability_data=data, level_of_measurement="ordinal"), abs=TOL
    )
    assert krippendorff_alpha(panel, LEVELS) == pytest.approx(
        krippendorff.alpha(
            reliability_data=data, level_of_measurement="ordinal", value_domain=LEVELS
        ),
        abs=TOL,
    )


def test_alpha_reproduces_krippendorffs_published_example() -> None:
    panel: dict[str, dict[str, float]] = {}
    for coder, values in KRIPPENDORFF_2011.items():
        for unit, value in enumerate(values, start=1):
            if value is not None:
                panel.setdefault(str(unit), {})[coder] = value
    assert krippendorff_alpha(panel) == pytest.approx(0.815, abs=5e-4)
    assert krippendorff_alpha(panel, LEVELS) == pytest.approx(0.815, abs=5e-4)


def test_pairwise_kappa_equals_sklearn() -> None:
    panel = noisy_panel()
    pairs = pairwise(panel, LEVELS)
    assert len(pairs) == 6
    for pair in pairs:
        shared = sorted(i for i, s in panel.items() if pair.a in s and pair.b in s)
        xs = np.array([panel[i][pair.a] for i in shared])
        ys = np.array([panel[i][pair.b] for i in shared])
        kappa = cohen_kappa_score(xs.astype(int), ys.astype(int), labels=LEVELS,
                                  weights="quadratic")
        assert pair.n == len(shared)
        assert pair.qwk == pytest.approx(kappa, abs=TOL)
        assert pair.exact == pytest.approx(np.mean(xs == ys), abs=TOL)
        assert pair.adjacent == pytest.approx(np.mean(np.abs(xs - ys) <= 1), abs=TOL)
    summary = panel_agreement(panel, LEVELS)
    weights = [p.n for p in pairs]
    assert summary.qwk == pytest.approx(np.average([p.qwk for p in pairs], weights=weights))
    assert summary.exact == pytest.approx(np.average([p.exact for p in pairs], weights=weights))


HAND = {
    "q1": {"a": 2, "b": 3, "c": 4},
    "q2": {"a": 5, "b": 4},
    "q3": {"a": 1},
    "q4": {"b": 2, "c": 2},
}


def test_drift_on_a_hand_computed_panel() -> None:
    # a: 2 - 3.5, 5 - 4; b: 3 - 3, 4 - 5, 2 - 2; c: 4 - 2.5, 2 - 2 (q3 has no other rating)
    found = {d.rater: (d.n, d.mean, d.mean_abs) for d in drift(HAND)}
    assert found["a"] == pytest.approx((2, -0.25, 1.25))
    assert found["b"] == pytest.approx((3, -1 / 3, 1 / 3))
    assert found["c"] == pytest.approx((2, 0.75, 0.75))


def test_pairs_need_two_shared_items() -> None:
    pairs = {(p.a, p.b): (p.n, p.exact, p.adjacent) for p in pairwise(HAND)}
    assert pairs == {("a", "b"): (2, 0.0, 1.0), ("b", "c"): (2, 0.5, 1.0)}
    summary = panel_agreement(HAND)
    assert (summary.n_items, summary.n_raters, summary.n_ratings) == (4, 3, 8)
    assert summary.exact == pytest.approx(0.25)


def test_spread_and_disagreement_queue() -> None:
    spreads = {s.item: s for s in item_spreads(HAND)}
    assert (spreads["q1"].n, spreads["q1"].spread, spreads["q1"].sd) == (3, 2.0, 1.0)
    assert spreads["q2"].sd == pytest.approx(math.sqrt(0.5))
    assert spreads["q3"].spread == 0.0 and math.isnan(spreads["q3"].sd)
    assert [s.item for s in disagreements(HAND)] == ["q1", "q2"]
    assert [s.item for s in disagreements(HAND, min_spread=0.0)] == ["q1", "q2", "q4"]
    ties = {"z": {"a": 1, "b": 2, "c": 3}, "y": {"a": 1, "b": 3, "c": 3},
            "x": {"a": 1, "b": 2, "c": 3}}
    assert [s.item for s in disagreements(ties)] == ["y", "x", "z"]


def test_constant_scores_give_nan_not_an_exception() -> None:
    panel = {f"i{n}": {"a": 3.0, "b": 3.0, "c": 3.0} for n in range(5)}
    result = panel_agreement(panel, LEVELS)
    assert result.icc is not None
    assert math.isnan(result.icc.icc21) and math.isnan(result.icc.icc2k)
    assert math.isnan(result.alpha)
    assert result.qwk == 1.0 and result.exact == 1.0
    json.dumps(result.as_dict(), allow_nan=False)


@pytest.mark.parametrize(
    "panel",
    [
        {"only": {"a": 2.0, "b": 4.0, "c": 3.0}},
        {"i1": {"a": 2.0}, "i2": {"a": 4.0}, "i3": {"a": 5.0}},
        {"i1": {"a": 2.0}, "i2": {}},
        {},
    ],
    ids=["one item", "one rater", "no pairs", "empty"],
)
def test_panels_too_small_for_figures_do_not_raise(panel: Ratings) -> None:
    result = panel_agreement(panel, LEVELS)
    assert result.icc is None and result.pairwise == []
    assert result.n_items == len(panel)
    json.dumps(result.as_dict(), allow_nan=False)


def test_scores_outside_levels_and_halves_still_give_figures() -> None:
    panel = {"i1": {"a": 2.5, "b": 3.0}, "i2": {"a": 4.0, "b": 4.5}, "i3": {"a": 1.0, "b": 2.0}}
    result = panel_agreement(panel, LEVELS)
    assert math.isfinite(result.alpha) and math.isfinite(result.qwk)


def test_as_dict_rounds_to_four_places_and_is_json_safe() -> None:
    figures = panel_agreement(noisy_panel(), LEVELS).as_dict()
    assert figures["icc"]["icc21"] == round(icc(noisy_panel()).icc21, 4)  # type: ignore[union-attr]
    assert isinstance(figures["icc"]["icc21_ci95"], list)
    assert set(figures["pairwise"][0]) == {"a", "b", "n", "qwk", "exact", "adjacent"}
    json.dumps(figures, allow_nan=False)
