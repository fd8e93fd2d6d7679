"""Multiclass score metrics from per-class probabilities (ColumnSpec(class_scores=…)):
definitions against scikit-learn, NaN policy, the report, bad inputs, the baseline file."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
)
from sklearn.preprocessing import label_binarize

import monitorkit as mk
from monitorkit.errors import ColumnNotFoundError, ColumnSpecError, InputError
from monitorkit.performance.labels import prepare_labels
from monitorkit.performance.metrics import METRICS, LabelArrays, mean_interval

SCORE_METRICS = ("roc_auc", "average_precision", "log_loss", "brier")
CLASSES = ("bird", "cat", "dog")
SKLEARN_MULTICLASS_BRIER = tuple(int(v) for v in sklearn.__version__.split(".")[:2]) >= (1, 7)


def _arrays(y_true, scores, classes) -> LabelArrays:
    y_true = np.asarray(y_true, dtype=str)
    y_pred = np.asarray(classes, dtype=str)[np.nanargmax(np.nan_to_num(scores, nan=-1), axis=1)]
    return LabelArrays("multiclass", y_true, y_pred, np.asarray(scores, float), tuple(classes))


def _random_case(seed: int, n: int, k: int, grid: int | None):
    """Labels covering every class and probability rows summing to 1, informative about the
    label; with ``grid``, multiples of 1 / grid (many ties)."""
    rng = np.random.default_rng(seed)
    classes = tuple(f"c{i}" for i in range(k))
    codes = np.r_[np.arange(k), rng.integers(0, k, n - k)]
    raw = rng.dirichlet(np.ones(k), n) + 0.8 * np.eye(k)[codes] * rng.random((n, 1))
    scores = raw / raw.sum(axis=1, keepdims=True)
    if grid is not None:
        scores = np.array([rng.multinomial(grid, row / row.sum()) for row in scores]) / grid
    return np.asarray(classes)[codes], scores, classes


def _hand_brier(y_true, scores, classes) -> float:
    one_hot = (np.asarray(y_true)[:, None] == np.asarray(classes)[None, :]).astype(float)
    return float(np.mean(np.sum((scores - one_hot) ** 2, axis=1)))


def _sklearn(name: str, y_true, scores, classes) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rows off 1 by a rounding error: sklearn may warn
        if name == "roc_auc":
            return roc_auc_score(
                y_true, scores, multi_class="ovr", average="macro", labels=list(classes)
            )
        if name == "average_precision":
            truth = label_binarize(y_true, classes=list(classes))
            return average_precision_score(truth, scores, average="macro")
        if name == "log_loss":
            return log_loss(y_true, scores, labels=list(classes))
        if SKLEARN_MULTICLASS_BRIER:
            return brier_score_loss(y_true, scores, labels=list(classes))
        return _hand_brier(y_true, scores, classes)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(8, 80),
    k=st.integers(3, 5),
    grid=st.sampled_from([None, 4, 10]),
)
def test_each_score_metric_equals_scikit_learns(seed, n, k, grid):
    y_true, scores, classes = _random_case(seed, n, k, grid)
    arrays = _arrays(y_true, scores, classes)
    for name in SCORE_METRICS:
        expected = _sklearn(name, y_true, scores, classes)
        assert METRICS[name].compute(arrays) == pytest.approx(expected, rel=1e-9, abs=1e-12), name


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_brier_is_the_hand_formula_and_log_loss_clips_without_renormalising(seed):
    y_true, scores, classes = _random_case(seed, 50, 4, None)
    arrays = _arrays(y_true, scores, classes)
    assert METRICS["brier"].compute(arrays) == pytest.approx(
        _hand_brier(y_true, scores, classes), rel=1e-12
    )
    # A zero probability on the true class is clipped to float64 eps, rows are not rescaled.
    hard = np.array([[0.0, 1.0, 0.0], [0.5, 0.25, 0.0]])
    labels = np.array(["a", "a"])
    found = METRICS["log_loss"].compute(_arrays(labels, hard, ("a", "b", "c")))
    eps = np.finfo(np.float64).eps
    assert found == pytest.approx((-math.log(eps) - math.log(0.5)) / 2, rel=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the second row sums to 0.75
        assert found == pytest.approx(log_loss(labels, hard, labels=["a", "b", "c"]), rel=1e-12)


def test_a_class_absent_from_the_window_leaves_auc_and_ap_undefined():
    rng = np.random.default_rng(3)
    scores = rng.dirichlet(np.ones(3), 200)
    y_true = np.where(rng.random(200) < 0.5, "bird", "cat")  # no dog in this window
    arrays = _arrays(y_true, scores, CLASSES)
    assert math.isnan(METRICS["roc_auc"].compute(arrays))
    assert math.isnan(METRICS["average_precision"].compute(arrays))
    assert METRICS["roc_auc"].too_few(arrays) == "too few rows (0 rows of class 'dog' < 30)"
    # Log loss and Brier are defined without every class (as sklearn with labels=…).
    assert METRICS["log_loss"].compute(arrays) == pytest.approx(
        _sklearn("log_loss", y_true, scores, CLASSES), rel=1e-12
    )
    assert METRICS["brier"].compute(arrays) == pytest.approx(
        _hand_brier(y_true, scores, CLASSES), rel=1e-12
    )
    assert METRICS["log_loss"].too_few(arrays) is None


def test_a_small_class_is_too_few_to_judge_but_still_computed():
    rng = np.random.default_rng(4)
    y_true = np.array(["bird"] * 150 + ["cat"] * 150 + ["dog"] * 10)
    scores = rng.dirichlet(np.ones(3), y_true.size)
    arrays = _arrays(y_true, scores, CLASSES)
    assert METRICS["roc_auc"].too_few(arrays) == "too few rows (10 rows of class 'dog' < 30)"
    assert METRICS["roc_auc"].compute(arrays) == pytest.approx(
        _sklearn("roc_auc", y_true, scores, CLASSES), rel=1e-12
    )


def _frame(n: int, signal: float, *, seed: int, noise: float = 1.0) -> pd.DataFrame:
    """Three classes; the model's probabilities a softmax of ``signal`` on the true class plus
    normal noise; the predicted label the most probable class."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 3, n)
    logits = signal * np.eye(3)[codes] + noise * rng.normal(size=(n, 3))
    probabilities = np.exp(logits)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    frame = pd.DataFrame(
        {
            "ts": pd.date_range("2026-01-01", periods=n, freq="min"),
            "label": np.asarray(CLASSES)[codes],
            "pred": np.asarray(CLASSES)[probabilities.argmax(axis=1)],
            "age": rng.normal(40, 10, n),
        }
    )
    for k, cls in enumerate(CLASSES):
        frame[f"p_{cls}"] = probabilities[:, k]
    return frame


