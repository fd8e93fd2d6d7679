"""Inputs in: reading tables, column roles and kinds, validation errors.

This is the only module that coerces and validates input. Everything downstream receives a
:class:`pandas.DataFrame` with unique string column names and a :class:`ResolvedSpec` that says,
for every column, its *kind* (what sort of values it holds) and its *role* (what it means to the
model), and whether that was declared by the user or inferred — with the reason.

Kinds
    ``numeric``, ``categorical``, ``boolean``, ``datetime``, ``text``, ``id``.
Roles
    ``target``, ``prediction``, ``prediction_label``, ``timestamp``, ``id``, ``feature``
    (plus the ``segments`` and ``sensitive`` lists, which tag feature columns).

Inference rules (applied only where the user did not declare a column):

* ``boolean``: a bool dtype, or exactly two distinct non-missing values that are ``{0, 1}`` or
  ``{"true", "false"}`` / ``{"yes", "no"}`` (any case).
* ``datetime``: a datetime dtype (time-zone aware or not), or strings of which at least 95% of a
  sample parse as ISO 8601 date-times.
* ``id``: a name that is ``id`` or ends in ``_id``/``uuid``/``_key`` and values that are at least
  99% unique; or strings that are all unique, contain no spaces and have a fixed length (UUIDs,
  hashes), with at least 50 rows.
* ``numeric``: a numeric dtype; also strings of which at least 95% parse as numbers (so a numeric
  column carrying a few corrupt strings is still treated as numeric, and the strings become a
  data-quality finding rather than a new category).
* ``text``: strings with a mean length above 30 characters and mostly containing spaces, whose
  values are at least 50% unique (free text is skipped by distribution tests).
* ``categorical``: every other string, categorical or object column.

Roles by name, matched case-insensitively on the whole name:

* target: ``target``, ``label``, ``y``, ``y_true``, ``actual``, ``ground_truth``, ``outcome``
* prediction: ``prediction``, ``pred``, ``score``, ``y_pred``, ``y_score``, ``proba``,
  ``probability``, ``prediction_score``, ``predicted_proba``
* prediction_label: ``prediction_label``, ``predicted_label``, ``predicted_class``
* timestamp: ``timestamp``, ``ts``, ``event_time``, ``event_timestamp``, ``datetime``, ``time``,
  ``date``, ``created_at``; if none matches, the only ``datetime`` column there is.
* id: ``id``, ``request_id``, ``prediction_id``, ``event_id``; if none matches, the first column
  inferred as kind ``id``.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from monitorkit.errors import ColumnSpecError, DataSourceError, SchemaError

KINDS = ("numeric", "categorical", "boolean", "datetime", "text", "id")
ROLES = ("target", "prediction", "prediction_label", "timestamp", "id", "feature")

_TARGET_NAMES = ("target", "label", "y", "y_true", "actual", "ground_truth", "outcome")
_PREDICTION_NAMES = (
    "prediction",
    "pred",
    "score",
    "y_pred",
    "y_score",
    "proba",
    "probability",
    "prediction_score",
    "predicted_proba",
)
_PREDICTION_LABEL_NAMES = ("prediction_label", "predicted_label", "predicted_class")
_TIMESTAMP_NAMES = (
    "timestamp",
    "ts",
    "event_time",
    "event_timestamp",
    "datetime",
    "time",
    "date",
    "created_at",
)
_ID_NAMES = ("id", "request_id", "prediction_id", "event_id")
_ID_NAME_PATTERN = re.compile(r"(^id$|_id$|uuid$|_key$)", re.IGNORECASE)
_BOOLEAN_WORDS = ({"true", "false"}, {"yes", "no"}, {"t", "f"}, {"y", "n"})
_ISO_DATETIME_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?")

# Inference looks at a bounded sample so that it costs the same on 1,000 or 100,000,000 rows.
_INFERENCE_SAMPLE = 20_000


# --------------------------------------------------------------------------------------------
# Reading tables
# --------------------------------------------------------------------------------------------

TableLike = Any  # DataFrame | str | os.PathLike | pyarrow.Table | polars.DataFrame


def read_frame(source: TableLike, name: str = "data") -> pd.DataFrame:
    """Read a table and check that its columns are usable.

    Parameters
    ----------
    source
        A :class:`pandas.DataFrame`; a path (``str`` or :class:`os.PathLike`) to a parquet file,
        a directory of parquet files, a CSV/TSV file (optionally ``.gz``), or a JSON-lines file;
        a :class:`pyarrow.Table`; or a polars ``DataFrame``.
    name
        What the table is called in error messages (``"reference"``, ``"current"``).

    Returns
    -------
    pandas.DataFrame
        The table with unique, string column names. A DataFrame passed in is returned as is
        (not copied). CSV columns holding ISO 8601 date-times are parsed to datetimes.

    Raises
    ------
    DataSourceError
        The path does not exist, is of an unknown format, or cannot be parsed.
    SchemaError
        The table has no rows or no columns, duplicate column names or non-string column names.

    Examples
    --------
    >>> import pandas as pd, monitorkit as mk
    >>> mk.read_frame(pd.DataFrame({"age": [31, 45]}), name="current").shape
    (2, 1)
    """
    if isinstance(source, pd.DataFrame):
        frame = source
    elif isinstance(source, (str, os.PathLike)):
        frame = _read_path(Path(source), name)
    elif type(source).__module__.startswith("pyarrow") and hasattr(source, "to_pandas"):
        frame = source.to_pandas()
    elif type(source).__module__.startswith("polars") and hasattr(source, "to_pandas"):
        frame = source.to_pandas()
    elif isinstance(source, pd.Series):
        raise DataSourceError(
            f"{name} is a pandas Series; a table is expected. Pass series.to_frame() instead."
        )
    else:
        raise DataSourceError(
            f"{name} is a {type(source).__name__}; expected a pandas DataFrame, a path to a "
            "parquet/CSV/JSON-lines file or parquet directory, a pyarrow Table or a polars "
            "DataFrame."
        )
    check_columns(frame, name)
    return frame


def check_columns(frame: pd.DataFrame, name: str = "data") -> None:
    """Raise :class:`SchemaError` unless ``frame`` has rows, and unique string column names."""
    if isinstance(frame.columns, pd.MultiIndex):
        raise SchemaError(
            f"{name} has MultiIndex (hierarchical) columns; flatten them first, e.g. "
            "frame.columns = ['_'.join(map(str, c)) for c in frame.columns]."
        )
    non_string = [c for c in frame.columns if not isinstance(c, str)]
    if non_string:
        shown = ", ".join(repr(c) for c in non_string[:5])
        raise SchemaError(
            f"{name} has {len(non_string)} non-string column name(s): {shown}. Column names must "
            "be strings; rename them, e.g. frame.columns = frame.columns.astype(str)."
        )
    duplicated = sorted(set(frame.columns[frame.columns.duplicated()]))
    if duplicated:
        shown = ", ".join(repr(c) for c in duplicated[:5])
        raise SchemaError(
            f"{name} has duplicate column names: {shown}. Each column must appear once; rename "
            "or drop the duplicates."
        )
    if frame.shape[1] == 0:
        raise SchemaError(f"{name} has no columns; check that the right table was loaded.")
    if frame.shape[0] == 0:
        raise SchemaError(
            f"{name} has no rows (columns: {list_names(frame.columns)}); there is nothing to "
            "compare. Check the query or the time range that produced it."
        )


def _read_path(path: Path, name: str) -> pd.DataFrame:
    if not path.exists():
        raise DataSourceError(f"{name}: no such file or directory: '{path}'.")
    suffixes = [s.lower() for s in path.suffixes]
    try:
        if path.is_dir():
            import pyarrow.dataset as pads

            frame = pads.dataset(path, format="parquet").to_table().to_pandas()
        elif suffixes and suffixes[-1] in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        elif any(s in (".csv", ".tsv") for s in suffixes[-2:]):
            separator = "\t" if ".tsv" in suffixes[-2:] else ","
            frame = _parse_iso_datetimes(pd.read_csv(path, sep=separator))
        elif any(s in (".jsonl", ".ndjson") for s in suffixes[-2:]):
            frame = pd.read_json(path, lines=True)
        else:
            raise DataSourceError(
                f"{name}: cannot tell the format of '{path}' from its name; use a .parquet, "
                ".csv, .tsv or .jsonl file (optionally .gz), or a directory of parquet files."
            )
    except DataSourceError:
        raise
    except Exception as exc:  # any parser failure becomes one clear error naming the file
        raise DataSourceError(
            f"{name}: could not read '{path}': {type(exc).__name__}: {exc}"
        ) from exc
    return frame


def _parse_iso_datetimes(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn string columns that hold ISO 8601 date-times into datetime columns (CSV input)."""
    for column in frame.columns:
        if _is_stringish(frame[column]) and _looks_like_datetimes(frame[column]):
            frame[column] = pd.to_datetime(frame[column], format="ISO8601", errors="coerce")
    return frame


