"""Numeric drift methods against scipy on the raw (unsorted) data, closed forms and hand cases."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.stats
from scipy.spatial.distance import jensenshannon

from monitorkit.errors import InputError
from monitorkit.stats import (
    DegenerateStatisticWarning,
    available_methods,
    get_method,
    numeric,
    prepare_numeric,
)

pytestmark = pytest.mark.filterwarnings("error")


def prepared(reference, current):
    return prepare_numeric(reference), prepare_numeric(current)


# ---- Kolmogorov–Smirnov ------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, m", [(1, 1), (5, 7), (30, 40), (200, 150), (1000, 1000), (10_000, 37), (12_000, 15_000)]
)
def test_ks_matches_scipy_default(rng, n, m):
    reference_raw, current_raw = rng.normal(size=n), rng.normal(0.05, 1.0, size=m)
    result = numeric.ks(*prepared(reference_raw, current_raw))
    expected = scipy.stats.ks_2samp(reference_raw, current_raw)
    assert result.statistic == pytest.approx(expected.statistic, abs=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)


def test_ks_large_samples_use_the_asymptotic_formula(rng):
    reference_raw, current_raw = rng.normal(size=20_000), rng.normal(0.05, 1.0, size=30_000)
    result = numeric.ks(*prepared(reference_raw, current_raw))
    expected = scipy.stats.ks_2samp(reference_raw, current_raw, method="asymp")
    statistic = expected.statistic
    assert result.statistic == pytest.approx(statistic, abs=1e-12)
    # scipy's asymptotic rule: kstwo.sf(D, round(n m / (n + m)))
    closed_form = scipy.stats.kstwo.sf(statistic, round(20_000 * 30_000 / 50_000))
    assert result.p_value == pytest.approx(closed_form, rel=1e-9)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9)


def test_ks_very_large_samples_use_the_limiting_distribution(rng):
    reference_raw, current_raw = rng.normal(size=300_000), rng.normal(0.004, 1.0, size=300_000)
    result = numeric.ks(*prepared(reference_raw, current_raw))
    effective_n = 300_000 * 300_000 / 600_000
    assert effective_n > numeric.KS_LIMIT_MIN_EFFECTIVE_N
    limit = scipy.stats.kstwobign.sf(result.statistic * np.sqrt(effective_n))
    assert result.p_value == pytest.approx(limit, rel=1e-12)
    smirnov = scipy.stats.ks_2samp(reference_raw, current_raw, method="asymp").pvalue
    assert result.p_value == pytest.approx(smirnov, rel=0.01)


@pytest.mark.parametrize("method", ["exact", "asymp"])
def test_ks_forced_p_value_method_matches_scipy(rng, method):
    reference_raw, current_raw = rng.normal(size=80), rng.normal(0.4, 1.0, size=60)
    result = numeric.ks(*prepared(reference_raw, current_raw), method=method)
    assert result.p_value == pytest.approx(
        scipy.stats.ks_2samp(reference_raw, current_raw, method=method).pvalue, rel=1e-9
    )


def test_ks_with_ties_matches_scipy(rng):
    reference_raw = rng.integers(0, 5, 300).astype(float)
    current_raw = rng.integers(1, 6, 200).astype(float)
    result = numeric.ks(*prepared(reference_raw, current_raw))
    assert result.statistic == pytest.approx(
        scipy.stats.ks_2samp(reference_raw, current_raw).statistic, abs=1e-12
    )


def test_ks_hand_example():
    # F_ref(2) = 2/4, F_cur(2) = 0: largest gap 1/2 (also at x = 3, 4: 3/4 - 1/4, 1 - 1/2)
    result = numeric.ks(np.array([1.0, 2.0, 3.0, 4.0]), np.array([3.0, 4.0, 5.0, 6.0]))
    assert result.statistic == 0.5


def test_ks_rejects_an_unknown_p_value_method():
    with pytest.raises(InputError, match="'auto', 'exact', 'asymp' or 'limit'"):
        numeric.ks(np.array([1.0]), np.array([2.0]), method="monte_carlo")


# ---- Wasserstein and energy ------------------------------------------------------------


def test_wasserstein_matches_scipy_over_reference_std(normal_pair):
    reference_raw, current_raw, reference, current = normal_pair
    expected = scipy.stats.wasserstein_distance(reference_raw, current_raw) / np.std(
        reference_raw, ddof=1
    )
    assert numeric.wasserstein(reference, current).statistic == pytest.approx(expected, rel=1e-10)
    assert numeric.wasserstein(reference, current).p_value is None


def test_wasserstein_hand_example():
    # every value moves by 1; reference std of [0, 2] (ddof=1) is sqrt(2)
    result = numeric.wasserstein(np.array([0.0, 2.0]), np.array([1.0, 3.0]))
    assert result.statistic == pytest.approx(1 / math.sqrt(2), rel=1e-15)


def test_wasserstein_with_ties_matches_scipy(rng):
    reference_raw = rng.integers(0, 5, 300).astype(float)
    current_raw = rng.integers(1, 8, 200).astype(float)
    expected = scipy.stats.wasserstein_distance(reference_raw, current_raw) / np.std(
        reference_raw, ddof=1
    )
    result = numeric.wasserstein(*prepared(reference_raw, current_raw))
    assert result.statistic == pytest.approx(expected, rel=1e-12)


def test_energy_matches_scipy_on_standardised_values(normal_pair):
    reference_raw, current_raw, reference, current = normal_pair
    scale = np.std(reference_raw, ddof=1)
    expected = scipy.stats.energy_distance(reference_raw / scale, current_raw / scale)
    assert numeric.energy(reference, current).statistic == pytest.approx(expected, rel=1e-10)
    assert expected == pytest.approx(
        scipy.stats.energy_distance(reference_raw, current_raw) / math.sqrt(scale), rel=1e-10
    )


def test_energy_hand_example():
    # X in {0, 1}, Y in {1, 2}: E|X-Y| = (1+2+0+1)/4 = 1, E|X-X'| = E|Y-Y'| = (0+1+1+0)/4 = 0.5
    # raw energy = sqrt(2·1 - 0.5 - 0.5) = 1; reference std = sqrt(0.5) -> 1 / 0.5 ** 0.25
    result = numeric.energy(np.array([0.0, 1.0]), np.array([1.0, 2.0]))
    assert result.statistic == pytest.approx(1 / 0.5**0.25, rel=1e-14)


# ---- binned distances ---------------------------------------------------------------------


def test_psi_two_bin_hand_example():
    # edge at reference[ceil(4/2) - 1] = 2; reference shares (2/4, 2/4), current (3/4, 1/4)
    # PSI = (0.75-0.5)·ln(0.75/0.5) + (0.25-0.5)·ln(0.25/0.5) = 0.25·ln 1.5 + 0.25·ln 2
    result = numeric.psi(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 1.0, 1.0, 4.0]), n_bins=2)
    assert result.statistic == pytest.approx(0.25 * math.log(1.5) + 0.25 * math.log(2), rel=1e-14)
    assert result.p_value is None


def test_psi_empty_bin_uses_epsilon():
    # current all above the reference: shares (0, 1) -> (1e-4, 1) / 1.0001 against (0.5, 0.5)
    eps = 1e-4
    c = np.array([eps, 1.0]) / (1 + eps)
    expected = float(np.sum((c - 0.5) * np.log(c / 0.5)))
    result = numeric.psi(np.array([1.0, 2.0, 3.0, 4.0]), np.array([5.0, 6.0]), n_bins=2)
    assert result.statistic == pytest.approx(expected, rel=1e-14)
    bigger_eps = numeric.psi(
        np.array([1.0, 2.0, 3.0, 4.0]), np.array([5.0, 6.0]), n_bins=2, epsilon=1e-2
    )
    assert bigger_eps.statistic < result.statistic


def test_psi_on_deciles_matches_a_direct_computation(normal_pair):
    reference_raw, current_raw, reference, current = normal_pair
    edges = np.unique(np.quantile(reference_raw, np.arange(1, 10) / 10, method="inverted_cdf"))
    bins = np.concatenate(([-np.inf], edges, [np.inf]))
    # right-closed bins: np.histogram is left-closed, so count with searchsorted on raw values
    ref_counts = np.array(
        [
            np.sum((reference_raw > lo) & (reference_raw <= hi))
            for lo, hi in zip(bins[:-1], bins[1:], strict=True)
        ]
    )
    cur_counts = np.array(
        [
            np.sum((current_raw > lo) & (current_raw <= hi))
            for lo, hi in zip(bins[:-1], bins[1:], strict=True)
        ]
    )
    r, c = ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum()
    assert np.all(r > 0) and np.all(c > 0)  # no smoothing involved in this case
    expected = float(np.sum((c - r) * np.log(c / r)))
    assert numeric.psi(reference, current).statistic == pytest.approx(expected, rel=1e-12)
    assert numeric.kl_div(reference, current).statistic == pytest.approx(
        scipy.stats.entropy(c, r), rel=1e-12
    )
    assert numeric.jensen_shannon(reference, current).statistic == pytest.approx(
        jensenshannon(r, c, base=2), rel=1e-12
    )
    assert numeric.hellinger(reference, current).statistic == pytest.approx(
        math.sqrt(1 - np.sum(np.sqrt(r * c))), rel=1e-10
    )


def test_jensen_shannon_and_hellinger_two_bin_hand_example():
    # bins split at 2: reference shares p = (0.5, 0.5), current q = (0, 1), m = (0.25, 0.75)
    reference, current = np.array([1.0, 2.0, 3.0, 4.0]), np.array([5.0, 6.0, 7.0, 8.0])
    divergence_nats = 0.5 * (0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)) + 0.5 * (
        1.0 * math.log(1.0 / 0.75)
    )
    js = numeric.jensen_shannon(reference, current, n_bins=2)
    assert js.statistic == pytest.approx(math.sqrt(divergence_nats / math.log(2)), rel=1e-14)
    # H = sqrt(1 - (sqrt(0.5·0) + sqrt(0.5·1)))
    hellinger = numeric.hellinger(reference, current, n_bins=2)
    assert hellinger.statistic == pytest.approx(math.sqrt(1 - math.sqrt(0.5)), rel=1e-14)


def test_kl_div_is_current_relative_to_reference():
    # reference shares (0.5, 0.5); current (1/4, 3/4): KL(c‖r) = 0.25 ln(0.5) + 0.75 ln(1.5)
    result = numeric.kl_div(
        np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 3.0, 4.0, 4.0]), n_bins=2
    )
    assert result.statistic == pytest.approx(0.25 * math.log(0.5) + 0.75 * math.log(1.5))


# ---- tests from scipy ---------------------------------------------------------------------


@pytest.mark.parametrize("n, m", [(3, 5), (40, 30), (500, 700)])
def test_anderson_matches_scipy_midrank(rng, n, m):
    reference_raw, current_raw = rng.normal(size=n), rng.normal(0.5, 1.0, size=m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy's cap notice and (1.17+) `midrank` deprecation
        expected = scipy.stats.anderson_ksamp([reference_raw, current_raw], midrank=True)
    result = numeric.anderson(*prepared(reference_raw, current_raw))  # no warning escapes
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-12)
    assert 0.001 <= result.p_value <= 0.25


def test_anderson_p_value_is_capped_silently(rng):
    same = rng.normal(size=200)
    assert numeric.anderson(*prepared(same, same + 0.0)).p_value == 0.25
    assert numeric.anderson(*prepared(same, same + 5.0)).p_value == 0.001


@pytest.mark.parametrize("n, m", [(5, 7), (20, 20), (300, 200)])
def test_cramer_von_mises_matches_scipy(rng, n, m):
    reference_raw, current_raw = rng.normal(size=n), rng.normal(0.5, 1.0, size=m)
    expected = scipy.stats.cramervonmises_2samp(reference_raw, current_raw)
    result = numeric.cramer_von_mises(*prepared(reference_raw, current_raw))
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-12)


def test_t_test_matches_scipy_and_closed_form(normal_pair):
    reference_raw, current_raw, reference, current = normal_pair
    expected = scipy.stats.ttest_ind(current_raw, reference_raw, equal_var=False)
    result = numeric.t_test(reference, current)
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-10)
    # reference (1, 2, 3): mean 2, var 1; current (4, 6, 8): mean 6, var 4
    # t = (6 - 2) / sqrt(4/3 + 1/3); Welch df = (5/3)² / ((4/3)²/2 + (1/3)²/2) = 50/17
    hand = numeric.t_test(np.array([1.0, 2.0, 3.0]), np.array([4.0, 6.0, 8.0]))
    t = 4 / math.sqrt(5 / 3)
    assert hand.statistic == pytest.approx(t, rel=1e-14)
    assert hand.p_value == pytest.approx(2 * scipy.stats.t.sf(t, 50 / 17), rel=1e-10)


def test_t_test_with_one_constant_side_is_defined():
    result = numeric.t_test(np.array([1.0, 1.0, 1.0]), np.array([1.0, 2.0, 3.0]))
    # t = (2 - 1) / sqrt(1/3 + 0)
    assert result.statistic == pytest.approx(math.sqrt(3), rel=1e-14)


def test_mann_whitney_matches_scipy_as_a_probability(normal_pair):
    reference_raw, current_raw, reference, current = normal_pair
    expected = scipy.stats.mannwhitneyu(current_raw, reference_raw)
    result = numeric.mann_whitney(reference, current)
    assert result.statistic == pytest.approx(expected.statistic / (400 * 300), rel=1e-14)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-12)


def test_mann_whitney_hand_examples():
    # every current value exceeds every reference value: U = 4 of 4 pairs
    assert numeric.mann_whitney(np.array([1.0, 2.0]), np.array([3.0, 4.0])).statistic == 1.0
    # pairs (2>1), (2=2 counts 1/2), (3>1), (3>2): 3.5 of 4
    assert numeric.mann_whitney(np.array([1.0, 2.0]), np.array([2.0, 3.0])).statistic == 0.875


def test_mann_whitney_auto_is_exact_only_for_small_tables(rng):
    small_reference, small_current = rng.normal(size=6), rng.normal(size=40)
    result = numeric.mann_whitney(*prepared(small_reference, small_current))
    exact = scipy.stats.mannwhitneyu(small_current, small_reference, method="exact")
    assert result.p_value == pytest.approx(exact.pvalue, rel=1e-12)
    # 5 against 100,000 values: scipy's own "auto" would enumerate exactly for minutes
    large_reference, tiny_current = rng.normal(size=100_000), rng.normal(size=5)
    result = numeric.mann_whitney(*prepared(large_reference, tiny_current))
    asymptotic = scipy.stats.mannwhitneyu(tiny_current, large_reference, method="asymptotic")
    assert result.p_value == pytest.approx(asymptotic.pvalue, rel=1e-12)


# ---- maximum mean discrepancy ---------------------------------------------------------------


def direct_biased_mmd2(x, y):
    """O(n²) loops: median-heuristic Gaussian kernel, V-statistic MMD²."""
    pooled = list(x) + list(y)
    distances = [abs(a - b) for i, a in enumerate(pooled) for b in pooled[i + 1 :]]
    sigma = float(np.median(distances))

    def k(a, b):
        return math.exp(-((a - b) ** 2) / (2 * sigma**2))

    xx = sum(k(a, b) for a in x for b in x) / len(x) ** 2
    yy = sum(k(a, b) for a in y for b in y) / len(y) ** 2
    xy = sum(k(a, b) for a in x for b in y) / (len(x) * len(y))
    return xx + yy - 2 * xy


def test_mmd_statistic_matches_a_direct_computation(rng):
    reference_raw, current_raw = rng.normal(size=9), rng.normal(0.7, 1.0, size=6)
    result = numeric.empirical_mmd(*prepared(reference_raw, current_raw), n_permutations=50)
    assert result.statistic == pytest.approx(
        direct_biased_mmd2(reference_raw, current_raw), rel=1e-10
    )
    assert 1 / 51 <= result.p_value <= 1.0


def test_mmd_test_separates_same_and_shifted_distributions(rng):
    reference = prepare_numeric(rng.normal(size=2000))
    same_distribution = prepare_numeric(rng.normal(size=1500))
    shifted = prepare_numeric(rng.normal(0.5, 1.0, size=1500))
    assert numeric.empirical_mmd(reference, same_distribution).p_value > 0.05
    shifted_result = numeric.empirical_mmd(reference, shifted)
    assert shifted_result.p_value == pytest.approx(1 / 201)  # no permutation reaches it
    # above max_samples each side is subsampled separately, so a column against itself is
    # two different subsamples: a small statistic, no evidence of drift
    assert numeric.empirical_mmd(reference, reference).p_value > 0.05
    small = reference[::4]
    identical = numeric.empirical_mmd(small, small)
    assert (identical.statistic, identical.p_value) == (0.0, 1.0)


def test_mmd_is_reproducible_and_seeded(rng):
    reference = prepare_numeric(rng.normal(size=3000))
    current = prepare_numeric(rng.normal(0.05, 1.0, size=3000))
    first = numeric.empirical_mmd(reference, current, seed=3)
    assert numeric.empirical_mmd(reference, current, seed=3) == first
    assert numeric.empirical_mmd(reference, current, seed=4).statistic != first.statistic


def test_mmd_with_all_values_equal_is_zero():
    result = numeric.empirical_mmd(np.ones(5), np.ones(3))
    assert (result.statistic, result.p_value) == (0.0, 1.0)


def test_mmd_bandwidth_falls_back_when_most_values_tie():
    # 8 of 10 values are 0: most pairwise distances are 0, the median is 0
    reference, current = np.zeros(6), np.array([0.0, 0.0, 1.0, 2.0])
    result = numeric.empirical_mmd(reference, current, n_permutations=20)
    assert 0 < result.statistic <= 2 and not math.isnan(result.p_value)


@pytest.mark.parametrize(
    "options, match",
    [({"max_samples": 0}, "max_samples"), ({"n_permutations": 0}, "n_permutations")],
)
def test_mmd_rejects_bad_options(options, match):
    with pytest.raises(InputError, match=match):
        numeric.empirical_mmd(np.array([1.0, 2.0]), np.array([1.0, 2.0]), **options)


# ---- degenerate input ---------------------------------------------------------------------

NUMERIC_METHODS = available_methods("numeric")


@pytest.mark.parametrize("name", NUMERIC_METHODS)
@pytest.mark.parametrize("empty_side", ["reference", "current"])
def test_an_empty_side_gives_nan_and_a_named_warning(name, empty_side):
    func = get_method(name).func_for("numeric")
    values = np.array([1.0, 2.0, 3.0])
    arguments = (np.array([]), values) if empty_side == "reference" else (values, np.array([]))
    with pytest.warns(DegenerateStatisticWarning, match=rf"^{name}: {empty_side} has no"):
        result = func(*arguments)
    assert math.isnan(result.statistic) and result.is_degenerate
    if get_method(name).has_p_value:
        assert math.isnan(result.p_value)
    else:
        assert result.p_value is None


@pytest.mark.parametrize("name", ["wasserstein", "energy"])
def test_a_constant_reference_has_no_scale(name):
    func = get_method(name).func_for("numeric")
    with pytest.warns(DegenerateStatisticWarning, match="constant"):
        assert math.isnan(func(np.full(4, 2.0), np.array([1.0, 3.0])).statistic)
    with pytest.warns(DegenerateStatisticWarning, match="at least 2 values"):
        assert math.isnan(func(np.array([2.0]), np.array([1.0, 3.0])).statistic)


@pytest.mark.parametrize(
    "name",
    [
        "ks",
        "psi",
        "jensen_shannon",
        "hellinger",
        "kl_div",
        "mann_whitney",
        "cramer_von_mises",
        "empirical_mmd",
    ],
)
def test_a_constant_reference_is_fine_where_the_statistic_is_defined(name):
    func = get_method(name).func_for("numeric")
    result = func(np.full(20, 2.0), np.linspace(0.0, 4.0, 20))
    assert not math.isnan(result.statistic)


def test_degenerate_tests_name_their_reason():
    with pytest.warns(DegenerateStatisticWarning, match="t_test: both sides are constant"):
        numeric.t_test(np.full(3, 1.0), np.full(4, 2.0))
    with pytest.warns(DegenerateStatisticWarning, match="t_test: needs at least 2"):
        numeric.t_test(np.array([1.0]), np.array([1.0, 2.0]))
    with pytest.warns(DegenerateStatisticWarning, match="anderson: all values"):
        numeric.anderson(np.full(3, 1.0), np.full(4, 1.0))
    with pytest.warns(DegenerateStatisticWarning, match="anderson: needs at least 4"):
        numeric.anderson(np.array([1.0]), np.array([2.0, 3.0]))
    with pytest.warns(DegenerateStatisticWarning, match="cramer_von_mises: needs at least 2"):
        numeric.cramer_von_mises(np.array([1.0]), np.array([2.0, 3.0]))


def test_the_warning_points_at_the_caller():
    with pytest.warns(DegenerateStatisticWarning) as record:
        numeric.psi(np.array([]), np.array([1.0]))
    assert record[0].filename == __file__