SPEC = mk.ColumnSpec(
    target="label",
    prediction="pred",
    timestamp="ts",
    class_scores={cls: f"p_{cls}" for cls in CLASSES},
)


def test_missing_scores_leave_rows_out_of_the_score_metrics_only():
    frame = _frame(400, 2.0, seed=5)
    frame.loc[frame.index[:40], "p_cat"] = np.nan
    prepared = prepare_labels(frame, "label", "pred", class_scores=SPEC.class_scores)
    assert prepared.classes == CLASSES and prepared.y_score.shape == (400, 3)
    assert prepared.usable.all()  # the predicted label is there: accuracy counts the row
    arrays = prepared.arrays(np.arange(400))
    scored = frame.iloc[40:]
    scores = scored[[f"p_{c}" for c in CLASSES]].to_numpy()
    for name in SCORE_METRICS:
        expected = _sklearn(name, scored["label"].to_numpy(), scores, CLASSES)
        assert METRICS[name].compute(arrays) == pytest.approx(expected, rel=1e-12), name
    assert METRICS["accuracy"].compute(arrays) == pytest.approx(
        float((frame["label"] == frame["pred"]).mean())
    )
    assert METRICS["log_loss"].too_few(arrays) is None  # 360 scored rows
    low, high = METRICS["log_loss"].interval(arrays, confidence=0.95)
    per_row = -np.log(scores[np.arange(360), scored["label"].map(CLASSES.index).to_numpy()])
    assert (low, high) == pytest.approx(mean_interval(per_row, 0.95), rel=1e-12)


def test_intervals_brier_normal_and_auc_bootstrap():
    arrays = prepare_labels(
        _frame(600, 1.5, seed=6), "label", "pred", class_scores=SPEC.class_scores
    ).arrays(np.arange(600))
    for name in SCORE_METRICS:
        value = METRICS[name].compute(arrays)
        low, high = METRICS[name].interval(arrays)
        assert low < value < high, name
        assert high - low < 0.2, name