# --------------------------------------------------------------------------------------------
# Column roles
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnSpec:
    """What the columns of a model's data mean. Every argument is optional.

    Roles not given are inferred from names and values (see :mod:`monitorkit.schema`); call
    :meth:`resolve` to see the result, with the reason for each inferred role.

    Parameters
    ----------
    target
        The ground-truth column (label for classification, value for regression).
    prediction
        The model output: a score / probability, or the predicted value for regression.
    prediction_label
        The predicted class, when the model emits a label besides a score.
    timestamp
        When each row happened; used for windows (``by="1D"``) and time spans.
    id
        A unique row / request identifier; never tested for drift.
    categorical, numerical
        Columns to treat as categorical / numeric whatever their dtype.
    segments
        Columns to slice results by (e.g. ``region``, ``device``).
    sensitive
        Columns holding protected attributes, for fairness checks.
    ignore
        Columns to leave out entirely.

    Examples
    --------
    >>> import monitorkit as mk
    >>> spec = mk.ColumnSpec(target="label", prediction="score", segments=["region"])
    """

    target: str | None = None
    prediction: str | None = None
    prediction_label: str | None = None
    timestamp: str | None = None
    id: str | None = None
    categorical: Sequence[str] = ()
    numerical: Sequence[str] = ()
    segments: Sequence[str] = ()
    sensitive: Sequence[str] = ()
    ignore: Sequence[str] = ()

    def __post_init__(self) -> None:
        # Lists are accepted for convenience and stored as tuples so the spec stays hashable.
        for list_field in ("categorical", "numerical", "segments", "sensitive", "ignore"):
            value = getattr(self, list_field)
            if isinstance(value, str):
                value = (value,)
            if not isinstance(value, Iterable):
                raise ColumnSpecError(
                    f"ColumnSpec.{list_field} must be a list of column names, got "
                    f"{type(value).__name__}."
                )
            value = tuple(value)
            bad = [v for v in value if not isinstance(v, str)]
            if bad:
                raise ColumnSpecError(
                    f"ColumnSpec.{list_field} must hold column names (strings); got {bad[:3]!r}."
                )
            object.__setattr__(self, list_field, value)
        for role in ("target", "prediction", "prediction_label", "timestamp", "id"):
            value = getattr(self, role)
            if value is not None and not isinstance(value, str):
                raise ColumnSpecError(
                    f"ColumnSpec.{role} must be a column name (string) or None; got {value!r}."
                )
        both = set(self.categorical) & set(self.numerical)
        if both:
            raise ColumnSpecError(
                f"column(s) {sorted(both)} are listed as both categorical and numerical in "
                "ColumnSpec; keep each in one list."
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            f.name: list(v) if isinstance(v, tuple) else v
            for f in dataclasses.fields(self)
            for v in [getattr(self, f.name)]
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnSpec:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ColumnSpecError(
                f"unknown ColumnSpec field(s) {unknown}; known fields: {sorted(known)}."
            )
        return cls(**data)

    def resolve(self, *frames: pd.DataFrame, names: Sequence[str] | None = None) -> ResolvedSpec:
        """Resolve every column's kind and role from this spec and the data.

        Kinds are inferred from the first frame (the reference); columns that exist only in a
        later frame are inferred from that frame. Declared columns must exist in the first frame.
        """
        return resolve_spec(self, *frames, names=names)


@dataclass(frozen=True)
class ColumnInfo:
    """The resolved kind and role of one column, and why."""

    name: str
    kind: str
    role: str
    source: str  # "declared" or "inferred"
    reason: str
    segment: bool = False
    sensitive: bool = False

    @property
    def is_feature(self) -> bool:
        return self.role == "feature"


@dataclass(frozen=True)
class ResolvedSpec:
    """Every column's kind and role, resolved from a :class:`ColumnSpec` and the data."""

    columns: tuple[ColumnInfo, ...]
    spec: ColumnSpec = field(default_factory=ColumnSpec)

    def __getitem__(self, name: str) -> ColumnInfo:
        for info in self.columns:
            if info.name == name:
                return info
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return any(info.name == name for info in self.columns)

    @property
    def names(self) -> list[str]:
        return [info.name for info in self.columns]

    def role(self, role: str) -> str | None:
        """The column holding ``role`` (``"target"``, ``"timestamp"`` …), or None."""
        for info in self.columns:
            if info.role == role:
                return info.name
        return None

    @property
    def target(self) -> str | None:
        return self.role("target")

    @property
    def prediction(self) -> str | None:
        return self.role("prediction")

    @property
    def prediction_label(self) -> str | None:
        return self.role("prediction_label")

    @property
    def timestamp(self) -> str | None:
        return self.role("timestamp")

    @property
    def id(self) -> str | None:
        return self.role("id")

    def of_kind(self, *kinds: str) -> list[str]:
        return [info.name for info in self.columns if info.kind in kinds]

    @property
    def features(self) -> list[str]:
        return [info.name for info in self.columns if info.is_feature]

    def to_frame(self) -> pd.DataFrame:
        """One row per column: name, kind, role, source (declared/inferred), reason."""
        return pd.DataFrame(
            [
                {
                    "column": info.name,
                    "kind": info.kind,
                    "role": info.role,
                    "source": info.source,
                    "reason": info.reason,
                }
                for info in self.columns
            ]
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "spec": self.spec.to_dict(),
            "columns": [dataclasses.asdict(info) for info in self.columns],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResolvedSpec:
        return cls(
            columns=tuple(ColumnInfo(**c) for c in data["columns"]),
            spec=ColumnSpec.from_dict(data.get("spec", {})),
        )

    def __str__(self) -> str:
        width = max((len(info.name) for info in self.columns), default=6)
        lines = [f"{'column':<{width}}  {'kind':<11}  {'role':<16}  how"]
        for info in self.columns:
            how = "declared" if info.source == "declared" else f"inferred: {info.reason}"
            lines.append(f"{info.name:<{width}}  {info.kind:<11}  {info.role:<16}  {how}")
        return "\n".join(lines)


def resolve_spec(
    spec: ColumnSpec | ResolvedSpec | Mapping[str, Any] | None,
    *frames: pd.DataFrame,
    names: Sequence[str] | None = None,
) -> ResolvedSpec:
    """Resolve kinds and roles of the columns of ``frames`` (see :class:`ColumnSpec`).

    Parameters
    ----------
    spec
        A :class:`ColumnSpec`, a mapping of its fields, or None to infer everything; a
        :class:`ResolvedSpec` is returned as it is (the frames are still checked).
    frames
        One or more DataFrames (reference first). Columns are taken in order of first appearance.
    names
        What each frame is called in error messages; defaults to ``reference``, ``current``.
    """
    if isinstance(spec, ResolvedSpec):
        for frame, name in zip(frames, names or ["reference", "current", "data"]):
            check_columns(frame, name)
        return spec  # already resolved (e.g. by a DataOverview of the same frames)
    if spec is None:
        spec = ColumnSpec()
    elif isinstance(spec, Mapping):
        spec = ColumnSpec.from_dict(spec)
    elif not isinstance(spec, ColumnSpec):
        raise ColumnSpecError(
            f"spec must be a monitorkit.ColumnSpec, a dict of its fields, or None; got "
            f"{type(spec).__name__}."
        )
    if not frames:
        raise ColumnSpecError("resolve_spec needs at least one DataFrame.")
    names = list(names or ["reference", "current", "data"][: len(frames)])
    while len(names) < len(frames):
        names.append(f"frame {len(names) + 1}")
    for frame, name in zip(frames, names):
        check_columns(frame, name)

    first = frames[0]
    _check_declared_columns(spec, first, names[0])

    owner: dict[str, pd.DataFrame] = {}
    for frame in frames:
        for column in frame.columns:
            owner.setdefault(column, frame)
    ignored = set(spec.ignore)
    columns = [c for c in owner if c not in ignored]

    kinds: dict[str, tuple[str, str, str]] = {}
    for column in columns:
        if column in spec.categorical:
            kinds[column] = ("categorical", "declared", "listed in categorical")
        elif column in spec.numerical:
            kinds[column] = ("numeric", "declared", "listed in numerical")
        else:
            kind, reason = infer_kind(owner[column][column])
            kinds[column] = (kind, "inferred", reason)

    roles: dict[str, tuple[str, str]] = {}  # column -> (role, source/reason)
    declared_roles = {
        "target": spec.target,
        "prediction": spec.prediction,
        "prediction_label": spec.prediction_label,
        "timestamp": spec.timestamp,
        "id": spec.id,
    }
    for role, column in declared_roles.items():
        if column is not None:
            if column in roles:
                raise ColumnSpecError(
                    f"column '{column}' is declared both as {roles[column][0]} and as {role}; "
                    "give each role its own column."
                )
            roles[column] = (role, "declared")

    taken = set(roles)
    for role, candidates in (
        ("target", _TARGET_NAMES),
        ("prediction", _PREDICTION_NAMES),
        ("prediction_label", _PREDICTION_LABEL_NAMES),
        ("timestamp", _TIMESTAMP_NAMES),
        ("id", _ID_NAMES),
    ):
        if declared_roles[role] is not None:
            continue
        match = _match_name(columns, candidates, taken)
        if role == "timestamp" and match is not None and kinds[match][0] != "datetime":
            match = None
        if role == "id" and match is not None and kinds[match][0] not in ("id", "categorical"):
            match = None
        if match is not None:
            roles[match] = (role, f"named '{match}'")
            taken.add(match)
            continue
        if role == "timestamp":
            datetimes = [c for c in columns if kinds[c][0] == "datetime" and c not in taken]
            if len(datetimes) == 1:
                roles[datetimes[0]] = (role, "the only datetime column")
                taken.add(datetimes[0])
        if role == "id":
            ids = [c for c in columns if kinds[c][0] == "id" and c not in taken]
            if ids:
                roles[ids[0]] = (role, "unique identifier values")
                taken.add(ids[0])

    infos = []
    for column in columns:
        kind, kind_source, kind_reason = kinds[column]
        role, role_how = roles.get(column, ("feature", ""))
        if role == "id" and kind != "id":
            kind, kind_reason = "id", kind_reason + "; id role"
        if role == "timestamp" and kind != "datetime":
            kind_reason += " (timestamp role, but values are not date-times)"
        if role != "feature" and role_how == "declared":
            source, reason = "declared", f"declared {role}"
        elif role != "feature":
            source, reason = "inferred", f"{role_how}; {kind_reason}"
        else:
            source, reason = kind_source, kind_reason
        infos.append(
            ColumnInfo(
                name=column,
                kind=kind,
                role=role,
                source=source,
                reason=reason,
                segment=column in spec.segments,
                sensitive=column in spec.sensitive,
            )
        )
    return ResolvedSpec(columns=tuple(infos), spec=spec)


def _check_declared_columns(spec: ColumnSpec, frame: pd.DataFrame, name: str) -> None:
    declared: list[tuple[str, str]] = [
        (role, getattr(spec, role))
        for role in ("target", "prediction", "prediction_label", "timestamp", "id")
        if getattr(spec, role) is not None
    ]
    for list_field in ("categorical", "numerical", "segments", "sensitive", "ignore"):
        declared += [(list_field, column) for column in getattr(spec, list_field)]
    for what, column in declared:
        if column not in frame.columns:
            raise ColumnSpecError(
                f"ColumnSpec names '{column}' as {what}, but {name} has no such column "
                f"({name} has: {list_names(frame.columns, near=column)}); fix the name in the "
                "spec or the data."
            )


def _match_name(columns: Sequence[str], candidates: Sequence[str], taken: set[str]) -> str | None:
    lowered = {c.lower(): c for c in reversed(columns) if c not in taken}
    for candidate in candidates:
        if candidate in lowered:
            return lowered[candidate]
    return None


def infer_kind(values: pd.Series) -> tuple[str, str]:
    """Infer the kind of one column (see the module docstring); returns ``(kind, reason)``."""
    name = str(values.name)
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean", "bool dtype"
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime", "datetime dtype"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "numeric", "timedelta dtype (compared in seconds)"

    sample = values.dropna()
    if len(sample) > _INFERENCE_SAMPLE:
        rows = np.random.default_rng(0).choice(len(sample), _INFERENCE_SAMPLE, replace=False)
        sample = sample.iloc[np.sort(rows)]
    if len(sample) == 0:
        if pd.api.types.is_numeric_dtype(dtype):
            return "numeric", "numeric dtype (all values missing)"
        return "categorical", "all values missing"

    if pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        distinct = pd.unique(sample)
        if len(distinct) == 2 and set(np.asarray(distinct, dtype=float).tolist()) == {0.0, 1.0}:
            return "boolean", "only the values 0 and 1"
        if (
            _ID_NAME_PATTERN.search(name)
            and pd.api.types.is_integer_dtype(dtype)
            and _unique_share(sample) >= 0.99
        ):
            return "id", "id-like name and unique integer values"
        return "numeric", f"{dtype} dtype"

    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical", "category dtype"

    as_text = sample.astype(str)
    lowered = set(as_text.str.lower().unique()[:3])
    if len(lowered) == 2 and any(lowered == words for words in _BOOLEAN_WORDS):
        return "boolean", f"only the values {sorted(lowered)}"
    if _looks_like_datetimes(as_text):
        return "datetime", "ISO 8601 date-time strings"
    numeric_share = _numeric_share(sample)
    if numeric_share >= 0.95:
        detail = "" if numeric_share == 1 else f" ({1 - numeric_share:.1%} are not numbers)"
        return "numeric", f"numbers stored as strings{detail}"
    unique_share = _unique_share(as_text)
    if _ID_NAME_PATTERN.search(name) and unique_share >= 0.99:
        return "id", "id-like name and unique values"
    lengths = as_text.str.len()
    if (
        len(as_text) >= 50
        and unique_share == 1.0
        and lengths.nunique() == 1
        and not as_text.str.contains(" ", regex=False).any()
    ):
        return "id", "unique fixed-length codes"
    if (
        unique_share >= 0.5
        and lengths.mean() > 30
        and as_text.str.contains(" ", regex=False).mean() > 0.5
    ):
        return "text", "long, mostly unique strings with spaces (free text)"
    return "categorical", "string values"


def _unique_share(sample: pd.Series) -> float:
    return sample.nunique(dropna=True) / max(len(sample), 1)


def _numeric_share(sample: pd.Series) -> float:
    parsed = pd.to_numeric(sample.astype(str).str.strip(), errors="coerce")
    return float(parsed.notna().mean())


def _is_stringish(values: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(values.dtype) or values.dtype == object


def _looks_like_datetimes(values: pd.Series) -> bool:
    sample = values.dropna().astype(str).head(1000)
    if len(sample) == 0 or not sample.str.match(_ISO_DATETIME_PATTERN).mean() >= 0.95:
        return False
    parsed = pd.to_datetime(sample, format="ISO8601", errors="coerce", utc=True)
    return bool(parsed.notna().mean() >= 0.95)


def list_names(columns: Iterable[Any], near: str | None = None, limit: int = 8) -> str:
    """A short, readable list of column names for messages; close matches first."""
    names = [str(c) for c in columns]
    if near is not None:
        import difflib

        close = difflib.get_close_matches(near, names, n=3, cutoff=0.6)
        names = close + [n for n in names if n not in close]
    shown = ", ".join(f"'{n}'" for n in names[:limit])
    more = len(names) - limit
    return shown + (f", … ({more} more)" if more > 0 else "")


def time_span(frame: pd.DataFrame, column: str | None) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The first and last timestamp in ``frame[column]``, or None without a timestamp."""
    if column is None or column not in frame.columns:
        return None
    values = frame[column]
    if not pd.api.types.is_datetime64_any_dtype(values.dtype):
        values = pd.to_datetime(values, errors="coerce", format="ISO8601")
    values = values.dropna()
    if values.empty:
        return None
    return values.min(), values.max()


def numeric_values(values: pd.Series) -> tuple[np.ndarray, int]:
    """A column as float64 for numeric statistics, and how many values were invalid.

    Booleans become 0/1, timedeltas seconds; strings are parsed as numbers, and those that
    are not numbers (``"$12.99"``) become NaN. Invalid = such strings plus ±inf. Missing
    values stay NaN and are not counted as invalid.
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        array = values.to_numpy(dtype=float, na_value=np.nan)
    elif pd.api.types.is_numeric_dtype(values.dtype):
        array = values.to_numpy(dtype=float, na_value=np.nan)
    elif pd.api.types.is_timedelta64_dtype(values.dtype):
        array = values.dt.total_seconds().to_numpy(dtype=float, na_value=np.nan)
    else:
        parsed = pd.to_numeric(values, errors="coerce")
        array = parsed.to_numpy(dtype=float, na_value=np.nan)
        unparsable = int((parsed.isna() & values.notna()).sum())
        return array, unparsable + int(np.isinf(array).sum())
    return array, int(np.isinf(array).sum())


def category_labels(values: pd.Series, kind: str = "categorical") -> pd.Series:
    """A column's categories as strings, so that 1 and "1" are one category.

    For ``kind="boolean"``: numbers become ``"True"`` (non-zero) / ``"False"``, strings
    true/yes/t/y/1 ``"True"`` and other strings ``"False"``. Missing values stay missing.
    """
    if kind == "boolean" and not pd.api.types.is_bool_dtype(values.dtype):
        if pd.api.types.is_numeric_dtype(values.dtype):
            mapped = (values != 0).astype("boolean").where(values.notna(), other=pd.NA)
        else:
            lowered = values.astype("string").str.strip().str.lower()
            truthy = lowered.isin(["true", "yes", "t", "y", "1"])
            mapped = truthy.where(values.notna(), other=pd.NA)
        values = mapped
    if isinstance(values.dtype, pd.StringDtype):
        return values  # already strings: no copy
    return values.astype("string")
