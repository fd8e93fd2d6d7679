"""Drift from profiles: a reference :class:`~monitorkit.profiles.Profile` (no raw rows).

Numeric columns: the Kolmogorov–Smirnov distance is computed from the two KLL sketches' CDFs,
evaluated at 1,001 quantiles of each sketch (the union of both grids), so ``D`` is within
``2 × KLL_RANK_ERROR`` (about 0.027) of the exact value; its p-value uses Kolmogorov's limiting
distribution with the exact counts. Binned methods (``psi``, ``jensen_shannon``,
``hellinger``, ``kl_div``) use the profiles' exact fixed-edge histograms when both have the
same edges, else 10 bins at the reference sketch's deciles with counts from the CDFs.
Categorical and boolean columns use the exact category counts (or the frequent-items
estimates past 10,000 categories). Missing rates are exact. The same
:class:`~monitorkit.drift.DecisionRule` and :func:`~monitorkit.drift.judge_column` apply.

:func:`drift_from_profile` is what :class:`~monitorkit.DriftReport` runs when the reference
is a :class:`~monitorkit.Profile` or a :class:`~monitorkit.Baseline` without a sample.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import scipy.stats

from monitorkit import stats
from monitorkit.drift.columns import HISTOGRAM_BINS, categorical_distribution, lookup_option, rank
from monitorkit.drift.over_time import window_labels
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
from monitorkit.schema import ResolvedSpec, read_frame
from monitorkit.severity import Severity

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
    if current_profile is None and by is None and isinstance(current, (str, os.PathLike)):
        # A log on disk (file, folder or glob) is profiled batch by batch: bounded memory.
        current_profile = profile(
            current, spec=reference.spec, histogram_edges=reference.histogram_edges()
        )
    elif not isinstance(current_profile, Profile):
        frame = read_frame(current, name="current")
        present = ResolvedSpec(
            columns=tuple(c for c in reference.spec.columns if c.name in frame.columns),
            spec=reference.spec.spec,
        )
        current_profile = profile_frame(frame, present, reference.histogram_edges())
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
        labels = window_labels(frame, by, reference.spec.timestamp)
        codes, window_names = pd.factorize(labels, sort=True)
        window_list = []
        for index, window in enumerate(window_names):
            rows = frame.iloc[np.flatnonzero(codes == index)]
            window_results = compare_profiles(
                reference,
                profile_frame(rows, present, reference.histogram_edges()),
                method=method,
                threshold=threshold,
                rule=rule,
                columns=tested,
            )
            window_list.append(
                WindowDrift(
                    window=str(window),
                    rows=int(len(rows)),
                    columns=tuple(r.column for r in window_results),
                    statistic=tuple(r.statistic for r in window_results),
                    p_value=tuple(r.p_value for r in window_results),
                    effect_size=tuple(r.effect_size for r in window_results),
                    drifted=tuple(r.values_drifted for r in window_results),
                )
            )
        windows = tuple(window_list)
    nan = float("nan")
    multivariate = MultivariateDrift(
        columns=(),
        n_components=0,
        variance_kept=nan,
        reference_error=nan,
        reference_error_sd=nan,
        lower=nan,
        upper=nan,
        current_error=nan,
        drifted=False,
        severity=Severity.OK,
        skipped="needs reference rows; a profile keeps none (keep a sample)",
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
    )
