"""Tests of monitorkit.datasets: shape, determinism, inference, and that the stories are true.

Each drifted column is checked with an independent two-sample test (scipy's ks_2samp for numeric
columns, chi2_contingency for categorical and boolean ones): it must differ clearly over the whole
current period, and must *not* differ before ``change_start``; unchanged columns must not differ.
The recorded metrics are recomputed here from the frames.
"""

from __future__ import annotations

import dataclasses
import json
import re
from functools import cache

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

import monitorkit as mk
from monitorkit.datasets import (
    SCENARIOS,
    Scenario,
    ScenarioTruth,
    load_scenario,
    write_scenario,
)
from monitorkit.errors import InputError
from monitorkit.schema import KINDS, ColumnSpec, resolve_spec

N_ROWS = 20_000
CHANGED = [name for name in SCENARIOS if name != "no_change"]


@cache
def scenario(name: str, n_rows: int = N_ROWS, seed: int = 0) -> Scenario:
    return load_scenario(name, n_rows=n_rows, seed=seed)


def p_value(reference: pd.Series, current: pd.Series, kind: str) -> float:
    """Two-sample test of one column: KS for numbers (strings coerced), chi-squared otherwise."""
    if kind == "numeric":
        a = pd.to_numeric(reference, errors="coerce").dropna()
        b = pd.to_numeric(current, errors="coerce").dropna()
        return float(stats.ks_2samp(a, b).pvalue)
    values = pd.concat([reference, current], ignore_index=True).astype(str)
    side = np.repeat(["reference", "current"], [len(reference), len(current)])
    table = pd.crosstab(side, values.to_numpy())
    return float(stats.chi2_contingency(table)[1])


def after_change(frame: pd.DataFrame, truth: ScenarioTruth) -> pd.Series:
    return frame["timestamp"] >= pd.Timestamp(truth.change_start)


# --------------------------------------------------------------------------------------------
# The contract: names, shapes, unpacking, determinism, serialisation
# --------------------------------------------------------------------------------------------


def test_scenario_names_in_contract_order():
    assert SCENARIOS == (
        "seasonal_retail",
        "imaging_equipment",
        "credit_bias",
        "corrupted_inputs",
        "fraud_imbalance",
        "no_change",
    )
    assert mk.datasets.SCENARIOS is SCENARIOS
    assert mk.datasets.load_scenario is load_scenario


@pytest.mark.parametrize("name", SCENARIOS)
def test_shapes_unpacking_and_attributes(name):
    result = scenario(name)
    reference, current, truth = result
    assert isinstance(result, Scenario) and result.name == name == truth.name
    assert reference is result.reference and current is result.current and truth is result.truth
    assert isinstance(result.spec, ColumnSpec)
    assert reference.shape == (N_ROWS, len(truth.kinds))
    assert current.shape == (N_ROWS, len(truth.kinds))
    assert list(reference.columns) == list(current.columns) == list(truth.kinds)
    assert isinstance(reference.index, pd.RangeIndex) and isinstance(current.index, pd.RangeIndex)
    assert truth.parameters == {"n_rows": N_ROWS, "reference_rows": N_ROWS, "seed": 0}
    assert name in repr(result) and "20,000" in repr(result)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize("name", SCENARIOS)
def test_reference_rows_and_independent_streams(name):
    small = load_scenario(name, n_rows=600, seed=3, reference_rows=250)
    assert small.reference.shape[0] == 250 and small.current.shape[0] == 600
    # The reference depends on its own size and the seed, not on the size of current.
    other = load_scenario(name, n_rows=900, seed=3, reference_rows=250)
    pd.testing.assert_frame_equal(small.reference, other.reference)


@pytest.mark.parametrize("name", SCENARIOS)
def test_deterministic_by_seed(name):
    first = load_scenario(name, n_rows=1_500, seed=11)
    again = load_scenario(name, n_rows=1_500, seed=11)
    pd.testing.assert_frame_equal(first.reference, again.reference)
    pd.testing.assert_frame_equal(first.current, again.current)
    assert first.truth == again.truth and first.spec == again.spec

    different = load_scenario(name, n_rows=1_500, seed=12)
    assert not first.current.equals(different.current)
    assert not first.reference.equals(different.reference)
    assert not first.current["score"].equals(different.current["score"])
    # Reference and current come from different streams.
    assert not np.array_equal(
        first.reference["latency_ms"].to_numpy(), first.current["latency_ms"].to_numpy()
    )


