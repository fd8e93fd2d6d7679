"""An executed report notebook, opened by someone who did not run it.

The colleague's JupyterLab does not trust the notebook (no signature in their database), so it
sanitizes every HTML output: no ``<style>``, no ``<svg>``. ``nbconvert --sanitize-html`` (close
to what GitHub's renderer does) is stricter still: no ``<img>``, ``<p>`` or ``<th>`` in HTML.
In both, the verdict, the ranked drift table (with its distribution bars) and the plots must be
there. The notebook is opened, never run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

from .test_jupyterlab import LAB_VIEWPORT, UI_TIMEOUT_MS, _wait_visible, jupyterlab  # noqa: F401

pytestmark = pytest.mark.browser

MIN_SHARE_OF_GRAPHICS = 0.9
RANKED_TABLE_HEADING = "Columns, most moved first"
SEVERITY_WORDS = {"OK", "WARNING", "CRITICAL"}
SUMMARY_MIMETYPE = "application/vnd.monitorkit.summary+json"
FACT = r"[^·]+"  # one figure of the summary strip: anything but the separator
DRIFT_FACTS = re.compile(
    rf"reference [\d,]+ rows · current [\d,]+ rows · \d+ columns tested · \d+% of features "
    rf"drifted( · {FACT})*"
)
MAX_NOTEBOOK_BYTES = 2 * 1024 * 1024


@pytest.fixture(scope="module")
def runner_data_dir(tmp_path_factory) -> Path:
    """The Jupyter data folder of the user who runs ``monitorkit`` (their notary database)."""
    return tmp_path_factory.mktemp("runner-jupyter-data")


@pytest.fixture(scope="module")
def executed_report(tmp_path_factory, runner_data_dir) -> Path:
    """``report.ipynb`` of ``monitorkit demo``: papermill ran it, and the run signed it for
    its user only (in ``runner_data_dir``), so a colleague's JupyterLab does not trust it."""
    folder = tmp_path_factory.mktemp("demo")
    environment = {**os.environ, "JUPYTER_DATA_DIR": str(runner_data_dir)}
    environment.pop("MONITORKIT_SIGN_NOTEBOOKS", None)
    result = subprocess.run(
        [sys.executable, "-m", "monitorkit.cli", "demo", "--rows", "2000", "--no-progress"]
        + ["--out", str(folder / "reports")],
        capture_output=True,
        text=True,
        cwd=folder,
        env=environment,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    html = Path(result.stdout.strip().splitlines()[-1].removeprefix("report: "))
    notebook = html.with_name("report.ipynb")
    assert notebook.is_file(), notebook
    assert notebook.stat().st_size < MAX_NOTEBOOK_BYTES
    return notebook


@pytest.fixture(scope="module")
def expected(executed_report) -> dict:
    """What the notebook holds: its graphics, verdict and ranked drift table."""
    notebook = nbformat.read(executed_report, as_version=4)
    graphics = 0
    ranked_rows = None
    verdict = None
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if SUMMARY_MIMETYPE in data:
                verdict = data[SUMMARY_MIMETYPE]["verdict"]
            # What both JupyterLab and nbconvert choose first: HTML, else the image.
            if "text/html" in data:
                soup = BeautifulSoup(data["text/html"], "html.parser")
                graphics += len(soup.find_all(["img", "svg"]))
                heading = soup.find("h3", string=RANKED_TABLE_HEADING)
                if heading is not None:
                    ranked_rows = _table_rows(heading.find_next("table"))
            elif any(kind in data for kind in ("image/png", "image/jpeg", "image/svg+xml")):
                graphics += 1
    assert verdict and ranked_rows is not None
    header, *rows = ranked_rows
    assert "distribution" in header and len(rows) >= 10
    return {"graphics": graphics, "verdict": verdict, "header": header, "rows": rows}


@pytest.mark.kernel  # JupyterLab starts a kernel for an opened notebook (nothing is run in it)
def test_untrusted_jupyterlab_shows_verdict_table_and_graphics(
    jupyterlab,  # noqa: F811
    watched_page,
    executed_report,
    expected,
    tmp_path,
):
    shutil.copy(executed_report, jupyterlab.root / "report.ipynb")
    # Every cell in the page at once (JupyterLab otherwise renders only those in view).
    settings = tmp_path / "jupyter-state" / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    watched = watched_page(
        allowed=[f"{jupyterlab.origin}/", f"blob:{jupyterlab.origin}/"], viewport=LAB_VIEWPORT
    )
    page = watched.page
    page.goto(f"{jupyterlab.origin}/lab/tree/report.ipynb")
    outputs = page.locator(".jp-OutputArea-output")
    ranked = page.locator(".jp-OutputArea-output h3", has_text=RANKED_TABLE_HEADING)
    _wait_visible(ranked, "the drift section's ranked table", page, jupyterlab)
    page.wait_for_function(_IMAGES_SETTLED, timeout=UI_TIMEOUT_MS)

    # The view under test is the sanitized one: no output kept its <style>.
    assert outputs.locator("style").count() == 0
    assert outputs.locator(".mk-report").count() >= 4

    shown = page.evaluate(_GRAPHICS_SHOWN)
    assert expected["graphics"] >= 8
    assert shown / expected["graphics"] >= MIN_SHARE_OF_GRAPHICS, (shown, expected)

    banner = outputs.locator(".mk-banner").first.inner_text()
    assert re.match(r"(CRITICAL|WARNING|OK) Verdict: ", _squash(banner)), banner
    assert _squash(expected["verdict"].replace("`", "")) in _squash(banner)

    rows = page.evaluate(_RANKED_ROWS, RANKED_TABLE_HEADING)
    header, *body = rows
    assert header == expected["header"]
    assert body == expected["rows"]
    distribution = header.index("distribution")
    severity = header.index("severity")
    for row in body:
        assert re.fullmatch("[▁▂▃▄▅▆▇█]+", row[distribution]), row  # bars, not an empty cell
        assert row[severity] in SEVERITY_WORDS, row

    # The summary strip and the legend: each figure set off from the next by text.
    strip = _squash(
        ranked.locator("xpath=preceding::p[contains(@class,'mk-facts')][1]").inner_text()
    )
    assert DRIFT_FACTS.fullmatch(strip), strip
    assert "rowscurrent" not in strip
    legend = _squash(
        ranked.locator("xpath=following::div[contains(@class,'mk-legend')][1]").inner_text()
    )
    assert legend == "■ reference (upper bars) · ■ current (lower bars)", legend

    # The picture in the README: the drift section's heading at the top of the notebook panel.
    screenshot = tmp_path / "untrusted-jupyterlab.png"
    outputs.locator("h2.mk-section", has_text="Drift").first.evaluate(
        "heading => heading.scrollIntoView({block: 'start'})"
    )
    page.screenshot(path=screenshot)
    assert screenshot.stat().st_size > 10_000
    assert watched.problems() == {}


def test_the_run_signs_its_notebook_for_its_user_only(executed_report, runner_data_dir, tmp_path):
    from nbformat.sign import NotebookNotary

    notebook = nbformat.read(executed_report, as_version=4)
    assert NotebookNotary(data_dir=str(runner_data_dir)).check_signature(notebook)
    # Nothing in the file itself: another user's notary (a colleague's) does not trust it.
    assert "signature" not in notebook.metadata
    colleague = tmp_path / "colleague"
    colleague.mkdir()
    assert not NotebookNotary(data_dir=str(colleague)).check_signature(notebook)


def test_sanitized_nbconvert_export_keeps_verdict_table_and_graphics(
    executed_report, expected, watched_page, tmp_path
):
    export = tmp_path / "sanitized.html"
    result = subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", "html", "--sanitize-html"]
        + [str(executed_report), "--output", str(export.with_suffix(""))],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    # Its page asks a CDN for MathJax and require.js: those requests are cut, not needed here.
    watched = watched_page(allowed=[export.as_uri()])
    page = watched.page
    page.goto(export.as_uri(), wait_until="load")
    page.wait_for_function(_IMAGES_SETTLED)

    shown = page.evaluate(_GRAPHICS_SHOWN)
    assert expected["graphics"] >= 8
    assert shown / expected["graphics"] >= MIN_SHARE_OF_GRAPHICS, (shown, expected)

    text = _squash(page.locator("body").inner_text())
    assert _squash(expected["verdict"].replace("`", "")) in text

    # <th> does not survive this sanitizer; the rows, their cells and their order do.
    rows = page.evaluate(_ROWS_OF_TABLE_WITH, expected["rows"][0][0])
    assert rows == expected["rows"]
    distribution = expected["header"].index("distribution")
    assert all(re.fullmatch("[▁▂▃▄▅▆▇█]+", row[distribution]) for row in rows)


# --------------------------------------------------------------------------------------------


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ")).strip()


def _table_rows(table) -> list[list[str]]:
    """Cell texts of a table parsed by BeautifulSoup, as compared (:func:`_cell_text`)."""
    return [[_cell_text(c.get_text()) for c in tr.find_all(["th", "td"])] for tr in table("tr")]


def _cell_text(text: str) -> str:
    """A cell's text without any white space (a browser's and a parser's agree on that)."""
    return re.sub(r"[\s\u00a0]+", "", text)


# Images are decoded (or failed) and every <img> in an output has been tried.
_IMAGES_SETTLED = """() => [...document.querySelectorAll('.jp-OutputArea-output img')]
  .every(img => img.complete)"""

# Graphics a reader sees in the outputs: decoded images and inline SVG pictures.
_GRAPHICS_SHOWN = """() => {
  const outputs = [...document.querySelectorAll('.jp-OutputArea-output')];
  let shown = 0;
  for (const output of outputs) {
    shown += [...output.querySelectorAll('img')]
      .filter(img => img.complete && img.naturalWidth > 0).length;
    shown += output.querySelectorAll('svg').length;
  }
  return shown;
}"""

_CELL_TEXTS = """cells => cells.map(cell => cell.textContent.replace(/[\\s\\u00a0]+/g, ''))"""

# The rows (header first) of the first table after the heading that reads ``heading``.
_RANKED_ROWS = f"""heading => {{
  const texts = {_CELL_TEXTS};
  const h3 = [...document.querySelectorAll('.jp-OutputArea-output h3')]
    .find(h => h.textContent.trim().startsWith(heading));
  let node = h3;
  while (node && !(node.tagName === 'TABLE' || (node.querySelector && node.querySelector('table'))))
    node = node.nextElementSibling;
  const table = node.tagName === 'TABLE' ? node : node.querySelector('table');
  return [...table.rows].map(row => texts([...row.cells]));
}}"""

# The rows of the first table whose first row of cells starts with ``first`` (no header row:
# the sanitizer turned <th> into text).
_ROWS_OF_TABLE_WITH = f"""first => {{
  const texts = {_CELL_TEXTS};
  const table = [...document.querySelectorAll('table')]
    .find(t => [...t.rows].some(r => r.cells.length && texts([r.cells[0]])[0] === first));
  return [...table.rows].filter(r => r.cells.length).map(row => texts([...row.cells]));
}}"""
