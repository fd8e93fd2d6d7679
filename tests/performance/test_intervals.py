"""The closed-form intervals of the metrics that have one (DeLong for ROC AUC, the delta method
for F1, per-class proportions for balanced accuracy, the logit interval for average
precision, order statistics for the median absolute error): against independent references
and by their coverage of a known population value."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from monitorkit.performance.metrics import METRICS, LabelArrays, bootstrap, delong_variance


def _placements_reference(y_true: np.ndarray, y_score: np.ndarray) -> tuple[float, float]:
    """DeLong's structural components by their definition, pair by pair (O(m·n))."""
    positives, negatives = y_score[y_true == 1], y_score[y_true == 0]
    wins = (positives[:, None] > negatives[None, :]) + 0.5 * (
        positives[:, None] == negatives[None, :]
    )
    v10, v01 = wins.mean(axis=1), wins.mean(axis=0)
    m, n = positives.size, negatives.size
    return float(wins.mean()), float(v10.var(ddof=1) / m + v01.var(ddof=1) / n)


@settings(max_examples=80, deadline=None)
@given(
    truth=st.lists(st.integers(0, 1), min_size=6, max_size=60),
    seed=st.integers(0, 2**16),
    ties=st.booleans(),
)
def test_delong_variance_matches_its_definition(truth, seed, ties):
    y_true = np.array(truth)
    if min((y_true == 1).sum(), (y_true == 0).sum()) < 2:
        return
    rng = np.random.default_rng(seed)
    y_score = rng.random(y_true.size)
    if ties:
        y_score = np.round(y_score, 1)
    auc, variance = delong_variance(y_true, y_score)
    expected_auc, expected_variance = _placements_reference(y_true, y_score)
    assert auc == pytest.approx(roc_auc_score(y_true, y_score))
    assert auc == pytest.approx(expected_auc)
    assert variance == pytest.approx(expected_variance)


def _binary(n: int, rng: np.random.Generator, shift: float = 1.0) -> LabelArrays:
    y_true = (rng.random(n) < 0.4).astype(np.int64)
    y_score = norm.cdf(rng.normal(loc=shift * y_true - 0.4, scale=1.0))
    y_pred = (y_score >= 0.5).astype(np.int64)
    return LabelArrays("binary", y_true, y_pred, y_score)


def _population(metric: str, shift: float = 1.0) -> float:
    """The population value, from closed forms or one very large sample."""
    if metric == "roc_auc":
        return float(norm.cdf(shift / math.sqrt(2)))  # binormal, unit variances
    return METRICS[metric].compute(_binary(2_000_000, np.random.default_rng(99), shift))


@pytest.mark.parametrize("metric", ["roc_auc", "f1", "balanced_accuracy", "average_precision"])
def test_the_95_percent_interval_covers_the_population_value(metric):
    truth = _population(metric)
    rng = np.random.default_rng(5)
    covered = []
    for _ in range(400):
        lower, upper = METRICS[metric].interval(_binary(2_000, rng), confidence=0.95)
        covered.append(lower <= truth <= upper)
    coverage = float(np.mean(covered))
    # 400 draws: a true 95% coverage lands in [0.92, 0.98] with probability > 0.99
    assert 0.92 <= coverage <= 0.98, coverage


def test_median_absolute_error_interval_covers_the_population_median():
    truth = float(norm.ppf(0.75))  # the median of |N(0, 1)|
    rng = np.random.default_rng(6)
    covered = []
    for _ in range(400):
        y_true = rng.normal(size=1_500)
        arrays = LabelArrays("regression", y_true, y_true + rng.normal(size=1_500))
        lower, upper = METRICS["median_absolute_error"].interval(arrays, confidence=0.95)
        covered.append(lower <= truth <= upper)
    assert 0.92 <= float(np.mean(covered)) <= 0.99


@pytest.mark.parametrize("metric", ["roc_auc", "f1", "balanced_accuracy"])
def test_the_closed_forms_agree_with_the_bootstrap(metric):
    arrays = _binary(5_000, np.random.default_rng(11))
    lower, upper = METRICS[metric].interval(arrays, confidence=0.95)
    boot_lower, boot_upper = bootstrap(
        lambda rows: METRICS[metric].compute(arrays.take(rows)), len(arrays), confidence=0.95
    )
    assert (upper - lower) / (boot_upper - boot_lower) == pytest.approx(1.0, abs=0.2)


def test_multiclass_f1_falls_back_to_the_bootstrap():
    rng = np.random.default_rng(3)
    labels = np.array(["a", "b", "c"])
    y_true = labels[rng.integers(0, 3, 600)]
    y_pred = np.where(rng.random(600) < 0.7, y_true, labels[rng.integers(0, 3, 600)])
    arrays = LabelArrays("multiclass", y_true, y_pred)
    lower, upper = METRICS["f1"].interval(arrays, confidence=0.95)
    value = METRICS["f1"].compute(arrays)
    assert lower < value < upper
    boot = bootstrap(lambda rows: METRICS["f1"].compute(arrays.take(rows)), 600)
    assert (lower, upper) == pytest.approx(boot)


def test_balanced_accuracy_interval_by_hand():
    # class 0: 80 of 100 right; class 1: 30 of 50 right
    y_true = np.r_[np.zeros(100, int), np.ones(50, int)]
    y_pred = np.r_[np.zeros(80, int), np.ones(20, int), np.ones(30, int), np.zeros(20, int)]
    lower, upper = METRICS["balanced_accuracy"].interval(
        LabelArrays("binary", y_true, y_pred), confidence=0.95
    )
    sd = math.sqrt((0.8 * 0.2 / 100 + 0.6 * 0.4 / 50) / 4)
    assert (lower, upper) == pytest.approx((0.7 - 1.959964 * sd, 0.7 + 1.959964 * sd), abs=1e-6)
