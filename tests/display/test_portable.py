"""The portable view of notebook outputs: what a sanitizer keeps still says everything.

A sanitized notebook output loses ``<style>`` and ``<svg>`` (JupyterLab without trust), and in
``nbconvert --sanitize-html`` also ``<img>``, ``<p>``, ``<th>`` and ``<br>``. These tests read
the HTML as such a reader would get it. Its look is inline (``style`` attributes), never a
``<style>`` block, which ``nbconvert --sanitize-html`` would show as text.
"""

from __future__ import annotations

import base64
import re

import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup

import monitorkit as mk
from monitorkit.display import markdown_view, notebook_outputs, report_html, show
from monitorkit.display.html import SANITIZER_KEPT_TAGS, fragment
from monitorkit.display.theme import CSS, SEVERITY_COLORS, SEVERITY_LABELS

HOSTILE_COLUMN = "<img src=x onerror=alert(1)>|*_"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BARS = re.compile("[▁▂▃▄▅▆▇█\u00a0]+")
# CSS as text: a selector of the stylesheet, a declaration, a rule's opening brace.
CSS_TEXT = re.compile(r"\.mk-|font-family:|font-size:|style=|\{\s*[a-z-]+\s*:")


@pytest.fixture(scope="module")
def seasonal():
    scenario = mk.datasets.load_scenario("seasonal_retail", n_rows=3_000)
    return mk.DriftReport(scenario.reference, scenario.current, by="1W")


@pytest.fixture(scope="module")
def hostile():
    rng = np.random.default_rng(3)
    n = 1_500
    reference = pd.DataFrame({HOSTILE_COLUMN: rng.normal(size=n), "c": rng.choice(["a", "b"], n)})
    current = pd.DataFrame({HOSTILE_COLUMN: rng.normal(2, 1, n), "c": rng.choice(["a", "b"], n)})
    return mk.DriftReport(reference, current)


def _without_stylesheet(html: str) -> BeautifulSoup:
    """The fragment as an untrusted notebook shows it: no <style>."""
    soup = BeautifulSoup(html, "html.parser")
    for style in soup.find_all("style"):
        style.decompose()
    return soup


def test_ranked_table_draws_distributions_as_text_bars_in_notebooks(seasonal):
    soup = _without_stylesheet(report_html(seasonal))
    assert soup.find("svg") is None  # plots stay <img> (one bundle) or outputs of their own
    table = soup.find("h3", string="Columns, most moved first").find_next("table")
    assert table.find("img") is None
    header = [th.get_text() for th in table.find("tr").find_all("th")]
    distribution = header.index("distribution")
    rows = table.find_all("tr")[1:]
    tested = [c for c in seasonal.columns if not c.skipped]
    assert tested and len(rows) == len(tested)
    for row, column in zip(rows, tested):
        bars = row.find_all("td")[distribution].find_all("div", recursive=True)[1:]
        reference, current = (div.get_text() for div in bars)
        assert BARS.fullmatch(reference) and BARS.fullmatch(current), row
        # One character per bin (categorical: at most 10), reference above current.
        bins = len(column.distribution.reference)
        expected = bins if column.kind == "numeric" else min(bins, 10)
        assert len(reference) == len(current) == expected


def test_the_standalone_page_keeps_its_inline_svg(seasonal):
    page = seasonal.to_html()
    tested = len([c for c in seasonal.columns if not c.skipped])
    assert page.count("<svg") == tested
    assert "▁" not in page and "█" not in page


def test_text_bars_follow_the_shares():
    from monitorkit.display.svg import distribution_text_bars

    html = distribution_text_bars([0.0, 0.5, 1.0], [1.0, 0.25, 0.0], categorical=False)
    soup = BeautifulSoup(html, "html.parser")
    reference, current = (div.get_text() for div in soup.find_all("div")[1:])
    assert reference == "\u00a0▅█" and current == "█▃\u00a0"