@pytest.mark.parametrize("name", SCENARIOS)
def test_truth_is_json_serialisable_and_round_trips(name):
    truth = scenario(name).truth
    text = json.dumps(truth.to_dict(), allow_nan=False)
    data = json.loads(text)
    assert data["schema_version"] == 1
    assert ScenarioTruth.from_dict(data) == truth
    assert 2 <= len(re.findall(r"[.!?](\s|$)", truth.story)) <= 3


@pytest.mark.parametrize("name", SCENARIOS)
def test_truth_covers_every_column_consistently(name):
    reference, current, truth = scenario(name)
    assert set(truth.kinds) == set(reference.columns)
    assert set(truth.kinds.values()) <= set(KINDS)
    testable = {c for c, k in truth.kinds.items() if k in ("numeric", "categorical", "boolean")}
    assert not set(truth.drifted_columns) & set(truth.unchanged_columns)
    assert set(truth.drifted_columns) | set(truth.unchanged_columns) == testable
    assert set(truth.roles) <= {"target", "prediction", "prediction_label", "timestamp", "id"}
    assert {"target", "prediction", "timestamp", "id"} <= set(truth.roles)
    assert truth.roles["target"] == "label" and truth.roles["prediction"] == "score"
    assert truth.roles["timestamp"] == "timestamp" and truth.roles["id"] == "request_id"
    assert set(truth.roles.values()) <= set(reference.columns)
    assert set(truth.segments) <= testable and set(truth.sensitive) <= testable
    assert truth.reference_period == ("2026-07-07T00:00:00+00:00", "2026-09-01T00:00:00+00:00")
    assert truth.current_period == ("2026-09-01T00:00:00+00:00", "2026-10-13T00:00:00+00:00")


# --------------------------------------------------------------------------------------------
# Acceptance: schema inference finds exactly the truth, with and without the shipped spec
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("with_spec", [False, True], ids=["inferred", "declared"])
def test_schema_resolves_the_true_kinds_and_roles(name, with_spec):
    result = scenario(name)
    resolved = resolve_spec(result.spec if with_spec else None, result.reference, result.current)
    assert {info.name: info.kind for info in resolved.columns} == dict(result.truth.kinds)
    found_roles = {info.role: info.name for info in resolved.columns if info.role != "feature"}
    assert found_roles == dict(result.truth.roles)
    if with_spec:
        segments = sorted(c.name for c in resolved.columns if c.segment)
        sensitive = sorted(c.name for c in resolved.columns if c.sensitive)
        assert segments == sorted(result.truth.segments)
        assert sensitive == sorted(result.truth.sensitive)


# --------------------------------------------------------------------------------------------
# The data look like real logs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SCENARIOS)
def test_timestamps_ids_and_value_ranges(name):
    reference, current, truth = scenario(name)
    for frame in (reference, current):
        assert isinstance(frame["timestamp"].dtype, pd.DatetimeTZDtype)
        assert str(frame["timestamp"].dt.tz) == "UTC"
        assert frame["timestamp"].is_monotonic_increasing
        assert frame["request_id"].str.fullmatch(r"req-[0-9a-f]{10}").all()
        assert frame["score"].between(0, 1).all()
        assert set(frame["label"].unique()) == {0, 1}
        assert (frame["latency_ms"] > 0).all()
        assert frame["latency_ms"].median() < frame["latency_ms"].quantile(0.99) / 2  # a tail
    ids = pd.concat([reference["request_id"], current["request_id"]])
    assert ids.is_unique
    start, end = (pd.Timestamp(t) for t in truth.current_period)
    assert current["timestamp"].min() >= start and current["timestamp"].max() < end
    assert current["timestamp"].max() - current["timestamp"].min() > pd.Timedelta(days=41)
    ref_start, ref_end = (pd.Timestamp(t) for t in truth.reference_period)
    assert reference["timestamp"].min() >= ref_start and reference["timestamp"].max() < ref_end
    assert reference["timestamp"].max() - reference["timestamp"].min() > pd.Timedelta(days=55)
    # A daily rhythm: the busiest hour sees several times the traffic of the quietest.
    by_hour = current["timestamp"].dt.hour.value_counts()
    assert by_hour.max() > 3 * by_hour.min()
    if truth.change_start is None:
        assert name == "no_change"
    else:
        assert start < pd.Timestamp(truth.change_start) < end


