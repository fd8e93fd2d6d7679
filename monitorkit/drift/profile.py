"""Drift from profiles: a reference :class:`~monitorkit.profiles.Profile` (no raw rows).

Numeric columns, when the current rows are at hand (a DataFrame, or a log on disk read batch
by batch), are compared exactly with the reference's KLL sketch; only the reference is sketched.

The grid
    ``g_1 < … < g_K``: the distinct values the reference sketch retains, the only points where
    its step CDF ``F_ref`` moves (:meth:`~monitorkit.profiles.NumericProfile.sketch_steps`;
    at most about 600 for ``k = 200``, fewer with ties; every distinct value of a column of at
    most 200 values).
    Current values are counted on the edges ``g_i`` and ``nextafter(g_i, +inf)`` — and on the
    reference's own ``histogram_edges``, if it has some — with the exact, mergeable fixed-edge
    histogram of :class:`~monitorkit.profiles.NumericProfile` (:func:`grid_edges`); no sketch
    of current is built. That gives ``F_cur(g_i)`` and its left limit ``F_cur(g_i-)`` exactly,
    ties included.
The statistic
    ``D = sup_x |F_ref(x) - F_cur(x)|``, exactly: ``F_ref`` is flat between grid points, where
    ``F_cur`` only rises, so the supremum is the largest of ``|F_ref(g_i) - F_cur(g_i)|`` and
    ``|F_ref(g_i-) - F_cur(g_i-)|`` (with ``F_ref(g_i-) = F_ref(g_{i-1})``, 0 for ``i = 1``).
    It is the KS distance of the current rows to the reference *sketch*, whose CDF is within
    ``ε`` of the reference rows' own (with 99% confidence), so ``D`` is within ``ε`` of the
    exact two-sample KS distance. ``ε`` is
    :meth:`~monitorkit.profiles.NumericProfile.rank_error`: 0.0165 for ``k = 200``
    (DataSketches' 99%-confidence bound on a difference of two ranks, which covers the largest
    error of a single rank with margin: at 200,000 rows that largest error averaged 0.008 and
    never passed 0.012 in 300 sketches), or 0 when the sketch holds every value.
    ``D`` is the effect size (judged by the rule's ``min_effect``) and the ``ks`` statistic.
The p-value
    ``kstwobign.sf(max(0, D - ε) · sqrt(n m / (n + m)))``: Kolmogorov's limiting distribution at
    the effective sample size, with n and m the exact counts of finite values. Since
    ``D - ε`` is at most the exact two-sample distance whenever the sketch is within its bound,
    the test is conservative: with no change, ``P(p < α) <= α`` up to the (below 1%) chance
    that the sketch exceeds its bound (Kolmogorov's distribution itself errs on the safe side
    at finite sizes and with ties); in practice p-values are near 1 unless ``D`` is well above
    ``ε``. The price is power: ``D`` is significant at level a only above
    ``ε + kstwobign.isf(a) / sqrt(n m / (n + m))`` — at a = 0.05 about 0.021 with 200,000 rows
    a side (the rule asks for ``D >= 0.03`` anyway), 0.044 with 5,000 (0.027 from raw rows).
Determinism
    Everything above is a function of the reference's stored sketch and the current rows, so a
    report against a given profile or baseline (in memory or loaded) and given current data is
    the same bit for bit on every run, whether current is a DataFrame or a log on disk.
When current is a profile too
    (a :class:`~monitorkit.Profile` passed as current), both CDFs are sketch step functions;
    ``D`` is their exact supremum distance and ``ε`` the sum of both sketches' errors.

Binned methods (``psi``, ``jensen_shannon``, ``hellinger``, ``kl_div``) use the reference's
fixed-edge histogram and the current counts on the same edges when the reference has
``histogram_edges``, else 10 bins at the reference sketch's deciles (reference counts from its
sketch, current counts exact on the grid). Categorical and boolean columns use the exact
category counts (or the frequent-items estimates past 10,000 categories); their effect size is
the total variation distance less its expectation when nothing changed
(:func:`~monitorkit.stats.categorical.debiased_tvd`). Missing rates are exact. The same
:class:`~monitorkit.drift.DecisionRule` and :func:`~monitorkit.drift.judge_column` apply.

:func:`drift_from_profile` is what :class:`~monitorkit.DriftReport` runs when the reference
is a :class:`~monitorkit.Profile` or a :class:`~monitorkit.Baseline` without a sample.
"""

