"""Per-side quantities with sides of very different sizes (10,000 reference rows, 2,000 current).

With (nearly) equal sides, a rate divided by the other side's row count, or a pooling rule
that uses the other side's total, gives (nearly) the right number, so no test notices. Here
every per-side quantity of the drift report — missing and invalid rates and counts, the chi2
pooling of rare categories and its expected counts, effect sizes — is checked against values
computed by hand or with scipy, on the raw-data path and on the profile path
(``Baseline.from_frame`` / ``mk.profile``), and the sides are swapped to check the mirror image.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats

import monitorkit as mk
from monitorkit.stats import categorical

REFERENCE_ROWS, CURRENT_ROWS = 10_000, 2_000

# Categorical counts per side (missing values apart). With n = 9,900 and m = 1,900 counted
# values, a category's smaller expected count is t · min(n, m) / (n + m) = t · 1900 / 11800:
#   r1 (24 rows) → 3.86 and r2 (22 rows) → 3.54: pooled into one cell (below 5), though their
#     larger expected counts (t · n / (n + m): 20.1 and 18.5) are not;
#   edge (31 rows) → 4.99: pooled, edge2 (32 rows) → 5.15: not pooled;
#   scarce: common in reference, rare only on the smaller side (1 of 1,900 current rows).
REFERENCE_CATEGORIES = {
    "a": 5_000, "b": 3_000, "c": 1_419, "r1": 20, "r2": 10, "edge": 26, "edge2": 25, "scarce": 400
}  # fmt: skip
CURRENT_CATEGORIES = {
    "a": 1_000, "b": 500, "c": 371, "r1": 4, "r2": 12, "edge": 5, "edge2": 7, "scarce": 1
}  # fmt: skip
POOLED = ("r1", "r2", "edge")
CATEGORY_MISSING = (100, 100)  # 1% of reference rows, 5% of current rows

# Numeric: missing (NaN) and invalid (±inf) per side.
NUMERIC_MISSING = (500, 300)  # 5% and 15%
NUMERIC_INVALID = (200, 60)  # 2% and 3%

# Boolean: True / False / missing per side.
FLAGS = ((3_000, 6_800, 200), (900, 1_000, 100))


def _categorical_column(counts: dict[str, int], missing: int, rng) -> np.ndarray:
    values = np.repeat(np.array(list(counts), dtype=object), list(counts.values()))
    values = np.concatenate([values, np.full(missing, None, dtype=object)])
    return rng.permutation(values)


def _numeric_column(rows: int, missing: int, invalid: int, shift: float, rng) -> np.ndarray:
    values = rng.normal(shift, 1.0, rows)
    positions = rng.permutation(rows)
    values[positions[:missing]] = np.nan
    values[positions[missing : missing + invalid]] = np.where(
        np.arange(invalid) % 2 == 0, np.inf, -np.inf
    )
    return values


def _flag_column(true: int, false: int, missing: int, rng) -> pd.Series:
    values = np.array([True] * true + [False] * false + [None] * missing, dtype=object)
    return pd.Series(rng.permutation(values), dtype="boolean")


@pytest.fixture(scope="module")
def sides() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(16)
    frames = []
    for side, (rows, shift) in enumerate(((REFERENCE_ROWS, 0.0), (CURRENT_ROWS, 0.25))):
        categories = (REFERENCE_CATEGORIES, CURRENT_CATEGORIES)[side]
        frames.append(
            pd.DataFrame(
                {
                    "x": _numeric_column(
                        rows, NUMERIC_MISSING[side], NUMERIC_INVALID[side], shift, rng
                    ),
                    "c": _categorical_column(categories, CATEGORY_MISSING[side], rng),
                    "flag": _flag_column(*FLAGS[side], rng),
                }
            )
        )
    return frames[0], frames[1]


SPEC = mk.ColumnSpec(categorical=["c"])


@pytest.fixture(scope="module")
def drift(sides) -> mk.DriftReport:
    return mk.DriftReport(*sides, spec=SPEC, multivariate=False)


# ---- hand-computed expectations ------------------------------------------------------------------


def _pooled_table(reference: dict[str, int], current: dict[str, int], pooled) -> np.ndarray:
    kept = [c for c in reference if c not in pooled]
    rows = [
        [counts[c] for c in kept] + [sum(counts[c] for c in pooled)]
        for counts in (reference, current)
    ]
    return np.array(rows)


def _tvd(reference: np.ndarray, current: np.ndarray) -> float:
    return 0.5 * float(np.abs(reference / reference.sum() - current / current.sum()).sum())


EXPECTED = {
    "x": {
        "reference_missing_rate": NUMERIC_MISSING[0] / REFERENCE_ROWS,
        "current_missing_rate": NUMERIC_MISSING[1] / CURRENT_ROWS,
        "reference_invalid": NUMERIC_INVALID[0],
        "current_invalid": NUMERIC_INVALID[1],
        "reference_count": REFERENCE_ROWS - NUMERIC_MISSING[0] - NUMERIC_INVALID[0],
        "current_count": CURRENT_ROWS - NUMERIC_MISSING[1] - NUMERIC_INVALID[1],
    },
    "c": {
        "reference_missing_rate": CATEGORY_MISSING[0] / REFERENCE_ROWS,
        "current_missing_rate": CATEGORY_MISSING[1] / CURRENT_ROWS,
        "reference_invalid": 0,
        "current_invalid": 0,
        "reference_count": REFERENCE_ROWS - CATEGORY_MISSING[0],
        "current_count": CURRENT_ROWS - CATEGORY_MISSING[1],
    },
    "flag": {
        "reference_missing_rate": FLAGS[0][2] / REFERENCE_ROWS,
        "current_missing_rate": FLAGS[1][2] / CURRENT_ROWS,
        "reference_invalid": 0,
        "current_invalid": 0,
        "reference_count": FLAGS[0][0] + FLAGS[0][1],
        "current_count": FLAGS[1][0] + FLAGS[1][1],
    },
}


def _missing_p_value(column: str) -> float:
    """The two-proportion z-test of the missing rates as the 2 x 2 chi-square without
    continuity correction (the same test: z² = chi²)."""
    expected = EXPECTED[column]
    table = []
    for side, rows in (("reference", REFERENCE_ROWS), ("current", CURRENT_ROWS)):
        missing = round(expected[f"{side}_missing_rate"] * rows)
        table.append([rows - missing, missing])
    return scipy.stats.chi2_contingency(np.array(table), correction=False).pvalue


def _check_per_side_quantities(frame: pd.DataFrame) -> None:
    frame = frame.set_index("column")
    for column, expected in EXPECTED.items():
        for field, value in expected.items():
            assert frame.loc[column, field] == pytest.approx(value, abs=1e-12), (column, field)
        assert frame.loc[column, "missing_p_value"] == pytest.approx(
            _missing_p_value(column), rel=1e-9
        )
        change = expected["current_missing_rate"] - expected["reference_missing_rate"]
        assert frame.loc[column, "missing_rate_change"] == pytest.approx(change, abs=1e-12)


# ---- the raw-data path ---------------------------------------------------------------------------


def test_rates_and_counts_use_each_sides_own_row_count(drift):
    """Guards against a rate divided by the other side's rows (e.g. current_missing /
    reference_rows), a count taken from the wrong side, invalid values counted as missing,
    and the missing-rate test fed the wrong side's totals."""
    result = drift.result
    assert (result.reference_rows, result.current_rows) == (REFERENCE_ROWS, CURRENT_ROWS)
    _check_per_side_quantities(drift.to_frame())


