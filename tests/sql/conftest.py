"""A real PostgreSQL server for the SQL-source tests, and helpers to load tables into it.

The server is Debian's ``postgresql`` binaries (``initdb`` + ``pg_ctl``; ``.ci/run`` installs
them), started once per session in a temporary directory on a free loopback port, with
password authentication (so that wrong credentials are refused). As root (CI) it runs as the
unprivileged user ``nobody``, which owns the data directory. Without the binaries the tests
that need the server are skipped, except under CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

USER = "monitor"
PASSWORD = "s3cret-pw-for-tests"
DATABASE = "warehouse"
SERVER_USER = "nobody"


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    user: str
    password: str
    database: str

    def url(self, password: str | None = None, database: str | None = None) -> str:
        return (
            f"postgresql+psycopg://{self.user}:{password or self.password}@{self.host}:"
            f"{self.port}/{database or self.database}"
        )

    def connect(self):
        import psycopg

        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=self.database,
            autocommit=True,
        )


def binaries() -> Path | None:
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", SERVER_USER, "--", *command]


@pytest.fixture(scope="session")
def postgres() -> Postgres:
    pytest.importorskip("psycopg")
    pytest.importorskip("sqlalchemy")
    if binaries() is None:
        reason = (
            "PostgreSQL server binaries (initdb, pg_ctl) are not installed; "
            "apt-get install postgresql"
        )
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI must run these tests: .ci/run installs them)")
        pytest.skip(reason)
    with running_postgres() as server:
        yield server


@contextlib.contextmanager
def running_postgres() -> Iterator[Postgres]:
    """A PostgreSQL server in a temporary directory for as long as the block runs (also used
    by benchmarks/bench_sql.py)."""
    import psycopg

    found = binaries()
    if found is None:
        raise RuntimeError("PostgreSQL server binaries not found; apt-get install postgresql")
    # Under /tmp (world-traversable), not pytest's 0700 tmp folder: the server user reads it.
    root = Path(tempfile.mkdtemp(prefix="monitorkit-pg-"))
    data, sockets = root / "data", root / "sockets"
    data.mkdir()
    sockets.mkdir()
    password_file = root / "password"
    password_file.write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        import pwd

        account = pwd.getpwnam(SERVER_USER)
        for path in (root, data, sockets, password_file):
            os.chown(path, account.pw_uid, account.pw_gid)
    os.chmod(root, 0o755)
    port = _free_port()
    initdb = [str(found / "initdb"), "-D", str(data), "-U", USER, "--pwfile", str(password_file)]
    initdb += ["--auth=scram-sha-256", "-E", "UTF8", "--locale=C"]
    subprocess.run(_as_server_user(initdb), check=True, capture_output=True, text=True)
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={sockets} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=64MB "
        "-c max_connections=40 -c TimeZone=Europe/Berlin"
    )
    pg_ctl = [str(found / "pg_ctl"), "-D", str(data)]
    start = [*pg_ctl, "-o", options, "-l", str(root / "server.log"), "-w", "-t", "60", "start"]
    subprocess.run(_as_server_user(start), check=True, capture_output=True, text=True)
    server = Postgres("127.0.0.1", port, USER, PASSWORD, DATABASE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(
                    host=server.host,
                    port=port,
                    user=USER,
                    password=PASSWORD,
                    dbname="postgres",
                    autocommit=True,
                ) as admin:
                    admin.execute(f"CREATE DATABASE {DATABASE}")
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield server
    finally:
        stop = [*pg_ctl, "-m", "fast", "-w", "stop"]
        subprocess.run(_as_server_user(stop), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


_PG_TYPES = {"b": "boolean", "i": "bigint", "u": "bigint", "f": "double precision"}


def pg_type(values: pd.Series) -> str:
    dtype = values.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        return "timestamptz"
    if pd.api.types.is_datetime64_dtype(dtype):
        return "timestamp"
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_numeric_dtype(dtype):
        return _PG_TYPES[dtype.kind]
    return "text"


def load_table(server: Postgres, table: str, frame: pd.DataFrame) -> None:
    """(Re)create ``table`` holding ``frame`` (missing values as NULL), with COPY."""
    columns = ", ".join(f'"{c}" {pg_type(frame[c])}' for c in frame.columns)
    with server.connect() as connection:
        connection.execute(f'DROP TABLE IF EXISTS "{table}"')
        connection.execute(f'CREATE TABLE "{table}" ({columns})')
        rows = frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)
        names = ", ".join(f'"{c}"' for c in frame.columns)
        with connection.cursor().copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)


def load_duckdb(path: Path, tables: dict[str, pd.DataFrame]) -> None:
    """A DuckDB file holding ``tables`` (missing values as NULL)."""
    import duckdb

    with duckdb.connect(str(path)) as connection:
        for table, frame in tables.items():
            connection.register("incoming", frame)
            connection.execute(f'CREATE OR REPLACE TABLE "{table}" AS SELECT * FROM incoming')
            connection.unregister("incoming")
