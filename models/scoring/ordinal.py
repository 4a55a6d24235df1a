"""An ordinal regressor: rating levels are ordered, but the steps between them are not equal."""

from __future__ import annotations

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted, validate_data


class OrdinalRegressor(RegressorMixin, BaseEstimator):
    """Frank and Hall's cumulative model: one logistic regression per "above level k" step.

    The prediction is the expected level, ``lowest + sum_k P(y > k)``, with the step
    probabilities forced to fall as k rises. Labels may be means of several raters (3.33 is
    above 3 and below 4), which is what aggregated panels produce.

    Parameters:
        levels: The ordered rating levels, e.g. (1, 2, 3, 4, 5); None takes the distinct labels
            seen in ``fit`` (or, past ``max_levels`` of them, that many quantiles).
        max_levels: With ``levels=None``, the most steps to fit.
        C: Inverse regularisation strength of each step's logistic regression.
        class_weight: Passed to each step; None keeps the expected level calibrated.
    """

    def __init__(
        self,
        levels: tuple[float, ...] | None = (1, 2, 3, 4, 5),
        C: float = 1.0,
        class_weight: str | None = None,
        max_levels: int = 11,
    ) -> None:
        self.levels = levels
        self.max_levels = max_levels
        self.C = C
        self.class_weight = class_weight

    def fit(self, X, y, sample_weight=None):  # type: ignore[no-untyped-def]
        X, y = validate_data(self, X, y, accept_sparse="csr", y_numeric=True, reset=True)
        if sample_weight is not None and not np.any(np.asarray(sample_weight) > 0):
            raise ValueError("sample_weight is zero everywhere: nothing to learn from")
        levels = np.asarray(self.levels if self.levels is not None else _levels(y, self.max_levels),
                            dtype=float)
        if levels.size < 2 or np.any(np.diff(levels) <= 0):
            raise ValueError("levels must be at least two increasing values (got one class)")
        self.levels_ = levels
        self.steps_: list[LogisticRegression | float] = []
        for threshold in levels[:-1]:
            above = (y > threshold + 1e-9).astype(int)
            if above.min() == above.max():
                # Every label on one side: the step's probability is that constant.
                self.steps_.append(float(above[0]))
                continue
            step = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=2000)
            self.steps_.append(step.fit(X, above, sample_weight=sample_weight))
        return self

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def step_probabilities(self, X) -> np.ndarray:  # type: ignore[no-untyped-def]
        """P(y > level k) for each step k, shape (n, len(levels) - 1), falling with k."""
        check_is_fitted(self, "steps_")
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        columns = [
            np.full(X.shape[0], step) if isinstance(step, float) else _above(step, X)
            for step in self.steps_
        ]
        return np.minimum.accumulate(np.column_stack(columns), axis=1)

    def predict(self, X) -> np.ndarray:  # type: ignore[no-untyped-def]
        """The expected level of each row."""
        check_is_fitted(self, "steps_")
        gaps = np.diff(self.levels_)
        return self.levels_[0] + self.step_probabilities(X) @ gaps


def _above(step: LogisticRegression, X) -> np.ndarray:  # type: ignore[no-untyped-def]
    """``step.predict_proba(X)[:, 1]`` without validating X once more per step (X is checked)."""
    return expit(np.asarray(X @ step.coef_[0]).ravel() + step.intercept_[0])


def _levels(y: np.ndarray, max_levels: int) -> np.ndarray:
    distinct = np.unique(y)
    if distinct.size <= max_levels:
        return distinct
    return np.unique(np.quantile(y, np.linspace(0, 1, max_levels)))
