"""Tables from a database: ``mk.sql(query, connection)``, read in record batches.

A :class:`SqlSource` is accepted wherever ``reference`` / ``current`` are (every report,
:meth:`Baseline.from_frame <monitorkit.Baseline.from_frame>`, :func:`monitorkit.profile`, the
monitoring template): it goes through the one input door, :func:`monitorkit.read_frame` /
:func:`monitorkit.schema.iter_batches`, like a parquet file does.

Connections
    * ``duckdb:///path/to/file.db`` (opened read-only), ``duckdb://`` (in memory: query parquet
      or CSV files with ``read_parquet('logs/*.parquet')``; the default when no connection is
      given), or an open ``duckdb.DuckDBPyConnection`` — needs ``pip install 'monitorkit[sql]'``;
    * any SQLAlchemy URL (``postgresql+psycopg://user@host/db``, ``sqlite:///file.db``, …), an
      SQLAlchemy ``Engine`` or ``Connection``, or an open DB-API connection of psycopg or
      sqlite3 — needs ``monitorkit[sql]``, and ``monitorkit[postgres]`` for PostgreSQL;
    * ``database_url_env="WAREHOUSE_URL"`` instead of a connection: the URL is read from that
      environment variable when the query runs, so it is never held by the source, shown in
      its repr, or written to a report.

Parameters are bound by the driver, never formatted into the text: write ``:name`` in the
query (``where ts >= :start``) and pass ``params={"start": ...}``.

Memory. Rows arrive in record batches of ``batch_rows`` rows: DuckDB's Arrow record batch
reader; for a PostgreSQL URL, ADBC (``adbc-driver-postgresql``, in ``monitorkit[postgres]``):
the server sends ``COPY … TO STDOUT`` in binary and the driver decodes it straight into Arrow;
and for other SQLAlchemy databases, open connection objects, or PostgreSQL without ADBC, a
server-side cursor (``stream_results`` with ``yield_per``; PostgreSQL through psycopg names a
cursor on the server). :func:`monitorkit.profile`
and drift against a baseline or profile profile them batch by batch, so memory follows the
batch, not the table. A report comparing rows with rows (exact tests) reads both sides whole:
the log says how many rows it pulled; ``sample=`` (rows drawn at random by the database) and
``timestamp=`` with ``start=`` / ``end=`` (a ``WHERE`` run by the database) bound what is pulled.

Types (:data:`TYPE_MAPPING`; ``NULL`` is missing on every path):

================================================  ==========================  ===========
database type                                     pandas dtype                column kind
================================================  ==========================  ===========
smallint, integer, bigint                         int64 (float64 with NULLs)  numeric [1]
real, double precision, float                     float64                     numeric
numeric / decimal                                 float64                     numeric
boolean                                           bool ("boolean" with NULLs) boolean
text, varchar, char, uuid, json (DuckDB)          string                      [2]
enum                                              category (DuckDB), string   categorical
date                                              datetime64                  datetime
timestamp (without time zone)                     datetime64                  datetime
timestamp with time zone                          datetime64 UTC              datetime
================================================  ==========================  ===========

[1] numeric, or boolean for 0/1, or id for unique increasing integers, as for any frame
(:func:`monitorkit.schema.infer_kind`). [2] inferred from the values as for any frame:
categorical, text, id, or numeric / datetime for strings of numbers / ISO date-times.
Other types (bytea / blob, time of day, interval, arrays and lists, structs, maps, JSON in
PostgreSQL, geometry) raise :class:`~monitorkit.errors.DatabaseError` naming the columns:
leave them out of the select list, or cast them in the query.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from monitorkit.errors import DatabaseError, InputError, MissingDependencyError, SchemaError

logger = logging.getLogger(__name__)

# Rows per fetch. Smaller than files' batches: a driver hands rows over as Python objects,
# which take tens of times the memory of the same values in Arrow.
DEFAULT_BATCH_ROWS = 100_000
CONNECT_TIMEOUT_SECONDS = 10

TYPE_MAPPING = (
    ("smallint, integer, bigint", "int64 (float64 with NULLs)", "numeric"),
    ("real, double precision, float", "float64", "numeric"),
    ("numeric / decimal", "float64", "numeric"),
    ("boolean", 'bool ("boolean" with NULLs)', "boolean"),
    ("text, varchar, char, uuid, json (DuckDB)", "string", "inferred from the values"),
    ("enum", "category (DuckDB), string (PostgreSQL)", "categorical"),
    ("date", "datetime64", "datetime"),
    ("timestamp (without time zone)", "datetime64", "datetime"),
    ("timestamp with time zone", "datetime64 UTC", "datetime"),
)
"""The database types monitorkit reads: (database type, pandas dtype, column kind)."""

SUPPORTED_TYPES = (
    "numbers, numeric/decimal, text/varchar/char, uuid, boolean, enums, date, timestamp "
    "with or without time zone"
)

# `:name` outside quotes and comments (SQLAlchemy's own rule for text(): not after ':', a
# word character or a backslash, and not before ':' — so `x::int` casts stay casts).
_BIND = re.compile(
    r"""('(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/)|(?<![:\w\\]):(\w+)(?!:)""",
    re.DOTALL,
)
_TRAILING = re.compile(r"[\s;]+$")
_SECRET_PARAM = re.compile(r"password|passwd|secret|token|credential", re.IGNORECASE)


# --------------------------------------------------------------------------------------------
# The source
# --------------------------------------------------------------------------------------------


