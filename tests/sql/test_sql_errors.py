"""Every way a SQL source can fail gives one clear monitorkit error naming the query and the
fix — and never the credentials."""

from __future__ import annotations

import re
import socket
import traceback

import pytest

import monitorkit as mk
from monitorkit.database import template_source
from monitorkit.errors import DatabaseError, InputError, ParameterError, SchemaError

pytest.importorskip("duckdb")
pytest.importorskip("sqlalchemy")


@pytest.fixture(scope="module")
def tables(postgres):
    with postgres.connect() as connection:
        connection.execute(
            "drop table if exists events; create table events (x integer, note text); "
            "insert into events values (1, 'a'), (2, null)"
        )
    return postgres


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free, and nothing listens once the probe closes


def _read(query, connection, **options):
    return mk.read_frame(mk.sql(query, connection, **options), name="current")


def _assert_no_driver_traceback(error: BaseException) -> None:
    """The message says it all: no chained driver exception, no frame outside monitorkit and
    the tests (what a report or notebook shows of a failed run)."""
    assert error.__cause__ is None and error.__suppress_context__
    shown = "".join(traceback.format_exception(error))
    assert "site-packages" not in shown.replace("site-packages/monitorkit/", "")
    assert "direct cause" not in shown and "During handling" not in shown
    files = re.findall(r'File "([^"]+)"', shown)
    assert files and all("monitorkit" in f or "tests" in f for f in files), files


def test_an_unreachable_server(tables):
    url = f"postgresql+psycopg://monitor:pw-unreachable@127.0.0.1:{_closed_port()}/warehouse"
    with pytest.raises(DatabaseError) as error:
        _read("select * from events", url)
    message = str(error.value)
    assert message.startswith("current: could not reach postgresql database 'warehouse'")
    assert "'select * from events'" in message
    assert "Check that the server is running" in message
    assert "pw-unreachable" not in message


def test_wrong_credentials(tables):
    with pytest.raises(DatabaseError) as error:
        _read("select * from events", tables.url(password="not-the-password"))
    message = str(error.value)
    assert "refused the credentials" in message and "password authentication failed" in message
    assert "Check the user name and password in the connection URL" in message
    assert "not-the-password" not in message and tables.password not in message


def test_a_database_that_does_not_exist(tables):
    with pytest.raises(DatabaseError, match="'nowhere' does not exist on the server"):
        _read("select 1", tables.url(database="nowhere"))


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("selec * from events", 'syntax error at or near "selec"'),
        ("select * from no_such_table", 'relation "no_such_table" does not exist'),
        ("select missing_column from events", 'column "missing_column" does not exist'),
        # The server's hint is in the message (no driver traceback is chained to show it).
        ("select nte from events", 'hint: Perhaps you meant to reference the column "events.note"'),
    ],
)
def test_a_query_the_database_rejects(tables, query, detail):
    with pytest.raises(DatabaseError) as error:
        _read(query, tables.url())
    message = str(error.value)
    assert f"the database rejected the query {query!r}" in message
    assert detail in message and "Fix the query" in message
    _assert_no_driver_traceback(error.value)


def test_a_refused_query_on_the_psycopg_path_has_no_driver_traceback(tables, monkeypatch):
    import monitorkit.database

    monkeypatch.setattr(monitorkit.database, "_adbc_postgresql", lambda: None)
    with pytest.raises(DatabaseError, match='syntax error at or near "selec"') as error:
        _read("selec * from events", tables.url())
    _assert_no_driver_traceback(error.value)


def test_a_query_returning_no_rows(tables):
    with pytest.raises(SchemaError) as error:
        _read("select * from events where x > :least", tables.url(), params={"least": 10})
    message = str(error.value)
    assert "the query returned no rows" in message
    assert "'select * from events where x > :least'" in message and "least=10" in message
    assert "Check the query's WHERE clause" in message


def test_columns_of_unsupported_types_are_named_with_their_types(tables):
    query = (
        "select x, 'ab'::bytea as payload, interval '1 day' as wait, array[1, 2] as tags, "
        "'{}'::jsonb as extra, time '10:00' as at from events"
    )
    with pytest.raises(DatabaseError) as error:
        _read(query, tables.url())
    message = str(error.value)
    for shown in (
        "'payload' (bytea)",
        "'wait' (interval)",
        "'tags' (int4[])",
        "'extra' (jsonb)",
        "'at' (time)",
    ):
        assert shown in message
    assert "'x'" not in message  # a supported column is not named
    assert "cast them in the query" in message