def test_the_numeric_effect_is_the_ks_distance_of_each_sides_finite_values(drift, sides):
    """Guards against invalid values (±inf) or missing values entering the test, and against
    one side's sample standing in for the other."""
    reference, current = (s["x"].to_numpy() for s in sides)
    exact = scipy.stats.ks_2samp(reference[np.isfinite(reference)], current[np.isfinite(current)])
    column = drift["x"]
    assert column.statistic == pytest.approx(exact.statistic, abs=1e-12)
    assert column.effect_size == pytest.approx(exact.statistic, abs=1e-12)
    assert column.p_value == pytest.approx(exact.pvalue, rel=1e-6)


def test_chi2_pools_the_categories_rare_on_the_smaller_side(drift):
    """Guards against pooling by the larger side's expected count (min(n, m) -> max(n, m) or
    n), pooling at <= 5 instead of < 5, and pooling the wrong side's counts."""
    table = _pooled_table(REFERENCE_CATEGORIES, CURRENT_CATEGORIES, POOLED)
    expected = scipy.stats.chi2_contingency(table)
    assert drift["c"].statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert drift["c"].p_value == pytest.approx(expected.pvalue, rel=1e-9)
    # The pooling rule is what makes the difference here (the test can tell them apart).
    for other in ((), ("r1", "r2"), ("r1", "r2", "edge", "edge2")):
        alternative = _pooled_table(REFERENCE_CATEGORIES, CURRENT_CATEGORIES, other)
        if other == ():
            alternative = alternative[:, :-1]
        other_statistic = scipy.stats.chi2_contingency(alternative).statistic
        assert other_statistic != pytest.approx(expected.statistic, rel=1e-6), other