def sql(
    query: str,
    connection: Any = None,
    params: Mapping[str, Any] | None = None,
    *,
    sample: int | None = None,
    timestamp: str | None = None,
    start: Any = None,
    end: Any = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    database_url_env: str | None = None,
    seed: int = 0,
) -> SqlSource:
    """A table read from a database by a query, for any ``reference`` / ``current``.

    Nothing is run until the rows are needed; each read runs the query again.

    Parameters
    ----------
    query
        One ``SELECT`` (or ``WITH … SELECT``) statement. Values come in as ``:name``
        placeholders, bound by the driver: ``"select * from predictions where ts >= :start"``.
    connection
        A database URL — ``duckdb:///file.db``, ``duckdb://``, or any SQLAlchemy URL such as
        ``postgresql+psycopg://user:password@host:5432/db`` or ``sqlite:///file.db`` — or an
        open connection: ``duckdb.DuckDBPyConnection``, SQLAlchemy ``Engine`` / ``Connection``,
        a psycopg or sqlite3 connection. Connections passed in are used, not closed. None
        (the default, without ``database_url_env``): a new in-memory DuckDB database
        (``"duckdb://"``), to query files:
        ``mk.sql("select * from read_parquet('logs/*.parquet')")``.
    params
        Values for the query's ``:name`` placeholders.
    sample
        Read a uniform random sample of this many rows, drawn by the database (DuckDB's
        reservoir sample; elsewhere ``ORDER BY random() LIMIT n``, seeded on PostgreSQL).
    timestamp, start, end
        Keep the rows whose ``timestamp`` column is ``>= start`` and ``< end`` (either may be
        None): a ``WHERE`` around the query, run by the database.
    batch_rows
        Rows per record batch fetched from the database; a reader asking for smaller
        batches (``mk.profile(..., batch_rows=…)``) gets them, never larger ones.
    database_url_env
        Instead of ``connection``: the name of an environment variable holding the URL, read
        when the query runs (the URL is then never held by the source nor shown).
    seed
        Seed of ``sample`` where the database takes one.

    Returns
    -------
    SqlSource

    Raises
    ------
    InputError
        An empty query, bad ``sample`` / ``batch_rows``, a placeholder without a value, or a
        ``params`` value the query has no placeholder for.

    Examples
    --------
    >>> import monitorkit as mk
    >>> source = mk.sql("select 1 as x, 'a' as y", "duckdb://")  # doctest: +SKIP
    >>> mk.read_frame(source).shape  # doctest: +SKIP
    (1, 2)
    """
    if not isinstance(query, str) or not query.strip():
        raise InputError(f"sql: query must be a non-empty SQL string; got {query!r}.")
    if connection is None and not database_url_env:
        connection = "duckdb://"  # the embedded default: parquet and CSV files by SQL
    if sample is not None and (
        isinstance(sample, bool) or not isinstance(sample, int) or sample < 1
    ):
        raise InputError(f"sql: sample must be a positive number of rows; got {sample!r}.")
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, int) or batch_rows < 1:
        raise InputError(f"sql: batch_rows must be a positive integer; got {batch_rows!r}.")
    if (start is not None or end is not None) and not timestamp:
        raise InputError(
            "sql: start= / end= filter on a timestamp column; name it with timestamp='ts'."
        )
    if params is not None and not isinstance(params, Mapping):
        raise InputError(
            f"sql: params must be a mapping of placeholder names to values (the query uses "
            f":name placeholders); got {type(params).__name__}."
        )
    query = _TRAILING.sub("", query)
    start, end = _as_datetime(start, "start"), _as_datetime(end, "end")
    given = dict(params or {})
    missing = [name for name in placeholders(query) if name not in given]
    if missing:
        raise InputError(
            f"sql: the query uses {', '.join(':' + n for n in missing)} but params has no value "
            f"for {'it' if len(missing) == 1 else 'them'} (query: {shorten(query)}); pass "
            f"params={{{', '.join(repr(n) + ': …' for n in missing)}}}."
        )
    unused = [n for n, v in given.items() if v is not None and n not in placeholders(query)]
    if unused:
        raise InputError(
            _unused_parameters_message(
                f"sql: params has {', '.join(repr(n) for n in unused)}",
                unused,
                query,
                "or leave "
                + ("them" if len(unused) > 1 else "it")
                + " out of params"
                + (
                    " (timestamp='ts', start=…, end=… have monitorkit add that WHERE)"
                    if any(n in _TIME_PARAMETERS for n in unused)
                    else ""
                ),
            )
        )
    used = {name: _plain_value(given[name]) for name in placeholders(query)}
    return SqlSource(
        query=query,
        connection=connection,
        params=used,
        sample=sample,
        timestamp=timestamp,
        start=_plain_value(start),
        end=_plain_value(end),
        batch_rows=batch_rows,
        database_url_env=database_url_env,
        seed=seed,
    )


@dataclass(frozen=True, eq=False)
class SqlSource:
    """A query on a database, read when needed (made by :func:`monitorkit.sql`).

    Its repr and :meth:`describe` show the query and the database's name, never credentials.
    """

    query: str
    connection: Any = field(repr=False)
    params: Mapping[str, Any] = field(default_factory=dict)
    sample: int | None = None
    timestamp: str | None = None
    start: Any = None
    end: Any = None
    batch_rows: int = DEFAULT_BATCH_ROWS
    database_url_env: str | None = None
    seed: int = 0

    # ---- what it is --------------------------------------------------------------------

    @property
    def database(self) -> dict[str, str | None]:
        """``{"dialect": …, "database": …}`` — the database's kind and name, no credentials.

        For a ``database_url_env`` source whose variable is not set, both are None."""
        try:
            return _Connector(self).database()
        except DatabaseError:
            return {"dialect": None, "database": None}

    def describe(self) -> dict[str, Any]:
        """What ``summary.json`` records of this source: the query, its parameters (secret
        names redacted), the pushdowns, and the database's kind and name."""
        return {
            "kind": "sql",
            "query": self.query,
            "params": {
                k: ("***" if _SECRET_PARAM.search(k) else _json_value(v))
                for k, v in self.params.items()
            },
            "sample": self.sample,
            "timestamp": self.timestamp,
            "start": _json_value(self.start),
            "end": _json_value(self.end),
            **self.database,
        }

    def __repr__(self) -> str:
        where = self.database
        name = (
            f"{where['dialect']} database {where['database']!r}"
            if where["dialect"]
            else (f"the database in ${self.database_url_env}")
        )
        extra = f", sample={self.sample}" if self.sample else ""
        if self.timestamp:
            extra += f", {self.timestamp} in [{self.start}, {self.end})"
        return f"<SqlSource on {name}: {shorten(self.query)}{extra}>"

    # ---- reading ------------------------------------------------------------------------

    def batches(self, name: str = "data", batch_rows: int | None = None) -> Iterator[pd.DataFrame]:
        """The rows as DataFrames of at most ``batch_rows`` rows, fetched as they go.

        The query runs, and its first batch is fetched, by this call, so that an unreachable
        database, refused credentials, a wrong query, unsupported types and an empty result
        raise here (:class:`~monitorkit.errors.DatabaseError`,
        :class:`~monitorkit.errors.SchemaError`), not at the first ``next()``.
        """
        rows = min(batch_rows or self.batch_rows, self.batch_rows)
        reader = _Connector(self).open(name, rows)
        try:
            first = next(reader, None)
        except BaseException:
            reader.close()
            raise
        if first is None or len(first) == 0:
            reader.close()
            columns = [] if first is None else list(first.columns)
            raise SchemaError(
                f"{name}: the query returned no rows (query: {shorten(self.query)}"
                + (f"; columns: {', '.join(columns[:8])}" if columns else "")
                + f"{self._bounds_text()}). Check the query's WHERE clause and its parameters "
                "(e.g. the time range given with start / end)."
            )
        return _chain(first, reader)

    def read(self, name: str = "data") -> pd.DataFrame:
        """All the rows in one DataFrame (the log says how many were pulled)."""
        frames = list(self.batches(name))
        frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        del frames
        logger.info(
            "%s: pulled %s rows x %s columns into memory from %s (query: %s)",
            name,
            f"{len(frame):,}",
            frame.shape[1],
            self.label,
            shorten(self.query),
        )
        return frame

    @property
    def label(self) -> str:
        """A short name for progress bars and messages: ``postgresql database 'warehouse'``."""
        where = self.database
        if where["dialect"] is None:
            return f"the database in ${self.database_url_env}"
        return f"{where['dialect']} database {where['database']!r}"

    def _bounds_text(self) -> str:
        parts = []
        if self.params:
            shown = self.describe()["params"]
            parts.append("params " + ", ".join(f"{k}={v!r}" for k, v in shown.items()))
        if self.timestamp:
            parts.append(f"{self.timestamp} in [{self.start}, {self.end})")
        if self.sample:
            parts.append(f"sample={self.sample}")
        return ("; " + "; ".join(parts)) if parts else ""


