"""PostgreSQL URLs are read through ADBC when ``adbc-driver-postgresql`` is installed, and give
the same frames, profiles and errors as the psycopg path they fall back to."""

from __future__ import annotations

import logging
import socket

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import monitorkit as mk
import monitorkit.database as database
from monitorkit.errors import DatabaseError
from monitorkit.schema import iter_batches

from .conftest import load_table
from .test_sql_sources import POSTGRES_TYPES, _exact_parts

pytest.importorskip("sqlalchemy")
pytest.importorskip("adbc_driver_postgresql")

BATCH = 700


@pytest.fixture(scope="module")
def tables(postgres):
    loaded = mk.datasets.load_scenario("corrupted_inputs", n_rows=3_000, seed=5)
    current = loaded.current.assign(row_number=np.arange(len(loaded.current)))
    load_table(postgres, "adbc_rows", current)
    with postgres.connect() as connection:
        connection.execute("drop table if exists typed; drop type if exists mood")
        connection.execute(POSTGRES_TYPES)
    return postgres, current.drop(columns="row_number"), loaded.spec


class _Taken:
    """Which opener ran: ADBC's or SQLAlchemy's."""

    def __init__(self, monkeypatch) -> None:
        self.paths: list[str] = []
        for path, method in (("adbc", "_open_adbc"), ("sqlalchemy", "_open_sqlalchemy")):
            monkeypatch.setattr(database._Connector, method, self._spy(path, method))

    def _spy(self, path, method):
        original = getattr(database._Connector, method)

        def spied(connector, *args, **kwargs):
            self.paths.append(path)
            return original(connector, *args, **kwargs)

        return spied


def _without_adbc(monkeypatch) -> None:
    monkeypatch.setattr(database, "_adbc_postgresql", lambda: None)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_postgresql_url_is_read_through_adbc_and_open_connections_are_not(tables, monkeypatch):
    server, expected, _ = tables
    taken = _Taken(monkeypatch)
    read = mk.read_frame(mk.sql("select * from adbc_rows order by row_number", server.url()))
    assert taken.paths == ["adbc"]
    pd.testing.assert_frame_equal(read.drop(columns="row_number"), expected, check_dtype=False)

    taken.paths.clear()
    with server.connect() as raw:  # an open connection: used as it is, through SQLAlchemy
        mk.read_frame(mk.sql("select 1 as x", raw))
    assert taken.paths == ["sqlalchemy"]

    taken.paths.clear()
    _without_adbc(monkeypatch)  # ADBC not installed: the psycopg server-side cursor
    mk.read_frame(mk.sql("select 1 as x", server.url()))
    assert taken.paths == ["sqlalchemy"]


@pytest.mark.parametrize(
    ("query", "options"),
    [
        ("select * from adbc_rows order by row_number", {}),
        ("select * from typed order by big nulls last", {}),
        (
            "select * from adbc_rows where device <> :device and row_number < :last "
            "order by row_number",
            {"params": {"device": "x' or '1'='1", "last": 2_000}},
        ),
        (
            "select * from adbc_rows order by row_number",
            {"timestamp": "timestamp", "start": "2024-01-01T06:00:00Z", "end": None},
        ),
    ],
)
def test_frames_batches_and_profiles_equal_those_of_the_psycopg_path(
    tables, monkeypatch, query, options
):
    server = tables[0]
    source = mk.sql(query, server.url(), batch_rows=BATCH, **options)
    taken = _Taken(monkeypatch)
    frame = mk.read_frame(source)
    batches = [len(b) for b in iter_batches(source, batch_rows=BATCH)]
    profile = mk.profile(source, batch_rows=BATCH, progress=False)
    assert set(taken.paths) == {"adbc"}

    _without_adbc(monkeypatch)
    taken.paths.clear()
    fallback_frame = mk.read_frame(source)
    fallback_batches = [len(b) for b in iter_batches(source, batch_rows=BATCH)]
    fallback_profile = mk.profile(source, batch_rows=BATCH, progress=False)
    assert set(taken.paths) == {"sqlalchemy"}

    assert len(frame) > 0
    pd.testing.assert_frame_equal(frame, fallback_frame)  # values and dtypes
    assert batches == fallback_batches
    assert _exact_parts(profile) == _exact_parts(fallback_profile)


def test_the_sample_is_drawn_by_the_database_and_repeatable(tables, monkeypatch):
    server, expected, _ = tables
    source = mk.sql("select * from adbc_rows", server.url(), sample=100, seed=3)
    first, again = mk.read_frame(source), mk.read_frame(source)
    assert len(first) == 100
    assert sorted(first["request_id"]) == sorted(again["request_id"])
    _without_adbc(monkeypatch)  # setseed + ORDER BY random(): the same rows on both paths
    assert sorted(mk.read_frame(source)["request_id"]) == sorted(first["request_id"])


