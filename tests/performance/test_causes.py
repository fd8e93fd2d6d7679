"""Where to look first: the ranked causes of a metric's drop (monitorkit.performance.causes)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import monitorkit as mk
from monitorkit.performance import causes as causes_module
from monitorkit.performance.causes import Side, rank_causes

SPEC = mk.ColumnSpec(
    target="label",
    prediction="score",
    timestamp="ts",
    categorical=["region", "channel"],
    segments=["region"],
)


def _frame(
    n: int,
    *,
    seed: int,
    start: str,
    bad: dict[str, float] | None = None,
    channels: tuple[str, ...] = ("web", "app"),
) -> pd.DataFrame:
    """Binary data whose model is right on 90% of rows; ``bad`` maps ``column=value`` to the
    accuracy there instead."""
    rng = np.random.default_rng(seed)
    region = rng.choice(["north", "south", "east"], n)
    channel = rng.choice(list(channels), n)
    income = rng.lognormal(10, 0.4, n)
    accuracy = np.full(n, 0.9)
    for where, value in (bad or {}).items():
        column, level = where.split("=")
        accuracy[{"region": region, "channel": channel}[column] == level] = value
    label = rng.integers(0, 2, n)
    right = rng.random(n) < accuracy
    predicted = np.where(right, label, 1 - label)
    score = np.where(predicted == 1, 0.8, 0.2)
    return pd.DataFrame(
        {
            "ts": pd.date_range(start, periods=n, freq="min"),
            "region": region,
            "channel": channel,
            "income": income,
            "label": label,
            "score": score,
        }
    )


def _report(current, reference, **options):
    return mk.PerformanceReport(
        current, SPEC, baseline=reference, metrics=["accuracy"], by=4, **options
    )


def test_a_drop_confined_to_one_segment_is_found_there_and_named_first():
    reference = _frame(20_000, seed=1, start="2026-01-01")
    current = _frame(20_000, seed=2, start="2026-03-01", bad={"region=south": 0.55})
    report = _report(current, reference)
    problems = {(v.segment) for v in report.problems}
    assert "region=south" in problems
    assert not {"region=north", "region=east"} & problems
    assert report.result.causes, report.verdict
    first = report.result.causes[0]
    assert (first.column, first.bin) == ("region", "south")
    assert first.value < 0.7 < first.baseline_value
    assert report.worst.segment == "region=south"  # the verdict leads with the segment


def test_a_drop_spread_evenly_over_every_bin_names_no_cause():
    reference = _frame(20_000, seed=1, start="2026-01-01")
    current = _frame(
        20_000,
        seed=2,
        start="2026-03-01",
        bad={f"region={r}": 0.6 for r in ("north", "south", "east")},
    )
    report = _report(current, reference)
    assert report.severity == "critical"
    assert report.result.causes == ()
    assert "most for" not in report.verdict


def test_a_new_category_is_named_with_the_window_it_appeared_in():
    reference = _frame(20_000, seed=1, start="2026-01-01")
    before = _frame(10_000, seed=2, start="2026-03-01")
    after = _frame(
        10_000,
        seed=3,
        start=str(before["ts"].iloc[-1] + pd.Timedelta(minutes=1)),
        channels=("web", "app", "partner"),
        bad={"channel=partner": 0.3},
    )
    current = pd.concat([before, after], ignore_index=True)
    report = mk.PerformanceReport(current, SPEC, baseline=reference, metrics=["accuracy"], by="1D")
    first = report.result.causes[0]
    assert (first.column, first.bin) == ("channel", "partner")
    assert first.baseline_share == 0
    assert math.isnan(first.baseline_value)
    appeared = after["ts"].iloc[0].floor("D").date().isoformat()
    assert first.new_since == appeared
    assert f"new since {appeared}" in report.verdict


def test_a_bin_that_was_always_worse_is_not_a_cause():
    # channel=app is as bad in the reference as in current; the drop is elsewhere.
    reference = _frame(20_000, seed=1, start="2026-01-01", bad={"channel=app": 0.7})
    current = _frame(
        20_000, seed=2, start="2026-03-01", bad={"channel=app": 0.7, "region=east": 0.4}
    )
    report = _report(current, reference)
    named = [(c.column, c.bin) for c in report.result.causes]
    assert named[0] == ("region", "east")
    assert ("channel", "app") not in named


def test_the_baseline_profile_path_names_the_same_first_cause_as_the_rows_path():
    reference = _frame(20_000, seed=1, start="2026-01-01")
    current = _frame(20_000, seed=2, start="2026-03-01", bad={"region=south": 0.55})
    baseline = mk.Baseline.from_frame(reference, SPEC)
    from_rows = _report(current, reference).result.causes
    from_profile = _report(current, baseline).result.causes
    assert (from_rows[0].column, from_rows[0].bin) == (from_profile[0].column, from_profile[0].bin)
    # the profile knows the shares, not the bin's metric
    assert from_profile[0].baseline_share == pytest.approx(from_rows[0].baseline_share, abs=0.01)
    assert math.isnan(from_profile[0].baseline_value)


def test_a_saved_baseline_with_a_sample_ranks_as_the_rows_do_and_outcomes_are_not_causes():
    """Without rows a saved baseline cannot subtract what was always worse (channel=app
    ranks); saved with a sample of its rows it ranks as the rows do. A business outcome
    column is never a cause, however much it moved."""
    reference = _frame(20_000, seed=1, start="2026-01-01", bad={"channel=app": 0.6})
    current = _frame(
        20_000, seed=2, start="2026-03-01", bad={"channel=app": 0.6, "region=east": 0.4}
    )
    for frame in (reference, current):  # an outcome that follows the model's mistakes
        frame["refund_usd"] = np.where(frame["label"] != (frame["score"] > 0.5), 50.0, 0.0)
    business = {"refund_per_prediction": "refund_usd"}
    blind = mk.Baseline.from_frame(reference, SPEC, business=business)
    sampled = mk.Baseline.from_frame(reference, SPEC, business=business, sample_rows=20_000)
    named = {}
    for label, baseline in (("rows", reference), ("blind", blind), ("sampled", sampled)):
        causes = _report(current, baseline, business=business).result.causes
        assert causes, label
        named[label] = [(c.column, c.bin) for c in causes]
        assert all(column != "refund_usd" for column, _ in named[label]), label
    assert named["sampled"] == named["rows"]
    assert named["rows"][0] == ("region", "east") and ("channel", "app") not in named["rows"]
    assert ("channel", "app") in named["blind"]  # what the sample is for


def test_no_problem_no_causes():
    reference = _frame(10_000, seed=1, start="2026-01-01")
    current = _frame(10_000, seed=2, start="2026-03-01")
    report = _report(current, reference)
    assert report.severity == "ok"
    assert report.result.causes == ()


def test_causes_survive_the_json_round_trip():
    reference = _frame(20_000, seed=1, start="2026-01-01")
    current = _frame(20_000, seed=2, start="2026-03-01", bad={"region=south": 0.55})
    report = _report(current, reference)
    again = mk.load_report(report.to_json())
    assert again.result.causes == report.result.causes


def test_numeric_bins_use_the_references_quantiles():
    rng = np.random.default_rng(0)
    reference = pd.Series(rng.normal(size=1_000))
    codes, ref_codes, _ = causes_module._bins("x", "numeric", reference, reference, None)
    assert ref_codes is not None
    _, counts = np.unique(ref_codes, return_counts=True)
    assert len(counts) == causes_module.NUMERIC_BINS
    assert counts.min() >= 1_000 / causes_module.NUMERIC_BINS - 1


def _accuracy(truth: np.ndarray, predicted: np.ndarray):
    return lambda rows: float((truth[rows] == predicted[rows]).mean()) if rows.size else math.nan


def test_explained_is_the_drag_less_the_references_drag_by_hand():
    # current: bin a 100 rows 50% right, bin b 100 rows 90% right -> accuracy 0.70
    # reference: a 100 rows 90%, b 100 rows 90% -> 0.90; change 0.20
    # drag_current(a) = acc(b only) - 0.70 = 0.20; drag_reference(a) = 0.90 - 0.90 = 0
    # explained(a) = 0.20 / 0.20 = 1; drag_current(b) = 0.50 - 0.70 < 0: not a cause.
    bins = np.array(["a"] * 100 + ["b"] * 100)
    truth = np.ones(200, dtype=int)
    current_right = np.r_[np.arange(100) < 50, np.arange(100) < 90]
    reference_right = np.r_[np.arange(100) < 90, np.arange(100) < 90]
    current = pd.DataFrame({"x": bins})
    found = rank_causes(
        metric="accuracy",
        window="all",
        segment="all",
        higher_is_better=True,
        baseline_value=0.9,
        current=Side(current, np.arange(200), _accuracy(truth, current_right.astype(int))),
        reference=Side(current, np.arange(200), _accuracy(truth, reference_right.astype(int))),
        columns=[("x", "categorical")],
    )
    assert [(c.bin, c.rows) for c in found] == [("a", 100)]
    assert found[0].explained == pytest.approx(1.0)
    assert found[0].value == pytest.approx(0.5)
    assert found[0].baseline_value == pytest.approx(0.9)
    assert found[0].share == pytest.approx(0.5)


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(st.integers(30, 80), min_size=2, max_size=4),
    rates=st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4),
    base=st.floats(0.5, 1.0),
)
def test_explained_matches_a_groupby_reference(counts, rates, base):
    bins = np.concatenate([np.full(c, f"b{i}") for i, c in enumerate(counts)])
    right = np.concatenate([np.arange(c) < round(rates[i] * c) for i, c in enumerate(counts)])
    frame = pd.DataFrame({"x": bins, "right": right})
    whole = frame["right"].mean()
    found = rank_causes(
        metric="accuracy",
        window="all",
        segment="all",
        higher_is_better=True,
        baseline_value=base,
        current=Side(frame, np.arange(len(frame)), _accuracy(np.ones(len(frame)), right)),
        reference=None,
        columns=[("x", "categorical")],
    )
    change = base - whole
    expected = {}
    if change > 0:
        for name, _ in frame.groupby("x"):
            without = frame.loc[frame["x"] != name, "right"].mean()
            share = (without - whole) / change
            if share >= causes_module.MIN_EXPLAINED:
                expected[name] = share
    assert len(counts) <= causes_module.MAX_CAUSES  # so every qualifying bin is kept
    assert {c.bin: c.explained for c in found} == pytest.approx(expected)
    assert [c.explained for c in found] == sorted((c.explained for c in found), reverse=True)


@pytest.mark.parametrize(
    ("name", "column", "bin_"),
    [
        ("fraud_imbalance", "merchant_category", "digital_goods"),
        ("imaging_equipment", "scanner_model", "Lumeo DR-7"),
        ("credit_bias", "channel", "partner_broker"),
    ],
)
def test_scenarios_name_the_value_their_story_is_about(name, column, bin_):
    scenario = mk.datasets.load_scenario(name, n_rows=20_000)
    report = mk.PerformanceReport(
        scenario.current, scenario.spec, baseline=scenario.reference, by="1W"
    )
    named = [(c.column, c.bin) for c in report.result.causes]
    assert (column, bin_) in named[:3], named