def test_declared_classes_without_rows_widen_the_classes():
    frame = _frame(300, 2.0, seed=7)
    frame = frame[frame["label"] != "dog"]
    prepared = prepare_labels(frame, "label", "pred", class_scores=SPEC.class_scores)
    assert prepared.classes == CLASSES
    assert math.isnan(METRICS["roc_auc"].compute(prepared.arrays(np.arange(len(frame)))))


def test_numbered_classes_with_class_scores_are_multiclass():
    frame = _frame(300, 2.0, seed=9)
    numbered = frame.assign(
        label=frame["label"].map(CLASSES.index), pred=frame["pred"].map(CLASSES.index)
    )
    scores = {k: f"p_{cls}" for k, cls in enumerate(CLASSES)}  # keys read as text
    prepared = prepare_labels(numbered, "label", "pred", class_scores=scores)
    assert prepared.task == "multiclass" and prepared.classes == ("0", "1", "2")
    expected = _sklearn(
        "log_loss",
        frame["label"].to_numpy(),
        frame[[f"p_{c}" for c in CLASSES]].to_numpy(),
        CLASSES,
    )
    found = METRICS["log_loss"].compute(prepared.arrays(np.arange(300)))
    assert found == pytest.approx(expected, rel=1e-12)


def test_without_class_scores_there_are_no_score_metrics():
    frame = _frame(600, 2.0, seed=8)
    spec = mk.ColumnSpec(target="label", prediction="pred", timestamp="ts")
    prepared = prepare_labels(frame, "label", "pred")
    assert prepared.y_score is None
    report = mk.PerformanceReport(frame, spec, baseline=frame)
    assert not set(SCORE_METRICS) & set(report.to_frame()["metric"])
    assert not set(SCORE_METRICS) & set(mk.Baseline.from_frame(frame, spec).metrics)


def _severity(report, metric: str) -> str:
    frame = report.to_frame()
    rows = frame[(frame["metric"] == metric) & (frame["window"] == "all")]
    rows = rows[rows["segment"] == "all"]
    assert len(rows) == 1, metric
    return rows.iloc[0]["severity"]


def test_flattened_probabilities_are_critical_while_the_labels_stay_right():
    reference = _frame(3_000, 3.0, seed=10)
    baseline = mk.Baseline.from_frame(reference, SPEC, model="animals")
    for name in SCORE_METRICS:
        assert name in baseline.metrics
    current = _frame(3_000, 3.0, seed=11)
    rng = np.random.default_rng(12)
    truth = np.eye(3)[current["label"].map(CLASSES.index).to_numpy()]
    flat = np.exp(0.3 * truth + rng.normal(size=truth.shape))
    flat /= flat.sum(axis=1, keepdims=True)
    degraded = current.copy()
    for k, cls in enumerate(CLASSES):
        degraded[f"p_{cls}"] = flat[:, k]

    report = mk.PerformanceReport(degraded, SPEC, baseline=baseline)
    assert _severity(report, "log_loss") == "critical"
    assert _severity(report, "roc_auc") == "critical"
    assert _severity(report, "accuracy") == "ok"  # the predicted labels did not change
    assert report.severity == "critical"

    same = mk.PerformanceReport(reference, SPEC, baseline=baseline)
    for name in (*SCORE_METRICS, "accuracy"):
        assert _severity(same, name) == "ok", name
    assert same.severity == "ok"
    assert mk.PerformanceReport(current, SPEC, baseline=baseline, by="1D").severity == "ok"


def test_the_baseline_file_round_trips_the_spec_and_loads_old_files(tmp_path):
    baseline = mk.Baseline.from_frame(_frame(500, 2.0, seed=13), SPEC, model="animals")
    path = baseline.save(tmp_path / "animals.json")
    loaded = mk.Baseline.load(path)
    assert loaded.spec.spec == SPEC
    assert dict(loaded.spec.spec.class_scores) == {c: f"p_{c}" for c in CLASSES}
    assert loaded.spec.prediction == "pred"
    assert {loaded.spec[f"p_{c}"].role for c in CLASSES} == {"prediction"}
    assert loaded.metrics["log_loss"] == pytest.approx(baseline.metrics["log_loss"])
    report = mk.PerformanceReport(_frame(500, 2.0, seed=14), baseline=loaded)  # its spec
    assert _severity(report, "brier") == "ok"

    # A file written before class_scores existed has no such key in its spec.
    old = json.loads(path.read_text())
    del old["profile"]["spec"]["spec"]["class_scores"]
    (tmp_path / "old.json").write_text(json.dumps(old))
    before = mk.Baseline.load(tmp_path / "old.json")
    assert before.spec.spec.class_scores is None
    assert before.spec.prediction == "pred"
    assert before.metrics["log_loss"] == pytest.approx(baseline.metrics["log_loss"])
    plain = mk.ColumnSpec(target="label", prediction="pred")
    assert "class_scores" not in plain.to_dict()  # what older versions read
    assert mk.ColumnSpec.from_dict(plain.to_dict()) == plain


