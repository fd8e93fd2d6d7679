"""Drift against a profile: p-values that mean what they say, reproducible numbers, and
categorical effect sizes free of sampling noise (see monitorkit/drift/profile.py)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats

import monitorkit as mk
from monitorkit.drift.profile import binned_counts, current_histogram_edges, grid_edges
from monitorkit.profiles import NumericProfile, profile_frame

NUMERIC_SHAPES = (
    "normal",
    "wide_normal",
    "tiny_normal",
    "lognormal",
    "heavy_tail",
    "exponential",
    "uniform",
    "poisson",
    "counts",
    "rounded",
    "zero_inflated",
    "three_values",
)
NUMERIC_SPEC = mk.ColumnSpec(numerical=list(NUMERIC_SHAPES))


def _numeric_frame(rows: int, seed: int) -> pd.DataFrame:
    """Twelve numeric shapes, several with heavy ties (integers, rounding, point masses)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "normal": rng.normal(0, 1, rows),
            "wide_normal": rng.normal(1e6, 2e5, rows),
            "tiny_normal": rng.normal(0, 0.01, rows),
            "lognormal": rng.lognormal(0, 1, rows),
            "heavy_tail": rng.standard_t(2, rows),
            "exponential": rng.exponential(3, rows),
            "uniform": rng.uniform(-1, 1, rows),
            "poisson": rng.poisson(3, rows).astype(float),
            "counts": rng.negative_binomial(2, 0.3, rows).astype(float),
            "rounded": np.round(rng.normal(50, 10, rows)),
            "zero_inflated": np.where(rng.random(rows) < 0.4, 0.0, rng.exponential(1, rows)),
            "three_values": rng.choice([0.0, 1.0, 2.0], rows, p=[0.6, 0.3, 0.1]),
        }
    )


def _report_json(report) -> str:
    return json.dumps(report.to_dict(), sort_keys=True)


# ---- p-values from a baseline's sketches ------------------------------------------------------


def test_p_values_from_sketches_hold_their_level_when_nothing_changed():
    # 8 repeats x 12 shapes at 200,000 rows a side, reference as a baseline or a profile, and
    # current as rows or (last two repeats) as a profile: the sketch-against-sketch path
    p_values = []
    for repeat in range(8):
        reference = _numeric_frame(200_000, seed=100 + repeat)
        current = _numeric_frame(200_000, seed=200 + repeat)
        if repeat % 2:
            summary = mk.profile(reference, spec=NUMERIC_SPEC)
        else:
            summary = mk.Baseline.from_frame(reference, spec=NUMERIC_SPEC)
        if repeat >= 6:
            current = mk.profile(current, spec=NUMERIC_SPEC)
        table = mk.DriftReport(summary, current).to_frame()
        assert len(table) == len(NUMERIC_SHAPES) and table["skipped"].isna().all()
        p_values.extend(table["p_value"])
    p_values = np.array(p_values)
    for alpha in (0.01, 0.05):
        rejections = int(np.sum(p_values < alpha))
        # consistent with a rate of at most alpha (a valid test fails this 1 time in 1,000)
        assert scipy.stats.binomtest(rejections, p_values.size, alpha, "greater").pvalue > 1e-3
        assert rejections / p_values.size <= 2 * alpha


def test_a_real_shift_is_detected_from_the_baseline():
    rng = np.random.default_rng(5)
    reference = pd.DataFrame({"x": rng.normal(0, 1, 50_000), "y": rng.normal(0, 1, 50_000)})
    current = pd.DataFrame({"x": rng.normal(0.25, 1, 50_000), "y": rng.normal(0, 1, 50_000)})
    exact = scipy.stats.ks_2samp(reference["x"], current["x"]).statistic  # about 0.1
    assert 0.08 < exact < 0.12
    baseline = mk.Baseline.from_frame(reference)
    error = baseline.profile["x"].rank_error()
    for current_side in (current, mk.profile(current, spec=baseline.spec)):
        report = mk.DriftReport(baseline, current_side)
        assert report.drifted_columns == ["x"]
        assert report["x"].p_value < 1e-12
        assert abs(report["x"].effect_size - exact) <= 2 * error


