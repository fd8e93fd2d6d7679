"""A 5,000,000-row table profiles batch by batch: the peak memory of the process (subprocess
peak RSS) stays under a stated bound, far below what the table takes in memory."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("duckdb")
pytest.importorskip("sqlalchemy")

ROWS = 5_000_000
NUMERIC_COLUMNS = 10
# 5M rows x 12 columns as a DataFrame is about 500 MB (10 float64, an int64 and a string
# column). Profiled 100,000 rows at a time from PostgreSQL the whole process stays under
# 400 MB. DuckDB's buffer manager keeps the blocks of a table file it has read (up to its
# memory_limit, 80% of RAM by default): a bare loop over the Arrow reader's batches peaks at
# about 490 MB for this 350 MB file, and the profile at about 610 MB; its bound is that with a
# margin. Reading the same table whole (DuckDB's own .df()) peaks at about 1,950 MB: the
# streaming peak must stay under half of it, which a reader holding the whole table cannot.
POSTGRES_PEAK_RSS_BOUND_MB = 400
DUCKDB_PEAK_RSS_BOUND_MB = 750
STREAMING_SHARE_OF_WHOLE_TABLE = 0.5

_PEAK = textwrap.dedent(
    """
    import json, sys

    def peak_mb():
        # This process's own peak RSS (VmHWM). Not ru_maxrss: Linux carries the forking
        # parent's peak into it, and pytest's process is large after a whole suite.
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024
    """
)

_MEASURE = _PEAK + textwrap.dedent(
    """
    import monitorkit as mk
    source = mk.sql("select * from big", sys.argv[1])  # fetched 100,000 rows at a time
    profile = mk.profile(source, progress=False)
    print(json.dumps({"rows": profile.rows, "columns": len(profile.columns),
                      "peak_mb": peak_mb()}))
    """
)

# The same table read whole into one DataFrame by DuckDB itself, without monitorkit.
_MEASURE_WHOLE_DUCKDB = _PEAK + textwrap.dedent(
    """
    import duckdb
    with duckdb.connect(sys.argv[1], read_only=True) as connection:
        frame = connection.sql("select * from big").df()
    print(json.dumps({"rows": len(frame), "columns": frame.shape[1], "peak_mb": peak_mb()}))
    """
)


def _big_table_sql(random: str) -> str:
    numbers = ", ".join(f"{random} * {i + 1} as x{i}" for i in range(NUMERIC_COLUMNS))
    return f"g as id, {numbers}, (array['a', 'b', 'c', 'd'])[1 + g % 4] as c"


def _measure(url: str, script: str = _MEASURE) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", script, url], capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.big
def test_a_postgres_table_of_5m_rows_profiles_in_bounded_memory(postgres):
    with postgres.connect() as connection:
        connection.execute("drop table if exists big")
        connection.execute(
            f"create table big as select {_big_table_sql('random()')} "
            f"from generate_series(1, {ROWS}) as g"
        )
    measured = _measure(postgres.url())
    assert measured["rows"] == ROWS and measured["columns"] == NUMERIC_COLUMNS + 1
    assert measured["peak_mb"] < POSTGRES_PEAK_RSS_BOUND_MB, measured


@pytest.mark.big
def test_a_duckdb_table_of_5m_rows_profiles_in_bounded_memory(tmp_path):
    import duckdb

    path = tmp_path / "big.db"
    with duckdb.connect(str(path)) as connection:
        connection.execute(
            f"create table big as select {_big_table_sql('random()')} "
            f"from range(1, {ROWS + 1}) as t(g)"
        )
    measured = _measure(f"duckdb:///{path}")
    assert measured["rows"] == ROWS and measured["columns"] == NUMERIC_COLUMNS + 1
    whole = _measure(str(path), _MEASURE_WHOLE_DUCKDB)
    assert whole["rows"] == ROWS
    assert measured["peak_mb"] < DUCKDB_PEAK_RSS_BOUND_MB, (measured, whole)
    assert measured["peak_mb"] < STREAMING_SHARE_OF_WHOLE_TABLE * whole["peak_mb"], (
        measured,
        whole,
    )