def test_string_columns_use_the_default_string_dtype():
    reference, current, _ = scenario("seasonal_retail")
    for column in ("request_id", "region", "category"):
        assert pd.api.types.is_string_dtype(reference[column].dtype)
        assert reference[column].dtype == current[column].dtype


# --------------------------------------------------------------------------------------------
# The changes are real, start when the truth says, and nothing else changes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_rows", [N_ROWS, 2_000])
@pytest.mark.parametrize("name", SCENARIOS)
def test_drifted_columns_differ_and_unchanged_columns_do_not(name, n_rows):
    reference, current, truth = scenario(name, n_rows)
    problems = []
    for column in truth.drifted_columns:
        p = p_value(reference[column], current[column], truth.kinds[column])
        if not p < 1e-3:
            problems.append(f"drifted {column}: p = {p:.2g}")
    for column in truth.unchanged_columns:
        p = p_value(reference[column], current[column], truth.kinds[column])
        if not p > 1e-4:
            problems.append(f"unchanged {column}: p = {p:.2g}")
    assert not problems, problems


@pytest.mark.parametrize("name", CHANGED)
def test_nothing_changes_before_change_start(name):
    reference, current, truth = scenario(name)
    before = current[~after_change(current, truth)]
    assert 0.2 < len(before) / len(current) < 0.5
    for column in truth.drifted_columns:
        p = p_value(reference[column], before[column], truth.kinds[column])
        assert p > 1e-4, (column, p)


def test_no_change_is_quiet():
    reference, current, truth = scenario("no_change")
    assert truth.drifted_columns == () and truth.change_start is None
    assert truth.quality_issues == ()
    assert "current_after_change" not in " ".join(truth.metrics)
    metrics = truth.metrics
    assert abs(metrics["accuracy_reference"] - metrics["accuracy_current"]) < 0.02
    assert abs(metrics["auc_reference"] - metrics["auc_current"]) < 0.03


# --------------------------------------------------------------------------------------------
# The recorded metrics: recomputed independently, and what each story says
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SCENARIOS)
def test_generic_metrics_match_an_independent_computation(name):
    reference, current, truth = scenario(name)
    frames = {"reference": reference, "current": current}
    if truth.change_start is not None:
        after = after_change(current, truth)
        frames["current_before_change"] = current[~after]
        frames["current_after_change"] = current[after]
    for period, frame in frames.items():
        label, score = frame["label"].to_numpy(), frame["score"].to_numpy()
        accuracy = np.mean((score >= 0.5) == (label == 1))
        u = stats.mannwhitneyu(score[label == 1], score[label == 0]).statistic
        auc = u / ((label == 1).sum() * (label == 0).sum())
        assert truth.metrics[f"accuracy_{period}"] == pytest.approx(accuracy, abs=1e-4)
        assert truth.metrics[f"auc_{period}"] == pytest.approx(auc, abs=1e-4)
        assert truth.metrics[f"label_rate_{period}"] == pytest.approx(label.mean(), abs=1e-4)
        assert truth.metrics[f"rows_{period}"] == len(frame)


def test_seasonal_retail_story():
    reference, current, truth = scenario("seasonal_retail")
    m = truth.metrics
    assert m["click_through_rate_current_after_change"] < 0.6 * m["click_through_rate_reference"]
    assert m["click_through_rate_current_before_change"] == pytest.approx(
        m["click_through_rate_reference"], abs=0.015
    )
    assert m["summer_item_share_current_after_change"] > 2 * m["summer_item_share_reference"]
    assert m["mean_temperature_c_current_after_change"] - m["mean_temperature_c_reference"] > 10
    # The model still predicts winter click-through: it over-estimates after the change.
    assert m["mean_score_current_after_change"] > 1.5 * m["label_rate_current_after_change"]
    new_items = set(current["category"]) - set(reference["category"])
    assert not new_items  # summer items were there in winter too, just rare
    assert {"region", "device"} <= set(truth.unchanged_columns)
    assert truth.segments == ("region",)


