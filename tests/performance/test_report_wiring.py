"""PerformanceReport with its fairness and estimation parts: what the report, its verdict,
figures and JSON say — the computations themselves are tested in test_fairness.py and
test_estimation.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import monitorkit as mk
from monitorkit.performance.estimation import CONCEPT_DRIFT_MESSAGE
from monitorkit.severity import Severity


@pytest.fixture(scope="module")
def credit():
    scenario = mk.datasets.load_scenario("credit_bias", n_rows=20_000)
    baseline = mk.Baseline.from_frame(scenario.reference, scenario.spec)
    return scenario, baseline, mk.PerformanceReport(scenario.current, baseline=baseline, by="1W")


def test_credit_bias_is_flagged_on_fairness_with_the_groups_named(credit):
    scenario, baseline, report = credit
    whole = [g for g in report.result.fairness if g.window == "all"]
    assert {g.attribute for g in whole} == {"gender"}
    parity = next(g for g in whole if g.measure == "demographic_parity_ratio")
    assert parity.severity == Severity.CRITICAL
    assert parity.value < 0.8 and parity.upper < 0.8
    assert parity.lowest_group == "female"
    # the baseline stores the gaps, and the reference had none worth a word
    assert "demographic_parity_ratio|gender" in baseline.metrics
    assert parity.baseline == baseline.metrics["demographic_parity_ratio|gender"]
    assert parity.baseline > 0.9
    assert "fairness: " in report.verdict and "for gender" in report.verdict
    assert report.figures["fairness_problems"] >= 1
    assert report.figures["demographic_parity_ratio|gender"] == pytest.approx(parity.value)
    table = report.fairness_frame()
    assert set(table["measure"]) == {
        "demographic_parity_difference",
        "demographic_parity_ratio",
        "equal_opportunity_difference",
        "equalized_odds_difference",
    }


def test_fairness_windows_before_the_change_are_ok(credit):
    scenario, _, report = credit
    change = pd.Timestamp(scenario.truth.change_start[:10])
    before = [
        g
        for g in report.result.fairness
        if g.window != "all"
        and pd.Timestamp(g.window) + pd.Timedelta(days=7) <= change  # weekly windows
        and g.skipped is None
    ]
    assert before
    assert all(g.severity == Severity.OK for g in before)


def test_the_reference_judged_against_itself_is_fair():
    scenario = mk.datasets.load_scenario("credit_bias", n_rows=20_000)
    report = mk.PerformanceReport(scenario.reference, scenario.spec, baseline=scenario.reference)
    assert report.result.fairness
    assert not report.fairness_problems
    assert report.severity == "ok"


def test_a_sensitive_attribute_unrelated_to_the_model_is_never_flagged():
    scenario = mk.datasets.load_scenario("no_change", n_rows=20_000)
    rng = np.random.default_rng(5)
    current = scenario.current.assign(group=rng.choice(["a", "b", "c"], len(scenario.current)))
    reference = scenario.reference.assign(
        group=rng.choice(["a", "b", "c"], len(scenario.reference))
    )
    spec = mk.ColumnSpec.from_dict({**scenario.spec.to_dict(), "sensitive": ["group"]})
    report = mk.PerformanceReport(current, spec, baseline=reference, by="1W")
    assert report.result.fairness
    assert not report.fairness_problems
    assert report.severity == "ok"


def test_without_labels_the_calibrated_baseline_estimates_and_judges(credit):
    scenario, baseline, _ = credit
    assert baseline.calibration is not None
    report = mk.PerformanceReport(
        scenario.current.drop(columns="label"), baseline=baseline, by="1W"
    )
    frame = report.to_frame()
    assert not frame.loc[~frame["estimated"], "metric"].isin(["accuracy", "recall"]).any()
    estimated = frame[frame["estimated"]]
    assert set(estimated["segment"]) == {"all"}  # not per segment (see _estimate)
    judged = estimated[estimated["skipped"].isna()]
    assert {"accuracy", "recall", "precision", "f1", "roc_auc"} <= set(judged["metric"])
    assert (judged["lower"] <= judged["value"]).all() and (judged["value"] <= judged["upper"]).all()
    assert set(report.over_time().columns) >= {"accuracy", "recall"}
    assert report.figures["accuracy.estimated"] == pytest.approx(
        estimated.query("window == 'all' and metric == 'accuracy'")["value"].item()
    )
    assert not report.result.concept_shifts  # nothing realised to compare with


def test_an_estimate_is_not_judged_where_the_realised_value_is(credit):
    _, _, report = credit
    frame = report.to_frame()
    both = frame[
        (frame["metric"] == "accuracy") & (frame["window"] == "all") & (frame["segment"] == "all")
    ]
    assert sorted(both["estimated"]) == [False, True]
    assert both.loc[both["estimated"], "skipped"].item() == "realised value judged"


def test_a_concept_shift_is_said_when_realised_values_leave_the_band(credit):
    _, _, report = credit
    # credit_bias: recorded incomes no longer mean what they meant — the model's scores
    # are no longer calibrated to the outcome.
    assert report.result.concept_shifts
    assert CONCEPT_DRIFT_MESSAGE in report.verdict
    shift = report.result.concept_shifts[0]
    assert not shift.lower <= shift.realised <= shift.upper


def test_no_concept_shift_when_nothing_changed():
    scenario = mk.datasets.load_scenario("no_change", n_rows=20_000)
    baseline = mk.Baseline.from_frame(scenario.reference, scenario.spec)
    report = mk.PerformanceReport(scenario.current, baseline=baseline, by="1W")
    assert report.result.estimated
    assert not report.result.concept_shifts
    assert report.severity == "ok"


def test_estimates_need_expected_positives_like_realised_recall():
    scenario = mk.datasets.load_scenario("fraud_imbalance", n_rows=20_000)
    baseline = mk.Baseline.from_frame(scenario.reference, scenario.spec)
    report = mk.PerformanceReport(
        scenario.current.drop(columns="label"), baseline=baseline, by="1W"
    )
    small = [v for v in report.result.estimated if v.metric == "recall" and v.window != "all"]
    assert small
    for value in small:
        if value.skipped and value.skipped.startswith("too few expected positives"):
            assert value.severity == "ok"
    assert any(v.skipped and "expected positives" in v.skipped for v in small)


def test_fairness_and_estimates_survive_the_json_round_trip(credit):
    _, _, report = credit
    again = mk.load_report(report.to_json())
    assert again.result.fairness == report.result.fairness
    assert again.result.fairness_groups == report.result.fairness_groups
    assert again.result.estimated == report.result.estimated
    assert again.result.concept_shifts == report.result.concept_shifts
    assert again.verdict == report.verdict


def test_the_section_shows_fairness_estimates_and_the_shift(credit):
    _, _, report = credit
    html = report.to_html()
    assert "Fairness" in html and "female" in html
    assert "concept drift" in html
    unlabelled = mk.PerformanceReport(
        pd.DataFrame(credit[0].current.drop(columns="label")), baseline=credit[1], by="1W"
    )
    assert "estimated" in unlabelled.to_html()
