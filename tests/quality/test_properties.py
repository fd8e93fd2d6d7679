"""Properties of the quality report on generated frames: whatever the data (mixed types, NaN,
±inf, empty and huge strings, unicode, all-missing columns, one row), the report is computed,
survives its JSON round trip, and its HTML escapes every value."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import monitorkit as mk
from monitorkit.severity import Severity

# Every "<" and "&" in the generated data is followed by "§", which the report's own markup
# never puts there: a raw "<§" or "&§" in the HTML is data that was not escaped.
MARK = "§"


def _marked(text: str) -> str:
    return text.replace("<", "<" + MARK).replace("&", "&" + MARK)


texts = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
    st.sampled_from(["", " ", "<b>x</b>", "a&b", "$12.50", "12,50", "1.2e3 ", "PARIS", "Paris "]),
    st.builds(lambda n: "<" * 3 + "x" * n, st.integers(2_000, 20_000)),  # a huge string
).map(_marked)

values = st.one_of(
    st.none(),
    st.just(math.nan),
    st.sampled_from([math.inf, -math.inf, 0.0, -0.0, 1e308, -1e-308]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**62), 2**62),
    st.booleans(),
    texts,
)

COLUMN_NAMES = ["amount", "city", _marked("<i>note</i>"), "é q", "id"]


@st.composite
def columns(draw, rows: int) -> list:
    """One column: of one type, mixed, or all missing."""
    style = draw(st.sampled_from(["numbers", "texts", "mixed", "missing", "constant"]))
    if style == "numbers":
        element = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.none())
    elif style == "texts":
        element = st.one_of(texts, st.none())
    elif style == "missing":
        element = st.sampled_from([None, math.nan])
    elif style == "constant":
        element = st.just(draw(values))
    else:
        element = values
    return draw(st.lists(element, min_size=rows, max_size=rows))


@st.composite
def frames(draw) -> pd.DataFrame:
    rows = draw(st.sampled_from([1, 2, 3, 7, 30, 60]))
    names = draw(st.lists(st.sampled_from(COLUMN_NAMES), min_size=1, max_size=4, unique=True))
    return pd.DataFrame({name: draw(columns(rows)) for name in names})


def _check(report) -> None:
    assert report.severity in (Severity.OK, Severity.WARNING, Severity.CRITICAL)
    assert report.severity == Severity.worst(
        [f.severity for f in report.findings] + ([Severity.CRITICAL] if report.not_judged else [])
    )
    assert isinstance(report.verdict, str) and report.verdict
    assert all(isinstance(v, (int, float)) and math.isfinite(v) for v in report.figures.values())
    for column in report.result.columns:
        assert 0.0 <= report.figures[f"missing_rate.{column}"] <= 1.0

    back = mk.load_report(report.to_json())
    assert back == report
    pd.testing.assert_frame_equal(back.to_frame(), report.to_frame())
    pd.testing.assert_frame_equal(back.over_time(), report.over_time())
    assert back.severity == report.severity and back.figures == report.figures

    html = report.to_html()
    assert "<" + MARK not in html and "&" + MARK not in html
    assert back.to_html() == html
    for finding in report.findings:  # a huge value is cut, in examples and in messages
        assert all(len(example) <= 60 for example in finding.examples)
        assert len(finding.message) < 400


SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SETTINGS
@given(frames(), frames())
def test_any_frames_give_a_report_that_round_trips_and_escapes(reference, current):
    _check(mk.QualityReport(reference, current))


@SETTINGS
@given(frames(), frames())
def test_any_frames_against_a_baseline(reference, current):
    _check(mk.QualityReport(mk.Baseline.from_frame(reference), current))


@SETTINGS
@given(frames(), st.integers(0, 10_000), st.sampled_from(["1D", "6h", 3]))
def test_any_frames_over_windows(data, seed, by):
    rng = np.random.default_rng(seed)
    reference, current = data.copy(), data.sample(frac=1.0, random_state=seed)
    start = pd.Timestamp("2026-03-01", tz="UTC")
    reference["timestamp"] = start + pd.to_timedelta(np.sort(rng.random(len(data))) * 10, "D")
    current["timestamp"] = start + pd.to_timedelta(10 + rng.random(len(data)) * 5, "D")
    by = min(by, len(data)) if isinstance(by, int) else by  # at most a chunk per row
    report = mk.QualityReport(reference, current, by=by, spec=mk.ColumnSpec(timestamp="timestamp"))
    _check(report)
    assert all(w.window for w in report.result.windows)


@SETTINGS
@given(frames())
def test_a_frame_against_itself_has_no_problem_of_its_values(frame):
    report = mk.QualityReport(frame, frame)
    # The same rows hold no value outside the range, no new category or format, and no rise
    # in missing values (duplicates and constants are the reference's own, too). Broken
    # values (±inf, text in a number column) are broken whatever the reference held.
    broken_anyway = {"validity.infinite", "schema.unparseable"}
    assert [f for f in report.problems if f.check not in broken_anyway] == [], report.to_frame()
