"""prepare_numeric, align_counts and the precondition checks of the method functions."""

from __future__ import annotations

import collections

import numpy as np
import pandas as pd
import pytest

from monitorkit.errors import InputError
from monitorkit.stats import align_counts, numeric, prepare_numeric

pytestmark = pytest.mark.filterwarnings("error")


def test_prepare_numeric_drops_non_finite_and_sorts():
    prepared = prepare_numeric([3.0, np.nan, -1.0, np.inf, None, 2.0, -np.inf, 2.0])
    assert prepared.dtype == np.float64
    np.testing.assert_array_equal(prepared, [-1.0, 2.0, 2.0, 3.0])


def test_prepare_numeric_casts_integers_and_booleans():
    np.testing.assert_array_equal(prepare_numeric(np.array([3, 1, 2])), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(prepare_numeric(np.array([True, False, True])), [0.0, 1.0, 1.0])


def test_prepare_numeric_returns_a_copy():
    values = np.array([2.0, 1.0])
    prepare_numeric(values)[0] = 99.0
    np.testing.assert_array_equal(values, [2.0, 1.0])


@pytest.mark.parametrize("values", [np.zeros((2, 3)), ["a", "b"]])
def test_prepare_numeric_rejects_unusable_input(values):
    with pytest.raises(InputError, match="prepare|numeric drift methods"):
        prepare_numeric(values)


def test_align_counts_hand_example():
    categories, reference_counts, current_counts = align_counts(
        np.array(["b", "a", "b", "c"], dtype=object), np.array(["d", "b", "b", "b"], dtype=object)
    )
    assert categories.tolist() == ["a", "b", "c", "d"]
    assert reference_counts.tolist() == [1, 2, 1, 0]
    assert current_counts.tolist() == [0, 3, 0, 1]
    assert reference_counts.dtype == np.int64


def test_align_counts_matches_a_counter(rng):
    labels = np.array(["x", "y", "z", "w"])
    reference = labels[rng.integers(0, 3, 500)]
    current = labels[rng.integers(1, 4, 300)]
    categories, reference_counts, current_counts = align_counts(reference, current)
    expected_reference, expected_current = (
        collections.Counter(reference),
        collections.Counter(current),
    )
    assert reference_counts.tolist() == [expected_reference[c] for c in categories]
    assert current_counts.tolist() == [expected_current[c] for c in categories]


@pytest.mark.parametrize(
    "reference, current",
    [
        (np.array(["a", None, "b", np.nan], dtype=object), np.array([None, "a"], dtype=object)),
        (np.array(["a", pd.NA, "b"], dtype=object), np.array([pd.NA, "a"], dtype=object)),
        (pd.array(["a", None, "b"], dtype="string").to_numpy(), np.array(["a"], dtype=object)),
    ],
)
def test_align_counts_does_not_count_missing_values(reference, current):
    categories, reference_counts, current_counts = align_counts(reference, current)
    assert categories.tolist() == ["a", "b"]
    assert reference_counts.tolist() == [1, 1]
    assert current_counts.tolist() == [1, 0]


def test_align_counts_numeric_and_boolean_labels():
    categories, reference_counts, current_counts = align_counts([1.0, np.nan, 2.0, 2.0], [2.0, 3.0])
    assert categories.tolist() == [1.0, 2.0, 3.0]
    assert (reference_counts.tolist(), current_counts.tolist()) == ([1, 2, 0], [0, 1, 1])
    categories, reference_counts, current_counts = align_counts([True, True, False], [True])
    assert categories.tolist() == [False, True]
    assert (reference_counts.tolist(), current_counts.tolist()) == ([1, 2], [0, 1])


def test_align_counts_all_missing_side_gives_zero_counts():
    categories, reference_counts, current_counts = align_counts([None, None], ["a"])
    assert categories.tolist() == ["a"]
    assert (reference_counts.tolist(), current_counts.tolist()) == ([0], [1])


def test_align_counts_rejects_mixed_types_and_2d():
    with pytest.raises(InputError, match="single type"):
        align_counts(np.array([1, "a"], dtype=object), np.array(["b"], dtype=object))
    with pytest.raises(InputError, match="1-D"):
        align_counts(np.zeros((2, 2)), [1.0])


@pytest.mark.parametrize(
    "reference, problem",
    [
        ([1.0, 2.0], "1-D float64 numpy array"),
        (np.array([1, 2]), "float64"),
        (np.array([2.0, 1.0]), "not sorted"),
        (np.array([1.0, np.nan, 2.0]), "not sorted"),
        (np.array([1.0, np.inf]), "NaN or infinite"),
        (np.array([[1.0, 2.0]]), "1-D"),
    ],
)
def test_numeric_methods_check_the_prepared_precondition(reference, problem):
    with pytest.raises(InputError, match=problem) as excinfo:
        numeric.ks(reference, np.array([1.0, 2.0]))
    assert "prepare_numeric" in str(excinfo.value)