def test_with_every_value_in_the_sketch_the_test_is_the_exact_ks_test():
    # up to 200 values the sketch holds them all: rank error 0, D and p as scipy's (ties too)
    rng = np.random.default_rng(11)
    reference = pd.DataFrame({"x": np.round(rng.normal(0, 1, 150), 1)})
    current = pd.DataFrame({"x": np.round(rng.normal(0.3, 1, 5_000), 1)})
    baseline = mk.Baseline.from_frame(reference)
    assert baseline.profile["x"].rank_error() == 0.0
    column = mk.DriftReport(baseline, current)["x"]
    exact = scipy.stats.ks_2samp(reference["x"], current["x"])
    assert column.statistic == pytest.approx(exact.statistic, abs=1e-12)
    effective_n = 150 * 5_000 / 5_150
    limit = scipy.stats.kstwobign.sf(exact.statistic * math.sqrt(effective_n))
    assert column.p_value == pytest.approx(limit, rel=1e-9)


def test_the_distance_is_the_exact_supremum_against_the_reference_sketch():
    rng = np.random.default_rng(12)
    values = np.round(rng.lognormal(0, 1, 100_000), 2)  # many ties
    current_values = np.round(rng.lognormal(0.05, 1.1, 30_000), 2)
    reference = mk.profile(pd.DataFrame({"x": values}))
    column = mk.DriftReport(reference, pd.DataFrame({"x": current_values}))["x"]
    # brute force: both CDFs at every retained value and every current value, and just below
    sketch = reference["x"].kll()
    current_sorted = np.sort(current_values)
    retained, _ = reference["x"].sketch_steps()
    points = np.unique(np.concatenate([retained, current_sorted]))
    sketch_at = np.array([sketch.get_rank(float(p), True) for p in points])
    sketch_below = np.array([sketch.get_rank(float(p), False) for p in points])
    current_at = np.searchsorted(current_sorted, points, side="right") / current_sorted.size
    current_below = np.searchsorted(current_sorted, points, side="left") / current_sorted.size
    supremum = max(
        np.max(np.abs(sketch_at - current_at)), np.max(np.abs(sketch_below - current_below))
    )
    assert column.statistic == pytest.approx(supremum, abs=1e-12)
    exact = scipy.stats.ks_2samp(values, current_values).statistic
    assert abs(column.statistic - exact) <= reference["x"].rank_error()


def test_binned_methods_get_exact_current_counts_on_the_reference_deciles():
    rng = np.random.default_rng(13)
    frame = pd.DataFrame({"x": rng.gamma(2.0, 1.0, 60_000)})
    current = pd.DataFrame({"x": rng.gamma(2.2, 1.0, 20_000)})
    reference = mk.profile(frame)
    summary = profile_frame(
        current, reference.spec, current_histogram_edges(reference), quantile_sketch=False
    )
    assert not summary["x"].has_sketch and summary["x"].edges == grid_edges(reference["x"])
    _, current_counts = binned_counts(reference["x"], summary["x"])
    deciles = np.unique(reference["x"].quantiles(np.linspace(0, 1, 11)[1:-1]))
    at_most = np.searchsorted(np.sort(current["x"]), deciles, side="right")
    assert current_counts.tolist() == np.diff(np.r_[0, at_most, 20_000]).tolist()
    psi = mk.DriftReport(reference, current, method={"x": "psi"})["x"]
    reference_counts, _ = binned_counts(reference["x"], summary["x"])
    assert psi.statistic == mk.stats.categorical.psi(reference_counts, current_counts).statistic


def test_a_current_profile_without_sketches_must_be_on_the_reference_grid():
    frame = _numeric_frame(5_000, seed=14)[["normal"]]
    reference = mk.profile(frame)
    unsketched = mk.profile(frame, spec=reference.spec, quantile_sketch=False)
    with pytest.raises(mk.errors.InputError, match="without a quantile sketch"):
        mk.DriftReport(reference, unsketched)


