"""Shared bins and proportions for the binned distances (PSI, Jensen–Shannon, Hellinger, KL).

Numeric columns are binned on **reference quantiles**: interior edges are reference order
statistics at the deciles (by default), duplicates are dropped, and the outer bins are
open to −inf and +inf, so every current value falls in some bin. Bins are right-closed,
``(edge[k-1], edge[k]]``, as in ``pandas.qcut``.

Why reference quantiles rather than equal-width bins over the pooled range: each
reference bin then holds about the same share of the data, so one outlier cannot squeeze
the bulk into a single bin; and because the edges are observed reference values, the
binned distances are unchanged by any strictly increasing transform applied to both
sides (a change of units, an affine rescale, a log).
"""

from __future__ import annotations

import numbers

import numpy as np

from monitorkit.errors import InputError

DEFAULT_N_BINS = 10
"""Number of reference-quantile bins the numeric binned distances use by default."""

DEFAULT_EPSILON = 1e-4
"""Proportion that replaces an empty bin / unseen category in PSI and KL (before renormalising)."""


def reference_quantile_edges(reference: np.ndarray, n_bins: int = DEFAULT_N_BINS) -> np.ndarray:
    """Interior bin edges at the reference quantiles ``k / n_bins``, duplicates removed.

    Edge ``k`` (``k = 1 .. n_bins - 1``) is the smallest reference value ``x`` whose
    empirical CDF reaches ``k / n_bins``: ``reference[ceil(k * n / n_bins) - 1]``, i.e.
    ``numpy.quantile(reference, k / n_bins, method="inverted_cdf")``. It is read by
    index from the sorted array, without sorting. With ties several edges coincide and
    are merged, so fewer bins result (a constant reference gives one edge, two bins).

    Parameters
    ----------
    reference : numpy.ndarray
        Finite float64 values sorted ascending (see :func:`prepare_numeric`), non-empty.
    n_bins : int, default 10
        Number of bins before merging duplicate edges; at least 2.

    Returns
    -------
    numpy.ndarray
        Strictly increasing interior edges (at most ``n_bins - 1`` of them). The bins are
        ``(-inf, e0], (e0, e1], ..., (e_last, +inf)``.

    Examples
    --------
    >>> reference_quantile_edges(np.array([1.0, 2.0, 3.0, 4.0]), n_bins=2)
    array([2.])
    """
    n_bins = _check_n_bins(n_bins)
    n = reference.size
    if n == 0:
        raise InputError("reference_quantile_edges needs a non-empty reference")
    k = np.arange(1, n_bins)
    indices = -(-k * n // n_bins) - 1  # ceil(k * n / n_bins) - 1 in integer arithmetic
    edges = reference[indices]
    # The edges are already non-decreasing (sorted input), so dropping repeats is enough.
    keep = np.empty(edges.size, dtype=bool)
    keep[:1] = True
    keep[1:] = edges[1:] != edges[:-1]
    return edges[keep]


def bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Count sorted ``values`` in the right-closed bins defined by interior ``edges``.

    Bin ``k`` holds ``edges[k-1] < x <= edges[k]``, with ``edges[-1] = -inf`` and
    ``edges[len(edges)] = +inf``, so there are ``len(edges) + 1`` bins and every value is
    counted. Uses ``searchsorted`` on the sorted values: O(len(edges) · log n).

    Parameters
    ----------
    values : numpy.ndarray
        Float64 values sorted ascending (see :func:`prepare_numeric`).
    edges : numpy.ndarray
        Strictly increasing interior edges, e.g. from :func:`reference_quantile_edges`.

    Returns
    -------
    numpy.ndarray of int64
        Counts per bin; they sum to ``len(values)``.

    Examples
    --------
    >>> bin_counts(np.array([1.0, 1.0, 1.0, 4.0]), np.array([2.0]))
    array([3, 1])
    """
    cumulative = np.searchsorted(values, edges, side="right")
    return np.diff(np.concatenate(([0], cumulative, [values.size]))).astype(np.int64)


def smoothed_proportions(counts: np.ndarray, epsilon: float = DEFAULT_EPSILON) -> np.ndarray:
    """Proportions ``counts / counts.sum()`` with zeros replaced by ``epsilon``, renormalised.

    Only empty bins / unseen categories change: each becomes ``epsilon`` and then all
    proportions are divided by their new sum so they add up to 1. This keeps the
    logarithms in PSI and KL finite. (PSI and KL drop bins empty on *both* sides before
    smoothing, so those contribute nothing.)

    Parameters
    ----------
    counts : numpy.ndarray
        Non-negative counts with a positive sum.
    epsilon : float, default 1e-4
        Stand-in proportion for an empty bin; must be in (0, 1).
    """
    proportions = counts / counts.sum()
    proportions = np.where(proportions > 0, proportions, epsilon)
    return proportions / proportions.sum()


def _check_n_bins(n_bins: int) -> int:
    if isinstance(n_bins, bool) or not isinstance(n_bins, numbers.Integral) or n_bins < 2:
        raise InputError(f"n_bins must be an integer of at least 2, got {n_bins!r}")
    return int(n_bins)


def _check_epsilon(epsilon: float) -> float:
    if not isinstance(epsilon, numbers.Real) or not 0 < epsilon < 1:
        raise InputError(f"epsilon must be a number in (0, 1), got {epsilon!r}")
    return float(epsilon)
