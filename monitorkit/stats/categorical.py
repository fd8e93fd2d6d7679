"""Drift methods for categorical and boolean columns: pure functions of aligned counts.

Calling convention (every function here)::

    method(reference_counts, current_counts, **options) -> MethodResult

Both arguments are 1-D arrays of non-negative counts aligned over the same list of
categories (the union of both sides), as returned by
:func:`~monitorkit.stats.align_counts`: a category unseen in the reference has reference
count 0. Missing values are not counted in any category (the report layer reports the
missing-rate change itself). Proportions are ``counts / counts.sum()`` per side.

Degenerate input (a side with no counts, fewer than two usable categories) returns
``MethodResult(nan, nan)`` (``p_value=None`` for distances) and emits a
:class:`~monitorkit.stats.DegenerateStatisticWarning` naming the method and the reason.
The binary tests (:func:`z`, :func:`fisher_exact`) raise
:class:`~monitorkit.errors.InputError` for more than two categories.

For two categories, "the last category" is the second in ``align_counts`` order, i.e.
``True`` for a boolean column; signed statistics are "current minus reference".
"""

from __future__ import annotations

import math

import numpy as np
import scipy.stats
from scipy.special import rel_entr

from monitorkit.errors import InputError
from monitorkit.stats._inputs import _check_counts
from monitorkit.stats._results import MethodResult, _degenerate, _result
from monitorkit.stats.binning import DEFAULT_EPSILON, _check_epsilon, smoothed_proportions

CHI2_MIN_EXPECTED = 5.0
"""Categories whose smallest expected count is below this are pooled into one cell by ``chi2``."""


def chi2(
    reference_counts: np.ndarray,
    current_counts: np.ndarray,
    *,
    min_expected: float = CHI2_MIN_EXPECTED,
    correction: bool = True,
) -> MethodResult:
    """Chi-square test of homogeneity on the 2 × K table (reference row, current row).

    1. Categories seen on neither side are dropped.
    2. Categories whose smaller expected count, ``total_c · min(n, m) / (n + m)``, is below
       ``min_expected`` (5) are pooled into one "rare" cell, so the chi-square
       approximation holds while rare and new categories (e.g. seen only in current) still
       count. The pooled cell itself is kept even if its expected count is still small.
    3. ``scipy.stats.chi2_contingency`` on the resulting table, which applies Yates'
       continuity correction only when the table is 2 × 2 (and ``correction`` is True).

    The statistic is Pearson's ``Σ (observed - expected)² / expected`` with K - 1 degrees of
    freedom; the p-value is the chance of a value at least this large if both sides came
    from the same category distribution. It grows with sample size, so read it with an
    effect size such as :func:`tvd` or :func:`psi`.

    Parameters
    ----------
    reference_counts, current_counts : numpy.ndarray
        Counts per category, aligned (see :func:`align_counts`).
    min_expected : float, default 5
        Pooling threshold on the expected count.
    correction : bool, default True
        Yates' continuity correction for a 2 × 2 table.

    Returns
    -------
    MethodResult
        ``statistic`` = chi-square, ``p_value``. NaN (with a warning) when a side has no
        counts or fewer than 2 cells remain after dropping and pooling.

    Examples
    --------
    >>> result = chi2(np.array([50, 50]), np.array([30, 70]), correction=False)
    >>> round(result.statistic, 6)  # expected (40, 60) per row: 2 · (10²/40 + 10²/60)
    8.333333
    """
    reference, current = _check_counts("chi2", reference_counts, current_counts)
    n, m = reference.sum(), current.sum()
    if n == 0 or m == 0:
        return _degenerate("chi2", _empty_reason(n, m), has_p_value=True)
    seen = (reference + current) > 0
    reference, current = reference[seen], current[seen]
    smaller_expected = (reference + current) * min(n, m) / (n + m)
    rare = smaller_expected < min_expected
    if rare.any():
        reference = np.append(reference[~rare], reference[rare].sum())
        current = np.append(current[~rare], current[rare].sum())
    if reference.size < 2:
        return _degenerate(
            "chi2",
            "fewer than 2 categories remain after dropping unseen ones and pooling those with "
            f"expected count below {min_expected:g}",
            has_p_value=True,
        )
    result = scipy.stats.chi2_contingency(np.vstack((reference, current)), correction=correction)
    return _result(result.statistic, result.pvalue)


