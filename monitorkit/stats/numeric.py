"""Drift methods for numeric columns: pure functions of two sorted, finite float64 arrays.

Calling convention (every function here)::

    method(reference, current, **options) -> MethodResult

``reference`` and ``current`` must be what :func:`~monitorkit.stats.prepare_numeric`
returns: 1-D float64, finite (NaN and ±inf dropped), sorted ascending. The report layer
drops missing values once (and reports the missing-rate change itself), sorts each column
once and passes the same arrays to every method, so no method sorts again. Each function
checks this precondition in one O(n) pass and raises :class:`~monitorkit.errors.InputError`
if it does not hold.

Degenerate input (an empty side, or a constant reference for the methods that divide by
its spread) returns ``MethodResult(nan, nan)`` (``p_value=None`` for distances) and emits a
:class:`~monitorkit.stats.DegenerateStatisticWarning` naming the method and the reason.

Signed statistics are "current minus reference": positive means current is larger.
"""

from __future__ import annotations

import inspect
import math
import warnings

import numpy as np
import scipy.stats
from scipy.spatial.distance import pdist

from monitorkit.errors import InputError
from monitorkit.stats import categorical
from monitorkit.stats._inputs import _check_prepared
from monitorkit.stats._results import MethodResult, _degenerate, _result
from monitorkit.stats.binning import (
    DEFAULT_EPSILON,
    DEFAULT_N_BINS,
    bin_counts,
    reference_quantile_edges,
)

KS_EXACT_MAX_N = 10_000
KS_LIMIT_MIN_EFFECTIVE_N = 40_000
"""``ks`` "auto" uses Kolmogorov's limiting distribution above this effective sample size."""
"""``ks`` computes an exact p-value when both sides have at most this many values (scipy's rule)."""

MANN_WHITNEY_EXACT_MAX_PAIRS = 10_000
"""``mann_whitney`` "auto" uses the exact p-value only when n·m is at most this (and no ties)."""

# scipy 1.17 replaced anderson_ksamp(midrank=True) by variant="midrank" and warns on the old form.
_ANDERSON_MIDRANK = (
    {"variant": "midrank"}
    if "variant" in inspect.signature(scipy.stats.anderson_ksamp).parameters
    else {"midrank": True}
)


def ks(reference: np.ndarray, current: np.ndarray, *, method: str = "auto") -> MethodResult:
    """Two-sample Kolmogorov–Smirnov test.

    The statistic is ``D = sup_x |F_ref(x) - F_cur(x)|``, the largest vertical gap between
    the two empirical CDFs (right-continuous, ties handled exactly). It is evaluated at
    every observed value from a linear merge of the two sorted arrays (no sort, no
    per-value search); the value equals ``ks_2samp``'s. ``D`` is in [0, 1]:
    0.1 means that at some threshold x the share of rows at or below x differs by 10
    percentage points between reference and current.

    The two-sided p-value is computed as ``scipy.stats.ks_2samp`` does: exact
    (``ks_2samp(method="exact")``) when both sides have at most 10,000 values, otherwise
    Smirnov's asymptotic ``scipy.stats.kstwo.sf(D, round(n*m / (n+m)))``. If scipy's exact
    computation fails numerically it falls back to the asymptotic value itself. Above an
    effective size ``n*m/(n+m)`` of 40,000, "auto" uses Kolmogorov's limiting distribution
    ``scipy.stats.kstwobign.sf(D * sqrt(n*m/(n+m)))`` instead: within 1% (relative) of
    ``kstwo`` there, and microseconds instead of up to 0.4 s when ``D`` is large.

    Parameters
    ----------
    reference, current : numpy.ndarray
        Finite float64 values sorted ascending (see :func:`prepare_numeric`).
    method : {"auto", "exact", "asymp", "limit"}, default "auto"
        How to compute the p-value; "auto" follows the size rules above.

    Returns
    -------
    MethodResult
        ``statistic=D`` in [0, 1] and its ``p_value``. NaN (with a
        :class:`DegenerateStatisticWarning`) when a side is empty.

    Examples
    --------
    >>> ks(np.array([1.0, 2.0, 3.0, 4.0]), np.array([3.0, 4.0, 5.0, 6.0])).statistic
    0.5
    """
    _check_prepared("ks", reference, current)
    if method not in ("auto", "exact", "asymp", "limit"):
        raise InputError(f"ks: method must be 'auto', 'exact', 'asymp' or 'limit', got {method!r}")
    n, m = reference.size, current.size
    if n == 0 or m == 0:
        return _degenerate("ks", _empty_reason(n, m), has_p_value=True)
    statistic = _ks_statistic(reference, current)
    if method == "exact" or (method == "auto" and max(n, m) <= KS_EXACT_MAX_N):
        with warnings.catch_warnings():
            # "Exact calculation unsuccessful. Switching to method=asymp": scipy's own fallback.
            warnings.simplefilter("ignore", RuntimeWarning)
            p_value = scipy.stats.ks_2samp(reference, current, method="exact").pvalue
    else:
        effective_n = float(n) * float(m) / (n + m)
        if method == "limit" or (method == "auto" and effective_n > KS_LIMIT_MIN_EFFECTIVE_N):
            p_value = scipy.stats.kstwobign.sf(statistic * math.sqrt(effective_n))
        else:
            p_value = scipy.stats.kstwo.sf(statistic, np.round(effective_n))
    return _result(statistic, np.clip(p_value, 0.0, 1.0))


