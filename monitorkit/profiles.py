"""Mergeable per-column profiles: compare data of any size without keeping the rows.

A :class:`Profile` summarises a table column by column so that two profiles of two parts of a
table merge into the profile of the whole (within the stated sketch error):

numeric columns (:class:`NumericProfile`)
    exact counts (values, missing, invalid: ±inf and strings that are not numbers), exact
    minimum and maximum, mean and variance merged with Chan et al.'s parallel update
    (numerically stable), and an Apache DataSketches **KLL** quantile sketch (``k = 200``):
    any rank or CDF value it returns is within ``±1.33%`` of the true normalised rank with
    99% confidence (:data:`KLL_RANK_ERROR`), whatever the number of rows.
categorical and boolean columns (:class:`CategoricalProfile`)
    exact counts per category while there are at most :data:`MAX_EXACT_CATEGORIES` (10,000)
    distinct values — beyond that, a DataSketches **frequent-items** sketch (``lg_max_k=12``:
    counts of the heavy hitters, each within ``± total / 2,048`` of the truth, bounded by the
    sketch's own error bounds) — plus an **HLL** distinct-count sketch (``lg_k=12``: about
    1.6% relative standard error) and exact missing counts.

:func:`profile` builds one from a DataFrame, a parquet file, directory or glob (read in record
batches with pyarrow, so memory is bounded by the batch, not the input), a CSV file (streamed
by pyarrow), or a Dask DataFrame (each partition profiled on the workers, merged as a tree).
Profiles serialise to JSON (sketches as base64) with a schema version.

What is random, and what is not
    The KLL sketch is randomised: its compactions keep the odd or the even items by a coin
    flip, and the ``datasketches`` Python binding offers no way to seed that coin. So two
    profiles of the same rows (or the same parts merged in another order) hold different
    sketches, whose quantiles and ranks differ within the rank error above — and drift
    reports against two baselines built from the same rows differ within it too. Everything
    else in a profile is exact or deterministic. Once built, a sketch answers every query the
    same way, so a saved (or in-memory) profile or baseline gives the same numbers on every
    run.
Comparing a reference profile with current data
    :func:`profile` and :func:`profile_frame` with ``quantile_sketch=False`` build no KLL
    sketch: numeric columns then keep only exact parts — counts, extremes, moments and a
    fixed-edge histogram. That is how drift against a profile summarises the current rows
    (see :mod:`monitorkit.drift.profile`): exactly, on a grid read from the reference's
    sketch (:meth:`NumericProfile.sketch_steps`), so that a report against a given baseline
    and given current data is reproducible bit for bit.
"""

from __future__ import annotations

import base64
import json
import math
import os
import struct
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from monitorkit.errors import ColumnSpecError, InputError, ReportFormatError
from monitorkit.report import register_kind
from monitorkit.schema import (
    ColumnSpec,
    ResolvedSpec,
    category_labels,
    check_columns,
    infer_kind,
    is_sql_source,
    iter_batches,
    numeric_values,
    read_frame,
    resolve_spec,
)

PROFILE_SCHEMA_VERSION = 1
KLL_K = 200
KLL_RANK_ERROR = 0.0133  # datasketches' normalized_rank_error(k=200, pmf=False), 99% confidence
KLL_FAMILY = 15  # the family byte of a serialised KLL sketch (the DataSketches binary format)
MAX_EXACT_CATEGORIES = 10_000
FREQUENT_ITEMS_LG_MAX_K = 12
HLL_LG_K = 12
DEFAULT_BATCH_ROWS = 500_000
PROFILED_KINDS = ("numeric", "categorical", "boolean")


def _datasketches():
    from monitorkit.errors import require

    return require("datasketches", "profile", "Profiles")


def _encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _decode(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))