def z(reference_counts: np.ndarray, current_counts: np.ndarray) -> MethodResult:
    """Two-proportion z-test for a binary column (pooled variance, two-sided).

    With ``p_ref`` and ``p_cur`` the share of the last category (``True`` for booleans) on
    each side, n and m the side totals and ``p`` the pooled share::

        z = (p_cur - p_ref) / sqrt(p (1 - p) (1/n + 1/m)),   p_value = 2 · Φ(-|z|)

    Positive z means the last category became more frequent. It is the square root of the
    uncorrected 2 × 2 chi-square statistic, with a sign.

    Returns
    -------
    MethodResult
        ``statistic=z``, ``p_value``. NaN (with a warning) when a side has no counts or only
        one category occurs.

    Raises
    ------
    InputError
        If there are more than 2 categories.

    Examples
    --------
    >>> round(z(np.array([50, 50]), np.array([30, 70])).statistic, 6)  # 0.2 / sqrt(0.6·0.4·0.02)
    2.886751
    """
    reference, current = _binary_counts("z", reference_counts, current_counts)
    n, m = reference.sum(), current.sum()
    if n == 0 or m == 0:
        return _degenerate("z", _empty_reason(n, m), has_p_value=True)
    pooled = (reference[-1] + current[-1]) / (n + m)
    if reference.size < 2 or pooled in (0.0, 1.0):
        return _degenerate("z", "only one category occurs on either side", has_p_value=True)
    statistic = (current[-1] / m - reference[-1] / n) / math.sqrt(
        pooled * (1.0 - pooled) * (1.0 / n + 1.0 / m)
    )
    return _result(statistic, 2.0 * scipy.stats.norm.sf(abs(statistic)))


def fisher_exact(reference_counts: np.ndarray, current_counts: np.ndarray) -> MethodResult:
    """Fisher's exact test on the 2 × 2 table, for binary columns with small counts.

    ``scipy.stats.fisher_exact`` (two-sided) on ``[[cur_last, cur_first], [ref_last,
    ref_first]]``. The statistic is the sample odds ratio of the last category (``True``)
    in current versus reference::

        OR = (cur_last / cur_first) / (ref_last / ref_first)

    1 means no change, above 1 the last category became more likely; it can be 0 or inf
    when a cell is 0. The p-value is exact (hypergeometric), valid at any sample size.

    Returns
    -------
    MethodResult
        ``statistic=OR`` in [0, inf], ``p_value``. NaN (with a warning) when a side has no
        counts or only one category occurs.

    Raises
    ------
    InputError
        If there are more than 2 categories, or the counts are not whole numbers.
    """
    reference, current = _binary_counts("fisher_exact", reference_counts, current_counts)
    if np.any(reference != np.round(reference)) or np.any(current != np.round(current)):
        raise InputError("fisher_exact: counts must be whole numbers; use align_counts")
    n, m = reference.sum(), current.sum()
    if n == 0 or m == 0:
        return _degenerate("fisher_exact", _empty_reason(n, m), has_p_value=True)
    if reference.size < 2 or np.any(reference + current == 0):
        return _degenerate(
            "fisher_exact", "only one category occurs on either side", has_p_value=True
        )
    table = np.array([[current[1], current[0]], [reference[1], reference[0]]], dtype=np.int64)
    result = scipy.stats.fisher_exact(table, alternative="two-sided")
    return _result(result.statistic, result.pvalue)


def psi(
    reference_counts: np.ndarray, current_counts: np.ndarray, *, epsilon: float = DEFAULT_EPSILON
) -> MethodResult:
    """Population stability index over categories (or bins).

    Categories empty on both sides are dropped; with ``r_c`` and ``c_c`` the reference and
    current shares, zeros replaced by ``epsilon`` (1e-4) and renormalised
    (:func:`smoothed_proportions`)::

        PSI = Σ_c (c_c - r_c) · ln(c_c / r_c)        (natural log)

    Common reading: below 0.1 no meaningful change, 0.1–0.2 moderate, 0.2 and above a
    significant shift. A category that is new in current (reference share 0) contributes
    about ``c · ln(c / 1e-4)``, so new categories weigh heavily. In [0, inf); symmetric.

    Examples
    --------
    >>> result = psi(np.array([50, 50]), np.array([75, 25]))
    >>> round(result.statistic, 6) == round(0.25 * math.log(1.5) + 0.25 * math.log(2), 6)
    True
    """
    reference, current = _check_counts("psi", reference_counts, current_counts)
    epsilon = _check_epsilon(epsilon)
    problem = _empty_problem(reference, current)
    if problem:
        return _degenerate("psi", problem, has_p_value=False)
    seen = (reference + current) > 0
    r = smoothed_proportions(reference[seen], epsilon)
    c = smoothed_proportions(current[seen], epsilon)
    return _result(max(0.0, float(np.sum((c - r) * np.log(c / r)))))