def test_categorical_effect_sizes_use_each_sides_own_total(drift):
    """Guards against shares computed with the other side's total (which would put the
    distance near 0.4 here instead of 0.09)."""
    for column, reference, current in (
        ("c", list(REFERENCE_CATEGORIES.values()), list(CURRENT_CATEGORIES.values())),
        ("flag", FLAGS[0][:2], FLAGS[1][:2]),
    ):
        distance = _tvd(np.array(reference), np.array(current))
        # The effect is the total variation distance, less (when debiased) its sampling noise
        # of about 0.01–0.02 at these sizes: never more, and never much less.
        assert distance - 0.05 <= drift[column].effect_size <= distance + 1e-12, column


def test_a_boolean_column_is_the_corrected_2x2_test_on_its_own_counts(drift):
    """Guards against the True/False counts of one side used for both."""
    table = np.array([FLAGS[0][:2], FLAGS[1][:2]])
    expected = scipy.stats.chi2_contingency(table, correction=True)
    assert drift["flag"].statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert drift["flag"].p_value == pytest.approx(expected.pvalue, rel=1e-9)


def test_swapping_the_sides_mirrors_every_per_side_quantity(drift, sides):
    """Guards against a quantity stored under the wrong side's name, and against any rule
    (pooling, effect size) that depends on which side is the larger one."""
    swapped = mk.DriftReport(sides[1], sides[0], spec=SPEC, multivariate=False)
    assert (swapped.result.reference_rows, swapped.result.current_rows) == (
        CURRENT_ROWS,
        REFERENCE_ROWS,
    )
    for column in EXPECTED:
        forward, backward = drift[column], swapped[column]
        for field in ("missing_rate", "invalid", "count"):
            assert getattr(backward, f"reference_{field}") == getattr(forward, f"current_{field}")
            assert getattr(backward, f"current_{field}") == getattr(forward, f"reference_{field}")
        assert backward.missing_p_value == pytest.approx(forward.missing_p_value, rel=1e-9)
        assert backward.statistic == pytest.approx(forward.statistic, rel=1e-9)
        assert backward.p_value == pytest.approx(forward.p_value, rel=1e-6)
        assert backward.effect_size == pytest.approx(forward.effect_size, abs=1e-12)


# ---- monitorkit.stats.categorical.chi2 directly -----------------------------------------------


@pytest.mark.parametrize("reverse", [False, True], ids=["smaller-current", "smaller-reference"])
def test_chi2_equals_scipy_on_the_table_pooled_by_the_smaller_sides_expected_count(reverse):
    """Guards against the pooling rule using one fixed side (n or m) instead of the smaller:
    one of the two orders would then pool differently."""
    reference = np.array(list(REFERENCE_CATEGORIES.values()))
    current = np.array(list(CURRENT_CATEGORIES.values()))
    table = _pooled_table(REFERENCE_CATEGORIES, CURRENT_CATEGORIES, POOLED)
    if reverse:
        reference, current, table = current, reference, table[::-1]
    result = categorical.chi2(reference, current)
    expected = scipy.stats.chi2_contingency(table)
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    # Every cell left has a smaller expected count of at least 5, but the pooled cell.
    assert (expected.expected_freq[:, :-1] >= 5).all()