def test_imaging_equipment_story():
    reference, current, truth = scenario("imaging_equipment")
    m = truth.metrics
    assert m["accuracy_reference"] == pytest.approx(0.94, abs=0.015)
    assert m["accuracy_current_before_change"] == pytest.approx(0.94, abs=0.02)
    assert m["accuracy_current_after_change"] == pytest.approx(0.68, abs=0.025)
    assert m["accuracy_old_scanners_current_after_change"] == pytest.approx(0.94, abs=0.02)
    assert set(current["scanner_model"]) - set(reference["scanner_model"]) == {"Lumeo DR-7"}
    new_scanner = current["scanner_model"] == "Lumeo DR-7"
    assert not new_scanner[~after_change(current, truth)].any()
    assert {"patient_age", "patient_sex", "label"} <= set(truth.unchanged_columns)
    assert truth.roles["prediction_label"] == "predicted_label"
    assert (current["predicted_label"] == (current["score"] >= 0.5)).all()


def test_credit_bias_story():
    reference, current, truth = scenario("credit_bias")
    m = truth.metrics
    assert truth.sensitive == ("gender",)
    for gender in ("female", "male"):
        group = reference[reference["gender"] == gender]
        assert m[f"approval_rate_{gender}_reference"] == pytest.approx(
            (group["score"] >= 0.5).mean(), abs=1e-4
        )
    assert abs(m["approval_rate_gap_reference"]) < 0.03
    female_drop = (
        m["approval_rate_female_reference"] - m["approval_rate_female_current_after_change"]
    )
    assert female_drop > 0.25
    assert m["approval_rate_male_current_after_change"] == pytest.approx(
        m["approval_rate_male_reference"], abs=0.03
    )
    assert (
        m["disparate_impact_ratio_current_after_change"]
        < 0.8
        < m["disparate_impact_ratio_reference"]
    )
    # True repayment did not change for anyone: the model is what became unfair.
    for gender in ("female", "male"):
        assert m[f"repayment_rate_{gender}_current_after_change"] == pytest.approx(
            m[f"repayment_rate_{gender}_reference"], abs=0.03
        )
    assert "gender" in truth.unchanged_columns and "label" in truth.unchanged_columns


def test_corrupted_inputs_story():
    reference, current, truth = scenario("corrupted_inputs")
    after = after_change(current, truth)
    assert pd.api.types.is_float_dtype(reference["price_usd"].dtype)
    assert not pd.api.types.is_numeric_dtype(current["price_usd"].dtype)
    currency = current["price_usd"].str.match(r"^(\$|USD )\d+\.\d\d$")
    assert currency[after].mean() == pytest.approx(0.04, abs=0.01)
    assert not currency[~after].any()
    parsed = pd.to_numeric(current["price_usd"], errors="coerce")
    assert parsed.notna().equals(~currency)  # every other value is a plain number

    issues = {issue["column"]: issue for issue in truth.quality_issues}
    assert set(issues) == {"price_usd", "customer_age", "days_since_last_order"}
    assert {issue["issue"] for issue in truth.quality_issues} == {
        "non_numeric_values",
        "out_of_range",
        "missing_values",
    }
    assert all(isinstance(issue["detail"], str) and issue["detail"] for issue in issues.values())
    assert issues["price_usd"]["count"] == currency.sum()
    assert issues["customer_age"]["count"] == (current["customer_age"] == 150).sum()
    assert (current["customer_age"][after] == 150).mean() == pytest.approx(0.12, abs=0.02)
    assert reference["customer_age"].max() < 100
    assert not (current["customer_age"][~after] > 100).any()
    missing = current["days_since_last_order"].isna()
    assert issues["days_since_last_order"]["count"] == missing.sum()
    assert missing[after].mean() > 0.2 > 0.1 > reference["days_since_last_order"].isna().mean()

    # Shoppers did not change, only what the feed says about them.
    assert {"label", "price_usd", "order_value_usd"} <= set(truth.unchanged_columns)
    assert set(truth.drifted_columns) == {"customer_age", "days_since_last_order", "score"}
    assert truth.kinds["product_title"] == "text"


def test_fraud_imbalance_story():
    reference, current, truth = scenario("fraud_imbalance")
    m = truth.metrics
    assert m["fraud_rate_reference"] == pytest.approx(0.01, abs=0.003)
    assert m["accuracy_reference"] > 0.985 and m["accuracy_current_after_change"] > 0.985
    assert m["recall_reference"] == pytest.approx(0.8, abs=0.07)
    assert m["recall_current_after_change"] == pytest.approx(0.2, abs=0.07)
    fraud = reference["label"] == 1
    caught = reference["score"][fraud] >= 0.5
    assert m["recall_reference"] == pytest.approx(caught.mean(), abs=1e-4)
    assert (
        m["missed_frauds_per_10k_transactions_current_after_change"]
        > 2 * m["missed_frauds_per_10k_transactions_reference"]
    )
    assert reference["card_present"].dtype == bool
    assert reference["hour_of_day"].between(0, 23).all()
    assert "label" in truth.unchanged_columns


