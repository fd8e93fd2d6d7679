"""Fairness: group rates and gaps against fairlearn, the intervals, the rule, scenarios."""

from __future__ import annotations

import dataclasses
import json
import math

import fairlearn.metrics as flm
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats.contingency import relative_risk

import monitorkit as mk
from monitorkit.errors import ColumnNotFoundError, InputError
from monitorkit.performance.fairness import (
    MAX_GROUPS,
    MEASURES,
    MISSING_GROUP,
    OTHER_GROUP,
    FairnessGap,
    FairnessRule,
    GroupRates,
    compute_fairness,
    fairness_figures,
    katz_interval,
    newcombe_interval,
)
from monitorkit.performance.labels import PreparedLabels, prepare_labels
from monitorkit.performance.metrics import cell_confidence
from monitorkit.severity import Severity
from monitorkit.windows import assign_windows

# Every group of any size is compared: for checks of the definitions, not of the rule.
ANY_SIZE = FairnessRule(min_group_rows=1, min_class_rows=1)


def _prepared(y_true, y_pred, usable=None) -> PreparedLabels:
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    usable = np.ones(y_true.size, dtype=bool) if usable is None else np.asarray(usable)
    return PreparedLabels("binary", y_true, y_pred, None, usable.copy(), usable, ("0", "1"))


def _whole(n: int) -> list[tuple[str, np.ndarray]]:
    return [("all", np.arange(n))]


def _fairness(groups, y_true, y_pred, *, rule=ANY_SIZE, **kwargs):
    frame = pd.DataFrame({"group": pd.Series(groups, dtype=object)})
    prepared = _prepared(y_true, y_pred)
    return compute_fairness(prepared, frame, ["group"], _whole(len(frame)), rule=rule, **kwargs)


def _gap(gaps, measure, window="all") -> FairnessGap:
    found = [g for g in gaps if g.measure == measure and g.window == window]
    assert len(found) == 1, (measure, window)
    return found[0]


def _group(rates, group, window="all") -> GroupRates:
    found = [r for r in rates if r.group == group and r.window == window]
    assert len(found) == 1, (group, window)
    return found[0]


def _counts(tn: int, fp: int, fn: int, tp: int) -> tuple[list[int], list[int]]:
    """(y_true, y_pred) with exactly these confusion counts."""
    y_true = [0] * (tn + fp) + [1] * (fn + tp)
    y_pred = [0] * tn + [1] * fp + [0] * fn + [1] * tp
    return y_true, y_pred


def _two_groups(a: tuple[int, int, int, int], b: tuple[int, int, int, int], rule=ANY_SIZE):
    true_a, pred_a = _counts(*a)
    true_b, pred_b = _counts(*b)
    groups = ["a"] * len(true_a) + ["b"] * len(true_b)
    return _fairness(groups, true_a + true_b, pred_a + pred_b, rule=rule)


def _same_value(ours: float, theirs: float) -> bool:
    if math.isnan(theirs):
        return math.isnan(ours)
    return ours == pytest.approx(theirs, abs=1e-12)


