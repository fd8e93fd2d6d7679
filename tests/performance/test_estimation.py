"""Confidence-based performance estimation: the calibration against scikit-learn, the expected
confusion matrix by hand, unbiasedness, the band under covariate shift, divergence under
concept shift, and the input errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import roc_auc_score

import monitorkit as mk
from monitorkit.errors import InputError
from monitorkit.performance.estimation import (
    CONFUSION_KEYS,
    ESTIMATED_METRICS,
    Calibration,
    Estimate,
    diverges,
    estimate,
    expected_roc_auc,
    fit_calibration,
)
from monitorkit.performance.labels import prepare_labels
from monitorkit.performance.metrics import METRICS, LabelArrays
from monitorkit.schema import resolve_spec

IDENTITY = Calibration((0.0, 1.0), (0.0, 1.0), threshold=0.5, chunk_rows=100)


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-v))


def _logistic(rng, n: int, mean: float, intercept: float = -1.0, slope: float = 2.0):
    """x ~ N(mean, 1), P(y = 1 | x) = sigmoid(intercept + slope·x); the model's score is a
    monotone but miscalibrated function of x (so the isotonic calibration has work to do)."""
    x = rng.normal(mean, 1.0, n)
    y = (rng.random(n) < _sigmoid(intercept + slope * x)).astype(np.int64)
    score = _sigmoid(0.6 * (-1.0 + 2.0 * x) + 0.3)
    return y, score


def _realised(y: np.ndarray, score: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    arrays = LabelArrays("binary", y, (score >= threshold).astype(np.int64), score)
    return {name: METRICS[name].compute(arrays) for name in ESTIMATED_METRICS}


# ---- the calibration is sklearn's isotonic regression -----------------------------------------


@settings(max_examples=80, deadline=None)
@given(
    labels=st.lists(st.integers(0, 1), min_size=1, max_size=60),
    data=st.data(),
)
def test_apply_equals_isotonic_predict(labels, data):
    scores = data.draw(
        st.lists(
            st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.5001, 0.9, 1.0])
            | st.floats(0, 1, allow_nan=False),
            min_size=len(labels),
            max_size=len(labels),
        )
    )
    isotonic = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1)
    isotonic.fit(np.array(scores), np.array(labels, dtype=float))
    calibration = Calibration(
        tuple(isotonic.X_thresholds_.tolist()), tuple(isotonic.y_thresholds_.tolist())
    )
    probes = np.r_[np.linspace(-0.5, 1.5, 41), scores, isotonic.X_thresholds_]
    np.testing.assert_array_equal(calibration.apply(probes), isotonic.predict(probes))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fit_calibration_stores_sklearns_breakpoints(seed):
    rng = np.random.default_rng(seed)
    score = np.round(rng.beta(2, 3, 3000), 3)  # ties
    y = (rng.random(3000) < score**0.7).astype(int)
    calibration = fit_calibration(y, score)
    isotonic = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(score, y)
    assert calibration.x_thresholds == tuple(isotonic.X_thresholds_.tolist())
    assert calibration.y_thresholds == tuple(isotonic.y_thresholds_.tolist())
    probes = np.r_[rng.random(500), -1.0, 2.0, score]
    np.testing.assert_array_equal(calibration.apply(probes), isotonic.predict(probes))
    assert calibration.reference_rows == 3000 and calibration.chunk_rows == 300
    assert np.isnan(calibration.apply([np.nan]))[0]


def test_calibration_round_trips_through_json():
    rng = np.random.default_rng(5)
    score = rng.random(2000)
    calibration = fit_calibration((rng.random(2000) < score).astype(int), score, threshold=0.4)
    loaded = Calibration.from_dict(json.loads(json.dumps(calibration.to_dict())))
    assert loaded == calibration
    assert set(loaded.chunk_sd) == set(ESTIMATED_METRICS)
    np.testing.assert_array_equal(loaded.apply(score), calibration.apply(score))


def test_chunk_spread_of_accuracy_matches_the_binomial_spread():
    """The realised accuracy of a chunk of m rows has sd sqrt(a(1 − a)/m); the pooled spread
    over shuffled chunks recovers it (an independent check of chunk_sd)."""
    rng = np.random.default_rng(3)
    score = rng.random(40_000)
    y = (rng.random(40_000) < score).astype(int)
    calibration = fit_calibration(y, score, chunk_rows=1000)
    accuracy = float(((score >= 0.5) == y).mean())
    binomial = math.sqrt(accuracy * (1 - accuracy) / 1000)
    assert calibration.chunk_sd["accuracy"] == pytest.approx(binomial, rel=0.15)
    assert calibration.spread("accuracy", 4000) == pytest.approx(
        calibration.chunk_sd["accuracy"] / 2
    )


# ---- the expected confusion matrix ------------------------------------------------------------


def test_expected_confusion_matrix_by_hand():
    # p = [0.9, 0.2, 0.6, 0.1] with predicted labels [1, 1, 0, 0]:
    # TP = 0.9 + 0.2, FP = 0.1 + 0.8, FN = 0.6 + 0.1, TN = 0.4 + 0.9
    result = estimate(IDENTITY, [0.9, 0.2, 0.6, 0.1], y_pred=[1, 1, 0, 0])
    assert [result[k] for k in CONFUSION_KEYS] == pytest.approx([1.1, 0.9, 0.7, 1.3])
    assert result["rows"] == 4
    assert result["accuracy"].value == pytest.approx(2.4 / 4)
    assert result["precision"].value == pytest.approx(1.1 / 2.0)
    assert result["recall"].value == pytest.approx(1.1 / 1.8)
    assert result["f1"].value == pytest.approx(2.2 / (2.2 + 0.9 + 0.7))
    # without y_pred: score >= 0.5 → [1, 0, 1, 0]
    by_threshold = estimate(IDENTITY, [0.9, 0.2, 0.6, 0.1])
    assert [by_threshold[k] for k in CONFUSION_KEYS] == pytest.approx([1.5, 0.5, 0.3, 1.7])


def test_expected_confusion_matrix_is_the_mean_over_label_draws():
    """With perfectly calibrated probabilities, the expected counts are the average of the
    realised counts over many draws of the labels (Monte Carlo, 4000 draws)."""
    rng = np.random.default_rng(11)
    p = rng.beta(1, 2, 60)
    predicted = (rng.random(60) < 0.5).astype(int)
    draws = (rng.random((4000, 60)) < p).astype(int)
    realised = {
        "tp": (draws * predicted).sum(1),
        "fp": ((1 - draws) * predicted).sum(1),
        "fn": (draws * (1 - predicted)).sum(1),
        "tn": ((1 - draws) * (1 - predicted)).sum(1),
    }
    result = estimate(IDENTITY, p, y_pred=predicted)
    for key, counts in realised.items():
        standard_error = counts.std() / math.sqrt(counts.size)
        assert abs(result[key] - counts.mean()) < 4 * standard_error + 1e-9, key


@settings(max_examples=60, deadline=None)
@given(
    p=st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=40),
    data=st.data(),
)
def test_expected_counts_add_up(p, data):
    predicted = data.draw(st.lists(st.integers(0, 1), min_size=len(p), max_size=len(p)))
    p_array, predicted_array = np.array(p), np.array(predicted)
    result = estimate(IDENTITY, p_array, y_pred=predicted_array)
    assert sum(result[k] for k in CONFUSION_KEYS) == pytest.approx(len(p))
    assert result["tp"] + result["fn"] == pytest.approx(p_array.sum())
    assert result["tp"] + result["fp"] == pytest.approx(predicted_array.sum())
    for name in ESTIMATED_METRICS:
        value = result[name].value
        assert math.isnan(value) or -1e-12 <= value <= 1 + 1e-12, name


def test_estimated_roc_auc_is_the_pairwise_closed_form():
    rng = np.random.default_rng(2)
    score = np.round(rng.random(150), 1)  # many ties
    p = rng.random(150)
    greater = score[:, None] > score[None, :]
    tied = score[:, None] == score[None, :]
    pairs = p[:, None] * (1 - p[None, :])
    closed_form = (pairs * greater).sum() + 0.5 * (pairs * tied).sum()
    closed_form /= p.sum() * (1 - p).sum()
    assert expected_roc_auc(score, p) == pytest.approx(closed_form, rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_estimated_roc_auc_with_certain_probabilities_is_the_realised_one(seed):
    rng = np.random.default_rng(seed)
    y = (rng.random(300) < 0.3).astype(int)
    score = np.round(np.clip(0.3 * y + rng.random(300) * 0.7, 0, 1), 2)  # ties
    assert expected_roc_auc(score, y.astype(float)) == pytest.approx(
        roc_auc_score(y, score), rel=1e-12
    )


# ---- the band --------------------------------------------------------------------------------


def test_band_is_z_times_the_scaled_chunk_spread_clipped_to_0_1():
    calibration = Calibration(
        (0.0, 1.0), (0.0, 1.0), chunk_rows=400, chunk_sd={"accuracy": 0.02, "recall": 0.1}
    )
    score = np.tile([0.1, 0.3, 0.8, 0.95], 25)  # 100 rows
    result = estimate(calibration, score, confidence=0.9)
    half = 1.6448536269514722 * 0.02 * math.sqrt(400 / 100)
    accuracy = result["accuracy"]
    assert accuracy.lower == pytest.approx(accuracy.value - half)
    assert accuracy.upper == pytest.approx(accuracy.value + half)
    recall = result["recall"]  # 0.81 + 0.33 is clipped at 1
    assert recall.upper == 1.0
    assert recall.lower == pytest.approx(recall.value - 1.6448536269514722 * 0.1 * 2)
    assert math.isnan(result["precision"].lower) and math.isnan(result["precision"].upper)
    assert not math.isnan(result["precision"].value)  # the value without a band


def test_nan_scores_are_left_out():
    score = np.array([0.9, np.nan, 0.2, 0.6, np.nan, 0.1])
    with_nan = estimate(IDENTITY, score)
    without = estimate(IDENTITY, score[np.isfinite(score)])
    assert with_nan["rows"] == 4
    assert [with_nan[k] for k in CONFUSION_KEYS] == [without[k] for k in CONFUSION_KEYS]
    assert with_nan["roc_auc"].value == without["roc_auc"].value
    empty = estimate(IDENTITY, [np.nan, np.nan])
    assert empty["rows"] == 0
    assert all(math.isnan(empty[name].value) for name in ESTIMATED_METRICS)


def test_diverges_only_outside_a_known_band():
    band = Estimate(0.8, 0.75, 0.85)
    assert diverges(band, 0.7) and diverges(band, 0.86)
    assert not diverges(band, 0.75) and not diverges(band, 0.8)
    assert not diverges(band, math.nan)
    assert not diverges(Estimate(0.8, math.nan, math.nan), 0.1)


# ---- statistical behaviour -------------------------------------------------------------------


def test_estimates_are_unbiased_with_calibrated_probabilities():
    """Scores that are true probabilities: over 300 windows, the mean of estimated − realised
    is within 4 standard errors of 0 (and small) for every metric."""
    rng = np.random.default_rng(7)
    differences = {name: [] for name in ESTIMATED_METRICS}
    for _ in range(300):
        score = rng.beta(2, 3, 500)
        y = (rng.random(500) < score).astype(np.int64)
        estimated = estimate(IDENTITY, score)
        realised = _realised(y, score)
        for name in ESTIMATED_METRICS:
            differences[name].append(estimated[name].value - realised[name])
    for name, found in differences.items():
        found = np.array(found)
        standard_error = found.std(ddof=1) / math.sqrt(found.size)
        assert abs(found.mean()) < max(4 * standard_error, 0.002), name
        assert abs(found.mean()) < 0.01, name


def test_estimates_with_a_fitted_calibration_are_close_to_realised_on_average():
    rng = np.random.default_rng(8)
    y, score = _logistic(rng, 20_000, 0.0)
    calibration = fit_calibration(y, score)
    differences = {name: [] for name in ESTIMATED_METRICS}
    for _ in range(100):
        y, score = _logistic(rng, 1000, 0.0)
        estimated = estimate(calibration, score)
        realised = _realised(y, score)
        for name in ESTIMATED_METRICS:
            differences[name].append(estimated[name].value - realised[name])
    for name, found in differences.items():
        assert abs(np.mean(found)) < 0.01, name


def test_covariate_shift_realised_stays_inside_the_band():
    """P(y | x) fixed, x's mean moves from −0.5 to 1.5 over 40 windows of 1000 rows (the
    realised accuracy and recall move far more than the band is wide): for 5 references, the
    realised accuracy and recall lie inside the 95% band in at least 90% of all 200 windows
    (at least 80% for each reference), and the estimate follows the realised value."""
    inside = {"accuracy": [], "recall": []}
    for seed in range(5):
        rng = np.random.default_rng(100 + seed)
        y, score = _logistic(rng, 20_000, 0.0)
        calibration = fit_calibration(y, score)
        estimated_by_window = {name: [] for name in inside}
        realised_by_window = {name: [] for name in inside}
        for mean in np.linspace(-0.5, 1.5, 40):
            y, score = _logistic(rng, 1000, mean)
            estimated = estimate(calibration, score)
            realised = _realised(y, score)
            for name in inside:
                inside[name].append(not diverges(estimated[name], realised[name]))
                estimated_by_window[name].append(estimated[name].value)
                realised_by_window[name].append(realised[name])
        for name in inside:
            assert np.mean(inside[name][-40:]) >= 0.8, (seed, name)
            realised_values = np.array(realised_by_window[name])
            assert np.ptp(realised_values) > 0.05  # the shift is real
            assert np.corrcoef(estimated_by_window[name], realised_values)[0, 1] > 0.8
    for name, found in inside.items():
        assert np.mean(found) >= 0.9, name


def test_concept_shift_diverges():
    """20 windows with the reference's P(y | x), then 10 where it changed (the intercept
    falls from −1 to −3: fewer positives at the same score) while the scores' distribution
    stays: accuracy diverges in every changed window and in few unchanged ones."""
    rng = np.random.default_rng(21)
    y, score = _logistic(rng, 20_000, 0.0)
    calibration = fit_calibration(y, score)
    unchanged, changed = [], []
    for window in range(30):
        intercept = -1.0 if window < 20 else -3.0
        y, score = _logistic(rng, 1000, 0.0, intercept=intercept)
        result = estimate(calibration, score)
        flag = diverges(result["accuracy"], _realised(y, score)["accuracy"])
        (unchanged if window < 20 else changed).append(flag)
    assert all(changed)
    assert sum(unchanged) <= 3


# ---- scenarios ------------------------------------------------------------------------------


def _windows_of(name: str, rows_per_window: int = 1000):
    """A baseline from the scenario's reference; current cut into windows of equal rows,
    each before or after the change; per window (after_change, estimates, realised)."""
    scenario = mk.datasets.load_scenario(name, n_rows=20_000)
    baseline = mk.Baseline.from_frame(scenario.reference, scenario.spec)
    assert baseline.calibration is not None
    current = scenario.current.sort_values(scenario.truth.roles["timestamp"])
    resolved = resolve_spec(scenario.spec, current, names=["current"])
    prepared = prepare_labels(current, resolved.target, resolved.prediction)
    times = pd.to_datetime(current[resolved.timestamp], utc=True).reset_index(drop=True)
    change = scenario.truth.change_start
    windows = []
    for start in range(0, len(current) - rows_per_window + 1, rows_per_window):
        rows = np.arange(start, start + rows_per_window)
        arrays = prepared.arrays(rows)
        after = None
        if change is not None:
            change_time = pd.Timestamp(change)
            if (times.iloc[rows] >= change_time).all():
                after = True
            elif (times.iloc[rows] < change_time).all():
                after = False
            else:
                continue  # straddles the change
        realised = {name: METRICS[name].compute(arrays) for name in ESTIMATED_METRICS}
        windows.append((after, estimate(baseline.calibration, arrays.y_score), realised))
    return windows


def test_no_change_scenario_stays_inside_the_band():
    windows = _windows_of("no_change")
    assert len(windows) >= 15
    for name in ("accuracy", "recall"):
        inside = [not diverges(est[name], real[name]) for _, est, real in windows]
        assert np.mean(inside) >= 0.85, name


def test_imaging_scenario_divergence_is_reported_after_the_change():
    """The new scanner raises the scores of the same patients: P(y | score) changed, which
    CBPE cannot see, so realised accuracy leaves the band after the change (and not before)."""
    windows = _windows_of("imaging_equipment")
    before = [diverges(est["accuracy"], real["accuracy"]) for a, est, real in windows if not a]
    after = [diverges(est["accuracy"], real["accuracy"]) for a, est, real in windows if a]
    assert len(before) >= 3 and len(after) >= 5
    assert all(after)
    assert np.mean(before) <= 0.2


# ---- input errors ----------------------------------------------------------------------------


def _reference(n: int = 1000, seed: int = 0):
    rng = np.random.default_rng(seed)
    score = rng.random(n)
    return (rng.random(n) < score).astype(int), score


def test_one_class_only_is_named():
    _, score = _reference()
    with pytest.raises(InputError, match="only class 0 in y_true .*both classes"):
        fit_calibration(np.zeros(1000, dtype=int), score)


def test_too_few_rows_names_the_need_and_the_fix():
    y, score = _reference(400)
    with pytest.raises(InputError, match=r"400 labelled rows .* 500 needed .*chunk_rows"):
        fit_calibration(y, score)
    assert fit_calibration(y, score, chunk_rows=50).chunk_rows == 50


def test_scores_outside_0_1_are_refused_with_the_fix():
    y, score = _reference()
    with pytest.raises(InputError, match=r"y_score has 1 value\(s\) outside \[0, 1\].*predict_"):
        fit_calibration(y, np.r_[score[:-1], 3.5])
    calibration = fit_calibration(y, score)
    with pytest.raises(InputError, match=r"y_score has 2 value\(s\) outside \[0, 1\]"):
        estimate(calibration, [0.2, -0.1, np.inf])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda y, s: fit_calibration(y[:-1], s), "y_true has 999 rows but the scores have 1,000"),
        (lambda y, s: fit_calibration(y * 2, s), "y_true must hold 0/1 labels.*found 2.0"),
        (lambda y, s: fit_calibration(y, s, threshold=1.5), "threshold must be a number in"),
        (lambda y, s: fit_calibration(y, s, chunk_rows=0), "chunk_rows must be a positive"),
        (lambda y, s: fit_calibration(y, s, chunk_rows=2.5), "chunk_rows must be a positive"),
        (lambda y, s: estimate(IDENTITY, s, confidence=95), "confidence must be between 0"),
        (lambda y, s: estimate(IDENTITY, s, y_pred=y[:3]), "y_pred has 3 rows"),
        (lambda y, s: fit_calibration(y, ["a"] * 1000), "y_score must be numbers"),
    ],
)
def test_caller_mistakes_raise_input_error(call, message):
    y, score = _reference()
    with pytest.raises(InputError, match=message):
        call(y, score)


def test_calibration_refuses_unsorted_breakpoints():
    with pytest.raises(InputError, match="x_thresholds must increase"):
        Calibration((0.5, 0.2), (0.1, 0.9))
    with pytest.raises(InputError, match="as many x_thresholds as y_thresholds"):
        Calibration((0.1, 0.2), (0.5,))
