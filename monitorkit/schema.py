"""Inputs in: reading tables, column roles and kinds, validation errors.

This is the only module that coerces and validates input. Everything downstream receives a
:class:`pandas.DataFrame` with unique string column names and a :class:`ResolvedSpec` that says,
for every column, its *kind* (what sort of values it holds) and its *role* (what it means to the
model), and whether that was declared by the user or inferred — with the reason.

Kinds
    ``numeric``, ``categorical``, ``boolean``, ``datetime``, ``text``, ``id``.
Roles
    ``target``, ``prediction``, ``prediction_label``, ``timestamp``, ``id``, ``feature``
    (plus the ``segments`` and ``sensitive`` lists, which tag feature columns). The
    per-class probability columns of ``ColumnSpec(class_scores=…)`` are model outputs: they get
    the ``prediction`` role (drift-checked as predictions, never features), but
    :attr:`ResolvedSpec.prediction` is never one of them.

Inference rules (applied only where the user did not declare a column):

* ``boolean``: a bool dtype, or exactly two distinct non-missing values that are ``{0, 1}`` or
  ``{"true", "false"}`` / ``{"yes", "no"}`` (any case).
* ``datetime``: a datetime dtype (time-zone aware or not), or strings of which at least 95% of a
  sample parse as ISO 8601 date-times.
* ``id``: a name whose last word is ``id``, ``uuid``, ``guid`` or ``key`` (``user_id``,
  ``PassengerId``, ``customerID``) and values at least 99% unique; integers that are unique and
  increasing whatever the name (a row number); or strings that are all unique, contain no
  spaces and have a fixed length (UUIDs, hashes), with at least 50 rows.
* ``numeric``: a numeric dtype; also strings of which at least 95% parse as numbers (so a numeric
  column carrying a few corrupt strings is still treated as numeric, and the strings become a
  data-quality finding rather than a new category).
* ``text``: strings with a mean length above 30 characters and mostly containing spaces, whose
  values are at least 50% unique (free text is skipped by distribution tests).
* ``categorical``: every other string, categorical or object column.

Roles, from the words of the name (camel case and separators split: ``PassengerId`` is
*passenger id*) and from the values; the reason shown for each says which, and a guess that
could be wrong says so with the argument that changes it:

* prediction: a numeric column with a score word (``score``, ``proba``, ``probability``,
  ``prob``) whose values are in [0, 1], or whose name also has a prediction word
  (``y_pred_proba``, ``fraud_score``; ``credit_score`` of 300–850 stays a feature);
* prediction_label: a prediction word (``pred``, ``prediction``, ``predicted``) without a score
  word, when it holds classes (``predicted_class``, a 0/1 ``y_pred``) or stands beside a score
  (a guess, said so); without a score it is the prediction itself (a regression's ``y_pred``);
* target: ``target`` as first or last word (``clf_target``, ``target_price``), a last word
  ``label`` without a prediction word, or a whole name among ``y``, ``y_true``, ``label``,
  ``class``, ``actual``, ``outcome``, ``ground_truth``, ``survived``, ``churn``, ``churned``,
  ``exited``, ``default``, ``default payment next month``; else, beside a score, a 0/1 column
  whose last word is ``label``, ``outcome``, ``result`` or ``flag`` (a guess). Names starting
  with ``is``/``has`` stay features;
* timestamp: ``timestamp``, ``ts``, ``event_time``, ``event_timestamp``, ``datetime``, ``time``,
  ``date``, ``created_at``; if none matches, the only ``datetime`` column there is;
* id: ``id``, ``request_id``, ``prediction_id``, ``event_id``; if none matches, the first column
  inferred as kind ``id``.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from monitorkit.errors import (
    ColumnSpecError,
    DataSourceError,
    InputError,
    MonitorkitError,
    SchemaError,
)

KINDS = ("numeric", "categorical", "boolean", "datetime", "text", "id")
ROLES = ("target", "prediction", "prediction_label", "timestamp", "id", "feature")

# Role inference by name tokens (``PassengerId`` → passenger, id; ``clf_target`` → clf, target).
_TARGET_WORDS = frozenset(
    {"target", "label", "labels", "y", "class", "actual", "outcome", "survived", "churn",
     "churned", "exited", "default"}
)  # fmt: skip
_TARGET_PHRASES = frozenset(
    {("y", "true"), ("ground", "truth"), ("true", "label"), ("default", "payment", "next", "month")}
)
_SCORE_TOKENS = frozenset({"proba", "probability", "probabilities", "prob", "score", "scores"})
_PREDICTION_TOKENS = frozenset({"pred", "preds", "prediction", "predictions", "predicted"})
_LABEL_TOKENS = frozenset({"label", "class"})
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
_ID_TOKENS = frozenset({"id", "uuid", "guid", "key"})
_BOOLEAN_WORDS = ({"true", "false"}, {"yes", "no"}, {"t", "f"}, {"y", "n"})
_ISO_DATETIME_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?")

# Inference looks at a bounded sample so that it costs the same on 1,000 or 100,000,000 rows.
_INFERENCE_SAMPLE = 20_000


# --------------------------------------------------------------------------------------------
# Reading tables
# --------------------------------------------------------------------------------------------

TableLike = Any  # DataFrame | str | os.PathLike | glob | pyarrow.Table | polars.DataFrame

DEFAULT_BATCH_ROWS = 500_000

# File formats by suffix; CSV, TSV and JSON lines may also be gzip-compressed (".csv.gz").
_FORMAT_OF_SUFFIX = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
_FORMAT_NAMES = {"parquet": "parquet", "csv": "CSV", "tsv": "TSV", "jsonl": "JSON-lines"}
SUPPORTED_FORMATS = (
    ".parquet/.pq, .csv, .tsv, .jsonl/.ndjson (CSV, TSV and JSON lines optionally .gz)"
)

# The cells pandas.read_csv reads as missing by default (its na_values), the empty cell first.
MISSING_STRINGS = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)
_TRUE_STRINGS = ("True", "TRUE", "true")  # what pandas.read_csv reads as booleans
_FALSE_STRINGS = ("False", "FALSE", "false")
_HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
_CSV_BLOCK_BYTES = 16 << 20  # bytes of CSV parsed at a time when streaming
_GLOB_CHARACTERS = "*?["


def read_frame(source: TableLike, name: str = "data") -> pd.DataFrame:
    """Read a table and check that its columns are usable.

    Every source goes through the same readers as :func:`iter_batches`, so a file profiled
    batch by batch and the same file read whole see the same values.

    Parameters
    ----------
    source
        A :class:`pandas.DataFrame`; a :class:`pyarrow.Table` or ``RecordBatch``; a polars
        ``DataFrame`` or ``LazyFrame``; a query on a database (:func:`monitorkit.sql`, its
        rows fetched in record batches and typed as :mod:`monitorkit.database` says); or a
        path (``str`` or :class:`os.PathLike`) to

        * a parquet file (``.parquet``, ``.pq``), a CSV or TSV file, or a JSON-lines file
          (``.jsonl``, ``.ndjson``); CSV, TSV and JSON lines may be gzip-compressed (``.gz``);
        * a folder of such files (all of one format, found at any depth; names starting with
          ``.`` or ``_`` are left out). Hive-style folders (``date=2026-01-01/``,
          ``region=eu/``) add their keys as columns;
        * a glob pattern (``"logs/*.parquet"``, ``"logs/**/*.csv"``); ``key=value`` folders
          below the pattern's fixed part add columns as for folders.
    name
        What the table is called in error messages (``"reference"``, ``"current"``).

    Returns
    -------
    pandas.DataFrame
        The table with unique, string column names. A DataFrame passed in is returned as is
        (not copied). Text formats are typed as :func:`pandas.read_csv` types them: every
        cell pandas reads as missing (the empty cell, ``NA``, ``null``, …: :data:`MISSING_STRINGS`)
        is missing; numbers become ``int64`` / ``float64``, ``True``/``False`` booleans; and
        columns of ISO 8601 date-time strings (CSV, JSON lines, folder keys) become
        datetimes, with values that do not parse as missing (NaT). JSON values keep their
        JSON types (a JSON string of digits stays a string).

    Raises
    ------
    DataSourceError
        The path does not exist, no file matches the glob, the format is unknown, or a file
        cannot be parsed; the message names the file.
    SchemaError
        The table has no rows or no columns, duplicate column names or non-string column names.

    Examples
    --------
    >>> import pandas as pd, monitorkit as mk
    >>> mk.read_frame(pd.DataFrame({"age": [31, 45]}), name="current").shape
    (2, 1)
    """
    source = _log_rows(source)
    if isinstance(source, pd.DataFrame):
        frame = source
    elif is_sql_source(source):
        frame = source.read(name)
    elif isinstance(source, (str, os.PathLike)):
        files = _resolve_files(source, name)
        frames = list(_file_frames(files, name, batch_rows=None))
        non_empty = [f for f in frames if len(f)]
        if len(non_empty) > 1:
            frame = pd.concat(non_empty, ignore_index=True, sort=False)
        else:
            frame = non_empty[0] if non_empty else frames[0]
    else:
        frame = _arrow_table(source, name).to_pandas()
    check_columns(frame, name)
    return frame


def iter_batches(
    source: TableLike, name: str = "data", *, batch_rows: int = DEFAULT_BATCH_ROWS
) -> Iterator[pd.DataFrame]:
    """The rows of a table as DataFrames of at most ``batch_rows`` rows, read as they go.

    Accepts what :func:`read_frame` accepts, and reads files one at a time: parquet one
    record batch at a time (pyarrow, no read-ahead), CSV/TSV with pyarrow's streaming reader
    (16 MB of text at a time), JSON lines ``batch_rows`` lines at a time, a query
    (:func:`monitorkit.sql`) ``batch_rows`` rows at a time from the database's record batch
    reader or server-side cursor — so memory follows the batch, not the input. Values are
    typed as by :func:`read_frame`; the choice made for a text column in its first batch
    holds for the later ones (a column of numbers stays numeric; a batch whose cells are
    not all numbers keeps them as strings, which numeric statistics count as invalid). A
    column missing from a later file is filled with missing values.

    Empty batches are left out, but at least one batch is always produced (an input without
    rows gives one empty DataFrame with its columns), so callers can name its columns.
    Errors about the source (no such path, no match, unknown format) are raised by this call,
    not by the first ``next()``.

    Examples
    --------
    >>> import pandas as pd
    >>> from monitorkit.schema import iter_batches
    >>> [len(b) for b in iter_batches(pd.DataFrame({"age": range(10)}), batch_rows=4)]
    [4, 4, 2]
    """
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, int) or batch_rows < 1:
        raise InputError(f"batch_rows must be a positive integer; got {batch_rows!r}.")
    source = _log_rows(source)
    if isinstance(source, pd.DataFrame):
        return _frame_batches(source, batch_rows)
    if is_sql_source(source):
        return _sliced(source.batches(name, batch_rows), batch_rows)
    if isinstance(source, (str, os.PathLike)):
        files = _resolve_files(source, name)
        return _sliced(_file_frames(files, name, batch_rows), batch_rows)
    table = _arrow_table(source, name)
    if table.num_rows == 0:
        return iter([table.to_pandas()])
    return _sliced((batch.to_pandas() for batch in table.to_batches(batch_rows)), batch_rows)


def is_sql_source(source: Any) -> bool:
    """True for a query on a database (:func:`monitorkit.sql`), which reads itself in record
    batches: read whole by :func:`read_frame`, batch by batch by :func:`iter_batches`."""
    module = sys.modules.get("monitorkit.database")  # not imported: no SQL source exists
    return module is not None and isinstance(source, module.SqlSource)


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


def _log_rows(source: TableLike) -> TableLike:
    """A prediction log (``monitorkit.capture``: a ``PredictionLog``, ``log.between(…)``, or
    a log folder's path with an optional ``?start=…&end=…``) as its rows; other sources as
    they are."""
    if hasattr(source, "__monitorkit_rows__") or isinstance(source, (str, os.PathLike)):
        from monitorkit.capture.log import log_rows

        rows = log_rows(source)
        if rows is not None:
            return rows
    return source


# ---- in-memory tables ---------------------------------------------------------------------


def _frame_batches(frame: pd.DataFrame, batch_rows: int) -> Iterator[pd.DataFrame]:
    if len(frame) == 0:
        yield frame
    for start in range(0, len(frame), batch_rows):
        yield frame.iloc[start : start + batch_rows]


def _arrow_table(source: Any, name: str) -> Any:
    """A pyarrow Table of a pyarrow Table / RecordBatch or a polars DataFrame / LazyFrame."""
    module = type(source).__module__
    if module.startswith("pyarrow") and hasattr(source, "to_pandas"):
        import pyarrow as pa

        if isinstance(source, pa.RecordBatch):
            return pa.Table.from_batches([source])
        if isinstance(source, pa.Table):
            return source
    if module.startswith("polars"):
        if hasattr(source, "collect") and not hasattr(source, "to_arrow"):
            source = source.collect()  # a LazyFrame: run the query
        if hasattr(source, "to_arrow"):
            return source.to_arrow()
    if isinstance(source, pd.Series):
        raise DataSourceError(
            f"{name} is a pandas Series; a table is expected. Pass series.to_frame() instead."
        )
    kind = type(source).__name__
    if kind in ("Profile", "Baseline"):
        raise DataSourceError(
            f"{name} is a {kind}, which keeps summaries, not rows; a table is expected here. "
            "Pass the data itself (a DataFrame or a path)."
        )
    raise DataSourceError(
        f"{name} is a {kind}; expected a pandas DataFrame, a pyarrow Table, a polars "
        f"DataFrame, a query (mk.sql(query, connection)), or a path, folder or glob of files "
        f"({SUPPORTED_FORMATS})."
    )


def _sliced(frames: Iterable[pd.DataFrame], batch_rows: int) -> Iterator[pd.DataFrame]:
    """Non-empty slices of at most ``batch_rows`` rows; one empty frame if there are none."""
    empty = None
    produced = False
    for frame in frames:
        if len(frame) == 0:
            empty = frame if empty is None else empty
            continue
        for start in range(0, len(frame), batch_rows):
            produced = True
            yield frame.iloc[start : start + batch_rows]
    if not produced and empty is not None:
        yield empty


# ---- files, folders, globs -----------------------------------------------------------------


@dataclass(frozen=True)
class _Files:
    """What a path stands for: its files (all of one format) and their folder keys."""

    source: str
    format: str  # "parquet", "csv", "tsv" or "jsonl"
    paths: tuple[str, ...]
    partitions: tuple[tuple[tuple[str, str | None], ...], ...] = ()  # per file: (key, value)


def _format_of(path: str) -> str | None:
    suffixes = [s.lower() for s in Path(path).suffixes]
    compressed = bool(suffixes) and suffixes[-1] == ".gz"
    if compressed:
        suffixes = suffixes[:-1]
    if not suffixes:
        return None
    found = _FORMAT_OF_SUFFIX.get(suffixes[-1])
    return None if found == "parquet" and compressed else found


def _is_glob(text: str) -> bool:
    return any(character in text for character in _GLOB_CHARACTERS)


def _resolve_files(source: str | os.PathLike, name: str) -> _Files:
    text = os.path.expanduser(os.fspath(source))
    path = Path(text)
    if path.is_dir():
        return _folder_files(path, name)
    if path.exists():  # a file, even if its name holds glob characters
        return _Files(text, _known_format(text, name), (text,), ((),))
    if _is_glob(text):
        return _glob_files(text, name)
    relative = "" if path.is_absolute() else f" (relative to the working directory, {os.getcwd()})"
    raise DataSourceError(
        f"{name}: no such file or directory: '{text}'{_nearby(path)}; check the path{relative}."
    )


def _known_format(path: str, name: str) -> str:
    found = _format_of(path)
    if found is None:
        hint = ""
        if Path(path).suffix.lower() == ".json":
            hint = (
                " A .json file holding one JSON object per line can be renamed to .jsonl; a "
                "JSON array can be read with pandas.read_json and passed as a DataFrame."
            )
        raise DataSourceError(
            f"{name}: cannot tell the format of '{path}' from its name; supported: "
            f"{SUPPORTED_FORMATS}, a folder of such files, or a glob of them.{hint} Read other "
            "formats with pandas and pass the DataFrame."
        )
    return found


def _nearby(path: Path) -> str:
    """' (did you mean …?)' with close names in the parent folder, or ''."""
    import difflib

    parent = path.parent
    if not parent.is_dir():
        return f" (the folder '{parent}' does not exist either)"
    names = [p.name for p in parent.iterdir()]
    close = difflib.get_close_matches(path.name, names, n=3, cutoff=0.6)
    return f" (did you mean {', '.join(repr(str(parent / c)) for c in close)}?)" if close else ""


def _one_format(files: Sequence[str], where: str, name: str) -> str:
    formats = Counter(_known_format(f, name) for f in files)
    if len(formats) > 1:
        counts = ", ".join(f"{count} {_FORMAT_NAMES[fmt]}" for fmt, count in formats.items())
        raise DataSourceError(
            f"{name}: {where} holds files of several formats ({counts}); a table is read from "
            "files of one format. Pass a glob for one of them, e.g. 'folder/**/*.parquet'."
        )
    return next(iter(formats))


def _folder_files(folder: Path, name: str) -> _Files:
    found, other = [], []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).parts
        # Like pyarrow: hidden and underscore names (_SUCCESS, _temporary/, .crc) are not data.
        if any(part.startswith((".", "_")) for part in relative) or not path.is_file():
            continue
        (found if _format_of(path.name) else other).append(path)
    if not found:
        seen = f" (it holds: {', '.join(repr(p.name) for p in other[:5])})" if other else ""
        raise DataSourceError(
            f"{name}: the folder '{folder}' holds no data files{seen}; expected files of "
            f"one of: {SUPPORTED_FORMATS}."
        )
    paths = [str(p) for p in found]
    file_format = _one_format(paths, f"the folder '{folder}'", name)
    partitions = tuple(_hive_pairs(p.relative_to(folder).parent.parts) for p in found)
    return _Files(str(folder), file_format, tuple(paths), partitions)


def _glob_base(pattern: str) -> Path:
    """The folder part of a glob pattern before its first wildcard."""
    fixed = []
    for part in Path(pattern).parts[:-1]:
        if _is_glob(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def _glob_files(pattern: str, name: str) -> _Files:
    import glob as globbing

    matches = sorted(p for p in globbing.glob(pattern, recursive=True) if os.path.isfile(p))
    base = _glob_base(pattern)
    if not matches:
        wanted = _format_of(pattern)
        what = f"{_FORMAT_NAMES[wanted]} files" if wanted else "files"
        if not base.is_dir():
            where = f"the folder '{base}' does not exist"
        else:
            names = sorted(p.name for p in base.iterdir())
            shown = list_names(names, limit=6)
            where = f"'{base}' holds: {shown}" if names else f"'{base}' is empty"
        raise DataSourceError(
            f"{name}: no {what} match '{pattern}' ({where}). Check the pattern; '**' matches "
            "any depth of sub-folders, e.g. 'logs/**/*.parquet'."
        )
    file_format = _one_format(matches, f"the glob '{pattern}'", name)
    partitions = []
    for match in matches:
        try:
            parts = Path(match).relative_to(base).parent.parts
        except ValueError:  # a pattern such as '../logs/*.csv' matched outside the base
            parts = ()
        partitions.append(_hive_pairs(parts))
    return _Files(pattern, file_format, tuple(matches), tuple(partitions))


def _hive_pairs(parts: Sequence[str]) -> tuple[tuple[str, str | None], ...]:
    """``key=value`` folder names (hive partitioning) as (key, value) pairs."""
    from urllib.parse import unquote

    pairs = []
    for part in parts:
        key, equals, value = part.partition("=")
        if equals and key:
            pairs.append((unquote(key), None if value == _HIVE_NULL else unquote(value)))
    return tuple(pairs)


def _file_frames(files: _Files, name: str, batch_rows: int | None) -> Iterator[pd.DataFrame]:
    """Each file's rows (whole when ``batch_rows`` is None, else in batches), typed by one
    :class:`_TextColumns` for the whole source, with folder keys and missing columns added."""
    text_columns = _TextColumns()
    keys = _partition_values(files)
    first_columns: list[str] | None = None
    for index, path in enumerate(files.paths):
        pieces = _read_file(path, files.format, batch_rows, text_columns)
        for frame in _guarded(pieces, name, path, files.format):
            if frame.columns.has_duplicates:
                check_columns(frame, f"{name} ('{path}')")  # raises, naming the duplicates
            if keys is not None:
                frame = _with_keys(frame, keys, index)
            if first_columns is None:
                first_columns = list(frame.columns)
            else:
                absent = [c for c in first_columns if c not in frame.columns]
                if absent:
                    frame = frame.assign(**dict.fromkeys(absent, np.nan))
            yield frame


def _read_file(
    path: str, file_format: str, batch_rows: int | None, text_columns: _TextColumns
) -> Iterator[pd.DataFrame]:
    if file_format == "parquet":
        import pyarrow.parquet as pq

        if batch_rows is None:
            yield pq.read_table(path, partitioning=None).to_pandas()
            return
        # One record batch at a time, no read-ahead: memory follows the batch size.
        with pq.ParquetFile(path, pre_buffer=False) as parquet:
            for batch in parquet.iter_batches(batch_size=batch_rows, use_threads=False):
                yield batch.to_pandas()
            if parquet.metadata.num_rows == 0:
                yield parquet.schema_arrow.empty_table().to_pandas()
    elif file_format in ("csv", "tsv"):
        for table in _csv_tables(path, "\t" if file_format == "tsv" else ",", batch_rows):
            yield text_columns.convert(table)
    else:
        options = dict(lines=True, dtype=False)  # JSON types as they are; dates below
        if batch_rows is None:
            yield text_columns.parse_datetimes(pd.read_json(path, **options))
            return
        with pd.read_json(path, chunksize=batch_rows, **options) as reader:
            for chunk in reader:
                yield text_columns.parse_datetimes(chunk)


def _csv_tables(path: str, delimiter: str, batch_rows: int | None) -> Iterator[Any]:
    """A CSV file as pyarrow tables of strings (missing cells null): whole, or streamed."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    parse_options = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True)
    # The column names come from a first look at the file; every column is then read as text
    # and typed by _TextColumns, so a later block can never contradict the first one's types.
    with pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=1 << 20),
        parse_options=parse_options,
    ) as probe:
        names = probe.schema.names
    convert_options = pacsv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.string()),
        null_values=list(MISSING_STRINGS),
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    if batch_rows is None:
        yield pacsv.read_csv(path, parse_options=parse_options, convert_options=convert_options)
        return
    produced = False
    with pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=_CSV_BLOCK_BYTES),
        parse_options=parse_options,
        convert_options=convert_options,
    ) as reader:
        for batch in reader:
            produced = True
            yield pa.Table.from_batches([batch])
    if not produced:
        yield pa.schema([(n, pa.string()) for n in names]).empty_table()


