"""Every metric against scikit-learn / numpy, on random and edge inputs; the intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve

from monitorkit.errors import InputError
from monitorkit.performance import metrics as registry
from monitorkit.performance.metrics import METRICS, LabelArrays


def _binary(seed: int, n: int = 400) -> LabelArrays:
    rng = np.random.default_rng(seed)
    y_true = (rng.random(n) < 0.3).astype(np.int64)
    score = np.clip(0.35 * y_true + rng.random(n) * 0.7, 0, 1)
    score[:5] = np.round(score[:5], 1)  # ties and bin edges
    return LabelArrays("binary", y_true, (score >= 0.5).astype(np.int64), score)


def _regression(seed: int, n: int = 300) -> LabelArrays:
    rng = np.random.default_rng(seed)
    y_true = rng.normal(10, 3, n)
    y_true[:7] = 0.0  # zero targets: left out of mape only
    return LabelArrays("regression", y_true, y_true + rng.normal(0.5, 2, n))


def _multiclass(seed: int, n: int = 300) -> LabelArrays:
    rng = np.random.default_rng(seed)
    classes = np.array(["cat", "dog", "eel"])
    y_true = classes[rng.integers(0, 3, n)]
    y_pred = np.where(rng.random(n) < 0.7, y_true, classes[rng.integers(0, 3, n)])
    return LabelArrays("multiclass", y_true, y_pred)


BINARY_REFERENCE = {
    "accuracy": lambda a: skm.accuracy_score(a.y_true, a.y_pred),
    "balanced_accuracy": lambda a: skm.balanced_accuracy_score(a.y_true, a.y_pred),
    "precision": lambda a: skm.precision_score(a.y_true, a.y_pred),
    "recall": lambda a: skm.recall_score(a.y_true, a.y_pred),
    "f1": lambda a: skm.f1_score(a.y_true, a.y_pred),
    "roc_auc": lambda a: skm.roc_auc_score(a.y_true, a.y_score),
    "average_precision": lambda a: skm.average_precision_score(a.y_true, a.y_score),
    "log_loss": lambda a: skm.log_loss(a.y_true, a.y_score, labels=[0, 1]),
    "brier": lambda a: skm.brier_score_loss(a.y_true, a.y_score),
    "positive_rate": lambda a: a.y_true.mean(),
}
REGRESSION_REFERENCE = {
    "mae": lambda a: skm.mean_absolute_error(a.y_true, a.y_pred),
    "rmse": lambda a: math.sqrt(skm.mean_squared_error(a.y_true, a.y_pred)),
    "r2": lambda a: skm.r2_score(a.y_true, a.y_pred),
    "median_absolute_error": lambda a: skm.median_absolute_error(a.y_true, a.y_pred),
    "mean_error": lambda a: np.mean(a.y_pred - a.y_true),
    "mape": lambda a: skm.mean_absolute_percentage_error(
        a.y_true[a.y_true != 0], a.y_pred[a.y_true != 0]
    ),
}
MULTICLASS_REFERENCE = {
    "accuracy": lambda a: skm.accuracy_score(a.y_true, a.y_pred),
    "balanced_accuracy": lambda a: skm.balanced_accuracy_score(a.y_true, a.y_pred),
    "precision": lambda a: skm.precision_score(a.y_true, a.y_pred, average="macro"),
    "recall": lambda a: skm.recall_score(a.y_true, a.y_pred, average="macro"),
    "f1": lambda a: skm.f1_score(a.y_true, a.y_pred, average="macro"),
    "f1_weighted": lambda a: skm.f1_score(a.y_true, a.y_pred, average="weighted"),
}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binary_metrics_match_sklearn(seed):
    arrays = _binary(seed)
    for name, reference in BINARY_REFERENCE.items():
        assert METRICS[name].compute(arrays) == pytest.approx(reference(arrays), rel=1e-12), name


@pytest.mark.parametrize("seed", [0, 1])
def test_regression_and_multiclass_metrics_match_sklearn(seed):
    arrays = _regression(seed)
    for name, reference in REGRESSION_REFERENCE.items():
        assert METRICS[name].compute(arrays) == pytest.approx(reference(arrays), rel=1e-12), name
    arrays = _multiclass(seed)
    for name, reference in MULTICLASS_REFERENCE.items():
        assert METRICS[name].compute(arrays) == pytest.approx(reference(arrays), rel=1e-12), name


def test_every_registered_metric_has_an_independent_reference():
    covered = set(BINARY_REFERENCE) | set(REGRESSION_REFERENCE) | set(MULTICLASS_REFERENCE)
    ranking = {m.name for m in METRICS.values() if m.tasks == ("ranking",)}  # test_ranking.py
    assert set(METRICS) - covered - ranking == {"calibration_error"}  # tested on its own below


def test_calibration_error_is_the_binned_gap_of_calibration_curve():
    arrays = _binary(3, n=1_000)
    true, predicted = calibration_curve(arrays.y_true, arrays.y_score, n_bins=10)
    ids = np.searchsorted(np.linspace(0, 1, 11)[1:-1], arrays.y_score)
    counts = np.bincount(ids, minlength=10)
    counts = counts[counts > 0]
    expected = float(np.sum(counts / arrays.y_true.size * np.abs(true - predicted)))
    assert METRICS["calibration_error"].compute(arrays) == pytest.approx(expected, rel=1e-12)
    perfect = LabelArrays("binary", np.array([0, 1] * 50), np.zeros(100, int), np.full(100, 0.5))
    assert METRICS["calibration_error"].compute(perfect) == pytest.approx(0.0)


def test_undefined_metrics_are_nan_not_zero():
    one_class = LabelArrays("binary", np.zeros(50, int), np.zeros(50, int), np.linspace(0, 0.4, 50))
    for name in ("roc_auc", "average_precision", "recall", "precision", "f1"):
        assert math.isnan(METRICS[name].compute(one_class)), name
    assert METRICS["accuracy"].compute(one_class) == 1.0
    empty = LabelArrays("binary", np.zeros(0, int), np.zeros(0, int), np.zeros(0))
    for metric in METRICS.values():
        if "binary" in metric.tasks:
            assert math.isnan(metric.compute(empty)), metric.name
    no_score = LabelArrays("binary", np.array([0, 1]), np.array([0, 1]), None)
    assert math.isnan(METRICS["log_loss"].compute(no_score))


def test_equal_predictions_give_chance_auc_and_the_prevalence_as_precision():
    y_true = np.array([0, 1] * 100)
    arrays = LabelArrays("binary", y_true, np.ones(200, int), np.full(200, 0.7))
    assert METRICS["roc_auc"].compute(arrays) == pytest.approx(0.5)
    assert METRICS["precision"].compute(arrays) == pytest.approx(0.5)
    assert METRICS["recall"].compute(arrays) == 1.0
    assert METRICS["average_precision"].compute(arrays) == pytest.approx(
        skm.average_precision_score(y_true, np.full(200, 0.7))
    )


def test_mape_leaves_zero_targets_out():
    arrays = LabelArrays("regression", np.array([0.0, 2.0, 4.0]), np.array([5.0, 3.0, 3.0]))
    assert METRICS["mape"].compute(arrays) == pytest.approx((0.5 + 0.25) / 2)
    zeros = LabelArrays("regression", np.zeros(3), np.ones(3))
    assert math.isnan(METRICS["mape"].compute(zeros))


def test_too_few_rows_names_the_count_that_is_short():
    arrays = _binary(0, n=99)
    assert "99 < 100" in METRICS["accuracy"].too_few(arrays)
    arrays = _binary(0, n=2_000)
    assert METRICS["accuracy"].too_few(arrays) is None
    rare = LabelArrays("binary", np.r_[np.ones(20, int), np.zeros(500, int)], np.zeros(520, int))
    assert "20 positives" in METRICS["recall"].too_few(rare)
    assert "predicted positives" in METRICS["precision"].too_few(rare)
    assert METRICS["accuracy"].too_few(rare) is None


def test_wilson_interval_matches_the_closed_form_and_contains_the_estimate():
    low, high = registry.wilson(5, 10)
    assert (low, high) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    low, high = registry.wilson(0, 30)
    assert low == 0 and 0 < high < 0.12
    assert all(math.isnan(v) for v in registry.wilson(0, 0))
    wider = registry.wilson(5, 10, confidence=0.999)
    assert wider[0] < 0.2366 and wider[1] > 0.7634


def test_mean_and_quantile_intervals_cover_their_estimates():
    values = np.random.default_rng(0).exponential(50, 2_000)
    low, high = registry.mean_interval(values)
    assert low < values.mean() < high
    assert high - low == pytest.approx(2 * 1.959964 * values.std(ddof=1) / math.sqrt(2_000))
    low, high = registry.quantile_interval(values, 0.95)
    assert low < np.percentile(values, 95) < high


def test_bootstrap_is_seeded_and_its_interval_shrinks_with_rows():
    small, large = _binary(0, n=200), _binary(0, n=4_000)
    first = METRICS["roc_auc"].interval(small)
    assert METRICS["roc_auc"].interval(small) == first
    assert first[0] < METRICS["roc_auc"].compute(small) < first[1]
    wide = first[1] - first[0]
    narrow = np.subtract(*METRICS["roc_auc"].interval(large)[::-1])
    assert narrow < wide


def test_unknown_metric_and_wrong_task_are_named():
    with pytest.raises(InputError, match="unknown metric 'recal'; available: accuracy"):
        registry.metrics_for("binary", ["recal"])
    with pytest.raises(InputError, match="does not apply to a regression target"):
        registry.metrics_for("regression", ["recall"])


def test_every_metric_declares_a_direction_or_is_shown_only():
    lower = {m.name for m in METRICS.values() if m.higher_is_better is False}
    assert {"log_loss", "brier", "mae", "rmse", "mape", "median_absolute_error"} <= lower
    assert METRICS["recall"].higher_is_better is True
    shown = {m.name for m in METRICS.values() if not m.judged}
    assert shown == {"calibration_error", "positive_rate", "mean_error"}


# ---- properties ----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.floats(0, 1, allow_nan=False)), min_size=1, max_size=60),
    st.floats(0.05, 0.95),
)
def test_binary_metrics_agree_with_sklearn_on_any_input(rows, threshold):
    y_true = np.array([int(t) for t, _ in rows])
    score = np.array([s for _, s in rows])
    arrays = LabelArrays("binary", y_true, (score >= threshold).astype(int), score)
    both = 0 < y_true.sum() < y_true.size
    expected = {
        "accuracy": skm.accuracy_score(y_true, arrays.y_pred),
        "precision": skm.precision_score(y_true, arrays.y_pred, zero_division=np.nan),
        "recall": skm.recall_score(y_true, arrays.y_pred, zero_division=np.nan),
        "f1": skm.f1_score(y_true, arrays.y_pred, zero_division=np.nan),
        "brier": skm.brier_score_loss(y_true, score),
        "log_loss": skm.log_loss(y_true, score, labels=[0, 1]),
        "roc_auc": skm.roc_auc_score(y_true, score) if both else math.nan,
        "average_precision": (
            skm.average_precision_score(y_true, score) if y_true.any() else math.nan
        ),
    }
    for name, value in expected.items():
        ours = METRICS[name].compute(arrays)
        if math.isnan(value):
            assert math.isnan(ours), name
        else:
            assert ours == pytest.approx(value, rel=1e-9, abs=1e-12), name
    low, high = METRICS["accuracy"].interval(arrays)
    assert low <= expected["accuracy"] <= high


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 300), st.sampled_from([1, 2, 3, 17]))
def test_fast_bootstrap_statistics_are_bit_for_bit_those_of_the_copied_resample(seed, n, digits):
    """Metric.resampled (weights on rows sorted once) gives exactly compute(take(rows))."""
    rng = np.random.default_rng(seed)
    y_true = (rng.random(n) < rng.random()).astype(np.int64)
    score = np.round(rng.random(n), digits)  # ties (17 digits: every score distinct)
    arrays = LabelArrays("binary", y_true, (score >= 0.5).astype(np.int64), score)
    for name in ("roc_auc", "average_precision", "f1", "balanced_accuracy"):
        metric = METRICS[name]
        statistic = metric.resampled(arrays)
        for rows in [np.arange(n)] + [rng.integers(0, n, n) for _ in range(3)]:
            fast, copied = statistic(rows), metric.compute(arrays.take(rows))
            assert fast == copied or (math.isnan(fast) and math.isnan(copied)), name


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 300), st.integers(0, 4))
def test_fast_bootstrap_median_is_bit_for_bit_that_of_the_copied_resample(seed, n, digits):
    rng = np.random.default_rng(seed)
    y_true = rng.normal(size=n)
    arrays = LabelArrays("regression", y_true, y_true + np.round(rng.normal(size=n), digits))
    metric = METRICS["median_absolute_error"]
    statistic = metric.resampled(arrays)
    for rows in [np.arange(n)] + [rng.integers(0, n, n) for _ in range(3)]:
        assert statistic(rows) == metric.compute(arrays.take(rows))
