"""Baselines: capture, save, load, compare — and the `monitorkit baseline` command."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import scipy.stats

import monitorkit as mk
from monitorkit.errors import ColumnSpecError, ReportFormatError


@pytest.fixture(scope="module")
def fraud():
    return mk.datasets.load_scenario("fraud_imbalance", n_rows=20_000)


def test_metrics_match_independent_computations(fraud):
    reference = fraud.reference
    baseline = mk.Baseline.from_frame(reference, model="fraud", model_version="3.2")
    predicted = (reference["score"] >= 0.5).astype(int)
    assert baseline.metrics["accuracy"] == pytest.approx((predicted == reference["label"]).mean())
    assert baseline.metrics["positive_rate"] == pytest.approx(reference["label"].mean())
    auc = scipy.stats.mannwhitneyu(
        reference.loc[reference["label"] == 1, "score"],
        reference.loc[reference["label"] == 0, "score"],
    ).statistic / ((reference["label"] == 1).sum() * (reference["label"] == 0).sum())
    assert baseline.metrics["roc_auc"] == pytest.approx(auc, rel=1e-12)
    assert baseline.latency["p95_ms"] == pytest.approx(np.percentile(reference["latency_ms"], 95))
    assert baseline.model_version == "3.2" and baseline.sample is None


def test_regression_metrics():
    rng = np.random.default_rng(0)
    y = rng.normal(100, 10, 500)
    frame = pd.DataFrame(
        {"target": y, "prediction": y + rng.normal(0, 2, 500), "x": rng.normal(size=500)}
    )
    metrics = mk.Baseline.from_frame(frame).metrics
    error = frame["prediction"] - frame["target"]
    assert metrics["mae"] == pytest.approx(error.abs().mean())
    assert metrics["rmse"] == pytest.approx(np.sqrt((error**2).mean()))


def test_save_load_round_trip_small_and_never_overwritten(fraud, tmp_path):
    baseline = mk.Baseline.from_frame(fraud.reference, model="fraud")
    path = baseline.save(tmp_path / "fraud.json")
    assert path.stat().st_size < 500 * 1024
    loaded = mk.Baseline.load(path)
    assert loaded == baseline
    # current is counted exactly against the stored sketches: the same report, to the last bit
    from_file, in_memory = (
        json.dumps(mk.DriftReport(b, fraud.current).to_dict(), sort_keys=True)
        for b in (loaded, baseline)
    )
    assert from_file == in_memory
    with pytest.raises(FileExistsError):
        baseline.save(path)
    text = path.read_text()
    assert "req-" not in text  # no raw rows by default


def test_corrupt_and_newer_files_give_clear_errors(fraud, tmp_path):
    path = mk.Baseline.from_frame(fraud.reference).save(tmp_path / "b.json")
    truncated = tmp_path / "truncated.json"
    truncated.write_text(path.read_text()[:500])
    with pytest.raises(ReportFormatError, match="not valid JSON.*corrupt or truncated"):
        mk.Baseline.load(truncated)
    newer = json.loads(path.read_text())
    newer["schema_version"] = 7
    (tmp_path / "newer.json").write_text(json.dumps(newer))
    with pytest.raises(ReportFormatError, match="schema_version 7.*Upgrade monitorkit"):
        mk.Baseline.load(tmp_path / "newer.json")
    with pytest.raises(ReportFormatError, match="not a monitorkit baseline"):
        mk.Baseline.from_dict({"kind": "drift"})


def test_columns_that_do_not_match_are_named(fraud):
    baseline = mk.Baseline.from_frame(fraud.reference)
    current = fraud.current.drop(columns=["amount_usd"]).assign(country=1.5, new_feature=1.0)
    comparison = baseline.check_matches(current)
    assert comparison.missing == ("amount_usd",) and comparison.extra == ("new_feature",)
    assert comparison.retyped == (("country", "categorical", "numeric"),)
    with pytest.raises(ColumnSpecError) as error:
        comparison.raise_if_mismatched()
    message = str(error.value)
    assert "missing from current: 'amount_usd'" in message
    assert "not in the profile: 'new_feature'" in message
    assert "retyped: 'country' (categorical in the profile, numeric in current)" in message
    assert not baseline.check_matches(fraud.current)  # the same columns: nothing to say


def test_labels_that_have_not_arrived_are_normal(fraud):
    baseline = mk.Baseline.from_frame(fraud.reference, spec=mk.ColumnSpec(target="label"))
    comparison = baseline.check_matches(fraud.current.drop(columns=["label"]))
    assert not comparison and comparison.labels_missing
    assert "no labels in current yet" in str(comparison)
    drift = mk.DriftReport(baseline, fraud.current.drop(columns=["label"]))
    assert drift.skipped_columns["label"].startswith("no labels in current yet")
    assert drift.not_judged is None


def test_sample_enables_exact_tests_and_the_multivariate_check(fraud, tmp_path):
    baseline = mk.Baseline.from_frame(fraud.reference, sample_rows=5_000)
    loaded = mk.Baseline.load(baseline.save(tmp_path / "with-sample.json"))
    assert len(loaded.sample) == 5_000
    drift = mk.DriftReport(loaded, fraud.current, method={"numeric": "anderson"})
    assert drift["amount_usd"].method == "anderson"
    assert drift.result.multivariate.skipped is None


def test_hashed_categories_hide_values_and_still_compare(fraud, tmp_path):
    baseline = mk.Baseline.from_frame(fraud.reference, hash_categories=True)
    text = baseline.to_json()
    for value in fraud.reference["merchant_category"].unique():
        assert f'"{value}"' not in text
    drift = mk.DriftReport(mk.Baseline.load(baseline.save(tmp_path / "h.json")), fraud.current)
    assert "merchant_category" in drift.drifted_columns
    assert set(drift.drifted_columns) == set(fraud.truth.drifted_columns)


def test_command_line_baseline(tmp_path, fraud):
    data = tmp_path / "train.parquet"
    fraud.reference.to_parquet(data)
    output = tmp_path / "fraud.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "monitorkit.cli",
            "baseline",
            str(data),
            "-o",
            str(output),
            "--model",
            "fraud",
            "--model-version",
            "1.0",
            "--target",
            "label",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "baseline of 20,000 rows" in result.stdout and "accuracy" in result.stdout
    assert mk.Baseline.load(output).model == "fraud"
    again = subprocess.run(
        [sys.executable, "-m", "monitorkit.cli", "baseline", str(data), "-o", str(output)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 2 and "never overwritten" in again.stderr


def test_baselines_and_profiles_load_through_load_report(fraud, tmp_path):
    baseline = mk.Baseline.from_frame(fraud.reference, model="fraud")
    path = baseline.save(tmp_path / "b.json")
    assert mk.load_report(path) == baseline
    assert mk.load_report(baseline.profile.to_json()).rows == baseline.profile.rows
    with pytest.raises(ReportFormatError, match="cannot read report file"):
        mk.load_report(tmp_path / "missing.json")


def test_a_baseline_can_be_the_current_side_too(fraud):
    before = mk.Baseline.from_frame(fraud.reference, sample_rows=2_000)
    after = mk.Baseline.from_frame(fraud.current, sample_rows=2_000)
    drift = mk.DriftReport(mk.Baseline.from_frame(fraud.reference), after)
    assert set(drift.drifted_columns) == set(fraud.truth.drifted_columns)
    assert mk.DriftReport(before, fraud.current).result.multivariate.skipped is None