def _guarded(
    pieces: Iterator[pd.DataFrame], name: str, path: str, file_format: str
) -> Iterator[pd.DataFrame]:
    """``pieces``, with any parser failure turned into one DataSourceError naming the file."""
    import pyarrow as pa

    while True:
        try:
            piece = next(pieces)
        except StopIteration:
            return
        except MonitorkitError:
            raise
        except (OSError, ValueError, EOFError, pa.ArrowException) as exc:
            hint = ""
            if "utf8" in str(exc).lower().replace("-", "") or isinstance(exc, UnicodeError):
                hint = (
                    " The file is not UTF-8 text: save it as UTF-8, or read it with "
                    "pandas.read_csv(..., encoding=...) and pass the DataFrame."
                )
            raise DataSourceError(
                f"{name}: could not read '{path}' as a {_FORMAT_NAMES[file_format]} file: "
                f"{type(exc).__name__}: {exc}.{hint}"
            ) from exc
        yield piece


def _partition_values(files: _Files) -> pd.DataFrame | None:
    """One row per file: its folder keys, typed like CSV cells; None without keys."""
    keys: list[str] = []
    for pairs in files.partitions:
        keys += [key for key, _ in pairs if key not in keys]
    if not keys:
        return None
    import pyarrow as pa

    values = [dict(pairs) for pairs in files.partitions]
    table = pa.table({key: pa.array([v.get(key) for v in values], pa.string()) for key in keys})
    return _TextColumns().convert(table)


