"""DriftReport: verdicts against ground truth, the false-alarm rate, bad inputs, round trips."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

import monitorkit as mk
from monitorkit import stats
from monitorkit.errors import ColumnSpecError, InputError, ReportFormatError, SchemaError


@pytest.mark.parametrize("name", mk.datasets.SCENARIOS)
def test_each_scenario_flags_exactly_what_changed(name):
    scenario = mk.datasets.load_scenario(name, n_rows=20_000, seed=0)
    drift = mk.DriftReport(scenario.reference, scenario.current)
    assert set(drift.drifted_columns) == set(scenario.truth.drifted_columns)
    if name == "no_change":
        assert drift.severity == "ok" and not drift.result.multivariate.drifted
    else:
        assert drift.severity in ("warning", "critical")


@pytest.mark.parametrize("seed", [1, 2])
def test_no_change_stays_quiet_with_other_seeds_and_sizes(seed):
    for n_rows in (500, 5_000, 50_000):
        scenario = mk.datasets.load_scenario("no_change", n_rows=n_rows, seed=seed)
        drift = mk.DriftReport(scenario.reference, scenario.current)
        assert drift.drifted_columns == [], (n_rows, drift.to_frame())


def test_when_the_drift_began_is_visible_window_by_window():
    scenario = mk.datasets.load_scenario("seasonal_retail", n_rows=20_000)
    drift = mk.DriftReport(scenario.reference, scenario.current, by="1W")
    change = pd.Timestamp(scenario.truth.change_start)
    first = drift.first_drifted_window("temperature_c")
    window = next(w for w in drift.result.windows if w.window == first)
    # the first flagged week is the one holding the change (start inclusive, end exclusive)
    assert pd.Timestamp(window.start) <= change < pd.Timestamp(window.end)
    assert pd.Timestamp(window.end) - pd.Timestamp(window.start) == pd.Timedelta(days=7)
    assert pd.Timestamp(window.start).day_name() == "Monday"  # 1W = W-SUN: Monday to Sunday
    table = drift.over_time()
    # labels sort chronologically, so "earlier than the first flagged" is a string comparison
    assert list(table["window"].drop_duplicates()) == sorted(table["window"].unique())
    before = table[(table["column"] == "temperature_c") & (table["window"] < first)]
    assert not before["drifted"].any() and len(before) >= 1
    assert set(table.columns) >= {"window", "rows", "column", "statistic", "p_value", "drifted"}
    assert set(table.columns) >= {"start", "end", "skipped"}
    assert table.groupby("window")["rows"].first().sum() == len(scenario.current)
    windows = drift.result.windows
    assert not windows[0].multivariate_drifted and windows[-2].multivariate_drifted


def test_integer_by_gives_equal_chunks_in_row_order():
    scenario = mk.datasets.load_scenario("seasonal_retail", n_rows=6_000)
    drift = mk.DriftReport(scenario.reference, scenario.current, by=3, multivariate=False)
    rows = [w.rows for w in drift.result.windows]
    assert [w.window for w in drift.result.windows] == ["chunk 1", "chunk 2", "chunk 3"]
    assert rows == [2_000, 2_000, 2_000]
    assert all(w.start is None and w.end is None for w in drift.result.windows)
    ten = mk.DriftReport(scenario.reference, scenario.current, by=10, multivariate=False)
    labels = [w.window for w in ten.result.windows]
    assert labels == sorted(labels) and labels[0] == "chunk 01" and labels[-1] == "chunk 10"


# ---- the false-alarm requirement ------------------------------------------------------------


def _same_distribution_pair(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """25 columns — 20 numeric of varied shapes (ties, skew, missing), 5 categorical."""
    rng = np.random.default_rng(seed)

    def side() -> pd.DataFrame:
        columns = {}
        for i in range(20):
            shape = i % 5
            if shape == 0:
                values = rng.normal(10, 3, n)
            elif shape == 1:
                values = rng.lognormal(3, 1, n)
            elif shape == 2:
                values = rng.poisson(3, n).astype(float)  # heavy ties
            elif shape == 3:
                values = rng.exponential(2, n)
            else:
                values = rng.uniform(-1, 1, n)
            values[rng.random(n) < 0.03] = np.nan
            columns[f"x{i:02d}"] = values
        for j, cardinality in enumerate((2, 3, 10, 50, 200)):
            codes = rng.choice(cardinality, size=n, p=_fixed_weights(cardinality))
            columns[f"c{j}"] = pd.array(np.char.add("v", codes.astype(str)), dtype="string")
        return pd.DataFrame(columns)

    return side(), side()


def _fixed_weights(cardinality: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, cardinality + 1)  # Zipf-like, identical on both sides
    return weights / weights.sum()


@pytest.mark.parametrize(
    ("n_rows", "repeats"),
    [
        (100, 12),
        (1_000, 12),
        (10_000, 8),
        (100_000, 4),
        pytest.param(1_000_000, 4, marks=pytest.mark.big),
    ],
)
def test_default_rule_flags_at_most_one_percent_of_unchanged_columns(n_rows, repeats):
    flagged = tested = 0
    for seed in range(repeats):
        reference, current = _same_distribution_pair(n_rows, seed)
        drift = mk.DriftReport(reference, current, multivariate=False)
        frame = drift.to_frame()
        tested += int(frame["skipped"].isna().sum())
        flagged += int(frame["drifted"].sum())
    assert tested >= 100
    assert flagged / tested <= 0.01, f"{flagged} of {tested} unchanged columns flagged"


def test_tiny_but_significant_shift_on_a_million_rows_is_not_called_drift():
    rng = np.random.default_rng(3)
    reference = pd.DataFrame({"x": rng.normal(0, 1, 1_000_000)})
    current = pd.DataFrame({"x": rng.normal(0.02, 1, 1_000_000)})  # 0.02 sd
    drift = mk.DriftReport(reference, current, multivariate=False)
    result = drift["x"]
    assert result.p_value < 1e-10  # the p-value trap: "significant"
    assert result.effect_size < 0.03 and not result.drifted  # but it does not matter


def test_a_real_shift_is_caught_at_every_sample_size():
    rng = np.random.default_rng(4)
    for n in (100, 1_000, 100_000):
        reference = pd.DataFrame({"x": rng.normal(0, 1, n), "c": rng.choice(["a", "b"], n)})
        current = pd.DataFrame(
            {"x": rng.normal(1.0, 1, n), "c": rng.choice(["a", "b"], n, p=[0.2, 0.8])}
        )
        drift = mk.DriftReport(reference, current, multivariate=False)
        assert set(drift.drifted_columns) == {"x", "c"}, n


# ---- statistics agree with independent references -----------------------------------------


def test_column_statistics_equal_scipy_on_the_raw_data():
    rng = np.random.default_rng(5)
    reference = pd.DataFrame(
        {"x": rng.normal(0, 1, 3_000), "c": rng.choice(["a", "b", "c"], 3_000, p=[0.5, 0.3, 0.2])}
    )
    current = pd.DataFrame(
        {"x": rng.normal(0.2, 1, 2_000), "c": rng.choice(["a", "b", "c"], 2_000, p=[0.4, 0.4, 0.2])}
    )
    reference.loc[::10, "x"] = np.nan
    drift = mk.DriftReport(reference, current, multivariate=False)
    ks = scipy.stats.ks_2samp(reference["x"].dropna(), current["x"])
    assert drift["x"].statistic == pytest.approx(ks.statistic, abs=1e-12)
    assert drift["x"].p_value == pytest.approx(ks.pvalue, rel=1e-9)
    table = pd.crosstab(
        np.r_[np.zeros(3_000), np.ones(2_000)], np.r_[reference["c"], current["c"]]
    ).to_numpy()
    chi2 = scipy.stats.chi2_contingency(table)
    assert drift["c"].statistic == pytest.approx(chi2.statistic, rel=1e-12)
    assert drift["c"].p_value == pytest.approx(chi2.pvalue, rel=1e-9)
    shares = table / table.sum(axis=1, keepdims=True)
    raw = 0.5 * np.abs(shares[0] - shares[1]).sum()
    assert drift["c"].statistic != raw  # chi2's statistic; total variation is the effect:
    # debiased by its expectation under no change (normal approximation: every category here
    # expects far more than 20 rows on the smaller side).
    pooled = table.sum(axis=0) / table.sum()
    floor = 0.5 * np.sum(
        np.sqrt(2 / np.pi * pooled * (1 - pooled) * (1 / 3_000 + 1 / 2_000) * 5_000 / 4_999)
    )
    assert drift["c"].effect_size == pytest.approx(raw - floor, rel=1e-9)
    assert drift["x"].reference_missing_rate == pytest.approx(0.1)
    assert drift.result.rule.n_tests == 4
    assert drift["x"].threshold == pytest.approx(0.05 / 4)


@settings(max_examples=25, deadline=None)
@given(
    values=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=10, max_size=80),
    labels=st.lists(st.sampled_from(["a", "b", "c"]), min_size=10, max_size=80),
    seed=st.integers(0, 1000),
)
def test_report_is_invariant_to_row_order_and_quiet_on_identical_data(values, labels, seed):
    n = min(len(values), len(labels))
    half = n // 2
    frame = pd.DataFrame({"x": values[:n], "c": labels[:n]})
    reference, current = frame.iloc[:half], frame.iloc[half:]
    rng = np.random.default_rng(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = mk.DriftReport(reference, current, multivariate=False)
        # The rows of each side permuted: every statistic and flag must be the same.
        permuted = mk.DriftReport(
            reference.iloc[rng.permutation(len(reference))],
            current.iloc[rng.permutation(len(current))],
            multivariate=False,
        )
        same = mk.DriftReport(frame, frame.iloc[rng.permutation(n)], multivariate=False)
    columns = ["column", "statistic", "p_value", "effect_size", "drifted", "severity"]
    pd.testing.assert_frame_equal(report.to_frame()[columns], permuted.to_frame()[columns])
    assert same.drifted_columns == []
    for column in same.columns:
        if column.skipped is None:
            assert column.effect_size == pytest.approx(0.0, abs=1e-12)


# ---- methods, thresholds, registry ----------------------------------------------------------


def test_method_and_threshold_per_kind_and_per_column():
    scenario = mk.datasets.load_scenario("seasonal_retail", n_rows=5_000)
    drift = mk.DriftReport(
        scenario.reference,
        scenario.current,
        method={"numeric": "psi", "category": "jensen_shannon"},
        threshold={"temperature_c": 0.5},
        multivariate=False,
    )
    assert drift["item_price_usd"].method == "psi" and drift["item_price_usd"].threshold == 0.2
    assert drift["temperature_c"].threshold == 0.5
    assert drift["category"].method == "jensen_shannon"
    assert drift["region"].method == "chi2"  # not in the mapping: the default rule
    psi = stats.numeric.psi(
        stats.prepare_numeric(scenario.reference["item_price_usd"].to_numpy()),
        stats.prepare_numeric(scenario.current["item_price_usd"].to_numpy()),
    )
    assert drift["item_price_usd"].statistic == pytest.approx(psi.statistic)
    assert drift["item_price_usd"].drifted == (psi.statistic >= 0.2)


def test_unknown_method_lists_the_available_ones():
    frame = pd.DataFrame({"x": np.arange(50.0)})
    with pytest.raises(InputError, match="unknown drift method 'kss'.*ks"):
        mk.DriftReport(frame, frame, method="kss")
    with pytest.raises(InputError, match="does not apply to numeric"):
        mk.DriftReport(frame, frame, method="chi2")


def test_a_registered_method_is_used_by_name():
    @stats.register_method(
        "mean_gap_test",
        label="Absolute mean gap",
        kinds=["numeric"],
        default_threshold=0.5,
        threshold_on="statistic",
        drift_when="above",
        statistic_range=(0, float("inf")),
        description="|mean(current) - mean(reference)|",
    )
    def mean_gap(reference, current):
        return stats.MethodResult(abs(current.mean() - reference.mean()), None)

    try:
        reference = pd.DataFrame({"x": np.zeros(100)})
        current = pd.DataFrame({"x": np.ones(100)})
        drift = mk.DriftReport(reference, current, method="mean_gap_test", multivariate=False)
        assert drift["x"].statistic == 1.0 and drift["x"].drifted
    finally:
        stats.unregister_method("mean_gap_test")


# ---- missing values, skipped columns, bad inputs ------------------------------------------


def test_missing_rate_spike_is_drift_even_when_values_did_not_move():
    rng = np.random.default_rng(6)
    reference = pd.DataFrame({"x": rng.normal(size=20_000)})
    current = pd.DataFrame({"x": rng.normal(size=20_000)})
    current.loc[:6_000, "x"] = np.nan
    drift = mk.DriftReport(reference, current, multivariate=False)
    column = drift["x"]
    assert column.effect_size < 0.03  # the values themselves did not move
    assert column.missing_drifted and column.drifted and column.severity == "critical"
    assert column.current_missing_rate == pytest.approx(6_001 / 20_000)


def test_columns_that_cannot_be_tested_are_skipped_with_a_reason():
    rng = np.random.default_rng(7)
    n = 2_000
    reference = pd.DataFrame(
        {
            "request_id": [f"req-{i}" for i in range(n)],
            "when": pd.date_range("2026-01-01", periods=n, freq="min", tz="Europe/Berlin"),
            "note": [f"customer wrote a long message number {i} about delivery" for i in range(n)],
            "constant": np.ones(n),
            "empty": np.full(n, np.nan),
            "x": rng.normal(size=n),
            "old": rng.normal(size=n),
        }
    )
    current = reference.drop(columns=["old"]).assign(x=rng.normal(size=n))
    drift = mk.DriftReport(reference, current)
    skipped = drift.skipped_columns
    assert "identifier" in skipped["request_id"]
    assert "free text" in skipped["note"]
    assert "constant" in skipped["constant"]
    assert "all values missing" in skipped["empty"]
    assert "current has no column 'old'" in skipped["old"]
    assert "used to cut windows" in skipped["when"]
    assert drift.drifted_columns == []
    assert "skipped note" in str(drift)


def test_a_category_with_a_million_distinct_values_is_skipped_as_an_identifier():
    n = 500_000
    reference = pd.DataFrame({"session": np.char.add("s", np.arange(n).astype(str))})
    current = pd.DataFrame({"session": np.char.add("s", np.arange(n, 2 * n).astype(str))})
    drift = mk.DriftReport(reference, current, spec=mk.ColumnSpec(categorical=["session"]))
    assert "behaves as an identifier" in drift.skipped_columns["session"]


def test_numeric_column_with_currency_strings_and_infinities_counts_them_as_invalid():
    reference = pd.DataFrame({"price": np.linspace(1, 100, 1_000)})
    strings = np.linspace(1, 100, 1_000).astype(str).astype(object)
    strings[:30] = "$12.99"
    current = pd.DataFrame({"price": strings})
    current.loc[30:34, "price"] = "inf"
    drift = mk.DriftReport(reference, current, multivariate=False)
    assert drift["price"].kind == "numeric"
    assert drift["price"].current_invalid == 35
    assert drift["price"].current_count == 965


def test_mixed_numbers_and_strings_are_compared_as_categories():
    reference = pd.DataFrame({"code": [1, "A", 2, "B"] * 100}, dtype=object)
    current = pd.DataFrame({"code": ["1", "A", "2", "B"] * 100}, dtype=object)
    drift = mk.DriftReport(reference, current, multivariate=False)
    assert drift["code"].kind == "categorical"
    assert drift["code"].effect_size == 0.0  # 1 and "1" are one category


def test_unseen_categories_are_counted():
    reference = pd.DataFrame({"c": ["a", "b"] * 500})
    current = pd.DataFrame({"c": ["a", "b", "new"] * 300})
    drift = mk.DriftReport(reference, current, multivariate=False)
    assert drift["c"].unseen_categories == 1 and drift["c"].drifted
    assert "new" in drift["c"].distribution.bins


def test_bad_inputs_raise_clear_errors():
    frame = pd.DataFrame({"x": np.arange(10.0)})
    with pytest.raises(SchemaError, match="current has no rows"):
        mk.DriftReport(frame, frame.iloc[:0])
    with pytest.raises(SchemaError, match="duplicate column names"):
        mk.DriftReport(frame, pd.DataFrame([[1, 2]], columns=["x", "x"]))
    with pytest.raises(ColumnSpecError, match="no timestamp column"):
        mk.DriftReport(frame, frame, by="1D")
    with pytest.raises(ColumnSpecError, match="in neither reference nor current"):
        mk.DriftReport(frame, frame, columns=["y"])
    with pytest.raises(InputError, match="between 1 and the 10 rows"):
        mk.DriftReport(frame, frame, by=20)
    timed = pd.DataFrame({"ts": pd.date_range("2026-01-01", periods=10, freq="h"), "x": 1.0})
    with pytest.raises(InputError, match="not a pandas offset alias"):
        mk.DriftReport(timed, timed, by="fortnightly")


def test_time_zone_aware_timestamps_are_windowed_in_utc():
    n = 48 * 20
    times = pd.date_range("2026-03-01", periods=n, freq="3min", tz="America/New_York")
    rng = np.random.default_rng(8)
    reference = pd.DataFrame({"ts": times, "x": rng.normal(size=n)})
    current = pd.DataFrame({"ts": times + pd.Timedelta(days=10), "x": rng.normal(size=n)})
    drift = mk.DriftReport(reference, current, by="1D", multivariate=False)
    # 01:00 New York time on 11 March is 05:00 UTC: the first UTC day holds 19 hours (380
    # rows of 3 minutes); in New York time it would have held 23 (460 rows)
    assert [(w.window, w.rows) for w in drift.result.windows] == [
        ("2026-03-11", 380),
        ("2026-03-12", 480),
        ("2026-03-13", 100),
    ]
    assert sum(w.rows for w in drift.result.windows) == n


# ---- multivariate and domain classifier -----------------------------------------------------


def test_changed_correlation_is_caught_when_every_column_looks_unchanged():
    rng = np.random.default_rng(9)
    n = 20_000

    def correlated(rho: float) -> pd.DataFrame:
        cov = [[1, rho, 0], [rho, 1, 0], [0, 0, 1]]
        values = rng.multivariate_normal([0, 0, 0], cov, size=n)
        return pd.DataFrame(values, columns=["a", "b", "c"])

    reference, current = correlated(0.9), correlated(-0.9)
    drift = mk.DriftReport(reference, current)
    assert drift.drifted_columns == []
    multivariate = drift.result.multivariate
    assert multivariate.drifted and multivariate.current_error > multivariate.upper
    quiet = mk.DriftReport(reference, correlated(0.9)).result.multivariate
    assert not quiet.drifted


def test_domain_classifier_finds_the_changed_features():
    pytest.importorskip("sklearn")
    scenario = mk.datasets.load_scenario("seasonal_retail", n_rows=6_000)
    drift = mk.DriftReport(scenario.reference, scenario.current, domain_classifier=True)
    domain = drift.result.domain_classifier
    assert domain.drifted and domain.auc > 0.7
    assert domain.columns[0] == "temperature_c"
    quiet = mk.datasets.load_scenario("no_change", n_rows=6_000)
    domain = mk.DriftReport(quiet.reference, quiet.current, domain_classifier=True)
    assert not domain.result.domain_classifier.drifted
    assert domain.result.domain_classifier.auc < 0.56


# ---- results are plain values --------------------------------------------------------------


def test_json_round_trip_keeps_every_view():
    scenario = mk.datasets.load_scenario("corrupted_inputs", n_rows=5_000)
    drift = mk.DriftReport(scenario.reference, scenario.current, by="1W")
    text = drift.to_json()
    loaded = mk.load_report(text)
    assert isinstance(loaded, mk.DriftReport)
    pd.testing.assert_frame_equal(loaded.to_frame(), drift.to_frame())
    pd.testing.assert_frame_equal(loaded.over_time(), drift.over_time())
    assert loaded.result == drift.result
    assert (loaded.severity, loaded.verdict, str(loaded)) == (
        drift.severity,
        drift.verdict,
        str(drift),
    )
    data = json.loads(text)
    assert data["kind"] == "drift" and data["schema_version"] == mk.DriftReport.schema_version
    data["schema_version"] = 99
    with pytest.raises(ReportFormatError, match="schema_version 99"):
        mk.load_report(data)
    with pytest.raises(ReportFormatError, match="no 'kind'"):
        mk.load_report("{}")


def test_target_and_prediction_come_first_then_columns_by_effect():
    scenario = mk.datasets.load_scenario("imaging_equipment", n_rows=5_000)
    frame = mk.DriftReport(scenario.reference, scenario.current).to_frame()
    assert list(frame["role"][:2]) == ["target", "prediction"]
    features = frame[(frame["role"] == "feature") & frame["skipped"].isna()]
    drifted = features[features["drifted"]]
    assert len(drifted) >= 2
    # Drifted features lead, ordered by severity, then by how far they moved.
    assert features["drifted"].iloc[: len(drifted)].all()
    severity_rank = drifted["severity"].map({"warning": 1, "critical": 2})
    moved = np.maximum(
        np.where(drifted["values_drifted"], drifted["effect_size"], 0.0),
        np.where(drifted["missing_drifted"], drifted["missing_rate_change"].abs(), 0.0),
    )
    keys = list(zip(-severity_rank, -moved))
    assert keys == sorted(keys)


def test_with_rule_re_evaluates_flags_from_stored_statistics():
    scenario = mk.datasets.load_scenario("seasonal_retail", n_rows=20_000)
    drift = mk.DriftReport(scenario.reference, scenario.current, by="1W")
    strict = drift.with_rule(min_effect=0.1)
    assert set(strict.drifted_columns) == {"temperature_c", "category", "score", "item_price_usd"}
    for column in strict.columns:
        original = drift[column.column]
        assert (column.statistic, column.p_value, column.effect_size) == (
            original.statistic,
            original.p_value,
            original.effect_size,
        )
    assert strict.result.rule.n_tests == drift.result.rule.n_tests
    assert strict.with_rule(min_effect=0.03).to_frame().equals(drift.to_frame())
    table = strict.over_time()
    assert not table[table["effect_size"] < 0.1]["drifted"].any()
    # the report computed with the rule directly agrees with the re-evaluated one
    direct = mk.DriftReport(
        scenario.reference, scenario.current, by="1W", rule=mk.DecisionRule(min_effect=0.1)
    )
    assert direct.drifted_columns == strict.drifted_columns
