"""Each rule that can make a drift report critical, alone.

A report is critical when (1) a column's effect is at least ``critical_effect``, (2) at least
``dataset_share`` of the tested features drifted, (3) the multivariate check found a large
change, (4) a column's missing rate moved by at least ``critical_effect``, or (5) nothing could
be compared (``report.not_judged``). Each test below builds data where exactly one of them
fires, asserts that the others did not, and — where the rule has a knob — that turning the
knob makes the report non-critical; so removing or breaking any one rule fails a test.
The last part checks :func:`monitorkit.drift.rule.judge_column` at its boundaries.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import scipy.stats

import monitorkit as mk
from monitorkit.drift.results import ColumnDrift, DecisionRule
from monitorkit.drift.rule import judge_column, missing_rate_p_value, values_drifted
from monitorkit.severity import Severity

ROWS = 4_000
LABELS = np.array(["a", "b", "c"])


def _frame(
    rng,
    *,
    c1=(0.5, 0.3, 0.2),
    c2=(0.5, 0.3, 0.2),
    correlation: float = 0.0,
    c1_missing: float = 0.0,
) -> pd.DataFrame:
    """Two numeric features (the multivariate check's inputs) and two categorical ones."""
    numeric = rng.multivariate_normal([0, 0], [[1, correlation], [correlation, 1]], size=ROWS)
    frame = pd.DataFrame(
        {
            "n1": numeric[:, 0],
            "n2": numeric[:, 1],
            "c1": rng.choice(LABELS, ROWS, p=c1).astype(object),
            "c2": rng.choice(LABELS, ROWS, p=c2).astype(object),
        }
    )
    frame.loc[rng.random(ROWS) < c1_missing, "c1"] = None
    return frame


SPEC = mk.ColumnSpec(categorical=["c1", "c2"])


def _report(reference: pd.DataFrame, current: pd.DataFrame) -> mk.DriftReport:
    return mk.DriftReport(reference, current, spec=SPEC)


def _rules_that_fired(drift: mk.DriftReport) -> set[str]:
    """Which of the five rules make this report critical."""
    rule = drift.result.rule
    fired = set()
    for c in drift.columns:
        if c.skipped:
            continue
        if c.values_drifted and c.effect_size >= rule.critical_effect:
            fired.add("column effect")
        if c.missing_drifted and abs(c.missing_rate_change) >= rule.critical_effect:
            fired.add("missing rate")
    if drift.dataset_drifted:
        fired.add("dataset share")
    multivariate = drift.result.multivariate
    if multivariate is not None and multivariate.severity == "critical":
        fired.add("multivariate")
    if drift.not_judged:
        fired.add("not judged")
    return fired


def test_a_large_column_effect_alone_makes_the_report_critical():
    """Guards against the column severity not reaching the report, and against a column at
    or past critical_effect being only a warning."""
    rng = np.random.default_rng(1)
    drift = _report(_frame(rng), _frame(rng, c1=(0.2, 0.3, 0.5)))  # total variation 0.3
    assert _rules_that_fired(drift) == {"column effect"}
    assert drift.drifted_columns == ["c1"] and drift.share_drifted == 0.25
    assert drift["c1"].severity == "critical" and not drift["c1"].missing_drifted
    assert not drift.result.multivariate.drifted
    assert drift.severity == "critical"
    # Above the column's effect, the same drift is a warning: that rule alone made it critical.
    assert drift.with_rule(critical_effect=0.5).severity == "warning"


def test_the_dataset_share_alone_makes_the_report_critical():
    """Guards against the dataset rule being dropped, or its ``>=`` turned into ``>`` (here
    exactly half of the features drifted, the default dataset_share)."""
    rng = np.random.default_rng(2)
    mild = (0.42, 0.34, 0.24)  # total variation 0.08 from (0.5, 0.3, 0.2): a warning each
    drift = _report(_frame(rng), _frame(rng, c1=mild, c2=mild))
    assert _rules_that_fired(drift) == {"dataset share"}
    assert sorted(drift.drifted_columns) == ["c1", "c2"]
    assert drift.share_drifted == drift.result.rule.dataset_share == 0.5
    assert {c.severity for c in drift.columns} == {Severity.OK, Severity.WARNING}
    assert drift.severity == "critical"
    assert drift.with_rule(dataset_share=0.75).severity == "warning"


def test_a_target_drift_does_not_count_towards_the_dataset_share():
    """Guards against counting the target (or prediction) as a feature: 2 of 4 features plus a
    drifted target would reach the share."""
    rng = np.random.default_rng(3)
    mild = (0.42, 0.34, 0.24)
    reference, current = _frame(rng), _frame(rng, c1=mild)
    reference["label"] = rng.random(ROWS) < 0.3
    current["label"] = rng.random(ROWS) < 0.38
    drift = mk.DriftReport(
        reference, current, spec=mk.ColumnSpec(categorical=["c1", "c2"], target="label")
    )
    assert {"c1", "label"} <= set(drift.drifted_columns)
    assert drift.share_drifted == 0.25 and not drift.dataset_drifted
    assert drift.severity == "warning"


def test_the_multivariate_check_alone_makes_the_report_critical():
    """Guards against the multivariate severity not reaching the report."""
    rng = np.random.default_rng(4)
    reference, current = _frame(rng, correlation=0.9), _frame(rng, correlation=-0.9)
    drift = _report(reference, current)
    assert _rules_that_fired(drift) == {"multivariate"}
    assert drift.drifted_columns == [] and {c.severity for c in drift.columns} == {Severity.OK}
    assert drift.result.multivariate.drifted
    assert drift.severity == "critical"
    assert mk.DriftReport(reference, current, spec=SPEC, multivariate=False).severity == "ok"


def test_a_large_missing_rate_move_alone_makes_the_report_critical():
    """Guards against the missing-rate change being left out of a column's severity (it would
    be a warning), and against a missing rate that only fell being ignored."""
    rng = np.random.default_rng(5)
    reference, current = _frame(rng), _frame(rng, c1_missing=0.25)
    for drift, sign in ((_report(reference, current), 1), (_report(current, reference), -1)):
        assert _rules_that_fired(drift) == {"missing rate"}
        column = drift["c1"]
        assert column.missing_drifted and not column.values_drifted
        assert sign * column.missing_rate_change > 0.2 and column.effect_size < 0.03
        assert column.severity == "critical" and not drift.result.multivariate.drifted
        assert drift.severity == "critical"
        assert drift.with_rule(critical_effect=0.5).severity == "warning"


@pytest.mark.parametrize("case", ["no column in common", "every column untestable"])
def test_nothing_comparable_alone_makes_the_report_critical(case):
    """Guards against a report that could compare nothing being ok: no column drifted, no
    dataset share, no multivariate change, and yet it is critical."""
    rng = np.random.default_rng(6)
    reference = _frame(rng)
    if case == "no column in common":
        current = _frame(rng).rename(columns=str.upper)
    else:
        reference = reference.assign(n1=1.0, n2=2.0, c1="a", c2="b")
        current = reference.copy()
    drift = _report(reference, current)
    assert _rules_that_fired(drift) == {"not judged"}
    assert drift.drifted_columns == [] and not drift.dataset_drifted
    assert all(c.severity == "ok" for c in drift.columns)
    assert drift.severity == "critical"


def test_no_rule_fires_on_unchanged_data():
    """The other side of every test above: the same data unchanged is ok."""
    rng = np.random.default_rng(7)
    drift = _report(_frame(rng), _frame(rng))
    assert _rules_that_fired(drift) == set() and drift.severity == "ok"


# ---- judge_column at its boundaries -----------------------------------------------------------

RULE = DecisionRule(min_effect=0.25, critical_effect=0.5, n_tests=10)  # p threshold 0.005


def _column(**fields) -> ColumnDrift:
    base = dict(
        column="x",
        kind="numeric",
        role="feature",
        method="ks",
        statistic=0.0,
        p_value=1.0,
        threshold=None,
        effect_size=0.0,
        missing_p_value=None,
    )
    return ColumnDrift(**{**base, **fields})


@pytest.mark.parametrize(
    ("p_value", "effect", "drifted", "severity"),
    [
        (0.005, 0.4, False, "ok"),  # p exactly at the threshold: not significant
        (0.00499, 0.4, True, "warning"),
        (0.001, 0.25, True, "warning"),  # effect exactly min_effect: enough
        (0.001, 0.2499, False, "ok"),
        (0.001, 0.5, True, "critical"),  # effect exactly critical_effect: critical
        (0.001, 0.4999, True, "warning"),
        (math.nan, 0.9, False, "ok"),
        (0.001, math.nan, False, "ok"),
        (None, 0.9, False, "ok"),
    ],
)
def test_the_values_rule_at_its_boundaries(p_value, effect, drifted, severity):
    """Guards against ``<`` / ``>=`` turned around in the p-value, min_effect and
    critical_effect comparisons, and against NaN or missing statistics counting as drift."""
    judged = judge_column(_column(p_value=p_value, effect_size=effect), RULE)
    assert (judged.values_drifted, judged.severity) == (drifted, severity)
    assert judged.threshold == RULE.p_threshold == 0.005
    assert values_drifted(p_value, effect, RULE) is drifted


@pytest.mark.parametrize(
    ("reference_rate", "current_rate", "p_value", "drifted", "severity"),
    [
        (0.25, 0.5, 0.001, True, "warning"),  # change exactly min_effect: enough
        (0.5, 0.25, 0.001, True, "warning"),  # a fall counts as much as a rise
        (0.0, 0.5, 0.001, True, "critical"),  # change exactly critical_effect
        (0.5, 0.0, 0.001, True, "critical"),
        (0.25, 0.5, 0.005, False, "ok"),  # not significant
        (0.25, 0.49, 0.001, False, "ok"),  # too small a change
        (0.0, 0.5, None, False, "ok"),
        (0.0, 0.5, math.nan, False, "ok"),
    ],
)
def test_the_missing_rate_rule_at_its_boundaries(
    reference_rate, current_rate, p_value, drifted, severity
):
    """Guards against the missing-rate rule losing its abs(), its significance or its size
    condition, or its change not counting towards the severity."""
    column = _column(
        reference_missing_rate=reference_rate,
        current_missing_rate=current_rate,
        missing_p_value=p_value,
    )
    judged = judge_column(column, RULE)
    assert (judged.missing_drifted, judged.values_drifted) == (drifted, False)
    assert (judged.drifted, judged.severity) == (drifted, severity)


def test_the_severity_is_the_larger_of_the_moves_that_drifted():
    """Guards against a large effect whose test was not significant setting the severity
    (only moves that drifted count), and against taking the smaller move."""
    significant_missing = dict(
        reference_missing_rate=0.0, current_missing_rate=0.3, missing_p_value=1e-9
    )
    quiet_values = _column(p_value=0.5, effect_size=0.9, **significant_missing)
    judged = judge_column(quiet_values, RULE)
    assert judged.missing_drifted and not judged.values_drifted
    assert judged.severity == "warning"  # 0.3 moved; the 0.9 effect was not significant
    both = judge_column(_column(p_value=1e-9, effect_size=0.6, **significant_missing), RULE)
    assert both.severity == "critical"
    missing_larger = dict(significant_missing, current_missing_rate=0.6)
    both = judge_column(_column(p_value=1e-9, effect_size=0.3, **missing_larger), RULE)
    assert both.severity == "critical"


def test_a_methods_own_rule_keeps_its_verdict_and_threshold():
    """Guards against re-judging a column that uses its method's threshold with the default
    rule (its flag and threshold would be overwritten)."""
    column = _column(decision="method", values_drifted=True, threshold=0.1, p_value=0.9)
    judged = judge_column(column, RULE)
    assert judged.values_drifted and judged.threshold == 0.1
    assert judged.severity == "warning"  # effect 0: drifted, but not by much
    assert judge_column(replace(column, effect_size=0.7), RULE).severity == "critical"
    quiet = judge_column(replace(column, values_drifted=False, effect_size=0.9), RULE)
    assert not quiet.drifted and quiet.severity == "ok"


def test_a_skipped_column_is_left_as_it_is():
    """Guards against judging a column that was not tested."""
    column = _column(skipped="constant", p_value=1e-9, effect_size=0.9, threshold=None)
    assert judge_column(column, RULE) is column


def test_the_missing_rate_test_is_the_uncorrected_two_proportion_test():
    """Guards against the wrong side's rows or missing count in the test."""
    assert missing_rate_p_value(0, 1_000, 0, 200) is None
    p_value = missing_rate_p_value(50, 1_000, 30, 200)
    table = np.array([[950, 50], [170, 30]])
    expected = scipy.stats.chi2_contingency(table, correction=False).pvalue
    assert p_value == pytest.approx(expected, rel=1e-9)
    assert missing_rate_p_value(30, 200, 50, 1_000) == pytest.approx(expected, rel=1e-9)


def test_a_missing_rate_change_that_did_not_drift_does_not_raise_the_severity():
    """Guards against the missing-rate change counting towards the severity when the missing
    rate itself was not judged drifted (not significant here)."""
    column = _column(
        p_value=1e-9,
        effect_size=0.3,
        reference_missing_rate=0.0,
        current_missing_rate=0.9,
        missing_p_value=0.5,
    )
    judged = judge_column(column, RULE)
    assert judged.values_drifted and not judged.missing_drifted
    assert judged.severity == "warning"  # 0.3 moved; the 0.9 change was not significant


def test_a_degenerate_missing_rate_test_is_quiet():
    """Guards against the missing-rate test's degenerate-statistic notice escaping (every row
    missing on both sides is not something to warn about twice)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p_value = missing_rate_p_value(100, 100, 20, 20)
    assert p_value is None or math.isnan(p_value)