def _with_keys(frame: pd.DataFrame, keys: pd.DataFrame, index: int) -> pd.DataFrame:
    for key in keys.columns:
        if key not in frame.columns:  # a column of the file itself wins over its folder name
            rows = np.full(len(frame), index)
            frame[key] = keys[key].iloc[rows].set_axis(frame.index)
    return frame


class _TextColumns:
    """Types columns of text (CSV cells, folder keys) as :func:`pandas.read_csv` does.

    Numbers (surrounding spaces allowed) become ``int64``, or ``float64`` when some are not
    integers or some are missing; ``True``/``TRUE``/``true`` and the ``False`` forms become
    booleans; other text stays text, and text columns of ISO 8601 date-times become
    datetimes. The choice is made once per column name, on its first batch holding any
    value, and kept for later batches, so every batch of one source is typed alike; a later
    batch whose cells do not fit the choice keeps them as text.
    """

    def __init__(self) -> None:
        self._plans: dict[str, str] = {}  # column -> "number", "boolean", "text", "datetime"

    def convert(self, table: Any) -> pd.DataFrame:
        import pyarrow as pa

        arrays = []
        for position, column_name in enumerate(table.column_names):
            plan = self._plans.get(column_name)
            typed, found = _typed_text(table.column(position), plan)
            if plan is None and found in ("number", "boolean"):
                self._plans[column_name] = found
            arrays.append(typed)
        frame = pa.Table.from_arrays(arrays, names=table.column_names).to_pandas()
        return self.parse_datetimes(frame)

    def parse_datetimes(self, frame: pd.DataFrame) -> pd.DataFrame:
        for position, column_name in enumerate(frame.columns):
            values = frame.iloc[:, position]
            if not _is_stringish(values):
                continue
            plan = self._plans.get(column_name)
            if plan is None and values.notna().any():
                plan = "datetime" if _looks_like_datetimes(values) else "text"
                self._plans[column_name] = plan
            if plan == "datetime":
                frame.isetitem(position, _to_datetimes(values))
        return frame


