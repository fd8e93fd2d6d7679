"""Categorical and boolean drift methods on aligned counts: scipy, closed forms, hand cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon

from monitorkit.errors import InputError
from monitorkit.stats import (
    DegenerateStatisticWarning,
    available_methods,
    categorical,
    get_method,
)

pytestmark = pytest.mark.filterwarnings("error")


# ---- chi-square -------------------------------------------------------------------------


def test_chi2_matches_scipy_when_no_category_is_rare():
    reference, current = np.array([50, 30, 20]), np.array([40, 35, 25])
    expected = scipy.stats.chi2_contingency(np.vstack((reference, current)))
    result = categorical.chi2(reference, current)
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-14)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-14)


def test_chi2_pools_rare_categories_into_one_cell():
    # totals 190, 165, 3, 1, 3 over n = 183, m = 179: expected count = total · 179/362, so the
    # last three (about 1.5, 0.5, 1.5) are pooled: reference 2+1+0 = 3, current 1+0+3 = 4
    reference, current = np.array([100, 80, 2, 1, 0]), np.array([90, 85, 1, 0, 3])
    pooled_table = np.array([[100, 80, 3], [90, 85, 4]])
    expected = scipy.stats.chi2_contingency(pooled_table)
    result = categorical.chi2(reference, current)
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-14)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-14)


def test_chi2_drops_categories_seen_on_neither_side():
    with_unseen = categorical.chi2(np.array([50, 0, 30]), np.array([40, 0, 45]))
    without = categorical.chi2(np.array([50, 30]), np.array([40, 45]))
    assert with_unseen == without


def test_chi2_two_by_two_uses_yates_unless_disabled():
    reference, current = np.array([50, 50]), np.array([30, 70])
    table = np.vstack((reference, current))
    assert categorical.chi2(reference, current).statistic == pytest.approx(
        scipy.stats.chi2_contingency(table, correction=True).statistic
    )
    # expected 40 and 60 in both rows: 2 · (10²/40 + 10²/60) = 25/3
    uncorrected = categorical.chi2(reference, current, correction=False)
    assert uncorrected.statistic == pytest.approx(25 / 3, rel=1e-14)


def test_chi2_degenerate_cases():
    with pytest.warns(DegenerateStatisticWarning, match="chi2: fewer than 2 categories"):
        assert categorical.chi2(np.array([10]), np.array([5])).is_degenerate
    # every category rare: they pool into a single cell
    with pytest.warns(DegenerateStatisticWarning, match="chi2: fewer than 2 categories"):
        assert categorical.chi2(np.array([1, 1]), np.array([1, 0])).is_degenerate


# ---- binary tests -------------------------------------------------------------------------


def test_z_closed_form_and_relation_to_chi2():
    reference, current = np.array([50, 50]), np.array([30, 70])
    # p_ref = 0.5, p_cur = 0.7, pooled p = 120/200 = 0.6
    z = (0.7 - 0.5) / math.sqrt(0.6 * 0.4 * (1 / 100 + 1 / 100))
    result = categorical.z(reference, current)
    assert result.statistic == pytest.approx(z, rel=1e-14)
    assert result.p_value == pytest.approx(2 * scipy.stats.norm.sf(z), rel=1e-12)
    # z² is the uncorrected chi-square of the 2 × 2 table, with the same p-value
    chi2 = scipy.stats.chi2_contingency(np.vstack((reference, current)), correction=False)
    assert result.statistic**2 == pytest.approx(chi2.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(chi2.pvalue, rel=1e-10)
    assert categorical.z(current, reference).statistic == pytest.approx(-z, rel=1e-14)


def test_fisher_exact_matches_scipy_with_current_odds_on_top():
    reference, current = np.array([9, 1]), np.array([3, 6])
    expected = scipy.stats.fisher_exact([[6, 3], [1, 9]])
    result = categorical.fisher_exact(reference, current)
    # odds of the last category: current 6/3, reference 1/9 -> ratio 18
    assert result.statistic == pytest.approx(18.0)
    assert result.statistic == pytest.approx(expected.statistic)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-12)


@pytest.mark.parametrize("name", ["z", "fisher_exact"])
def test_binary_tests_refuse_more_than_two_categories(name):
    func = get_method(name).func_for("boolean")
    with pytest.raises(InputError, match=rf"{name} .*needs at most 2 categories.*got 3.*chi2"):
        func(np.array([1, 2, 3]), np.array([3, 2, 1]))


@pytest.mark.parametrize("name", ["z", "fisher_exact"])
@pytest.mark.parametrize("reference, current", [([10], [5]), ([0, 10], [0, 5]), ([10, 0], [5, 0])])
def test_binary_tests_with_one_category_are_degenerate(name, reference, current):
    func = get_method(name).func_for("boolean")
    with pytest.warns(DegenerateStatisticWarning, match=rf"{name}: only one category"):
        assert func(np.array(reference), np.array(current)).is_degenerate


def test_fisher_exact_needs_whole_counts():
    with pytest.raises(InputError, match="whole numbers"):
        categorical.fisher_exact(np.array([1.5, 2.0]), np.array([1.0, 2.0]))


# ---- distances on proportions -------------------------------------------------------------


def test_psi_hand_example():
    # shares (0.5, 0.5) -> (0.75, 0.25): 0.25·ln(0.75/0.5) + (-0.25)·ln(0.25/0.5)
    result = categorical.psi(np.array([50, 50]), np.array([75, 25]))
    assert result.statistic == pytest.approx(0.25 * math.log(1.5) + 0.25 * math.log(2), rel=1e-14)


def test_psi_and_kl_smooth_a_new_category_with_epsilon():
    # reference (1, 0) -> (1, 1e-4) / 1.0001; current (0.5, 0.5)
    reference, current = np.array([10, 0]), np.array([5, 5])
    r = np.array([1.0, 1e-4]) / 1.0001
    c = np.array([0.5, 0.5])
    assert categorical.psi(reference, current).statistic == pytest.approx(
        float(np.sum((c - r) * np.log(c / r))), rel=1e-14
    )
    assert categorical.kl_div(reference, current).statistic == pytest.approx(
        scipy.stats.entropy(c, r), rel=1e-14
    )


def test_psi_ignores_categories_empty_on_both_sides():
    assert categorical.psi(np.array([5, 0, 5, 0]), np.array([2, 0, 8, 1])) == categorical.psi(
        np.array([5, 5, 0]), np.array([2, 8, 1])
    )


@pytest.mark.parametrize("epsilon", [0, 1, -0.1, "small"])
def test_epsilon_must_be_a_proportion(epsilon):
    with pytest.raises(InputError, match="epsilon"):
        categorical.psi(np.array([1, 1]), np.array([1, 1]), epsilon=epsilon)


def test_jensen_shannon_matches_scipy_base_2():
    reference, current = np.array([10, 20, 30, 0]), np.array([0, 25, 25, 10])
    expected = jensenshannon(reference / 60, current / 60, base=2)
    assert categorical.jensen_shannon(reference, current).statistic == pytest.approx(
        expected, rel=1e-12
    )
    disjoint = categorical.jensen_shannon(np.array([5, 0]), np.array([0, 5]))
    assert disjoint.statistic == pytest.approx(1.0)


def test_hellinger_matches_its_closed_form():
    reference, current = np.array([10, 20, 30, 0]), np.array([0, 25, 25, 10])
    p, q = reference / 60, current / 60
    expected = math.sqrt(1 - np.sum(np.sqrt(p * q)))
    assert categorical.hellinger(reference, current).statistic == pytest.approx(expected, rel=1e-12)


def test_tvd_and_l_infinity_hand_example():
    # shares (0.5, 0.3, 0.2) -> (0.2, 0.3, 0.5): gaps 0.3, 0, 0.3
    reference, current = np.array([50, 30, 20]), np.array([20, 30, 50])
    assert categorical.tvd(reference, current).statistic == pytest.approx((0.3 + 0 + 0.3) / 2)
    assert categorical.l_infinity(reference, current).statistic == pytest.approx(0.3)
    # a new category in current: (1, 0) vs (0.6, 0.4) -> tvd 0.4, l_inf 0.4
    assert categorical.tvd(np.array([3, 0]), np.array([6, 4])).statistic == pytest.approx(0.4)


# ---- degenerate input and checks ----------------------------------------------------------

COUNT_METHODS = available_methods("categorical") + ["z", "fisher_exact"]


@pytest.mark.parametrize("name", COUNT_METHODS)
@pytest.mark.parametrize("empty_side", ["reference", "current"])
def test_a_side_with_no_counts_gives_nan_and_a_named_warning(name, empty_side):
    func = get_method(name).func_for("boolean" if name in ("z", "fisher_exact") else "categorical")
    counts = np.array([3, 4])
    arguments = (np.zeros(2), counts) if empty_side == "reference" else (counts, np.zeros(2))
    with pytest.warns(DegenerateStatisticWarning, match=rf"^{name}: {empty_side} has no"):
        result = func(*arguments)
    assert result.is_degenerate
    assert (
        result.p_value is None if not get_method(name).has_p_value else math.isnan(result.p_value)
    )


@pytest.mark.parametrize("name", COUNT_METHODS)
def test_no_categories_at_all_is_degenerate(name):
    func = get_method(name).counts_func
    with pytest.warns(DegenerateStatisticWarning, match="reference and current have no"):
        assert func(np.array([], dtype=np.int64), np.array([], dtype=np.int64)).is_degenerate


@pytest.mark.parametrize(
    "reference, current, match",
    [
        ([1, 2], [1, 2, 3], "aligned"),
        ([1, -2], [1, 2], "non-negative"),
        ([[1, 2]], [[1, 2]], "1-D"),
        (["a", "b"], [1, 2], "numeric counts"),
    ],
)
def test_counts_are_checked(reference, current, match):
    with pytest.raises(InputError, match=match):
        categorical.tvd(reference, current)


# ---- total variation less its sampling noise ------------------------------------------------


def _exact_expected_tvd_two_categories(first: int, n: int, m: int) -> float:
    """E|C/m - R/n| with R ~ Hypergeometric(N = n + m, first, n): the two categories' gaps are
    equal and opposite, so this is the expected total variation of a random re-split."""
    in_reference = np.arange(max(0, first - m), min(first, n) + 1)
    pmf = scipy.stats.hypergeom.pmf(in_reference, n + m, first, n)
    return float(np.sum(pmf * np.abs((first - in_reference) / m - in_reference / n)))


def _zipf_counts(categories: int, rows: int, seed: int) -> np.ndarray:
    shares = 1.0 / np.arange(1, categories + 1) ** 1.1
    return np.random.default_rng(seed).multinomial(rows, shares / shares.sum())


def test_expected_tvd_hand_cases():
    # one row a side: every re-split puts the two rows in different categories -> 1
    assert categorical.expected_tvd_under_no_change(np.array([1, 0]), np.array([0, 1])) == 1.0
    assert categorical.debiased_tvd(np.array([1, 0]), np.array([0, 1])).statistic == 0.0
    # rows a, a, b, b split 2 / 2: both a on one side (2 of the 6 splits) -> tvd 1, else 0
    noise = categorical.expected_tvd_under_no_change(np.array([2, 0]), np.array([0, 2]))
    assert noise == pytest.approx(1 / 3, abs=0.05)  # drawn (rare categories): 1,000 draws
    assert categorical.debiased_tvd(np.array([2, 0]), np.array([0, 2])).statistic == (
        pytest.approx(1 - noise, rel=1e-12)
    )
    # every row in one category: no split can differ
    assert categorical.expected_tvd_under_no_change(np.array([5, 0]), np.array([3, 0])) == 0.0


def test_expected_tvd_closed_form_for_common_categories_uses_both_side_sizes():
    # 10,000 vs 2,000 rows, pooled shares 0.3 / 0.7: the normal approximation applies
    reference, current = np.array([3_000, 7_000]), np.array([600, 1_400])
    n, m, total = 10_000, 2_000, 12_000
    one_gap = math.sqrt(2 / math.pi * 0.3 * 0.7 * (1 / n + 1 / m) * total / (total - 1))
    noise = categorical.expected_tvd_under_no_change(reference, current)
    assert noise == pytest.approx(one_gap, rel=1e-12)  # ½ (gap_a + gap_b), equal gaps
    assert noise == pytest.approx(_exact_expected_tvd_two_categories(3_600, n, m), rel=0.002)
    # 5% of current's rows moved: the raw distance is 0.05, less the noise of that pooling
    moved = np.array([700, 1_300])
    debiased = categorical.debiased_tvd(reference, moved).statistic
    floor = categorical.expected_tvd_under_no_change(reference, moved)
    assert debiased == pytest.approx(0.05 - floor, rel=1e-9)
    assert 0.04 < debiased < 0.05


@pytest.mark.parametrize("first", [2, 6, 30, 120, 600, 3_600])
def test_expected_tvd_matches_the_exact_hypergeometric_sum(first):
    # unequal sides (10,000 vs 2,000), from a category expecting 0.3 rows in current to 600
    n, m = 10_000, 2_000
    in_reference = first * n // (n + m)
    reference = np.array([in_reference, n - in_reference])
    current = np.array([first - in_reference, m - first + in_reference])
    exact = _exact_expected_tvd_two_categories(first, n, m)
    noise = categorical.expected_tvd_under_no_change(reference, current)
    # rare categories are drawn (1,000 draws: a few % of noise), common ones approximated
    assert noise == pytest.approx(exact, rel=0.08 if first * m / (n + m) < 20 else 0.007)


def test_expected_tvd_agrees_with_random_resplits_of_the_rows():
    # an independent estimate: shuffle the pooled rows and split them 3,000 / 1,000
    pooled = np.array([1_500, 1_200, 900, 300, 60, 30, 8, 2])  # common and rare categories
    reference = np.array([1_125, 900, 675, 225, 45, 22, 6, 2])
    labels = np.repeat(np.arange(pooled.size), pooled)
    rng = np.random.default_rng(7)
    distances = []
    for _ in range(4_000):
        shuffled = rng.permutation(labels)
        first = np.bincount(shuffled[:3_000], minlength=pooled.size)
        second = np.bincount(shuffled[3_000:], minlength=pooled.size)
        distances.append(0.5 * np.abs(first / 3_000 - second / 1_000).sum())
    standard_error = np.std(distances) / math.sqrt(len(distances))
    noise = categorical.expected_tvd_under_no_change(reference, pooled - reference)
    assert abs(noise - np.mean(distances)) <= 4 * standard_error + 0.005 * noise


@pytest.mark.parametrize(
    "categories, reference_rows, current_rows",
    [(1_000, 100_000, 100_000), (5_000, 20_000, 20_000), (5_000, 20_000, 5_000)],
)
def test_debiased_tvd_is_near_zero_when_nothing_changed(categories, reference_rows, current_rows):
    reference = _zipf_counts(categories, reference_rows, seed=1)
    current = _zipf_counts(categories, current_rows, seed=2)
    assert categorical.tvd(reference, current).statistic > 0.03  # noise alone passes min_effect
    assert categorical.debiased_tvd(reference, current).statistic < 0.01


def test_debiased_tvd_recovers_a_one_percent_move():
    shares = 1.0 / np.arange(1, 1_001) ** 1.1
    shares /= shares.sum()
    moved = shares.copy()
    moved[0] -= 0.01  # 1% of the rows move from the most to the second most frequent category
    moved[1] += 0.01
    rng = np.random.default_rng(3)
    reference, current = rng.multinomial(100_000, shares), rng.multinomial(40_000, moved)
    assert categorical.tvd(reference, current).statistic > 0.04
    assert categorical.debiased_tvd(reference, current).statistic == pytest.approx(0.01, abs=0.005)


def test_debiased_tvd_with_an_empty_side_is_degenerate():
    with pytest.warns(DegenerateStatisticWarning, match="^debiased_tvd: current has no"):
        assert categorical.debiased_tvd(np.array([3, 4]), np.array([0, 0])).is_degenerate
    with pytest.warns(DegenerateStatisticWarning, match="^expected_tvd_under_no_change: ref"):
        assert math.isnan(
            categorical.expected_tvd_under_no_change(np.array([0, 0]), np.array([3, 4]))
        )


_count_pairs = st.integers(1, 12).flatmap(
    lambda size: st.tuples(
        st.lists(st.integers(0, 400), min_size=size, max_size=size).filter(any),
        st.lists(st.integers(0, 400), min_size=size, max_size=size).filter(any),
        st.permutations(list(range(size))),
    )
)


@settings(max_examples=60, deadline=None)
@given(_count_pairs)
def test_debiased_tvd_properties(pair):
    reference, current, order = (np.array(values) for values in pair)
    raw = categorical.tvd(reference, current).statistic
    debiased = categorical.debiased_tvd(reference, current).statistic
    assert 0.0 <= debiased <= raw <= 1.0
    assert categorical.debiased_tvd(reference, reference).statistic == 0.0
    noise = categorical.expected_tvd_under_no_change(reference, current)
    assert categorical.expected_tvd_under_no_change(reference[order], current[order]) == noise
    reordered = categorical.debiased_tvd(reference[order], current[order]).statistic
    assert reordered == pytest.approx(debiased, abs=1e-12)
    assert categorical.debiased_tvd(current, reference).statistic == debiased  # symmetric