# --------------------------------------------------------------------------------------------
# Column profiles
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NumericProfile:
    """Summary of one numeric column (see the module docstring). Sketch kept serialised.

    ``sketch`` is empty (``b""``) when the column was profiled with ``quantile_sketch=False``:
    then :meth:`cdf` and :meth:`quantiles` return NaN and the histogram is the only view of the
    distribution.

    Values near the float limit (|x| ~ 1e154 and beyond): the mean is computed from ``x / n``
    when the plain sum overflows; ``m2`` (and so the variance) is ``inf`` when the squared
    deviations exceed the float range — the spread is then too large to hold, not NaN.
    """

    count: int = 0
    missing: int = 0
    invalid: int = 0
    minimum: float = math.inf
    maximum: float = -math.inf
    mean: float = 0.0
    m2: float = 0.0  # sum of squared deviations from the mean
    sketch: bytes = b""
    kind: str = "numeric"
    edges: tuple[float, ...] = ()  # fixed histogram edges, when given (see histogram)
    histogram: tuple[int, ...] = ()  # exact counts: below edges[0], between edges, above last

    @property
    def rows(self) -> int:
        return self.count + self.missing + self.invalid

    @property
    def variance(self) -> float:
        """Sample variance (``ddof=1``); NaN with fewer than two values."""
        return self.m2 / (self.count - 1) if self.count > 1 else math.nan

    @property
    def has_sketch(self) -> bool:
        """False when profiled with ``quantile_sketch=False`` (no quantiles, no ranks)."""
        return bool(self.sketch)

    def kll(self):
        ds = _datasketches()
        if not self.sketch:
            return ds.kll_doubles_sketch(KLL_K)
        return ds.kll_doubles_sketch.deserialize(self.sketch)

    def sketch_steps(self) -> tuple[np.ndarray, np.ndarray]:
        """The KLL sketch's CDF as a step function: ``(values, ranks)``.

        ``values`` are the distinct values the sketch retains, ascending; ``ranks[i]`` is the
        share of the column's values ``<= values[i]`` that the sketch answers (its inclusive
        normalised rank, what ``get_rank(value, inclusive=True)`` returns). Between two
        retained values the sketch's CDF is flat, so these arrays are its whole CDF: 0 below
        ``values[0]``, ``ranks[i]`` on ``[values[i], values[i+1])``, 1 from ``values[-1]``.

        Read from the sketch's serialised form (the DataSketches KLL binary format: each level
        ``h`` holds items of weight ``2**h``), which the Python binding does not otherwise
        expose. Empty arrays for an empty column or a profile without a sketch.

        Raises
        ------
        ReportFormatError
            The bytes are not a KLL sketch in a layout this monitorkit reads.
        """
        if not self.sketch:
            return np.empty(0), np.empty(0)
        values, weights, total = _kll_items(self.sketch)
        if total == 0:
            return np.empty(0), np.empty(0)
        order = np.argsort(values, kind="stable")
        values, weights = values[order], weights[order]
        distinct, first = np.unique(values, return_index=True)
        cumulative = np.cumsum(np.add.reduceat(weights, first))
        return distinct, cumulative / total

    def rank_error(self) -> float:
        """How far the sketch's CDF may be from the column's exact one, at any value.

        ``normalized_rank_error(True)``: the bound DataSketches states with 99% confidence for
        the difference of two ranks (1.65% for ``k = 200``), used as a bound on the largest
        error of any single rank, with margin (that bound alone is 1.33%). 0 while the sketch
        still holds every value (not in estimation mode, up to ``k`` values). NaN without a
        sketch.
        """
        if not self.sketch:
            return math.nan
        sketch = self.kll()
        return float(sketch.normalized_rank_error(True)) if sketch.is_estimation_mode() else 0.0

    @classmethod
    def from_values(
        cls, values: pd.Series, edges: Sequence[float] = (), quantile_sketch: bool = True
    ) -> NumericProfile:
        """Profile one column. ``edges`` (increasing) adds an exact fixed-edge histogram:
        counts of values ``< edges[0]``, in each ``[edges[i], edges[i+1])``, and ``>=
        edges[-1]``; profiles merge their histograms only when their edges are equal.
        ``quantile_sketch=False`` builds no KLL sketch (see the class docstring)."""
        array, invalid = numeric_values(values)
        missing = int(values.isna().sum())
        finite = array[np.isfinite(array)]
        edges = _checked_edges(edges, str(values.name))
        histogram = _histogram(finite, np.asarray(edges)) if edges else ()
        sketch = b""
        if quantile_sketch:
            kll = _datasketches().kll_doubles_sketch(KLL_K)
            if finite.size:
                kll.update(finite)
            sketch = kll.serialize()
        if finite.size == 0:
            return cls(
                missing=missing,
                invalid=invalid,
                sketch=sketch,
                edges=edges,
                histogram=histogram,
            )
        with np.errstate(over="ignore"):  # values near the float limit: see the docstring
            mean = float(finite.mean())
            if not math.isfinite(mean):  # the sum overflowed, the mean itself need not
                mean = float((finite / finite.size).sum())
            m2 = float(((finite - mean) ** 2).sum())
        return cls(
            count=int(finite.size),
            missing=missing,
            invalid=invalid,
            minimum=float(finite.min()),
            maximum=float(finite.max()),
            mean=mean,
            m2=m2,
            sketch=sketch,
            edges=edges,
            histogram=histogram,
        )

    def merge(self, other: NumericProfile) -> NumericProfile:
        if self.edges != other.edges:
            raise InputError(
                "cannot merge numeric profiles with different histogram edges "
                f"({list(self.edges)[:4]}… vs {list(other.edges)[:4]}…); profile both with the "
                "same histogram_edges."
            )
        count = self.count + other.count
        if count == 0:
            mean, m2 = 0.0, 0.0
        else:
            delta = other.mean - self.mean
            mean = self.mean + delta * other.count / count
            m2 = self.m2 + other.m2 + delta**2 * self.count * other.count / count
        return NumericProfile(
            count=count,
            missing=self.missing + other.missing,
            invalid=self.invalid + other.invalid,
            minimum=min(self.minimum, other.minimum),
            maximum=max(self.maximum, other.maximum),
            mean=mean,
            m2=m2,
            sketch=self._merged_sketch(other),
            edges=self.edges,
            histogram=tuple(a + b for a, b in zip(self.histogram, other.histogram)),
        )

    def _merged_sketch(self, other: NumericProfile) -> bytes:
        if self.has_sketch and other.has_sketch:
            sketch = self.kll()
            sketch.merge(other.kll())
            return sketch.serialize()
        if any(
            a.has_sketch and not b.has_sketch and b.count for a, b in ((self, other), (other, self))
        ):
            raise InputError(
                "cannot merge a numeric profile built with quantile_sketch=False with one that "
                "has a quantile sketch; profile both parts the same way."
            )
        return self.sketch or other.sketch

    def cdf(self, points: np.ndarray) -> np.ndarray:
        """Share of values ``<=`` each point (from the sketch; exact at min and max). NaN
        without values or without a sketch."""
        if self.count == 0 or not self.has_sketch:
            return np.full(len(points), np.nan)
        sketch = self.kll()
        return np.array([sketch.get_rank(float(p), True) for p in points])

    def quantiles(self, ranks: np.ndarray) -> np.ndarray:
        """Values at normalised ranks (from the sketch). NaN without values or a sketch."""
        if self.count == 0 or not self.has_sketch:
            return np.full(len(ranks), np.nan)
        return np.asarray(self.kll().get_quantiles(list(map(float, ranks))), dtype=float)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "count": self.count,
            "missing": self.missing,
            "invalid": self.invalid,
            "minimum": self.minimum if self.count else None,
            "maximum": self.maximum if self.count else None,
            "mean": self.mean,
            "m2": self.m2,
            "kll": _encode(self.sketch),
            "edges": list(self.edges),
            "histogram": list(self.histogram),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NumericProfile:
        return cls(
            count=int(data["count"]),
            missing=int(data["missing"]),
            invalid=int(data.get("invalid", 0)),
            minimum=math.inf if data["minimum"] is None else float(data["minimum"]),
            maximum=-math.inf if data["maximum"] is None else float(data["maximum"]),
            mean=float(data["mean"]),
            m2=float(data["m2"]),
            sketch=_decode(data["kll"]),
            edges=tuple(float(e) for e in data.get("edges", ())),
            histogram=tuple(int(c) for c in data.get("histogram", ())),
        )


