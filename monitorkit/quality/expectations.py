"""What the reference says a column should look like, from its rows or from its profile.

The checks compare current values with a :class:`ColumnExpectation`: built exactly from the
reference rows when there are rows (:func:`from_frame`), or from a baseline's mergeable
profile when there are none (:func:`from_profile`) — the same fields, so every check runs on
both paths.

Definitions
-----------
range
    The smallest and largest finite reference value (exact on both paths).
robust bounds (``lower_fence``, ``upper_fence``)
    Tukey's far-out fences ``Q1 − 3·IQR`` and ``Q3 + 3·IQR`` of the finite reference values,
    with ``IQR = Q3 − Q1`` (quartiles exact from rows; from a profile, the KLL sketch's
    quartiles, within its rank error). ``outside_fences`` is the share of reference values
    outside them (from a profile: from the sketch's CDF, ``outside_fences_error`` — twice the
    sketch's rank error, one per fence — saying how far off it may be), so a heavy-tailed
    column is judged against its own normal tail.
top share
    The share of the most common value among the values present (from a profile of a
    numeric column: the sketch's largest step of its CDF, within its rank error; 1 when the
    minimum is the maximum).
categories
    Exact counts per category (rows, or a profile with at most 10,000 categories); None past
    that. ``singletons`` is the number of categories seen exactly once: ``singletons / n`` is
    the Good–Turing estimate of the share of future rows that carry a category never seen,
    which the unseen-category check allows before it speaks.
shapes
    Counts of value shapes (:func:`monitorkit.shapes.value_shape`: ``"REQ-00123"`` →
    ``"A+-9+"``), from the rows, or from a profile (category counts for categorical columns,
    the profile's shape counts for text and id columns).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from monitorkit.schema import category_labels, numeric_values
from monitorkit.shapes import MAX_SHAPES, shape_counts, shapes_of

SHAPE_SAMPLE_ROWS = 200_000  # text values whose shapes are counted (seeded sample beyond)


@dataclass(frozen=True)
class ColumnExpectation:
    """The reference's picture of one column (see the module docstring)."""

    column: str
    kind: str
    role: str
    rows: int
    missing: int
    invalid: int = 0
    minimum: float | None = None
    maximum: float | None = None
    lower_fence: float | None = None
    upper_fence: float | None = None
    outside_fences: float = 0.0
    outside_fences_error: float = 0.0  # how far outside_fences may be off (a sketch's error)
    categories: tuple[tuple[str, int], ...] | None = None
    singletons: int = 0
    top_share: float = 0.0
    distinct: float = 0.0
    shapes: tuple[tuple[str, int], ...] = ()

    @property
    def missing_rate(self) -> float:
        return self.missing / self.rows if self.rows else 0.0

    @property
    def category_set(self) -> frozenset[str]:
        return frozenset(label for label, _ in self.categories or ())

    @property
    def values(self) -> int:
        """Non-missing values."""
        return self.rows - self.missing


def _top_shapes(counts: dict[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:MAX_SHAPES])


def _fences(q1: float, q3: float) -> tuple[float, float]:
    iqr = q3 - q1
    return q1 - 3 * iqr, q3 + 3 * iqr