# ---- reproducible reports ---------------------------------------------------------------------


def test_reports_against_a_baseline_are_reproducible_bit_for_bit(tmp_path):
    scenario = mk.datasets.load_scenario("corrupted_inputs", n_rows=12_000)
    baseline = mk.Baseline.from_frame(scenario.reference)
    first = _report_json(mk.DriftReport(baseline, scenario.current))
    assert _report_json(mk.DriftReport(baseline, scenario.current)) == first
    loaded = mk.Baseline.load(baseline.save(tmp_path / "baseline.json"))
    assert _report_json(mk.DriftReport(loaded, scenario.current)) == first
    folder = tmp_path / "log"
    folder.mkdir()
    for i in range(3):
        scenario.current.iloc[i * 4_000 : (i + 1) * 4_000].to_parquet(folder / f"{i}.parquet")
    assert _report_json(mk.DriftReport(baseline, str(folder / "*.parquet"))) == first
    # a profile as the reference, in memory or read back from its JSON
    reference = mk.profile(scenario.reference)
    again = mk.Profile.from_dict(json.loads(reference.to_json()))
    numbers = _report_json(mk.DriftReport(reference, scenario.current))
    assert _report_json(mk.DriftReport(again, scenario.current)) == numbers
    assert any(c.kind == "numeric" and c.count > 1_000 for c in reference.columns.values())


# ---- categorical effect sizes without sampling noise -----------------------------------------