@dataclass(frozen=True)
class CategoricalProfile:
    """Summary of one categorical or boolean column (see the module docstring)."""

    kind: str = "categorical"
    count: int = 0
    missing: int = 0
    counts: Mapping[str, int] | None = field(default_factory=dict)  # None: too many, see sketch
    frequent: bytes = b""  # frequent-items sketch, used once counts overflowed
    distinct_sketch: bytes = b""

    @property
    def rows(self) -> int:
        return self.count + self.missing

    @property
    def exact(self) -> bool:
        return self.counts is not None

    @property
    def distinct(self) -> float:
        """Number of distinct values: exact while counted exactly, else the HLL estimate."""
        if self.counts is not None:
            return float(len(self.counts))
        return float(self._hll().get_estimate())

    def _hll(self):
        ds = _datasketches()
        return (
            ds.hll_sketch.deserialize(self.distinct_sketch)
            if self.distinct_sketch
            else (ds.hll_sketch(HLL_LG_K))
        )

    def _frequent_sketch(self):
        ds = _datasketches()
        if self.frequent:
            return ds.frequent_strings_sketch.deserialize(self.frequent)
        sketch = ds.frequent_strings_sketch(FREQUENT_ITEMS_LG_MAX_K)
        for item, weight in (self.counts or {}).items():
            sketch.update(item, int(weight))
        return sketch

    @classmethod
    def from_values(cls, values: pd.Series, kind: str = "categorical") -> CategoricalProfile:
        labels = category_labels(values, kind)
        counts = labels.value_counts(dropna=True)
        hll = _datasketches().hll_sketch(HLL_LG_K)
        for item in counts.index:
            hll.update(str(item))
        profile = cls(
            kind=kind,
            count=int(counts.sum()),
            missing=int(labels.isna().sum()),
            counts={str(k): int(v) for k, v in counts.items()},
            distinct_sketch=hll.serialize_compact(),
        )
        return profile._bounded()

    def _bounded(self) -> CategoricalProfile:
        """Switch from exact counts to the frequent-items sketch past the exact limit."""
        if self.counts is None or len(self.counts) <= MAX_EXACT_CATEGORIES:
            return self
        sketch = self._frequent_sketch()
        return replace(self, counts=None, frequent=sketch.serialize())

    def merge(self, other: CategoricalProfile) -> CategoricalProfile:
        union = _datasketches().hll_union(HLL_LG_K)
        union.update(self._hll())
        union.update(other._hll())
        distinct = union.get_result().serialize_compact()
        if self.counts is not None and other.counts is not None:
            counts = dict(self.counts)
            for item, weight in other.counts.items():
                counts[item] = counts.get(item, 0) + weight
            merged = CategoricalProfile(
                kind=self.kind,
                count=self.count + other.count,
                missing=self.missing + other.missing,
                counts=counts,
                distinct_sketch=distinct,
            )
            return merged._bounded()
        sketch = self._frequent_sketch()
        sketch.merge(other._frequent_sketch())
        return CategoricalProfile(
            kind=self.kind,
            count=self.count + other.count,
            missing=self.missing + other.missing,
            counts=None,
            frequent=sketch.serialize(),
            distinct_sketch=distinct,
        )

    def category_counts(self) -> dict[str, float]:
        """Counts per category: exact, or the sketch's estimates of the frequent items."""
        if self.counts is not None:
            return dict(self.counts)
        ds = _datasketches()
        items = self._frequent_sketch().get_frequent_items(
            ds.frequent_items_error_type.NO_FALSE_POSITIVES
        )
        return {item: float(estimate) for item, estimate, _, _ in items}

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "count": self.count,
            "missing": self.missing,
            "counts": dict(self.counts) if self.counts is not None else None,
            "frequent": _encode(self.frequent) if self.frequent else None,
            "hll": _encode(self.distinct_sketch),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CategoricalProfile:
        return cls(
            kind=data["kind"],
            count=int(data["count"]),
            missing=int(data["missing"]),
            counts=None
            if data["counts"] is None
            else {k: int(v) for k, v in data["counts"].items()},
            frequent=_decode(data["frequent"]) if data.get("frequent") else b"",
            distinct_sketch=_decode(data["hll"]),
        )


