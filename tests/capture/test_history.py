"""monitorkit.History over a generated store: 60 runs of one model, and several models."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import monitorkit as mk
from monitorkit import store
from monitorkit.errors import InputError
from monitorkit.runner import RunOutcome, build_summary, index_record

REPO = Path(__file__).resolve().parents[2]
START = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.timezone.utc)
RUNS = 60
FAILED_RUN = 30


def _write_run(model_dir: Path, i: int, *, status: str, severity, figures, verdict, alerts=None):
    started = START + dt.timedelta(days=i)
    folder = model_dir / f"{started:%Y%m%dT%H%M%SZ}-{i:08x}"
    folder.mkdir(parents=True)
    failed = status == "failed"
    outcome = RunOutcome(
        status,
        None if failed else severity,
        1 if failed else {"ok": 0, "warning": 3, "critical": 4}[severity],
        {"type": "ValueError", "message": "broken input"} if failed else None,
    )
    summary = build_summary(
        run_id=folder.name,
        model=model_dir.name,
        outcome=outcome,
        published=None if failed else {"verdict": verdict, "figures": figures},
        started=started,
        finished=started + dt.timedelta(minutes=3),
        template={"path": "monitoring.ipynb", "sha256": "0" * 64},
        parameters={},
        inputs={},
        environment={},
        git=None,
        files=[],
    )
    if alerts is not None:
        summary["alerts"] = alerts
    store.write_json_atomic(folder / store.SUMMARY_NAME, summary)
    store.append_index(model_dir, index_record(summary))


def _series(i: int) -> tuple[float, float]:
    share = 0.05 + 0.002 * (i % 3) if i < 40 else 0.4
    recall = 0.9 if i < 45 else 0.9 - 0.02 * (i - 45)
    return share, recall


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    root = tmp_path / "reports"
    model_dir = root / "fraud"
    for i in range(RUNS):
        share, recall = _series(i)
        if i == FAILED_RUN:
            _write_run(model_dir, i, status="failed", severity=None, figures={}, verdict=None)
            continue
        severity = "ok" if i < 40 else ("warning" if recall >= 0.81 else "critical")
        figures = {
            "drift.share_drifted": share,
            "quality.problems": 3 if i in (10, 20) else 0,
            "performance.recall": recall,
            "performance.recall.baseline": 0.9,
            "performance.recall|region=north": recall,
            "drift.column.amount.statistic": share,
        }
        alerts = None
        if severity == "critical":
            alerts = {"firing": [{"rule": "recall drop", "severity": "critical"}]}
        verdict = f"run {i}: recall {recall:.2f} <b>bold?</b>"
        _write_run(model_dir, i, status="succeeded", severity=severity, figures=figures,
                   verdict=verdict, alerts=alerts)  # fmt: skip
    for i in range(3):
        _write_run(root / "churn", i, status="succeeded", severity="ok",
                   figures={"drift.share_drifted": 0.0}, verdict="all quiet")  # fmt: skip
    _write_run(root / "pricing", 0, status="succeeded", severity="ok", figures={}, verdict="ok")
    _write_run(root / "pricing", 1, status="failed", severity=None, figures={}, verdict=None)
    return root


def test_one_row_per_run_with_statuses_and_alerts(reports):
    history = mk.History(reports / "fraud")
    runs = history.runs
    assert len(runs) == RUNS
    assert runs["started_at"].is_monotonic_increasing
    assert runs.loc[FAILED_RUN, "status"] == "failed"
    assert (runs["status"] == "succeeded").sum() == RUNS - 1
    severities = runs["severity"]
    assert set(severities[:40].dropna()) == {"ok"} and severities.isna().sum() == 1
    assert severities[40] == "warning" and severities.iloc[-1] == "critical"
    critical = runs[runs["severity"] == "critical"]
    assert (critical["alerts_firing"] == 1).all() and (critical["alerts"] == "recall drop").all()
    assert (runs.loc[runs["severity"] != "critical", "alerts_firing"] == 0).all()
    assert history.severity == mk.Severity.CRITICAL
    assert history.verdict.startswith("fraud: 60 run(s)")
    assert (
        mk.History(reports / "fraud", limit=10).runs["run_id"].tolist()
        == (runs["run_id"].tolist()[-10:])
    )


def test_trend_without_a_baseline_has_a_rolling_band_that_the_jump_leaves(reports):
    trend = mk.History(reports / "fraud").trend("drift.share_drifted")
    expected = [np.nan if i == FAILED_RUN else _series(i)[0] for i in range(RUNS)]
    np.testing.assert_allclose(trend["value"], expected)
    assert trend["baseline"].isna().all()
    assert trend.loc[:1, "lower"].isna().all()  # fewer than two earlier runs
    steady = trend.loc[2:39].dropna(subset=["value"])
    assert ((steady["value"] >= steady["lower"]) & (steady["value"] <= steady["upper"])).all()
    assert trend.loc[40, "value"] > trend.loc[40, "upper"]  # the drift jump leaves the band
    # the band of run 12 is the mean ± 3 std of runs 2..11
    window = np.array(expected[2:12])
    assert trend.loc[12, "upper"] == pytest.approx(window.mean() + 3 * window.std(ddof=1))


def test_trend_with_a_baseline_draws_its_band_around_it(reports):
    history = mk.History(reports / "fraud")
    trend = history.trend("performance.recall")
    judged = trend.dropna(subset=["value"])
    assert (judged["baseline"] == 0.9).all()
    np.testing.assert_allclose(judged["lower"], 0.81)
    np.testing.assert_allclose(judged["upper"], 0.99)
    below = judged[judged["value"] < judged["lower"]]
    assert below.index.min() == 50  # recall 0.80 at run 50
    assert set(below["severity"]) == {"critical"}
    # the default figures: headline ones and metrics with a baseline, never segments
    assert history.figures == ["drift.share_drifted", "quality.problems", "performance.recall"]
    with pytest.raises(InputError, match="no run has the figure"):
        history.trend("performance.precision")


def test_static_html_shows_every_run_escaped_and_offline(reports, tmp_path):
    history = mk.History(reports / "fraud")
    html = history.to_html()
    strip = re.search(r'<div class="mk-strip">(.*?)</div>', html).group(1)
    assert strip.count("<rect") == RUNS
    assert html.count('class="mk-trend"') == 3
    drift_block = re.search(r'data-figure="drift.share_drifted">(.*?)</figure>', html).group(1)
    assert drift_block.count('class="mk-point"') == RUNS - 1  # the failed run has no value
    # the rolling band goes on over the failed run; the recorded baseline has a gap there
    assert drift_block.count('class="mk-band"') == 1
    recall_block = re.search(r'data-figure="performance.recall">(.*?)</figure>', html).group(1)
    assert recall_block.count('class="mk-band"') == 2
    assert recall_block.count('class="mk-baseline"') == 1
    assert html.count('class="mk-run"') == 30  # the table: the last 30, newest first
    rows = re.findall(r'data-run="([^"]+)"', html)
    assert rows == history.runs["run_id"].tolist()[::-1][:30]
    assert "<b>bold?</b>" not in html and "&lt;b&gt;bold?&lt;/b&gt;" in html
    assert "<script" not in html.lower()
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    page = history.save_html(tmp_path / "history.html")
    assert page.read_text().startswith("<!DOCTYPE html>")


def test_the_store_root_gives_one_row_per_model(reports):
    history = mk.History(reports)
    models = history.models.set_index("model")
    assert list(models.index) == ["churn", "fraud", "pricing"]
    assert models.loc["fraud", "runs"] == RUNS and models.loc["churn", "runs"] == 3
    assert models.loc["fraud", "last_severity"] == "critical"
    assert models.loc["pricing", "last_status"] == "failed"
    assert models.loc["fraud", "alerts_firing"] == 1
    assert models.loc["fraud", "drift.share_drifted"] == 0.4
    assert models.loc["fraud", "recent"].split()[-1] == "critical"
    assert len(models.loc["fraud", "recent"].split()) == 20
    assert history.severity == mk.Severity.CRITICAL
    assert history.verdict == "3 model(s), by their last run: 1 failed, 1 critical, 1 ok"
    html = history.to_html()
    assert re.findall(r'data-model="([^"]+)"', html) == ["churn", "fraud", "pricing"]
    text = str(history)
    assert all(name in text for name in ("churn", "fraud", "pricing"))
    with pytest.raises(InputError, match="neither"):
        mk.History(reports / "nowhere")


def test_history_command_writes_the_page(reports, tmp_path):
    out = tmp_path / "page.html"
    done = subprocess.run(
        [sys.executable, "-m", "monitorkit.cli", "history", str(reports / "fraud"), "--html",
         str(out)],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "fraud: 60 run(s)" in done.stdout
    assert out.read_text().count('class="mk-trend"') == 3


@pytest.mark.kernel
def test_the_history_template_runs_with_papermill(reports, tmp_path):
    import nbformat
    import papermill

    output = tmp_path / "history.ipynb"
    papermill.execute_notebook(
        str(REPO / "notebooks" / "history.ipynb"),
        str(output),
        parameters={"reports": str(reports), "model": "fraud"},
        kernel_name="python3",
        progress_bar=False,
        cwd=str(tmp_path),
    )
    notebook = nbformat.read(output, as_version=4)
    html = "".join(
        output.get("data", {}).get("text/html", "")
        for cell in notebook.cells
        for output in cell.get("outputs", [])
    )
    assert re.findall(r'data-model="([^"]+)"', html) == ["churn", "fraud", "pricing"]
    assert html.count('class="mk-trend"') == 3  # the model asked for, with its trends
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    assert (
        json.loads(json.dumps(notebook.metadata.get("papermill", {}).get("parameters")))["model"]
        == "fraud"
    )


def test_the_live_view_picks_a_figure_or_a_model(reports, monkeypatch):
    pytest.importorskip("ipywidgets")
    from monitorkit.display import mimebundle
    from monitorkit.display.history import history_widget

    one = mk.History(reports / "fraud")
    view = history_widget(one)
    choice, chart, table = view.children
    assert list(choice.options) == one.figures
    assert 'data-figure="drift.share_drifted"' in chart.value
    choice.value = "performance.recall"
    assert 'data-figure="performance.recall"' in chart.value
    assert table.value.count('class="mk-run"') == 30
    overview, picker, opened = history_widget(mk.History(reports)).children
    assert list(picker.options) == ["churn", "fraud", "pricing"]
    assert "churn: 3 run(s)" not in opened.value and opened.value.count('class="mk-run"') == 3
    picker.value = "fraud"
    assert opened.value.count('class="mk-trend"') == 3
    monkeypatch.setenv("MONITORKIT_DISPLAY", "widget")
    bundle = mimebundle(one)
    assert "application/vnd.jupyter.widget-view+json" in bundle and "text/html" in bundle