# --------------------------------------------------------------------------------------------
# Writing scenarios to files (what `monitorkit demo` runs on)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["corrupted_inputs", "fraud_imbalance"])
def test_write_scenario_round_trips_through_parquet(tmp_path, name):
    paths = write_scenario(name, tmp_path / "data", n_rows=800, seed=5)
    assert set(paths) == {"reference", "current", "truth", "spec"}
    expected = load_scenario(name, n_rows=800, seed=5)
    reference, current = mk.read_frame(paths["reference"]), mk.read_frame(paths["current"])
    pd.testing.assert_frame_equal(reference, expected.reference)
    pd.testing.assert_frame_equal(current, expected.current)
    truth = ScenarioTruth.from_dict(json.loads(paths["truth"].read_text()))
    assert truth == expected.truth
    spec = ColumnSpec.from_dict(json.loads(paths["spec"].read_text()))
    assert spec == expected.spec
    # What is read back is still inferred as the truth says.
    resolved = resolve_spec(None, reference, current)
    assert {info.name: info.kind for info in resolved.columns} == dict(truth.kinds)
    assert [p.name for p in (tmp_path / "data").iterdir() if p.name.startswith(".")] == []


def test_write_scenario_reuses_files_of_the_same_arguments_only(tmp_path):
    first = write_scenario("no_change", tmp_path, n_rows=300, seed=1)
    stamps = {key: path.stat().st_mtime_ns for key, path in first.items()}
    again = write_scenario("no_change", tmp_path, n_rows=300, seed=1)
    assert again == first
    assert {key: path.stat().st_mtime_ns for key, path in again.items()} == stamps
    other_seed = write_scenario("no_change", tmp_path, n_rows=300, seed=2)
    other_size = write_scenario("no_change", tmp_path, n_rows=300, seed=1, reference_rows=200)
    assert len({p["current"] for p in (first, other_seed, other_size)}) == 3
    assert len(mk.read_frame(other_size["reference"])) == 200
    with pytest.raises(InputError, match="available scenarios"):
        write_scenario("nope", tmp_path)


# --------------------------------------------------------------------------------------------
# Errors and properties
# --------------------------------------------------------------------------------------------


def test_unknown_name_lists_names_and_suggests_the_near_one():
    with pytest.raises(InputError) as error:
        load_scenario("seasonal_retial")
    message = str(error.value)
    assert all(name in message for name in SCENARIOS)
    assert "Did you mean 'seasonal_retail'?" in message
    with pytest.raises(InputError, match="available scenarios"):
        load_scenario("zzz")
    with pytest.raises(InputError, match="must be a string"):
        load_scenario(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_rows": 99}, "n_rows must be at least 100"),
        ({"n_rows": 100, "reference_rows": 50}, "reference_rows must be at least 100"),
        ({"n_rows": 1000.0}, "n_rows must be an integer"),
        ({"n_rows": True}, "n_rows must be an integer"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"seed": "0"}, "seed must be a non-negative integer"),
    ],
)
def test_bad_arguments_raise_input_error(kwargs, match):
    with pytest.raises(InputError, match=match):
        load_scenario("no_change", **kwargs)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(SCENARIOS),
    n_rows=st.integers(min_value=100, max_value=400),
    reference_rows=st.one_of(st.none(), st.integers(min_value=100, max_value=300)),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_any_size_and_seed_gives_well_formed_frames(name, n_rows, reference_rows, seed):
    reference, current, truth = load_scenario(
        name, n_rows=n_rows, seed=seed, reference_rows=reference_rows
    )
    assert len(current) == n_rows and len(reference) == (reference_rows or n_rows)
    assert list(reference.columns) == list(current.columns) == list(truth.kinds)
    assert pd.concat([reference["request_id"], current["request_id"]]).is_unique
    assert reference["timestamp"].is_monotonic_increasing
    assert current["timestamp"].is_monotonic_increasing
    assert reference["timestamp"].max() < current["timestamp"].min()
    json.dumps(truth.to_dict(), allow_nan=False)
