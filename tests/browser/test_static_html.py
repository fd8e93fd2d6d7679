"""Static reports as a reader's browser shows them.

The standalone page of ``DriftReport.save_html`` and the ``report.html`` of a run open from disk
in headless Chromium with the network cut: each must load nothing but itself, log no error, run
no script, put its severity first, and show hostile column names and categories as plain text.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import monitorkit as mk

pytestmark = pytest.mark.browser

HOSTILE_COLUMN = "<img src=x onerror=alert(1)>"
HOSTILE_VALUE = "</style><script>window.__pwned=1</script>"
SEVERITY_LABEL = re.compile(r"^(CRITICAL|WARNING)$")
MIN_SCREENSHOT_BYTES = 10_000


@pytest.fixture(scope="module")
def hostile_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference and current data whose names and values are HTML that would run if unescaped."""
    rng = np.random.default_rng(11)

    def frame(rows: int, start: str, shift: float, hostile_share: float) -> pd.DataFrame:
        ordinary_share = (1 - hostile_share) / 2
        return pd.DataFrame(
            {
                "timestamp": pd.date_range(start, periods=rows, freq="h", tz="UTC"),
                # Drifts, so the verdict, the table, the windows and a plot all name it.
                HOSTILE_COLUMN: rng.normal(shift, 1.0, rows),
                "basket_value": rng.normal(50 + 10 * shift, 10, rows).round(2),
                # A category whose share grows: a drifted categorical column.
                "channel": rng.choice(
                    ["web", "store", HOSTILE_VALUE],
                    rows,
                    p=[ordinary_share, ordinary_share, hostile_share],
                ),
                # Constant, so it is skipped with a reason that quotes the value.
                "note": [HOSTILE_VALUE] * rows,
            }
        )

    return frame(2_000, "2026-01-01", 0.0, 0.05), frame(1_500, "2026-04-01", 1.0, 0.4)


@pytest.fixture(scope="module")
def standalone_page(tmp_path_factory, hostile_frames) -> Path:
    reference, current = hostile_frames
    report = mk.DriftReport(reference, current, by="1W")
    # The checks below look for the hostile strings where a drifted / skipped column shows.
    assert HOSTILE_COLUMN in report.drifted_columns and "channel" in report.drifted_columns
    assert HOSTILE_VALUE in report.skipped_columns["note"]
    return report.save_html(tmp_path_factory.mktemp("standalone") / "drift.html")


@pytest.fixture(scope="module")
def hostile_run_report(tmp_path_factory, hostile_frames) -> Path:
    """``report.html`` of ``monitorkit run monitoring`` (papermill, then nbconvert) on them."""
    folder = tmp_path_factory.mktemp("hostile_run")
    reference, current = hostile_frames
    reference.to_parquet(folder / "reference.parquet")
    current.to_parquet(folder / "current.parquet")
    result = _monitorkit(
        "run",
        "monitoring",
        *("-p", "reference", str(folder / "reference.parquet")),
        *("-p", "current", str(folder / "current.parquet")),
        *("-p", "drift_by", "1W"),
        *("--model", "hostile", "--out", str(folder / "reports"), "--no-progress"),
        cwd=folder,
    )
    assert result.returncode in (3, 4), result.stderr  # drifted: a warning or critical run
    return _report_path(result)


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    result = _monitorkit(
        "demo", "--rows", "2000", "--no-progress", "--out", str(folder / "reports"), cwd=folder
    )
    assert result.returncode == 0, result.stderr
    return _report_path(result)


@pytest.mark.parametrize("report_page", ["standalone_page", "hostile_run_report"])
def test_hostile_names_and_values_show_as_text_and_nothing_runs(
    report_page, request, watched_page, tmp_path
):
    path = request.getfixturevalue(report_page)
    watched = _open(watched_page, path)
    page = watched.page

    _assert_severity_first(page)
    column = page.get_by_text(HOSTILE_COLUMN, exact=True)
    assert column.count() >= 3  # verdict, column table, window table (at least)
    assert column.first.is_visible()
    # The skipped column's reason, which quotes the hostile value, sits in a closed <details>.
    page.locator("summary", has_text="not tested").first.click()
    reason = page.get_by_text(f"every value is '{HOSTILE_VALUE}'")
    assert reason.first.is_visible()

    _assert_offline_and_inert(watched, path)
    _screenshot(page, tmp_path / f"{report_page}.png")


def test_report_of_a_demo_run_is_offline_and_shows_its_verdict(demo_report, watched_page, tmp_path):
    watched = _open(watched_page, demo_report)
    page = watched.page

    _assert_severity_first(page)
    # The scenario's seasonal shift: a drifted column, named in the verdict and the table.
    assert page.get_by_text("temperature_c", exact=True).first.is_visible()
    assert page.locator("img[src^='data:image/png']").count() >= 2  # the plots are inline

    _assert_offline_and_inert(watched, demo_report)
    _screenshot(page, tmp_path / "demo_report.png")


# --------------------------------------------------------------------------------------------


def _monitorkit(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "monitorkit.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def _report_path(result: subprocess.CompletedProcess) -> Path:
    last_line = result.stdout.strip().splitlines()[-1]
    assert last_line.startswith("report: "), result.stdout
    path = Path(last_line.removeprefix("report: "))
    assert path.is_file(), path
    return path


def _open(watched_page, path: Path):
    url = path.as_uri()
    watched = watched_page(allowed=[url])
    watched.page.goto(url, wait_until="load")
    return watched


def _assert_offline_and_inert(watched, path: Path) -> None:
    page = watched.page
    assert watched.problems() == {}
    assert watched.requests == [path.as_uri()]
    assert page.evaluate("window.__pwned") is None
    # Parsed as text, not markup: the page's CSP would stop a script from running, but an
    # unescaped string would still leave these elements behind.
    assert page.locator("img[src='x']").count() == 0
    assert page.evaluate("[...document.scripts].some(s => s.text.includes('__pwned'))") is False


def _assert_severity_first(page) -> None:
    """The severity word is visible in the first screenful, before any evidence."""
    label = page.get_by_text(SEVERITY_LABEL).first
    assert label.is_visible()
    box = label.bounding_box()
    assert box is not None and box["y"] < page.viewport_size["height"], box


def _screenshot(page, path: Path) -> None:
    page.screenshot(path=path, full_page=True)
    assert path.stat().st_size > MIN_SCREENSHOT_BYTES
