"""PerformanceReport: direction and tolerance rules, scenarios, segments, labels, JSON."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

import monitorkit as mk
from monitorkit.errors import ColumnNotFoundError, InputError
from monitorkit.severity import Severity


def _classified(n: int, accuracy: float, *, seed: int = 0, start="2026-01-01") -> pd.DataFrame:
    """All-positive labels, a score of 0.9 on correct rows and 0.1 on wrong ones: accuracy
    exactly ``accuracy`` (rounded to a row)."""
    rng = np.random.default_rng(seed)
    correct = np.zeros(n, dtype=bool)
    correct[rng.permutation(n)[: round(accuracy * n)]] = True
    return pd.DataFrame(
        {
            "ts": pd.date_range(start, periods=n, freq="min"),
            "label": np.ones(n, dtype=int),
            "score": np.where(correct, 0.9, 0.1),
        }
    )


SPEC = mk.ColumnSpec(target="label", prediction="score", timestamp="ts")


def _cell(report, metric, window="all", segment="all", estimated=False):
    frame = report.to_frame()
    rows = frame[
        (frame["metric"] == metric)
        & (frame["window"] == window)
        & (frame["segment"] == segment)
        & (frame["estimated"] == estimated)
    ]
    assert len(rows) == 1, (metric, window, segment)
    return rows.iloc[0]


@pytest.mark.parametrize(
    ("current_accuracy", "expected"),
    [(0.80, "ok"), (0.704, "warning"), (0.672, "critical"), (0.95, "ok")],
)
def test_relative_drop_past_10_percent_warns_and_past_15_is_critical(current_accuracy, expected):
    baseline = _classified(5_000, 0.80, seed=1)
    current = _classified(5_000, current_accuracy, seed=2)
    report = mk.PerformanceReport(current, SPEC, baseline=baseline, metrics=["accuracy"])
    row = _cell(report, "accuracy")
    assert row["change"] == pytest.approx((current_accuracy - 0.8) / 0.8, abs=1e-3)
    assert row["severity"] == expected
    assert report.severity == expected


def test_tolerance_can_be_set_globally_and_per_metric():
    baseline, current = _classified(5_000, 0.80, seed=1), _classified(5_000, 0.704, seed=2)
    loose = mk.PerformanceReport(
        current,
        SPEC,
        baseline=baseline,
        metrics=["accuracy"],
        tolerance={"warning": 0.2, "critical": 0.3},
    )
    assert loose.severity == "ok"
    strict = mk.PerformanceReport(
        current,
        SPEC,
        baseline=baseline,
        metrics=["accuracy"],
        tolerance={"accuracy": {"warning": 0.05, "critical": 0.08}},
    )
    assert strict.severity == "critical"
    with pytest.raises(InputError, match="critical .* must not be below warning"):
        mk.PerformanceReport(
            current, SPEC, baseline=baseline, tolerance={"warning": 0.2, "critical": 0.1}
        )


def _regression(n: int, error: float) -> pd.DataFrame:
    truth = np.linspace(10, 20, n)
    offsets = np.where(np.arange(n) % 2 == 0, error - 0.1, error + 0.1)
    return pd.DataFrame({"y": truth, "yhat": truth + offsets})


@pytest.mark.parametrize(
    ("error", "expected"), [(1.0, "ok"), (1.12, "warning"), (1.2, "critical"), (0.8, "ok")]
)
def test_a_rise_of_a_lower_is_better_metric_is_what_warns(error, expected):
    spec = mk.ColumnSpec(target="y", prediction="yhat")
    report = mk.PerformanceReport(
        _regression(2_000, error), spec, baseline=_regression(2_000, 1.0), metrics=["mae"]
    )
    row = _cell(report, "mae")
    assert row["value"] == pytest.approx(error)
    assert row["severity"] == expected
    assert report.result.task == "regression"


def test_noise_in_a_small_window_does_not_alarm_when_the_baseline_is_in_the_interval():
    # Recall 0.6 in the baseline, 15 of 30 positives caught now: a 17% drop, but Wilson's
    # interval of 15/30 holds 0.6.
    rng = np.random.default_rng(0)

    def frame(n_pos, caught, n_neg=200):
        label = np.r_[np.ones(n_pos, int), np.zeros(n_neg, int)]
        score = np.r_[np.where(np.arange(n_pos) < caught, 0.9, 0.1), np.full(n_neg, 0.1)]
        order = rng.permutation(label.size)
        return pd.DataFrame({"label": label[order], "score": score[order]})

    spec = mk.ColumnSpec(target="label", prediction="score")
    report = mk.PerformanceReport(
        frame(30, 15), spec, baseline=frame(1_000, 600), metrics=["recall"]
    )
    row = _cell(report, "recall")
    assert row["change"] < -0.15 and pd.isna(row["skipped"])
    assert row["lower"] < row["baseline"] < row["upper"]
    assert row["severity"] == "ok"
    # The same drop with many rows is real.
    big = mk.PerformanceReport(
        frame(3_000, 1_500), spec, baseline=frame(1_000, 600), metrics=["recall"]
    )
    assert _cell(big, "recall")["severity"] == "critical"


def test_windows_with_too_few_rows_are_shown_and_never_alarm():
    baseline = _classified(2_000, 0.9)
    current = pd.concat(
        [_classified(500, 0.9, seed=3), _classified(60, 0.3, seed=4, start="2026-01-02")]
    )
    report = mk.PerformanceReport(current, SPEC, baseline=baseline, by="1D", metrics=["accuracy"])
    small = _cell(report, "accuracy", window="2026-01-02")
    assert small["value"] == pytest.approx(0.3, abs=0.02)
    assert small["skipped"].startswith("too few rows (60 < 100)")
    assert small["severity"] == "ok"
    assert report.severity == "ok"


@pytest.fixture(scope="module")
def scenarios():
    found = {}
    for name in ("imaging_equipment", "fraud_imbalance", "seasonal_retail"):
        scenario = mk.datasets.load_scenario(name, n_rows=20_000, seed=0)
        business = {"click_through_rate": "label"} if name == "seasonal_retail" else None
        baseline = mk.Baseline.from_frame(scenario.reference, scenario.spec, business=business)
        found[name] = (
            scenario,
            mk.PerformanceReport(scenario.current, baseline=baseline, by="1D", business=business),
        )
    return found


def test_imaging_equipment_accuracy_collapse_is_critical(scenarios):
    scenario, report = scenarios["imaging_equipment"]
    assert report.severity == "critical"
    assert _cell(report, "accuracy")["severity"] == "critical"
    assert "accuracy" in report.verdict
    # Windows before the new scanner are fine; after it, accuracy is critical.
    change = scenario.truth.change_start[:10]
    over_time = report.to_frame().query(
        "metric == 'accuracy' and segment == 'all' and window != 'all' and not estimated"
    )
    before = over_time[over_time["window"] < change]
    after = over_time[over_time["window"] > change]
    assert (before["severity"] == "ok").all()
    assert (after["severity"] == "critical").mean() > 0.8
    # The new scanner is the segment that fails.
    scanners = report.to_frame().query(
        "window == 'all' and metric == 'accuracy' and segment.str.startswith('scanner_model=')"
        " and not estimated"
    )
    worst = scanners.sort_values("change").iloc[0]
    assert worst["severity"] == "critical" and worst["change"] < -0.3


def test_fraud_recall_collapse_is_named_while_accuracy_stays_stable(scenarios):
    _, report = scenarios["fraud_imbalance"]
    assert report.severity == "critical"
    assert report.worst.metric == "recall"
    assert report.verdict.startswith("recall fell")
    assert _cell(report, "recall")["severity"] == "critical"
    accuracy = _cell(report, "accuracy")
    assert accuracy["severity"] == "ok" and abs(accuracy["change"]) < 0.01


def test_seasonal_retail_shows_the_click_through_drop(scenarios):
    scenario, report = scenarios["seasonal_retail"]
    row = _cell(report, "click_through_rate")
    truth = scenario.truth.metrics
    assert row["value"] == pytest.approx(truth["click_through_rate_current"], abs=1e-3)
    assert row["baseline"] == pytest.approx(truth["click_through_rate_reference"], abs=1e-3)
    assert row["severity"] == "critical"
    assert report.figures["click_through_rate.change"] < -0.15
    assert "click" in report.verdict and "since" in report.verdict


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("by", ["1D", 10])
def test_no_change_stays_ok_in_every_window(seed, by):
    scenario = mk.datasets.load_scenario("no_change", n_rows=20_000, seed=seed)
    baseline = mk.Baseline.from_frame(scenario.reference, scenario.spec)
    report = mk.PerformanceReport(scenario.current, baseline=baseline, by=by)
    frame = report.to_frame()
    assert len(frame["window"].unique()) > 5
    assert (frame["severity"] == "ok").all(), frame[frame["severity"] != "ok"]
    assert report.severity == "ok" and report.not_judged is None
    judged = frame[frame["skipped"].isna()]
    assert judged["metric"].nunique() >= 6  # most metrics were judged, not skipped


def test_a_drop_confined_to_one_segment_is_found_in_that_segment():
    scenario = mk.datasets.load_scenario("no_change", n_rows=20_000, seed=0)
    current = scenario.current.copy()
    south = current["region"] == "south"
    current.loc[south, "score"] = 1 - current.loc[south, "score"]  # the model inverted there
    baseline = mk.Baseline.from_frame(scenario.reference, scenario.spec)
    assert "roc_auc|region=south" in baseline.metrics
    report = mk.PerformanceReport(current, baseline=baseline)
    frame = report.to_frame().query("window == 'all' and metric == 'roc_auc' and not estimated")
    by_segment = frame.set_index("segment")
    assert by_segment.loc["region=south", "severity"] == "critical"
    others = [s for s in by_segment.index if s.startswith("region=") and s != "region=south"]
    assert others and (by_segment.loc[others, "severity"] == "ok").all()
    assert by_segment.loc["region=south", "baseline"] == baseline.metrics["roc_auc|region=south"]


def _regions(n_north: int, n_south: int, south_accuracy: float, seed: int) -> pd.DataFrame:
    north = _classified(n_north, 0.95, seed=seed).assign(region="north")
    south = _classified(n_south, south_accuracy, seed=seed + 1).assign(region="south")
    return pd.concat([north, south], ignore_index=True)


@pytest.mark.filterwarnings("ignore:no calibration stored")
def test_a_segment_that_was_always_worse_is_compared_with_its_own_baseline_only():
    """South was always at 70% (north at 95%): unchanged, it must not alarm against the
    whole's 82%. A baseline built without the segment column gives the segment no baseline;
    a value new since the baseline is compared with the whole."""
    reference = _regions(3_000, 3_000, 0.70, seed=0)
    current = pd.concat(
        [_regions(3_000, 3_000, 0.70, seed=10), _classified(2_000, 0.60, seed=20).assign(
            region="west")],
        ignore_index=True,
    )  # fmt: skip
    segmented = mk.ColumnSpec(target="label", prediction="score", segments=["region"])
    with_segments = mk.Baseline.from_frame(reference, segmented)
    without = mk.Baseline.from_frame(reference, mk.ColumnSpec(target="label", prediction="score"))

    report = mk.PerformanceReport(current, spec=segmented, baseline=with_segments)
    south = _cell(report, "accuracy", segment="region=south")
    assert south["baseline"] == with_segments.metrics["accuracy|region=south"]
    assert south["severity"] == "ok" and abs(south["change"]) < 0.05
    west = _cell(report, "accuracy", segment="region=west")  # new since the baseline
    assert west["baseline"] == with_segments.metrics["accuracy"]
    assert west["severity"] == "critical"

    blind = mk.PerformanceReport(current, spec=segmented, baseline=without)
    for segment in ("region=north", "region=south", "region=west"):
        cell = _cell(blind, "accuracy", segment=segment)
        assert math.isnan(cell["baseline"]) and cell["severity"] == "ok", segment
        assert "no baseline value for this segment" in cell["skipped"]
    assert _cell(blind, "accuracy")["baseline"] == without.metrics["accuracy"]


def test_the_baseline_metrics_are_the_reports_own():
    scenario = mk.datasets.load_scenario("no_change", n_rows=4_000, seed=0)
    baseline = mk.Baseline.from_frame(scenario.reference, scenario.spec)
    report = mk.PerformanceReport(scenario.reference, baseline=baseline)
    frame = report.to_frame()
    frame = frame[~frame["estimated"]]
    compared = frame[frame["baseline"].notna() & ~frame["metric"].str.startswith("latency")]
    assert len(compared) > 20
    assert np.allclose(compared["value"], compared["baseline"], rtol=1e-12)
    assert report.severity == "ok"


def test_current_without_labels_is_normal_and_says_so():
    scenario = mk.datasets.load_scenario("no_change", n_rows=4_000, seed=0)
    baseline = mk.Baseline.from_frame(scenario.reference, scenario.spec)
    for current in (
        scenario.current.drop(columns="label"),
        scenario.current.assign(label=pd.array([pd.NA] * len(scenario.current), dtype="Int64")),
    ):
        report = mk.PerformanceReport(current, baseline=baseline, by="1D")
        assert report.severity == "ok" and report.not_judged is None
        assert report.verdict.startswith("no labels in current yet")
        assert report.figures["label_coverage"] == 0
        frame = report.to_frame()
        realised = frame[~frame["estimated"]]
        assert not set(realised["metric"]) & {"accuracy", "recall"}
        # estimated from the baseline's calibration instead, and within tolerance
        estimated = frame[frame["estimated"] & (frame["window"] == "all")]
        assert {"accuracy", "recall", "roc_auc"} <= set(estimated["metric"])
        assert (estimated["severity"] == "ok").all()
        assert "accuracy.estimated" in report.figures
        assert "latency_p95" in set(frame["metric"])  # still judged
        assert all(w.labelled == 0 for w in report.result.windows)


def test_partial_labels_give_coverage_per_window_and_nan_scores_are_dropped_and_counted():
    scenario = mk.datasets.load_scenario("no_change", n_rows=4_000, seed=0)
    current = scenario.current.copy()
    current.loc[current.index[len(current) // 2 :], "label"] = np.nan
    current.loc[current.index[:10], "score"] = np.nan
    report = mk.PerformanceReport(current, baseline=scenario.reference, spec=scenario.spec, by=2)
    overall, first, second = report.result.windows
    assert first.label_coverage == 1.0 and second.label_coverage == 0.0
    assert overall.dropped == first.dropped == 10
    assert _cell(report, "accuracy")["n"] == len(current) // 2 - 10
    assert report.figures["label_coverage"] == pytest.approx(0.5)


def test_no_baseline_is_not_judged_and_critical():
    report = mk.PerformanceReport(_classified(500, 0.9), SPEC)
    assert report.not_judged and report.severity == "critical"
    assert "baseline" in report.verdict


def test_business_outcomes_follow_their_declared_direction():
    rng = np.random.default_rng(0)

    def frame(return_rate, revenue):
        n = 4_000
        return pd.DataFrame(
            {
                "label": rng.integers(0, 2, n),
                "score": rng.random(n),
                "returned": (rng.random(n) < return_rate).astype(int),
                "revenue": rng.normal(revenue, 5, n),
            }
        )

    business = {
        ("return_rate", "lower"): "returned",
        "revenue_per_prediction": lambda f: float(f["revenue"].sum() / len(f)),
    }
    spec = mk.ColumnSpec(target="label", prediction="score")
    reference = frame(0.10, 50.0)
    baseline = mk.Baseline.from_frame(reference, spec, business=business)
    assert baseline.metrics["return_rate"] == pytest.approx(reference["returned"].mean())
    worse = mk.PerformanceReport(frame(0.13, 50.0), spec, baseline=baseline, business=business)
    assert _cell(worse, "return_rate")["severity"] == "critical"
    assert _cell(worse, "revenue_per_prediction")["severity"] == "ok"
    better = mk.PerformanceReport(frame(0.07, 60.0), spec, baseline=baseline, business=business)
    assert _cell(better, "return_rate")["severity"] == "ok"
    poorer = mk.PerformanceReport(frame(0.10, 40.0), spec, baseline=baseline, business=business)
    assert _cell(poorer, "revenue_per_prediction")["severity"] == "critical"
    with pytest.raises(InputError, match="'lower'"):
        mk.PerformanceReport(
            frame(0.1, 50), spec, baseline=baseline, business={("x", "up"): "returned"}
        )


def test_latency_percentiles_and_error_rate_are_judged_lower_is_better():
    scenario = mk.datasets.load_scenario("no_change", n_rows=8_000, seed=0)
    reference = scenario.reference.assign(
        error=np.where(np.arange(len(scenario.reference)) % 50 == 0, "timeout", None)
    )
    baseline = mk.Baseline.from_frame(reference, scenario.spec)
    assert baseline.metrics["error_rate"] == pytest.approx(0.02)
    slow = scenario.current.assign(
        latency_ms=scenario.current["latency_ms"] * 1.5,
        error=np.where(np.arange(len(scenario.current)) % 10 == 0, "timeout", ""),
    )
    report = mk.PerformanceReport(slow, baseline=baseline)
    for name in ("latency_p50", "latency_p95", "latency_p99", "error_rate"):
        assert _cell(report, name)["severity"] == "critical", name
    assert _cell(report, "latency_p50")["baseline"] == baseline.latency["p50_ms"]
    fast = scenario.current.assign(latency_ms=scenario.current["latency_ms"] * 0.7, error=None)
    assert mk.PerformanceReport(fast, baseline=baseline).severity == "ok"


def test_json_round_trip_rebuilds_every_view():
    scenario = mk.datasets.load_scenario("fraud_imbalance", n_rows=6_000, seed=1)
    report = mk.PerformanceReport(
        scenario.current,
        baseline=scenario.reference,
        spec=scenario.spec,
        by=3,
        business={"fee": "interchange_fee_usd"},
    )
    text = report.to_json()
    loaded = mk.load_report(text)
    assert type(loaded) is mk.PerformanceReport and loaded == report
    assert loaded.verdict == report.verdict and loaded.severity == report.severity
    assert loaded.figures == report.figures
    pd.testing.assert_frame_equal(loaded.to_frame(), report.to_frame())
    assert json.loads(loaded.to_json()) == json.loads(text)
    assert loaded.result.windows[0].confusion == report.result.windows[0].confusion
    assert sum(map(sum, report.result.windows[0].confusion)) == report.result.windows[0].labelled
    assert all(math.isfinite(v) for v in report.figures.values())


def test_figures_are_flat_and_name_metrics_segments_and_coverage(scenarios):
    _, report = scenarios["imaging_equipment"]
    figures = report.figures
    assert {"accuracy", "accuracy.baseline", "accuracy.change", "label_coverage"} <= set(figures)
    assert any(name.startswith("accuracy|scanner_model=") for name in figures)
    assert figures["accuracy.change"] == pytest.approx(
        (figures["accuracy"] - figures["accuracy.baseline"]) / figures["accuracy.baseline"]
    )


def test_task_is_inferred_and_can_be_given():
    multiclass = pd.DataFrame(
        {"y": np.repeat(["a", "b", "c"], 100), "pred": np.tile(["a", "b", "c"], 100)}
    )
    spec = mk.ColumnSpec(target="y", prediction="pred")
    report = mk.PerformanceReport(multiclass, spec, baseline=multiclass)
    assert report.result.task == "multiclass"
    assert "f1_weighted" in set(report.to_frame()["metric"])
    assert len(report.result.windows[0].confusion) == 3
    numbers = pd.DataFrame({"y": np.arange(200) % 2, "p": (np.arange(200) % 2) * 0.8})
    spec = mk.ColumnSpec(target="y", prediction="p")
    assert mk.PerformanceReport(numbers, spec, baseline=numbers).result.task == "binary"
    as_regression = mk.PerformanceReport(numbers, spec, baseline=numbers, task="regression")
    assert as_regression.result.task == "regression"
    with pytest.raises(InputError, match="task must be one of"):
        mk.PerformanceReport(numbers, spec, baseline=numbers, task="survival")


def test_threshold_turns_scores_into_labels():
    frame = pd.DataFrame({"label": [1] * 100 + [0] * 100, "score": [0.6] * 100 + [0.4] * 100})
    spec = mk.ColumnSpec(target="label", prediction="score")
    at_half = mk.PerformanceReport(frame, spec, baseline=frame, metrics=["accuracy"])
    at_seventy = mk.PerformanceReport(
        frame, spec, baseline=frame, threshold=0.7, metrics=["accuracy"]
    )
    assert _cell(at_half, "accuracy")["value"] == 1.0
    assert _cell(at_seventy, "accuracy")["value"] == 0.5


def test_an_unknown_segment_column_is_named():
    with pytest.raises(ColumnNotFoundError, match="segment column"):
        mk.PerformanceReport(
            _classified(200, 0.9), SPEC, baseline=_classified(200, 0.9), segments=["regoin"]
        )


def test_the_severity_is_the_worst_values():
    baseline, current = _classified(5_000, 0.80, seed=1), _classified(5_000, 0.672, seed=2)
    report = mk.PerformanceReport(current, SPEC, baseline=baseline)
    assert report.severity == Severity.worst(v.severity for v in report.result.values)
    assert report.problems[0].severity == "critical"


def test_a_missing_or_unreadable_prediction_is_said_never_read_as_no_labels():
    scenario = mk.datasets.load_scenario("fraud_imbalance", n_rows=5_000, seed=0)
    baseline = mk.Baseline.from_frame(scenario.reference, scenario.spec)
    dropped = mk.PerformanceReport(scenario.current.drop(columns=["score"]), baseline=baseline)
    assert dropped.severity == "critical" and "no prediction column" in dropped.not_judged
    with pytest.raises(mk.errors.InputError, match="'score' holds neither scores"):
        mk.PerformanceReport(scenario.current.assign(score="n/a"), baseline=baseline)
    # A baseline without model metrics: a missing prediction is a note, not a break.
    unscored = mk.Baseline.from_frame(
        scenario.reference.drop(columns=["score"]), mk.ColumnSpec(target="label")
    )
    note = mk.PerformanceReport(scenario.current.drop(columns=["score"]), baseline=unscored)
    assert note.not_judged is None and "no prediction column" in note.verdict
    assert "no labels" not in note.verdict


def _conversions(n: int, columns: int, seed: int) -> pd.DataFrame:
    """Unchanged data: ``columns`` independent conversion flags at a 5% rate — a 10% change
    is one standard error in a window of 2,000 rows, so the interval, not the tolerance,
    decides."""
    rng = np.random.default_rng(seed)
    flags = {f"converted_{i}": (rng.random(n) < 0.05).astype(float) for i in range(columns)}
    return pd.DataFrame({"ts": pd.date_range("2026-01-01", periods=n, freq="min"), **flags})


def test_many_metrics_share_the_false_alarm_rate_too():
    """20 business metrics over 11 cells of unchanged data: with the level shared between
    cells only, each report held about 20 × 5% = 1 false exclusion (some 40% of reports
    alarmed); shared between cells and metrics, at most about 5% of reports alarm."""
    business = {f"converted_{i}": f"converted_{i}" for i in range(20)}
    spec = mk.ColumnSpec(timestamp="ts")
    alarmed = 0
    for seed in range(20):
        reference = _conversions(20_000, 20, seed=1_000 + seed)
        current = _conversions(20_000, 20, seed=2_000 + seed)
        baseline = mk.Baseline.from_frame(reference, spec, business=business)
        report = mk.PerformanceReport(current, spec, baseline=baseline, by=10, business=business)
        judged = report.to_frame().query("skipped.isna()")
        assert len(judged) == 20 * 11  # every metric of every cell was judged
        alarmed += report.severity != "ok"
    assert alarmed <= 3  # 20 reports at 5%: P(more than 3) < 2%


@pytest.mark.filterwarnings("ignore:no calibration stored")
def test_labels_in_current_without_a_model_metric_to_compare_with_are_not_judged():
    """Latency figures alone must not make a report look judged: a baseline without labels,
    or of another task than current's, leaves every model metric without a baseline."""
    scenario = mk.datasets.load_scenario("no_change", n_rows=6_000, seed=0)
    unlabelled = mk.Baseline.from_frame(
        scenario.reference.drop(columns="label"),
        mk.ColumnSpec(prediction="score", timestamp="timestamp"),
    )
    report = mk.PerformanceReport(scenario.current, spec=scenario.spec, baseline=unlabelled)
    assert report.labelled and _cell(report, "latency_p50")["severity"] == "ok"
    assert "none of the model metrics" in report.not_judged and "binary" in report.not_judged
    assert report.severity == "critical"

    three_classes = scenario.current.assign(
        label=np.random.default_rng(0).integers(0, 3, len(scenario.current))
    )
    baseline = mk.Baseline.from_frame(scenario.reference, scenario.spec)
    other_task = mk.PerformanceReport(three_classes, baseline=baseline)
    assert other_task.result.task == "regression"  # integer class ids read as regression
    assert "task=" in other_task.not_judged and other_task.severity == "critical"
    # the same data with a baseline of its own task is judged
    assert mk.PerformanceReport(scenario.current, baseline=baseline).not_judged is None