def test_figures_and_labels_are_separated_by_text_not_by_css(seasonal):
    soup = _without_stylesheet(report_html(seasonal))
    facts = soup.find("p", class_="mk-facts").get_text()
    assert re.fullmatch(
        r"reference [\d,]+ rows · current [\d,]+ rows · \d+ columns tested · \d+% of features "
        r"drifted · \d+ windows \(1W\)",
        facts,
    ), facts
    legend = soup.find("div", class_="mk-legend").get_text()
    assert legend == "■ reference (upper bars) · ■ current (lower bars)"
    banner = soup.find("div", class_="mk-banner").get_text()
    assert banner.startswith(f"{seasonal.severity.upper()} Drift: ")
    # A badge keeps its word and, inline, its shape.
    pill = soup.find("span", class_="mk-pill")
    severity = {label: name for name, label in SEVERITY_LABELS.items()}[pill.get_text()]
    declarations = _declarations(pill["style"])
    assert "border-radius" in declarations
    assert declarations["border"] == f"1px solid {SEVERITY_COLORS[severity]}"
    # A flagged window is marked in text too, not only highlighted.
    heat = soup.find("table", class_="mk-heat")
    flagged = [td for td in heat.find_all("td") if "background" in td.get("style", "")]
    assert flagged and all(td.get_text().endswith("●") for td in flagged)


def test_notebook_outputs_put_each_plot_in_an_image_output_of_its_own(seasonal):
    outputs = notebook_outputs(seasonal, section=True)
    kinds = ["image" if "image/png" in data else "html" for data, _ in outputs]
    drifted_plots = len([c for c in seasonal.columns if c.drifted and c.distribution])
    assert kinds.count("image") == 1 + drifted_plots  # over time, then each drifted column
    assert kinds[0] == "html" and kinds[-1] == "html"
    for data, _ in outputs:
        if "image/png" in data:
            assert base64.b64decode(data["image/png"]).startswith(PNG_SIGNATURE)
            assert data["text/plain"].startswith("<")
            continue
        html = data["text/html"]
        assert "<img" not in html and "<svg" not in html and "<!--mk-image" not in html
        assert html.startswith('<div class="mk-report"')
        assert data["text/plain"].strip()
    # No stylesheet in any part: each carries its look inline. The markdown alternative is in
    # the first part.
    assert not [data for data, _ in outputs if "<style" in data.get("text/html", "")]
    assert "text/markdown" in outputs[0][0]
    assert sum("text/markdown" in data for data, _ in outputs) == 1
    # The over-time plot sits under its heading, before the window table.
    first_image = kinds.index("image")
    assert "Since when?" in outputs[first_image - 1][0]["text/html"]
    assert "mk-heat" in outputs[first_image + 1][0]["text/html"]


def test_performance_plots_leave_the_details_to_be_outputs(tmp_path):
    scenario = mk.datasets.load_scenario("fraud_imbalance", n_rows=4_000)
    report = mk.PerformanceReport(
        scenario.current, spec=scenario.spec, baseline=scenario.reference, by="1W"
    )
    outputs = notebook_outputs(report, section=True)
    images = [meta for data, meta in outputs if "image/png" in data]
    assert len(images) >= 1
    for data, _ in outputs:
        if "text/html" in data:  # every cut fell between whole elements
            soup = BeautifulSoup(data["text/html"], "html.parser")
            assert not [d for d in soup.find_all("details") if not d.find("summary")]


