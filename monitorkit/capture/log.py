"""The prediction log: what a model saw and said, appended from the serving path.

Layout on disk (a hive-style parquet dataset that pandas, pyarrow, DuckDB, Dask and Spark read
as it is)::

    logs/churn/
      _monitorkit_log.json                      what this folder is (columns of its roles)
      date=2026-05-01/part-<UTC time>-<pid>-<8 hex>.parquet     the predictions
      _labels/date=2026-05-03/part-….parquet     ground truth that arrived later
      _outcomes/date=2026-05-04/part-….parquet   business outcomes that arrived later

Names starting with ``_`` or ``.`` are not data to those readers, so ``logs/churn`` read by
any of them is the predictions alone; :meth:`PredictionLog.read` (and every monitorkit input
given the log's path) joins the labels and outcomes by request id.

Writes are buffered in memory and flushed by a background thread when ``flush_rows`` rows are
waiting or ``flush_seconds`` have passed, on :meth:`~PredictionLog.flush` /
:meth:`~PredictionLog.close`, and when the interpreter exits. Each flush writes one new file
per day it holds, under a hidden temporary name (``.part-….parquet.tmp``) that it renames
into place once the file is complete and synced: a writer killed at any moment leaves either
the whole file or nothing that a reader sees. Files are never rewritten, so several threads
and several processes can append to one log at once.
"""

from __future__ import annotations

import atexit
import datetime as dt
import json
import logging
import os
import secrets
import threading
import weakref
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from monitorkit.errors import DataSourceError, InputError

logger = logging.getLogger(__name__)

MARKER_NAME = "_monitorkit_log.json"
LABELS_FOLDER = "_labels"
OUTCOMES_FOLDER = "_outcomes"
LOG_FORMAT = "monitorkit.prediction_log"
LOG_FORMAT_VERSION = 1
ARRIVED_COLUMN = "_arrived_at"
"""When a label or outcome row was recorded (kept in its files, dropped on read)."""
_DTYPES_KEY = b"monitorkit.dtypes"  # {column: pandas dtype appended}, restored on read
_RANGE_KEYS = ("start", "end", "last")
_MAX_SIGNATURES = 1_000  # kinds of record remembered as fitting the log (see _check_record)


# --------------------------------------------------------------------------------------------
# Times
# --------------------------------------------------------------------------------------------


def _utc(value: Any, what: str) -> Any:
    """A UTC :class:`pandas.Timestamp` from a string, datetime, date or Timestamp (naive = UTC)."""
    import pandas as pd

    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise InputError(
            f"{what} must be a date or time (e.g. '2026-05-01' or '2026-05-01T12:00Z'); got "
            f"{value!r}."
        ) from exc
    if stamp is pd.NaT:
        raise InputError(f"{what} must be a date or time; got {value!r}.")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# --------------------------------------------------------------------------------------------
# The log
# --------------------------------------------------------------------------------------------