def test_chi2_pools_exactly_below_the_threshold():
    """Guards against ``<`` turned into ``<=``: a category whose smaller expected count is
    exactly 5 is kept."""
    # n = 1,000, m = 200: smaller expected count t · 200 / 1,200 = t / 6.
    reference = np.array([600, 300, 25, 20, 55])
    current = np.array([100, 80, 5, 10, 5])  # t = 30 (exactly 5), 30 (5), 60 (10)
    result = categorical.chi2(reference, current)
    expected = scipy.stats.chi2_contingency(np.vstack((reference, current)))
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    below = np.array([600, 300, 24, 20, 56]), np.array([100, 80, 5, 9, 6])  # t = 29, 29: pooled
    pooled = np.array([[600, 300, 56, 44], [100, 80, 6, 14]])
    assert categorical.chi2(*below).statistic == pytest.approx(
        scipy.stats.chi2_contingency(pooled).statistic, rel=1e-12
    )


def test_chi2_of_one_rare_category_pools_nothing_away():
    """Guards against pooling that drops the rare counts instead of summing them."""
    reference = np.array([9_000, 990, 10])
    current = np.array([1_500, 480, 20])  # 'rare': t = 30 → 30 · 2000 / 12000 = 5 … kept
    expected = scipy.stats.chi2_contingency(np.vstack((reference, current)))
    assert categorical.chi2(reference, current).statistic == pytest.approx(expected.statistic)
    reference, current = np.array([9_000, 990, 6, 4]), np.array([1_500, 480, 12, 8])
    pooled = np.array([[9_000, 990, 10], [1_500, 480, 20]])
    assert categorical.chi2(reference, current).statistic == pytest.approx(
        scipy.stats.chi2_contingency(pooled).statistic, rel=1e-12
    )


def test_tvd_uses_each_sides_own_total():
    """Guards against dividing both sides by one total."""
    reference, current = np.array([8_000, 2_000]), np.array([1_000, 1_000])
    assert categorical.tvd(reference, current).statistic == pytest.approx(0.3, abs=1e-12)
    assert categorical.tvd(current, reference).statistic == pytest.approx(0.3, abs=1e-12)


# ---- the profile path: Baseline.from_frame and mk.profile -------------------------------------


def test_a_baseline_reference_gives_the_same_per_side_quantities(drift, sides):
    """Guards against the profile path's rates using the other profile's rows, or counts
    from the wrong profile."""
    reference, current = sides
    baseline = mk.Baseline.from_frame(reference, spec=SPEC)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from_baseline = mk.DriftReport(baseline, current)
    assert (from_baseline.result.reference_rows, from_baseline.result.current_rows) == (
        REFERENCE_ROWS,
        CURRENT_ROWS,
    )
    _check_per_side_quantities(from_baseline.to_frame())
    # Categories are counted exactly in a profile: the same test and effect as on the rows.
    for column in ("c", "flag"):
        assert from_baseline[column].statistic == pytest.approx(drift[column].statistic, rel=1e-9)
        assert from_baseline[column].effect_size == pytest.approx(
            drift[column].effect_size, abs=1e-9
        )
    # KS from sketches: within twice the sketch's rank error of the exact distance.
    assert from_baseline["x"].effect_size == pytest.approx(drift["x"].effect_size, abs=0.03)


def test_two_profiles_give_the_same_per_side_quantities(sides):
    """Guards against the profile-vs-profile path swapping or mixing the sides."""
    reference, current = sides
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference_profile = mk.profile(reference, spec=SPEC)
        current_profile = mk.profile(current, spec=SPEC)
        forward = mk.DriftReport(reference_profile, current_profile)
        backward = mk.DriftReport(current_profile, reference_profile)
    _check_per_side_quantities(forward.to_frame())
    for column in EXPECTED:
        assert backward[column].reference_missing_rate == forward[column].current_missing_rate
        assert backward[column].current_invalid == forward[column].reference_invalid
        assert backward[column].current_count == forward[column].reference_count


