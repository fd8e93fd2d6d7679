"""SQL sources on a real PostgreSQL server and on a DuckDB file: the same reports as from
frames, types and NULLs on every path, pushdowns done by the database, connection objects."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

import monitorkit as mk
from monitorkit.schema import iter_batches

from .conftest import load_duckdb, load_table

pytest.importorskip("duckdb")
pytest.importorskip("sqlalchemy")

BATCH = 700  # small batches: every scenario table spans several of them


@pytest.fixture(scope="module")
def scenario():
    """corrupted_inputs: missing-value spike, out-of-range values, drift; and a row order."""
    loaded = mk.datasets.load_scenario("corrupted_inputs", n_rows=4_000, seed=3)
    reference = loaded.reference.assign(row_number=np.arange(len(loaded.reference)))
    current = loaded.current.assign(row_number=np.arange(len(loaded.current)))
    return reference, current, loaded.spec


def _query(table: str, frame: pd.DataFrame) -> str:
    columns = ", ".join(f'"{c}"' for c in frame.columns if c != "row_number")
    return f"select {columns} from {table} order by row_number"


@pytest.fixture(scope="module", params=["postgresql", "duckdb"])
def warehouse(request, scenario, tmp_path_factory):
    """(connection URL, dialect) of a database holding the scenario's two tables."""
    reference, current, _ = scenario
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres")
        load_table(server, "reference_rows", reference)
        load_table(server, "current_rows", current)
        return server.url(), "postgresql"
    path = tmp_path_factory.mktemp("duckdb") / "warehouse.db"
    load_duckdb(path, {"reference_rows": reference, "current_rows": current})
    return f"duckdb:///{path}", "duckdb"


def _sides(scenario, url):
    reference, current, spec = scenario
    frames = (reference.drop(columns="row_number"), current.drop(columns="row_number"))
    sources = (
        mk.sql(_query("reference_rows", reference), url, batch_rows=BATCH),
        mk.sql(_query("current_rows", current), url, batch_rows=BATCH),
    )
    return frames, sources, spec


def _exact_parts(profile: mk.Profile) -> dict:
    """A profile's JSON without its KLL sketches (datasketches draws at random as it
    compacts, so two sketches of the same values differ in their bytes)."""
    data = profile.to_dict()
    for column in data["columns"].values():
        column.pop("kll", None)
    return data


def test_rows_read_back_equal_the_frame(scenario, warehouse):
    url, _ = warehouse
    (reference, _), (source, _), _ = _sides(scenario, url)
    read = mk.read_frame(source, name="reference")
    pd.testing.assert_frame_equal(read, reference, check_dtype=False)
    assert str(read["timestamp"].dtype) == "datetime64[us, UTC]"  # in UTC whatever the session
    missing = reference["days_since_last_order"].isna().sum()
    assert read["days_since_last_order"].isna().sum() == missing > 0
    streamed = list(iter_batches(source, name="reference", batch_rows=BATCH))
    assert [len(b) for b in streamed[:-1]] == [BATCH] * (len(streamed) - 1)
    pd.testing.assert_frame_equal(pd.concat(streamed, ignore_index=True), read)


def test_drift_quality_baseline_and_profile_from_sql_equal_those_from_frames(scenario, warehouse):
    url, _ = warehouse
    (reference, current), (reference_sql, current_sql), spec = _sides(scenario, url)

    drift_frames = mk.DriftReport(reference, current, spec=spec)
    drift_sql = mk.DriftReport(reference_sql, current_sql, spec=spec)
    pd.testing.assert_frame_equal(drift_sql.to_frame(), drift_frames.to_frame())
    assert drift_sql.drifted_columns == drift_frames.drifted_columns
    assert drift_frames.drifted_columns  # the scenario drifts: equal and not trivially empty

    quality_frames = mk.QualityReport(reference, current, spec=spec)
    quality_sql = mk.QualityReport(reference_sql, current_sql, spec=spec)
    pd.testing.assert_frame_equal(quality_sql.to_frame(), quality_frames.to_frame())
    assert len(quality_frames.to_frame()) > 0

    baseline_frames = mk.Baseline.from_frame(reference, spec=spec, model="shop")
    baseline_sql = mk.Baseline.from_frame(reference_sql, spec=spec, model="shop")
    assert _exact_parts(baseline_sql.profile) == _exact_parts(baseline_frames.profile)
    assert baseline_sql.metrics == baseline_frames.metrics
    assert baseline_sql.latency == baseline_frames.latency

    # Against a baseline, the current query is profiled batch by batch (not read whole).
    streamed = mk.DriftReport(baseline_frames, current_sql)
    in_memory = mk.DriftReport(baseline_frames, current)
    pd.testing.assert_frame_equal(streamed.to_frame(), in_memory.to_frame())

    # mk.profile of a query: batch by batch, equal to the frame profiled in the same batches.
    profiled_sql = mk.profile(current_sql, spec=spec, batch_rows=BATCH)
    profiled_frame = mk.profile(current, spec=profiled_sql.spec, batch_rows=BATCH)
    assert _exact_parts(profiled_sql) == _exact_parts(profiled_frame)


