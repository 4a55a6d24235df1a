import numpy as np
import pytest
from sklearn.utils.estimator_checks import check_estimator

from models.scoring.ordinal import OrdinalRegressor


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
def test_follows_scikit_learns_estimator_conventions() -> None:
    # With levels=None the steps come from the data, as the checks' continuous targets need.
    failed = [
        (r["check_name"], str(r["exception"]))
        for r in check_estimator(OrdinalRegressor(levels=None), on_fail=None)
        if r["status"] == "failed"
    ]
    assert failed == []


def test_predicts_the_expected_level_inside_the_scale_and_in_order() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 2))
    y = np.clip(np.rint(3 + 1.5 * x[:, 0]), 1, 5)

    model = OrdinalRegressor().fit(x, y)
    predicted = model.predict(np.array([[-3.0, 0.0], [0.0, 0.0], [3.0, 0.0]]))

    assert 1.0 <= predicted[0] < predicted[1] < predicted[2] <= 5.0
    steps = model.step_probabilities(x)
    assert np.all(np.diff(steps, axis=1) <= 1e-12)  # P(y > k) never rises with k


def test_mean_labels_of_a_panel_are_accepted() -> None:
    x = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
    model = OrdinalRegressor(levels=(1, 2, 3)).fit(x, [1, 1.33, 1.67, 2.33, 2.67, 3])

    assert model.predict([[0.0]])[0] < model.predict([[5.0]])[0]


def test_all_zero_weights_are_refused() -> None:
    with pytest.raises(ValueError, match="zero everywhere"):
        OrdinalRegressor().fit([[0.0], [1.0]], [1, 2], sample_weight=[0, 0])
