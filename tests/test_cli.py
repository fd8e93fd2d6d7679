"""The `monitorkit` command: exit codes, messages, history — run as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from monitorkit import store


def monitorkit(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "monitorkit.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


@pytest.mark.kernel
def test_run_prints_the_report_and_exits_0_when_healthy(in_tmp, data_files):
    result = monitorkit(
        "run",
        "monitoring",
        "--no-progress",
        "--model",
        "churn",
        "-p",
        "reference",
        str(data_files["reference"]),
        "-p",
        "current",
        str(data_files["current"]),
        "-p",
        "segments",
        "region",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: ")
    report = Path(result.stdout.strip().splitlines()[-1].removeprefix("report: "))
    assert report.name == "report.html" and report.parent.parent == in_tmp / "reports" / "churn"
    summary = json.loads((report.parent / "summary.json").read_text())
    assert summary["parameters"]["segments"] == ["region"]


def test_unknown_parameter_exits_2_naming_it(in_tmp, data_files):
    result = monitorkit("run", "monitoring", "-p", "refrence", "x.parquet")
    assert result.returncode == 2
    assert "unknown parameter 'refrence' (did you mean 'reference'?)" in result.stderr
    assert not (in_tmp / "reports").exists()


def test_parameter_given_twice_exits_2(in_tmp):
    result = monitorkit("run", "monitoring", "-p", "model", "a", "-p", "model", "b")
    assert result.returncode == 2 and "given twice" in result.stderr


def test_bad_usage_exits_2(in_tmp):
    assert monitorkit("run").returncode == 2
    assert monitorkit("no-such-command").returncode == 2
    missing = monitorkit("run", "no-such-template")
    assert missing.returncode == 2 and "no template notebook" in missing.stderr


@pytest.mark.kernel
def test_failed_run_exits_1_and_says_where_the_partial_report_is(in_tmp, data_files):
    result = monitorkit(
        "run",
        "monitoring",
        "--no-progress",
        "--model",
        "m",
        "-p",
        "reference",
        str(data_files["reference"]),
        "-p",
        "current",
        "nope.parquet",
    )
    assert result.returncode == 1
    assert "run FAILED: DataSourceError" in result.stderr
    assert "partial report kept in" in result.stderr
    (folder,) = (in_tmp / "reports" / "m").glob("2*")
    assert (folder / "report.ipynb").exists() and (folder / "summary.json").exists()


@pytest.mark.kernel
@pytest.mark.parametrize(("severity", "code"), [("warning", 3), ("critical", 4)])
def test_run_exit_code_follows_the_severity(in_tmp, make_template, severity, code):
    template = make_template(
        "verdict.ipynb",
        'severity: str = "ok"  # the verdict',
        "from monitorkit.runner import publish_summary\n"
        "publish_summary(severity, 'something moved', {'drifted': 2})",
    )
    result = monitorkit("run", str(template), "--no-progress", "-p", "severity", severity)
    assert result.returncode == code, result.stderr
    assert result.stdout.startswith(f"{severity.upper()}: something moved")


@pytest.mark.kernel
def test_history_lists_runs_of_a_model_and_models_of_the_store(in_tmp, make_template):
    template = make_template(
        "verdict.ipynb",
        'severity: str = "ok"  # the verdict',
        "from monitorkit.runner import publish_summary\n"
        "publish_summary(severity, 'checked ' + severity, {'drifted_columns': 3})",
    )
    for severity in ("ok", "critical"):
        monitorkit(
            "run", str(template), "--no-progress", "--model", "fraud", "-p", "severity", severity
        )
    per_model = monitorkit("history", "reports/fraud")
    assert per_model.returncode == 0, per_model.stderr
    lines = per_model.stdout.splitlines()
    assert lines[0] == "fraud: 2 run(s)"
    assert "drifted_columns" in lines[1]
    assert "checked ok" in lines[2] and "critical" in lines[3]
    # counts print as integers: the last column is drifted_columns (not the duration, 3.075)
    assert lines[1].split()[-1] == "drifted_columns"
    assert [line.split()[-1] for line in lines[2:4]] == ["3", "3"]
    by_name = monitorkit("history", "fraud")
    assert by_name.returncode == 0 and by_name.stdout == per_model.stdout
    overview = monitorkit("history")
    assert overview.returncode == 0
    assert "fraud" in overview.stdout and "critical" in overview.stdout
    assert len(store.read_index(in_tmp / "reports" / "fraud")) == 2
    missing = monitorkit("history", "nowhere")
    assert missing.returncode == 2 and "neither a report store nor a model folder" in missing.stderr


@pytest.mark.kernel
def test_demo_writes_a_report_that_opens_offline(in_tmp):
    result = monitorkit("demo", "--rows", "2000", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("CRITICAL: ") and "temperature_c" in result.stdout
    report = Path(result.stdout.strip().splitlines()[-1].removeprefix("report: "))
    assert report.parent.parent == in_tmp / "reports" / "demo-seasonal_retail"
    page = report.read_text()
    assert "Data overview" in page and "Drift" in page and "Since when?" in page
    assert "https://" not in page and "http://" not in page.replace("http-equiv", "")
    assert "<script src" not in page and "<link" not in page
    summary = json.loads((report.parent / "summary.json").read_text())
    assert summary["inputs"]["reference"]["sha256"]
    # Asking again reuses the scenario's data files and adds a second report.
    again = monitorkit("demo", "--rows", "2000", "--no-progress")
    assert again.returncode == 0, again.stderr
    assert len(list((in_tmp / "reports" / "demo-seasonal_retail").glob("2*"))) == 2
    assert len(list((in_tmp / "reports" / "demo-seasonal_retail" / "data").glob("*"))) == 4


def test_demo_with_an_unknown_scenario_exits_2(in_tmp):
    result = monitorkit("demo", "--scenario", "seasonal_retial")
    assert result.returncode == 2
    assert "seasonal_retail" in result.stderr


@pytest.mark.kernel
def test_run_keeps_kernel_noise_off_the_terminal_and_logs_how_it_ended(in_tmp, data_files):
    result = monitorkit(
        "run",
        "monitoring",
        "--no-progress",
        "-p",
        "reference",
        str(data_files["reference"]),
        "-p",
        "current",
        str(data_files["current"]),
    )
    assert result.returncode == 0, result.stderr
    assert "without encryption" not in result.stderr and "IPKernelApp" not in result.stderr
    # No model given: the reports are named after the current file, and the user is told.
    assert (in_tmp / "reports" / "current").is_dir()
    assert "named after the current data's file" in result.stderr
    (folder,) = [p for p in (in_tmp / "reports" / "current").iterdir() if p.is_dir()]
    last = (folder / "run.log").read_text().strip().splitlines()[-1]
    assert "run ended: status succeeded, severity ok, exit code 0" in last
    index = store.read_index(in_tmp / "reports" / "current")
    assert index[-1]["inputs"] == {"reference": "reference.parquet", "current": "current.csv"}


def test_a_missing_required_parameter_exits_2_before_anything_runs(in_tmp, data_files):
    result = monitorkit("run", "monitoring", "-p", "reference", str(data_files["reference"]))
    assert result.returncode == 2
    assert "missing required parameter(s): 'current'" in result.stderr
    assert not (in_tmp / "reports").exists()


def test_drift_command_prints_the_report_and_exits_like_run(in_tmp, small_frames):
    reference, current = small_frames
    reference.to_parquet(in_tmp / "ref.parquet")
    current.to_csv(in_tmp / "same.csv", index=False)
    moved = current.assign(income=current["income"] * 1.5)
    moved.to_csv(in_tmp / "moved.csv", index=False)

    quiet = monitorkit("drift", "ref.parquet", "same.csv")
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout.startswith("Drift OK")
    loud = monitorkit("drift", "ref.parquet", "moved.csv", "--json")
    assert loud.returncode == 4, loud.stderr
    data = json.loads(loud.stdout)
    assert data["kind"] == "drift"
    moved_columns = [c["column"] for c in data["columns"] if c["values_drifted"]]
    assert moved_columns == ["income"]

    baseline = monitorkit("baseline", "ref.parquet", "-o", "base.json")
    assert baseline.returncode == 0, baseline.stderr
    from_baseline = monitorkit("drift", "base.json", "moved.csv")
    assert from_baseline.returncode == 4 and "income" in from_baseline.stdout

    (in_tmp / "semicolon.csv").write_text(
        current.head(50).to_csv(sep=";", index=False), encoding="utf-8"
    )
    nothing = monitorkit("drift", "ref.parquet", "semicolon.csv")
    assert nothing.returncode == 1 and "no column in common" in nothing.stderr
    assert monitorkit("drift", "ref.parquet").returncode == 2
