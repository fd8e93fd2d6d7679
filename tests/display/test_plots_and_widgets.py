"""Plots take results and return Figures; widgets re-judge without recomputing."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

import monitorkit as mk
from monitorkit.display.widgets import DriftExplorer
from monitorkit.errors import InputError

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def report():
    scenario = mk.datasets.load_scenario("seasonal_retail", n_rows=5_000)
    return mk.DriftReport(scenario.reference, scenario.current, by="1W")


def test_numeric_plot_overlays_both_histograms(report):
    figure = report.plot("temperature_c")
    (ax,) = figure.axes
    assert ax.get_xlabel() == "temperature_c" and ax.get_ylabel() == "share of rows"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["reference", "current"]
    assert "critical" in ax.get_title(loc="left")


def test_categorical_plot_marks_new_categories():
    reference = pd.DataFrame({"c": ["a", "b"] * 200})
    current = pd.DataFrame({"c": ["a", "b", "brand_new"] * 150})
    figure = mk.DriftReport(reference, current).plot("c")
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert "brand_new  (new)" in labels and "a" in labels


def test_plots_accept_an_axes_and_draw_into_it(report):
    from matplotlib.figure import Figure

    figure = Figure()
    ax = figure.add_subplot()
    assert report.plot("category", ax=ax) is figure
    assert len(ax.patches) > 0


def test_plot_over_time_draws_one_line_per_drifted_column(report):
    figure = report.plot_over_time()
    ax = figure.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:6] == report.drifted_columns[:6] and labels[-1] == "min effect"


def test_plot_errors_are_clear(report):
    with pytest.raises(InputError, match="no column 'nope'"):
        report.plot("nope")
    with pytest.raises(InputError, match="skipped"):
        report.plot("request_id")
    quiet = mk.DriftReport(
        pd.DataFrame({"x": np.arange(300.0)}), pd.DataFrame({"x": np.arange(300.0)})
    )
    with pytest.raises(InputError, match="by='1D'"):
        quiet.plot_over_time()


def test_choosing_another_column_shows_its_plot(report):
    explorer = DriftExplorer(report)
    first = explorer.plot.value
    assert first[:4] == b"\x89PNG"
    assert explorer.column.value == explorer.column.options[0]
    explorer.column.value = "category"
    assert explorer.plot.value != first and explorer.plot.value[:4] == b"\x89PNG"
    assert "category" in explorer.column_facts.value


def test_moving_the_threshold_changes_flags_not_statistics(report):
    explorer = DriftExplorer(report)
    before = explorer.report.to_frame()
    headline = f"{before['drifted'].sum()} of {before['method'].notna().sum()} columns drifted"
    assert headline in explorer.overview.value
    explorer.min_effect.value = 0.15
    after = explorer.report.to_frame()
    assert after["drifted"].sum() < before["drifted"].sum()
    merged = before.merge(after, on="column", suffixes=("_before", "_after"))
    for stat in ("statistic", "p_value", "effect_size"):
        pd.testing.assert_series_equal(
            merged[f"{stat}_before"], merged[f"{stat}_after"], check_names=False
        )
    assert headline not in explorer.overview.value
    assert report.drifted_columns == explorer.original.drifted_columns  # original untouched


def test_window_slider_shows_that_windows_flags(report):
    explorer = DriftExplorer(report)
    assert explorer.tabs.titles == ("Overview", "Columns", "Over time")
    explorer.window.value = explorer.window.options[0]
    early = explorer.window_table.value
    explorer.window.value = explorer.window.options[-2]
    late = explorer.window_table.value
    assert early.count("WARNING") < late.count("WARNING")


def test_report_without_windows_has_no_time_tab():
    frame = pd.DataFrame({"x": np.arange(300.0), "y": np.arange(300.0) % 7})
    explorer = DriftExplorer(mk.DriftReport(frame, frame))
    assert explorer.tabs.titles == ("Overview", "Columns") and explorer.window is None


def test_long_category_labels_are_shortened_on_the_axis():
    long_label = "a category label far longer than any axis should show"
    reference = pd.DataFrame({"c": ["a", long_label] * 200})
    current = pd.DataFrame({"c": ["a", long_label, long_label] * 150})
    figure = mk.DriftReport(reference, current).plot("c")
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert long_label not in labels
    assert any(label.startswith("a category label") and label.endswith("…") for label in labels)