from __future__ import annotations

import functools
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import scipy.stats

from monitorkit import stats
from monitorkit.drift.columns import (
    HISTOGRAM_BINS,
    absent_reason,
    categorical_distribution,
    lookup_option,
    rank,
)
from monitorkit.drift.over_time import untested_window, window_tests
from monitorkit.drift.results import (
    ColumnDrift,
    DecisionRule,
    Distribution,
    DriftResult,
    MultivariateDrift,
    WindowDrift,
    optional_float,
)
from monitorkit.drift.rule import judge_column, missing_rate_p_value
from monitorkit.errors import ColumnSpecError, InputError
from monitorkit.profiles import CategoricalProfile, NumericProfile, Profile, profile, profile_frame
from monitorkit.schema import ResolvedSpec, is_sql_source, read_frame
from monitorkit.windows import WindowWarning, assign_windows

BINNED_METHODS = ("psi", "jensen_shannon", "hellinger", "kl_div")
PROFILE_METHODS = {"numeric": ("ks", *BINNED_METHODS), "categorical": None, "boolean": None}


@functools.lru_cache(maxsize=1024)
def grid_edges(reference: NumericProfile) -> tuple[float, ...]:
    """The histogram edges on which current values are counted against ``reference``.

    Each distinct value ``g`` the reference sketch retains and ``np.nextafter(g, inf)`` (so the
    counts hold the exact number of current values ``< g`` and ``<= g``), and the reference's
    own fixed histogram edges (so binned methods get exact counts on them); finite, ascending,
    unique. See the module docstring.
    """
    points, _ = reference.sketch_steps()
    edges = np.concatenate([points, np.nextafter(points, np.inf), np.asarray(reference.edges)])
    return tuple(np.unique(edges[np.isfinite(edges)]).tolist())


def current_histogram_edges(reference: Profile) -> dict[str, tuple[float, ...]]:
    """:func:`grid_edges` of every numeric column of ``reference``: the ``histogram_edges`` to
    summarise current rows with (``profile_frame(rows, spec, edges, quantile_sketch=False)``)."""
    return {
        name: grid_edges(column)
        for name, column in reference.columns.items()
        if isinstance(column, NumericProfile)
    }


def on_reference_grid(reference: NumericProfile, current: NumericProfile) -> bool:
    """Whether ``current`` was counted on ``reference``'s grid (see :func:`grid_edges`)."""
    return bool(current.edges) and current.edges == grid_edges(reference)


def _count_below(current: NumericProfile, points: np.ndarray) -> np.ndarray:
    """Exact number of current values ``< p`` for each point ``p``, an edge of its histogram
    (or ``+inf``)."""
    edges = np.asarray(current.edges)
    positions = np.searchsorted(edges, points)
    inside = positions < edges.size
    if not np.array_equal(edges[positions[inside]], points[inside]) or np.any(
        points[~inside] != np.inf
    ):
        raise InputError("internal: counts asked for at a point that is not a histogram edge.")
    return np.cumsum(current.histogram)[positions]


def _step_cdf(points: np.ndarray, ranks: np.ndarray, at: np.ndarray) -> np.ndarray:
    """A sketch's step CDF (:meth:`~monitorkit.profiles.NumericProfile.sketch_steps`) at ``at``."""
    return np.concatenate([[0.0], ranks])[np.searchsorted(points, at, side="right")]


def numeric_ks(reference: NumericProfile, current: NumericProfile) -> stats.MethodResult:
    """KS distance and conservative p-value of a numeric column against a reference profile.

    Exact on the reference's grid when current was counted there, else between two sketches
    (see the module docstring for both definitions). NaN when either side has no values.
    """
    if reference.count == 0 or current.count == 0:
        return stats.MethodResult(math.nan, math.nan)
    points, ranks = reference.sketch_steps()
    if on_reference_grid(reference, current):
        at = _count_below(current, np.nextafter(points, np.inf)) / current.count
        before = _count_below(current, points) / current.count
        left = np.concatenate([[0.0], ranks[:-1]])
        distance = float(max(np.max(np.abs(ranks - at)), np.max(np.abs(left - before))))
        error = reference.rank_error()
    elif current.has_sketch:
        other_points, other_ranks = current.sketch_steps()
        union = np.union1d(points, other_points)
        gaps = _step_cdf(points, ranks, union) - _step_cdf(other_points, other_ranks, union)
        distance = float(np.max(np.abs(gaps)))
        error = reference.rank_error() + current.rank_error()
    else:
        raise InputError(
            "a numeric column of current was profiled without a quantile sketch and not on the "
            "reference's grid; profile it with quantile_sketch=True, or pass the current rows."
        )
    effective_n = reference.count * current.count / (reference.count + current.count)
    shrunk = max(0.0, distance - error)
    p_value = float(scipy.stats.kstwobign.sf(shrunk * math.sqrt(effective_n)))
    return stats.MethodResult(distance, p_value)


