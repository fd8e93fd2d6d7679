"""Properties of the drift methods, checked with hypothesis on generated samples.

Identity, symmetry, bounds, invariance to row order, and invariance to the transforms the
definitions imply (a common shift / positive rescale for the std-normed distances; any
strictly increasing transform for the rank- and quantile-bin-based ones).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from monitorkit.stats import (
    DegenerateStatisticWarning,
    align_counts,
    available_methods,
    categorical,
    get_method,
    numeric,
    prepare_numeric,
)

pytestmark = pytest.mark.filterwarnings("error")

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Moderate magnitudes keep variances and kernel sums away from overflow; integers give ties.
finite_floats = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
samples = st.one_of(
    st.lists(finite_floats, min_size=1, max_size=60),
    st.lists(st.integers(-5, 5).map(float), min_size=1, max_size=60),
)
# Distinct-enough integer values so that a * x + b is exact in floating point.
integer_samples = st.lists(st.integers(-1000, 1000).map(float), min_size=2, max_size=60)
counts = st.lists(st.integers(0, 50), min_size=1, max_size=8)

FAST_OPTIONS = {"empirical_mmd": {"n_permutations": 20}}
NUMERIC = available_methods("numeric")
COUNT_METHODS = available_methods("categorical")
SYMMETRIC_COUNT_METHODS = ["chi2", "hellinger", "jensen_shannon", "l_infinity", "psi", "tvd"]
MONOTONE_INVARIANT = [
    "ks",
    "psi",
    "jensen_shannon",
    "hellinger",
    "kl_div",
    "mann_whitney",
    "anderson",
    "cramer_von_mises",
]


def run_numeric(name, reference, current):
    """Call a numeric method, treating a degenerate result as 'no claim'."""
    func = get_method(name).func_for("numeric")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateStatisticWarning)
        return func(reference, current, **FAST_OPTIONS.get(name, {}))


def run_counts(name, reference_counts, current_counts):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateStatisticWarning)
        return get_method(name).func_for("categorical")(reference_counts, current_counts)


def pad(a, b):
    size = max(len(a), len(b))
    return np.array(a + [0] * (size - len(a))), np.array(b + [0] * (size - len(b)))


# ---- identity -------------------------------------------------------------------------


@SETTINGS
@given(values=samples)
def test_identical_numeric_samples_have_zero_distance(values):
    prepared = prepare_numeric(values)
    for name in ["ks", "psi", "jensen_shannon", "hellinger", "kl_div", "wasserstein", "energy"]:
        result = run_numeric(name, prepared, prepared)
        assert result.statistic == 0.0 or math.isnan(result.statistic), name
    assert numeric.ks(prepared, prepared).p_value == 1.0
    assert numeric.mann_whitney(prepared, prepared).statistic == 0.5


@SETTINGS
@given(reference_counts=counts)
def test_identical_counts_have_zero_distance(reference_counts):
    assume(sum(reference_counts) > 0)
    reference = np.array(reference_counts)
    for name in ["psi", "jensen_shannon", "hellinger", "kl_div", "tvd", "l_infinity"]:
        assert run_counts(name, reference, reference.copy()).statistic == 0.0, name


# ---- bounds -------------------------------------------------------------------------------


@SETTINGS
@given(reference_values=samples, current_values=samples)
def test_numeric_statistics_and_p_values_stay_in_range(reference_values, current_values):
    reference, current = prepare_numeric(reference_values), prepare_numeric(current_values)
    for name in NUMERIC:
        method = get_method(name)
        result = run_numeric(name, reference, current)
        if result.is_degenerate:
            continue
        low, high = method.statistic_range
        assert low - 1e-9 <= result.statistic <= high + 1e-9, name
        if method.has_p_value:
            assert 0.0 <= result.p_value <= 1.0, name
        else:
            assert result.p_value is None


@SETTINGS
@given(reference_counts=counts, current_counts=counts)
def test_count_statistics_and_p_values_stay_in_range(reference_counts, current_counts):
    reference, current = pad(reference_counts, current_counts)
    for name in COUNT_METHODS:
        method = get_method(name)
        result = run_counts(name, reference, current)
        if result.is_degenerate:
            continue
        low, high = method.statistic_range
        assert low <= result.statistic <= high, name
        if method.has_p_value:
            assert 0.0 <= result.p_value <= 1.0, name


# ---- symmetry -----------------------------------------------------------------------------


@SETTINGS
@given(a_values=samples, b_values=samples)
def test_numeric_symmetries(a_values, b_values):
    a, b = prepare_numeric(a_values), prepare_numeric(b_values)
    assert numeric.ks(a, b).statistic == numeric.ks(b, a).statistic
    mann_whitney_ab, mann_whitney_ba = numeric.mann_whitney(a, b), numeric.mann_whitney(b, a)
    assert mann_whitney_ab.statistic == pytest.approx(1 - mann_whitney_ba.statistic, abs=1e-12)
    assert mann_whitney_ab.p_value == pytest.approx(mann_whitney_ba.p_value, abs=1e-12)
    # energy is normed by the *reference* std; the distance underneath is symmetric
    energy_ab, energy_ba = run_numeric("energy", a, b), run_numeric("energy", b, a)
    if not (energy_ab.is_degenerate or energy_ba.is_degenerate):
        raw_ab = energy_ab.statistic * math.sqrt(np.std(a, ddof=1))
        raw_ba = energy_ba.statistic * math.sqrt(np.std(b, ddof=1))
        assert raw_ab == pytest.approx(raw_ba, rel=1e-9, abs=1e-12)


@SETTINGS
@given(a_counts=counts, b_counts=counts)
def test_count_symmetries(a_counts, b_counts):
    a, b = pad(a_counts, b_counts)
    for name in SYMMETRIC_COUNT_METHODS:
        ab, ba = run_counts(name, a, b), run_counts(name, b, a)
        if ab.is_degenerate:
            assert ba.is_degenerate
            continue
        assert ab.statistic == pytest.approx(ba.statistic, rel=1e-12, abs=1e-15), name


# ---- row order ----------------------------------------------------------------------------


@SETTINGS
@given(reference_values=samples, current_values=samples, seed=st.integers(0, 2**32 - 1))
def test_numeric_results_do_not_depend_on_row_order(reference_values, current_values, seed):
    rng = np.random.default_rng(seed)
    shuffled_reference = rng.permutation(np.array(reference_values))
    shuffled_current = rng.permutation(np.array(current_values))
    for name in NUMERIC:
        original = run_numeric(
            name, prepare_numeric(reference_values), prepare_numeric(current_values)
        )
        shuffled = run_numeric(
            name, prepare_numeric(shuffled_reference), prepare_numeric(shuffled_current)
        )
        assert repr(original) == repr(shuffled), name  # repr: NaN == NaN


@SETTINGS
@given(
    reference_labels=st.lists(st.sampled_from(["a", "b", "c", None]), min_size=1, max_size=40),
    current_labels=st.lists(st.sampled_from(["a", "b", "d", None]), min_size=1, max_size=40),
    seed=st.integers(0, 2**32 - 1),
)
def test_counts_do_not_depend_on_row_order(reference_labels, current_labels, seed):
    rng = np.random.default_rng(seed)
    reference = np.array(reference_labels, dtype=object)
    current = np.array(current_labels, dtype=object)
    original = align_counts(reference, current)
    shuffled = align_counts(rng.permutation(reference), rng.permutation(current))
    for left, right in zip(original, shuffled, strict=True):
        np.testing.assert_array_equal(left, right)
    for name in COUNT_METHODS:
        assert repr(run_counts(name, *original[1:])) == repr(run_counts(name, *shuffled[1:]))


# ---- invariance to transforms -------------------------------------------------------------


@SETTINGS
@given(
    reference_values=integer_samples,
    current_values=integer_samples,
    scale=st.sampled_from([0.5, 2.0, 3.0, 10.0]),
    shift=st.integers(-10_000, 10_000).map(float),
)
def test_affine_invariance(reference_values, current_values, scale, shift):
    reference, current = prepare_numeric(reference_values), prepare_numeric(current_values)
    moved_reference, moved_current = reference * scale + shift, current * scale + shift
    for name in ["wasserstein", "energy"] + MONOTONE_INVARIANT:
        original = run_numeric(name, reference, current)
        moved = run_numeric(name, moved_reference, moved_current)
        if original.is_degenerate:
            assert moved.is_degenerate, name
            continue
        assert moved.statistic == pytest.approx(original.statistic, rel=1e-9, abs=1e-12), name


@SETTINGS
@given(
    reference_values=st.lists(st.integers(1, 10_000).map(float), min_size=2, max_size=60),
    current_values=st.lists(st.integers(1, 10_000).map(float), min_size=2, max_size=60),
)
def test_rank_and_quantile_bin_methods_ignore_a_log_transform(reference_values, current_values):
    reference, current = prepare_numeric(reference_values), prepare_numeric(current_values)
    logged_reference, logged_current = np.log(reference), np.log(current)
    for name in MONOTONE_INVARIANT:
        original = run_numeric(name, reference, current)
        logged = run_numeric(name, logged_reference, logged_current)
        assert repr(original) == repr(logged) or logged.statistic == pytest.approx(
            original.statistic, rel=1e-9
        ), name


def test_numeric_binned_distances_equal_their_counts_versions(rng):
    reference = prepare_numeric(rng.normal(size=500))
    current = prepare_numeric(rng.normal(0.2, 1.0, size=300))
    from monitorkit.stats import bin_counts, reference_quantile_edges

    edges = reference_quantile_edges(reference)
    binned = bin_counts(reference, edges), bin_counts(current, edges)
    for name in ["psi", "jensen_shannon", "hellinger", "kl_div"]:
        assert getattr(numeric, name)(reference, current) == getattr(categorical, name)(*binned)