def wasserstein(reference: np.ndarray, current: np.ndarray) -> MethodResult:
    """Wasserstein-1 (earth mover's) distance in units of the reference standard deviation.

    ``W1 = ∫ |F_ref(x) - F_cur(x)| dx`` (equal to ``scipy.stats.wasserstein_distance``),
    divided by the reference sample standard deviation (``ddof=1``). It is computed on the
    sorted arrays by merging them (no full sort). 0.1 means: on average, current values
    would have to move by a tenth of a reference standard deviation to match the
    reference distribution; for a pure location shift it equals the shift in std units.
    In [0, inf); unchanged by a common shift or positive rescale of both sides.

    Parameters
    ----------
    reference, current : numpy.ndarray
        Finite float64 values sorted ascending (see :func:`prepare_numeric`).

    Returns
    -------
    MethodResult
        ``statistic=W1 / std_ref``, ``p_value=None``. NaN (with a
        :class:`DegenerateStatisticWarning`) when a side is empty or the reference has fewer
        than 2 values or is constant (its standard deviation is 0).
    """
    _check_prepared("wasserstein", reference, current)
    scale, problem = _reference_scale(reference, current)
    if problem:
        return _degenerate("wasserstein", problem, has_p_value=False)
    cdf_gaps, widths = _cdf_gaps(reference, current)
    distance = float(np.dot(np.abs(cdf_gaps), widths))
    return _result(distance / scale)


def energy(reference: np.ndarray, current: np.ndarray) -> MethodResult:
    """Energy distance between the standardised samples (both divided by the reference std).

    ``E = sqrt(2 ∫ (F_ref(x) - F_cur(x))² dx)``, equal to ``scipy.stats.energy_distance``
    and to ``sqrt(2 E|X-Y| - E|X-X'| - E|Y-Y'|)``, computed after dividing both sides by
    the reference sample standard deviation (``ddof=1``); equivalently
    ``energy_distance(reference, current) / sqrt(std_ref)``. The square root of the scale
    is what makes it unit-free: E grows with the square root of a rescale. 0 means
    identical distributions; for a small location shift of d reference standard deviations
    between normals it is about ``0.75 * d``. In [0, inf).

    Parameters
    ----------
    reference, current : numpy.ndarray
        Finite float64 values sorted ascending (see :func:`prepare_numeric`).

    Returns
    -------
    MethodResult
        ``statistic`` as above, ``p_value=None``. NaN (with a
        :class:`DegenerateStatisticWarning`) when a side is empty or the reference has fewer
        than 2 values or is constant.
    """
    _check_prepared("energy", reference, current)
    scale, problem = _reference_scale(reference, current)
    if problem:
        return _degenerate("energy", problem, has_p_value=False)
    cdf_gaps, widths = _cdf_gaps(reference / scale, current / scale)
    return _result(math.sqrt(2.0 * float(np.dot(cdf_gaps * cdf_gaps, widths))))


