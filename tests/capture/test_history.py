"""monitorkit.History over a generated store: 60 runs of one model, and several models."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from bs4 import BeautifulSoup

import monitorkit as mk
from monitorkit import store
from monitorkit.display import notebook_outputs
from monitorkit.display.history import plot_trend
from monitorkit.errors import InputError
from monitorkit.runner import RunOutcome, build_summary, index_record

REPO = Path(__file__).resolve().parents[2]
START = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.timezone.utc)
RUNS = 60
FAILED_RUN = 30
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The statuses of the 60 runs as symbols, oldest first: ok, the failed run, ok, then recall
# falls: warning from run 40, critical from run 50 (below 0.81).
STATUS_TEXT = "●" * FAILED_RUN + "✕" + "●" * 9 + "▲" * 10 + "◆" * 10
STATUS_LEGEND = "● OK 39 · ▲ WARNING 10 · ◆ CRITICAL 10 · ✕ FAILED 1"
MIN_SHARE_OF_GRAPHICS = 0.9


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
    page = history.save_html(tmp_path / "history.html")
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>")
    strip = re.search(r'<div class="mk-strip">(.*?)</div>', html).group(1)
    assert strip.count("<rect") == RUNS
    legend = re.search(r'<div class="mk-strip">.*?</div>(<div class="mk-legend">.*?</div>)', html)
    assert _words(legend.group(1)) == "■ OK 39 · ■ WARNING 10 · ■ CRITICAL 10 · ■ FAILED 1"
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
    assert "<b>bold?</b>" not in history.to_html()


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
    # the page exists now: kept unless --overwrite
    out.write_text("mine")
    command = [sys.executable, "-m", "monitorkit.cli", "history", "fraud", "--out", str(reports)]
    kept = subprocess.run(
        [*command, "--html", str(out)], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert kept.returncode == 2 and "--overwrite" in kept.stderr and out.read_text() == "mine"
    replaced = subprocess.run(
        [*command, "--html", str(out), "--overwrite"],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert replaced.returncode == 0 and 'class="mk-trend"' in out.read_text()
    # no path: the store of --out, wherever the command runs
    store_view = subprocess.run(
        [sys.executable, "-m", "monitorkit.cli", "history", "--out", str(reports)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert store_view.returncode == 0 and "fraud" in store_view.stdout


@pytest.mark.kernel
def test_the_history_template_runs_with_papermill(reports, tmp_path):
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
    # Executed as a person would in Jupyter (the widget view, and the portable HTML with it).
    assert "<svg" not in json.dumps([c.get("outputs", []) for c in notebook.cells])
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


# --------------------------------------------------------------------------------------------
# The notebook's view: what a sanitizer keeps (no <svg>, no <style>) still says everything
# --------------------------------------------------------------------------------------------


def _words(html: str) -> str:
    """The text a reader gets from ``html`` (any stylesheet gone), white space squashed."""
    soup = BeautifulSoup(html, "html.parser")
    for style in soup.find_all("style"):
        style.decompose()
    return _squash(soup.get_text())


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ")).strip()


def test_the_notebook_view_has_no_svg_and_each_trend_is_an_image_output(reports):
    history = mk.History(reports / "fraud")
    outputs = notebook_outputs(history)
    kinds = ["image" if "image/png" in data else "html" for data, _ in outputs]
    assert kinds == ["html", "image"] * len(history.figures) + ["html"]
    for i, figure in enumerate(history.figures):
        data, metadata = outputs[2 * i + 1]
        assert base64.b64decode(data["image/png"]).startswith(PNG_SIGNATURE)
        alt = metadata["image/png"]["alt"]
        assert alt.startswith(f"{figure} per run, 2026-03-01 02:00 to 2026-04-29 02:00 (UTC)")
        assert data["text/plain"] == f"<{alt}>"
        # each picture right after its caption
        before = outputs[2 * i][0]["text/html"]
        assert re.findall(r'data-figure="([^"]+)"', before)[-1] == figure
    htmls = [data["text/html"] for data, _ in outputs if "text/html" in data]
    for html in htmls:
        assert "<svg" not in html and "<img" not in html and "<!--mk-image" not in html
    assert "text/markdown" in outputs[0][0]
    first = BeautifulSoup(htmls[0], "html.parser")
    assert _words(str(first.find(class_="mk-banner"))).startswith(
        "CRITICAL History: fraud: 60 run(s); the last (2026-04-29 02:00 UTC) critical"
    )
    assert _words(str(first.find(class_="mk-facts"))) == (
        "60 run(s) · 1 failed · from 2026-03-01 02:00 to 2026-04-29 02:00 (UTC) · "
        "1 alert(s) firing after the last run"
    )
    # The statuses in text: a symbol per run whose shape says it, the words in the legend.
    assert _words(str(first.find(class_="mk-strip"))) == STATUS_TEXT
    assert _words(str(first.find(class_="mk-legend"))) == STATUS_LEGEND
    # The runs table, newest first: the status of each a word.
    table = BeautifulSoup(htmls[-1], "html.parser").find("table")
    statuses = [_words(str(tr.find_all("td")[1])) for tr in table.find_all("tr", class_="mk-run")]
    assert statuses == ["CRITICAL"] * 10 + ["WARNING"] * 10 + ["OK"] * 9 + ["FAILED"]
    # One bundle (hosts other than a notebook's kernel): the trends as <img> data URIs.
    html = history.to_html()
    assert "<svg" not in html and html.count('<img src="data:image/png;base64,') == 3


def test_the_trend_picture_draws_what_the_page_draws(reports):
    from matplotlib.collections import PathCollection
    from matplotlib.colors import to_rgba

    from monitorkit.display.theme import SEVERITY_COLORS

    history = mk.History(reports / "fraud")
    drift = plot_trend(history.trend("drift.share_drifted"), "drift.share_drifted").axes[0]
    (points,) = [c for c in drift.collections if isinstance(c, PathCollection)]
    assert len(points.get_offsets()) == RUNS - 1  # the failed run has no value
    assert len(drift.collections) == 1 + 1  # the points, and one band over the failed run
    recall = plot_trend(history.trend("performance.recall"), "performance.recall").axes[0]
    (points,) = [c for c in recall.collections if isinstance(c, PathCollection)]
    assert len(recall.collections) == 1 + 2  # the recorded baseline's band has a gap there
    dashed = [line for line in recall.lines if line.get_linestyle() != "-"]
    assert len(dashed) == 1 and set(dashed[0].get_ydata()) == {0.9}
    # values 0.62…0.9 and the band 0.81…0.99, widened by at most a quarter of 0.28
    assert recall.get_ylim() == pytest.approx((0.62, 0.97))
    assert [t.get_text() for t in recall.get_yticklabels()] == ["0.620", "0.970"]
    colours = points.get_facecolors()
    assert tuple(colours[0]) == pytest.approx(to_rgba(SEVERITY_COLORS["ok"]))
    assert tuple(colours[-1]) == pytest.approx(to_rgba(SEVERITY_COLORS["critical"]))
    # on axes of one's own
    from matplotlib.figure import Figure

    figure = Figure()
    ax = figure.add_subplot()
    assert plot_trend(history.trend("quality.problems"), "quality.problems", ax=ax) is figure
    trend = history.trend("quality.problems").assign(value=np.nan, baseline=np.nan)
    with pytest.raises(InputError, match="no run has a value of 'quality.problems'"):
        plot_trend(trend, "quality.problems")


def test_the_store_view_in_a_notebook_reads_its_statuses_in_words(reports):
    outputs = notebook_outputs(mk.History(reports))
    ((data, _),) = outputs
    html = data["text/html"]
    assert "<svg" not in html and "<img" not in html
    assert data["text/markdown"].startswith("**CRITICAL** · **History**: 3 model(s)")
    soup = BeautifulSoup(html, "html.parser")
    rows = {
        tr["data-model"]: [_words(str(td)) for td in tr.find_all("td")]
        for tr in soup.find_all("tr", class_="mk-model")
    }
    assert [(row[3], row[-1]) for row in rows.values()] == [
        ("OK", "●●●"),
        ("CRITICAL", "▲" * 10 + "◆" * 10),  # the last 20 runs
        ("FAILED", "●✕"),
    ]
    assert rows["fraud"][-2] == "CRITICAL 1"  # the alerts firing after its last run
    assert _words(str(soup.find(class_="mk-legend"))) == (
        "recent runs, oldest first: ● OK · ▲ WARNING · ◆ CRITICAL · ✕ FAILED"
    )


def test_history_shows_itself_as_the_notebook_outputs_in_a_kernel(reports, monkeypatch):
    import IPython.display

    import monitorkit.display as display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: shown.append((a, k)))
    monkeypatch.setenv("MONITORKIT_DISPLAY", "static")
    monkeypatch.setattr(display, "_in_jupyter_kernel", lambda: True)
    history = mk.History(reports / "fraud")
    history._ipython_display_()
    assert [a[0] for a, _ in shown] == [data for data, _ in notebook_outputs(history)]


@pytest.mark.kernel
def test_the_executed_template_reads_the_same_through_a_sanitizer(reports, tmp_path, monkeypatch):
    """``nbconvert --sanitize-html`` (close to GitHub's renderer) of the template executed as
    ``monitorkit run`` executes one: statuses, tables and the trends are all there."""
    import papermill

    monkeypatch.setenv("MONITORKIT_DISPLAY", "static")  # as the runner executes templates
    executed = tmp_path / "history.ipynb"
    papermill.execute_notebook(
        str(REPO / "notebooks" / "history.ipynb"),
        str(executed),
        parameters={"reports": str(reports), "model": "fraud"},
        kernel_name="python3",
        progress_bar=False,
        cwd=str(tmp_path),
    )
    notebook = nbformat.read(executed, as_version=4)
    outputs = [o for c in notebook.cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    assert "<svg" not in json.dumps(outputs)
    graphics = 0  # what JupyterLab and nbconvert show first: HTML, else the image
    for output in outputs:
        data = output.get("data", {})
        if "text/html" in data:
            soup = BeautifulSoup(data["text/html"], "html.parser")
            graphics += len(soup.find_all(["img", "svg"]))
        elif "image/png" in data:
            graphics += 1
    assert graphics == 3  # the model's three trends
    assert executed.stat().st_size < 2 * 1024 * 1024

    export = tmp_path / "sanitized.html"
    done = subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", "html", "--sanitize-html", str(executed),
         "--output", str(export.with_suffix(""))],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    soup = BeautifulSoup(export.read_text(), "html.parser")
    shown = [
        img
        for img in soup.find_all("img")
        if img.get("src", "").startswith("data:image/png;base64,")
        and base64.b64decode(img["src"].split(",", 1)[1]).startswith(PNG_SIGNATURE)
    ]
    assert len(shown) / graphics >= MIN_SHARE_OF_GRAPHICS, (len(shown), graphics)
    assert "<svg" not in str(soup.body)

    text = _squash(soup.get_text())
    assert "CRITICAL History: 3 model(s), by their last run: 1 failed, 1 critical, 1 ok" in text
    assert "CRITICAL History: fraud: 60 run(s); the last (2026-04-29 02:00 UTC) critical" in text
    assert STATUS_TEXT in text and STATUS_LEGEND in text

    # <th> does not survive this sanitizer; the rows, their cells and their order do.
    rows = [[_squash(td.get_text()) for td in tr.find_all("td")] for tr in soup.find_all("tr")]
    models = {row[0]: row for row in rows if row and row[0] in ("churn", "fraud", "pricing")}
    assert list(models) == ["churn", "fraud", "pricing"]
    assert [(row[3], row[-1]) for row in models.values()] == [
        ("OK", "●●●"),
        ("CRITICAL", "▲" * 10 + "◆" * 10),
        ("FAILED", "●✕"),
    ]
    runs = [row for row in rows if row and re.fullmatch(r"2026-\d\d-\d\d 02:00", row[0])]
    assert [row[0] for row in runs] == [
        f"{START + dt.timedelta(days=i):%Y-%m-%d %H:%M}" for i in range(RUNS - 1, RUNS - 31, -1)
    ]
    assert [row[1] for row in runs] == ["CRITICAL"] * 10 + ["WARNING"] * 10 + ["OK"] * 9 + [
        "FAILED"
    ]