def kl_div(
    reference_counts: np.ndarray, current_counts: np.ndarray, *, epsilon: float = DEFAULT_EPSILON
) -> MethodResult:
    """Kullback–Leibler divergence KL(current ‖ reference) over categories (or bins).

    Categories empty on both sides are dropped, zeros smoothed as in :func:`psi`; with
    shares c (current) and r (reference)::

        KL = Σ_c c_c · ln(c_c / r_c)        (natural log, nats; scipy.stats.entropy(c, r))

    The information lost when the reference distribution is used to describe current data:
    large when current puts mass where the reference had little (new categories). In
    [0, inf); not symmetric (the direction is current relative to reference).
    """
    reference, current = _check_counts("kl_div", reference_counts, current_counts)
    epsilon = _check_epsilon(epsilon)
    problem = _empty_problem(reference, current)
    if problem:
        return _degenerate("kl_div", problem, has_p_value=False)
    seen = (reference + current) > 0
    r = smoothed_proportions(reference[seen], epsilon)
    c = smoothed_proportions(current[seen], epsilon)
    return _result(max(0.0, float(np.sum(rel_entr(c, r)))))


def jensen_shannon(reference_counts: np.ndarray, current_counts: np.ndarray) -> MethodResult:
    """Jensen–Shannon distance (base 2) between the category distributions.

    With shares p (reference), q (current) and m = (p + q) / 2, no smoothing needed
    (0 · ln 0 = 0)::

        JS = sqrt( (½ Σ p ln(p/m) + ½ Σ q ln(q/m)) / ln 2 )

    as ``scipy.spatial.distance.jensenshannon(p, q, base=2)``, with rounding clipped so
    identical inputs give exactly 0. In [0, 1]: 0 identical, 1 no category in common.
    Symmetric, and a metric.
    """
    reference, current = _check_counts("jensen_shannon", reference_counts, current_counts)
    problem = _empty_problem(reference, current)
    if problem:
        return _degenerate("jensen_shannon", problem, has_p_value=False)
    p, q = reference / reference.sum(), current / current.sum()
    mixture = (p + q) / 2.0
    divergence = (np.sum(rel_entr(p, mixture)) + np.sum(rel_entr(q, mixture))) / (2 * math.log(2))
    return _result(math.sqrt(min(1.0, max(0.0, float(divergence)))))


def hellinger(reference_counts: np.ndarray, current_counts: np.ndarray) -> MethodResult:
    """Hellinger distance between the category distributions.

    With shares p and q::

        H = sqrt(1 - Σ sqrt(p_c q_c)) = sqrt(½ Σ (sqrt(p_c) - sqrt(q_c))²)

    computed in the second form (no cancellation for small distances). In [0, 1]:
    0 identical, 1 no category in common. Symmetric, and a metric.
    """
    reference, current = _check_counts("hellinger", reference_counts, current_counts)
    problem = _empty_problem(reference, current)
    if problem:
        return _degenerate("hellinger", problem, has_p_value=False)
    root_gap = np.sqrt(reference / reference.sum()) - np.sqrt(current / current.sum())
    return _result(math.sqrt(min(1.0, 0.5 * float(np.dot(root_gap, root_gap)))))


def l_infinity(reference_counts: np.ndarray, current_counts: np.ndarray) -> MethodResult:
    """Largest change in any category's share: ``max_c |q_c - p_c|``.

    p and q are the reference and current shares. 0.1 means some category's share moved
    by 10 percentage points. In [0, 1]; symmetric.

    Examples
    --------
    >>> l_infinity(np.array([50, 30, 20]), np.array([20, 30, 50])).statistic  # |0.2 - 0.5|
    0.3
    """
    reference, current = _check_counts("l_infinity", reference_counts, current_counts)
    problem = _empty_problem(reference, current)
    if problem:
        return _degenerate("l_infinity", problem, has_p_value=False)
    gaps = np.abs(current / current.sum() - reference / reference.sum())
    return _result(float(gaps.max()))


