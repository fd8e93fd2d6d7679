"""Mergeable profiles: exact parts exact, sketches within their bounds, JSON round trip."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import monitorkit as mk
from monitorkit.errors import ColumnSpecError, DataSourceError, ReportFormatError
from monitorkit.profiles import KLL_RANK_ERROR, MAX_EXACT_CATEGORIES, NumericProfile, Profile


@pytest.fixture(scope="module")
def retail():
    return mk.datasets.load_scenario("corrupted_inputs", n_rows=30_000)


def _exact_parts(p: Profile) -> dict:
    parts = {}
    for name, column in p.columns.items():
        if column.kind == "numeric":
            parts[name] = (
                column.count,
                column.missing,
                column.invalid,
                column.minimum,
                column.maximum,
            )
        else:
            parts[name] = (column.count, column.missing, dict(column.counts))
    return parts


def test_counts_min_max_mean_and_variance_are_exact(retail):
    reference = retail.reference
    p = mk.profile(reference)
    ages = reference["customer_age"]
    column = p["customer_age"]
    assert (column.count, column.missing) == (ages.notna().sum(), ages.isna().sum())
    assert (column.minimum, column.maximum) == (ages.min(), ages.max())
    assert column.mean == pytest.approx(ages.mean(), rel=1e-12)
    assert column.variance == pytest.approx(ages.var(ddof=1), rel=1e-10)
    device = p["device"]
    assert device.counts == reference["device"].value_counts().to_dict()
    assert p.rows == len(reference)
    assert "request_id" not in p.columns and "timestamp" not in p.columns


def test_quantiles_are_within_the_kll_rank_error(retail):
    values = retail.reference["latency_ms"].to_numpy()
    column = mk.profile(retail.reference)["latency_ms"]
    ranks = np.linspace(0.01, 0.99, 99)
    estimates = column.quantiles(ranks)
    true_ranks = np.searchsorted(np.sort(values), estimates, side="right") / values.size
    assert np.max(np.abs(true_ranks - ranks)) <= KLL_RANK_ERROR + 1 / values.size
    grid = np.quantile(values, ranks)
    assert np.max(np.abs(column.cdf(grid) - ranks)) <= KLL_RANK_ERROR + 0.01


def test_merging_parts_equals_profiling_the_whole(retail):
    reference = retail.reference
    whole = mk.profile(reference)
    parts = [
        mk.profile(reference.iloc[i : i + 7_000], spec=whole.spec)
        for i in range(0, len(reference), 7_000)
    ]
    merged = mk.merge_profiles(parts)
    assert _exact_parts(merged) == _exact_parts(whole)
    for name, column in whole.columns.items():
        if column.kind == "numeric" and column.count:
            assert merged[name].mean == pytest.approx(column.mean, rel=1e-12)
            assert merged[name].variance == pytest.approx(column.variance, rel=1e-9)
            assert abs(
                merged[name].quantiles(np.array([0.5]))[0] - column.quantiles(np.array([0.5]))[0]
            ) <= np.ptp(column.quantiles(np.array([0.5 - KLL_RANK_ERROR, 0.5 + KLL_RANK_ERROR])))


@settings(max_examples=30, deadline=None)
@given(
    chunks=st.lists(
        st.lists(
            st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.none()), min_size=1, max_size=40
        ),
        min_size=3,
        max_size=3,
    ),
    labels=st.lists(st.sampled_from(["a", "b", "c", None]), min_size=3, max_size=3),
)
def test_merge_is_associative_and_commutative(chunks, labels):
    frames = [
        pd.DataFrame(
            {"x": pd.array(chunk, dtype="Float64").astype(float), "c": [label] * len(chunk)}
        )
        for chunk, label in zip(chunks, labels)
    ]
    spec = mk.ColumnSpec(numerical=["x"], categorical=["c"])
    resolved = spec.resolve(pd.concat(frames, ignore_index=True))
    a, b, c = (mk.profile(f, spec=resolved) for f in frames)
    left, right = a.merge(b).merge(c), a.merge(b.merge(c))
    swapped = c.merge(a).merge(b)
    for other in (right, swapped):
        assert _exact_parts(left) == _exact_parts(other)
        assert left["x"].mean == pytest.approx(other["x"].mean, rel=1e-9, abs=1e-6)
        assert left["x"].m2 == pytest.approx(other["x"].m2, rel=1e-7, abs=1e-3)
    assert left.rows == sum(len(f) for f in frames)


@pytest.mark.parametrize("rows", [0, 1, 3, 200, 201, 5_000, 300_000])
def test_sketch_steps_are_the_sketchs_own_cdf(rows):
    rng = np.random.default_rng(rows)
    values = pd.Series(np.round(rng.lognormal(0, 1, rows), 1), name="x")  # ties
    column = NumericProfile.from_values(values)
    if rows > 1_000:  # a merged sketch too
        column = column.merge(NumericProfile.from_values(values.iloc[: rows // 3]))
    points, ranks = column.sketch_steps()
    sketch = column.kll()
    if rows == 0:
        assert points.size == ranks.size == 0
        return
    assert np.all(np.diff(points) > 0) and ranks[-1] == 1.0 and np.all(np.diff(ranks) > 0)
    probes = np.concatenate([points, (points[:-1] + points[1:]) / 2, [points[0] - 1.0]])
    inclusive = np.array([sketch.get_rank(float(p), True) for p in probes])
    assert np.concatenate([[0.0], ranks])[np.searchsorted(points, probes, side="right")] == (
        pytest.approx(inclusive, abs=1e-15)
    )
    assert column.rank_error() == (0.0 if rows <= 200 else pytest.approx(0.0165, abs=1e-4))
    if rows <= 200:  # the sketch holds every value: its CDF is the exact one
        exact = np.searchsorted(np.sort(values), points, side="right") / rows
        assert ranks == pytest.approx(exact, abs=1e-15)


def test_a_profile_without_quantile_sketches_is_exact_and_batch_independent(retail):
    edges = {"customer_age": [18.0, 30.0, 45.0], "score": [0.25, 0.5, 0.75]}
    whole = mk.profile(retail.reference, histogram_edges=edges, quantile_sketch=False)
    parts = mk.profile(
        retail.reference, histogram_edges=edges, quantile_sketch=False, batch_rows=7_000
    )
    assert _exact_parts(whole) == _exact_parts(parts)
    for name in edges:
        assert whole[name].histogram == parts[name].histogram and whole[name].histogram
        assert whole[name].sketch == parts[name].sketch == b""
    assert not whole["score"].has_sketch
    assert np.isnan(whole["score"].quantiles(np.array([0.5]))).all()
    assert Profile.from_dict(json.loads(whole.to_json()))["score"] == whole["score"]


def test_categorical_counts_switch_to_the_frequent_items_sketch_past_the_limit():
    n = MAX_EXACT_CATEGORIES + 5_000
    heavy = ["popular"] * 20_000
    frame = pd.DataFrame({"c": [f"v{i}" for i in range(n)] + heavy})
    p = mk.profile(frame, spec=mk.ColumnSpec(categorical=["c"]), batch_rows=8_000)
    column = p["c"]
    assert not column.exact
    assert column.category_counts()["popular"] == pytest.approx(20_000, rel=0.01)
    assert column.distinct == pytest.approx(n + 1, rel=0.05)
    assert column.count == n + 20_000


def test_json_round_trip_and_clear_errors(retail, tmp_path):
    p = mk.profile(retail.reference)
    again = Profile.from_dict(json.loads(p.to_json()))
    assert _exact_parts(again) == _exact_parts(p)
    assert again["score"].quantiles(np.array([0.9]))[0] == p["score"].quantiles(np.array([0.9]))[0]
    data = json.loads(p.to_json())
    data["schema_version"] = 2
    with pytest.raises(ReportFormatError, match="schema_version 2.*newer monitorkit"):
        Profile.from_dict(data)
    data["schema_version"] = 1
    del data["columns"]["score"]["kll"]
    with pytest.raises(ReportFormatError, match="corrupt"):
        Profile.from_dict(data)


def test_profiles_of_different_tables_do_not_merge(retail):
    a = mk.profile(retail.reference)
    b = mk.profile(retail.reference.drop(columns=["device"]).assign(device=1.0))
    with pytest.raises(ColumnSpecError, match="retyped: 'device' \\(categorical.*numeric"):
        a.merge(b)
    comparison = a.check_matches(retail.current.drop(columns=["score"]))
    assert comparison and comparison.missing == ("score",)
    with pytest.raises(ColumnSpecError, match="missing from current: 'score'"):
        comparison.raise_if_mismatched()


def test_files_are_read_in_batches(tmp_path, retail):
    folder = tmp_path / "logs"
    folder.mkdir()
    for i in range(3):
        retail.reference.iloc[i * 10_000 : (i + 1) * 10_000].to_parquet(folder / f"{i}.parquet")
    retail.reference.to_csv(tmp_path / "all.csv", index=False)
    whole = mk.profile(retail.reference)
    for source in (folder, str(folder / "*.parquet"), tmp_path / "all.csv"):
        p = mk.profile(source, spec=whole.spec, batch_rows=4_000, progress=False)
        assert p.rows == len(retail.reference)
        assert p["device"].counts == whole["device"].counts
        assert p["score"].count == whole["score"].count
    with pytest.raises(DataSourceError, match="no parquet files match"):
        mk.profile(str(tmp_path / "nothing-*.parquet"))
    with pytest.raises(DataSourceError, match="no such file"):
        mk.profile(tmp_path / "missing.parquet")


@pytest.mark.parametrize("name", mk.datasets.SCENARIOS)
def test_drift_from_profiles_agrees_with_the_exact_report(name):
    scenario = mk.datasets.load_scenario(name, n_rows=20_000)
    exact = mk.DriftReport(scenario.reference, scenario.current, multivariate=False)
    sketched = mk.DriftReport(mk.profile(scenario.reference), scenario.current)
    assert set(sketched.drifted_columns) == set(exact.drifted_columns)
    for column in sketched.columns:
        if column.skipped is None:
            exact_effect = exact[column.column].effect_size
            tolerance = 2 * KLL_RANK_ERROR if column.kind == "numeric" else 1e-12
            assert abs(column.effect_size - exact_effect) <= tolerance, column.column
    assert sketched.result.multivariate.skipped


def test_profile_versus_profile_and_windows():
    scenario = mk.datasets.load_scenario("seasonal_retail", n_rows=10_000)
    reference = mk.profile(scenario.reference)
    both = mk.DriftReport(reference, mk.profile(scenario.current, spec=reference.spec))
    assert "temperature_c" in both.drifted_columns
    windowed = mk.DriftReport(reference, scenario.current, by="1W")
    assert windowed.first_drifted_window("temperature_c") == mk.DriftReport(
        scenario.reference, scenario.current, by="1W"
    ).first_drifted_window("temperature_c")
    with pytest.raises(mk.errors.InputError, match="needs the raw values"):
        mk.DriftReport(reference, scenario.current, method={"numeric": "anderson"})


def test_fixed_edge_histograms_are_exact_mergeable_and_used_by_drift(retail):
    edges = {"customer_age": [18, 30, 45, 60, 80], "price_usd": [10.0, 50.0, 100.0]}
    reference = retail.reference
    whole = mk.profile(reference, histogram_edges=edges)
    ages = reference["customer_age"].dropna().to_numpy()
    expected = np.bincount(np.searchsorted(edges["customer_age"], ages, side="right"), minlength=6)
    assert whole["customer_age"].histogram == tuple(expected)
    halves = [
        mk.profile(reference.iloc[:15_000], spec=whole.spec, histogram_edges=edges),
        mk.profile(reference.iloc[15_000:], spec=whole.spec, histogram_edges=edges),
    ]
    assert mk.merge_profiles(halves)["customer_age"].histogram == whole["customer_age"].histogram
    assert Profile.from_dict(json.loads(whole.to_json()))["price_usd"] == whole["price_usd"]
    other = mk.profile(reference, spec=whole.spec, histogram_edges={"customer_age": [0, 50]})
    with pytest.raises(mk.errors.InputError, match="different histogram edges"):
        whole.merge(other)
    with pytest.raises(mk.errors.InputError, match="strictly increasing"):
        mk.profile(reference, histogram_edges={"customer_age": [30, 18]})
    # PSI from profiles uses the exact histograms: current is binned on the same edges
    drift = mk.DriftReport(whole, retail.current, method={"customer_age": "psi"})
    current_ages = pd.to_numeric(retail.current["customer_age"], errors="coerce").dropna()
    current_counts = np.bincount(
        np.searchsorted(edges["customer_age"], current_ages, side="right"), minlength=6
    )
    exact = mk.stats.categorical.psi(expected, current_counts)
    assert drift["customer_age"].statistic == pytest.approx(exact.statistic, rel=1e-12)


def test_a_log_on_disk_is_compared_with_a_baseline_batch_by_batch(tmp_path):
    scenario = mk.datasets.load_scenario("corrupted_inputs", n_rows=12_000)
    baseline = mk.Baseline.from_frame(scenario.reference)
    folder = tmp_path / "log"
    folder.mkdir()
    for i in range(3):
        scenario.current.iloc[i * 4_000 : (i + 1) * 4_000].to_parquet(folder / f"{i}.parquet")
    from_files = mk.DriftReport(baseline, str(folder / "*.parquet"))
    in_memory = mk.DriftReport(baseline, scenario.current)
    assert from_files.drifted_columns == in_memory.drifted_columns
    files, memory = (r.to_frame().set_index("column").sort_index() for r in (from_files, in_memory))
    for column in ("current_count", "current_missing_rate", "current_invalid"):
        pd.testing.assert_series_equal(files[column], memory[column])
    # current is counted exactly on the reference's grid, batch by batch or not: same numbers
    pd.testing.assert_frame_equal(files, memory)
    assert from_files.result.current_rows == 12_000


def test_text_shapes_and_time_span_merge_exactly(retail):
    frame = retail.reference
    half = len(frame) // 2
    whole = mk.profile(frame)
    merged = mk.profile(frame.iloc[:half]).merge(mk.profile(frame.iloc[half:]))
    assert whole.text and merged.text == whole.text  # counts of value shapes add up
    assert whole.time is not None and merged.time == whole.time
    times = pd.to_datetime(frame[whole.spec.timestamp], utc=True)
    assert pd.Timestamp(whole.time.first) == times.min()
    assert pd.Timestamp(whole.time.last) == times.max()
    days = (times.max() - times.min()).total_seconds() / 86_400
    assert whole.time.rows_per_day == pytest.approx(len(frame) / days)
    loaded = mk.load_report(whole.to_json())
    assert loaded.text == whole.text and loaded.time == whole.time


def test_values_near_the_float_limit_give_the_mean_and_an_infinite_spread_without_warnings():
    values = pd.Series([1e308, 1e308, -1e308, 5.0], name="x")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning: overflow
        profile = NumericProfile.from_values(values)
    assert profile.mean == pytest.approx(math.fsum(values / 4))  # 2.5e307
    assert profile.m2 == math.inf and profile.count == 4
