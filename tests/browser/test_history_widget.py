"""The live History view in a real JupyterLab: a model's runs (pick the figure to trend) and the
store's root (pick the model to open), driven from headless Chromium as a person would."""

from __future__ import annotations

import re

import pytest
from capture.test_history import RUNS, reports  # noqa: F401  (the generated store: 60 runs)

from .test_jupyterlab import (  # noqa: F401
    LAB_VIEWPORT,
    MIN_SCREENSHOT_BYTES,
    _wait_visible,
    _write_notebook,
    jupyterlab,
)

pytestmark = [pytest.mark.browser, pytest.mark.kernel]

TABLE_RUNS = 30  # the runs table lists the newest 30


def test_history_widgets_pick_a_figure_and_a_model_in_jupyterlab(
    jupyterlab,  # noqa: F811
    watched_page,
    reports,  # noqa: F811
    tmp_path,
):
    code = (
        "import monitorkit as mk\n\n"
        f"display(mk.History({str(reports / 'fraud')!r}))\n"
        f"mk.History({str(reports)!r})"
    )
    _write_notebook(jupyterlab.root / "history.ipynb", code)
    # One cell, two outputs: a model's runs, then the store's root.
    watched = watched_page(
        allowed=[f"{jupyterlab.origin}/", f"blob:{jupyterlab.origin}/"], viewport=LAB_VIEWPORT
    )
    page = watched.page
    page.goto(f"{jupyterlab.origin}/lab/tree/history.ipynb")
    kernel_status = page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\|\s*Idle$"))
    _wait_visible(kernel_status, "an idle kernel in the status bar", page, jupyterlab)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

    # A model's runs: a Figure picker, its trend (the live view draws SVG), the runs table.
    outputs = page.locator(".jp-OutputArea-output")
    model_view, store_view = outputs.nth(0), outputs.nth(1)
    figure_picker = model_view.locator(".widget-dropdown", has_text="Figure").locator("select")
    _wait_visible(figure_picker, "the History widget's figure picker", page, jupyterlab)
    options = figure_picker.locator("option").all_inner_texts()
    assert options == ["drift.share_drifted", "quality.problems", "performance.recall"]
    trend = model_view.locator(".widget-html .mk-trend")
    _wait_visible(trend, "the trend of the first figure", page, jupyterlab)
    assert trend.get_attribute("data-figure") == "drift.share_drifted"
    assert trend.locator("circle.mk-point").count() == RUNS - 1
    assert trend.locator("svg").first.bounding_box()["width"] > 300
    runs = model_view.locator(".widget-html tr.mk-run")
    assert runs.count() == TABLE_RUNS
    assert runs.first.locator("td").nth(1).inner_text() == "CRITICAL"  # the newest run

    figure_picker.select_option(label="performance.recall")
    page.wait_for_function(_TREND_SHOWN, arg="performance.recall")
    assert trend.locator("polyline.mk-baseline").count() == 1

    # The store's root: one row per model, and a Model picker opening one of them.
    models = store_view.locator(".widget-html tr.mk-model")
    _wait_visible(models, "the store's rows of models", page, jupyterlab)
    assert [m.get_attribute("data-model") for m in models.all()] == ["churn", "fraud", "pricing"]
    model_picker = store_view.locator(".widget-dropdown", has_text="Model").locator("select")
    assert model_picker.locator("option").all_inner_texts() == ["churn", "fraud", "pricing"]
    model_picker.select_option(label="fraud")
    page.wait_for_function(_MODEL_OPENED, arg=3)

    screenshot = tmp_path / "jupyterlab-history.png"
    page.screenshot(path=screenshot, full_page=True)
    assert screenshot.stat().st_size > MIN_SCREENSHOT_BYTES
    assert watched.problems() == {}


# The first output's trend is the figure ``name``, drawn.
_TREND_SHOWN = """name => {
  const output = document.querySelectorAll('.jp-OutputArea-output')[0];
  const trend = output.querySelector('.widget-html .mk-trend');
  return trend !== null && trend.dataset.figure === name && trend.querySelector('svg') !== null;
}"""

# The model opened in the second output (the store's root) shows ``count`` trends.
_MODEL_OPENED = """count => {
  const output = document.querySelectorAll('.jp-OutputArea-output')[1];
  return output !== undefined && output.querySelectorAll('.mk-trend').length === count;
}"""