def _unused_parameters_message(given: str, names: list[str], query: str, other_fix: str) -> str:
    """Values given for placeholders the query does not have, which would limit nothing: the
    message, ending with how to use them and ``other_fix``."""
    marks = ", ".join(":" + n for n in names)
    if any(n in _TIME_PARAMETERS for n in names):
        use = (
            "write :start / :end in the query's WHERE clause on its timestamp column "
            '(… where "timestamp" >= :start and "timestamp" < :end)'
        )
    else:
        use = f"write {marks} in the query where the value belongs (… where x = :{names[0]})"
    return (
        f"{given} but the query has no {marks} placeholder{'s' if len(names) > 1 else ''}, so "
        f"{'it limits' if len(names) == 1 else 'they limit'} nothing (query: {shorten(query)}); "
        f"{use}, {other_fix}."
    )


def placeholders(query: str) -> list[str]:
    """The ``:name`` placeholders of a query, in order, each once (quotes and comments and
    ``::`` casts left alone).

    >>> placeholders("select * from t where ts >= :start and ts < :end and x::int = 1")
    ['start', 'end']
    """
    names: list[str] = []
    for match in _BIND.finditer(query):
        if match.group(2) and match.group(2) not in names:
            names.append(match.group(2))
    return names


def shorten(query: str, limit: int = 200) -> str:
    """A query on one line, cut at ``limit`` characters, quoted for messages."""
    flat = " ".join(query.split())
    return repr(flat if len(flat) <= limit else flat[: limit - 1] + "…")


def _dollar_placeholders(query: str) -> str:
    """``:name`` → ``$name`` (DuckDB's named parameters), outside quotes and comments."""
    return _BIND.sub(lambda m: m.group(1) or f"${m.group(2)}", query)