# ---- definitions against fairlearn --------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", None]), st.integers(0, 1), st.integers(0, 1)),
        min_size=1,
        max_size=120,
    )
)
def test_rates_and_gaps_are_fairlearns_on_random_inputs(rows):
    groups = [r[0] for r in rows]
    y_true = np.array([r[1] for r in rows])
    y_pred = np.array([r[2] for r in rows])
    rates, gaps = _fairness(groups, y_true, y_pred)
    # Missing values: their own group, listed, never compared (fairlearn refuses them).
    present = np.array([g is not None for g in groups])
    if not present.all():
        missing = _group(rates, MISSING_GROUP)
        assert missing.n == int((~present).sum())
        assert missing.skipped is not None
    groups_present = np.array(groups, dtype=object)[present]
    y_true, y_pred = y_true[present], y_pred[present]
    names = sorted(set(groups_present))
    assert [r.group for r in rates if r.group != MISSING_GROUP] == names

    for name in names:
        rows_of = groups_present == name
        ours = _group(rates, name)
        assert ours.n == int(rows_of.sum())
        assert ours.selection_rate == pytest.approx(
            flm.selection_rate(y_true[rows_of], y_pred[rows_of]), abs=1e-12
        )
        assert ours.accuracy == pytest.approx(
            float(np.mean(y_true[rows_of] == y_pred[rows_of])), abs=1e-12
        )
        if ours.positives:
            expected = flm.true_positive_rate(y_true[rows_of], y_pred[rows_of], pos_label=1)
            assert ours.true_positive_rate == pytest.approx(expected, abs=1e-12)
        else:  # fairlearn says 0 here; undefined is NaN
            assert math.isnan(ours.true_positive_rate)
        if ours.negatives:
            expected = flm.false_positive_rate(y_true[rows_of], y_pred[rows_of], pos_label=1)
            assert ours.false_positive_rate == pytest.approx(expected, abs=1e-12)
        else:
            assert math.isnan(ours.false_positive_rate)

    def reference(function, keep_group) -> float:
        """fairlearn's value over the groups ``keep_group`` accepts; NaN below two groups."""
        kept = [n for n in names if keep_group(groups_present == n)]
        if len(kept) < 2:
            return math.nan
        rows_of = np.isin(groups_present, kept)
        return function(
            y_true[rows_of], y_pred[rows_of], sensitive_features=groups_present[rows_of]
        )

    def has_positive(rows_of):
        return y_true[rows_of].any()

    def has_both(rows_of):
        return y_true[rows_of].any() and not y_true[rows_of].all()

    expected = {
        "demographic_parity_difference": reference(flm.demographic_parity_difference, any),
        "demographic_parity_ratio": reference(flm.demographic_parity_ratio, any),
        "equal_opportunity_difference": reference(flm.equal_opportunity_difference, has_positive),
        "equalized_odds_difference": reference(flm.equalized_odds_difference, has_both),
    }
    assert [g.measure for g in gaps] == list(MEASURES)
    for measure, value in expected.items():
        gap = _gap(gaps, measure)
        assert _same_value(gap.value, value), (measure, gap.value, value)
        assert (gap.skipped is None) == math.isfinite(value), (measure, gap.skipped)
        if gap.skipped is None:
            assert gap.lower <= gap.value <= gap.upper
            # the extreme groups are the ones giving the value
            low, high = _group(rates, gap.lowest_group), _group(rates, gap.highest_group)
            low_rate, high_rate = getattr(low, gap.rate), getattr(high, gap.rate)
            if MEASURES[measure].kind == "ratio":
                assert low_rate / high_rate == pytest.approx(gap.value, abs=1e-12)
            else:
                assert high_rate - low_rate == pytest.approx(gap.value, abs=1e-12)
        else:
            assert gap.severity == Severity.OK


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 300))
def test_a_window_is_counted_as_its_rows_alone(seed, size):
    rng = np.random.default_rng(seed)
    n = 300
    frame = pd.DataFrame({"group": rng.choice(["x", "y", "z"], n, p=[0.5, 0.3, 0.2])})
    prepared = _prepared(rng.integers(0, 2, n), rng.integers(0, 2, n))
    rows = np.sort(rng.choice(n, size, replace=False))
    rule = FairnessRule(min_group_rows=5, min_class_rows=3)
    rates, gaps = compute_fairness(prepared, frame, ["group"], [("w", rows)], rule=rule)
    alone = frame.iloc[rows].reset_index(drop=True)
    sub = _prepared(prepared.y_true[rows], prepared.y_pred[rows])
    rates_alone, gaps_alone = compute_fairness(sub, alone, ["group"], _whole(size), rule=rule)
    for gap, gap_alone in zip(gaps, gaps_alone, strict=True):
        assert _same_value(gap.value, gap_alone.value)
        assert _same_value(gap.lower, gap_alone.lower)
        assert gap.severity == gap_alone.severity
    by_group = {r.group: r for r in rates_alone}
    for group_rates in rates:  # every group of the frame is listed, also when absent here
        if group_rates.group in by_group:
            assert group_rates.n == by_group[group_rates.group].n
        else:
            assert group_rates.n == 0 and math.isnan(group_rates.selection_rate)


