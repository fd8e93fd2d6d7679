"""Operational figures of the performance report: throughput, memory / CPU columns, and
business outcomes declared in the notebook-parameter form (``"name:lower"``)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import monitorkit as mk
from monitorkit.performance.report import RESOURCE_COLUMNS


def _served(n: int, *, seed: int, start: str, every: str, memory: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "ts": pd.date_range(start, periods=n, freq=every),
            "x": rng.normal(size=n),
            "memory_mb": rng.normal(memory, 4.0, n),
            "cpu_ms": rng.gamma(4.0, 2.0, n),
            "cost": rng.gamma(2.0, 1.0, n),
        }
    )


SPEC = mk.ColumnSpec(timestamp="ts")


def _cell(report, metric, window="all"):
    frame = report.to_frame()
    rows = frame[(frame["metric"] == metric) & (frame["window"] == window)]
    rows = rows[rows["segment"] == "all"]
    assert len(rows) == 1
    return rows.iloc[0]


def test_throughput_is_rows_per_second_of_the_data_span_shown_not_judged():
    reference = _served(3_601, seed=1, start="2026-01-01", every="1s", memory=100)
    current = _served(1_801, seed=2, start="2026-02-01", every="2s", memory=100)
    report = mk.PerformanceReport(current, SPEC, baseline=reference, by="10min")
    whole = _cell(report, "throughput")
    assert whole["value"] == pytest.approx(1_801 / 3_600)
    assert whole["baseline"] == pytest.approx(3_601 / 3_600)
    assert whole["skipped"] == "shown, not judged"
    assert whole["severity"] == "ok"
    first = report.result.windows[1]
    assert _cell(report, "throughput", first.window)["value"] == pytest.approx(300 / 600)


def test_a_partly_covered_window_is_not_read_as_a_slump():
    current = _served(900, seed=2, start="2026-02-01 00:05", every="1s", memory=100)
    report = mk.PerformanceReport(current, SPEC, baseline=current, by="1h")
    (window,) = report.result.windows[1:]
    assert _cell(report, "throughput", window.window)["value"] == pytest.approx(900 / 899)


def test_memory_and_cpu_columns_are_judged_by_their_mean_lower_is_better():
    reference = _served(5_000, seed=1, start="2026-01-01", every="1min", memory=100)
    heavier = _served(5_000, seed=2, start="2026-02-01", every="1min", memory=125)
    lighter = _served(5_000, seed=3, start="2026-02-01", every="1min", memory=70)
    worse = mk.PerformanceReport(heavier, SPEC, baseline=reference)
    row = _cell(worse, "memory_mb")
    assert row["value"] == pytest.approx(heavier["memory_mb"].mean())
    assert row["baseline"] == pytest.approx(reference["memory_mb"].mean())
    assert row["severity"] == "critical"
    assert _cell(worse, "cpu_ms")["severity"] == "ok"
    assert (
        _cell(mk.PerformanceReport(lighter, SPEC, baseline=reference), "memory_mb")["severity"]
        == "ok"
    )
    assert {name for name, _ in RESOURCE_COLUMNS} <= set(worse.to_frame()["metric"])


def test_a_baseline_stores_the_resource_means():
    reference = _served(2_000, seed=1, start="2026-01-01", every="1min", memory=100)
    baseline = mk.Baseline.from_frame(reference, SPEC)
    assert baseline.metrics["memory_mb"] == pytest.approx(reference["memory_mb"].mean())
    assert baseline.metrics["cpu_ms"] == pytest.approx(reference["cpu_ms"].mean())


@pytest.mark.parametrize(("key", "bad_when"), [("cost:lower", "higher"), ("cost:higher", "lower")])
def test_a_business_direction_can_be_written_in_the_name(key, bad_when):
    reference = _served(5_000, seed=1, start="2026-01-01", every="1min", memory=100)
    current = reference.copy()
    current["cost"] = current["cost"] * (1.5 if bad_when == "higher" else 0.5)
    report = mk.PerformanceReport(current, SPEC, baseline=reference, business={key: "cost"})
    row = _cell(report, "cost")
    assert row["severity"] == "critical"
    info = next(m for m in report.result.metrics if m.name == "cost")
    assert info.higher_is_better is (bad_when == "lower")
    assert not math.isnan(row["baseline"])
