"""Multiclass targets: each frequent class's precision, recall and F1 against the rest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import precision_recall_fscore_support

import monitorkit as mk
from monitorkit.performance.metrics import MAX_CLASS_METRICS, class_metrics

SPEC = mk.ColumnSpec(target="y", prediction="pred")
CLASSES = ["cat", "dog", "bird"]


def _frame(n: int, accuracy: dict[str, float], seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.choice(CLASSES, n, p=[0.5, 0.3, 0.2])
    pred = y.copy()
    for cls, share in accuracy.items():
        wrong = (y == cls) & (rng.random(n) > share)
        pred[wrong] = rng.choice(CLASSES, int(wrong.sum()))
    return pd.DataFrame({"y": y, "pred": pred})


def test_per_class_values_equal_scikit_learns():
    frame = _frame(3_000, {"cat": 0.8, "dog": 0.6, "bird": 0.7}, seed=1)
    report = mk.PerformanceReport(frame, SPEC, baseline=frame)
    values = report.to_frame().query("window == 'all' and segment == 'all' and not estimated")
    values = values.set_index("metric")["value"]
    precision, recall, f1, _ = precision_recall_fscore_support(
        frame["y"], frame["pred"], labels=CLASSES, zero_division=np.nan
    )
    for i, cls in enumerate(CLASSES):
        assert values[f"precision[{cls}]"] == pytest.approx(precision[i])
        assert values[f"recall[{cls}]"] == pytest.approx(recall[i])
        assert values[f"f1[{cls}]"] == pytest.approx(f1[i])


def test_a_drop_in_one_class_is_named_by_that_class():
    reference = _frame(6_000, {c: 0.9 for c in CLASSES}, seed=2)
    current = _frame(6_000, {"cat": 0.9, "dog": 0.9, "bird": 0.4}, seed=3)
    report = mk.PerformanceReport(current, SPEC, baseline=reference)
    assert report.severity == "critical"
    assert report.worst.metric == "recall[bird]"
    frame = report.to_frame().query("window == 'all' and segment == 'all'").set_index("metric")
    assert frame.loc["recall[cat]", "severity"] == "ok"
    assert frame.loc["recall[dog]", "severity"] == "ok"
    baseline = mk.Baseline.from_frame(reference, SPEC)
    assert baseline.metrics["recall[bird]"] == pytest.approx(frame.loc["recall[bird]", "baseline"])


def test_a_rare_class_is_too_few_on_its_own_not_for_the_others():
    frame = _frame(3_000, {"cat": 0.9}, seed=4)
    frame.loc[frame.index[:20], "y"] = "fox"  # 20 rows of a fifth class
    report = mk.PerformanceReport(frame, SPEC, baseline=frame)
    rows = report.to_frame().query("window == 'all' and segment == 'all'").set_index("metric")
    assert rows.loc["recall[fox]", "skipped"].startswith("too few rows (20 positives")
    assert pd.isna(rows.loc["recall[cat]", "skipped"])


def test_only_the_most_frequent_classes_get_metrics():
    classes = [f"c{i:02d}" for i in range(MAX_CLASS_METRICS + 5)]
    names = {m.name for m in class_metrics(classes)}
    assert len(names) == 3 * MAX_CLASS_METRICS
    assert f"recall[{classes[MAX_CLASS_METRICS - 1]}]" in names
    assert f"recall[{classes[MAX_CLASS_METRICS]}]" not in names


def test_many_classes_and_windows_stay_quiet_when_nothing_changed():
    # 12 classes x 3 per-class metrics x 15 daily windows: the per-class intervals share the
    # false-alarm rate (metrics.class_confidence), so nearly every null run stays ok.
    classes = [f"k{i}" for i in range(12)]
    spec = mk.ColumnSpec(target="y", prediction="pred", timestamp="ts")
    alarms = 0
    for seed in range(10):
        rng = np.random.default_rng(seed)

        def draw(n: int, rng=rng) -> pd.DataFrame:
            y = rng.choice(classes, n)
            pred = np.where(rng.random(n) < 0.8, y, rng.choice(classes, n))
            ts = pd.date_range("2026-01-01", periods=n, freq="min")
            return pd.DataFrame({"ts": ts, "y": y, "pred": pred})

        report = mk.PerformanceReport(draw(20_000), spec, baseline=draw(20_000), by="1D")
        assert len({v.metric for v in report.result.values if "[" in v.metric}) == 36
        alarms += report.severity != "ok"
    assert alarms <= 1, alarms
