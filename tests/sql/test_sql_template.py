"""`monitorkit run monitoring` pointed at a warehouse with two queries and an environment
variable: the same verdict as from files, the queries and the database's name in summary.json,
the URL nowhere in the report; a failing query fails the run (exit 1) with its reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import monitorkit as mk

from .conftest import load_table

pytest.importorskip("duckdb")
pytest.importorskip("sqlalchemy")


def monitorkit(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "monitorkit.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


def _only_run(folder: Path) -> Path:
    (run,) = [p for p in folder.iterdir() if p.is_dir()]
    return run


def _every_file_text(run: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in run.rglob("*") if p.is_file())


@pytest.mark.kernel
def test_a_run_from_two_queries_equals_the_run_from_files(postgres, in_tmp):
    scenario = mk.datasets.load_scenario("seasonal_retail", n_rows=3_000, seed=1)
    load_table(postgres, "training", scenario.reference)
    load_table(postgres, "predictions", scenario.current)
    start = scenario.current["timestamp"].quantile(0.3).floor("D")
    window = scenario.current[scenario.current["timestamp"] >= start]
    scenario.reference.to_parquet(in_tmp / "reference.parquet")
    window.to_parquet(in_tmp / "current.parquet")

    from_files = monitorkit(
        "run", "monitoring", "--out", "files", "--no-progress",
        "-p", "model", "shop",
        "-p", "reference", "reference.parquet",
        "-p", "current", "current.parquet",
    )  # fmt: skip
    from_sql = monitorkit(
        "run", "monitoring", "--out", "sql", "--no-progress",
        "-p", "model", "shop",
        "-p", "reference_query", "select * from training",
        "-p", "current_query", 'select * from predictions where "timestamp" >= :start',
        "-p", "start", start.isoformat(),
        "-p", "database_url_env", "WAREHOUSE_URL",
        env={"WAREHOUSE_URL": postgres.url()},
    )  # fmt: skip
    assert from_files.returncode in (0, 3, 4), from_files.stderr
    assert from_sql.returncode == from_files.returncode, from_sql.stderr
    files_summary = json.loads((_only_run(in_tmp / "files" / "shop") / "summary.json").read_text())
    run = _only_run(in_tmp / "sql" / "shop")
    summary = json.loads((run / "summary.json").read_text())
    assert summary["severity"] == files_summary["severity"]
    assert summary["verdict"] == files_summary["verdict"]
    figures = pd.Series(summary["figures"], dtype=object)
    assert figures.to_dict() == files_summary["figures"]
    assert summary["inputs"]["current_query"] == {
        "kind": "sql",
        "query": 'select * from predictions where "timestamp" >= :start',
        "database_url_env": "WAREHOUSE_URL",
        "dialect": "postgresql",
        "database": "warehouse",
    }
    assert summary["inputs"]["reference_query"]["query"] == "select * from training"
    index = json.loads((in_tmp / "sql" / "shop" / "index.jsonl").read_text().splitlines()[-1])
    assert index["inputs"] == {
        "reference_query": "postgresql:warehouse",
        "current_query": "postgresql:warehouse",
    }
    written = _every_file_text(run)
    assert postgres.password not in written and postgres.url() not in written
    assert "select * from training" in (run / "report.ipynb").read_text()


@pytest.mark.kernel
def test_a_failing_query_fails_the_run_with_its_reason(postgres, in_tmp):
    load_table(postgres, "training", mk.datasets.load_scenario("no_change", n_rows=500).reference)
    result = monitorkit(
        "run", "monitoring", "--no-progress",
        "-p", "model", "broken",
        "-p", "reference_query", "select * from training",
        "-p", "current_query", "select * from predictions_that_do_not_exist",
        "-p", "database_url_env", "WAREHOUSE_URL",
        env={"WAREHOUSE_URL": postgres.url(password="a-wrong-password")},
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    run = _only_run(in_tmp / "reports" / "broken")
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["verdict"] is None
    assert summary["error"]["type"] == "DatabaseError"
    assert "refused the credentials" in summary["error"]["message"]
    assert "'select * from training'" in summary["error"]["message"]
    assert "environment variable WAREHOUSE_URL" in summary["error"]["message"]
    assert "a-wrong-password" not in _every_file_text(run) + result.stdout + result.stderr
    # The kept report shows monitorkit's message, not the driver's chained traceback.
    written = _every_file_text(run)
    for driver in ("psycopg", "adbc_driver", "sqlalchemy", "duckdb"):
        assert f"site-packages/{driver}" not in written, driver