def test_duckdb_errors(tmp_path):
    import duckdb

    path = tmp_path / "events.db"
    with duckdb.connect(str(path)) as connection:
        connection.execute("create table events as select 1 as x, 'a'::blob as payload")
    url = f"duckdb:///{path}"
    with pytest.raises(DatabaseError, match="does not exist"):
        _read("select 1", f"duckdb:///{tmp_path / 'missing.db'}")
    with pytest.raises(DatabaseError, match="rejected the query 'selec 1'.*syntax error") as error:
        _read("selec 1", url)
    _assert_no_driver_traceback(error.value)
    with pytest.raises(DatabaseError, match="rejected the query.*nosuch"):
        _read("select * from nosuch", url)
    with pytest.raises(SchemaError, match="returned no rows"):
        _read("select x from events where x > 1", url)
    with pytest.raises(DatabaseError, match=r"'payload' \(BLOB\)"):
        _read("select * from events", url)
    assert _read("select x from events", url)["x"].tolist() == [1]


def test_mistakes_caught_before_anything_runs(monkeypatch):
    with pytest.raises(InputError, match=r"uses :start but params has no value"):
        mk.sql("select * from t where ts >= :start", "duckdb://")
    with pytest.raises(InputError, match=r"params has 'start' but the query has no :start"):
        mk.sql("select * from t", "duckdb://", params={"start": "2026-01-01"})
    with pytest.raises(InputError, match="sample must be a positive number of rows"):
        mk.sql("select 1", "duckdb://", sample=0)
    with pytest.raises(InputError, match="name it with timestamp="):
        mk.sql("select 1", "duckdb://", start="2026-01-01")
    monkeypatch.delenv("NOT_SET_URL", raising=False)
    with pytest.raises(DatabaseError, match="environment variable NOT_SET_URL is not set"):
        mk.read_frame(mk.sql("select 1", database_url_env="NOT_SET_URL"))
    with pytest.raises(InputError, match="connection is a int"):
        mk.read_frame(mk.sql("select 1", 42))


def test_template_sources_say_which_parameter_is_missing():
    with pytest.raises(ParameterError, match="not both"):
        template_source("current", "log.parquet", "select 1", "URL")
    with pytest.raises(ParameterError, match="-p current_query"):
        template_source("current", "", None, "URL")
    with pytest.raises(ParameterError, match=r"uses :start.*-p start VALUE \(e.g. 2026-01-01\)"):
        template_source("current", "", "select * from t where ts >= :start", "URL", {"start": None})
    with pytest.raises(ParameterError, match="ISO 8601"):
        template_source("current", "", "select :start", "URL", {"start": "yesterday"})
    assert template_source("current", "log.parquet", None, "URL") == "log.parquet"
    source = template_source(
        "current", "", "select * from t where ts >= :start", "URL", {"start": "2026-01-02", "x": 1}
    )
    assert source.params == {"start": __import__("datetime").datetime(2026, 1, 2)}
    assert source.database_url_env == "URL"


def test_a_window_or_parameter_the_query_does_not_use_is_an_error():
    with pytest.raises(InputError) as error:
        mk.sql("select * from t", "duckdb://", params={"start": "2026-01-01", "end": None})
    message = str(error.value)
    assert "params has 'start' but the query has no :start placeholder" in message
    assert "WHERE clause on its timestamp column" in message and "timestamp='ts'" in message
    with pytest.raises(InputError, match=r"no :region placeholder.*where x = :region"):
        mk.sql("select * from t where x = :x", "duckdb://", params={"x": 1, "region": "eu"})
    with pytest.raises(ParameterError) as error:
        template_source("current", "", "select * from t", "URL", {"start": "2026-01-01"})
    message = str(error.value)
    assert message.startswith("current: -p start 2026-01-01 was given for current_query")
    assert "no :start placeholder" in message and "or drop -p start" in message
    with pytest.raises(ParameterError, match=r"-p end 2026-02-01 was given.*no :end placeholder"):
        template_source(
            "current", "", "select * from t where ts >= :start", "URL",
            {"start": "2026-01-01", "end": "2026-02-01"},
        )  # fmt: skip
    # What the template passes by default (None), a fixed reference period, and the other
    # side's parameters are no error.
    assert template_source("current", "", "select 1", "URL", {"start": None, "end": None})
    assert template_source("reference", "", "select * from t", "URL", {"start": "2026-01-01"})
    assert template_source("current", "", "select 1", "URL", {"region": "eu"}).params == {}


@pytest.mark.parametrize(
    ("url", "fix"),
    [
        ("foobar://host/db", "install the SQLAlchemy dialect package for 'foobar'"),
        ("postgres://user:pw-in-url@host/db", "write postgresql+psycopg://"),
        ("sqlite+nosuchdriver:///x.db", "install the driver 'nosuchdriver' for sqlite"),
    ],
)
def test_an_unknown_url_scheme_names_the_supported_ones(url, fix):
    pytest.importorskip("sqlalchemy")
    with pytest.raises(DatabaseError) as error:
        _read("select 1", url)
    message = str(error.value)
    scheme = url.split("://")[0]
    assert f"the connection URL starts with '{scheme}://'" in message
    assert "Supported: duckdb://" in message and "'monitorkit[postgres]'" in message
    assert fix in message and "pw-in-url" not in message
    assert "Can't load plugin" not in message
    _assert_no_driver_traceback(error.value)
