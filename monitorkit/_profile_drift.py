"""Drift between two :class:`~monitorkit.profiles.Profile` objects (no raw rows).

Numeric columns: the Kolmogorov–Smirnov distance is computed from the two KLL sketches' CDFs,
evaluated at 1,001 quantiles of each sketch (the union of both grids), so ``D`` is within
``2 × KLL_RANK_ERROR`` (about 0.027) of the exact value; its p-value uses Kolmogorov's limiting
distribution with the exact counts. Binned methods (``psi``, ``jensen_shannon``,
``hellinger``, ``kl_div``) use the profiles' exact fixed-edge histograms when both have the
same edges, else 10 bins at the reference sketch's deciles with counts from the CDFs.
Categorical and boolean columns use the exact category counts (or the frequent-items
estimates past 10,000 categories). Missing rates are exact. The same
:class:`~monitorkit.drift.DecisionRule` and :func:`~monitorkit.drift.judge_column` apply.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import scipy.stats

from monitorkit import stats
from monitorkit.errors import InputError
from monitorkit.profiles import CategoricalProfile, NumericProfile, Profile

GRID_POINTS = 1_001
BINNED_METHODS = ("psi", "jensen_shannon", "hellinger", "kl_div")
PROFILE_METHODS = {"numeric": ("ks", *BINNED_METHODS), "categorical": None, "boolean": None}


def numeric_ks(reference: NumericProfile, current: NumericProfile) -> stats.MethodResult:
    """KS distance and p-value from two KLL sketches (see the module docstring)."""
    if reference.count == 0 or current.count == 0:
        return stats.MethodResult(math.nan, math.nan)
    ranks = np.linspace(0, 1, GRID_POINTS)
    grid = np.unique(np.concatenate([reference.quantiles(ranks), current.quantiles(ranks)]))
    distance = float(np.max(np.abs(reference.cdf(grid) - current.cdf(grid))))
    effective_n = reference.count * current.count / (reference.count + current.count)
    p_value = float(scipy.stats.kstwobign.sf(distance * math.sqrt(effective_n)))
    return stats.MethodResult(distance, p_value)


def binned_counts(
    reference: NumericProfile, current: NumericProfile, n_bins: int = stats.DEFAULT_N_BINS
) -> tuple[np.ndarray, np.ndarray]:
    """Counts of both sides: the exact fixed-edge histograms when both have the same edges,
    else ``n_bins`` bins at the reference sketch's quantiles (counts from the CDFs)."""
    if reference.edges and reference.edges == current.edges:
        return np.asarray(reference.histogram, float), np.asarray(current.histogram, float)
    inner = np.unique(reference.quantiles(np.linspace(0, 1, n_bins + 1)[1:-1]))

    def counts(side: NumericProfile) -> np.ndarray:
        cdf = np.concatenate([[0.0], side.cdf(inner), [1.0]])
        return np.diff(cdf) * side.count

    return counts(reference), counts(current)


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
    from monitorkit.drift import (
        ColumnDrift,
        Distribution,
        _float,
        judge_column,
        missing_rate_p_value,
    )

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
            distribution = _numeric_distribution(reference, current)
            unseen = 0
        else:
            labels, ref_counts, cur_counts = category_counts(reference, current)
            result = spec.func_for(kind)(ref_counts.astype(np.int64), cur_counts.astype(np.int64))
            effect = stats.categorical.tvd(
                ref_counts.astype(np.int64), cur_counts.astype(np.int64)
            ).statistic
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
        statistic=_float(result.statistic),
        p_value=_float(result.p_value),
        threshold=threshold,
        drifted=False,
        severity="ok",
        effect_size=_float(effect),
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


def _numeric_distribution(reference: NumericProfile, current: NumericProfile) -> dict:
    from monitorkit.drift import HISTOGRAM_BINS

    if reference.count == 0 and current.count == 0:
        return {"bins": (), "reference": (), "current": ()}
    sides = [s for s in (reference, current) if s.count]
    low = min(float(s.quantiles(np.array([0.005]))[0]) for s in sides)
    high = max(float(s.quantiles(np.array([0.995]))[0]) for s in sides)
    if not high > low:
        high = low + 1.0
    edges = np.linspace(low, high, HISTOGRAM_BINS + 1)

    def shares(side: NumericProfile) -> tuple[float, ...]:
        if side.count == 0:
            return tuple(0.0 for _ in range(HISTOGRAM_BINS))
        cdf = np.concatenate([[0.0], side.cdf(edges[1:-1]), [1.0]])
        return tuple(np.diff(cdf).tolist())

    return {
        "bins": tuple(edges.tolist()),
        "reference": shares(reference),
        "current": shares(current),
    }


def _categorical_distribution(labels: list[str], ref: np.ndarray, cur: np.ndarray) -> dict:
    from monitorkit.drift import categorical_distribution

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
    from monitorkit.drift import ColumnDrift, _lookup_option

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
                    drifted=False,
                    severity="ok",
                    skipped=f"only in reference: current has no column '{name}'",
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
                _lookup_option(method, name, kind),
                _lookup_option(threshold, name, kind),
                rule,
            )
        )
    return results