def binned_counts(
    reference: NumericProfile, current: NumericProfile, n_bins: int = stats.DEFAULT_N_BINS
) -> tuple[np.ndarray, np.ndarray]:
    """Counts of both sides for the binned methods.

    The reference's exact fixed-edge histogram, when it has one, against current's counts on
    the same edges; else ``n_bins`` bins at the reference sketch's quantiles, reference counts
    from its sketch. Current counts are exact when current was counted on the reference's
    grid, else (a current profile) from its sketch. One bin when a side has no values (the
    methods then return NaN).
    """
    if reference.count == 0 or current.count == 0:
        return np.array([reference.count], float), np.array([current.count], float)
    if reference.edges and reference.edges == current.edges:
        return np.asarray(reference.histogram, float), np.asarray(current.histogram, float)
    exact = on_reference_grid(reference, current)
    if reference.edges and exact:
        below = _count_below(current, np.asarray(reference.edges))
        counts = np.diff(np.concatenate([[0], below, [current.count]]))
        return np.asarray(reference.histogram, float), counts.astype(float)
    inner = np.unique(reference.quantiles(np.linspace(0, 1, n_bins + 1)[1:-1]))
    reference_cdf = np.concatenate([[0.0], reference.cdf(inner), [1.0]])
    reference_counts = np.diff(reference_cdf) * reference.count
    if exact:
        below = _count_below(current, np.nextafter(inner, np.inf))
        return reference_counts, np.diff(np.concatenate([[0], below, [current.count]])).astype(
            float
        )
    current_cdf = np.concatenate([[0.0], current.cdf(inner), [1.0]])
    return reference_counts, np.diff(current_cdf) * current.count


def category_counts(
    reference: CategoricalProfile, current: CategoricalProfile
) -> tuple[list[str], np.ndarray, np.ndarray]:
    ref, cur = reference.category_counts(), current.category_counts()
    labels = list(ref) + [c for c in cur if c not in ref]
    return (
        labels,
        np.array([ref.get(c, 0) for c in labels], dtype=float),
        np.array([cur.get(c, 0) for c in labels], dtype=float),
    )


def compare_column(
    name: str,
    reference: NumericProfile | CategoricalProfile,
    current: NumericProfile | CategoricalProfile,
    role: str,
    method: str | None,
    threshold: float | None,
    rule: Any,
):
    """The unjudged :class:`~monitorkit.drift.ColumnDrift` of one profiled column."""
    kind = reference.kind
    default = method is None and threshold is None
    name_of_method = method or ("ks" if kind == "numeric" else "chi2")
    spec = stats.get_method(name_of_method, kind=kind)
    allowed = PROFILE_METHODS[kind]
    if allowed is not None and spec.name not in allowed:
        raise InputError(
            f"method '{spec.name}' needs the raw values of column '{name}', but the reference "
            f"is a profile; from profiles numeric columns support: {', '.join(allowed)}. Keep a "
            "sample in the baseline (sample_rows=…) for exact tests."
        )
    if threshold is None and not default:
        threshold = spec.default_threshold
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.DegenerateStatisticWarning)
        if kind == "numeric":
            ks = numeric_ks(reference, current)
            if spec.name == "ks":
                result = ks
            else:
                ref_counts, cur_counts = binned_counts(reference, current)
                result = spec.func_for("categorical")(ref_counts, cur_counts)
            effect = ks.statistic
            distribution = sketch_distribution(reference, current)
            unseen = 0
        else:
            labels, ref_counts, cur_counts = category_counts(reference, current)
            ref_counts, cur_counts = ref_counts.astype(np.int64), cur_counts.astype(np.int64)
            result = spec.func_for(kind)(ref_counts, cur_counts)
            effect = stats.categorical.debiased_tvd(ref_counts, cur_counts).statistic
            distribution = _categorical_distribution(labels, ref_counts, cur_counts)
            unseen = int(
                sum(1 for c in current.category_counts() if c not in reference.category_counts())
            )
    missing_p = missing_rate_p_value(
        reference.missing, reference.rows, current.missing, current.rows
    )
    column = ColumnDrift(
        column=name,
        kind=kind,
        role=role,
        method=spec.name,
        statistic=optional_float(result.statistic),
        p_value=optional_float(result.p_value),
        threshold=threshold,
        effect_size=optional_float(effect),
        reference_count=int(reference.count),
        current_count=int(current.count),
        reference_missing_rate=reference.missing / reference.rows if reference.rows else 0.0,
        current_missing_rate=current.missing / current.rows if current.rows else 0.0,
        missing_p_value=missing_p,
        reference_invalid=getattr(reference, "invalid", 0),
        current_invalid=getattr(current, "invalid", 0),
        unseen_categories=unseen,
        distribution=Distribution(**distribution),
        decision="rule" if default else "method",
        values_drifted=False if default else bool(spec.is_drift(result, threshold)),
    )
    return judge_column(column, rule)