def _typed_text(column: Any, plan: str | None) -> tuple[Any, str | None]:
    """A pyarrow string column as numbers, booleans or text, and what it turned out to be
    (None when every cell is missing)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if column.null_count == len(column):
        # pandas reads a column of empty cells as float NaN; a text column keeps its type.
        if plan in ("text", "datetime"):
            return column, None
        return pa.chunked_array([pa.nulls(len(column), pa.float64())]), None
    if plan in ("text", "datetime"):
        return column, plan
    trimmed = pc.utf8_trim_whitespace(column)
    if plan in (None, "number"):
        for number_type in (pa.int64(), pa.float64()):
            try:
                return pc.cast(trimmed, number_type), "number"
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
    if plan in (None, "boolean"):
        words = pa.array(_TRUE_STRINGS + _FALSE_STRINGS)
        known = pc.is_in(trimmed, value_set=words)
        if pc.all(pc.or_kleene(known, pc.is_null(trimmed))).as_py():
            truth = pc.is_in(trimmed, value_set=pa.array(_TRUE_STRINGS))
            return pc.if_else(pc.is_null(trimmed), None, truth), "boolean"
    return column, "text"


def _to_datetimes(values: pd.Series) -> pd.Series:
    try:
        return pd.to_datetime(values, format="ISO8601", errors="coerce")
    except (ValueError, TypeError):  # mixed UTC offsets: compare them in UTC
        return pd.to_datetime(values, format="ISO8601", errors="coerce", utc=True)


# --------------------------------------------------------------------------------------------
# Column roles
# --------------------------------------------------------------------------------------------


class _ClassScores(Mapping):
    """A read-only ``{class: column}`` mapping that hashes (so a spec stays hashable)."""

    def __init__(self, pairs: Mapping[str, str]) -> None:
        self._pairs = dict(pairs)

    def __getitem__(self, key: str) -> str:
        return self._pairs[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)

    def __hash__(self) -> int:
        return hash(tuple(self._pairs.items()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self._pairs) == dict(other)

    def __repr__(self) -> str:
        return repr(self._pairs)


def _class_scores(value: Any) -> _ClassScores | None:
    """``ColumnSpec.class_scores`` checked: a mapping of class → column name, one column per
    class; None when empty."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ColumnSpecError(
            "ColumnSpec.class_scores must be a mapping {class: column holding that class's "
            f"probability}}, e.g. {{'cat': 'p_cat', 'dog': 'p_dog'}}; got {type(value).__name__}."
        )
    pairs = {str(k): v for k, v in value.items()}
    if len(pairs) < len(value):
        raise ColumnSpecError(
            f"ColumnSpec.class_scores has classes that are equal as text ({list(value)!r}); "
            "give each class (the target's values read as text) once."
        )
    bad = {k: v for k, v in pairs.items() if not isinstance(v, str)}
    if bad:
        raise ColumnSpecError(
            f"ColumnSpec.class_scores must map each class to a column name (string); got {bad!r}."
        )
    reused = sorted(c for c, n in Counter(pairs.values()).items() if n > 1)
    if reused:
        raise ColumnSpecError(
            f"ColumnSpec.class_scores names column(s) {reused} for more than one class; each "
            "class needs its own probability column."
        )
    return _ClassScores(pairs) if pairs else None


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
    class_scores
        A multiclass model's per-class probabilities: ``{class: column}``, the class as the
        target's values read as text (keys are converted with ``str``), the column holding the
        model's probability of that class (numbers in [0, 1]). With it the performance report
        computes multiclass ``roc_auc``, ``average_precision``, ``log_loss`` and ``brier``.
        The columns get the ``prediction`` role. An empty mapping is the same as None.

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
    class_scores: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "class_scores", _class_scores(self.class_scores))
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
        found = {
            f.name: list(v) if isinstance(v, tuple) else v
            for f in dataclasses.fields(self)
            for v in [getattr(self, f.name)]
        }
        # Left out when not given, so a spec without it writes what older versions read.
        if self.class_scores is None:
            del found["class_scores"]
        else:
            found["class_scores"] = dict(self.class_scores)
        return found

    @property
    def class_score_columns(self) -> tuple[str, ...]:
        """The columns of :attr:`class_scores` (empty without it)."""
        return tuple(self.class_scores.values()) if self.class_scores else ()

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
        """The column holding ``role`` (``"target"``, ``"timestamp"`` …), or None. The
        class-score columns (``ColumnSpec.class_scores``) share the ``prediction`` role but
        are never *the* prediction."""
        class_columns = set(self.spec.class_score_columns)
        for info in self.columns:
            if info.role == role and info.name not in class_columns:
                return info.name
        return None

    @property
    def class_scores(self) -> Mapping[str, str] | None:
        """``{class: probability column}`` of a multiclass model, or None (the spec's)."""
        return self.spec.class_scores

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
    class_of = {column: cls for cls, column in (spec.class_scores or {}).items()}
    for column, cls in class_of.items():
        if column in roles:
            raise ColumnSpecError(
                f"column '{column}' is declared both as {roles[column][0]} and as the class "
                f"score of '{cls}' (class_scores); give each role its own column."
            )

    # Class scores are model outputs declared as such: kept out of role inference (they
    # would pass for *the* prediction), then given the prediction role.
    _infer_roles([c for c in columns if c not in class_of], kinds, owner, declared_roles, roles)
    for column in class_of:
        if column in kinds:
            roles[column] = ("prediction", "declared")

    infos = []
    for column in columns:
        kind, kind_source, kind_reason = kinds[column]
        role, role_how = roles.get(column, ("feature", ""))
        if role == "id" and kind != "id":
            kind, kind_reason = "id", kind_reason + "; id role"
        if role == "timestamp" and kind != "datetime":
            kind_reason += " (timestamp role, but values are not date-times)"
        if column in class_of:
            source, reason = "declared", f"declared class score of '{class_of[column]}'"
        elif role != "feature" and role_how == "declared":
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
    declared += [
        (f"the class score of '{cls}'", column) for cls, column in (spec.class_scores or {}).items()
    ]
    for what, column in declared:
        if column not in frame.columns:
            raise ColumnSpecError(
                f"ColumnSpec names '{column}' as {what}, but {name} has no such column "
                f"({name} has: {list_names(frame.columns, near=column)}); fix the name in the "
                "spec or the data."
            )