def test_the_time_range_and_the_sample_are_done_by_the_database(scenario, warehouse, caplog):
    url, dialect = warehouse
    _, current, _ = scenario
    start, end = current["timestamp"].quantile([0.25, 0.5]).dt.floor("h")
    source = mk.sql(  # an ISO 8601 string or a Timestamp: both bound as date-times
        "select * from current_rows",
        url,
        timestamp="timestamp",
        start=start.isoformat(),
        end=end,
    )
    with caplog.at_level(logging.INFO, logger="monitorkit"):
        window = mk.read_frame(source)
    expected = current[(current["timestamp"] >= start) & (current["timestamp"] < end)]
    assert len(window) == len(expected) > 0
    assert window["timestamp"].min() >= start and window["timestamp"].max() < end
    assert f"pulled {len(expected):,} rows" in caplog.text  # only those crossed the wire

    sample = mk.sql("select * from current_rows", url, sample=250, seed=7)
    first, again = mk.read_frame(sample), mk.read_frame(sample)
    assert len(first) == 250
    assert set(first["request_id"]) <= set(current["request_id"])
    if dialect == "postgresql":  # setseed makes the sample reproducible
        assert sorted(first["request_id"]) == sorted(again["request_id"])


def test_query_parameters_are_bound_not_formatted(scenario, warehouse):
    url, _ = warehouse
    _, current, _ = scenario
    device = current["device"].dropna().iloc[0]
    rows = mk.read_frame(
        mk.sql("select * from current_rows where device = :device", url, params={"device": device})
    )
    assert len(rows) == int((current["device"] == device).sum())
    # A value that would break a formatted query is just a value: no rows, a clear error.
    with pytest.raises(mk.errors.SchemaError, match="no rows"):
        mk.read_frame(
            mk.sql(
                "select * from current_rows where device = :device",
                url,
                params={"device": "x' or '1'='1"},
            )
        )


POSTGRES_TYPES = """
create type mood as enum ('sad', 'ok', 'happy');
create table typed (
    small smallint, whole integer, big bigint, single real, double double precision,
    money numeric(12, 2), flag boolean, words text, short varchar(10), fixed char(3),
    code uuid, feeling mood, day date, local timestamp, instant timestamptz
);
insert into typed values
    (1, 10, 100, 1.5, 2.5, 12.34, true, 'a b', 'x', 'abc',
     '6f1c1f36-1d9e-4c2a-9a7e-0c8e6a6a0001', 'ok', '2026-01-02', '2026-01-02 03:04:05',
     '2026-01-02 03:04:05+02'),
    (null, null, null, null, null, null, null, null, null, null,
     null, null, null, null, null),
    (3, 30, 300, 3.5, 4.5, 99.99, false, 'c d', 'y', 'def',
     '6f1c1f36-1d9e-4c2a-9a7e-0c8e6a6a0002', 'happy', '2026-02-03', '2026-02-03 00:00:00',
     '2026-02-03 00:00:00+00');
"""

DUCKDB_TYPES = POSTGRES_TYPES.replace("double double precision", "double double")


@pytest.fixture(params=["postgresql", "duckdb"])
def typed_table(request, tmp_path):
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres")
        with server.connect() as connection:
            connection.execute("drop table if exists typed; drop type if exists mood")
            connection.execute(POSTGRES_TYPES)
        return server.url(), request.param
    import duckdb

    path = tmp_path / "typed.db"
    with duckdb.connect(str(path)) as connection:
        connection.execute(DUCKDB_TYPES)
    return f"duckdb:///{path}", request.param