def tvd(reference_counts: np.ndarray, current_counts: np.ndarray) -> MethodResult:
    """Total variation distance: ``½ Σ_c |q_c - p_c|``.

    p and q are the reference and current shares. It is the share of rows that would have
    to change category to turn one distribution into the other: 0.1 means 10 %. In [0, 1];
    symmetric.

    Examples
    --------
    >>> round(tvd(np.array([50, 30, 20]), np.array([20, 30, 50])).statistic, 12)  # (0.3+0+0.3)/2
    0.3
    """
    reference, current = _check_counts("tvd", reference_counts, current_counts)
    problem = _empty_problem(reference, current)
    if problem:
        return _degenerate("tvd", problem, has_p_value=False)
    gaps = np.abs(current / current.sum() - reference / reference.sum())
    return _result(min(1.0, 0.5 * float(gaps.sum())))


NULL_SEED = 20_260_101
"""Seed of the generator behind :func:`expected_tvd_under_no_change` (fixed: same counts, same
answer)."""

NULL_NORMAL_MIN_EXPECTED = 20.0
"""Categories expecting at least this many rows on the smaller side (of the category and of the
rest) use the normal approximation in :func:`expected_tvd_under_no_change`; rarer ones are drawn."""

NULL_DRAW_CELLS = 20_000
"""Draws that :func:`expected_tvd_under_no_change` aims at (draws × rare categories), within
:data:`NULL_MIN_DRAWS` … :data:`NULL_MAX_DRAWS` draws of every rare category."""

NULL_MIN_DRAWS = 10
NULL_MAX_DRAWS = 1_000


