"""PerformanceReport of a Dask DataFrame equals the pandas report of the same rows: exactly
for counts, to rounding for sums, within the stated binning error for ROC AUC and average
precision; plus a real LocalCluster."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st

import monitorkit as mk
from monitorkit.errors import ColumnSpecError, InputError
from monitorkit.performance import merged
from monitorkit.performance.metrics import METRICS, LabelArrays

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")

EXACT = {
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "f1",
    "f1_weighted",
    "positive_rate",
    "error_rate",
    "click_through_rate",
    "hit_rate@1",
    "hit_rate@5",
    "hit_rate@10",
}
BINNED = {"roc_auc", "average_precision"}
SKETCHED = {"latency_p50", "latency_p95", "latency_p99"}


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


def _binary(n: int, seed: int, start: str = "2026-03-01") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    label = (rng.random(n) < 0.3).astype(float)
    score = np.clip(0.3 * label + 0.7 * rng.random(n), 0, 1)
    label[rng.random(n) < 0.05] = np.nan  # not labelled yet
    score[rng.random(n) < 0.01] = np.nan  # labelled, no score: dropped
    return pd.DataFrame(
        {
            "ts": pd.Timestamp(start) + pd.to_timedelta(np.sort(rng.random(n)) * 6, unit="D"),
            "label": label,
            "score": score,
            "region": rng.choice(["north", "south", "east"], n, p=[0.5, 0.3, 0.2]),
            "latency_ms": rng.gamma(2.0, 20.0, n),
            "error": rng.random(n) < 0.02,
            "revenue": rng.normal(5, 1, n),
        }
    )


def _both(frame, partitions, **options):
    pandas_report = mk.PerformanceReport(frame, **options)
    dask_report = mk.PerformanceReport(dd.from_pandas(frame, npartitions=partitions), **options)
    return pandas_report, dask_report


def _joined(pandas_report, dask_report) -> pd.DataFrame:
    left, right = pandas_report.to_frame(), dask_report.to_frame()
    # Estimated values (CBPE) are compared in their own test: their sums are not counts.
    left = left[~left["estimated"].astype(bool)].reset_index(drop=True)
    right = right[~right["estimated"].astype(bool)].reset_index(drop=True)
    assert list(left[["window", "segment", "metric"]].itertuples(index=False)) == list(
        right[["window", "segment", "metric"]].itertuples(index=False)
    )
    return pd.concat([left, right.add_suffix("_dask")], axis=1)


def _assert_same(pandas_report, dask_report, *, sums=1e-9) -> pd.DataFrame:
    """Values equal (exact / rounding / sketch as the module docstring says), n and the
    reasons for not judging equal, windows (rows, labels, confusion) equal."""
    joined = _joined(pandas_report, dask_report)
    assert (joined["n"] == joined["n_dask"]).all()
    # Metrics whose pandas interval is a bootstrap are shown, not judged, on Dask input.
    no_interval = joined["skipped_dask"] == merged.NO_MERGED_INTERVAL
    assert set(joined.loc[no_interval, "metric"]) <= {"r2", "precision", "recall", "f1",
                                                       "f1_weighted"}  # fmt: skip
    assert (joined.loc[no_interval, "severity_dask"] == "ok").all()
    same = joined[~no_interval]
    assert (same["skipped"].fillna("") == same["skipped_dask"].fillna("")).all()
    for row in joined.itertuples():
        if row.metric in SKETCHED or row.metric in BINNED:
            continue
        if math.isnan(row.value):
            assert math.isnan(row.value_dask), row
        elif row.metric in EXACT:
            assert row.value == row.value_dask, row
        else:
            assert row.value_dask == pytest.approx(row.value, rel=sums, abs=1e-12), row
    assert pandas_report.result.windows == dask_report.result.windows
    assert pandas_report.result.task == dask_report.result.task
    assert pandas_report.result.classes == dask_report.result.classes
    return joined


def _bins(scores: np.ndarray) -> np.ndarray:
    return np.clip((scores * merged.SCORE_BINS).astype(int), 0, merged.SCORE_BINS - 1)


def test_binary_with_windows_segments_latency_errors_and_business():
    reference, current = _binary(6_000, 1, "2026-02-01"), _binary(12_000, 2)
    current.loc[current["ts"] > "2026-03-05", "score"] *= 0.6  # a drop in the last days
    spec = mk.ColumnSpec(target="label", prediction="score", timestamp="ts", segments=["region"])
    options = dict(spec=spec, baseline=reference, by="1D", business={"revenue": "revenue"})
    pandas_report, dask_report = _both(current, 5, **options)
    joined = _assert_same(pandas_report, dask_report)
    assert {"roc_auc", "log_loss", "calibration_error", "revenue", "error_rate"} <= set(
        joined["metric"]
    )
    assert (BINNED | SKETCHED) <= set(joined["metric"])  # the loops below check something
    # Severities agree wherever the interval is the same kind on both paths.
    same_interval = ~joined["metric"].isin(BINNED | SKETCHED)
    assert (joined["severity"] == joined["severity_dask"])[same_interval].all()
    assert dask_report.severity == pandas_report.severity
    assert np.asarray(dask_report.result.calibration_curve) == pytest.approx(
        np.asarray(pandas_report.result.calibration_curve), rel=1e-12
    )

    # ROC AUC and average precision: within the bound computed from the bins.
    usable = current.dropna(subset=["label", "score"])
    for row in joined[joined["metric"].isin(BINNED) & (joined["segment"] == "all")].itertuples():
        rows = (
            usable
            if row.window == "all"
            else usable[usable["ts"].dt.strftime("%Y-%m-%d") == row.window]
        )
        labels, scores = rows["label"].to_numpy(), rows["score"].to_numpy()
        positives = np.bincount(_bins(scores[labels == 1]), minlength=merged.SCORE_BINS)
        negatives = np.bincount(_bins(scores[labels == 0]), minlength=merged.SCORE_BINS)
        bound = (
            merged.auc_binning_error(positives, negatives)
            if row.metric == "roc_auc"
            else merged.average_precision_binning_error(positives, negatives)
        )
        assert abs(row.value - row.value_dask) <= bound + 1e-12, row
        assert bound < (2e-4 if row.metric == "roc_auc" else 2e-2), (row.metric, bound)

    # Latency: the sketch's value has a rank within the KLL error of the asked rank.
    latency = current["latency_ms"].to_numpy()
    for row in joined[joined["metric"].isin(SKETCHED) & (joined["window"] == "all")].itertuples():
        values = (
            latency
            if row.segment == "all"
            else latency[current["region"].to_numpy() == row.segment.split("=")[1]]
        )
        q = int(row.metric.removeprefix("latency_p")) / 100
        below, at_most = np.mean(values < row.value_dask), np.mean(values <= row.value_dask)
        assert below - 0.0133 <= q <= at_most + 0.0133, row


def test_fairness_is_the_pandas_reports_from_merged_counts():
    """Group rates and gaps from per-partition counts equal pandas' exactly, on the
    scenario built to be unfair and on a column with missing values and more groups than
    are compared (the rare ones go to "(other)")."""
    scenario = mk.datasets.load_scenario("credit_bias", n_rows=8_000, seed=0)
    current = scenario.current.copy()
    rng = np.random.default_rng(5)
    many = pd.Series(rng.integers(0, 60, len(current)).astype(str), dtype=object)
    many[rng.random(len(current)) < 0.05] = None
    current["many"] = many.to_numpy()
    sensitive = [*scenario.spec.sensitive, "many"]
    spec = dataclasses.replace(scenario.spec, sensitive=sensitive)
    rule = {"min_group_rows": 40}
    baseline = mk.Baseline.from_frame(scenario.reference, scenario.spec)
    pandas_report, dask_report = _both(
        current, 4, spec=spec, baseline=baseline, by=4, fairness_rule=rule
    )
    assert pandas_report.result.fairness_groups  # the comparison below compares something
    assert dask_report.result.fairness_groups == pandas_report.result.fairness_groups
    assert dask_report.result.fairness == pandas_report.result.fairness
    groups = {g.group for g in dask_report.result.fairness_groups if g.attribute == "many"}
    assert {"(other)", "(missing)"} <= groups
    assert dask_report.fairness_problems and dask_report.severity == pandas_report.severity


@pytest.mark.parametrize("labelled", [True, False])
def test_estimates_without_labels_are_the_pandas_reports_from_merged_sums(labelled):
    """CBPE from per-partition sums: the expected confusion metrics equal pandas' to
    rounding, the expected ROC AUC within its binning error, the same cells judged the same
    way; on credit_bias (its concept changed) the same concept shifts."""
    scenario = mk.datasets.load_scenario("credit_bias", n_rows=20_000, seed=0)
    baseline = mk.Baseline.from_frame(scenario.reference, scenario.spec)
    assert baseline.calibration is not None
    current = scenario.current if labelled else scenario.current.drop(columns="label")
    pandas_report, dask_report = _both(current, 6, baseline=baseline, by="1W")
    left = pandas_report.to_frame().query("estimated").reset_index(drop=True)
    right = dask_report.to_frame().query("estimated").reset_index(drop=True)
    assert len(left) >= 5 * 4  # the whole and several weeks: the loop checks something
    assert left[["window", "metric", "n", "skipped"]].equals(
        right[["window", "metric", "n", "skipped"]]
    )
    auc = left["metric"] == "roc_auc"
    assert np.allclose(left.loc[~auc, "value"], right.loc[~auc, "value"], rtol=1e-9, equal_nan=True)
    assert np.allclose(left.loc[auc, "value"], right.loc[auc, "value"], atol=1e-3, equal_nan=True)
    assert (left.loc[~auc, "severity"] == right.loc[~auc, "severity"]).all()
    shifts = [(c.window, c.metric) for c in pandas_report.result.concept_shifts]
    assert [(c.window, c.metric) for c in dask_report.result.concept_shifts] == shifts
    assert bool(shifts) == labelled  # credit_bias changed its concept; unlabelled: no check
    assert dask_report.figures["accuracy.estimated"] == pytest.approx(
        pandas_report.figures["accuracy.estimated"], rel=1e-9
    )


def test_multiclass_with_chunks_and_text_classes_of_one_partition():
    rng = np.random.default_rng(3)
    n = 3_000
    truth = rng.choice(["cat", "dog", "eel"], n)
    predicted = np.where(rng.random(n) < 0.7, truth, rng.choice(["cat", "dog", "eel", "fox"], n))
    truth[:100] = "cat"  # the first partition holds one class only
    frame = pd.DataFrame({"y": truth, "pred": predicted, "shop": rng.choice(["a", "b"], n)})
    spec = mk.ColumnSpec(target="y", prediction="pred", segments=["shop"])
    pandas_report, dask_report = _both(frame, 30, spec=spec, baseline=frame, by=3)
    _assert_same(pandas_report, dask_report)
    assert dask_report.result.task == "multiclass"
    assert dask_report.result.classes == ("cat", "dog", "eel")
    assert len(dask_report.result.windows) == 4  # all, chunk 1..3


def test_binary_text_target_finds_the_positive_class_over_all_partitions():
    n = 1_000
    frame = pd.DataFrame(
        {
            "y": np.where(np.arange(n) < 300, "churn", np.where(np.arange(n) % 2, "stay", "churn")),
            "p": np.linspace(0, 1, n),
        }
    )
    spec = mk.ColumnSpec(target="y", prediction="p")
    pandas_report, dask_report = _both(frame, 4, spec=spec, baseline=frame)
    _assert_same(pandas_report, dask_report)


def test_regression_with_calendar_weeks_and_what_does_not_merge():
    rng = np.random.default_rng(4)
    n = 8_000
    y = rng.normal(1_000, 30, n)  # a large mean: sums of squares must not lose the spread
    y[:50] = 0.0  # zero targets: left out of MAPE
    frame = pd.DataFrame(
        {
            "ts": pd.date_range("2026-01-01", periods=n, freq="15min"),
            "y": y,
            "yhat": y + rng.normal(2, 10, n),
            "kind": rng.choice(["x", "y"], n),
        }
    )
    spec = mk.ColumnSpec(target="y", prediction="yhat", timestamp="ts", segments=["kind"])
    business = {"mean_pred": lambda f: f["yhat"].mean()}
    pandas_report, dask_report = _both(
        frame, 6, spec=spec, baseline=frame, by="W-MON", business=business, task="regression"
    )
    left, right = pandas_report.to_frame(), dask_report.to_frame()
    left = left[~left["estimated"].astype(bool)].reset_index(drop=True)
    skipped = right[right["metric"].isin(["median_absolute_error", "mean_pred"])]
    assert skipped["skipped"].str.startswith("not computed on Dask input").all()
    assert skipped["value"].isna().all()
    keep = ~left["metric"].isin(["median_absolute_error", "mean_pred"])
    joined = pd.concat([left[keep], right[keep].add_suffix("_dask")], axis=1)
    r2 = joined[joined["metric"] == "r2"]
    assert (r2["skipped_dask"] == merged.NO_MERGED_INTERVAL).any()  # the loop checks it
    for row in joined.itertuples():
        assert row.value_dask == pytest.approx(row.value, rel=1e-9), row
        if row.metric == "r2":  # no merged interval: shown, never alarmed on (noise would)
            assert row.skipped_dask in (row.skipped, merged.NO_MERGED_INTERVAL), row
            assert row.severity_dask == "ok", row
        else:
            assert row.severity == row.severity_dask, row
    assert pandas_report.result.windows == dask_report.result.windows


def test_ranking_merges_too():
    rng = np.random.default_rng(5)
    n = 1_500
    shown = [list(rng.permutation(30)[:10]) for _ in range(n)]
    # half the rows click an item shown, some click one not shown (31), the rest none
    clicked = [
        row[int(rng.integers(0, 10))] if rng.random() < 0.5 else 31 if rng.random() < 0.2 else None
        for row in shown
    ]
    frame = pd.DataFrame(
        {
            "shown": pd.Series(shown, dtype=object),
            "clicked": pd.Series(clicked, dtype=object),
            "ts": pd.date_range("2026-01-01", periods=n, freq="h"),
        }
    )
    spec = mk.ColumnSpec(target="clicked", prediction="shown", timestamp="ts")
    with pytest.raises(InputError, match="convert-string"):  # Dask made the lists text
        mk.PerformanceReport(dd.from_pandas(frame, npartitions=3), spec, baseline=frame)
    with dask.config.set({"dataframe.convert-string": False}):
        pandas_report, dask_report = _both(frame, 3, spec=spec, baseline=frame, by="1W")
    assert dask_report.result.task == "ranking"
    _assert_same(pandas_report, dask_report)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binned_auc_and_average_precision_are_within_their_bound_of_sklearn(seed):
    rng = np.random.default_rng(seed)
    n = 20_000
    labels = (rng.random(n) < 0.2).astype(int)
    scores = np.clip(rng.beta(2, 5, n) + 0.25 * labels, 0, 1)
    positives = np.bincount(_bins(scores[labels == 1]), minlength=merged.SCORE_BINS)
    negatives = np.bincount(_bins(scores[labels == 0]), minlength=merged.SCORE_BINS)
    auc, ap = skm.roc_auc_score(labels, scores), skm.average_precision_score(labels, scores)
    auc_bound = merged.auc_binning_error(positives, negatives)
    ap_bound = merged.average_precision_binning_error(positives, negatives)
    assert abs(merged.binned_roc_auc(positives, negatives) - auc) <= auc_bound
    assert abs(merged.binned_average_precision(positives, negatives) - ap) <= ap_bound
    assert auc_bound < 2e-4 and ap_bound < 1e-2
    # Scores with few distinct values sit in bins of their own: exact.
    coarse = np.round(scores, 1)
    positives = np.bincount(_bins(coarse[labels == 1]), minlength=merged.SCORE_BINS)
    negatives = np.bincount(_bins(coarse[labels == 0]), minlength=merged.SCORE_BINS)
    assert merged.auc_binning_error(positives, negatives) > 0  # ties, which sklearn halves too
    assert merged.binned_roc_auc(positives, negatives) == pytest.approx(
        skm.roc_auc_score(labels, coarse), abs=1e-12
    )
    assert merged.binned_average_precision(positives, negatives) == pytest.approx(
        skm.average_precision_score(labels, coarse), abs=1e-12
    )


def test_scores_outside_zero_one_are_binned_over_their_range():
    rng = np.random.default_rng(6)
    n = 4_000
    labels = (rng.random(n) < 0.4).astype(int)
    frame = pd.DataFrame({"y": labels, "margin": rng.normal(0, 3, n) + 2 * labels})
    spec = mk.ColumnSpec(target="y", prediction="margin")
    pandas_report, dask_report = _both(
        frame, 4, spec=spec, baseline=frame, metrics=["roc_auc", "average_precision"]
    )
    joined = _joined(pandas_report, dask_report)
    assert (joined["value"] - joined["value_dask"]).abs().max() < 5e-3
    assert (joined["value"] - joined["value_dask"]).abs().max() > 0


def test_caller_mistakes_raise_as_for_pandas():
    frame = _binary(500, 7)
    ddf = dd.from_pandas(frame, npartitions=2)
    spec = mk.ColumnSpec(target="label", prediction="score", timestamp="ts")
    with pytest.raises(InputError, match="number of chunks must be between 1"):
        mk.PerformanceReport(ddf, spec, baseline=frame, by=10_000)
    no_time = mk.ColumnSpec(target="label", prediction="score")
    with pytest.raises(ColumnSpecError, match="no timestamp column"):
        mk.PerformanceReport(ddf.drop(columns="ts"), no_time, baseline=frame, by="1D")
    with pytest.raises(InputError, match="threshold"):
        mk.PerformanceReport(ddf, spec, baseline=frame, threshold=2)
    unlabelled = mk.PerformanceReport(ddf.drop(columns="label"), spec, baseline=frame)
    assert unlabelled.result.note.startswith("no labels in current yet")
    assert unlabelled.severity == "ok"
    calibrated = mk.Baseline.from_frame(_binary(3_000, 8), spec)
    assert calibrated.calibration is not None
    margins = (ddf.drop(columns="label")).assign(score=ddf["score"] * 4 - 2)
    for current in (margins, margins.compute()):  # the same refusal on both paths
        with pytest.raises(InputError, match=r"prediction column 'score' has .*outside \[0, 1\]"):
            mk.PerformanceReport(current, spec, baseline=calibrated)


def test_every_builtin_metric_has_a_merged_form_or_a_reason():
    for metric in METRICS.values():
        for task in metric.tasks:
            form = merged._merged_form(task, metric)
            assert isinstance(form, merged.MergedMetric) or form.startswith(
                "not computed on Dask input"
            ), (task, metric.name)
    assert merged._merged_form("regression", METRICS["median_absolute_error"]).endswith(
        "a median does not merge across partitions"
    )


@pytest.mark.cluster
def test_on_a_local_cluster():
    distributed = pytest.importorskip("distributed")
    reference, current = _binary(3_000, 8, "2026-02-01"), _binary(6_000, 9)
    spec = mk.ColumnSpec(
        target="label", prediction="score", timestamp="ts", segments=["region"],
        sensitive=["region"],
    )  # fmt: skip
    options = dict(spec=spec, baseline=mk.Baseline.from_frame(reference, spec), by="2D")
    local = mk.PerformanceReport(current, **options)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        remote = mk.PerformanceReport(dd.from_pandas(current, npartitions=4), **options)
    _assert_same(local, remote)
    # fairness counts and the estimates' sums travel from the workers too
    assert local.result.fairness and remote.result.fairness == local.result.fairness
    assert len(remote.result.estimated) == len(local.result.estimated) > 0


@pytest.mark.filterwarnings("ignore::UserWarning")  # sklearn on one-class inputs
@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("abcd"), st.sampled_from("abcde")), min_size=1, max_size=40)
)
def test_multiclass_counting_metrics_are_sklearns(pairs):
    """The pandas path counts multiclass metrics in numpy, the Dask path asks sklearn with
    weights: both are sklearn's values, also with classes only predicted or only true."""
    y_true = np.array([t for t, _ in pairs])
    y_pred = np.array([p for _, p in pairs])
    arrays = LabelArrays("multiclass", y_true, y_pred)
    nan = {"zero_division": np.nan}
    expected = {
        "accuracy": skm.accuracy_score(y_true, y_pred),
        "balanced_accuracy": skm.balanced_accuracy_score(y_true, y_pred),
        "precision": skm.precision_score(y_true, y_pred, average="macro", **nan),
        "recall": skm.recall_score(y_true, y_pred, average="macro", **nan),
        "f1": skm.f1_score(y_true, y_pred, average="macro", **nan),
        "f1_weighted": skm.f1_score(y_true, y_pred, average="weighted", **nan),
    }
    for name, value in expected.items():
        found = METRICS[name].compute(arrays)
        assert found == pytest.approx(value, rel=1e-12, nan_ok=True), name