def psi(
    reference: np.ndarray,
    current: np.ndarray,
    *,
    n_bins: int = DEFAULT_N_BINS,
    epsilon: float = DEFAULT_EPSILON,
) -> MethodResult:
    """Population stability index on reference-quantile bins.

    Bins: ``n_bins`` bins at the reference quantiles (reference order statistics, duplicate
    edges merged, outer bins open to ±inf, right-closed; see
    :func:`reference_quantile_edges`). With ``r_k`` and ``c_k`` the reference and current
    share of bin k, empty bins replaced by ``epsilon`` and renormalised
    (:func:`smoothed_proportions`)::

        PSI = Σ_k (c_k - r_k) · ln(c_k / r_k)        (natural log)

    It is the symmetrised KL divergence of the binned distributions. Common reading:
    below 0.1 no meaningful change, 0.1–0.2 moderate, 0.2 and above a significant shift.
    In [0, inf); unchanged by any strictly increasing transform of both sides.

    Parameters
    ----------
    reference, current : numpy.ndarray
        Finite float64 values sorted ascending (see :func:`prepare_numeric`).
    n_bins : int, default 10
        Number of reference-quantile bins before merging tied edges.
    epsilon : float, default 1e-4
        Proportion given to an empty bin before renormalising.

    Returns
    -------
    MethodResult
        ``statistic=PSI``, ``p_value=None``; NaN (with a warning) when a side is empty.

    Examples
    --------
    Two bins split at 2: reference shares (0.5, 0.5), current (0.75, 0.25):

    >>> result = psi(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 1.0, 1.0, 4.0]), n_bins=2)
    >>> round(result.statistic, 6) == round(0.25 * math.log(3), 6)
    True
    """
    return _binned("psi", categorical.psi, reference, current, n_bins, epsilon=epsilon)


def jensen_shannon(
    reference: np.ndarray, current: np.ndarray, *, n_bins: int = DEFAULT_N_BINS
) -> MethodResult:
    """Jensen–Shannon distance (base 2) between the binned distributions.

    Bins as in :func:`psi` (reference quantiles). With bin shares p (reference), q
    (current) and m = (p + q) / 2::

        JS = sqrt( (½ Σ p ln(p/m) + ½ Σ q ln(q/m)) / ln 2 )

    i.e. the square root of the Jensen–Shannon divergence in bits, as
    ``scipy.spatial.distance.jensenshannon(p, q, base=2)``. Empty bins need no smoothing
    (0 · ln 0 = 0). In [0, 1]: 0 for identical binned distributions, 1 when they share no
    bin. Symmetric.

    Parameters
    ----------
    reference, current : numpy.ndarray
        Finite float64 values sorted ascending (see :func:`prepare_numeric`).
    n_bins : int, default 10
        Number of reference-quantile bins before merging tied edges.

    Returns
    -------
    MethodResult
        ``statistic=JS``, ``p_value=None``; NaN (with a warning) when a side is empty.
    """
    return _binned("jensen_shannon", categorical.jensen_shannon, reference, current, n_bins)


def hellinger(
    reference: np.ndarray, current: np.ndarray, *, n_bins: int = DEFAULT_N_BINS
) -> MethodResult:
    """Hellinger distance between the binned distributions.

    Bins as in :func:`psi` (reference quantiles). With bin shares p and q::

        H = sqrt(1 - Σ sqrt(p_k q_k)) = sqrt(½ Σ (sqrt(p_k) - sqrt(q_k))²)

    (computed in the second form, which has no cancellation for small distances). In
    [0, 1]: 0 for identical binned distributions, 1 when they share no bin. Symmetric.

    Parameters
    ----------
    reference, current : numpy.ndarray
        Finite float64 values sorted ascending (see :func:`prepare_numeric`).
    n_bins : int, default 10
        Number of reference-quantile bins before merging tied edges.

    Returns
    -------
    MethodResult
        ``statistic=H``, ``p_value=None``; NaN (with a warning) when a side is empty.
    """
    return _binned("hellinger", categorical.hellinger, reference, current, n_bins)