def _categorical_frame(categories: int, rows: int, seed: int, moved: float = 0.0) -> pd.DataFrame:
    """Zipf-like shares over ``categories`` labels; ``moved`` of the rows moved from the most
    frequent label to a rare one (total variation ``moved`` from the unmoved shares)."""
    shares = 1.0 / np.arange(1, categories + 1) ** 1.1
    shares /= shares.sum()
    shares[0] -= moved
    shares[categories // 2] += moved
    codes = np.random.default_rng(seed).choice(categories, size=rows, p=shares)
    labels = np.array([f"k{i}" for i in range(categories)], dtype=object)
    return pd.DataFrame({"c": labels[codes]})


CATEGORICAL_SPEC = mk.ColumnSpec(categorical=["c"])


@pytest.mark.parametrize(
    "categories, reference_rows, current_rows",
    [(1_000, 100_000, 100_000), (5_000, 20_000, 20_000), (1_000, 100_000, 20_000)],
)
def test_categorical_effect_is_near_zero_when_nothing_changed(
    categories, reference_rows, current_rows
):
    reference = _categorical_frame(categories, reference_rows, seed=1)
    current = _categorical_frame(categories, current_rows, seed=2)
    raw = mk.DriftReport(reference, current, spec=CATEGORICAL_SPEC, multivariate=False)
    baseline = mk.Baseline.from_frame(reference, spec=CATEGORICAL_SPEC)
    from_baseline = mk.DriftReport(baseline, current)
    counts = pd.concat([reference["c"].value_counts(), current["c"].value_counts()], axis=1)
    counts = counts.fillna(0).to_numpy()
    assert mk.stats.categorical.tvd(counts[:, 0], counts[:, 1]).statistic > 0.03  # the noise
    for report in (raw, from_baseline):
        assert report["c"].effect_size < 0.01
        assert report.drifted_columns == []
    assert from_baseline["c"].effect_size == pytest.approx(raw["c"].effect_size, abs=1e-12)


def test_a_one_percent_move_reads_as_one_percent_and_stays_below_min_effect():
    reference = _categorical_frame(1_000, 100_000, seed=3)
    current = _categorical_frame(1_000, 40_000, seed=4, moved=0.01)
    raw = mk.DriftReport(reference, current, spec=CATEGORICAL_SPEC, multivariate=False)
    from_baseline = mk.DriftReport(
        mk.Baseline.from_frame(reference, spec=CATEGORICAL_SPEC), current
    )
    for report in (raw, from_baseline):
        column = report["c"]
        assert column.p_value < 1e-6  # chi-square sees the move ...
        assert column.effect_size == pytest.approx(0.01, abs=0.005)  # ... of 1% of the rows
        assert report.drifted_columns == []  # below min_effect = 0.03: not flagged
    assert raw.result.rule.min_effect == 0.03
    # the raw total variation, inflated by the noise of 1,000 categories, would have passed it
    counts = pd.concat([reference["c"].value_counts(), current["c"].value_counts()], axis=1)
    counts = counts.fillna(0).to_numpy()
    assert mk.stats.categorical.tvd(counts[:, 0], counts[:, 1]).statistic > 0.03


def test_window_effects_are_debiased_too():
    reference = _categorical_frame(1_000, 100_000, seed=5)
    current = _categorical_frame(1_000, 60_000, seed=6)
    report = mk.DriftReport(reference, current, spec=CATEGORICAL_SPEC, by=4, multivariate=False)
    table = report.over_time()
    effects = table.loc[table["column"] == "c", "effect_size"].to_numpy(dtype=float)
    assert effects.size == 4 and np.all(effects < 0.01)
    assert not table["drifted"].any()


def test_numeric_profile_without_a_sketch_merges_only_with_its_kind():
    values = pd.Series(np.arange(1_000.0), name="x")
    bare = NumericProfile.from_values(values, edges=(10.0, 500.0), quantile_sketch=False)
    assert not bare.has_sketch and math.isnan(bare.rank_error())
    assert np.isnan(bare.cdf(np.array([5.0]))).all()
    merged = bare.merge(bare)
    assert merged.histogram == (20, 980, 1_000) and not merged.has_sketch
    with pytest.raises(mk.errors.InputError, match="quantile_sketch=False"):
        bare.merge(NumericProfile.from_values(values, edges=(10.0, 500.0)))


def test_a_reference_column_without_values_gives_nan_not_an_error():
    reference = pd.DataFrame({"x": np.full(500, np.nan), "y": np.arange(500.0)})
    current = pd.DataFrame({"x": np.arange(300.0), "y": np.arange(300.0)})
    summary = mk.profile(reference, spec=mk.ColumnSpec(numerical=["x", "y"]))
    for method in ("ks", "psi"):
        column = mk.DriftReport(summary, current, method={"numeric": method})["x"]
        assert column.statistic is None or math.isnan(column.statistic)
        assert not column.values_drifted


def test_window_effects_from_a_baseline_are_debiased_too():
    reference = _categorical_frame(1_000, 100_000, seed=7)
    current = _categorical_frame(1_000, 60_000, seed=8)
    baseline = mk.Baseline.from_frame(reference, spec=CATEGORICAL_SPEC)
    report = mk.DriftReport(baseline, current, by=4)
    table = report.over_time()
    effects = table.loc[table["column"] == "c", "effect_size"].to_numpy(dtype=float)
    assert effects.size == 4 and np.all(effects < 0.01)
    assert not table["drifted"].any()


def test_windows_from_a_baseline_stay_quiet_when_nothing_changed():
    """The null case on the sketch path, per window: the family of window tests from a
    baseline flags nothing on unchanged data (sketch p-values are conservative, and every
    window test is in the Bonferroni family)."""
    flagged, windows = 0, 0
    for seed in range(8):
        scenario = mk.datasets.load_scenario("no_change", n_rows=4_000, seed=seed)
        baseline = mk.Baseline.from_frame(scenario.reference, scenario.spec)
        report = mk.DriftReport(baseline, scenario.current, by="1D")
        table = report.over_time()
        windows += table["window"].nunique()
        flagged += bool(report.drifted_columns) or bool(table["drifted"].fillna(False).any())
        assert report.result.rule.n_tests > 2 * len(report.tested_features)  # windows counted
    assert windows > 8 * 20
    assert flagged <= 1, f"{flagged} of 8 unchanged reports flagged something"