def _in_unit_interval(values: pd.Series) -> bool:
    """Numeric values, all within [0, 1], not only 0 and 1."""
    if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return False
    present = values.dropna()
    if present.empty:
        return False
    low, high = float(present.min()), float(present.max())
    return 0.0 <= low and high <= 1.0 and not set(present.unique()[:3]) <= {0, 1}


def _target_name(tokens: list[str]) -> bool:
    if not tokens or tokens[0] in ("is", "has"):
        return False
    if tuple(tokens) in _TARGET_PHRASES or (len(tokens) == 1 and tokens[0] in _TARGET_WORDS):
        return True
    if "target" in (tokens[0], tokens[-1]):  # clf_target, target_price
        return True
    return tokens[-1] == "label" and not _PREDICTION_TOKENS & set(tokens)


def _infer_roles(
    columns: Sequence[str],
    kinds: Mapping[str, tuple[str, str, str]],
    owner: Mapping[str, pd.DataFrame],
    declared: Mapping[str, str | None],
    roles: dict[str, tuple[str, str]],
) -> None:
    """Roles a person would give, from name words and values (see the module docstring).

    Fills ``roles`` (column -> (role, reason)) for the roles that were not declared. A guess
    that could be wrong says so in its reason, with the argument that changes it.
    """
    taken = set(roles)
    free = [c for c in columns if c not in taken]
    tokens = {c: name_tokens(c) for c in columns}

    def assign(role: str, column: str, reason: str) -> None:
        roles[column] = (role, reason)
        taken.add(column)

    # Scores: a probability / score word, and values in [0, 1] unless the name also says
    # prediction (``fraud_score`` in [0, 1] is the model's; ``credit_score`` of 300-850 is not).
    scores = []
    for c in free:
        words = set(tokens[c])
        if kinds[c][0] != "numeric" or not words & _SCORE_TOKENS:
            continue
        named = bool(words & _PREDICTION_TOKENS) or tokens[c] in (["score"], ["proba"])
        if named or _in_unit_interval(owner[c][c]):
            scores.append(c)
    # Predicted labels / values: a prediction word without a score word.
    predicted = [
        c
        for c in free
        if set(tokens[c]) & _PREDICTION_TOKENS and not set(tokens[c]) & _SCORE_TOKENS
    ]
    if declared["prediction"] is None and scores:
        column = scores[0]
        assign("prediction", column, f"named '{column}' (a score or probability)")
    if declared["prediction_label"] is None:
        for column in predicted:
            if column in taken:
                continue
            words = set(tokens[column])
            if words & _LABEL_TOKENS or kinds[column][0] in ("categorical", "boolean"):
                assign("prediction_label", column, f"named '{column}' (a predicted class)")
                break
            if scores or declared["prediction"] is not None:
                assign(
                    "prediction_label",
                    column,
                    f"a guess: '{column}' is taken as the predicted label beside the score; "
                    "pass prediction_label= (or prediction=) to change",
                )
                break
    if declared["prediction"] is None and not any(r == "prediction" for r, _ in roles.values()):
        for column in predicted:
            if column not in taken:
                assign("prediction", column, f"named '{column}' (the model's output)")
                break
    if declared["target"] is None:
        named = [c for c in columns if c not in taken and _target_name(tokens[c])]
        if named:
            assign("target", named[0], f"named '{named[0]}'")
        elif any(r == "prediction" for r, _ in roles.values()):
            # A 0/1 column named like an outcome, beside a score: the label it predicts.
            binary = [
                c
                for c in columns
                if c not in taken
                and kinds[c][0] == "boolean"
                and tokens[c]
                and tokens[c][0] not in ("is", "has")
                and tokens[c][-1] in ("label", "outcome", "result", "flag")
            ]
            if binary:
                assign(
                    "target",
                    binary[0],
                    "a guess: 0/1 values beside the score; pass target= to change",
                )
    if declared["timestamp"] is None:
        lowered = {c.lower(): c for c in reversed(columns) if c not in taken}
        match = next((lowered[n] for n in _TIMESTAMP_NAMES if n in lowered), None)
        if match is not None and kinds[match][0] == "datetime":
            assign("timestamp", match, f"named '{match}'")
        else:
            datetimes = [c for c in columns if kinds[c][0] == "datetime" and c not in taken]
            if len(datetimes) == 1:
                assign("timestamp", datetimes[0], "the only datetime column")
    if declared["id"] is None:
        lowered = {c.lower(): c for c in reversed(columns) if c not in taken}
        match = next((lowered[n] for n in _ID_NAMES if n in lowered), None)
        if match is not None and kinds[match][0] in ("id", "categorical"):
            assign("id", match, f"named '{match}'")
        else:
            ids = [c for c in columns if kinds[c][0] == "id" and c not in taken]
            if ids:
                assign("id", ids[0], "unique identifier values")


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
        if pd.api.types.is_integer_dtype(dtype) and len(sample) >= 20:
            if _id_like_name(name) and _unique_share(sample) >= 0.99:
                return "id", "id-like name and unique integer values"
            whole = values.dropna()
            if whole.is_unique and whole.is_monotonic_increasing:
                return "id", "unique, increasing integers (a row number)"
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
    if _id_like_name(name) and unique_share >= 0.99:
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


def name_tokens(name: str) -> list[str]:
    """The lower-case words of a column name: camel case and separators split.

    >>> name_tokens("PassengerId"), name_tokens("clf_target"), name_tokens("y_pred_proba")
    (['passenger', 'id'], ['clf', 'target'], ['y', 'pred', 'proba'])
    """
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name))
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", spaced)
    return [t for t in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if t]


def _id_like_name(name: str) -> bool:
    """``id``, or a last name word id, uuid, guid or key (``PassengerId``, ``user_id``)."""
    tokens = name_tokens(name)
    return bool(tokens) and tokens[-1] in _ID_TOKENS


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