def sketch_distribution(reference: NumericProfile, current: NumericProfile) -> dict:
    """Shares of both sides in 20 equal bins over the pooled 0.5%–99.5% range, for display.

    From a side's sketch, or for a side without one (current counted on the reference's grid)
    from its exact histogram, linear between its edges and its exact extremes."""
    if reference.count == 0 and current.count == 0:
        return {"bins": (), "reference": (), "current": ()}
    sides = [s for s in (reference, current) if s.count]
    low = min(float(_display_quantiles(s, np.array([0.005]))[0]) for s in sides)
    high = max(float(_display_quantiles(s, np.array([0.995]))[0]) for s in sides)
    if not high > low:
        high = low + 1.0
    edges = np.linspace(low, high, HISTOGRAM_BINS + 1)

    def shares(side: NumericProfile) -> tuple[float, ...]:
        if side.count == 0:
            return tuple(0.0 for _ in range(HISTOGRAM_BINS))
        inner = side.cdf(edges[1:-1]) if side.has_sketch else _histogram_cdf(side, edges[1:-1])
        return tuple(np.diff(np.concatenate([[0.0], inner, [1.0]])).tolist())

    return {
        "bins": tuple(edges.tolist()),
        "reference": shares(reference),
        "current": shares(current),
    }


def _histogram_knots(side: NumericProfile) -> tuple[np.ndarray, np.ndarray]:
    """(values, share below each): the minimum, the histogram edges inside the range, the
    maximum — the points where a histogram-only profile's CDF is known."""
    edges = np.asarray(side.edges)
    inside = (edges > side.minimum) & (edges < side.maximum)
    below = np.cumsum(side.histogram)[: edges.size][inside] / side.count if edges.size else []
    values = np.concatenate([[side.minimum], edges[inside], [side.maximum]])
    return values, np.concatenate([[0.0], below, [1.0]])


def _histogram_cdf(side: NumericProfile, points: np.ndarray) -> np.ndarray:
    if not side.maximum > side.minimum:
        return (points >= side.minimum).astype(float)
    values, shares = _histogram_knots(side)
    return np.interp(points, values, shares)


def _display_quantiles(side: NumericProfile, ranks: np.ndarray) -> np.ndarray:
    if side.has_sketch:
        return side.quantiles(ranks)
    values, shares = _histogram_knots(side)
    return np.interp(ranks, shares, values)


def _categorical_distribution(labels: list[str], ref: np.ndarray, cur: np.ndarray) -> dict:
    distribution = categorical_distribution(labels, ref, cur)
    return {
        "bins": distribution.bins,
        "reference": distribution.reference,
        "current": distribution.current,
    }


def compare_profiles(
    reference: Profile,
    current: Profile,
    *,
    method: str | Mapping[str, str] | None,
    threshold: float | Mapping[str, float] | None,
    rule: Any,
    columns: list[str] | None = None,
) -> list:
    """Column results for every column the reference profile holds (skipped ones too)."""
    results = []
    names = columns or list(reference.columns)
    for name in names:
        info = reference.spec[name] if name in reference.spec else None
        role = info.role if info is not None else "feature"
        if name not in current.columns:
            results.append(
                ColumnDrift(
                    column=name,
                    kind=reference[name].kind,
                    role=role,
                    method=None,
                    statistic=None,
                    p_value=None,
                    threshold=None,
                    skipped=absent_reason(name, role, "current"),
                )
            )
            continue
        kind = reference[name].kind
        results.append(
            compare_column(
                name,
                reference[name],
                current[name],
                role,
                lookup_option(method, name, kind),
                lookup_option(threshold, name, kind),
                rule,
            )
        )
    return results


