"""The baseline's calibration for estimation without labels: when it is fitted, that it is the
same as fitting by hand on prepare_labels' arrays, save / load, and old files without it."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import monitorkit as mk
from monitorkit.errors import ReportFormatError
from monitorkit.performance.estimation import (
    ESTIMATED_METRICS,
    CalibrationWarning,
    estimate,
    fit_calibration,
)
from monitorkit.performance.labels import prepare_labels


def _frame(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    score = 1 / (1 + np.exp(-(0.8 * x - 0.3)))
    label = (rng.random(n) < 1 / (1 + np.exp(-(2 * x - 1)))).astype(int)
    score[:7] = np.nan  # rows without a score are left out
    return pd.DataFrame({"x": x, "score": score, "label": label})


SPEC = {"target": "label", "prediction": "score"}


def _no_calibration_warning(frame, spec):
    with warnings.catch_warnings():
        warnings.simplefilter("error", CalibrationWarning)
        return mk.Baseline.from_frame(frame, spec)


def test_binary_baseline_stores_the_calibration_of_its_usable_rows():
    frame = _frame()
    baseline = _no_calibration_warning(frame, SPEC)
    usable = frame["score"].notna().to_numpy()
    expected = fit_calibration(frame["label"][usable], frame["score"][usable])
    assert baseline.calibration == expected
    assert baseline.calibration.reference_rows == 1993
    assert set(baseline.calibration.chunk_sd) == set(ESTIMATED_METRICS)


def test_text_labels_and_a_prediction_label_use_prepare_labels_encoding():
    frame = _frame()
    frame["label"] = np.where(frame["label"] == 1, "yes", "no")
    frame["decision"] = np.where(frame["score"] >= 0.3, "yes", "no")  # not score >= 0.5
    spec = {**SPEC, "prediction_label": "decision"}
    baseline = _no_calibration_warning(frame, spec)
    prepared = prepare_labels(frame, "label", "score", "decision")
    rows = prepared.usable
    expected = fit_calibration(
        prepared.y_true[rows], prepared.y_score[rows], y_pred=prepared.y_pred[rows]
    )
    assert baseline.calibration == expected
    by_threshold = fit_calibration(prepared.y_true[rows], prepared.y_score[rows])
    assert baseline.calibration.chunk_sd != by_threshold.chunk_sd  # y_pred was used


def test_save_load_round_trip_keeps_the_calibration(tmp_path):
    baseline = mk.Baseline.from_frame(_frame(), SPEC)
    loaded = mk.Baseline.load(baseline.save(tmp_path / "baseline.json"))
    assert loaded.calibration == baseline.calibration
    assert loaded == baseline
    scores = np.linspace(0, 1, 101)
    np.testing.assert_array_equal(
        loaded.calibration.apply(scores), baseline.calibration.apply(scores)
    )
    assert estimate(loaded.calibration, scores) == estimate(baseline.calibration, scores)


def test_baseline_files_without_calibration_still_load(tmp_path):
    baseline = mk.Baseline.from_frame(_frame(), SPEC)
    old = baseline.to_dict()
    del old["calibration"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    loaded = mk.Baseline.load(path)
    assert loaded.calibration is None
    assert loaded.metrics == baseline.metrics


def test_a_corrupt_calibration_is_a_format_error():
    data = mk.Baseline.from_frame(_frame(), SPEC).to_dict()
    data["calibration"]["y_thresholds"] = data["calibration"]["y_thresholds"][:-1]
    with pytest.raises(ReportFormatError, match="corrupt.*x_thresholds"):
        mk.Baseline.from_dict(data)


def test_no_calibration_without_a_binary_target_and_a_score():
    frame = _frame()
    assert _no_calibration_warning(frame.drop(columns="label"), None).calibration is None
    regression = frame.assign(label=frame["x"] * 3 + 1)
    assert _no_calibration_warning(regression, SPEC).calibration is None
    labels_only = frame.assign(decision=np.where(frame["score"] > 0.5, "a", "b"))
    labels_only["label"] = np.where(frame["label"] == 1, "a", "b")
    spec = {"target": "label", "prediction": "decision"}
    assert _no_calibration_warning(labels_only.drop(columns="score"), spec).calibration is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda f: f.assign(label=0), "only class 0"),
        (lambda f: f.head(300), "too few reference rows"),
        (lambda f: f.assign(score=f["score"] * 4 - 2), r"outside \[0, 1\]"),
    ],
)
def test_a_reference_that_cannot_be_calibrated_warns_and_keeps_the_rest(change, reason):
    frame = change(_frame())
    with pytest.warns(CalibrationWarning, match=f"no calibration stored.*{reason}"):
        baseline = mk.Baseline.from_frame(frame, SPEC)
    assert baseline.calibration is None
    assert "rows" in baseline.metrics