def test_hand_computed_rates_and_gaps():
    # a: 100 rows, 60 positives (48 found), 12 false positives of 40 negatives
    # b: 100 rows, 50 positives (35 found), no false positive of 50 negatives
    rates, gaps = _two_groups((28, 12, 12, 48), (50, 0, 15, 35))
    a, b = _group(rates, "a"), _group(rates, "b")
    assert (a.n, a.positives, a.negatives) == (100, 60, 40)
    assert a.selection_rate == pytest.approx(0.60)
    assert a.true_positive_rate == pytest.approx(0.80)
    assert a.false_positive_rate == pytest.approx(0.30)
    assert a.accuracy == pytest.approx(0.76)
    assert (b.selection_rate, b.true_positive_rate, b.false_positive_rate) == pytest.approx(
        (0.35, 0.70, 0.0)
    )
    parity = _gap(gaps, "demographic_parity_difference")
    assert parity.value == pytest.approx(0.25)
    assert (parity.lowest_group, parity.highest_group) == ("b", "a")
    assert _gap(gaps, "demographic_parity_ratio").value == pytest.approx(0.35 / 0.60)
    assert _gap(gaps, "equal_opportunity_difference").value == pytest.approx(0.10)
    odds = _gap(gaps, "equalized_odds_difference")
    assert odds.value == pytest.approx(0.30)  # the false-positive rates set it
    assert (odds.rate, odds.lowest_group, odds.highest_group) == ("false_positive_rate", "b", "a")


# ---- intervals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "expected"),
    [  # Newcombe (1998), Statistics in Medicine 17:873, table II, method 10
        ((56, 70, 48, 80), (0.0524, 0.3339)),
        ((9, 10, 3, 10), (0.1705, 0.8090)),
        ((6, 7, 2, 7), (0.0582, 0.8062)),
        ((5, 56, 0, 29), (-0.0381, 0.1926)),
        ((0, 10, 0, 20), (-0.1611, 0.2775)),
        ((10, 10, 0, 20), (0.6791, 1.0)),
    ],
)
def test_newcombe_interval_matches_the_published_values(counts, expected):
    assert newcombe_interval(*counts) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize(
    ("counts", "confidence"), [((20, 100, 40, 100), 0.95), ((3, 50, 17, 60), 0.99)]
)
def test_katz_interval_matches_scipy(counts, confidence):
    expected = relative_risk(*counts).confidence_interval(confidence)
    assert katz_interval(*counts, confidence) == pytest.approx(
        (expected.low, expected.high), rel=1e-12
    )


def test_katz_interval_with_a_zero_count_holds_the_ratio_and_stays_below_one():
    lower, upper = katz_interval(0, 200, 60, 200)
    assert lower == 0.0 and 0 < upper < 1
    assert math.isnan(katz_interval(0, 50, 0, 50)[0])  # no selected row on either side


def test_the_gap_interval_shares_its_level_between_pairs_of_groups():
    """Three groups (three pairs): the extreme pair's interval is at level 1 − α/(4·3),
    wider than two groups' (one pair: 1 − α/4) for the same pair."""
    true_a, pred_a = _counts(100, 100, 100, 100)
    true_b, pred_b = _counts(120, 80, 120, 80)
    three = (
        ["a"] * 400 + ["b"] * 400 + ["c"] * 400,
        true_a + true_b + true_a,
        pred_a + pred_b + pred_a,
    )
    _, two_gaps = _two_groups((100, 100, 100, 100), (120, 80, 120, 80))
    _, three_gaps = _fairness(*three)
    two, three = (_gap(g, "demographic_parity_difference") for g in (two_gaps, three_gaps))
    assert two.value == pytest.approx(three.value)
    assert three.lower < two.lower and three.upper > two.upper
    assert three.lower == pytest.approx(newcombe_interval(200, 400, 160, 400, 1 - 0.05 / 12)[0])


# ---- the rule -----------------------------------------------------------------------------