@pytest.mark.filterwarnings("ignore:no calibration stored")
def test_bad_report_inputs_are_named_with_the_fix():
    scenario = mk.datasets.load_scenario("no_change", n_rows=4_000, seed=0)
    baseline = mk.Baseline.from_frame(scenario.reference, scenario.spec)
    current = scenario.current
    with pytest.raises(InputError, match=r"unknown metric\(s\) 'recal' \(did you mean 'recall'"):
        mk.PerformanceReport(current, baseline=baseline, tolerance={"recal": {"warning": 0.05}})
    texts = current.assign(plan_value=current["plan"])  # words, not numbers
    with pytest.raises(InputError, match=r"business\['value'\] reads column 'plan_value'.*e\.g\."):
        mk.PerformanceReport(texts, baseline=baseline, business={"value": "plan_value"})

    def broken(rows):
        return rows["no_such_column"].mean()

    with pytest.raises(InputError, match=r"business\['fee'\]: the function raised KeyError"):
        mk.PerformanceReport(current, baseline=baseline, business={"fee": broken})
    assert baseline.calibration is not None
    margins = current.assign(score=current["score"] * 4 - 2)  # raw margins, not probabilities
    unlabelled = margins.drop(columns="label")
    with pytest.raises(InputError, match=r"prediction column 'score' has .* outside \[0, 1\]"):
        mk.PerformanceReport(unlabelled, baseline=baseline)