def test_class_score_columns_are_predictions_not_features():
    frame = _frame(500, 2.0, seed=15)
    resolved = SPEC.resolve(frame)
    assert resolved.prediction == "pred"
    assert resolved.features == ["age"]
    assert {resolved[f"p_{c}"].role for c in CLASSES} == {"prediction"}
    assert resolved["p_cat"].reason == "declared class score of 'cat'"
    assert mk.ResolvedSpec.from_dict(resolved.to_dict()) == resolved
    # Undeclared prediction: the class scores are never taken for it.
    spec = mk.ColumnSpec(target="label", class_scores=SPEC.class_scores)
    assert spec.resolve(frame).prediction is None
    assert spec.resolve(frame).prediction_label == "pred"
    drift = mk.DriftReport(frame, _frame(500, 2.0, seed=16), spec=SPEC).to_frame()
    roles = dict(zip(drift["column"], drift["role"]))
    assert {roles[f"p_{c}"] for c in CLASSES} == {"prediction"}
    assert hash(SPEC) == hash(mk.ColumnSpec.from_dict(SPEC.to_dict()))
    assert mk.ColumnSpec(class_scores={}).class_scores is None


def test_bad_class_scores_are_named():
    frame = _frame(300, 2.0, seed=17)
    with pytest.raises(InputError, match=r"class\(es\) 'dog' without a score column"):
        mk.PerformanceReport(
            frame,
            mk.ColumnSpec(
                target="label", prediction="pred", class_scores={"bird": "p_bird", "cat": "p_cat"}
            ),
        )
    with pytest.raises(ColumnSpecError, match="names 'p_cow' as the class score of 'dog', but"):
        mk.PerformanceReport(
            frame,
            mk.ColumnSpec(
                target="label",
                prediction="pred",
                class_scores={"bird": "p_bird", "cat": "p_cat", "dog": "p_cow"},
            ),
        )
    with pytest.raises(ColumnNotFoundError, match="'p_cow' as the probability of class 'dog'"):
        prepare_labels(
            frame, "label", "pred", class_scores={"bird": "p_bird", "cat": "p_cat", "dog": "p_cow"}
        )
    text = frame.assign(p_cat=frame["p_cat"].map(lambda v: f"{v:.0%}"))
    with pytest.raises(InputError, match="class score column 'p_cat' .class 'cat'. must hold"):
        mk.PerformanceReport(text, SPEC)
    outside = frame.assign(p_dog=frame["p_dog"] * 100)
    with pytest.raises(InputError, match=r"'p_dog' \(class 'dog'\) has \d+ value\(s\) outside"):
        mk.PerformanceReport(outside, SPEC)
    with pytest.raises(ColumnSpecError, match="must map each class to a column name"):
        mk.ColumnSpec(class_scores={"cat": 3})
    with pytest.raises(ColumnSpecError, match="more than one class"):
        mk.ColumnSpec(class_scores={"cat": "p", "dog": "p"})
    with pytest.raises(ColumnSpecError, match="must be a mapping"):
        mk.ColumnSpec(class_scores=["p_cat"])
    with pytest.raises(ColumnSpecError, match="declared both as target and as the class score"):
        mk.ColumnSpec(target="label", class_scores={"cat": "label"}).resolve(frame)


def test_on_dask_input_the_score_metrics_say_why_they_are_not_computed():
    dd = pytest.importorskip("dask.dataframe")
    frame = _frame(600, 2.0, seed=18)
    report = mk.PerformanceReport(dd.from_pandas(frame, npartitions=3), SPEC, baseline=frame)
    rows = report.to_frame()
    rows = rows[(rows["window"] == "all") & (rows["segment"] == "all")].set_index("metric")
    for name in SCORE_METRICS:
        assert math.isnan(rows.loc[name, "value"])
        assert rows.loc[name, "skipped"].startswith(
            "not computed on Dask input: multiclass scores (ColumnSpec.class_scores)"
        )
    assert rows.loc["accuracy", "value"] == pytest.approx((frame["label"] == frame["pred"]).mean())
