"""Reference-quantile bins, bin counts and epsilon smoothing."""

from __future__ import annotations

import numpy as np
import pytest

from monitorkit.errors import InputError
from monitorkit.stats import (
    bin_counts,
    prepare_numeric,
    reference_quantile_edges,
    smoothed_proportions,
)

pytestmark = pytest.mark.filterwarnings("error")


@pytest.mark.parametrize("size", [1, 3, 9, 10, 11, 57, 1000])
@pytest.mark.parametrize("n_bins", [2, 4, 10])
def test_edges_are_inverted_cdf_quantiles(rng, size, n_bins):
    reference = prepare_numeric(rng.normal(size=size))
    expected = np.unique(
        np.quantile(reference, np.arange(1, n_bins) / n_bins, method="inverted_cdf")
    )
    np.testing.assert_array_equal(reference_quantile_edges(reference, n_bins), expected)


def test_edges_hand_example_and_ties():
    # ceil(1 * 4 / 2) - 1 = index 1 -> value 2
    np.testing.assert_array_equal(
        reference_quantile_edges(np.array([1.0, 2.0, 3.0, 4.0]), 2), [2.0]
    )
    # deciles of [0]*7 + [1]*3 are 0 (k = 1..7) and 1 (k = 8, 9): two distinct edges
    reference = np.array([0.0] * 7 + [1.0] * 3)
    np.testing.assert_array_equal(reference_quantile_edges(reference), [0.0, 1.0])
    np.testing.assert_array_equal(reference_quantile_edges(np.full(5, 3.0)), [3.0])


def test_ten_bins_split_an_untied_reference_evenly(rng):
    reference = prepare_numeric(rng.normal(size=1000))
    counts = bin_counts(reference, reference_quantile_edges(reference, 10))
    assert counts.tolist() == [100] * 10


def test_bin_counts_are_right_closed_and_cover_everything(rng):
    values = prepare_numeric(rng.integers(0, 10, 200).astype(float))
    edges = np.array([2.0, 5.0, 7.5])
    expected = [
        np.sum(values <= 2),
        np.sum((values > 2) & (values <= 5)),
        np.sum((values > 5) & (values <= 7.5)),
        np.sum(values > 7.5),
    ]
    counts = bin_counts(values, edges)
    assert counts.tolist() == expected
    assert counts.sum() == values.size


def test_smoothed_proportions_hand_example():
    # shares (0.5, 0.5, 0) -> (0.5, 0.5, 1e-4) / 1.0001
    np.testing.assert_allclose(
        smoothed_proportions(np.array([1, 1, 0]), 1e-4),
        np.array([0.5, 0.5, 1e-4]) / 1.0001,
        rtol=1e-15,
    )


@pytest.mark.parametrize("n_bins", [1, 0, 2.5, True, "10"])
def test_n_bins_must_be_an_integer_of_at_least_two(n_bins):
    with pytest.raises(InputError, match="n_bins"):
        reference_quantile_edges(np.array([1.0, 2.0]), n_bins)