def test_markdown_alternative_has_severity_verdict_and_the_ranked_table(seasonal, hostile):
    text = markdown_view(seasonal)
    first, _, table = text.partition("\n\n")
    assert first.startswith(f"**{seasonal.severity.upper()}** · **Drift**: ")
    frame = seasonal.to_frame()
    lines = table.strip().splitlines()
    header = [name.replace("\\_", "_") for name in lines[0].strip("| ").split(" | ")]
    assert header[0] == frame.columns[0] and "severity" in header and len(header) <= 9
    assert set(header) <= set(frame.columns)
    assert len(lines) == 2 + min(len(frame), 30)
    ranked = [line.split(" | ")[0].removeprefix("| ").replace("\\_", "_") for line in lines[2:]]
    assert ranked == list(frame.iloc[:30, 0])
    # Data strings can neither break the table nor become HTML.
    hostile_text = markdown_view(hostile)
    assert "<img" not in hostile_text
    assert "&lt;img src=x onerror=alert(1)&gt;\\|\\*\\_" in hostile_text
    rows = [line for line in hostile_text.splitlines() if line.startswith("| ")]
    assert len({len(re.findall(r"(?<!\\)\|", row)) for row in rows}) == 1


def test_show_displays_the_outputs_in_a_kernel_and_one_bundle_elsewhere(seasonal, monkeypatch):
    import IPython.display

    import monitorkit.display as display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: shown.append((a, k)))
    monkeypatch.setenv("MONITORKIT_DISPLAY", "static")
    monkeypatch.setattr(display, "_in_jupyter_kernel", lambda: True)
    show(seasonal)
    assert len(shown) == len(notebook_outputs(seasonal))
    assert all(kwargs == {"metadata": kwargs["metadata"], "raw": True} for _, kwargs in shown)

    shown.clear()
    monkeypatch.setattr(display, "_in_jupyter_kernel", lambda: False)
    seasonal.section()._ipython_display_()
    (((bundle,), kwargs),) = shown
    assert set(bundle) == {"text/plain", "text/html"} and kwargs == {"raw": True}


def _declarations(style: str) -> dict[str, str]:
    pairs = (declaration.partition(":") for declaration in style.split(";") if declaration.strip())
    return {name.strip(): value.strip() for name, _, value in pairs}


def test_notebook_outputs_carry_the_stylesheet_inline_not_as_a_style_block(seasonal):
    bundle = report_html(seasonal)
    outputs = notebook_outputs(seasonal)
    parts = [bundle] + [data["text/html"] for data, _ in outputs if "text/html" in data]
    assert len(parts) > 2
    for part in parts:
        assert "<style" not in part and ".mk-report" not in part
        soup = BeautifulSoup(part, "html.parser")
        root = soup.find("div", class_="mk-report")
        assert _declarations(root["style"])["font-family"].startswith("-apple-system")
        # Nothing that nbconvert --sanitize-html shows as text (tag and attributes) has a style.
        styled = {tag.name for tag in soup.find_all(style=True)}
        assert len(styled) > 1 and styled <= SANITIZER_KEPT_TAGS, styled
    soup = BeautifulSoup(bundle, "html.parser")
    banner = _declarations(soup.find("div", class_="mk-banner")["style"])
    assert banner["display"] == "flex"
    assert banner["border-left"] == f"6px solid {SEVERITY_COLORS[seasonal.severity]}"
    facts = soup.find("p", class_="mk-facts").find("span", recursive=False)
    assert _declarations(facts["style"])["color"] == "#57606a"
    heading = soup.find("h3", string="Columns, most moved first").span
    assert _declarations(heading["style"])["font-size"] == "15px"
    table = heading.find_parent("h3").find_next("table")
    assert _declarations(table["style"])["border-collapse"] == "collapse"
    header = _declarations(table.find("th").span["style"])
    assert header["text-align"] == "left" and header["font-weight"] == "600"
    first_row = table.find_all("tr")[1]
    first, *rest = first_row.find_all("td", recursive=False)
    assert _declarations(first["style"])["white-space"] == "nowrap"  # td:first-child
    assert "white-space" not in _declarations(rest[0]["style"])
    number = _declarations(first_row.find("td", class_="mk-num")["style"])
    assert number["text-align"] == "right" and number["padding"] == "3px 8px"