class PredictionLog:
    """Append predictions to a date-partitioned parquet dataset; read them back by time.

    Parameters
    ----------
    path
        The log's folder (created if missing). Several processes may write to one folder.
    flush_rows
        Write once this many rows are waiting (in the background thread).
    flush_seconds
        Write at least this often while rows are waiting.
    max_buffer_rows
        When a writer falls this far behind, :meth:`append` writes in the caller's thread
        (back-pressure instead of unbounded memory).
    timestamp, id
        The time and request-id columns. Rows appended without them get the time of the
        append (UTC) and a new unique id.
    partition
        The folder key of the day (``date=2026-05-01``); a column of that name may not be
        appended.
    compression
        Parquet compression codec.
    sync
        ``fsync`` each file before renaming it into place (survives a power cut, not only a
        crash of the process).

    Examples
    --------
    >>> import tempfile, pandas as pd, monitorkit as mk
    >>> folder = tempfile.mkdtemp()
    >>> with mk.PredictionLog(folder) as log:
    ...     _ = log.append({"age": 31, "score": 0.82, "timestamp": "2026-05-01T10:00Z"})
    ...     _ = log.append(pd.DataFrame({"age": [45], "score": [0.1],
    ...                              "timestamp": [pd.Timestamp("2026-05-02T09:00Z")]}))
    >>> log.read(start="2026-05-02")[["age", "score"]].to_dict("records")
    [{'age': 45, 'score': 0.1}]
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        flush_rows: int = 50_000,
        flush_seconds: float = 60.0,
        max_buffer_rows: int = 1_000_000,
        timestamp: str = "timestamp",
        id: str = "request_id",
        partition: str = "date",
        compression: str = "snappy",
        sync: bool = True,
    ) -> None:
        for name, value in (("flush_rows", flush_rows), ("max_buffer_rows", max_buffer_rows)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"{name} must be a positive integer; got {value!r}.")
        if not flush_seconds > 0:
            raise InputError(f"flush_seconds must be a positive number; got {flush_seconds!r}.")
        self.path = Path(path)
        self.flush_rows = flush_rows
        self.flush_seconds = float(flush_seconds)
        self.max_buffer_rows = max(max_buffer_rows, flush_rows)
        self.timestamp = timestamp
        self.id = id
        self.partition = partition
        self.compression = compression
        self.sync = sync
        self._read_marker_or_create()
        self._lock = threading.Lock()  # guards the buffer
        self._write_lock = threading.Lock()  # one flush writes at a time (flush() waits for it)
        # In order of appending: lists of records (consecutive ones share a list) and frames.
        self._pieces: list[Any] = []
        self._buffered = 0
        self._closed = False
        self._wake = threading.Event()
        self._id_prefix = secrets.token_hex(6)
        self._id_counter = 0
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        # The log's column types (arrow), fixed by the first rows written or appended, and
        # the pandas dtype each column was first appended with: every append is checked
        # against them (see _check_table, _check_record).
        self._types: dict[str, Any] | None = None
        self._first_dtypes: dict[str, str] = {}
        self._accepted: set[tuple[Any, Any]] = set()  # (column, Python type or dtype) that fit
        self._accepted_records: set[tuple[tuple, tuple]] = set()  # (columns, types) of records
        self._types_lock = threading.Lock()
        self.rows_written = 0
        self.rows_dropped = 0
        self.files_written = 0
        _OPEN_LOGS.add(self)

    # ---- the folder --------------------------------------------------------------------------

    def _read_marker_or_create(self) -> None:
        marker = self.path / MARKER_NAME
        if marker.is_file():
            meta = read_marker(self.path)
            # The folder's own column names win over the defaults (a log opened elsewhere).
            self.timestamp = meta.get("timestamp", self.timestamp)
            self.id = meta.get("id", self.id)
            self.partition = meta.get("partition", self.partition)
            return
        if self.path.exists() and not self.path.is_dir():
            raise InputError(f"the prediction log path '{self.path}' is a file, not a folder.")
        self.path.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": LOG_FORMAT,
            "version": LOG_FORMAT_VERSION,
            "timestamp": self.timestamp,
            "id": self.id,
            "partition": self.partition,
            "created_at": _now().isoformat(),
        }
        from monitorkit.errors import OutputExistsError
        from monitorkit.store import write_atomic

        try:
            write_atomic(marker, json.dumps(meta, indent=2) + "\n")
        except OutputExistsError:
            pass  # another process created the log at the same moment: its marker stands

    # ---- writing -----------------------------------------------------------------------------

    def append(self, rows: Any) -> int:
        """Buffer rows for writing; returns how many.

        ``rows``: one record (a mapping of column to value), a list of records, a
        :class:`pandas.DataFrame` or a :class:`pyarrow.Table`. A frame is copied (later
        changes to it are not logged). Thread-safe and cheap: the write happens in the
        background (or here, when ``max_buffer_rows`` are waiting).
        """
        import pandas as pd

        if self._closed:
            raise InputError(f"the prediction log '{self.path}' is closed; open a new one.")
        if isinstance(rows, Mapping):
            count, record, frame = 1, dict(rows), None
        elif isinstance(rows, list):
            if not all(isinstance(r, Mapping) for r in rows):
                raise InputError("append() takes a record (dict), a list of dicts or a table.")
            count, record, frame = len(rows), None, [dict(r) for r in rows]
        else:
            frame = _as_frame(rows)
            if self.partition in frame.columns:
                raise InputError(
                    f"the rows have a column '{self.partition}', the log's day folder key; "
                    f"rename it, or open the log with partition='log_{self.partition}'."
                )
            count, record = len(frame), None
        if count == 0:
            return 0
        now = _now()  # rows without a time get the time they were appended
        if record is not None:
            record.setdefault(self.timestamp, now)
        elif isinstance(frame, list):
            for one in frame:
                one.setdefault(self.timestamp, now)
        else:
            frame = frame.copy()
            if self.timestamp not in frame.columns:
                frame[self.timestamp] = pd.Timestamp(now)
        return self._buffer(count, record, frame)

    def _buffer(self, count: int, record: Any, rows: Any) -> int:
        """Check one record, a list of records or a DataFrame (owned by the log from now on)
        against the log's column types and add it to the buffer.

        An append whose values do not fit the log's types raises :class:`InputError` and
        leaves the buffer as it was."""
        if self._closed:
            raise InputError(f"the prediction log '{self.path}' is closed; open a new one.")
        if record is not None:
            self._check_record(record)
        elif isinstance(rows, list):
            for one in rows:
                self._check_record(one)
        else:
            self._check_frame(rows)
        with self._lock:
            pieces = self._pieces
            if record is not None or isinstance(rows, list):
                if not pieces or not isinstance(pieces[-1], list):
                    pieces.append([])
                if record is not None:
                    pieces[-1].append(record)
                else:
                    pieces[-1].extend(rows)
            else:
                pieces.append(rows)
            self._buffered += count
            buffered = self._buffered
        self._start_thread()
        if buffered >= self.max_buffer_rows:
            self.flush()  # back-pressure: the caller writes
        elif buffered >= self.flush_rows:
            self._wake.set()
        return count

    def flush(self) -> int:
        """Write every buffered row now; returns the rows written. Thread-safe: returns once
        rows appended before the call are on disk.

        Appends are checked when they are appended (:meth:`append` raises for rows whose
        types do not fit the log's), so the buffered rows normally write together. When some
        still cannot (e.g. an integer too large for the column's type), each append is
        written on its own and only those that cannot be written are dropped: logged,
        counted in ``rows_dropped``, and an :class:`InputError` raised after the good rows
        are on disk. After a failed write to disk (disk full) the rows stay buffered for the
        next flush.
        """
        with self._write_lock:
            with self._lock:
                pieces = self._pieces
                self._pieces, self._buffered = [], 0
            if not pieces:
                return 0
            failure: Exception | None = None
            try:
                tables = [self._table(pieces)]
            except (ValueError, TypeError):  # InputError, or arrow's
                tables, failure = self._tables_one_by_one(pieces)
            written = 0
            for position, table in enumerate(tables):
                try:
                    written += self._write_days(table, self.path)
                except OSError:
                    with self._lock:  # keep what is not written for the next flush
                        self._pieces[:0] = tables[position:]
                        self._buffered += sum(t.num_rows for t in tables[position:])
                    self.rows_written += written
                    raise
                except (ValueError, TypeError) as exc:  # e.g. a time that would be cut
                    self._drop(table.num_rows, exc)
                    failure = failure or InputError(str(exc))
            self.rows_written += written
            if failure is not None:
                raise failure
            return written

    def _drop(self, rows: int, error: BaseException) -> None:
        self.rows_dropped += rows
        logger.error(
            "prediction log %s: %d row(s) dropped: %s: %s",
            self.path,
            rows,
            type(error).__name__,
            error,
        )

    def _tables_one_by_one(self, pieces: list[Any]) -> tuple[list[Any], Exception | None]:
        """The buffered appends that can be written, each on its own (a list of records
        record by record), and the first error of those that cannot (dropped)."""
        tables: list[Any] = []
        failure: Exception | None = None
        for piece in pieces:
            try:
                tables.append(self._table([piece]))
                continue
            except (ValueError, TypeError) as exc:
                if not isinstance(piece, list) or len(piece) == 1:
                    self._drop(_rows_of(piece), exc)
                    failure = failure or exc
                    continue
            for record in piece:
                try:
                    tables.append(self._table([[record]]))
                except (ValueError, TypeError) as exc:
                    self._drop(1, exc)
                    failure = failure or exc
        return tables, failure

    def close(self) -> None:
        """Flush and stop the background writer. The log can still be read."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        self.flush()
        _OPEN_LOGS.discard(self)

    def __enter__(self) -> PredictionLog:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def buffered_rows(self) -> int:
        """Rows appended and not yet written."""
        return self._buffered

    def _start_thread(self) -> None:
        if self._thread is not None and self._pid == os.getpid():
            return
        with self._lock:
            if self._thread is not None and self._pid == os.getpid():
                return
            # After a fork the parent's writer thread does not exist in the child.
            self._pid = os.getpid()
            self._thread = threading.Thread(
                target=_writer_loop,
                args=(weakref.ref(self),),
                daemon=True,
                name=f"monitorkit-log-writer:{self.path.name}",
            )
            self._thread.start()

    def _new_ids(self, count: int) -> Any:
        import numpy as np

        with self._lock:
            start = self._id_counter
            self._id_counter += count
        numbers = np.arange(start, start + count).astype(str)
        return np.char.add(f"{self._id_prefix}-", numbers).astype(object)

    def _table(self, buffered: list[Any]) -> Any:
        """One arrow table of the buffered rows, with timestamp and id filled in."""
        import pandas as pd
        import pyarrow as pa

        pieces = [
            self._check_table(_arrow(pd.DataFrame.from_records(p)))
            if isinstance(p, list)
            else p
            if isinstance(p, pa.Table)
            else self._check_table(_arrow(p))
            for p in buffered
        ]
        pieces = [self._with_time_and_id(piece) for piece in pieces]
        if len(pieces) == 1:
            return pieces[0]
        dtypes: dict[str, str] = {}
        for piece in reversed(pieces):  # the first append's type of a column wins
            dtypes.update(_dtypes_of(piece))
        try:
            table = pa.concat_tables(pieces, promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise InputError(
                f"rows appended to the prediction log '{self.path}' do not fit together: "
                f"{exc}. Give each column one type in every append."
            ) from exc
        return _with_dtypes(table, dtypes)

    # ---- the log's column types ----------------------------------------------------------------

    def _log_types(self) -> dict[str, Any]:
        """Column -> arrow type, read from the log's newest data file the first time."""
        if self._types is None:
            with self._types_lock:
                if self._types is None:
                    self._types, self._first_dtypes = _types_on_disk(self.path, self.partition)
        return self._types

    def _check_table(self, table: Any) -> Any:
        """``table`` with its columns cast to the log's types (a column the log has not seen
        yet fixes its type); :class:`InputError` naming the column when one does not fit."""
        import pyarrow as pa

        types = self._log_types()
        dtypes = _dtypes_of(table)
        for position, name in enumerate(table.column_names):
            if name in (self.timestamp, self.id):
                continue  # the log's own columns: made times and strings on write
            column = table.column(position)
            given = column.type
            if pa.types.is_timestamp(given):
                _check_microseconds(column, name, self.path)
            expected = types.get(name)
            if expected is None:
                if pa.types.is_null(given):
                    continue  # no values: the type is fixed by the first values
                with self._types_lock:
                    expected = types.setdefault(name, given)
                    self._first_dtypes.setdefault(name, dtypes.get(name, ""))
            if given != expected:
                fitted = _fit(column, expected)
                if fitted is None:
                    raise InputError(
                        f"column '{name}' of the prediction log '{self.path}' holds "
                        f"{_type_name(expected)} (fixed by the first rows written to the log), "
                        f"but these rows give {_type_name(given)}: the rows were not logged. "
                        f"Append '{name}' as {_type_name(expected)} in every append (convert "
                        f"it, e.g. with .astype()), or log these values under another column "
                        f"name."
                    )
                table = table.set_column(position, name, fitted)
            first = self._first_dtypes.get(name)
            if first:  # read back with the pandas dtype the column was first appended with
                dtypes[name] = first
        return _with_dtypes(table, dtypes)

    def _check_record(self, record: Mapping[str, Any]) -> None:
        """Raise :class:`InputError` when a value of ``record`` does not fit the log's type
        of its column. Cheap for the common case: a (column, Python type) that fitted without
        a cast before is not checked again."""
        # the columns and Python types of the whole record: one look-up for the usual call
        signature = (tuple(record), tuple(map(type, record.values())))
        if signature in self._accepted_records:
            return
        accepted, remember = self._accepted, True
        for name, value in record.items():
            if value is None or name in (self.timestamp, self.id):
                continue
            if (name, type(value)) not in accepted:
                remember = self._check_value(name, value) and remember
        if remember and len(self._accepted_records) < _MAX_SIGNATURES:
            self._accepted_records.add(signature)

    def _check_value(self, name: str, value: Any) -> bool:
        """Check one value; whether its (column, Python type) is now known to fit."""
        import pandas as pd

        types = self._log_types()
        expected = types.get(name)
        table = _arrow(pd.DataFrame({name: [value]}))
        given = table.schema.field(0).type
        self._check_table(table)
        # Remembered when the type alone decides: not when a cast was needed (31.0 fits an
        # integer column, 31.5 does not), nor for times that may hold nanoseconds.
        exact_type = expected is None or given == expected
        if exact_type and (type(value) is dt.datetime or not _is_time(given)):
            self._accepted.add((name, type(value)))
            return True
        return False

    def _check_frame(self, frame: Any) -> None:
        """Raise :class:`InputError` when a column of ``frame`` does not fit the log's type
        of it. A (column, dtype) that fitted without a cast before is not checked again; the
        others are converted to arrow column by column (the whole frame is converted when
        it is written, in the writer's thread)."""
        accepted = self._accepted
        for position, (name, dtype) in enumerate(frame.dtypes.items()):
            if (name, dtype) in accepted or name in (self.timestamp, self.id):
                continue
            expected = self._log_types().get(str(name))
            table = _arrow(frame.iloc[:, [position]])
            given = table.schema.field(0).type
            self._check_table(table)
            exact_type = expected is None or given == expected
            if str(dtype) != "object" and exact_type and not _is_time(given):
                accepted.add((name, dtype))

    def _with_time_and_id(self, table: Any) -> Any:
        import pyarrow as pa

        names = table.column_names
        if self.timestamp in names:
            column = table.column(self.timestamp)
            if not pa.types.is_timestamp(column.type):
                try:
                    stamps = _utc_column(column)
                except (ValueError, TypeError) as exc:
                    raise InputError(
                        f"the log's timestamp column '{self.timestamp}' holds values that are "
                        f"not times ({column.type}); pass datetimes or ISO 8601 strings."
                    ) from exc
                table = table.set_column(names.index(self.timestamp), self.timestamp, stamps)
            elif column.type.tz is None:  # naive times are UTC
                typed = pa.timestamp(column.type.unit, tz="UTC")
                table = table.set_column(
                    names.index(self.timestamp), self.timestamp, column.cast(typed)
                )
            column = table.column(self.timestamp)
            if column.null_count:  # rows without a time get the time of the write
                import pyarrow.compute as pc

                now = pa.scalar(_now(), pa.timestamp("us", "UTC")).cast(column.type)
                table = table.set_column(
                    names.index(self.timestamp), self.timestamp, pc.fill_null(column, now)
                )
        else:
            stamps = pa.array([_now()] * table.num_rows, pa.timestamp("us", "UTC"))
            table = table.append_column(self.timestamp, stamps)
        dtypes = _dtypes_of(table)
        dtypes[self.timestamp] = f"datetime64[{table.column(self.timestamp).type.unit}, UTC]"
        names = table.column_names
        if self.id not in names:
            dtypes.pop(self.id, None)
            table = table.append_column(
                self.id, pa.array(self._new_ids(table.num_rows), pa.string())
            )
        elif table.column(self.id).null_count:
            import pyarrow.compute as pc

            column = table.column(self.id)
            if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
                column = column.cast(pa.string())
            fresh = pa.array(self._new_ids(table.num_rows), pa.string())
            table = table.set_column(
                names.index(self.id), self.id, pc.if_else(pc.is_null(column), fresh, column)
            )
            dtypes.pop(self.id, None)
        else:
            column = table.column(self.id)
            if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
                # ids are strings on disk (labels are joined by them); the dtype appended is
                # restored on read
                table = table.set_column(names.index(self.id), self.id, column.cast(pa.string()))
        return _for_disk(_with_dtypes(table, dtypes), self.timestamp, self.path)

    def _write_days(self, table: Any, folder: Path, key: str | None = None) -> int:
        """Write ``table`` as one new file per day of ``key`` (default: the timestamp)."""
        import pyarrow.compute as pc

        key = key or self.timestamp
        days = pc.strftime(table.column(key), format="%Y-%m-%d")
        unique = pc.unique(days).to_pylist()
        written = 0
        for day in unique:
            part = table if len(unique) == 1 else table.filter(pc.equal(days, day))
            _write_file(
                part,
                folder / f"{self.partition}={day}",
                compression=self.compression,
                sync=self.sync,
            )
            written += part.num_rows
            self.files_written += 1
        return written

    # ---- late arrivals -------------------------------------------------------------------------

    def add_labels(self, rows: Any) -> int:
        """Record ground truth that arrived after the predictions (written at once).

        ``rows`` holds the request id column and the label column(s); :meth:`read` joins them
        onto the predictions by request id. A request labelled twice keeps the latest label.
        Returns the rows written.
        """
        return self._add_late(rows, LABELS_FOLDER, "labels")

    def add_outcomes(self, rows: Any) -> int:
        """Record business outcomes that arrived later (a click, a purchase, a refund),
        joined like :meth:`add_labels`; the latest outcome of a request wins."""
        return self._add_late(rows, OUTCOMES_FOLDER, "outcomes")

    def _add_late(self, rows: Any, folder: str, what: str) -> int:
        import pyarrow as pa

        frame = _as_frame([rows] if isinstance(rows, Mapping) else rows)
        if self.id not in frame.columns:
            raise InputError(
                f"the {what} have no request id column '{self.id}' (they have: "
                f"{', '.join(map(repr, list(frame.columns)[:8]))}); the {what} are joined to "
                "the predictions by it."
            )
        if len(frame.columns) < 2:
            raise InputError(f"the {what} hold only the request id; add the {what} column(s).")
        if len(frame) == 0:
            return 0
        table = _arrow(frame)
        if table.column(self.id).type != pa.string():
            table = table.set_column(
                table.column_names.index(self.id), self.id, table.column(self.id).cast(pa.string())
            )
        arrived = pa.array([_now()] * table.num_rows, pa.timestamp("us", "UTC"))
        table = _for_disk(table.append_column(ARRIVED_COLUMN, arrived), ARRIVED_COLUMN, self.path)
        with self._write_lock:
            return self._write_days(table, self.path / folder, key=ARRIVED_COLUMN)

    # ---- reading ---------------------------------------------------------------------------

    def read(
        self,
        start: Any = None,
        end: Any = None,
        *,
        columns: Iterable[str] | None = None,
        labels: bool = True,
    ) -> Any:
        """The logged rows with ``start <= timestamp < end`` as a DataFrame, oldest file first.

        Rows still in the buffer are flushed first. Labels and outcomes recorded with
        :meth:`add_labels` / :meth:`add_outcomes` are joined by request id (``labels=False``
        leaves them out): their columns replace the prediction's where they arrived, so a
        target logged empty is filled in.

        Parameters
        ----------
        start, end
            Dates or times (strings, datetimes); naive ones are UTC. None: unbounded.
        columns
            Only these columns of the predictions (the timestamp and id are always read).
        """
        self.flush()
        return read_log(self.path, start, end, columns=columns, labels=labels)

    def between(self, start: Any = None, end: Any = None) -> LogRange:
        """The log's rows from ``start`` to ``end``, as an input for reports
        (``mk.DriftReport(reference, log.between("2026-05-01", "2026-05-08"))``)."""
        self.flush()
        return LogRange(str(self.path), _utc(start, "start"), _utc(end, "end"))

    def __monitorkit_rows__(self) -> Any:
        return self.read()

    def __repr__(self) -> str:
        return f"PredictionLog({str(self.path)!r})"


class LogRange:
    """A time range of a prediction log, accepted wherever monitorkit reads a table."""

    def __init__(self, path: str, start: Any, end: Any) -> None:
        self.path, self.start, self.end = path, start, end

    def read(self) -> Any:
        return read_log(self.path, self.start, self.end)

    def __monitorkit_rows__(self) -> Any:
        return self.read()

    def __repr__(self) -> str:
        return f"LogRange({self.path!r}, start={self.start}, end={self.end})"


# --------------------------------------------------------------------------------------------
# Writing files
# --------------------------------------------------------------------------------------------

_OPEN_LOGS: weakref.WeakSet[PredictionLog] = weakref.WeakSet()


@atexit.register
def _flush_open_logs() -> None:
    for log in list(_OPEN_LOGS):
        try:
            log.close()
        except Exception as exc:  # at exit: say so, never raise
            logger.error("could not flush the prediction log %s at exit: %s", log.path, exc)


def _writer_loop(ref: weakref.ref[PredictionLog]) -> None:
    """Flush when woken (size) or every ``flush_seconds`` (time); ends with its log."""
    while True:
        log = ref()
        if log is None or log._closed:
            return
        wake, seconds = log._wake, log.flush_seconds
        del log  # the log may be collected while this thread waits
        wake.wait(seconds)
        wake.clear()
        log = ref()
        if log is None or log._closed:
            return
        try:
            log.flush()
        except Exception as exc:  # the serving path must not die with the writer
            logger.error(
                "prediction log %s: flush failed: %s: %s", log.path, type(exc).__name__, exc
            )
        del log


def _write_file(table: Any, folder: Path, *, compression: str, sync: bool) -> Path:
    """Write ``table`` to a new, complete file in ``folder``: a hidden temporary name, then a
    rename (readers skip names starting with '.')."""
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    stamp = _now().strftime("%Y%m%dT%H%M%S%fZ")
    name = f"part-{stamp}-{os.getpid()}-{secrets.token_hex(4)}.parquet"
    temporary = folder / f".{name}.tmp"
    final = folder / name
    try:
        with open(temporary, "wb") as sink:
            pq.write_table(
                table,
                sink,
                compression=compression,
                # Spark reads microseconds; nanoseconds it refuses. _for_disk has made every
                # time a whole microsecond: nothing is cut here (else this raises).
                coerce_timestamps="us",
                allow_truncated_timestamps=False,
            )
            if sync:
                sink.flush()
                os.fsync(sink.fileno())
        os.rename(temporary, final)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    return final


def _is_time(arrow_type: Any) -> bool:
    import pyarrow as pa

    return pa.types.is_timestamp(arrow_type)


def _rows_of(piece: Any) -> int:
    return len(piece) if isinstance(piece, list) else getattr(piece, "num_rows", len(piece))


def _type_name(arrow_type: Any) -> str:
    """``integers (int64)``, ``text (large_string)``, ``times (timestamp[us, tz=UTC])`` …"""
    import pyarrow as pa

    if pa.types.is_dictionary(arrow_type):
        return f"categories of {_type_name(arrow_type.value_type)}"
    kinds = (
        (pa.types.is_boolean, "booleans"),
        (pa.types.is_integer, "integers"),
        (pa.types.is_floating, "numbers"),
        (pa.types.is_string, "text"),
        (pa.types.is_large_string, "text"),
        (pa.types.is_timestamp, "times"),
    )
    kind = next((k for test, k in kinds if test(arrow_type)), "values")
    return f"{kind} ({arrow_type})"


def _fit(column: Any, expected: Any) -> Any:
    """``column`` cast to ``expected`` when it is the same kind of value and nothing is lost
    (numbers to numbers, text to text, times to times of the same time-zone awareness);
    None when it does not fit."""
    import pyarrow as pa

    def numeric(t: Any) -> bool:
        return pa.types.is_integer(t) or pa.types.is_floating(t)

    def text(t: Any) -> bool:
        if pa.types.is_dictionary(t):
            return text(t.value_type)
        return pa.types.is_string(t) or pa.types.is_large_string(t)

    given = column.type
    same_kind = (
        pa.types.is_null(given)
        or (numeric(given) and numeric(expected))
        or (text(given) and text(expected))
        or (
            pa.types.is_timestamp(given)
            and pa.types.is_timestamp(expected)
            and (given.tz is None) == (expected.tz is None)
        )
    )
    if not same_kind:
        return None
    try:
        return column.cast(expected)  # safe: 1.5 into integers or 2**60 into floats raises
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None


def _check_microseconds(column: Any, name: str, path: Any) -> None:
    """Raise :class:`InputError` when a time of ``column`` has a part below a microsecond
    (the log stores microseconds; it does not cut a value silently)."""
    import pyarrow as pa

    if column.type.unit != "ns" or column.null_count == len(column):
        return
    try:
        column.cast(pa.timestamp("us", column.type.tz))
    except pa.ArrowInvalid as exc:
        raise InputError(
            f"column '{name}' holds times with nanoseconds, and the prediction log '{path}' "
            "stores times to the microsecond (the unit every parquet reader, Spark too, "
            f"reads): the rows were not logged. Round the times first (e.g. "
            f"frame['{name}'].dt.floor('us')), or log the nanoseconds as integers "
            f"(frame['{name}'].astype('int64'))."
        ) from exc


def _for_disk(table: Any, key: str, path: Any) -> Any:
    """``table`` with its times in microseconds: the log's own time column ``key`` cut to
    the microsecond, any other time column checked to lose nothing."""
    import pyarrow as pa

    for position, field in enumerate(table.schema):
        if not pa.types.is_timestamp(field.type) or field.type.unit != "ns":
            continue
        column = table.column(position)
        if field.name != key:
            _check_microseconds(column, field.name, path)
        unit = pa.timestamp("us", field.type.tz)
        table = table.set_column(position, field.name, column.cast(unit, safe=False))
    return table


def _types_on_disk(path: Path, partition: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The column types (arrow) and first pandas dtypes of the log's newest data file
    (empty for a new log): rows appended later must fit them."""
    import pyarrow.parquet as pq

    try:
        days = sorted(
            (d for d in path.iterdir() if d.name.startswith(f"{partition}=") and d.is_dir()),
            reverse=True,
        )
        for day in days:
            files = sorted(
                f
                for f in day.iterdir()
                if f.suffix == ".parquet" and not f.name.startswith((".", "_"))
            )
            if files:
                schema = pq.read_schema(files[-1])
                dtypes = json.loads((schema.metadata or {}).get(_DTYPES_KEY, b"{}"))
                return {f.name: f.type for f in schema}, dtypes
    except (OSError, ValueError) as exc:  # unreadable: the next appends fix the types
        logger.warning("prediction log %s: could not read its column types: %s", path, exc)
    return {}, {}


def _dtypes_of(table: Any) -> dict[str, str]:
    return json.loads((table.schema.metadata or {}).get(_DTYPES_KEY, b"{}"))


def _with_dtypes(table: Any, dtypes: dict[str, str]) -> Any:
    """``table`` whose metadata records the pandas dtype of each column (and nothing else:
    pandas' own metadata would undo the typing of the timestamp column on read)."""
    return table.replace_schema_metadata({_DTYPES_KEY: json.dumps(dtypes).encode()})


def _as_frame(rows: Any) -> Any:
    import pandas as pd

    if isinstance(rows, pd.DataFrame):
        return rows
    if isinstance(rows, list):
        return pd.DataFrame.from_records(rows)
    module = type(rows).__module__
    if module.startswith("pyarrow") and hasattr(rows, "to_pandas"):
        return rows.to_pandas()
    if module.startswith("polars") and hasattr(rows, "to_pandas"):
        return rows.to_pandas()
    raise InputError(
        f"a prediction log appends a record (dict), a list of dicts, a pandas DataFrame or a "
        f"pyarrow Table; got {type(rows).__name__}."
    )


def _arrow(frame: Any) -> Any:
    """An arrow table of ``frame``, its pandas dtypes in the metadata (see :func:`_to_pandas`)."""
    import pyarrow as pa

    non_string = [c for c in frame.columns if not isinstance(c, str)]
    if non_string:
        frame = frame.rename(columns={c: str(c) for c in non_string})
    try:
        # One thread: at interpreter exit (the last flush) Python refuses new thread pools.
        table = pa.Table.from_pandas(frame, preserve_index=False, nthreads=1)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
        raise InputError(
            f"these rows cannot be written to parquet: {exc}. Give each column one type "
            "(e.g. numbers or strings, not both)."
        ) from exc
    return _with_dtypes(table, {str(c): str(t) for c, t in frame.dtypes.items()})


def _utc_column(column: Any) -> Any:
    import pandas as pd
    import pyarrow as pa

    values = pd.to_datetime(column.to_pandas(), utc=True, format="ISO8601")
    return pa.array(values, pa.timestamp("us", "UTC"))


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def read_marker(path: str | os.PathLike) -> dict[str, Any]:
    """The ``_monitorkit_log.json`` of a log folder."""
    marker = Path(path) / MARKER_NAME
    try:
        meta = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataSourceError(f"'{marker}' is not a readable prediction log marker: {exc}") from exc
    if meta.get("format") != LOG_FORMAT:
        raise DataSourceError(f"'{marker}' does not describe a monitorkit prediction log.")
    if meta.get("version", 0) > LOG_FORMAT_VERSION:
        raise DataSourceError(
            f"the prediction log '{path}' has format version {meta.get('version')}; this "
            f"monitorkit reads version {LOG_FORMAT_VERSION}. Upgrade monitorkit."
        )
    return meta


def is_log(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a prediction log folder (it holds ``_monitorkit_log.json``)."""
    try:
        return (Path(path) / MARKER_NAME).is_file()
    except OSError:
        return False


def _day_files(folder: Path, partition: str, first: str | None, last: str | None) -> list[Path]:
    """The data files of ``folder`` in days ``first``..``last`` (inclusive), oldest first."""
    if not folder.is_dir():
        return []
    files = []
    prefix = f"{partition}="
    for day_folder in sorted(folder.iterdir()):
        name = day_folder.name
        if not name.startswith(prefix) or not day_folder.is_dir():
            continue
        day = name[len(prefix) :]
        if (first is not None and day < first) or (last is not None and day > last):
            continue
        files += sorted(
            p
            for p in day_folder.iterdir()
            if p.suffix == ".parquet" and not p.name.startswith((".", "_"))
        )
    return files


def _read_files(files: list[Path], columns: list[str] | None, row_filter: Any) -> Any:
    """The rows of ``files`` as one arrow table (schemas unified: a column missing from a
    file is null there), or None without files."""
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    if not files:
        return None
    schemas = [pq.read_schema(f) for f in files]
    schema = pa.unify_schemas(schemas, promote_options="permissive")
    dtypes: dict[str, str] = {}
    for s in reversed(schemas):  # the oldest file's type of a column wins
        if s.metadata and _DTYPES_KEY in s.metadata:
            dtypes.update(json.loads(s.metadata[_DTYPES_KEY]))
    dataset = ds.dataset([str(f) for f in files], schema=schema, format="parquet")
    wanted = None if columns is None else [c for c in schema.names if c in columns]
    table = dataset.to_table(columns=wanted, filter=row_filter)
    return _with_dtypes(table, dtypes)


def _to_pandas(table: Any) -> Any:
    """``table`` as a DataFrame whose columns have the pandas dtypes they were appended with
    (nullable ``Int64``, ``category``, nanosecond times …) where the values allow it."""
    dtypes = _dtypes_of(table)
    # split_blocks: no copy of every float column into one 2-D block (half the read's time)
    frame = table.to_pandas(split_blocks=True)
    for column, dtype in dtypes.items():
        if column in frame.columns and str(frame[column].dtype) != dtype:
            if (
                dtype
                in (
                    "bool",
                    "int8",
                    "int16",
                    "int32",
                    "int64",
                    "uint8",
                    "uint16",
                    "uint32",
                    "uint64",
                )
                and frame[column].isna().any()
            ):
                continue  # missing values (from appends without the column) stay missing
            try:
                frame[column] = frame[column].astype(dtype)
            except (TypeError, ValueError):
                pass  # e.g. missing values in a column appended as int64: stays float
    return frame


def read_log(
    path: str | os.PathLike,
    start: Any = None,
    end: Any = None,
    *,
    columns: Iterable[str] | None = None,
    labels: bool = True,
) -> Any:
    """The rows of the prediction log at ``path`` (see :meth:`PredictionLog.read`)."""
    import pandas as pd
    import pyarrow.dataset as ds

    path = Path(path)
    meta = read_marker(path)
    timestamp, id_column, partition = meta["timestamp"], meta["id"], meta["partition"]
    start, end = _utc(start, "start"), _utc(end, "end")
    if start is not None and end is not None and not start < end:
        raise InputError(f"the time range is empty: start {start} is not before end {end}.")
    first = None if start is None else f"{start:%Y-%m-%d}"
    last = None if end is None else f"{end:%Y-%m-%d}"
    files = _day_files(path, partition, first, last)
    condition = None
    if start is not None:
        condition = ds.field(timestamp) >= start.to_pydatetime()
    if end is not None:
        below = ds.field(timestamp) < end.to_pydatetime()
        condition = below if condition is None else condition & below
    wanted = None if columns is None else list(dict.fromkeys([*columns, timestamp, id_column]))
    table = _read_files(files, wanted, condition)
    if table is None:
        return pd.DataFrame(
            {
                timestamp: pd.Series([], dtype="datetime64[us, UTC]"),
                id_column: pd.Series([], dtype=object),
            }
        )
    frame = _to_pandas(table)
    if labels and len(frame):
        for folder in (LABELS_FOLDER, OUTCOMES_FOLDER):
            frame = _join_late(frame, path / folder, partition, id_column)
    return frame


def _join_late(frame: Any, folder: Path, partition: str, id_column: str) -> Any:
    """Left-join the late rows of ``folder`` by request id: the latest arrival per id wins;
    its non-missing values replace the prediction's."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    files = _day_files(folder, partition, None, None)
    if not files:
        return frame
    ids = pa.array(frame[id_column].astype(str).to_numpy(dtype=object), pa.string())
    table = _read_files(files, None, ds.field(id_column).isin(ids))
    if table is None or table.num_rows == 0:
        return frame
    late = _to_pandas(table)
    late = late.sort_values(ARRIVED_COLUMN, kind="stable").drop(columns=ARRIVED_COLUMN)
    late = late.drop_duplicates(id_column, keep="last")
    overlap = [c for c in late.columns if c != id_column and c in frame.columns]
    keys = frame[id_column].astype(str)
    late = late.set_index(late[id_column].astype(str)).drop(columns=id_column)
    aligned = late.reindex(keys.to_numpy())
    aligned.index = frame.index
    frame = frame.copy()
    for column in late.columns:
        arrived = aligned[column]
        if column in overlap:
            frame[column] = arrived.where(arrived.notna(), frame[column])
        else:
            frame[column] = arrived
    return frame


# --------------------------------------------------------------------------------------------
# A log path as an input: "logs/churn", "logs/churn?start=2026-05-01&end=2026-05-08"
# --------------------------------------------------------------------------------------------


def parse_log_source(source: str | os.PathLike) -> tuple[str, Any, Any] | None:
    """``(folder, start, end)`` when ``source`` names a prediction log, optionally with a time
    range (``?start=2026-05-01&end=2026-05-08``, or ``?last=7D``: the 7 days before now), else
    None. A log with a range key other than ``start``, ``end`` and ``last`` is an
    :class:`InputError` naming it."""
    text = os.path.expanduser(os.fspath(source))
    folder, mark, query_text = text.rpartition("?")
    query: dict[str, str] = {}
    if mark and "=" in query_text:
        from urllib.parse import parse_qs

        try:
            parsed = parse_qs(query_text, keep_blank_values=True, strict_parsing=True)
        except ValueError:
            parsed = {}  # not a query string: maybe a path with '?' in it
        unknown = [k for k in parsed if k not in _RANGE_KEYS]
        if unknown and is_log(folder):
            raise InputError(
                f"unknown log range key {unknown[0]!r} in '{text}'; the known keys are "
                f"{', '.join(_RANGE_KEYS)} (e.g. '{folder}?start=2026-05-01&end=2026-05-08' "
                f"or '{folder}?last=7D')."
            )
        if parsed and not unknown:
            text, query = folder, {k: v[-1] for k, v in parsed.items()}
            if not is_log(text):
                raise DataSourceError(
                    f"'{text}' is not a prediction log (it has no {MARKER_NAME}); a time range "
                    "(?start=…&end=…) applies to prediction logs only."
                )
    if not query:
        return (text, None, None) if is_log(text) else None
    if "last" in query:
        if "start" in query:
            raise InputError("give a log range with start= and end=, or last=, not both.")
        import pandas as pd

        try:
            span = pd.Timedelta(query["last"])
        except ValueError as exc:
            raise InputError(
                f"last={query['last']!r} is not a duration; use e.g. last=1D, last=12h."
            ) from exc
        end = _utc(query["end"], "end") if query.get("end") else pd.Timestamp.now(tz="UTC")
        return text, end - span, end
    return text, _utc(query.get("start") or None, "start"), _utc(query.get("end") or None, "end")


def log_rows(source: Any) -> Any:
    """The rows of a prediction log named by ``source`` (an object with
    ``__monitorkit_rows__``, or a log path with an optional range), or None for any other
    source. This is the hook :func:`monitorkit.read_frame` calls first."""
    if hasattr(source, "__monitorkit_rows__"):
        return source.__monitorkit_rows__()
    if isinstance(source, (str, os.PathLike)):
        parsed = parse_log_source(source)
        if parsed is not None:
            return read_log(*parsed)
    return None