def test_a_baseline_file_brings_its_spec(tmp_path):
    """``baseline="file.json"`` without ``spec=``: the saved spec's roles and segments apply,
    as with the loaded Baseline."""
    scenario = mk.datasets.load_scenario("no_change", n_rows=4_000, seed=0)
    baseline = mk.Baseline.from_frame(scenario.reference, scenario.spec)
    path = baseline.save(tmp_path / "baseline.json")
    from_file = mk.PerformanceReport(scenario.current, baseline=str(path)).to_frame()
    loaded = mk.PerformanceReport(scenario.current, baseline=mk.Baseline.load(path)).to_frame()
    assert set(from_file["segment"]) == set(loaded["segment"]) and len(set(loaded["segment"])) > 1
    assert from_file["value"].equals(loaded["value"])


def test_a_current_too_small_to_judge_anything_is_not_a_green():
    scenario = mk.datasets.load_scenario("no_change", n_rows=4_000, seed=0)
    baseline = mk.Baseline.from_frame(scenario.reference, scenario.spec)
    tiny = mk.PerformanceReport(scenario.current.head(60), baseline=baseline)
    assert (tiny.to_frame()["skipped"].notna()).all()  # every value: too few rows
    assert "nothing could be judged" in tiny.not_judged and "60 < 100" in tiny.not_judged
    assert tiny.severity == "critical"
    assert mk.PerformanceReport(scenario.current, baseline=baseline).not_judged is None
    # Nothing judgeable at all (no labels, no scores to estimate from, no latency: throughput
    # is shown, never judged) is the normal "no labels yet", not a failure to judge.
    fresh = scenario.current.drop(columns=["label", "score", "latency_ms"])
    report = mk.PerformanceReport(fresh, baseline=baseline, by="1D")
    assert set(report.to_frame()["metric"]) == {"throughput"}
    assert report.not_judged is None and report.severity == "ok"