def test_database_types_map_to_kinds_and_null_is_missing_on_every_path(typed_table):
    url, dialect = typed_table
    source = mk.sql("select * from typed order by big nulls last", url)
    frame = mk.read_frame(source)
    batches = pd.concat(list(iter_batches(source, batch_rows=1)), ignore_index=True)
    for read in (frame, batches):
        assert read.isna().sum().to_dict() == dict.fromkeys(read.columns, 1)  # the NULL row
        assert read["money"].dtype == "float64" and read["money"].iloc[0] == 12.34
        assert read["single"].dtype == "float64" and read["big"].dtype == "float64"  # NULL
        assert read["flag"].dtype == "boolean"
        assert read["instant"].iloc[0] == pd.Timestamp("2026-01-02 01:04:05", tz="UTC")
        assert read["local"].iloc[0] == pd.Timestamp("2026-01-02 03:04:05")
        assert read["day"].iloc[1] == pd.Timestamp("2026-02-03")
        assert read["code"].iloc[0] == "6f1c1f36-1d9e-4c2a-9a7e-0c8e6a6a0001"
        assert read["feeling"].astype(str).iloc[0] == "ok"
    kinds = {c.name: c.kind for c in mk.profile(source).spec.columns}
    assert kinds == {
        "small": "numeric",
        "whole": "numeric",
        "big": "numeric",
        "single": "numeric",
        "double": "numeric",
        "money": "numeric",
        "flag": "boolean",
        "words": "categorical",
        "short": "categorical",
        "fixed": "categorical",
        "code": "categorical",
        "feeling": "categorical",
        "day": "datetime",
        "local": "datetime",
        "instant": "datetime",
    }
    profiled = mk.profile(source, batch_rows=1)
    assert profiled.rows == 3
    assert {name: column.missing for name, column in profiled.columns.items()} == dict.fromkeys(
        profiled.columns, 1
    )
    if dialect == "duckdb":  # DuckDB hands enums over as dictionaries: pandas categories
        assert isinstance(frame["feeling"].dtype, pd.CategoricalDtype)


def test_open_connection_objects_are_used_and_left_open(postgres, scenario, tmp_path):
    import duckdb
    import sqlalchemy

    _, current, _ = scenario
    load_table(postgres, "current_rows", current)
    query = _query("current_rows", current)
    expected = current.drop(columns="row_number")
    engine = sqlalchemy.create_engine(postgres.url())
    with postgres.connect() as raw, engine.connect() as connection:
        for connected in (raw, engine, connection):
            read = mk.read_frame(mk.sql(query, connected))
            pd.testing.assert_frame_equal(read, expected, check_dtype=False)
        assert not raw.closed and not connection.closed
        assert raw.execute("select 1").fetchone() == (1,)
    engine.dispose()

    path = tmp_path / "open.db"
    load_duckdb(path, {"current_rows": current})
    with duckdb.connect(str(path)) as connection:
        read = mk.read_frame(mk.sql(query, connection))
        pd.testing.assert_frame_equal(read, expected, check_dtype=False)
        assert connection.execute("select count(*) from current_rows").fetchone()[0] == len(read)


def test_sqlite_and_duckdb_over_parquet_files(scenario, tmp_path):
    _, current, _ = scenario
    expected = current.drop(columns="row_number")
    expected.to_parquet(tmp_path / "log.parquet")
    parquet = mk.read_frame(
        mk.sql(f"select * from read_parquet('{tmp_path / 'log.parquet'}')", "duckdb://")
    )
    pd.testing.assert_frame_equal(parquet, expected, check_dtype=False)

    import sqlite3

    with sqlite3.connect(tmp_path / "log.sqlite") as connection:
        connection.execute("create table t (price, device)")
        rows = [(1.5, "a"), ("$12.99", "b"), (None, None), (3, "a")]
        connection.executemany("insert into t values (?, ?)", rows)
    read = mk.read_frame(mk.sql("select * from t", f"sqlite:///{tmp_path / 'log.sqlite'}"))
    assert read["price"].tolist()[:2] == ["1.5", "$12.99"]  # mixed types: text, as in a CSV
    assert read.isna().sum().to_dict() == {"price": 1, "device": 1}
    quality = mk.QualityReport(read.iloc[[0, 3]], read)
    assert "price" in set(quality.to_frame()["column"])


def test_without_a_connection_the_query_runs_on_an_in_memory_duckdb(tmp_path):
    frame = pd.DataFrame({"score": [0.25, 0.5, 0.75], "device": ["a", "b", "a"]})
    frame.to_parquet(tmp_path / "log.parquet")
    source = mk.sql(f"select * from read_parquet('{tmp_path / 'log.parquet'}') order by score")
    assert source.database == {"dialect": "duckdb", "database": ":memory:"}
    pd.testing.assert_frame_equal(mk.read_frame(source), frame, check_dtype=False)


def test_a_source_shows_the_query_and_the_database_but_never_the_credentials(postgres, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_URL", postgres.url())
    source = mk.sql(
        "select 1 as x where 1 = :one", params={"one": 1}, database_url_env="WAREHOUSE_URL"
    )
    assert mk.read_frame(source)["x"].tolist() == [1]
    described = source.describe()
    assert described["query"] == "select 1 as x where 1 = :one"
    assert (described["dialect"], described["database"]) == ("postgresql", "warehouse")
    for shown in (repr(source), str(described)):
        assert postgres.password not in shown and postgres.user not in shown
    direct = mk.sql("select 1", postgres.url())
    assert postgres.password not in repr(direct)