def _numbered_placeholders(query: str, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """``:name`` → ``$1``, ``$2``, … (PostgreSQL's positional parameters, which ADBC binds),
    outside quotes and comments, and the values in that order; a name used twice is one
    number.

    >>> _numbered_placeholders("select :a, ':a', cast(:b as int), :a", {"a": 1, "b": "2"})
    ("select $1, ':a', cast($2 as int), $1", [1, '2'])
    """
    numbers: dict[str, int] = {}

    def number(match: re.Match) -> str:
        if match.group(1):
            return match.group(1)
        numbers.setdefault(match.group(2), len(numbers) + 1)
        return f"${numbers[match.group(2)]}"

    text = _BIND.sub(number, query)
    return text, [params[name] for name in numbers]


def _plain_value(value: Any) -> Any:
    """A parameter value as a plain Python value a driver binds (numpy / pandas scalars)."""
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _as_datetime(value: Any, name: str) -> Any:
    """``start`` / ``end`` given as an ISO 8601 string, as a datetime (bound as a timestamp)."""
    if not isinstance(value, str):
        return value
    try:
        return pd.Timestamp(value).to_pydatetime()
    except ValueError:
        raise InputError(
            f"sql: {name} must be a date-time (an ISO 8601 string such as '2026-11-01' or "
            f"'2026-11-01T06:00:00Z', or a datetime); got {value!r}."
        ) from None


def _json_value(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _chain(first: pd.DataFrame, reader: _Reader) -> Iterator[pd.DataFrame]:
    try:
        yield first
        del first
        yield from reader
    finally:
        reader.close()


# --------------------------------------------------------------------------------------------
# Connections: DuckDB natively, every other database through SQLAlchemy
# --------------------------------------------------------------------------------------------


def _module_of(value: Any) -> str:
    return type(value).__module__ or ""


class _Connector:
    """Opens a source's connection, runs its query, and turns failures into messages."""

    def __init__(self, source: SqlSource) -> None:
        self.source = source
        connection = source.connection
        if connection is None:
            variable = source.database_url_env
            connection = os.environ.get(variable or "", "")
            if not connection:
                raise DatabaseError(
                    f"the environment variable {variable} is not set, so the query "
                    f"{shorten(source.query)} has no database to run on. Set it to the "
                    f"database URL, e.g. export {variable}='postgresql+psycopg://user:password"
                    "@host:5432/dbname' (or 'duckdb:///path/to/file.db'); the URL is never "
                    "written to a report."
                )
        self.connection = connection
        if isinstance(connection, str):
            self.kind = "duckdb" if connection.lower().startswith("duckdb:") else "sqlalchemy"
        elif _module_of(connection).startswith(("duckdb", "_duckdb")):
            self.kind = "duckdb"
        elif _module_of(connection).startswith("sqlalchemy") or _is_dbapi(connection):
            self.kind = "sqlalchemy"
        else:
            raise InputError(
                f"sql: connection is a {type(connection).__name__}; expected a database URL "
                "('duckdb:///file.db', 'postgresql+psycopg://user@host/db', 'sqlite:///file.db'), "
                "a duckdb connection, an SQLAlchemy Engine or Connection, or a psycopg / sqlite3 "
                "connection."
            )

    # ---- names --------------------------------------------------------------------------

    def database(self) -> dict[str, str | None]:
        connection = self.connection
        if self.kind == "duckdb":
            if isinstance(connection, str):
                path = connection[len("duckdb://") :].removeprefix("/")
                return {"dialect": "duckdb", "database": os.path.basename(path) or ":memory:"}
            return {"dialect": "duckdb", "database": _duckdb_name(connection)}
        if isinstance(connection, str):
            url = self._url()
            database = url.database
            if url.get_backend_name() in ("sqlite", "duckdb") and database:
                database = os.path.basename(database)
            return {"dialect": url.get_backend_name(), "database": database or None}
        engine_like = getattr(connection, "engine", None)
        if engine_like is not None:
            url = engine_like.url
            return {"dialect": url.get_backend_name(), "database": url.database or None}
        module = _module_of(connection)
        if module.startswith("psycopg"):
            info = getattr(connection, "info", None)
            return {"dialect": "postgresql", "database": getattr(info, "dbname", None)}
        if module.startswith("sqlite3"):
            return {"dialect": "sqlite", "database": None}
        return {"dialect": module.split(".")[0], "database": None}

    def _url(self):
        sqlalchemy = _require("sqlalchemy")
        try:
            url = sqlalchemy.engine.make_url(self.connection)
        except sqlalchemy.exc.ArgumentError:
            where = (
                f"the environment variable {self.source.database_url_env}"
                if self.source.connection is None
                else "connection"
            )
            raise DatabaseError(
                f"{where} is not a database URL (query: {shorten(self.source.query)}); expected "
                "e.g. 'postgresql+psycopg://user:password@host:5432/db', 'sqlite:///file.db' or "
                "'duckdb:///file.db'."
            ) from None
        if url.drivername == "postgresql":
            # SQLAlchemy's default PostgreSQL driver is psycopg2; use psycopg 3 when only it is
            # installed (monitorkit[postgres]).
            try:
                import psycopg2  # noqa: F401
            except ImportError:
                url = url.set(drivername="postgresql+psycopg")
        return url

    def secrets(self) -> list[str]:
        """The URL and its password: values to scrub from anything written."""
        if not isinstance(self.connection, str):
            return []
        values = [self.connection]
        if self.kind == "sqlalchemy":
            try:
                password = self._url().password
            except DatabaseError:
                password = None
            if password:
                values.append(str(password))
        return values

    # ---- running ------------------------------------------------------------------------

    def open(self, name: str, batch_rows: int) -> _Reader:
        if self.kind == "duckdb":
            return self._open_duckdb(name, batch_rows)
        if isinstance(self.connection, str):
            url = self._url()
            adbc = _adbc_postgresql() if url.get_backend_name() == "postgresql" else None
            if adbc is not None:
                try:
                    return self._open_adbc(adbc, url, name, batch_rows)
                except _UntypedParameter as exc:
                    if not _psycopg_installed():
                        raise exc.error from None
                    # ADBC binds a Python str as text and None with no type, where psycopg
                    # lets the server infer them: `date_column >= :day` with day="2026-01-01"
                    # only runs through psycopg. Same rows, just not as fast.
                    logger.info(
                        "%s: PostgreSQL did not accept a text or NULL parameter as ADBC binds "
                        "it (%s); reading through SQLAlchemy and psycopg instead",
                        name,
                        exc.error,
                    )
        return self._open_sqlalchemy(name, batch_rows)

    def _statement(self, quote, random_order: str | None) -> tuple[str, dict[str, Any]]:
        """The query with its pushdowns, and all its parameters."""
        source = self.source
        statement, params = source.query, dict(source.params)
        if source.timestamp and (source.start is not None or source.end is not None):
            conditions = []
            column = quote(source.timestamp)
            if source.start is not None:
                conditions.append(f"{column} >= :monitorkit_start")
                params["monitorkit_start"] = source.start
            if source.end is not None:
                conditions.append(f"{column} < :monitorkit_end")
                params["monitorkit_end"] = source.end
            statement = (
                f"SELECT * FROM ({statement}\n) AS monitorkit_rows WHERE {' AND '.join(conditions)}"
            )
        if source.sample:
            params["monitorkit_sample"] = source.sample
            if random_order is None:  # DuckDB
                statement = (
                    f"SELECT * FROM ({statement}\n) AS monitorkit_sampled "
                    "USING SAMPLE reservoir(:monitorkit_sample ROWS) "
                    f"REPEATABLE ({int(source.seed)})"
                )
            else:
                statement = (
                    f"SELECT * FROM ({statement}\n) AS monitorkit_sampled "
                    f"ORDER BY {random_order} LIMIT :monitorkit_sample"
                )
        return statement, params

    def _open_duckdb(self, name: str, batch_rows: int) -> _Reader:
        duckdb = _require("duckdb")
        connection, owned = self.connection, False
        try:
            if isinstance(connection, str):
                path = connection[len("duckdb://") :] if connection.startswith("duckdb://") else ""
                path = path[1:] if path.startswith("/") else path
                if path in ("", ":memory:"):
                    connection = duckdb.connect()
                else:
                    if not os.path.exists(path):
                        raise DatabaseError(
                            f"{name}: the DuckDB file '{path}' does not exist (query: "
                            f"{shorten(self.source.query)}); check the path in the URL "
                            "(duckdb:///relative/path.db, duckdb:////absolute/path.db)."
                        )
                    connection = duckdb.connect(path, read_only=True)
                owned = True
            else:
                connection = connection.cursor()  # its own cursor: the caller's stays usable
                owned = True
            statement, params = self._statement(_quote_double, None)
            sample = params.pop("monitorkit_sample", None)
            if sample is not None:  # a literal: DuckDB's SAMPLE takes no parameter
                statement = statement.replace(":monitorkit_sample", str(int(sample)))
            relation = connection.sql(_dollar_placeholders(statement), params=params or None)
            if relation is None:
                raise DatabaseError(
                    f"{name}: the query returns no table (query: {shorten(self.source.query)}); "
                    "give one SELECT statement."
                )
            if hasattr(relation, "to_arrow_reader"):
                arrow_reader = relation.to_arrow_reader(batch_rows)
            else:  # duckdb < 1.4
                arrow_reader = relation.fetch_arrow_reader(batch_rows)
            try:  # the database's own type names, for messages
                types = dict(zip(relation.columns, (str(t) for t in relation.types)))
            except Exception:
                types = {}
            _check_arrow_schema(arrow_reader.schema, types, name, self.source)
        except duckdb.Error as exc:
            if owned and not isinstance(connection, str):
                connection.close()
            raise self._error(exc, name) from None
        except BaseException:
            if owned and not isinstance(connection, str):
                connection.close()
            raise

        def batches() -> Iterator[Any]:
            try:
                yield from arrow_reader
            except duckdb.Error as exc:
                raise self._error(exc, name) from None

        return _Reader(batches(), types, name, self.source, [connection] if owned else [])

    def _open_adbc(self, dbapi: Any, url: Any, name: str, batch_rows: int) -> _Reader:
        """PostgreSQL through ADBC: the server sends ``COPY … TO STDOUT (FORMAT binary)``,
        the driver decodes it straight into Arrow record batches (no Python objects per
        value), re-cut here into batches of ``batch_rows`` rows."""
        import adbc_driver_manager

        uri = _libpq_uri(url)
        secrets = [*self.secrets(), uri]
        if url.password:
            secrets.append(_quote_url_part(str(url.password)))
        connection = cursor = arrow_reader = None

        def close() -> None:
            # Child handles first: ADBC refuses to close a connection with an open statement.
            _close([item for item in (arrow_reader, cursor, connection) if item is not None])

        statement, params = self._statement(_quote_double, "random()")
        text, values = _numbered_placeholders(statement, params)
        try:
            connection = dbapi.connect(uri)
            cursor = connection.cursor()
            if self.source.sample:
                # random() is reproducible after setseed() in the same session; fetching the
                # result is what runs it.
                cursor.execute("SELECT setseed($1)", ((self.source.seed % 1000) / 1000,))
                cursor.fetchall()
            cursor.execute(text, values or None)
            arrow_reader = cursor.fetch_record_batch()
            schema = arrow_reader.schema
            types = {f.name: _adbc_type_name(f) for f in schema}
            if not len(schema):
                raise DatabaseError(
                    f"{name}: the query returns no rows to read (query: "
                    f"{shorten(self.source.query)}); give one SELECT statement."
                )
            _check_arrow_schema(schema, types, name, self.source, _adbc_unsupported)
        except adbc_driver_manager.Error as exc:
            close()
            error = self._error(exc, name, secrets)
            state = getattr(exc, "sqlstate", None) or ""
            if state in _UNTYPED_PARAMETER_STATES and any(
                value is None or isinstance(value, str) for value in values
            ):
                raise _UntypedParameter(error) from None
            raise error from None
        except BaseException:
            close()
            raise

        def batches() -> Iterator[Any]:
            import pyarrow as pa

            try:
                for batch in _rechunked(arrow_reader, batch_rows):
                    yield _adbc_decoded(batch)
            except (adbc_driver_manager.Error, pa.ArrowException, OSError) as exc:
                raise self._error(exc, name, secrets) from None

        closers = [item for item in (arrow_reader, cursor, connection) if item is not None]
        return _Reader(batches(), types, name, self.source, closers)

    def _open_sqlalchemy(self, name: str, batch_rows: int) -> _Reader:
        sqlalchemy = _require("sqlalchemy")
        connection = self.connection
        closers: list[Any] = []
        try:
            if isinstance(connection, str):
                url = self._url()
                arguments: dict[str, Any] = {}
                if url.get_backend_name() == "postgresql" and "psycopg" in url.drivername:
                    arguments["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
                try:
                    engine = sqlalchemy.create_engine(
                        url, poolclass=sqlalchemy.pool.NullPool, **arguments
                    )
                except ImportError as exc:
                    raise MissingDependencyError(
                        f"{name}: the database driver for '{url.drivername}' is not installed "
                        f"({exc}); for PostgreSQL: pip install 'monitorkit[postgres]'."
                    ) from None
                except sqlalchemy.exc.NoSuchModuleError:
                    raise self._unknown_scheme(url, name) from None
                closers.append(engine)
                opened = engine.connect()
            elif isinstance(connection, sqlalchemy.engine.Engine):
                opened = connection.connect()
            elif isinstance(connection, sqlalchemy.engine.Connection):
                opened = connection
            else:  # a DB-API connection: wrapped, never closed
                engine = _engine_for_dbapi(sqlalchemy, connection)
                opened = engine.connect()
            if opened is not connection:
                closers.insert(0, opened)
            dialect = opened.dialect
            random_order = str(sqlalchemy.func.random().compile(dialect=dialect))
            statement, params = self._statement(dialect.identifier_preparer.quote, random_order)
            if self.source.sample and dialect.name == "postgresql":
                # random() is reproducible after setseed() in the same session.
                seed = (self.source.seed % 1000) / 1000
                opened.execute(sqlalchemy.text("SELECT setseed(:seed)"), {"seed": seed})
            stream = True
            if getattr(connection, "autocommit", False) is True and _is_dbapi(connection):
                # A server-side cursor lives in a transaction, which an autocommit connection
                # never opens: its rows are fetched by the client whole.
                stream = False
                logger.warning(
                    "%s: the connection is in autocommit mode, so the rows are fetched whole, "
                    "not streamed; pass a URL or a connection without autocommit to stream",
                    name,
                )
            streaming = (
                opened.execution_options(stream_results=True, yield_per=batch_rows)
                if stream
                else opened  # (yield_per would ask for a server-side cursor too)
            )
            result = streaming.execute(sqlalchemy.text(statement), params)
            if not result.returns_rows:
                raise DatabaseError(
                    f"{name}: the query returns no rows to read (query: "
                    f"{shorten(self.source.query)}); give one SELECT statement."
                )
            names = list(result.keys())
            description = result.cursor.description if result.cursor is not None else None
            declared = _declared_types(opened, description, len(names))
        except sqlalchemy.exc.DBAPIError as exc:
            _close(closers)
            raise self._error(exc.orig, name) from None
        except sqlalchemy.exc.SQLAlchemyError as exc:
            _close(closers)
            raise DatabaseError(
                f"{name}: the query {shorten(self.source.query)} could not be run: "
                f"{type(exc).__name__}: {_scrubbed(_first_line(exc), self.secrets())}."
            ) from None
        except BaseException:
            _close(closers)
            raise
        closers.insert(0, result)
        plans = [_ColumnPlan(n, d) for n, d in zip(names, declared)]

        def batches() -> Iterator[Any]:
            import pyarrow as pa

            try:
                for rows in result.partitions(batch_rows):
                    columns = list(zip(*rows)) if rows else [() for _ in names]
                    del rows
                    yield pa.RecordBatch.from_arrays(
                        [plan.array(values) for plan, values in zip(plans, columns)], names=names
                    )
            except sqlalchemy.exc.DBAPIError as exc:
                raise self._error(exc.orig, name) from None

        types = {plan.name: plan.declared or "" for plan in plans}
        return _Reader(batches(), types, name, self.source, closers)

    # ---- failures -----------------------------------------------------------------------

    def _unknown_scheme(self, url: Any, name: str) -> DatabaseError:
        """The URL names a database (or driver) SQLAlchemy has no dialect for."""
        backend, _, driver = url.drivername.partition("+")
        where = (
            f"the URL in the environment variable {self.source.database_url_env}"
            if self.source.connection is None
            else "the connection URL"
        )
        if backend == "postgres":
            fix = "write postgresql+psycopg:// (the scheme 'postgres://' is not SQLAlchemy's)"
        elif driver:
            fix = (
                f"install the driver '{driver}' for {backend}, or leave '+{driver}' out to use "
                f"{backend}'s default driver"
            )
        else:
            fix = (
                f"check the spelling, or install the SQLAlchemy dialect package for '{backend}' "
                "(e.g. pip install snowflake-sqlalchemy for snowflake://)"
            )
        return DatabaseError(
            f"{name}: {where} starts with '{url.drivername}://', a database SQLAlchemy has no "
            f"dialect for (query: {shorten(self.source.query)}). Supported: duckdb:// "
            "(pip install 'monitorkit[sql]'), postgresql+psycopg:// (pip install "
            "'monitorkit[postgres]'), sqlite://, and any database whose SQLAlchemy dialect "
            f"is installed (mysql+pymysql://, …); {fix}."
        )

    def _error(
        self, exc: BaseException, name: str, secrets: list[str] | None = None
    ) -> DatabaseError:
        """A DatabaseError saying what went wrong with the query, and the fix."""
        detail = _first_line(exc)
        if _module_of(exc).startswith("adbc_driver"):
            detail = _ADBC_NOISE.sub("", detail)
        # The server's DETAIL and HINT lines: the error is raised without the driver's
        # exception chained (its traceback would fill a report), so they go in the message.
        for label, extra in _server_notes(exc):
            if extra not in detail:
                detail += f" ({label}: {extra.rstrip('.')})"
        detail = _scrubbed(detail, self.secrets() if secrets is None else secrets)
        query = shorten(self.source.query)
        where = self.database()
        database = f"{where['dialect']} database {where['database']!r}"
        url_place = (
            f"the URL in the environment variable {self.source.database_url_env}"
            if self.source.connection is None
            else "the connection URL"
        )
        state = getattr(exc, "sqlstate", None) or ""
        text = str(exc).lower()
        kind = type(exc).__name__
        if (
            state.startswith("28")
            or "password authentication failed" in text
            or ("authentication failed" in text)
        ):
            return DatabaseError(
                f"{name}: {database} refused the credentials ({detail}) for the query {query}. "
                f"Check the user name and password in {url_place}."
            )
        if state == "3D000" or ('database "' in text and "does not exist" in text):
            return DatabaseError(
                f"{name}: {database} does not exist on the server ({detail}; query {query}). "
                f"Check the database name in {url_place}."
            )
        if (
            state.startswith("42")
            or kind
            in (
                "ParserException",
                "CatalogException",
                "BinderException",
            )
            or "syntax error" in text
            or "no such table" in text
            or "no such column" in text
        ):
            return DatabaseError(
                f"{name}: the database rejected the query {query}: {detail}. Fix the query "
                "(run it in a SQL console to see the whole error); values belong in :name "
                "placeholders with params=, not in the text."
            )
        if kind in ("OperationalError", "IOException", "InterfaceError") or state.startswith("08"):
            return DatabaseError(
                f"{name}: could not reach {database} to run the query {query}: {detail}. "
                f"Check that the server is running and reachable, and the host, port and "
                f"database name in {url_place}."
            )
        return DatabaseError(
            f"{name}: the query {query} failed on {database}: {kind}: {detail}. Check the "
            "query and its parameters."
        )


# --------------------------------------------------------------------------------------------
# PostgreSQL through ADBC (adbc-driver-postgresql): COPY in binary, decoded into Arrow
# --------------------------------------------------------------------------------------------

# The server could not type a parameter that ADBC bound as text (a Python str) or as NULL:
# 42883 "operator does not exist: date >= text", 42804 datatype mismatch, 42P18 "could not
# determine data type of parameter". psycopg sends those untyped, and the server infers them.
_UNTYPED_PARAMETER_STATES = ("42883", "42804", "42P18")
# ADBC's status name, its libpq tag and what it was doing, before the server's own words.
_ADBC_NOISE = re.compile(
    r"^(?:[A-Z][A-Z_]+: )?(?:\[libpq\] )?(?:Failed to prepare query: )?(?:ERROR: +)?"
)


class _UntypedParameter(Exception):
    """ADBC's typed parameters were refused where psycopg's untyped ones would not be."""

    def __init__(self, error: DatabaseError) -> None:
        super().__init__(str(error))
        self.error = error


def _adbc_postgresql() -> Any:
    """``adbc_driver_postgresql.dbapi`` when installed, else None (then PostgreSQL is read
    through SQLAlchemy and psycopg)."""
    try:
        import adbc_driver_postgresql.dbapi as dbapi
    except ImportError:
        return None
    return dbapi


def _psycopg_installed() -> bool:
    import importlib.util

    return any(importlib.util.find_spec(name) for name in ("psycopg", "psycopg2"))


def _quote_url_part(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def _libpq_uri(url: Any) -> str:
    """An SQLAlchemy PostgreSQL URL as the libpq URI ADBC connects with (``postgresql://``,
    the same user, password, host, port, database and options), with a connect timeout."""
    uri = url.set(drivername="postgresql")
    if "connect_timeout" not in uri.query:
        uri = uri.update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT_SECONDS)})
    return uri.render_as_string(hide_password=False)


def _adbc_type_name(field_: Any) -> str:
    """The PostgreSQL type name ADBC records in a field's metadata (``_int4`` as ``int4[]``,
    as psycopg names arrays)."""
    metadata = field_.metadata or {}
    name = metadata.get(b"POSTGRESQL:type") or metadata.get(b"ADBC:postgresql:typname") or b""
    name = name.decode("utf-8", "replace")
    if name.startswith("_"):
        return f"{name[1:]}[]"
    return name or str(field_.type)


def _is_opaque(arrow_type: Any, type_name: str | None = None) -> bool:
    import pyarrow as pa

    return (
        isinstance(arrow_type, pa.BaseExtensionType)
        and arrow_type.extension_name == "arrow.opaque"
        and (type_name is None or arrow_type.type_name == type_name)
    )


def _adbc_unsupported(arrow_type: Any) -> bool:
    """Types read through ADBC that monitorkit cannot use: those of every path, JSON (which
    psycopg hands over as dicts and lists, so unsupported there too), and every type ADBC
    passes through undecoded (``arrow.opaque``) but numeric."""
    import pyarrow as pa

    if isinstance(arrow_type, pa.BaseExtensionType) and arrow_type.extension_name == "arrow.json":
        return True
    if _is_opaque(arrow_type):
        return arrow_type.type_name != "numeric"
    return _unsupported(arrow_type)


def _adbc_decoded(batch: Any) -> Any:
    """ADBC's batch as the psycopg path builds it, before :func:`_normalized`: numeric (sent
    as its decimal text) as float64, every integer as int64."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.types as t

    columns = list(batch.columns)
    changed = False
    for position, (field_, column) in enumerate(zip(batch.schema, columns)):
        if _is_opaque(field_.type, "numeric") or _adbc_type_name(field_) == "numeric":
            # 'NaN', 'Infinity' and '-Infinity' parse as the floats; correctly rounded, as
            # float(Decimal(text)) is.
            text = column.storage if isinstance(column.type, pa.BaseExtensionType) else column
            columns[position] = pc.cast(text, pa.float64())
            changed = True
        elif t.is_integer(field_.type) and field_.type != pa.int64():
            columns[position] = pc.cast(column, pa.int64())
            changed = True
    if not changed:
        return batch
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def _rechunked(batches: Any, rows: int) -> Iterator[Any]:
    """Record batches of exactly ``rows`` rows (the last one fewer) from batches of any
    size: slices where a batch holds enough (no copy), joined where it does not."""
    import pyarrow as pa

    pending: list[Any] = []
    count = 0
    for batch in batches:
        offset = 0
        while offset < len(batch):
            take = min(rows - count, len(batch) - offset)
            pending.append(batch.slice(offset, take))
            count += take
            offset += take
            if count == rows:
                yield pending[0] if len(pending) == 1 else _joined(pa, pending)
                pending, count = [], 0
        del batch
    if pending:
        yield pending[0] if len(pending) == 1 else _joined(pa, pending)


def _joined(pa: Any, batches: list[Any]) -> Any:
    if hasattr(pa, "concat_batches"):  # pyarrow >= 19
        return pa.concat_batches(batches)
    return pa.Table.from_batches(batches).combine_chunks().to_batches()[0]


class _Reader:
    """Arrow record batches of a running query, turned into DataFrames one at a time."""

    def __init__(self, batches, types, name, source, closers) -> None:
        self._batches = batches
        self._types = types
        self._name = name
        self._source = source
        self._closers = closers
        self._first = True

    def __iter__(self) -> Iterator[pd.DataFrame]:
        return self

    def __next__(self) -> pd.DataFrame:
        batch = next(self._batches)
        table = _normalized(batch, self._types, self._name, self._source)
        self._first = False
        return _to_pandas(table)

    def close(self) -> None:
        _close(self._closers)
        self._closers = []


def _close(closers: list[Any]) -> None:
    for item in closers:
        try:
            if hasattr(item, "dispose"):
                item.dispose()
            else:
                item.close()
        except Exception:  # closing a broken connection must not hide the real error
            logger.debug("could not close %r", type(item).__name__, exc_info=True)


def _require(module: str):
    from monitorkit.errors import require

    extra = "sql"
    return require(module, extra, "Reading from a database (monitorkit.sql)")


def _is_dbapi(connection: Any) -> bool:
    return _module_of(connection).startswith(("psycopg", "sqlite3", "psycopg2")) and hasattr(
        connection, "cursor"
    )


def _engine_for_dbapi(sqlalchemy: Any, connection: Any) -> Any:
    module = _module_of(connection)
    if module.startswith("psycopg2"):
        url = "postgresql+psycopg2://"
    elif module.startswith("psycopg"):
        url = "postgresql+psycopg://"
    else:
        url = "sqlite://"
    # One connection, the caller's: never closed here (the pool is not disposed).
    return sqlalchemy.create_engine(
        url, creator=lambda: connection, poolclass=sqlalchemy.pool.StaticPool
    )


def _duckdb_name(connection: Any) -> str | None:
    try:
        rows = connection.execute("select current_database()").fetchall()
        return str(rows[0][0])
    except Exception:
        return None


def _quote_double(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    # Drivers put the useful part first, and sometimes a pointer line ("LINE 1: …", "^").
    kept = [line for line in lines[:3] if not set(line) <= {"^", " "}]
    return " ".join(kept).rstrip(".!")


_SERVER_NOTE = re.compile(r"^\s*(DETAIL|HINT):\s*(.+?)\s*$", re.MULTILINE)


def _server_notes(exc: BaseException) -> list[tuple[str, str]]:
    """PostgreSQL's DETAIL and HINT of an error: from psycopg's diagnostics, or the lines
    libpq puts in the text (ADBC)."""
    diagnostics = getattr(exc, "diag", None)
    found = [
        (label, str(value).strip())
        for label, value in (
            ("detail", getattr(diagnostics, "message_detail", None)),
            ("hint", getattr(diagnostics, "message_hint", None)),
        )
        if value
    ]
    if not found:
        found = [(label.lower(), text) for label, text in _SERVER_NOTE.findall(str(exc))]
    return found


def _scrubbed(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


# --------------------------------------------------------------------------------------------
# Types: database values → Arrow → pandas, one mapping for every path
# --------------------------------------------------------------------------------------------

# PostgreSQL type OIDs (psycopg's description type codes) whose values map directly.
_PG_TYPES = {
    16: "bool",
    20: "int64",
    21: "int64",
    23: "int64",
    26: "int64",
    700: "float64",
    701: "float64",
    1700: "decimal",
    25: "string",
    1043: "string",
    1042: "string",
    18: "string",
    19: "string",
    2950: "uuid",
    1082: "date",
    1114: "timestamp",
    1184: "timestamptz",
}


def _declared_types(connection: Any, description: Any, count: int) -> list[str | None]:
    """The database type name of each column where the driver tells it (psycopg), else None."""
    if not description:
        return [None] * count
    names: list[str | None] = []
    for column in description:
        code = column[1]
        if isinstance(code, int) and code:
            names.append(_pg_type_name(code))
        else:
            names.append(None)
    return names


def _pg_type_name(oid: int) -> str:
    try:
        import psycopg

        info = psycopg.adapters.types.get(oid)
    except Exception:
        info = None
    if info is None:
        return f"oid:{oid}"
    return f"{info.name}[]" if getattr(info, "array_oid", None) == oid else str(info.name)


_PG_NAME_TYPES = {
    "bool": "bool",
    "int2": "int64",
    "int4": "int64",
    "int8": "int64",
    "oid": "int64",
    "float4": "float64",
    "float8": "float64",
    "numeric": "decimal",
    "text": "string",
    "varchar": "string",
    "bpchar": "string",
    "char": "string",
    "name": "string",
    "uuid": "uuid",
    "date": "date",
    "timestamp": "timestamp",
    "timestamptz": "timestamptz",
}


class _ColumnPlan:
    """How one column's Python values become an Arrow array, fixed once known so every batch
    of a query is typed alike."""

    def __init__(self, name: str, declared: str | None) -> None:
        self.name = name
        self.declared = declared
        self.plan = _PG_NAME_TYPES.get(declared or "")
        if declared and declared.startswith("oid:"):
            self.plan = None  # a type psycopg does not know (an enum): from the values

    def array(self, values: tuple) -> Any:
        import pyarrow as pa

        plan = self.plan
        if plan is None:
            plan = self._infer(values)
            if plan is None:  # every value NULL in this batch: decide on a later one
                return pa.nulls(len(values))
            self.plan = plan
        try:
            return _typed_array(values, plan)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            # Values of several types in one column (SQLite allows it): text, as a CSV cell
            # would be; numbers among them still count as numbers.
            self.plan = "text"
            return _typed_array(values, "text")

    def _infer(self, values: tuple) -> str | None:
        first = next((v for v in values if v is not None), None)
        if first is None:
            return None
        if isinstance(first, bool):
            return "bool"
        if isinstance(first, int):
            return "int64"
        if isinstance(first, float):
            return "float64"
        if isinstance(first, str):
            return "string"
        if isinstance(first, uuid.UUID):
            return "uuid"
        if isinstance(first, dt.datetime):
            return "timestamptz" if first.tzinfo is not None else "timestamp"
        if isinstance(first, dt.date):
            return "date"
        import decimal

        if isinstance(first, decimal.Decimal):
            return "decimal"
        return "other"


def _typed_array(values: tuple, plan: str) -> Any:
    import pyarrow as pa

    if plan == "bool":
        return pa.array(values, pa.bool_())
    if plan == "int64":
        return pa.array(values, pa.int64())
    if plan == "float64":
        return pa.array(values, pa.float64())
    if plan == "decimal":
        # Decimal → float64: through Python floats (NaN and any scale); missing stays null.
        return pa.array([None if v is None else float(v) for v in values], pa.float64())
    if plan == "string":
        return pa.array(values, pa.string())
    if plan == "uuid":
        return pa.array([None if v is None else str(v) for v in values], pa.string())
    if plan == "text":
        return pa.array([None if v is None else str(v) for v in values], pa.string())
    if plan == "timestamp":
        return pa.array(values, pa.timestamp("us"))
    if plan == "timestamptz":
        return pa.array(values, pa.timestamp("us", tz="UTC"))
    if plan == "date":
        return pa.array(values, pa.date32())
    return pa.array(values)  # anything else: inferred, then judged by _normalized


def _unsupported(arrow_type: Any) -> bool:
    import pyarrow as pa
    import pyarrow.types as t

    if isinstance(arrow_type, pa.BaseExtensionType):
        return str(arrow_type.extension_name) not in ("arrow.uuid", "arrow.json")
    if t.is_dictionary(arrow_type):
        return _unsupported(arrow_type.value_type)
    return not (
        t.is_integer(arrow_type)
        or t.is_floating(arrow_type)
        or t.is_decimal(arrow_type)
        or t.is_boolean(arrow_type)
        or t.is_string(arrow_type)
        or t.is_large_string(arrow_type)
        or (hasattr(t, "is_string_view") and t.is_string_view(arrow_type))
        or t.is_timestamp(arrow_type)
        or t.is_date(arrow_type)
        or t.is_null(arrow_type)
    )


def _check_arrow_schema(
    schema: Any, types: Mapping[str, str], name: str, source: SqlSource, unsupported=None
):
    bad = [f.name for f in schema if (unsupported or _unsupported)(f.type)]
    if bad:
        named = {f.name: types.get(f.name) or str(f.type) for f in schema}
        raise _unsupported_error(bad, named, name, source)


def _unsupported_error(columns, types, name, source) -> DatabaseError:
    shown = ", ".join(f"'{c}' ({types.get(c) or 'unknown type'})" for c in columns[:8])
    return DatabaseError(
        f"{name}: the query {shorten(source.query)} returns column(s) of a type monitorkit "
        f"cannot compare: {shown}. Leave them out of the select list, or cast them in the "
        "query (e.g. CAST(col AS TEXT), EXTRACT(EPOCH FROM duration)). Supported: "
        f"{SUPPORTED_TYPES}."
    )


def _normalized(batch: Any, types: Mapping[str, str], name: str, source: SqlSource) -> Any:
    """A record batch with every column of a type pandas and monitorkit read alike: decimals
    as float64, dates as timestamps, time zones as UTC, UUIDs as strings, all-NULL columns as
    float64. Unsupported types raise :class:`DatabaseError` naming the columns."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.types as t

    arrays, names, bad = [], [], []
    for field_, column in zip(batch.schema, batch.columns):
        kind = field_.type
        if isinstance(kind, pa.BaseExtensionType) and kind.extension_name == "arrow.uuid":
            raw = column.storage.to_pylist()
            column = pa.array([None if v is None else str(uuid.UUID(bytes=v)) for v in raw])
        elif isinstance(kind, pa.BaseExtensionType) and kind.extension_name == "arrow.json":
            column = column.storage
        elif _unsupported(kind):
            bad.append(field_.name)
        elif t.is_decimal(kind) or (t.is_floating(kind) and kind != pa.float64()):
            column = pc.cast(column, pa.float64())
        elif t.is_date(kind):
            column = pc.cast(pc.cast(column, pa.date32()), pa.timestamp("s"))
        elif t.is_timestamp(kind) and kind.tz is not None and kind.tz != "UTC":
            column = pc.cast(column, pa.timestamp(kind.unit, tz="UTC"))
        elif t.is_null(kind):
            column = pa.nulls(len(column), pa.float64())
        elif t.is_dictionary(kind) and not (
            t.is_string(kind.value_type) or t.is_large_string(kind.value_type)
        ):
            column = pc.cast(column, kind.value_type)
        arrays.append(column)
        names.append(field_.name)
    if bad:
        named = {f.name: types.get(f.name) or str(f.type) for f in batch.schema}
        raise _unsupported_error(bad, named, name, source)
    return pa.Table.from_arrays(arrays, names=names)


def _to_pandas(table: Any) -> pd.DataFrame:
    import pyarrow as pa

    frame = table.to_pandas()
    # A boolean column with NULLs: pandas' nullable boolean (not object), so it stays boolean.
    for position, field_ in enumerate(table.schema):
        if field_.type == pa.bool_() and table.column(position).null_count:
            frame.isetitem(position, frame.iloc[:, position].astype("boolean"))
    return frame


# --------------------------------------------------------------------------------------------
# Templates and runs: SQL parameters, what summary.json records, what is scrubbed
# --------------------------------------------------------------------------------------------

_TIME_PARAMETERS = ("start", "end")


def template_source(
    name: str,
    path: str | None,
    query: str | None,
    database_url_env: str | None,
    params: Mapping[str, Any] | None = None,
) -> Any:
    """What a template reads for one side: the path, or an :func:`sql` source of ``query`` on
    the database whose URL is in the environment variable ``database_url_env``.

    ``params`` are bound to the query's ``:name`` placeholders; ``start`` / ``end`` given as
    ISO 8601 strings are bound as date-times. A ``start`` / ``end`` given (not None) for a
    query that has no ``:start`` / ``:end`` is an error, except for the reference, which is
    often a fixed period: the current window would silently not be applied. Other
    parameters a query does not use are left out (the other side's query may use them).

    Raises
    ------
    ParameterError
        Both or neither of ``path`` and ``query`` given, a placeholder without a value, or a
        ``start`` / ``end`` the (non-reference) query does not use.
    """
    from monitorkit.errors import ParameterError

    if path and query:
        raise ParameterError(
            f"give {name} (a file) or {name}_query (a SQL query), not both; drop one of "
            f"-p {name} / -p {name}_query."
        )
    if not query:
        if not path:
            raise ParameterError(
                f"no {name} data: give -p {name} FILE (parquet, CSV, JSON lines, a folder or a "
                f"glob), or -p {name}_query 'select …' with -p database_url_env NAME."
            )
        return path
    if not database_url_env:
        raise ParameterError(
            f"{name}_query needs database_url_env: the name of the environment variable that "
            "holds the database URL (-p database_url_env WAREHOUSE_URL)."
        )
    given = dict(params or {})
    if name != "reference":
        ignored = [
            key
            for key in _TIME_PARAMETERS
            if given.get(key) is not None and key not in placeholders(query)
        ]
        if ignored:
            raise ParameterError(
                _unused_parameters_message(
                    f"{name}: {', '.join(f'-p {k} {given[k]}' for k in ignored)} "
                    f"{'was' if len(ignored) == 1 else 'were'} given for {name}_query",
                    ignored,
                    query,
                    f"or drop {' / '.join(f'-p {k}' for k in ignored)}",
                )
            )
    used = {}
    for placeholder in placeholders(query):
        value = given.get(placeholder)
        if value is None:
            raise ParameterError(
                f"{name}_query uses :{placeholder} but no value was given for it; pass "
                f"-p {placeholder} VALUE"
                + (" (e.g. 2026-01-01)" if placeholder in _TIME_PARAMETERS else "")
                + " or add it to query_parameters."
            )
        if placeholder in _TIME_PARAMETERS and isinstance(value, str):
            try:
                value = pd.Timestamp(value).to_pydatetime()
            except ValueError:
                raise ParameterError(
                    f"parameter '{placeholder}' must be an ISO 8601 date or date-time "
                    f"(2026-01-01, 2026-01-01T06:00:00Z); got {value!r}."
                ) from None
        used[placeholder] = value
    return sql(query, params=used, database_url_env=database_url_env)


def run_inputs(parameters: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """For ``summary.json``'s ``inputs``: each ``*_query`` parameter's query text and the
    database's kind and name (from the URL in ``database_url_env``) — never the URL."""
    found = {}
    variable = parameters.get("database_url_env")
    for key, value in parameters.items():
        if not key.endswith("_query") or not isinstance(value, str) or not value.strip():
            continue
        database: dict[str, Any] = {"dialect": None, "database": None}
        if isinstance(variable, str) and os.environ.get(variable):
            try:
                database = _Connector(
                    SqlSource(query=value, connection=None, database_url_env=variable)
                ).database()
            except Exception:  # a bad URL fails the run itself, with its message
                pass
        found[key] = {
            "kind": "sql",
            "query": value,
            "database_url_env": variable,
            **database,
        }
    return found


def run_secrets(parameters: Mapping[str, Any]) -> list[str]:
    """The database URL named by ``database_url_env`` and its password: scrubbed from every
    file a run writes."""
    variable = parameters.get("database_url_env")
    if not isinstance(variable, str) or not os.environ.get(variable):
        return []
    try:
        return _Connector(
            SqlSource(query="select 1", connection=None, database_url_env=variable)
        ).secrets()
    except Exception:
        return [os.environ[variable]]