def test_an_elements_own_style_keeps_priority_over_the_stylesheet():
    soup = BeautifulSoup(
        fragment(
            '<span class="mk-pill" style="font-size:20px;border-color:#123456">x</span>'
            '<div class="mk-banner" style="border-left:6px solid #654321">v</div>'
        ),
        "html.parser",
    )
    pill = soup.find("span", class_="mk-pill")["style"]
    declarations = _declarations(pill)
    assert declarations["font-size"] == "20px" and declarations["display"] == "inline-block"
    # The stylesheet's shorthand comes first, the element's own longhand after it, so it wins.
    names = list(declarations)
    assert names.index("border") < names.index("border-color")
    assert _declarations(soup.find("div", class_="mk-banner")["style"])["border-left"] == (
        "6px solid #654321"
    )


def test_a_tag_that_nbconvert_escapes_passes_its_look_to_a_span_inside():
    html = fragment(
        '<p class="mk-facts">a <code>b</code></p><h3>Heading</h3>'
        '<table class="mk-table"><tr><th class="mk-num">n</th></tr><tr><td>1</td></tr></table>'
        "<details><summary>more <b>here</b></summary>x</details>"
    )
    assert "<tbody" not in html  # only the markup's own tags: none more to show as text
    soup = BeautifulSoup(html, "html.parser")
    for name in ("p", "h3", "th", "summary", "details"):
        assert not soup.find(name).has_attr("style"), name
    facts = soup.find("p")
    (span,) = facts.contents
    assert _declarations(span["style"]) == {
        "display": "block",
        "color": "#57606a",
        "margin": "0 0 8px",
    }
    assert span.code.get_text() == "b"
    assert _declarations(soup.find("h3").span["style"])["margin"] == "18px 0 6px"
    header = _declarations(soup.find("th").span["style"])
    # What its text inherits and its padding move (a block span draws it inside the cell as
    # the cell would); its border stays with the notebook's CSS.
    assert header["display"] == "block" and header["text-align"] == "right"
    assert "padding" in header and "border-bottom" not in header
    summary = _declarations(soup.find("summary").span["style"])
    assert summary == {"cursor": "pointer", "color": "#0969da"}  # inline, beside the marker
    assert soup.find("summary").span.b.get_text() == "here"


def _sanitized_export(outputs: list) -> str:
    """The visible text of a notebook holding ``outputs``, exported as ``nbconvert --to html
    --sanitize-html`` does (no kernel: the outputs are already there)."""
    import nbformat
    from nbconvert import HTMLExporter

    cell = nbformat.v4.new_code_cell("report")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data=data, metadata=metadata)
        for data, metadata in outputs
    ]
    body, _ = HTMLExporter(sanitize_html=True).from_notebook_node(
        nbformat.v4.new_notebook(cells=[cell])
    )
    page = BeautifulSoup(body, "html.parser").body
    for script in page.find_all("script"):
        script.decompose()
    return page.get_text()


def test_a_sanitized_nbconvert_export_shows_no_css_text(seasonal):
    outputs = notebook_outputs(seasonal)
    outputs.append(({"text/html": report_html(seasonal), "text/plain": str(seasonal)}, {}))
    text = _sanitized_export(outputs)
    assert not CSS_TEXT.search(text), CSS_TEXT.search(text)
    assert text.count("Columns, most moved first") == 2  # the report is there, twice
    assert text.count(seasonal.drifted_columns[0]) >= 2
    # A <style> block, as these outputs held before, shows as text there.
    (first, metadata), *_ = outputs
    with_block = {**first, "text/html": f"<style>{CSS}</style>{first['text/html']}"}
    assert CSS_TEXT.search(_sanitized_export([(with_block, metadata)]))


def test_the_standalone_page_keeps_its_style_block(seasonal):
    page = seasonal.to_html()
    assert page.count(f"<style>{CSS}</style>") == 1
    # The page's elements keep only their own inline styles: the rules stay in the block.
    banner = BeautifulSoup(page, "html.parser").find("div", class_="mk-banner")
    assert "display" not in _declarations(banner["style"])