def from_frame(frame: pd.DataFrame, column: str, kind: str, role: str) -> ColumnExpectation:
    """The exact expectation of ``frame[column]`` for a column of ``kind``."""
    values = frame[column]
    rows, missing = int(len(values)), int(values.isna().sum())
    base = {"column": column, "kind": kind, "role": role, "rows": rows, "missing": missing}
    if kind == "numeric":
        array, invalid = numeric_values(values)
        finite = np.sort(array[np.isfinite(array)])
        if finite.size == 0:
            return ColumnExpectation(**base, invalid=invalid)
        q1, q3 = np.quantile(finite, [0.25, 0.75])
        lower, upper = _fences(float(q1), float(q3))
        outside = int(np.searchsorted(finite, lower, side="left"))
        outside += int(finite.size - np.searchsorted(finite, upper, side="right"))
        # Run lengths of the sorted values: the most common value's count and the distinct
        # values, without hashing a million floats.
        starts = np.flatnonzero(np.concatenate(([True], finite[1:] != finite[:-1])))
        runs = np.diff(np.append(starts, finite.size))
        return ColumnExpectation(
            **base,
            invalid=invalid,
            minimum=float(finite[0]),
            maximum=float(finite[-1]),
            lower_fence=lower,
            upper_fence=upper,
            outside_fences=outside / finite.size,
            top_share=float(runs.max() / finite.size),
            distinct=float(runs.size),
        )
    labels = category_labels(values, "boolean" if kind == "boolean" else "categorical")
    if kind in ("categorical", "boolean"):
        counts = labels.value_counts()
        present = max(rows - missing, 1)
        categories = tuple((str(k), int(v)) for k, v in counts.items())
        return ColumnExpectation(
            **base,
            categories=categories,
            singletons=int((counts == 1).sum()),
            top_share=float(counts.iloc[0] / present) if len(counts) else 0.0,
            distinct=float(len(counts)),
            shapes=_top_shapes(shape_counts(labels)),
        )
    # id and text columns: their shapes (a sample of the rows is enough to know them)
    if len(labels) > SHAPE_SAMPLE_ROWS:
        labels = labels.sample(SHAPE_SAMPLE_ROWS, random_state=0)
    return ColumnExpectation(**base, shapes=_top_shapes(shape_counts(labels)))


def _sketch_top_share(summary) -> float:
    """The share of a numeric column's most common value, from its sketch's largest CDF step
    (1 when its minimum is its maximum; 0 when unknown, without a sketch)."""
    if summary.minimum == summary.maximum:
        return 1.0
    _, ranks = summary.sketch_steps()
    if ranks.size == 0:
        return 0.0
    return float(np.max(np.diff(ranks, prepend=0.0)))


def from_profile(profile, column: str, role: str) -> ColumnExpectation:
    """The expectation of a profiled column (:class:`~monitorkit.profiles.Profile` entry)."""
    if column in profile.text:  # a text or id column: its formats
        text = profile.text[column]
        return ColumnExpectation(
            column=column,
            kind=text.kind,
            role=role,
            rows=int(text.rows),
            missing=int(text.missing),
            shapes=text.shapes,
        )
    summary = profile[column]
    kind = summary.kind
    base = {
        "column": column,
        "kind": kind,
        "role": role,
        "rows": int(summary.rows),
        "missing": int(summary.missing),
    }
    if kind == "numeric":
        if summary.count == 0:
            return ColumnExpectation(**base, invalid=int(summary.invalid))
        q1, q3 = (float(q) for q in summary.quantiles(np.array([0.25, 0.75])))
        lower, upper = _fences(q1, q3)
        below, at_or_below_upper = summary.cdf(np.array([np.nextafter(lower, -np.inf), upper]))
        rank_error = summary.rank_error()
        return ColumnExpectation(
            **base,
            invalid=int(summary.invalid),
            minimum=float(summary.minimum),
            maximum=float(summary.maximum),
            lower_fence=lower,
            upper_fence=upper,
            outside_fences=float(max(0.0, below + (1.0 - at_or_below_upper))),
            outside_fences_error=2 * rank_error if math.isfinite(rank_error) else 0.0,
            top_share=_sketch_top_share(summary),
        )
    counts = summary.category_counts()
    exact = getattr(summary, "exact", True)
    present = max(int(summary.rows - summary.missing), 1)
    labels = pd.Series(list(counts), dtype="string")
    grouped = pd.Series([int(v) for v in counts.values()]).groupby(shapes_of(labels).to_numpy())
    shapes = {str(k): int(v) for k, v in grouped.sum().items()}
    ordered = sorted(counts.items(), key=lambda item: -item[1])
    return ColumnExpectation(
        **base,
        categories=tuple((str(k), int(v)) for k, v in ordered) if exact else None,
        singletons=sum(1 for v in counts.values() if v == 1) if exact else 0,
        top_share=float(ordered[0][1] / present) if ordered else 0.0,
        distinct=float(summary.distinct) if hasattr(summary, "distinct") else float(len(counts)),
        shapes=_top_shapes(shapes),
    )