def kl_div(
    reference: np.ndarray,
    current: np.ndarray,
    *,
    n_bins: int = DEFAULT_N_BINS,
    epsilon: float = DEFAULT_EPSILON,
) -> MethodResult:
    """Kullback–Leibler divergence KL(current ‖ reference) between the binned distributions.

    Bins and smoothing as in :func:`psi`. With smoothed bin shares c (current) and r
    (reference)::

        KL = Σ_k c_k · ln(c_k / r_k)        (natural log, nats)

    (``scipy.stats.entropy(c, r)``). It is the information lost when the reference
    distribution is used to describe current data, and is large when current puts mass
    where the reference had little. In [0, inf); not symmetric.

    Parameters
    ----------
    reference, current : numpy.ndarray
        Finite float64 values sorted ascending (see :func:`prepare_numeric`).
    n_bins : int, default 10
        Number of reference-quantile bins before merging tied edges.
    epsilon : float, default 1e-4
        Proportion given to an empty bin before renormalising.

    Returns
    -------
    MethodResult
        ``statistic=KL``, ``p_value=None``; NaN (with a warning) when a side is empty.
    """
    return _binned("kl_div", categorical.kl_div, reference, current, n_bins, epsilon=epsilon)


def anderson(reference: np.ndarray, current: np.ndarray) -> MethodResult:
    """k-sample Anderson–Darling test (k = 2), midrank version for data with ties.

    ``scipy.stats.anderson_ksamp([reference, current], variant="midrank")`` (Scholz &
    Stephens 1987, eq. 7): a weighted squared distance between the two empirical CDFs that
    gives more weight to the tails than KS. The statistic is scipy's *standardised*
    ``A2 = (A2kN - 1) / sigma``, so it can be negative; larger means more different.

    The p-value is interpolated from Scholz & Stephens' table and is therefore **capped
    to [0.001, 0.25]**: 0.25 means "0.25 or more", 0.001 "0.001 or less". scipy's warning
    about the cap is silenced here; decisions at thresholds between 0.001 and 0.25 (such as
    the default 0.05) are unaffected.

    Parameters
    ----------
    reference, current : numpy.ndarray
        Finite float64 values sorted ascending (see :func:`prepare_numeric`).

    Returns
    -------
    MethodResult
        ``statistic=A2``, ``p_value`` in [0.001, 0.25]. NaN (with a warning) when a side is
        empty, there are fewer than 4 values in total, or all values are equal.
    """
    _check_prepared("anderson", reference, current)
    n, m = reference.size, current.size
    if n == 0 or m == 0:
        return _degenerate("anderson", _empty_reason(n, m), has_p_value=True)
    if n + m < 4:
        return _degenerate(
            "anderson", f"needs at least 4 values in total, got {n + m}", has_p_value=True
        )
    if min(reference[0], current[0]) == max(reference[-1], current[-1]):
        return _degenerate("anderson", "all values on both sides are equal", has_p_value=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "p-value capped/floored" notices
        result = scipy.stats.anderson_ksamp([reference, current], **_ANDERSON_MIDRANK)
    return _checked("anderson", result.statistic, result.pvalue)


def cramer_von_mises(reference: np.ndarray, current: np.ndarray) -> MethodResult:
    """Two-sample Cramér–von Mises test.

    ``scipy.stats.cramervonmises_2samp(reference, current, method="auto")``: the statistic
    ``T = U / (n m (n+m)) - (4 n m - 1) / (6 (n+m))`` with ``U`` built from the ranks of
    each sample in the pooled data (Anderson 1962); it is an integrated squared gap between
    the empirical CDFs, weighting all of the range equally. The p-value is exact when both
    sides have at most 20 values, asymptotic otherwise (scipy's "auto").

    Parameters
    ----------
    reference, current : numpy.ndarray
        Finite float64 values sorted ascending (see :func:`prepare_numeric`).

    Returns
    -------
    MethodResult
        ``statistic=T`` (>= 0 up to rounding), two-sided ``p_value``. NaN (with a warning)
        when a side has fewer than 2 values.
    """
    _check_prepared("cramer_von_mises", reference, current)
    problem = _size_problem(reference.size, current.size, minimum=2)
    if problem:
        return _degenerate("cramer_von_mises", problem, has_p_value=True)
    result = scipy.stats.cramervonmises_2samp(reference, current, method="auto")
    return _checked("cramer_von_mises", result.statistic, result.pvalue)


def t_test(reference: np.ndarray, current: np.ndarray) -> MethodResult:
    """Welch's t-test for a change in mean (unequal variances).

    ``scipy.stats.ttest_ind(current, reference, equal_var=False)``::

        t = (mean_cur - mean_ref) / sqrt(s²_cur / m + s²_ref / n)

    with sample variances (``ddof=1``) and Welch–Satterthwaite degrees of freedom; the
    p-value is two-sided. Positive t means the current mean is higher. Sensitive only to
    the mean; with large samples tiny shifts become significant.

    Parameters
    ----------
    reference, current : numpy.ndarray
        Finite float64 values sorted ascending (see :func:`prepare_numeric`).

    Returns
    -------
    MethodResult
        ``statistic=t``, two-sided ``p_value``. NaN (with a warning) when a side has fewer
        than 2 values or both sides are constant.
    """
    _check_prepared("t_test", reference, current)
    problem = _size_problem(reference.size, current.size, minimum=2)
    if problem:
        return _degenerate("t_test", problem, has_p_value=True)
    if reference[0] == reference[-1] and current[0] == current[-1]:
        return _degenerate("t_test", "both sides are constant (zero variance)", has_p_value=True)
    with warnings.catch_warnings():
        # "Precision loss ... catastrophic cancellation" for a constant side: the t is still
        # well defined from the other side's variance.
        warnings.simplefilter("ignore", RuntimeWarning)
        result = scipy.stats.ttest_ind(current, reference, equal_var=False)
    return _checked("t_test", result.statistic, result.pvalue)


def mann_whitney(
    reference: np.ndarray, current: np.ndarray, *, method: str = "auto"
) -> MethodResult:
    """Mann–Whitney U test, reported as the common-language effect size.

    ``scipy.stats.mannwhitneyu(current, reference, alternative="two-sided",
    use_continuity=True)`` gives ``U`` = number of (current, reference) pairs in which the
    current value is larger, ties counting one half. The statistic reported is
    ``U / (n m)``: the probability that a random current value exceeds a random reference
    value (plus half the probability of a tie). 0.5 means no shift; 0.6 means current
    values tend to be larger. In [0, 1].

    The p-value is two-sided, with tie and continuity corrections. ``method="auto"`` uses
    the exact distribution only when there are no ties, one side has at most 8 values
    and n·m <= 10,000 — scipy's own "auto" would also go exact for, say, 5 against
    100,000 values, which takes minutes — and the normal approximation otherwise.

    Parameters
    ----------
    reference, current : numpy.ndarray
        Finite float64 values sorted ascending (see :func:`prepare_numeric`).
    method : {"auto", "exact", "asymptotic"}, default "auto"

    Returns
    -------
    MethodResult
        ``statistic=U/(n m)``, ``p_value``. NaN (with a warning) when a side is empty.
    """
    _check_prepared("mann_whitney", reference, current)
    if method not in ("auto", "exact", "asymptotic"):
        raise InputError(
            f"mann_whitney: method must be 'auto', 'exact' or 'asymptotic', got {method!r}"
        )
    n, m = reference.size, current.size
    if n == 0 or m == 0:
        return _degenerate("mann_whitney", _empty_reason(n, m), has_p_value=True)
    if method == "auto":
        small = min(n, m) <= 8 and n * m <= MANN_WHITNEY_EXACT_MAX_PAIRS
        method = "exact" if small and not _has_ties(reference, current) else "asymptotic"
    result = scipy.stats.mannwhitneyu(
        current, reference, use_continuity=True, alternative="two-sided", method=method
    )
    return _checked("mann_whitney", result.statistic / (float(n) * m), result.pvalue)


def empirical_mmd(
    reference: np.ndarray,
    current: np.ndarray,
    *,
    max_samples: int | None = 1000,
    n_permutations: int = 200,
    seed: int = 0,
) -> MethodResult:
    """Maximum mean discrepancy with a Gaussian kernel, and its permutation test.

    1. Each side longer than ``max_samples`` is replaced by ``max_samples`` values drawn
       without replacement, reference first, from ``numpy.random.default_rng(seed)``.
    2. Bandwidth by the median heuristic: ``sigma`` = median of ``|z_i - z_j|`` over all
       pairs ``i < j`` of the pooled (subsampled) values z; if that median is 0 (most
       values tie) the median of the positive distances is used. Kernel
       ``k(a, b) = exp(-(a - b)² / (2 sigma²))``.
    3. Statistic: the **biased** (V-statistic) estimate of MMD², the squared distance
       between the kernel mean embeddings::

           MMD² = mean_{i,j} k(x_i, x_j) + mean_{i,j} k(y_i, y_j) - 2 mean_{i,j} k(x_i, y_j)

       It is never negative, is 0 for identical samples and at most 2.
    4. p-value: the pooled values are randomly relabelled ``n_permutations`` times (same
       generator) and ``p = (1 + #{permuted MMD² >= observed}) / (1 + n_permutations)``,
       so the smallest possible p-value is ``1 / (1 + n_permutations)``.

    It detects any kind of difference (shape, spread, location), not only shifts. Cost is
    O((2·max_samples)² · n_permutations) whatever the column size. Because each side is
    subsampled separately, a column longer than ``max_samples`` compared with itself gives
    a small positive statistic (and a large p-value), not exactly 0.

    Parameters
    ----------
    reference, current : numpy.ndarray
        Finite float64 values sorted ascending (see :func:`prepare_numeric`).
    max_samples : int or None, default 1000
        Subsample size per side; ``None`` uses all values (quadratic memory).
    n_permutations : int, default 200
    seed : int, default 0
        Seed of the generator used for subsampling and permutations.

    Returns
    -------
    MethodResult
        ``statistic=MMD²`` in [0, 2], permutation ``p_value``. If all values are equal the
        samples are identical: statistic 0, p-value 1. NaN (with a warning) when a side is
        empty.
    """
    _check_prepared("empirical_mmd", reference, current)
    if max_samples is not None and (isinstance(max_samples, bool) or int(max_samples) < 1):
        raise InputError(
            f"empirical_mmd: max_samples must be a positive integer or None, got {max_samples!r}"
        )
    if isinstance(n_permutations, bool) or int(n_permutations) < 1:
        raise InputError(
            f"empirical_mmd: n_permutations must be a positive integer, got {n_permutations!r}"
        )
    n, m = reference.size, current.size
    if n == 0 or m == 0:
        return _degenerate("empirical_mmd", _empty_reason(n, m), has_p_value=True)
    rng = np.random.default_rng(seed)
    x = _subsample(reference, max_samples, rng)
    y = _subsample(current, max_samples, rng)
    pooled = np.concatenate((x, y))
    distances = pdist(pooled[:, None])
    if distances.size == 0 or distances.max() == 0:
        return _result(0.0, 1.0)
    bandwidth = np.median(distances)
    if bandwidth == 0:
        bandwidth = np.median(distances[distances > 0])
    # Scale first: bandwidth² can underflow to 0 for tiny values. A tiny bandwidth sends far
    # pairs to exp(-inf) = 0, which is right, so overflow is not worth a warning.
    scaled = pooled / bandwidth
    with np.errstate(over="ignore"):
        kernel = np.exp(-0.5 * np.subtract.outer(scaled, scaled) ** 2)

    n_x = x.size
    labels = np.zeros((int(n_permutations) + 1, pooled.size))
    labels[:, :n_x] = 1.0
    labels[1:] = rng.permuted(labels[1:], axis=1)
    # Row 0 is the observed split; one matrix product gives every split's block sums.
    kernel_labels = labels @ kernel  # (P+1, N)
    sum_xx = np.einsum("pi,pi->p", kernel_labels, labels)
    sum_x_all = kernel_labels.sum(axis=1)
    sum_xy = sum_x_all - sum_xx
    sum_yy = kernel.sum() - sum_xx - 2.0 * sum_xy
    n_y = pooled.size - n_x
    mmd2 = sum_xx / n_x**2 + sum_yy / n_y**2 - 2.0 * sum_xy / (n_x * n_y)
    observed = max(float(mmd2[0]), 0.0)
    # Relabellings that reproduce the observed split give the same value up to rounding.
    at_least = int(np.count_nonzero(mmd2[1:] >= observed - 1e-12))
    return _result(observed, (1 + at_least) / (1 + int(n_permutations)))


def _ks_statistic(reference: np.ndarray, current: np.ndarray) -> float:
    pooled, cdf_gaps = _merged_cdf_gaps(reference, current)
    # Between tied values the ECDFs are mid-step; only the last of each tie group counts.
    last_of_tie_group = np.append(pooled[1:] != pooled[:-1], True)
    return float(np.abs(cdf_gaps[last_of_tie_group]).max())


def _cdf_gaps(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``F_ref - F_cur`` on each interval between consecutive pooled values, and its width."""
    pooled, cdf_gaps = _merged_cdf_gaps(reference, current)
    # Inside a tie group the gap is mid-step, but the interval width there is 0.
    return cdf_gaps[:-1], np.diff(pooled)


def _merged_cdf_gaps(reference: np.ndarray, current: np.ndarray):
    """Pooled values in order, and ``F_ref - F_cur`` counting rows up to each position.

    A stable argsort of two concatenated sorted runs is a linear merge (timsort), cheaper
    than a ``searchsorted`` per pooled value; the counts are integers, so the ECDF values
    are exactly those of ``searchsorted(..., side="right") / n`` at the last of ties.
    """
    n, m = reference.size, current.size
    pooled = np.concatenate((reference, current))
    order = np.argsort(pooled, kind="stable")
    from_reference = order < n
    cdf_gaps = np.cumsum(from_reference) / n - np.cumsum(~from_reference) / m
    return pooled[order], cdf_gaps


def _binned(name, counts_method, reference, current, n_bins, **options) -> MethodResult:
    _check_prepared(name, reference, current)
    n, m = reference.size, current.size
    if n == 0 or m == 0:
        return _degenerate(name, _empty_reason(n, m), has_p_value=False, stacklevel=4)
    edges = reference_quantile_edges(reference, n_bins)
    return counts_method(bin_counts(reference, edges), bin_counts(current, edges), **options)


def _reference_scale(reference: np.ndarray, current: np.ndarray) -> tuple[float, str | None]:
    """The reference standard deviation (ddof=1), or why it cannot serve as a unit."""
    n, m = reference.size, current.size
    if n == 0 or m == 0:
        return math.nan, _empty_reason(n, m)
    if n < 2:
        return math.nan, "the reference standard deviation needs at least 2 values, got 1"
    scale = float(np.std(reference, ddof=1))
    if not scale > 0 or not math.isfinite(scale):
        # Constant, or so narrow (or wide) that its variance under- or overflows.
        return math.nan, (
            "the reference is constant (or its spread is not representable), so its standard "
            "deviation cannot be the unit"
        )
    return scale, None


def _size_problem(n: int, m: int, minimum: int) -> str | None:
    if n == 0 or m == 0:
        return _empty_reason(n, m)
    if n < minimum or m < minimum:
        return (
            f"needs at least {minimum} values on each side, got {n} in reference and {m} in current"
        )
    return None


def _empty_reason(n: int, m: int) -> str:
    sides = [side for side, size in (("reference", n), ("current", m)) if size == 0]
    return f"{' and '.join(sides)} {'has' if len(sides) == 1 else 'have'} no finite values"


def _has_ties(reference: np.ndarray, current: np.ndarray) -> bool:
    pooled = np.sort(np.concatenate((reference, current)), kind="stable")
    return bool(np.any(pooled[1:] == pooled[:-1]))


def _subsample(values: np.ndarray, max_samples: int | None, rng: np.random.Generator):
    if max_samples is None or values.size <= max_samples:
        return values
    return values[np.sort(rng.choice(values.size, size=int(max_samples), replace=False))]


def _checked(method: str, statistic: float, p_value: float) -> MethodResult:
    if np.isnan(statistic):
        return _degenerate(
            method, "scipy returned NaN for these values", has_p_value=True, stacklevel=4
        )
    return _result(statistic, p_value)