def expected_tvd_under_no_change(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """Expected total variation distance if the same rows had been split at random.

    The sampling-noise floor of :func:`tvd`. With n and m the side totals, ``N = n + m`` and
    ``t_c = r_c + c_c`` the pooled count of category c, "no change" is the permutation null: the
    N rows, whatever their category, split at random into n reference and m current rows. Then
    ``R_c`` (the reference rows of category c) is hypergeometric — ``t_c`` rows of the category
    among N, n of them drawn — ``C_c = t_c - R_c``, and by linearity of expectation::

        E = ½ Σ_c E|C_c / m - R_c / n|

    This is exactly the expectation of :func:`tvd` given the pooled counts when nothing
    changed, so ``tvd - E`` has mean 0 then, however rare the categories. (Drawing both sides
    from the pooled shares instead, with replacement, understates the noise of rare categories,
    whose shares the pooled counts only estimate.) With ``p_c = t_c / N``, each term is
    evaluated as follows:

    * when ``λ_c = min(n, m) · min(p_c, 1 - p_c) >= 20`` (:data:`NULL_NORMAL_MIN_EXPECTED`), by
      the normal approximation ``sqrt(2/π · p_c (1 - p_c) (1/n + 1/m) · N / (N - 1))``, which
      overstates the exact hypergeometric sum by less than 0.7% there;
    * for rarer categories, where the normal approximation fails (it overstates the term by
      9–13% at ``λ = 1``), as the mean of ``|C/m - R/n|`` over D seeded draws
      (``numpy.random.default_rng(NULL_SEED).hypergeometric``, :data:`NULL_SEED`), with
      ``D = ceil(20,000 / number of rare categories)`` clipped to 10…1,000. What is drawn is
      the smaller side's count (the larger side's is the rest), and the rare categories are
      drawn in increasing order of ``t_c``: the result depends on the counts only — not on the
      order of the categories, nor on which side is called reference.

    Deterministic, and ``O(categories)``: at most ``max(20,000, 10 · K)`` hypergeometric draws.
    Counts that are not whole numbers (sketch estimates) are rounded first.

    Parameters
    ----------
    reference_counts, current_counts : numpy.ndarray
        Counts per category, aligned (see :func:`align_counts`).

    Returns
    -------
    float
        E in [0, 1]; 0 when all rows are in one category; NaN (with a warning) when a side has
        no counts.

    Examples
    --------
    Two categories, 10,000 rows a side, pooled share 0.3 (the normal approximation):

    >>> noise = expected_tvd_under_no_change(np.array([3_000, 7_000]), np.array([3_000, 7_000]))
    >>> round(noise / math.sqrt(2 / math.pi * 0.3 * 0.7 * (2 / 10_000) * 20_000 / 19_999), 12)
    1.0
    """
    reference, current = _check_counts(
        "expected_tvd_under_no_change", reference_counts, current_counts
    )
    problem = _empty_problem(reference, current)
    if problem:
        return _degenerate("expected_tvd_under_no_change", problem, has_p_value=False).statistic
    pooled = np.rint(reference + current).astype(np.int64)
    # Canonical order (by pooled count): the draws never depend on the order of categories.
    pooled = np.sort(pooled[pooled > 0])
    total_rows = int(pooled.sum())
    n = int(min(max(round(float(reference.sum())), 1), total_rows - 1)) if total_rows > 1 else 1
    m = total_rows - n
    if m < 1 or pooled.size < 2:
        return 0.0  # one row, or every row in one category: any split has the same shares
    shares = pooled / total_rows
    expected_rows = min(n, m) * np.minimum(shares, 1.0 - shares)
    common = expected_rows >= NULL_NORMAL_MIN_EXPECTED
    share = shares[common]
    variance = share * (1.0 - share) * (1.0 / n + 1.0 / m) * total_rows / (total_rows - 1)
    total = float(np.sum(np.sqrt(2.0 / math.pi * variance)))
    rare = pooled[~common]
    if rare.size:
        draws = int(
            min(NULL_MAX_DRAWS, max(NULL_MIN_DRAWS, math.ceil(NULL_DRAW_CELLS / rare.size)))
        )
        rng = np.random.default_rng(NULL_SEED)
        smaller = min(n, m)  # the side drawn: the same draws whichever side is the reference
        larger = total_rows - smaller
        drawn = rng.hypergeometric(rare, total_rows - rare, smaller, size=(draws, rare.size))
        gaps = np.abs(drawn / smaller - (rare - drawn) / larger)
        total += float(gaps.sum()) / draws
    return min(1.0, 0.5 * total)


def debiased_tvd(reference_counts: np.ndarray, current_counts: np.ndarray) -> MethodResult:
    """Total variation distance with its sampling noise removed: the share of rows that moved.

    ::

        debiased = max(0, tvd(r, c) - expected_tvd_under_no_change(r, c))      (r, c: the counts)

    :func:`tvd` of two samples is above 0 even when nothing changed, and the more so the more
    categories and the fewer rows: 0.034 with 1,000 categories at 100,000 rows a side, 0.147 with
    5,000 categories at 20,000 (Zipf-like shares). Subtracting its expectation when nothing
    changed (the same rows split at random between the sides; see
    :func:`expected_tvd_under_no_change`) leaves the part a real change explains: about 0 when
    nothing changed, about 0.01 when 1% of the rows moved to another category. Clipped at 0, so
    ``0 <= debiased <= tvd <= 1``. Deterministic; used as the effect size of categorical and
    boolean columns by the drift report.

    A change concentrated in categories whose shift exceeds their noise is recovered in full.
    A change spread thinly over many categories, each moving less than its own noise, is
    partly absorbed by that noise: the debiased value then understates it (the same limit
    holds for any estimate of this distance from samples).

    Returns
    -------
    MethodResult
        ``statistic`` = the debiased distance, ``p_value=None``. NaN (with a warning) when a
        side has no counts.

    Examples
    --------
    >>> debiased_tvd(np.array([500, 500]), np.array([500, 500])).statistic  # nothing moved
    0.0
    >>> moved = debiased_tvd(np.array([5_000, 5_000]), np.array([6_000, 4_000])).statistic
    >>> 0.09 < moved < 0.1  # 10% of rows moved; the noise floor was about 0.006
    True
    """
    reference, current = _check_counts("debiased_tvd", reference_counts, current_counts)
    problem = _empty_problem(reference, current)
    if problem:
        return _degenerate("debiased_tvd", problem, has_p_value=False)
    observed = tvd(reference, current).statistic
    return _result(max(0.0, observed - expected_tvd_under_no_change(reference, current)))


def _binary_counts(method: str, reference_counts, current_counts):
    reference, current = _check_counts(method, reference_counts, current_counts)
    if reference.size > 2:
        raise InputError(
            f"{method} compares two proportions and needs at most 2 categories (a boolean "
            f"column), got {reference.size}; use chi2 for categorical columns"
        )
    return reference, current


def _empty_problem(reference: np.ndarray, current: np.ndarray) -> str | None:
    n, m = reference.sum(), current.sum()
    return _empty_reason(n, m) if n == 0 or m == 0 else None


def _empty_reason(n: float, m: float) -> str:
    sides = [side for side, total in (("reference", n), ("current", m)) if total == 0]
    return f"{' and '.join(sides)} {'has' if len(sides) == 1 else 'have'} no counted values"
