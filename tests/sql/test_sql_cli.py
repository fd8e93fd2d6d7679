"""The one-off commands (`drift`, `baseline`, `validate`) read `sql:<query>` data arguments
from the database named by --database-url-env, with --param values bound."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import monitorkit as mk
from tests.sql.conftest import load_duckdb

pytest.importorskip("duckdb")


def monitorkit(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "monitorkit.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("warehouse")
    scenario = mk.datasets.load_scenario("fraud_imbalance", n_rows=4_000)
    load_duckdb(folder / "w.db", {"training": scenario.reference, "scored": scenario.current})
    scenario.reference.to_parquet(folder / "training.parquet")
    scenario.current.to_parquet(folder / "scored.parquet")
    return {"folder": folder, "env": {"WAREHOUSE_URL": f"duckdb:///{folder / 'w.db'}"}}


def test_drift_from_sql_equals_drift_from_files(warehouse):
    folder, env = warehouse["folder"], warehouse["env"]
    from_sql = monitorkit(
        "drift",
        "sql:select * from training",
        "sql:select * from scored",
        "--database-url-env",
        "WAREHOUSE_URL",
        "--json",
        env=env,
    )
    from_files = monitorkit(
        "drift", str(folder / "training.parquet"), str(folder / "scored.parquet"), "--json"
    )
    assert from_sql.returncode == from_files.returncode, from_sql.stderr
    assert from_sql.returncode in (3, 4)
    sql_report = mk.load_report(from_sql.stdout)
    file_report = mk.load_report(from_files.stdout)
    assert sql_report.figures == file_report.figures
    assert str(folder) not in from_sql.stdout + from_sql.stderr  # the URL is not echoed


def test_bound_parameters_narrow_the_rows(warehouse):
    scenario_start = "2026-10-01"
    result = monitorkit(
        "drift",
        "sql:select * from training",
        "sql:select * from scored where timestamp >= :start",
        "--database-url-env",
        "WAREHOUSE_URL",
        "--param",
        f"start={scenario_start}",
        "--json",
        env=warehouse["env"],
    )
    assert result.returncode in (0, 3, 4), result.stderr
    report = mk.load_report(result.stdout)
    all_rows = mk.load_report(
        monitorkit(
            "drift",
            "sql:select * from training",
            "sql:select * from scored",
            "--database-url-env",
            "WAREHOUSE_URL",
            "--json",
            env=warehouse["env"],
        ).stdout
    )
    assert 0 < report.result.current_rows < all_rows.result.current_rows


def test_baseline_and_validate_from_sql(warehouse, tmp_path):
    env = warehouse["env"]
    output = tmp_path / "fraud.json"
    made = monitorkit(
        "baseline",
        "sql:select * from training",
        "-o",
        str(output),
        "--target",
        "label",
        "--prediction",
        "score",
        "--database-url-env",
        "WAREHOUSE_URL",
        env=env,
    )
    assert made.returncode == 0, made.stderr
    baseline = mk.Baseline.load(output)
    assert baseline.profile.rows == len(
        mk.datasets.load_scenario("fraud_imbalance", n_rows=4_000).reference
    )
    assert "recall" in baseline.metrics
    assert str(warehouse["folder"]) not in Path(output).read_text()
    checked = monitorkit(
        "validate",
        str(output),
        "sql:select * from scored",
        "--database-url-env",
        "WAREHOUSE_URL",
        "--json",
        env=env,
    )
    assert checked.returncode in (0, 3, 4), checked.stderr
    assert json.loads(checked.stdout)["rows"] > 0


def test_a_query_without_the_database_variable_is_bad_usage(warehouse):
    result = monitorkit("drift", "sql:select * from training", "sql:select * from scored")
    assert result.returncode == 2
    assert "give --database-url-env NAME" in result.stderr


def test_a_malformed_param_is_bad_usage(warehouse):
    result = monitorkit(
        "drift",
        "sql:select * from training",
        "sql:select * from scored",
        "--database-url-env",
        "WAREHOUSE_URL",
        "--param",
        "start",
        env=warehouse["env"],
    )
    assert result.returncode == 2
    assert "NAME=VALUE" in result.stderr
