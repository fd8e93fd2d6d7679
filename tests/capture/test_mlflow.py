"""Logging a run and a report to MLflow, checked in a local file-based MLflow store."""

from __future__ import annotations

import datetime as dt
import tempfile
import warnings

import pytest

mlflow = pytest.importorskip("mlflow")
from mlflow.tracking import MlflowClient  # noqa: E402

import monitorkit as mk  # noqa: E402
import monitorkit.capture.mlflow  # noqa: E402
from monitorkit import store  # noqa: E402
from monitorkit.capture.mlflow import log_to_mlflow, metric_name, metric_names  # noqa: E402
from monitorkit.errors import InputError  # noqa: E402
from monitorkit.runner import RunOutcome, build_summary  # noqa: E402


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    # MLflow 3 keeps the file store for those who opt in (the issue asks for a local file store)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # the file store's deprecation notice
        yield


def _run_folder(root, figures):
    started = dt.datetime(2026, 5, 1, 3, tzinfo=dt.timezone.utc)
    folder = root / "reports" / "churn" / "20260501T030000Z-0000abcd"
    folder.mkdir(parents=True)
    summary = build_summary(
        run_id=folder.name,
        model="churn",
        outcome=RunOutcome("succeeded", "warning", 3, None),
        published={"verdict": "recall fell", "figures": figures},
        started=started,
        finished=started + dt.timedelta(seconds=30),
        template={"path": "monitoring.ipynb", "sha256": "0" * 64},
        parameters={"current": "logs/churn?last=1D", "token": "***"},
        inputs={},
        environment={},
        git=None,
        files=[],
    )
    store.write_json_atomic(folder / store.SUMMARY_NAME, summary)
    (folder / store.HTML_NAME).write_text("<!DOCTYPE html><p>report</p>")
    return folder


def test_a_run_becomes_an_mlflow_run_with_metrics_and_artifacts(tmp_path):
    figures = {
        "drift.share_drifted": 0.25,
        "performance.recall": 0.71,
        "performance.recall|region=eu": 0.5,
        "quality.problems": 2,
        "note": "text is not a metric",
    }
    folder = _run_folder(tmp_path, figures)
    uri = f"file:{tmp_path / 'mlruns'}"
    run_id = log_to_mlflow(folder, tracking_uri=uri, experiment="monitoring")
    client = MlflowClient(tracking_uri=uri)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.metrics == {
        "drift.share_drifted": 0.25,
        "performance.recall": 0.71,
        "performance.recall_region_eu": 0.5,
        "quality.problems": 2.0,
        "severity": 1.0,
    }
    assert run.data.params["model"] == "churn"
    assert run.data.params["parameter.token"] == "***"  # as recorded: redacted
    assert run.data.tags["monitorkit.severity"] == "warning"
    assert run.info.run_name == folder.name
    assert run.info.start_time == int(
        dt.datetime(2026, 5, 1, 3, tzinfo=dt.timezone.utc).timestamp() * 1000
    )
    names = sorted(a.path for a in client.list_artifacts(run_id))
    assert names == ["report.html", "summary.json"]
    assert client.get_experiment(run.info.experiment_id).name == "monitoring"
    # a second run goes to the same experiment
    again = log_to_mlflow(folder, tracking_uri=uri, experiment="monitoring", artifacts=False)
    assert again != run_id
    assert client.get_run(again).info.experiment_id == run.info.experiment_id
    assert client.list_artifacts(again) == []


def test_a_report_is_logged_with_its_figures(tmp_path):
    ref, cur, _ = mk.datasets.load_scenario("no_change", n_rows=1_000, seed=0)
    report = mk.DriftReport(ref, cur)
    uri = f"file:{tmp_path / 'mlruns'}"
    run_id = log_to_mlflow(report, tracking_uri=uri)
    run = MlflowClient(tracking_uri=uri).get_run(run_id)
    assert run.data.metrics["drift.share_drifted"] == report.figures["share_drifted"]
    assert len(run.data.metrics) == len(report.figures) + 1
    artifacts = sorted(a.path for a in MlflowClient(tracking_uri=uri).list_artifacts(run_id))
    assert artifacts == ["drift.html", "drift.json", "summary.json"]
    with pytest.raises(InputError, match="run folder"):
        log_to_mlflow(42, tracking_uri=uri)


def test_metric_names_are_made_safe():
    assert metric_name("drift.column.age years.statistic") == "drift.column.age years.statistic"
    assert metric_name("age (years)") == "age _years_"
    assert metric_name("recall|region=eu") == "recall_region_eu"


def test_metric_names_are_unique_and_stable():
    names = metric_names(["a_b_c", "a|b=c", "a=b|c", "x"])
    assert names["a_b_c"] == "a_b_c" and names["x"] == "x"
    assert len(set(names.values())) == 4
    assert names["a|b=c"].startswith("a_b_c_") and len(names["a|b=c"]) == len("a_b_c_") + 8
    # a figure's name does not depend on the other figures, nor on their order
    assert metric_names(["a=b|c", "a|b=c"])["a|b=c"] == names["a|b=c"]
    assert metric_names(["a|b=c"])["a|b=c"] == "a_b_c"


def test_a_report_logs_every_figure_under_its_own_name_and_leaves_no_files(tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    ref, cur, _ = mk.datasets.load_scenario("no_change", n_rows=1_000, seed=0)
    report = mk.DriftReport(ref, cur)
    uri = f"file:{tmp_path / 'mlruns'}"
    log_to_mlflow(report, tracking_uri=uri)
    assert list(scratch.iterdir()) == []  # the report's files were uploaded, then deleted
    monkeypatch.setattr(monitorkit.capture.mlflow, "MAX_METRICS", 3)
    with pytest.warns(RuntimeWarning, match=rf"{len(report.figures) - 2} of the run's"):
        run_id = log_to_mlflow(report, tracking_uri=uri)
    metrics = MlflowClient(tracking_uri=uri).get_run(run_id).data.metrics
    assert len(metrics) == 3 and "severity" in metrics