# ---- every categorical distance on unequal sides ----------------------------------------------

# 10,000 vs 2,000 counted values; a category seen once in all (pooled count 1), one seen on
# neither side, one new in current.
DISTANCE_REFERENCE = np.array([6_000, 3_000, 999, 1, 0, 0])
DISTANCE_CURRENT = np.array([800, 700, 300, 0, 0, 200])


def _smoothed(counts: np.ndarray, epsilon: float = 1e-4) -> np.ndarray:
    shares = counts / counts.sum()
    shares = np.where(shares > 0, shares, epsilon)
    return shares / shares.sum()


def _by_definition(name: str, reference: np.ndarray, current: np.ndarray) -> float:
    p, q = reference / reference.sum(), current / current.sum()
    seen = (reference + current) > 0  # psi and kl drop categories seen on neither side
    r, c = _smoothed(reference[seen]), _smoothed(current[seen])
    return {
        "psi": float(np.sum((c - r) * np.log(c / r))),
        "kl_div": float(scipy.stats.entropy(c, r)),
        "jensen_shannon": float(scipy.spatial.distance.jensenshannon(p, q, base=2)),
        "hellinger": float(np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2))),
        "l_infinity": float(np.max(np.abs(p - q))),
        "tvd": 0.5 * float(np.sum(np.abs(p - q))),
    }[name]


@pytest.mark.parametrize(
    "name", ["psi", "kl_div", "jensen_shannon", "hellinger", "l_infinity", "tvd"]
)
def test_each_distance_equals_its_definition_on_unequal_sides(name):
    """Guards against shares taken over the other side's total, and (psi, kl_div) against
    dropping a category counted once in all, or keeping one seen on neither side, before
    smoothing; also against a clip that lifts small values (max(1, ...))."""
    import scipy.spatial

    function = getattr(categorical, name)
    for reference, current in (
        (DISTANCE_REFERENCE, DISTANCE_CURRENT),
        (DISTANCE_CURRENT, DISTANCE_REFERENCE),
    ):
        expected = _by_definition(name, reference, current)
        assert function(reference, current).statistic == pytest.approx(expected, rel=1e-9)
    small = np.array([5_000, 5_000]), np.array([1_050, 950])  # a small move: well below 1
    assert function(*small).statistic == pytest.approx(_by_definition(name, *small), rel=1e-9)
    assert scipy.spatial  # imported for the definition of jensen_shannon


TESTS = ["chi2", "z", "fisher_exact"]
DISTANCES = ["psi", "kl_div", "jensen_shannon", "hellinger", "l_infinity", "tvd", "debiased_tvd"]


@pytest.mark.parametrize("name", TESTS + DISTANCES)
def test_a_side_with_no_counts_gives_nan_and_the_right_kind_of_p_value(name):
    """The extreme of unequal sides: current counted nothing. Guards against a degenerate
    result whose p-value is None for a test (it must be NaN) or NaN for a distance (None)."""
    function = getattr(categorical, name)
    cases = [(np.array([10, 5]), np.array([0, 0]))]
    if name in TESTS:
        cases.append((np.array([7, 0]), np.array([2, 0])))  # one category: nothing to test
    for reference, current in cases:
        with pytest.warns(mk.stats.DegenerateStatisticWarning, match=name):
            result = function(reference, current)
        assert math.isnan(result.statistic)
        if name in TESTS:
            assert result.p_value is not None and math.isnan(result.p_value)
        else:
            assert result.p_value is None


def test_fisher_exact_on_unequal_sides_equals_scipy():
    """Guards against the 'only one category' check flagging a category with equal counts on
    both sides (reference - current == 0 instead of reference + current == 0), and against
    checking only the reference's counts for whole numbers."""
    reference, current = np.array([500, 30]), np.array([100, 30])
    table = np.array([[30, 100], [30, 500]])  # [[current True, False], [reference True, False]]
    expected = scipy.stats.fisher_exact(table, alternative="two-sided")
    result = categorical.fisher_exact(reference, current)
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    with pytest.raises(mk.errors.InputError, match="whole numbers"):
        categorical.fisher_exact(reference, np.array([100, 29.5]))