def profile_of(data: Any) -> Any:
    """The Profile of a Profile or a Baseline; None for raw data."""
    if isinstance(data, Profile):
        return data
    profile_attribute = getattr(data, "profile", None)
    return profile_attribute if isinstance(profile_attribute, Profile) else None


def drift_from_profile(
    reference: Any,
    current: Any,
    *,
    method: Any,
    threshold: Any,
    by: str | int | None,
    columns: Sequence[str] | None,
    rule: DecisionRule,
) -> DriftResult:
    """Drift against a reference profile (see the module docstring)."""

    current_profile = profile_of(current)
    frame = None
    # Current rows (and each window's) are counted exactly on the reference's grid, never
    # sketched: exact and reproducible statistics (module docstring).
    current_edges = current_histogram_edges(reference)
    if (
        current_profile is None
        and by is None
        and (isinstance(current, (str, os.PathLike)) or is_sql_source(current))
    ):
        # A log on disk (file, folder or glob) or a query is read batch by batch: bounded memory.
        current_profile = profile(
            current, spec=reference.spec, histogram_edges=current_edges, quantile_sketch=False
        )
    elif not isinstance(current_profile, Profile):
        frame = read_frame(current, name="current")
        present = ResolvedSpec(
            columns=tuple(c for c in reference.spec.columns if c.name in frame.columns),
            spec=reference.spec.spec,
        )
        current_profile = profile_frame(frame, present, current_edges, quantile_sketch=False)
    chosen = list(columns) if columns is not None else None
    if chosen is not None:
        unknown = [c for c in chosen if c not in reference.columns]
        if unknown:
            raise ColumnSpecError(
                f"columns {unknown} are not in the reference profile; it has: "
                f"{', '.join(list(reference.columns)[:12])}."
            )
    names = chosen or list(reference.columns)
    tested = [n for n in names if n in current_profile.columns]
    rule = replace(rule, n_tests=2 * len(tested))
    results = compare_profiles(
        reference, current_profile, method=method, threshold=threshold, rule=rule, columns=names
    )
    results.sort(key=rank)
    windows: tuple[WindowDrift, ...] = ()
    if by is not None:
        if frame is None:
            raise InputError(
                "by= needs the current rows, but current is a profile; pass the current data."
            )
        cut = assign_windows(frame, by, reference.spec.timestamp)
        if cut.note:
            warnings.warn(cut.note, WindowWarning, stacklevel=4)
        # The window tests join the Bonferroni family: re-judge the columns with it too.
        rule = replace(rule, n_tests=2 * len(tested) + window_tests(len(tested), cut))
        results = sorted((judge_column(r, rule) for r in results), key=rank)
        window_list = []
        for window, positions in zip(cut.windows, cut.row_positions()):
            if window.too_few_rows:
                window_list.append(untested_window(window, tuple(tested)))
                continue
            window_results = compare_profiles(
                reference,
                profile_frame(frame.iloc[positions], present, current_edges, quantile_sketch=False),
                method=method,
                threshold=threshold,
                rule=rule,
                columns=tested,
            )
            window_list.append(
                WindowDrift(
                    window=window.label,
                    rows=window.rows,
                    columns=tuple(r.column for r in window_results),
                    statistic=tuple(r.statistic for r in window_results),
                    p_value=tuple(r.p_value for r in window_results),
                    effect_size=tuple(r.effect_size for r in window_results),
                    drifted=tuple(r.values_drifted for r in window_results),
                    start=window.iso_start(),
                    end=window.iso_end(),
                )
            )
        windows = tuple(window_list)
    multivariate = MultivariateDrift.not_computed(
        "needs reference rows; a profile keeps none (keep a sample)"
    )
    return DriftResult(
        spec=reference.spec,
        rule=rule,
        reference_rows=int(reference.rows),
        current_rows=int(current_profile.rows),
        columns=tuple(results),
        multivariate=multivariate,
        windows=windows,
        by=None if by is None else str(by),
        untimed_rows=int(cut.untimed_rows) if by is not None else 0,
    )
