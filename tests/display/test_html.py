"""The static HTML view: status first, escaped, offline, small."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import monitorkit as mk
from monitorkit.display import formatting as fmt

HOSTILE_COLUMN = "<img src=x onerror=alert(1)>"
HOSTILE_CATEGORY = "</style><script>window.__pwned=1</script>"
EXTERNAL = re.compile(r"https?://|<link|@import|url\(|<script|src=\"(?!data:)", re.IGNORECASE)


@pytest.fixture(scope="module")
def seasonal():
    scenario = mk.datasets.load_scenario("seasonal_retail", n_rows=5_000)
    return mk.DriftReport(scenario.reference, scenario.current, by="1W")


@pytest.fixture(scope="module")
def hostile():
    rng = np.random.default_rng(0)
    n = 2_000
    reference = pd.DataFrame({HOSTILE_COLUMN: rng.normal(size=n), "c": rng.choice(["a", "b"], n)})
    current = pd.DataFrame(
        {
            HOSTILE_COLUMN: rng.normal(2, 1, n),
            "c": rng.choice(["a", "b", HOSTILE_CATEGORY], n),
        }
    )
    return mk.DriftReport(reference, current)


def test_page_leads_with_the_status_then_the_ranked_table(seasonal):
    page = seasonal.to_html()
    banner = page.index('<div class="mk-banner"')
    assert banner < page.index("Columns, most moved first") < page.index("Since when?")
    assert seasonal.severity.upper() in page[banner : banner + 400]
    assert page.count('<div class="mk-banner"') == 1  # one verdict banner per page
    drifted, tested = (
        len(seasonal.drifted_columns),
        len(seasonal.to_frame().dropna(subset="method")),
    )
    leader = seasonal.drifted_columns[0]
    assert f"{drifted} of {tested} columns drifted, led by <code>{leader}</code>" in page
    rows = re.findall(r"<tr class=\"(mk-drifted)?\">", page)
    # One row per tested column, the drifted ones first.
    assert len(rows) == tested and rows[:drifted] == ["mk-drifted"] * drifted
    assert "mk-drifted" not in rows[drifted:]
    assert page.count("<svg") >= tested  # one sparkline per tested column
    assert page.count("data:image/png;base64,") == 1 + drifted  # over time + drifted columns
    assert f"{len(seasonal.skipped_columns)} column(s) not tested" in page


def test_every_data_string_is_escaped(hostile):
    for text in (hostile.to_html(), hostile.to_html(standalone=False)):
        assert HOSTILE_COLUMN not in text
        assert HOSTILE_CATEGORY not in text
        assert "<script" not in text
        assert "&lt;img src=x onerror=alert(1)&gt;" in text


def test_page_loads_nothing_from_outside(seasonal, hostile):
    for report in (seasonal, hostile):
        page = report.to_html()
        assert not EXTERNAL.search(page), EXTERNAL.search(page)
        assert "Content-Security-Policy" in page


def test_save_html_writes_once_and_never_replaces(seasonal, tmp_path):
    path = seasonal.save_html(tmp_path / "drift.html")
    assert path.read_text().startswith("<!DOCTYPE html>")
    with pytest.raises(FileExistsError):
        seasonal.save_html(path)


def test_display_is_rebuilt_from_json_alone(seasonal):
    loaded = mk.load_report(seasonal.to_json())
    assert loaded.to_html() == seasonal.to_html()


def _wide_report(columns: int) -> mk.DriftReport:
    rng = np.random.default_rng(1)
    n = 3_000
    data = {f"feature_{i:03d}": rng.normal(size=n) for i in range(columns)}
    reference = pd.DataFrame(data)
    current = pd.DataFrame(
        {
            name: values + (0.5 if i % 4 == 0 else 0.0)
            for i, (name, values) in enumerate(data.items())
        }
    )
    return mk.DriftReport(reference, current)


def test_25_columns_fit_in_1_5_mb_and_200_columns_stay_small_and_collapsed():
    small = _wide_report(25).to_html()
    assert len(small.encode()) < 1.5 * 1024 * 1024
    wide = _wide_report(200)
    page = wide.to_html()
    assert len(page.encode()) < 1.5 * 1024 * 1024
    assert "Show 170 more columns" in page  # 30 visible, the rest behind <details>
    assert page.count("data:image/png;base64,") == 12  # plots only for the top drifted


def test_mimebundle_has_text_and_static_html_outside_a_kernel(seasonal, monkeypatch):
    monkeypatch.delenv("MONITORKIT_DISPLAY", raising=False)
    bundle = seasonal._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}
    assert bundle["text/plain"].startswith("Drift CRITICAL")
    assert 'class="mk-report"' in bundle["text/html"]
    assert set(seasonal._repr_mimebundle_(include=["text/plain"])) == {"text/plain"}


def test_mimebundle_adds_the_widget_view_in_widget_mode(seasonal, monkeypatch):
    monkeypatch.setenv("MONITORKIT_DISPLAY", "widget")
    bundle = seasonal._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "text/html" in bundle  # the fallback stays for exports


def test_data_overview_html_escapes_and_aligns(hostile):
    frame = pd.DataFrame({HOSTILE_COLUMN: [1.0, 2.0], "v": ["a", HOSTILE_CATEGORY]})
    page = mk.DataOverview.from_frames(frame, frame).to_html(standalone=False)
    assert HOSTILE_COLUMN not in page and "&lt;img" in page
    assert 'class="mk-table"' in page


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1234567, "1,234,567"),
        (0.000012, "1.20e-05"),
        (0.12345, "0.123"),
        (123.456, "123"),
        (12345.6, "12,346"),
        (None, "–"),
        (float("nan"), "–"),
        (0.0, "0"),
    ],
)
def test_numbers_are_formatted_for_people(value, text):
    assert fmt.number(value) == text


def test_percent_points_and_p_values():
    assert fmt.percent(0.1234) == "12.3%"
    assert fmt.signed_points(0.031) == "+3.1 pp"
    assert fmt.signed_points(-0.0001) == "0 pp"
    assert fmt.p_value(0.0) == "< 1e-300"
    assert fmt.p_value(0.0123) == "0.012"
