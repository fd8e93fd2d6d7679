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
"""

from __future__ import annotations

import base64
import glob as globbing
import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from monitorkit.errors import ColumnSpecError, DataSourceError, InputError, ReportFormatError
from monitorkit.report import register_kind
from monitorkit.schema import (
    ColumnSpec,
    ResolvedSpec,
    category_labels,
    check_columns,
    numeric_values,
    read_frame,
    resolve_spec,
)

PROFILE_SCHEMA_VERSION = 1
KLL_K = 200
KLL_RANK_ERROR = 0.0133  # datasketches' normalized_rank_error(k=200, pmf=False), 99% confidence
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
    """Summary of one numeric column (see the module docstring). Sketch kept serialised."""

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

    def kll(self):
        ds = _datasketches()
        if not self.sketch:
            return ds.kll_doubles_sketch(KLL_K)
        return ds.kll_doubles_sketch.deserialize(self.sketch)

    @classmethod
    def from_values(cls, values: pd.Series, edges: Sequence[float] = ()) -> NumericProfile:
        """Profile one column. ``edges`` (increasing) adds an exact fixed-edge histogram:
        counts of values ``< edges[0]``, in each ``[edges[i], edges[i+1])``, and ``>=
        edges[-1]``; profiles merge their histograms only when their edges are equal."""
        array, invalid = numeric_values(values)
        missing = int(values.isna().sum())
        finite = array[np.isfinite(array)]
        edges = _checked_edges(edges, str(values.name))
        histogram = ()
        if edges:
            bins = np.searchsorted(np.asarray(edges), finite, side="right")
            histogram = tuple(int(c) for c in np.bincount(bins, minlength=len(edges) + 1))
        ds = _datasketches()
        sketch = ds.kll_doubles_sketch(KLL_K)
        if finite.size == 0:
            return cls(
                missing=missing,
                invalid=invalid,
                sketch=sketch.serialize(),
                edges=edges,
                histogram=histogram,
            )
        sketch.update(finite)
        mean = float(finite.mean())
        return cls(
            count=int(finite.size),
            missing=missing,
            invalid=invalid,
            minimum=float(finite.min()),
            maximum=float(finite.max()),
            mean=mean,
            m2=float(((finite - mean) ** 2).sum()),
            sketch=sketch.serialize(),
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
        sketch = self.kll()
        sketch.merge(other.kll())
        return NumericProfile(
            count=count,
            missing=self.missing + other.missing,
            invalid=self.invalid + other.invalid,
            minimum=min(self.minimum, other.minimum),
            maximum=max(self.maximum, other.maximum),
            mean=mean,
            m2=m2,
            sketch=sketch.serialize(),
            edges=self.edges,
            histogram=tuple(a + b for a, b in zip(self.histogram, other.histogram)),
        )

    def cdf(self, points: np.ndarray) -> np.ndarray:
        """Share of values ``<=`` each point (from the sketch; exact at min and max)."""
        if self.count == 0:
            return np.full(len(points), np.nan)
        sketch = self.kll()
        return np.array([sketch.get_rank(float(p), True) for p in points])

    def quantiles(self, ranks: np.ndarray) -> np.ndarray:
        if self.count == 0:
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
        return Profile(rows=self.rows + other.rows, columns=merged, spec=self.spec)

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
                rows=int(data["rows"]), columns=columns, spec=ResolvedSpec.from_dict(data["spec"])
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ReportFormatError(
                f"profile JSON is corrupt: {type(exc).__name__}: {exc}"
            ) from exc

    def check_matches(self, frame: pd.DataFrame, name: str = "current") -> None:
        """Raise :class:`ColumnSpecError` naming missing, extra and retyped columns."""
        resolved = resolve_spec(self.spec.spec, frame, names=[name])
        theirs = {c.name: c.kind for c in resolved.columns if c.kind in PROFILED_KINDS}
        ours = {c: p.kind for c, p in self.columns.items()}
        mismatch = _column_mismatch(ours, theirs, left="the profile", right=name)
        if mismatch:
            raise ColumnSpecError(f"{name} does not match the profile: {mismatch}.")


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
) -> Profile:
    """Profile one in-memory DataFrame whose columns are already resolved.

    ``histogram_edges`` maps numeric column names to fixed histogram edges (see
    :meth:`NumericProfile.from_values`)."""
    histogram_edges = histogram_edges or {}
    columns: dict[str, ColumnProfile] = {}
    for info in resolved.columns:
        if info.kind not in PROFILED_KINDS or info.role in ("id", "timestamp"):
            continue
        if info.name not in frame.columns:
            continue  # a column missing from this table is reported by whoever compares
        values = frame[info.name]
        if info.kind == "numeric":
            edges = histogram_edges.get(info.name, ())
            columns[info.name] = NumericProfile.from_values(values, edges)
        else:
            columns[info.name] = CategoricalProfile.from_values(values, info.kind)
    return Profile(rows=int(len(frame)), columns=columns, spec=resolved)


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
) -> Profile:
    """Profile a table of any size.

    Parameters
    ----------
    source
        A pandas DataFrame; a parquet file, a directory of parquet files or a glob pattern
        (``"logs/2026-*.parquet"``) — read in record batches of ``batch_rows`` rows with
        pyarrow, so peak memory follows the batch size, not the input size; a CSV file
        (streamed by pyarrow); or a Dask DataFrame (needs ``monitorkit[dask]``), profiled
        partition by partition on the workers and merged as a tree.
    spec
        Column roles. Kinds are resolved on the first batch (or the Dask ``_meta`` plus the
        first partition); every later batch is profiled with the same kinds.
    batch_rows
        Rows per record batch for files.
    progress
        Show a progress bar on stderr (default: when stderr is a terminal).
    histogram_edges
        Fixed histogram edges per numeric column (``{"age": [18, 30, 50, 70]}``): exact,
        mergeable counts per bin besides the quantile sketch; drift from profiles uses them
        for PSI / Jensen–Shannon / Hellinger / KL when both sides have the same edges.

    Returns
    -------
    Profile
    """
    if _is_dask(source):
        from monitorkit._dask import profile_dask

        return profile_dask(source, spec, histogram_edges)
    if isinstance(source, pd.DataFrame) or not isinstance(source, (str, os.PathLike)):
        frame = read_frame(source, name="data")
        resolved = spec if isinstance(spec, ResolvedSpec) else resolve_spec(spec, frame)
        return merge_profiles(
            profile_frame(frame.iloc[start : start + batch_rows], resolved, histogram_edges)
            for start in range(0, len(frame), batch_rows)
        )
    batches = _file_batches(source, batch_rows)
    first = next(batches, None)
    if first is None:
        raise DataSourceError(f"data: '{source}' holds no rows.")
    check_columns(first, f"'{source}'")
    resolved = spec if isinstance(spec, ResolvedSpec) else resolve_spec(spec, first, names=["data"])
    total = profile_frame(first, resolved, histogram_edges)
    for batch in _progress(batches, progress, str(source)):
        total = total.merge(profile_frame(batch, resolved, histogram_edges))
    return total


def _is_dask(source: Any) -> bool:
    module = type(source).__module__
    return module.startswith("dask.") or module.startswith("dask_expr")


def _parquet_files(source: str | os.PathLike) -> list[str]:
    text = os.fspath(source)
    if any(ch in text for ch in "*?["):
        files = sorted(globbing.glob(text, recursive=True))
    elif Path(text).is_dir():
        files = sorted(str(p) for p in Path(text).rglob("*.parquet"))
    else:
        files = [text]
    if not files:
        raise DataSourceError(f"data: no parquet files match '{text}'.")
    return files


def _file_batches(source: str | os.PathLike, batch_rows: int) -> Iterator[pd.DataFrame]:
    path = Path(source)
    suffixes = [s.lower() for s in path.suffixes]
    text = os.fspath(source)
    is_glob = any(ch in text for ch in "*?[")
    if not is_glob and not path.exists():
        raise DataSourceError(f"data: no such file or directory: '{path}'.")
    try:
        if not is_glob and any(s in (".csv", ".tsv") for s in suffixes[-2:]):
            import pyarrow.csv as pacsv

            delimiter = "\t" if ".tsv" in suffixes[-2:] else ","
            reader = pacsv.open_csv(
                path,
                read_options=pacsv.ReadOptions(block_size=64 << 20),
                parse_options=pacsv.ParseOptions(delimiter=delimiter),
            )
            for batch in reader:
                yield batch.to_pandas()
            return
        import pyarrow.parquet as pq

        # One file and one batch at a time, no read-ahead: memory follows the batch size.
        for file in _parquet_files(source):
            with pq.ParquetFile(file, pre_buffer=False) as parquet:
                for batch in parquet.iter_batches(batch_size=batch_rows, use_threads=False):
                    if batch.num_rows:
                        yield batch.to_pandas()
    except (OSError, ValueError) as exc:
        raise DataSourceError(
            f"data: could not read '{source}': {type(exc).__name__}: {exc}"
        ) from exc


def _progress(batches: Iterator[pd.DataFrame], progress: bool | None, label: str):
    if progress is False:
        return batches
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm comes with papermill
        return batches
    # disable=None: shown only when stderr is a terminal, unless progress=True asks for it.
    return tqdm(
        batches,
        desc=f"profiling {Path(label).name}",
        unit=" batches",
        disable=None if progress is None else False,
    )


register_kind("profile", Profile.from_dict)