def _selection_gap(rate_b: float, n: int = 20_000, rule=None):
    """Two groups of ``n`` rows each (half positive): selection rate 0.5 and ``rate_b``."""
    selected_b = round(rate_b * n)
    a = (n // 4, n // 4, n // 4, n // 4)
    b = (
        n // 2 - selected_b // 2,
        selected_b // 2,
        n // 2 - (selected_b - selected_b // 2),
        selected_b - selected_b // 2,
    )
    return _two_groups(a, b, rule=rule or FairnessRule())


@pytest.mark.parametrize(
    ("rate_b", "difference", "ratio"),
    [
        (0.50, "ok", "ok"),
        (0.46, "ok", "ok"),  # 0.04 and 0.92
        (0.44, "ok", "warning"),  # 0.06 and 0.88
        (0.40, "ok", "warning"),  # 0.10 (not above) and 0.80 (not below)
        (0.39, "warning", "critical"),  # 0.11 and 0.78
        (0.29, "critical", "critical"),  # 0.21 and 0.58
    ],
)
def test_thresholds_of_the_default_rule(rate_b, difference, ratio):
    _, gaps = _selection_gap(rate_b)
    assert str(_gap(gaps, "demographic_parity_difference").severity) == difference
    assert str(_gap(gaps, "demographic_parity_ratio").severity) == ratio


def test_thresholds_are_strict():
    rule = FairnessRule()
    difference, ratio = "demographic_parity_difference", "demographic_parity_ratio"
    assert rule.judge(difference, 0.10, 0.05, 0.15) == Severity.OK
    assert rule.judge(difference, 0.1001, 0.05, 0.15) == Severity.WARNING
    assert rule.judge(difference, 0.20, 0.15, 0.25) == Severity.WARNING
    assert rule.judge(difference, 0.2001, 0.15, 0.25) == Severity.CRITICAL
    assert rule.judge(ratio, 0.90, 0.85, 0.95) == Severity.OK
    assert rule.judge(ratio, 0.8999, 0.85, 0.95) == Severity.WARNING
    assert rule.judge(ratio, 0.80, 0.75, 0.85) == Severity.WARNING
    assert rule.judge(ratio, 0.7999, 0.75, 0.85) == Severity.CRITICAL
    # an interval holding no gap (0 for a difference, 1 for a ratio) never alarms
    assert rule.judge(difference, 0.5, -0.01, 0.9) == Severity.OK
    assert rule.judge(ratio, 0.5, 0.2, 1.01) == Severity.OK
    assert rule.judge(difference, 0.5, 0.0, 0.9) == Severity.OK


def test_a_gap_past_the_threshold_alarms_only_when_it_is_statistically_real():
    small_rates, small = _selection_gap(0.36, n=60)
    _, large = _selection_gap(0.36, n=6_000)
    for gaps in (small, large):
        assert _gap(gaps, "demographic_parity_difference").value == pytest.approx(
            0.5 - 0.36, abs=0.01
        )
    assert {r.skipped for r in small_rates} == {None}  # both groups are compared
    noisy = _gap(small, "demographic_parity_difference")
    assert noisy.lower < 0 < noisy.upper and noisy.severity == Severity.OK
    real = _gap(large, "demographic_parity_difference")
    assert real.lower > 0 and real.severity == Severity.WARNING


def test_severity_is_absolute_and_the_baseline_is_shown_beside_it():
    frame_groups = ["a"] * 4000 + ["b"] * 4000
    y_true = [0, 1] * 4000
    y_pred = [1] * 4000 + [0] * 2000 + [1] * 2000  # selection rates 1.0 and 0.5
    baseline = {"demographic_parity_difference|group": 0.55, "demographic_parity_ratio|other": 1.0}
    _, gaps = _fairness(frame_groups, y_true, y_pred, rule=FairnessRule(), baseline=baseline)
    parity = _gap(gaps, "demographic_parity_difference")
    assert parity.baseline == 0.55 and parity.value == pytest.approx(0.5)
    assert parity.severity == Severity.CRITICAL  # better than its baseline, still critical
    assert math.isnan(_gap(gaps, "demographic_parity_ratio").baseline)  # other attribute's


def test_minimum_group_size_is_inclusive_and_small_groups_are_listed_not_compared():
    rule = FairnessRule(min_group_rows=50, min_class_rows=10)
    for size, compared in ((49, False), (50, True)):
        groups = ["big"] * 1000 + ["small"] * size
        y_true = [0, 1] * 500 + [0, 1] * (size // 2) + [0] * (size % 2)
        y_pred = [1] * 1000 + [0] * size
        rates, gaps = _fairness(groups, y_true, y_pred, rule=rule)
        small = _group(rates, "small")
        parity = _gap(gaps, "demographic_parity_difference")
        if compared:
            assert small.skipped is None
            assert parity.groups == 2 and parity.value == 1.0
            assert parity.severity == Severity.CRITICAL
        else:
            assert small.skipped == "too few rows (49 < 50)"
            assert small.selection_rate == 0.0  # its rates are still shown
            assert parity.groups == 1 and math.isnan(parity.value)
            assert parity.skipped == "fewer than two groups with 50 rows"


def test_a_group_with_too_few_positives_takes_no_part_in_true_positive_rate_gaps():
    rule = FairnessRule(min_group_rows=50, min_class_rows=30)
    # c: 200 rows but 20 positives; a and b: 100 positives each
    a, b, c = (50, 50, 20, 80), (70, 30, 40, 60), (170, 10, 0, 20)
    true_a, pred_a = _counts(*a)
    true_b, pred_b = _counts(*b)
    true_c, pred_c = _counts(*c)
    groups = ["a"] * 200 + ["b"] * 200 + ["c"] * 200
    rates, gaps = _fairness(groups, true_a + true_b + true_c, pred_a + pred_b + pred_c, rule=rule)
    assert _group(rates, "c").skipped is None and _group(rates, "c").true_positive_rate == 1.0
    opportunity = _gap(gaps, "equal_opportunity_difference")
    assert opportunity.groups == 2 and opportunity.value == pytest.approx(0.8 - 0.6)
    assert {opportunity.lowest_group, opportunity.highest_group} == {"a", "b"}
    assert _gap(gaps, "demographic_parity_difference").groups == 3


# ---- edge cases ---------------------------------------------------------------------------


def test_one_group_only_lists_it_and_skips_every_gap():
    rates, gaps = _fairness(["a"] * 200, [0, 1] * 100, [1, 0] * 100, rule=FairnessRule())
    assert [(r.group, r.n, r.accuracy, r.skipped) for r in rates] == [("a", 200, 0.0, None)]
    assert len(gaps) == len(MEASURES)
    for gap in gaps:
        assert math.isnan(gap.value) and gap.groups == 1
        assert gap.severity == Severity.OK and gap.skipped.startswith("fewer than two groups")


def test_a_group_without_positives_has_no_true_positive_rate():
    rates, gaps = _two_groups((100, 20, 0, 0), (50, 10, 40, 40))
    assert math.isnan(_group(rates, "a").true_positive_rate)
    assert _group(rates, "a").false_positive_rate == pytest.approx(20 / 120)
    for measure in ("equal_opportunity_difference", "equalized_odds_difference"):
        gap = _gap(gaps, measure)
        assert math.isnan(gap.value) and gap.severity == Severity.OK
        assert "positives" in gap.skipped
    assert _gap(gaps, "demographic_parity_difference").skipped is None


def test_an_empty_window_lists_empty_groups_and_judges_nothing():
    frame = pd.DataFrame({"group": ["a", "b"] * 100})
    prepared = _prepared([0, 0, 1, 1] * 50, [1, 1, 0, 1] * 50)
    windows = [("all", np.arange(200)), ("empty", np.array([], dtype=int))]
    rates, gaps = compute_fairness(prepared, frame, ["group"], windows)
    empty = [r for r in rates if r.window == "empty"]
    assert [r.group for r in empty] == ["a", "b"]
    for group_rates in empty:
        assert group_rates.n == 0 and group_rates.skipped == "too few rows (0 < 50)"
        assert math.isnan(group_rates.selection_rate) and math.isnan(group_rates.accuracy)
    assert all(math.isnan(g.value) and g.skipped for g in gaps if g.window == "empty")
    assert all(g.skipped is None for g in gaps if g.window == "all")


@pytest.mark.parametrize("prediction", [0, 1])
def test_all_predictions_equal(prediction):
    rates, gaps = _two_groups(
        *(
            ((100, 0, 100, 0), (60, 0, 140, 0))
            if prediction == 0
            else ((0, 100, 0, 100), (0, 60, 0, 140))
        )
    )
    assert {r.selection_rate for r in rates} == {float(prediction)}
    for measure in ("demographic_parity_difference", "equal_opportunity_difference"):
        gap = _gap(gaps, measure)
        assert gap.value == 0.0 and gap.severity == Severity.OK and gap.skipped is None
    ratio = _gap(gaps, "demographic_parity_ratio")
    if prediction:
        assert ratio.value == 1.0 and ratio.severity == Severity.OK
    else:  # 0 / 0, as in fairlearn
        assert math.isnan(ratio.value) and ratio.skipped.startswith("undefined")


def test_rows_without_a_usable_label_or_prediction_are_left_out():
    frame = pd.DataFrame({"group": ["a", "b"] * 100})
    usable = np.array([True] * 150 + [False] * 50)
    prepared = _prepared([1] * 200, [1] * 200, usable=usable)
    rates, _ = compute_fairness(prepared, frame, ["group"], _whole(200))
    assert [r.n for r in rates] == [75, 75]


def test_missing_sensitive_values_are_their_own_group_and_never_compared():
    groups = ["a"] * 200 + ["b"] * 200 + [None] * 400
    y_true = [0, 1] * 400
    y_pred = [1] * 400 + [0] * 400  # everyone with a missing value is refused
    rates, gaps = _fairness(groups, y_true, y_pred, rule=FairnessRule())
    missing = _group(rates, MISSING_GROUP)
    assert (missing.n, missing.selection_rate) == (400, 0.0)
    assert missing.skipped == "missing value: shown, not compared"
    assert [r.group for r in rates] == ["a", "b", MISSING_GROUP]
    parity = _gap(gaps, "demographic_parity_difference")
    assert parity.value == 0.0 and parity.groups == 2 and parity.severity == Severity.OK


def test_rare_values_beyond_the_most_frequent_are_one_group_never_compared():
    n_values = MAX_GROUPS + 5
    groups = [f"v{i:03d}" for i in range(n_values) for _ in range(100 if i < MAX_GROUPS else 3)]
    n = len(groups)
    rates, gaps = _fairness(groups, [0, 1] * (n // 2) + [0] * (n % 2), [1] * n, rule=FairnessRule())
    names = [r.group for r in rates]
    assert len(names) == MAX_GROUPS + 1 and names[-1] == OTHER_GROUP
    other = _group(rates, OTHER_GROUP)
    assert other.n == 15 and other.skipped.startswith("5 rarer values")
    assert _gap(gaps, "demographic_parity_difference").groups == MAX_GROUPS


def test_only_binary_tasks_have_fairness_gaps():
    frame = pd.DataFrame({"group": ["a", "b"] * 100, "label": np.arange(200) * 0.5})
    regression = prepare_labels(frame.assign(score=frame["label"] + 0.1), "label", "score")
    assert regression.task == "regression"
    assert compute_fairness(regression, frame, ["group"], _whole(200)) == ((), ())
    assert compute_fairness(None, frame, ["group"], _whole(200)) == ((), ())
    assert fairness_figures(regression, frame, ["group"]) == {}


def test_a_missing_sensitive_column_is_named_with_what_the_frame_has():
    frame = pd.DataFrame({"gender": ["f", "m"], "label": [0, 1]})
    with pytest.raises(
        ColumnNotFoundError, match=r"'sex' is not in current \(current has: 'gender', 'label'\)"
    ):
        compute_fairness(_prepared([0, 1], [0, 1]), frame, ["sex"], _whole(2))


def test_a_frame_other_than_the_prepared_one_is_refused():
    frame = pd.DataFrame({"group": ["a", "b", "a"]})
    with pytest.raises(InputError, match="current has 3 rows but its prepared labels have 2"):
        compute_fairness(_prepared([0, 1], [0, 1]), frame, ["group"], _whole(3))


# ---- figures and plain results ------------------------------------------------------------


def test_figures_are_the_whole_frames_gaps_without_nan():
    true_a, pred_a = _counts(50, 50, 0, 0)  # no positives: no true-positive-rate gaps
    true_b, pred_b = _counts(20, 30, 10, 40)
    frame = pd.DataFrame({"group": ["a"] * 100 + ["b"] * 100})
    prepared = _prepared(true_a + true_b, pred_a + pred_b)
    figures = fairness_figures(prepared, frame, "group")
    _, gaps = compute_fairness(prepared, frame, ["group"], _whole(200))
    assert figures == {
        "demographic_parity_difference|group": _gap(gaps, "demographic_parity_difference").value,
        "demographic_parity_ratio|group": _gap(gaps, "demographic_parity_ratio").value,
    }
    assert figures["demographic_parity_ratio|group"] == pytest.approx(0.5 / 0.7)


def test_results_are_frozen_plain_values_that_serialise():
    rates, gaps = _two_groups((28, 12, 12, 48), (50, 0, 15, 35))
    with pytest.raises(dataclasses.FrozenInstanceError):
        gaps[0].value = 0.0  # type: ignore[misc]
    text = json.dumps([dataclasses.asdict(x) for x in rates + gaps])
    loaded = json.loads(text)
    assert loaded[len(rates)]["severity"] in {"ok", "warning", "critical"}
    assert isinstance(rates, tuple) and isinstance(gaps, tuple)


# ---- rule validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"difference_warning": -0.1}, "difference_warning must be a number in \\[0, 1\\]"),
        ({"difference_critical": 1.5}, "difference_critical must be a number in \\[0, 1\\]"),
        ({"ratio_warning": "0.9"}, "ratio_warning must be a number"),
        ({"ratio_critical": True}, "ratio_critical must be a number"),
        ({"difference_critical": float("nan")}, "difference_critical must be a number"),
        ({"difference_warning": 0.3}, r"difference_critical \(0.2\) must not be below"),
        ({"ratio_critical": 0.95}, r"ratio_critical \(0.95\) must not be above ratio_warning"),
        ({"min_group_rows": 0}, "min_group_rows must be a whole number of rows >= 1"),
        ({"min_class_rows": 2.5}, "min_class_rows must be a whole number"),
    ],
)
def test_rule_validation_names_the_field(fields, message):
    with pytest.raises(InputError, match=message):
        FairnessRule(**fields)


def test_rule_from_a_mapping_and_its_errors():
    assert FairnessRule.of({"difference_warning": 0.05}) == FairnessRule(difference_warning=0.05)
    assert FairnessRule.of(None) == FairnessRule()
    with pytest.raises(
        InputError, match="unknown field\\(s\\) 'warning'; fields: difference_warning"
    ):
        FairnessRule.of({"warning": 0.1})
    with pytest.raises(InputError, match="must be a FairnessRule or a mapping"):
        FairnessRule.of(0.1)
    with pytest.raises(InputError, match="confidence must be a level in \\(0, 1\\)"):
        _fairness(["a", "b"], [0, 1], [0, 1], confidence=95)
    with pytest.raises(InputError, match="fairness baseline must be a mapping"):
        _fairness(["a", "b"], [0, 1], [0, 1], baseline=[0.1])


# ---- no difference, no alarm --------------------------------------------------------------


def _null_runs(rule: FairnessRule) -> tuple[int, dict[str, int], int]:
    """(runs, alarms per measure, runs with any alarm) over groups drawn alike."""
    runs = 0
    alarms = dict.fromkeys(MEASURES, 0)
    any_alarm = 0
    for size in (50, 60, 150, 600):
        for seed in range(200):
            rng = np.random.default_rng([size, seed])
            n_groups = 2 + seed % 2
            n = size * n_groups
            prevalence, selection = rng.uniform(0.2, 0.8, 2)
            y_true = (rng.random(n) < prevalence).astype(int)
            # predictions depend on the label the same way in every group
            y_pred = (
                rng.random(n) < np.where(y_true == 1, selection + 0.15, selection - 0.15)
            ).astype(int)
            groups = np.repeat([f"g{i}" for i in range(n_groups)], size)
            _, gaps = _fairness(groups, y_true, y_pred, rule=rule)
            flagged = [g.measure for g in gaps if g.severity > Severity.OK]
            runs += 1
            any_alarm += bool(flagged)
            for measure in flagged:
                alarms[measure] += 1
    return runs, alarms, any_alarm


def test_groups_drawn_alike_rarely_alarm_with_the_default_rule():
    runs, alarms, any_alarm = _null_runs(FairnessRule())
    assert runs == 800
    assert any_alarm <= 0.05 * runs, alarms


def test_the_intervals_hold_their_level_when_every_gap_would_alarm():
    """With thresholds at no gap, only the intervals stand between noise and an alarm: a
    (window, attribute) alarms on any measure in at most 1 − confidence of the runs
    (binomial slack of 2.5 sd) — and the default rule alarms on a subset of those runs."""
    every_gap = FairnessRule(
        difference_warning=0, difference_critical=0, ratio_warning=1, ratio_critical=1
    )
    runs, alarms, any_alarm = _null_runs(every_gap)
    assert any_alarm / runs <= 0.05 + 2.5 * math.sqrt(0.05 * 0.95 / runs), alarms
    assert any_alarm > 0  # the intervals are not so wide that nothing ever alarms
    _, _, default_alarms = _null_runs(FairnessRule())
    assert default_alarms <= any_alarm


def test_a_real_gap_in_groups_of_the_same_sizes_is_found():
    found = 0
    for seed in range(50):
        rng = np.random.default_rng(seed)
        groups = np.repeat(["a", "b"], 600)
        y_true = (rng.random(1200) < 0.5).astype(int)
        selection = np.where(groups == "a", 0.6, 0.35)
        y_pred = (rng.random(1200) < selection).astype(int)
        _, gaps = _fairness(groups, y_true, y_pred, rule=FairnessRule())
        found += _gap(gaps, "demographic_parity_difference").severity == Severity.CRITICAL
    assert found >= 45


# ---- scenarios ----------------------------------------------------------------------------


def _scenario_fairness(frame: pd.DataFrame, spec, sensitive, by="1W", baseline=None):
    prepared = prepare_labels(frame, spec.target, spec.prediction, spec.prediction_label)
    cut = assign_windows(frame, by, spec.timestamp)
    windows = [("all", np.arange(len(frame)))] + list(zip(cut.labels, cut.row_positions()))
    starts = {w.label: w.iso_start() for w in cut.windows}
    rates, gaps = compute_fairness(
        prepared,
        frame,
        sensitive,
        windows,
        confidence=cell_confidence(len(windows)),
        baseline=baseline,
    )
    return prepared, rates, gaps, starts


def test_credit_bias_is_flagged_in_current_and_not_in_its_reference():
    scenario = mk.datasets.load_scenario("credit_bias", n_rows=20_000)
    assert scenario.spec.sensitive == ("gender",)
    prepared, _, reference_gaps, _ = _scenario_fairness(
        scenario.reference, scenario.spec, scenario.spec.sensitive
    )
    figures = fairness_figures(prepared, scenario.reference, scenario.spec.sensitive)
    _, rates, gaps, starts = _scenario_fairness(
        scenario.current, scenario.spec, scenario.spec.sensitive, baseline=figures
    )
    assert all(g.severity == Severity.OK and g.skipped is None for g in reference_gaps)
    ratio = _gap(gaps, "demographic_parity_ratio")
    assert ratio.severity == Severity.CRITICAL and ratio.upper < 0.8
    assert ratio.baseline == figures["demographic_parity_ratio|gender"] >= 0.9
    assert (ratio.lowest_group, ratio.highest_group) == ("female", "male")
    parity = _gap(gaps, "demographic_parity_difference")
    assert parity.severity == Severity.CRITICAL
    assert parity.lower > FairnessRule().difference_warning  # even its lower bound
    assert _gap(gaps, "equal_opportunity_difference").severity == Severity.CRITICAL
    female, male = _group(rates, "female"), _group(rates, "male")
    assert female.selection_rate < 0.8 * male.selection_rate
    # Windows wholly before the change (15 September) are fine; those after are critical.
    change = pd.Timestamp("2026-09-15", tz="UTC")
    before = [
        w for w, start in starts.items() if pd.Timestamp(start) + pd.Timedelta(days=7) <= change
    ]
    after = [w for w, start in starts.items() if pd.Timestamp(start) >= change]
    assert len(before) >= 2 and len(after) >= 3
    for window in before:
        assert _gap(gaps, "demographic_parity_ratio", window).severity == Severity.OK, window
    for window in after:
        assert _gap(gaps, "demographic_parity_ratio", window).severity == Severity.CRITICAL, window


def test_no_change_is_not_flagged():
    scenario = mk.datasets.load_scenario("no_change", n_rows=20_000)
    assert scenario.spec.sensitive == ()
    prepared, *_ = _scenario_fairness(scenario.current, scenario.spec, scenario.spec.sensitive)
    assert compute_fairness(prepared, scenario.current, (), _whole(20_000)) == ((), ())
    # An attribute the model never saw, declared sensitive: no window is flagged.
    rng = np.random.default_rng(3)
    current = scenario.current.assign(group=rng.choice(["p", "q", "r"], len(scenario.current)))
    _, rates, gaps, _ = _scenario_fairness(current, scenario.spec, ["group"])
    assert len({g.window for g in gaps}) >= 5
    assert sum(g.skipped is None for g in gaps) >= 3 * len({g.window for g in gaps})
    assert [g for g in gaps if g.severity > Severity.OK] == []


@pytest.mark.big
def test_a_million_rows_by_thirty_windows_stays_fast():
    import time

    n = 1_000_000
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"group": rng.choice(["a", "b", "c", "d"], n), "other": rng.choice(["x", "y"], n)}
    )
    prepared = _prepared(rng.integers(0, 2, n), rng.integers(0, 2, n))
    windows = _whole(n) + [(str(i), r) for i, r in enumerate(np.array_split(np.arange(n), 30))]
    started = time.perf_counter()
    rates, gaps = compute_fairness(prepared, frame, ["group", "other"], windows)
    assert time.perf_counter() - started < 5.0
    assert len(rates) == 31 * 6 and len(gaps) == 31 * 2 * len(MEASURES)
    assert sum(r.n for r in rates if r.window != "all") == 2 * n