def test_numbered_classes_with_class_scores_are_multiclass_on_dask_too():
    """Class ids 0, 1, 2 read as a regression target unless class_scores declares the
    classes — on both paths; the counting metrics agree and the score metrics say why they
    are not computed on Dask; a spec with only a prediction label gets a baseline too."""
    rng = np.random.default_rng(11)
    n = 1_200
    y = rng.integers(0, 3, n)
    scores = rng.dirichlet([1, 1, 1], n)
    scores[np.arange(n), y] += 0.5
    scores /= scores.sum(axis=1, keepdims=True)
    predicted = np.where(rng.random(n) < 0.8, y, rng.integers(0, 3, n))
    frame = pd.DataFrame({"y": y, "pred": predicted, "p0": scores[:, 0], "p1": scores[:, 1],
                          "p2": scores[:, 2]})  # fmt: skip
    spec = mk.ColumnSpec(
        target="y", prediction_label="pred", class_scores={0: "p0", 1: "p1", 2: "p2"}
    )
    baseline = mk.Baseline.from_frame(frame, spec)
    assert {"accuracy", "log_loss", "roc_auc"} <= set(baseline.metrics)
    pandas_report, dask_report = _both(frame, 3, spec=spec, baseline=baseline)
    assert pandas_report.result.task == dask_report.result.task == "multiclass"
    left = pandas_report.to_frame().set_index("metric")
    right = dask_report.to_frame().set_index("metric")
    for name in ("accuracy", "balanced_accuracy", "f1"):
        assert right.loc[name, "value"] == pytest.approx(left.loc[name, "value"], rel=1e-12)
        assert right.loc[name, "baseline"] == left.loc[name, "baseline"]
    assert right.loc["log_loss", "skipped"].startswith("not computed on Dask input")