ColumnProfile = NumericProfile | CategoricalProfile


@dataclass(frozen=True)
class TextProfile:
    """The formats of a text or id column: counts of value shapes
    (:func:`monitorkit.shapes.value_shape`), exact for the :data:`~monitorkit.shapes.MAX_SHAPES`
    (100) most frequent shapes, the rest counted together in ``other``. Merging adds the counts
    (exact while the shapes together stay within 100, else the rarest move to ``other``)."""

    kind: str = "text"
    count: int = 0
    missing: int = 0
    shapes: tuple[tuple[str, int], ...] = ()
    other: int = 0

    @property
    def rows(self) -> int:
        return self.count + self.missing

    @classmethod
    def from_values(cls, values: pd.Series, kind: str = "text") -> TextProfile:
        from monitorkit.shapes import shape_counts

        present = values.dropna()
        return cls._capped(kind, len(present), len(values) - len(present), shape_counts(present))

    @classmethod
    def _capped(cls, kind: str, count: int, missing: int, counts: Mapping[str, int], other=0):
        from monitorkit.shapes import MAX_SHAPES

        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        kept = tuple((str(k), int(v)) for k, v in ordered[:MAX_SHAPES])
        dropped = sum(int(v) for _, v in ordered[MAX_SHAPES:])
        return cls(kind=kind, count=count, missing=missing, shapes=kept, other=other + dropped)

    def merge(self, other: TextProfile) -> TextProfile:
        counts = dict(self.shapes)
        for shape, count in other.shapes:
            counts[shape] = counts.get(shape, 0) + count
        return TextProfile._capped(
            self.kind,
            self.count + other.count,
            self.missing + other.missing,
            counts,
            self.other + other.other,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "count": self.count,
            "missing": self.missing,
            "shapes": dict(self.shapes),
            "other": self.other,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TextProfile:
        return cls(
            kind=data["kind"],
            count=int(data["count"]),
            missing=int(data["missing"]),
            shapes=tuple((str(k), int(v)) for k, v in data["shapes"].items()),
            other=int(data.get("other", 0)),
        )


@dataclass(frozen=True)
class TimeProfile:
    """The span of the timestamp column: how many rows have a readable timestamp, the first
    and the last (ISO 8601, UTC). ``rows_per_day`` is the volume the data-quality check
    expects per window. Merging is exact (counts add; first is the earlier, last the later)."""

    count: int = 0
    missing: int = 0
    first: str | None = None
    last: str | None = None

    @property
    def rows_per_day(self) -> float | None:
        if self.first is None or self.last is None or self.count < 2:
            return None
        days = (pd.Timestamp(self.last) - pd.Timestamp(self.first)).total_seconds() / 86_400
        return self.count / days if days > 0 else None

    @classmethod
    def from_values(cls, values: pd.Series) -> TimeProfile:
        from monitorkit.windows import utc_times

        times = utc_times(values).dropna()
        if times.empty:
            return cls(missing=len(values))
        return cls(
            count=len(times),
            missing=len(values) - len(times),
            first=times.min().tz_localize("UTC").isoformat(),
            last=times.max().tz_localize("UTC").isoformat(),
        )

    def merge(self, other: TimeProfile) -> TimeProfile:
        firsts = [t for t in (self.first, other.first) if t is not None]
        lasts = [t for t in (self.last, other.last) if t is not None]
        return TimeProfile(
            count=self.count + other.count,
            missing=self.missing + other.missing,
            first=min(firsts, key=pd.Timestamp) if firsts else None,
            last=max(lasts, key=pd.Timestamp) if lasts else None,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "missing": self.missing,
            "first": self.first,
            "last": self.last,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TimeProfile:
        return cls(
            count=int(data["count"]),
            missing=int(data["missing"]),
            first=data.get("first"),
            last=data.get("last"),
        )


# --------------------------------------------------------------------------------------------
# Table profiles
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """Mergeable summaries of every profiled column of a table (see the module docstring).

    ``profile_a.merge(profile_b)`` equals the profile of both tables' rows: counts, minimum,
    maximum and exact category counts exactly; mean and variance to floating-point rounding;
    quantiles within the KLL rank error; frequent items and distinct counts within their
    sketches' bounds.
    """

    rows: int
    columns: Mapping[str, ColumnProfile]
    spec: ResolvedSpec
    schema_version: int = PROFILE_SCHEMA_VERSION
    text: Mapping[str, TextProfile] = field(default_factory=dict)  # text and id columns
    time: TimeProfile | None = None  # the timestamp column

    def __getitem__(self, column: str) -> ColumnProfile:
        try:
            return self.columns[column]
        except KeyError:
            raise KeyError(column) from None

    def merge(self, other: Profile) -> Profile:
        """The profile of both tables' rows. Both must profile the same columns and kinds."""
        if not isinstance(other, Profile):
            raise InputError(
                f"can only merge a Profile with a Profile, not {type(other).__name__}."
            )
        mismatch = _column_mismatch(
            {c: p.kind for c, p in self.columns.items()},
            {c: p.kind for c, p in other.columns.items()},
        )
        if mismatch:
            raise ColumnSpecError(f"cannot merge profiles of different tables: {mismatch}.")
        merged = {name: self.columns[name].merge(other.columns[name]) for name in self.columns}
        text = {
            name: self.text[name].merge(other.text[name])
            for name in self.text
            if name in other.text
        }
        time = self.time
        if self.time is not None and other.time is not None:
            time = self.time.merge(other.time)
        return Profile(
            rows=self.rows + other.rows,
            columns=merged,
            spec=self.spec,
            text=text,
            time=time or other.time,
        )

    def histogram_edges(self) -> dict[str, tuple[float, ...]]:
        """The fixed histogram edges of the numeric columns that have them."""
        return {
            name: column.edges
            for name, column in self.columns.items()
            if isinstance(column, NumericProfile) and column.edges
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per column: kind, count, missing, min, max, mean, std, median, distinct."""
        rows = []
        for name, column in self.columns.items():
            row: dict[str, Any] = {
                "column": name,
                "kind": column.kind,
                "count": column.count,
                "missing": column.missing,
            }
            if isinstance(column, NumericProfile):
                row.update(
                    invalid=column.invalid,
                    min=column.minimum if column.count else math.nan,
                    max=column.maximum if column.count else math.nan,
                    mean=column.mean if column.count else math.nan,
                    std=math.sqrt(column.variance) if column.count > 1 else math.nan,
                    median=float(column.quantiles(np.array([0.5]))[0]),
                )
            else:
                row["distinct"] = column.distinct
            rows.append(row)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "profile",
            "schema_version": self.schema_version,
            "rows": self.rows,
            "spec": self.spec.to_dict(),
            "kll_rank_error": KLL_RANK_ERROR,
            "columns": {name: column.to_dict() for name, column in self.columns.items()},
            "text": {name: column.to_dict() for name, column in self.text.items()},
            "time": None if self.time is None else self.time.to_dict(),
        }

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        version = data.get("schema_version") if isinstance(data, Mapping) else None
        if version != PROFILE_SCHEMA_VERSION:
            raise ReportFormatError(
                f"profile has schema_version {version!r}; this monitorkit reads version "
                f"{PROFILE_SCHEMA_VERSION}. A newer file needs a newer monitorkit."
            )
        try:
            columns = {
                name: (
                    NumericProfile.from_dict(column)
                    if column["kind"] == "numeric"
                    else CategoricalProfile.from_dict(column)
                )
                for name, column in data["columns"].items()
            }
            return cls(
                rows=int(data["rows"]),
                columns=columns,
                spec=ResolvedSpec.from_dict(data["spec"]),
                text={n: TextProfile.from_dict(c) for n, c in (data.get("text") or {}).items()},
                time=TimeProfile.from_dict(data["time"]) if data.get("time") else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ReportFormatError(
                f"profile JSON is corrupt: {type(exc).__name__}: {exc}"
            ) from exc

    def check_matches(self, frame: pd.DataFrame, name: str = "current") -> ColumnComparison:
        """How ``frame``'s columns compare with the profile's: missing, extra and retyped
        columns (:class:`ColumnComparison`; falsy when everything matches).

        A target that the profile has and ``frame`` lacks is listed apart, in
        ``labels_missing``: production data whose labels have not arrived is normal.
        """
        target = self.spec.target
        declared = {c.name: c.kind for c in self.spec.columns}
        theirs = {}
        for column in map(str, frame.columns):
            if column in declared and self.spec[column].source == "declared":
                theirs[column] = declared[column]  # declared kinds hold on every side
            else:
                theirs[column] = infer_kind(frame[column])[0]
        theirs = {c: k for c, k in theirs.items() if k in PROFILED_KINDS or c not in declared}
        ours = {c: p.kind for c, p in self.columns.items()}
        missing = tuple(c for c in ours if c not in theirs and c != target)
        return ColumnComparison(
            name=name,
            missing=missing,
            extra=tuple(c for c in theirs if c not in declared),
            retyped=tuple(
                (c, ours[c], theirs[c]) for c in ours if c in theirs and ours[c] != theirs[c]
            ),
            labels_missing=target is not None and target in ours and target not in theirs,
        )


@dataclass(frozen=True)
class ColumnComparison:
    """What :meth:`Profile.check_matches` found: columns missing from ``name``, columns the
    profile never had, columns whose kind changed ``(column, profile kind, its kind)``, and
    whether the target is absent (labels not arrived yet: normal, not a mismatch)."""

    name: str
    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    retyped: tuple[tuple[str, str, str], ...] = ()
    labels_missing: bool = False

    def __bool__(self) -> bool:
        """True when something does not match (labels that have not arrived do not count)."""
        return bool(self.missing or self.extra or self.retyped)

    def __str__(self) -> str:
        problems = []
        if self.missing:
            problems.append(f"missing from {self.name}: {', '.join(map(repr, self.missing))}")
        if self.extra:
            problems.append(f"not in the profile: {', '.join(map(repr, self.extra))}")
        if self.retyped:
            problems.append(
                "retyped: "
                + ", ".join(
                    f"'{c}' ({a} in the profile, {b} in {self.name})" for c, a, b in self.retyped
                )
            )
        if self.labels_missing:
            problems.append(f"no labels in {self.name} yet")
        return "; ".join(problems) or f"{self.name} matches the profile"

    def raise_if_mismatched(self) -> None:
        """Raise :class:`~monitorkit.errors.ColumnSpecError` saying what does not match."""
        if self:
            raise ColumnSpecError(f"{self.name} does not match the profile: {self}.")


def _column_mismatch(
    ours: Mapping[str, str], theirs: Mapping[str, str], left: str = "one", right: str = "other"
) -> str:
    missing = [c for c in ours if c not in theirs]
    extra = [c for c in theirs if c not in ours]
    retyped = [
        f"'{c}' ({ours[c]} in {left}, {theirs[c]} in {right})"
        for c in ours
        if c in theirs and ours[c] != theirs[c]
    ]
    problems = []
    if missing:
        problems.append(f"missing from {right}: {', '.join(repr(c) for c in missing)}")
    if extra:
        problems.append(f"not in {left}: {', '.join(repr(c) for c in extra)}")
    if retyped:
        problems.append("retyped: " + ", ".join(retyped))
    return "; ".join(problems)


def _kll_items(data: bytes) -> tuple[np.ndarray, np.ndarray, int]:
    """Retained items, their weights and the number of values of a serialised KLL sketch.

    The DataSketches KLL binary format (serial version 1, or 2 for a single item): an 8-byte
    preamble (preamble ints, serial version, family 15, flags, k, m); then, unless empty or a
    single item, n (uint64), min k (uint16), the number of levels L (uint8), a pad byte, L
    level offsets (uint32), the minimum and maximum, and the items from the first level's
    offset on. Level h holds items of weight ``2**h``.
    """
    problem = None
    if len(data) < 8 or data[2] != KLL_FAMILY:
        problem = "not a KLL sketch"
    elif data[1] not in (1, 2):
        problem = f"KLL serial version {data[1]} (this monitorkit reads 1 and 2)"
    if problem is None:
        flags = data[3]
        if flags & 1 or len(data) == 8:  # empty
            return np.empty(0), np.empty(0, dtype=np.int64), 0
        if flags & 4 or data[1] == 2:  # a single item
            item = np.frombuffer(data, dtype="<f8", count=1, offset=8).astype(float)
            return item, np.ones(1, dtype=np.int64), 1
        total, _, levels = struct.unpack_from("<QHB", data, 8)
        start = 20 + 4 * levels + 16  # header, level offsets, minimum and maximum
        if levels and len(data) >= start and (len(data) - start) % 8 == 0:
            offsets = np.frombuffer(data, dtype="<u4", count=levels, offset=20).astype(np.int64)
            items = np.frombuffer(data, dtype="<f8", offset=start).astype(float)
            bounds = np.append(offsets, offsets[0] + items.size) - offsets[0]
            sizes = np.diff(bounds)
            if np.all(sizes >= 0):
                weights = np.repeat(np.int64(1) << np.arange(levels, dtype=np.int64), sizes)
                if int(weights.sum()) == total:
                    return items, weights, int(total)
        problem = "the retained items do not add up to the sketch's count"
    raise ReportFormatError(f"cannot read the numeric column's quantile sketch: {problem}.")


_HISTOGRAM_BLOCK = 1 << 16


def _histogram(values: np.ndarray, edges: np.ndarray) -> tuple[int, ...]:
    """Exact counts of ``values`` below ``edges[0]``, in each ``[edges[i], edges[i+1])`` and from
    ``edges[-1]`` on. Counted as ``numpy.histogram`` counts: each block of 65,536 values is
    sorted and the edges are looked up in it, which is faster than looking every value up
    among the edges when there are many edges."""
    below = np.zeros(edges.size, dtype=np.int64)  # values < each edge
    for start in range(0, values.size, _HISTOGRAM_BLOCK):
        block = np.sort(values[start : start + _HISTOGRAM_BLOCK])
        below += np.searchsorted(block, edges, side="left")
    return tuple(np.diff(below, prepend=0, append=values.size).tolist())


def _checked_edges(edges: Sequence[float], column: str) -> tuple[float, ...]:
    edges = tuple(float(e) for e in edges)
    if any(not math.isfinite(e) for e in edges) or any(b <= a for a, b in zip(edges, edges[1:])):
        raise InputError(
            f"histogram edges of column '{column}' must be finite and strictly increasing; "
            f"got {list(edges)[:6]}."
        )
    return edges


def profile_frame(
    frame: pd.DataFrame,
    resolved: ResolvedSpec,
    histogram_edges: Mapping[str, Sequence[float]] | None = None,
    quantile_sketch: bool = True,
) -> Profile:
    """Profile one in-memory DataFrame whose columns are already resolved.

    ``histogram_edges`` maps numeric column names to fixed histogram edges and
    ``quantile_sketch=False`` skips the KLL sketches (see :meth:`NumericProfile.from_values`)."""
    histogram_edges = histogram_edges or {}
    profiled = [
        info
        for info in resolved.columns
        if info.kind in PROFILED_KINDS
        and info.role not in ("id", "timestamp")
        and info.name in frame.columns  # a column missing here is reported by whoever compares
    ]

    def column_profile(info) -> ColumnProfile:
        values = frame[info.name]
        if info.kind == "numeric":
            edges = histogram_edges.get(info.name, ())
            return NumericProfile.from_values(values, edges, quantile_sketch)
        return CategoricalProfile.from_values(values, info.kind)

    workers = min(len(profiled), os.cpu_count() or 1)
    if quantile_sketch or workers < 2:
        profiles = [column_profile(info) for info in profiled]
    else:
        # Exact counting (numpy's searchsorted and bincount) releases the GIL: one thread a
        # column. The result does not depend on the order the columns finish in.
        with ThreadPoolExecutor(max_workers=workers) as pool:
            profiles = list(pool.map(column_profile, profiled))
    columns = {info.name: column for info, column in zip(profiled, profiles)}
    text = {
        info.name: TextProfile.from_values(frame[info.name], info.kind)
        for info in resolved.columns
        if info.kind in ("text", "id") and info.role != "timestamp" and info.name in frame.columns
    }
    timestamp = resolved.timestamp
    time = None
    if timestamp is not None and timestamp in frame.columns:
        time = TimeProfile.from_values(frame[timestamp])
    return Profile(rows=int(len(frame)), columns=columns, spec=resolved, text=text, time=time)


def merge_profiles(profiles: Iterable[Profile]) -> Profile:
    """Merge many profiles pairwise, as a balanced tree (same result as one by one)."""
    level = list(profiles)
    if not level:
        raise InputError("merge_profiles needs at least one profile.")
    while len(level) > 1:
        level = [
            level[i].merge(level[i + 1]) if i + 1 < len(level) else level[i]
            for i in range(0, len(level), 2)
        ]
    return level[0]


# --------------------------------------------------------------------------------------------
# Building profiles from any source, in bounded memory
# --------------------------------------------------------------------------------------------


def profile(
    source: Any,
    spec: ColumnSpec | Mapping[str, Any] | ResolvedSpec | None = None,
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: bool | None = None,
    histogram_edges: Mapping[str, Sequence[float]] | None = None,
    quantile_sketch: bool = True,
) -> Profile:
    """Profile a table of any size.

    Parameters
    ----------
    source
        Anything :func:`monitorkit.read_frame` reads: a pandas DataFrame, a pyarrow or polars
        table, a parquet / CSV / TSV / JSON-lines file, a folder of them (hive ``key=value``
        folders add columns) or a glob (``"logs/2026-*.parquet"``), or a query on a database
        (:func:`monitorkit.sql`). Files are read one at a time, ``batch_rows`` rows at a time
        (:func:`monitorkit.schema.iter_batches`), and a query's rows arrive ``batch_rows`` at
        a time from the database, so peak memory follows the batch size, not the input size;
        values are typed exactly as :func:`~monitorkit.read_frame` types them (empty CSV
        cells are missing). Or a Dask DataFrame (needs ``monitorkit[dask]``), profiled
        partition by partition on the workers and merged as a tree.
    spec
        Column roles. Kinds are resolved on the whole table when it is in memory, on the
        first batch of files (for Dask: the first partition); every batch is profiled with
        the same kinds.
    batch_rows
        Rows per batch.
    progress
        Show a progress bar on stderr while reading files (default: when stderr is a
        terminal; never for in-memory tables unless ``True``).
    histogram_edges
        Fixed histogram edges per numeric column (``{"age": [18, 30, 50, 70]}``): exact,
        mergeable counts per bin besides the quantile sketch; drift from profiles uses them
        for PSI / Jensen–Shannon / Hellinger / KL when both sides have the same edges.
    quantile_sketch
        False builds no KLL sketches: numeric columns keep only their exact parts (counts,
        extremes, moments, histograms), which merge deterministically. Ignored for a Dask
        DataFrame, whose partitions are always sketched.

    Returns
    -------
    Profile
    """
    if _is_dask(source):
        from monitorkit._dask import profile_dask

        return profile_dask(source, spec, histogram_edges)
    if isinstance(source, (str, os.PathLike)) or is_sql_source(source):
        # Files and queries are read batch by batch: kinds come from the first batch.
        label = source.label if is_sql_source(source) else os.fspath(source)
        batches = iter_batches(source, name="data", batch_rows=batch_rows)
        first = next(batches)
        check_columns(first, f"data ('{label}')")
        kinds_from = first
    else:
        label = None
        kinds_from = read_frame(source, name="data")  # already in memory: kinds from all rows
        batches = iter_batches(kinds_from, name="data", batch_rows=batch_rows)
        first = next(batches)
    resolved = (
        spec if isinstance(spec, ResolvedSpec) else resolve_spec(spec, kinds_from, names=["data"])
    )
    total = profile_frame(first, resolved, histogram_edges, quantile_sketch)
    del first, kinds_from  # keep one batch in memory at a time
    for batch in _progress(batches, progress, label):
        total = total.merge(profile_frame(batch, resolved, histogram_edges, quantile_sketch))
    return total


def _is_dask(source: Any) -> bool:
    module = type(source).__module__
    return module.startswith("dask.") or module.startswith("dask_expr")


def _progress(batches: Iterator[pd.DataFrame], progress: bool | None, label: str | None):
    if progress is False or (progress is None and label is None):
        return batches
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm comes with papermill
        return batches
    # disable=None: shown only when stderr is a terminal, unless progress=True asks for it.
    return tqdm(
        batches,
        desc=f"profiling {Path(label).name}" if label else "profiling",
        unit=" batches",
        disable=None if progress is None else False,
    )


register_kind("profile", Profile.from_dict)