def test_batches_are_cut_to_batch_rows_whatever_adbc_sends():
    sizes = [5, 1, 0, 12, 3, 7]
    batches = [pa.record_batch({"x": pa.array(range(n))}) for n in sizes]
    for rows in (1, 4, 7, 28, 100):
        cut = list(database._rechunked(iter(batches), rows))
        lengths = [len(b) for b in cut]
        assert lengths[:-1] == [rows] * (len(cut) - 1) and 0 < lengths[-1] <= rows
        values = [v for b in cut for v in b.column(0).to_pylist()]
        assert values == [v for n in sizes for v in range(n)]


def test_placeholders_become_numbered_parameters():
    text, values = database._numbered_placeholders(
        "select * from t where a = :a and b = ':a' and c = cast(:c as int) -- :d\n or a < :a",
        {"a": "x' or '1'='1", "c": 3},
    )
    assert (
        text
        == "select * from t where a = $1 and b = ':a' and c = cast($2 as int) -- :d\n or a < $1"
    )
    assert values == ["x' or '1'='1", 3]


def test_a_text_parameter_the_server_cannot_type_falls_back_to_psycopg(tables, monkeypatch, caplog):
    server = tables[0]
    taken = _Taken(monkeypatch)
    # ADBC binds a str as text: `date >= text` has no operator; psycopg lets the server
    # infer the parameter's type, so the query still runs, through the fallback.
    source = mk.sql(
        "select * from typed where day >= :day", server.url(), params={"day": "2026-02-01"}
    )
    with caplog.at_level(logging.INFO, logger="monitorkit"):
        read = mk.read_frame(source)
    assert len(read) == 1 and read["day"].iloc[0] == pd.Timestamp("2026-02-03")
    assert taken.paths == ["adbc", "sqlalchemy"]
    assert "reading through SQLAlchemy and psycopg instead" in caplog.text


@pytest.mark.parametrize("without", [False, True], ids=["adbc", "psycopg"])
def test_errors_are_the_same_on_both_paths(tables, monkeypatch, without):
    server = tables[0]
    if without:
        _without_adbc(monkeypatch)
    secret = "p@ss/w:rd%41-unreachable"
    encoded = database._quote_url_part(secret)
    url = f"postgresql+psycopg://monitor:{encoded}@127.0.0.1:{_closed_port()}/warehouse"
    with pytest.raises(DatabaseError) as error:
        mk.read_frame(mk.sql("select 1", url), name="current")
    message = str(error.value)
    assert message.startswith("current: could not reach postgresql database 'warehouse'")
    assert secret not in message and encoded not in message

    with pytest.raises(DatabaseError, match="refused the credentials.*password authentication"):
        mk.read_frame(mk.sql("select 1", server.url(password="wrong-password")))
    with pytest.raises(DatabaseError, match="'nowhere' does not exist on the server"):
        mk.read_frame(mk.sql("select 1", server.url(database="nowhere")))
    with pytest.raises(DatabaseError, match=r"rejected the query 'selec 1': syntax error"):
        mk.read_frame(mk.sql("selec 1", server.url()))
    with pytest.raises(DatabaseError, match=r"'tags' \(int4\[\]\), 'extra' \(jsonb\)"):
        mk.read_frame(mk.sql("select 1 as x, array[1] as tags, '{}'::jsonb as extra", server.url()))
    # An error the server meets after rows have started to arrive, in a later batch.
    late = mk.sql(
        "select g, 1 / (g - 5000) as x from generate_series(1, 10000) as g",
        server.url(),
        batch_rows=1000,
    )
    with pytest.raises(DatabaseError, match="division by zero") as error:
        mk.read_frame(late)
    assert "'select g, 1 / (g - 5000)" in str(error.value)


def test_a_reader_closed_early_releases_the_connection(tables):
    server = tables[0]
    source = mk.sql("select g, random() as x from generate_series(1, 2000000) as g", server.url())
    batches = source.batches(batch_rows=1000)
    assert len(next(batches)) == 1000
    batches.close()  # the rest is never read: the statement and connection are closed
    with server.connect() as connection:
        others = connection.execute(
            "select count(*) from pg_stat_activity where datname = 'warehouse' "
            "and pid <> pg_backend_pid() and state <> 'idle'"
        ).fetchone()[0]
    assert others == 0
