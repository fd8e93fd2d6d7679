"""The quality report on the demo scenarios (every injected corruption found, nothing else), and
the report contract (severity, not_judged, figures, verdict, JSON and HTML)."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pandas as pd
import pytest

import monitorkit as mk
from monitorkit.severity import Severity

CHANGE_DAY = "2026-09-15"  # every scenario changes from this window on (datasets docstring)


@cache
def _scenario(name: str, n_rows: int, seed: int):
    return mk.datasets.load_scenario(name, n_rows=n_rows, seed=seed)


@cache
def _report(name: str, n_rows: int, seed: int, reference: str, by: str | None = "1D"):
    ref, cur, _ = _scenario(name, n_rows, seed)
    side = ref if reference == "frame" else mk.Baseline.from_frame(ref)
    return mk.QualityReport(side, cur, by=by)


def _problems(report) -> set[tuple[str | None, str]]:
    return {(f.column, f.check) for f in report.problems}


def _window_problems(report) -> list[tuple[str, str | None, str]]:
    return [(w.window, f.column, f.check) for w in report.result.windows for f in w.findings]


def _one(report, column: str, check: str):
    found = [f for f in report.findings if f.column == column and f.check == check]
    assert len(found) == 1, (column, check, report.to_frame()[["column", "check", "severity"]])
    return found[0]


# ---- corrupted_inputs: every injected corruption, on its column and check -------------------

TRUTH_CHECKS = {
    "non_numeric_values": "schema.unparseable",
    "out_of_range": "validity.out_of_range",
    "missing_values": "completeness.missing",
}


@pytest.mark.parametrize("reference", ["frame", "baseline"])
@pytest.mark.parametrize(("n_rows", "seed"), [(5_000, 0), (5_000, 3), (20_000, 1)])
def test_every_corruption_is_found_on_its_column_and_check(n_rows, seed, reference):
    ref, cur, truth = _scenario("corrupted_inputs", n_rows, seed)
    report = _report("corrupted_inputs", n_rows, seed, reference)
    assert {issue["issue"] for issue in truth.quality_issues} == set(TRUTH_CHECKS)
    assert report.severity == Severity.CRITICAL
    for issue in truth.quality_issues:
        finding = _one(report, issue["column"], TRUTH_CHECKS[issue["issue"]])
        assert finding.severity >= Severity.WARNING, finding
        # The corruption starts with the change: never flagged before it, and within a week
        # of it (a few rows a day at 5,000 rows: the first day may stay under min_count).
        assert CHANGE_DAY <= finding.since <= "2026-09-21", finding
        if issue["issue"] != "non_numeric_values":  # ~4% a day: may need a day to reach 5 rows
            assert finding.since == CHANGE_DAY, finding

    price = _one(report, "price_usd", "schema.unparseable")
    (unparseable,) = [i for i in truth.quality_issues if i["issue"] == "non_numeric_values"]
    assert price.count == unparseable["count"]
    assert price.rate == pytest.approx(unparseable["rate"])
    assert {"$9+.9+", "A+ 9+.9+"} <= {e for e in _formats(price.message)}

    # Ages of 150 are all outside the training range; so are current ages (true ones, 18–85)
    # beyond a reference extreme the sample happened not to reach.
    age = _one(report, "customer_age", "validity.out_of_range")
    (impossible,) = [i for i in truth.quality_issues if i["issue"] == "out_of_range"]
    ages = cur["customer_age"]
    beyond = int(((ages > ref["customer_age"].max()) | (ages < ref["customer_age"].min())).sum())
    assert age.count == beyond >= impossible["count"]
    assert beyond - impossible["count"] <= 0.002 * n_rows
    assert "150" in age.examples

    # The finding counts the rise over the reference's own missing rate (first-time
    # customers); the truth counts every missing value.
    missing = _one(report, "days_since_last_order", "completeness.missing")
    (spike,) = [i for i in truth.quality_issues if i["issue"] == "missing_values"]
    reference_rate = ref["days_since_last_order"].isna().mean()
    assert missing.rate == pytest.approx(spike["rate"] - reference_rate)
    assert abs(missing.count - (spike["count"] - reference_rate * n_rows)) <= 1
    assert report.figures["missing_rate.days_since_last_order"] == pytest.approx(spike["rate"])


def _formats(message: str) -> list[str]:
    return message.split("formats seen: ", 1)[1].rstrip(")").replace("`", "").split(", ")


@pytest.mark.parametrize("reference", ["frame", "baseline"])
@pytest.mark.parametrize(("n_rows", "seed"), [(5_000, 0), (5_000, 3), (20_000, 1)])
def test_corrupted_inputs_finds_nothing_else(n_rows, seed, reference):
    report = _report("corrupted_inputs", n_rows, seed, reference)
    injected = {
        ("price_usd", "schema.unparseable"),
        ("customer_age", "validity.out_of_range"),
        ("days_since_last_order", "completeness.missing"),
    }
    # The model's score takes the impossible ages (0.02 logit a year: +2.2 at 150) and moves
    # outside the scores it gave in training: a true consequence of the corruption.
    consequences = {("score", "validity.out_of_range")}
    assert injected <= _problems(report) <= injected | consequences
    for window, column, check in _window_problems(report):
        assert window >= CHANGE_DAY, (window, column, check)
        assert (column, check) in injected | consequences, (window, column, check)


# ---- unchanged data stays quiet ------------------------------------------------------------


@pytest.mark.parametrize("reference", ["frame", "baseline"])
@pytest.mark.parametrize("seed", range(6))
def test_no_change_is_quiet_overall_and_in_every_window(seed, reference):
    report = _report("no_change", 3_000, seed, reference)
    assert report.problems == [], report.to_frame()
    assert _window_problems(report) == []
    assert report.severity == Severity.OK
    assert report.not_judged is None


@pytest.mark.parametrize("reference", ["frame", "baseline"])
@pytest.mark.parametrize("seed", range(20))
def test_no_change_is_quiet_without_windows(seed, reference):
    report = _report("no_change", 2_000, seed, reference, by=None)
    assert report.problems == [], report.to_frame()


def test_no_change_is_quiet_at_twenty_thousand_rows():
    for reference in ("frame", "baseline"):
        report = _report("no_change", 20_000, 0, reference)
        assert report.problems == [] and _window_problems(report) == []


# What each changed scenario must show, and why it is a data-quality finding and not a false
# alarm: the change takes a column outside anything the reference held.
MUST_FIND = {
    # An early summer: temperatures above the hottest winter day the model was trained on.
    "seasonal_retail": {("temperature_c", "validity.out_of_range")},
    # A new scanner model the reference never had, whose pixel statistics leave the range.
    "imaging_equipment": {
        ("scanner_model", "categories.unseen"),
        ("noise_level", "validity.out_of_range"),
        ("sharpness", "validity.out_of_range"),
    },
    # A new broker channel: a category (and a name format, `a+_a+`) never seen.
    "credit_bias": {("channel", "categories.unseen"), ("channel", "shape.changed")},
    # A new fraud pattern moves distributions (drift), but no value is broken or new.
    "fraud_imbalance": set(),
}


@pytest.mark.parametrize("reference", ["frame", "baseline"])
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name", sorted(MUST_FIND))
def test_changed_scenarios_find_only_their_changed_columns_after_the_change(name, seed, reference):
    _, _, truth = _scenario(name, 3_000, seed)
    report = _report(name, 3_000, seed, reference)
    problems = _problems(report)
    assert MUST_FIND[name] <= problems
    # Anything else flagged is on a column the scenario changes (a score or a label the
    # change moves included), never on an unchanged column, the table, or volume.
    for column, check in problems:
        assert column in truth.drifted_columns, (column, check, report.to_frame())
    for window, column, check in _window_problems(report):
        assert window >= CHANGE_DAY and column in truth.drifted_columns, (window, column, check)


# ---- the report contract -------------------------------------------------------------------


def _frames(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)

    def frame(offset: int) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "request_id": [f"REQ-{offset + i:05d}" for i in range(n)],
                "amount": rng.normal(100, 10, n).round(2),
                "city": rng.choice(["Paris", "Lyon", "Nice"], n),
                "age": rng.integers(20, 60, n),
            }
        )

    return frame(0), frame(n)


def test_severity_is_the_worst_finding_and_the_verdict_names_the_worst_column():
    ref, cur = _frames()
    cur["amount"] = cur["amount"].astype(object)
    cur.loc[:11, "amount"] = "n/a"  # 3% of rows: a warning
    cur.loc[:59, "age"] = 999  # 15%: critical
    report = mk.QualityReport(ref, cur)
    severities = [f.severity for f in report.findings]
    assert report.severity == Severity.worst(severities) == Severity.CRITICAL
    assert list(report.findings) == sorted(report.findings, key=lambda f: -f.severity.rank)
    assert report.findings[0].column == "age"
    assert report.verdict.index("`age`") < report.verdict.index("`amount`")
    assert f"{len(report.problems)} problems in 2 of" in report.verdict

    cur.loc[:59, "age"] = 30
    warning = mk.QualityReport(ref, cur)
    assert warning.severity == Severity.WARNING and "`amount`" in warning.verdict


def test_a_clean_report_is_ok_and_says_how_many_columns_it_checked():
    ref, cur = _frames()
    report = mk.QualityReport(ref, cur)
    assert report.severity == Severity.OK and report.problems == []
    assert (
        report.verdict
        == f"no data-quality problems in {len(report.result.columns)} columns checked"
    )
    assert set(report.result.columns) == {"request_id", "amount", "city", "age"}


def test_nothing_in_common_is_not_judged_and_critical():
    ref, _ = _frames()
    report = mk.QualityReport(ref, pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"]}))
    assert report.not_judged and "no column of current" in report.not_judged
    assert report.severity == Severity.CRITICAL
    assert report.verdict.startswith("data quality could not be judged")
    assert report.result.columns == ()
    back = mk.load_report(report.to_json())
    assert back.not_judged == report.not_judged and back.severity == Severity.CRITICAL


def test_an_empty_current_is_refused_at_the_door():
    ref, cur = _frames()
    with pytest.raises(mk.errors.SchemaError, match="current has no rows"):
        mk.QualityReport(ref, cur.iloc[:0])


def test_figures_are_finite_numbers_with_every_missing_rate():
    ref, cur = _frames()
    cur.loc[:99, "city"] = None
    cur["amount"] = np.inf
    report = mk.QualityReport(ref, cur)
    figures = report.figures
    assert all(isinstance(v, (int, float)) and math.isfinite(v) for v in figures.values())
    for column in report.result.columns:
        assert figures[f"missing_rate.{column}"] == pytest.approx(cur[column].isna().mean())
    assert figures["missing_rate.city"] == 0.25
    assert figures["validity.infinite.amount"] == 1.0
    assert figures["problems"] == len(report.problems) == figures["critical"] + figures["warnings"]
    assert figures["rows"] == len(cur)
    assert figures["columns_with_problems"] == len({f.column for f in report.problems})


def test_the_report_round_trips_through_json_with_windows():
    ref, cur, _ = _scenario("corrupted_inputs", 5_000, 0)
    report = _report("corrupted_inputs", 5_000, 0, "frame")
    back = mk.load_report(report.to_json())
    assert type(back) is mk.QualityReport and back == report
    pd.testing.assert_frame_equal(back.to_frame(), report.to_frame())
    pd.testing.assert_frame_equal(back.over_time(), report.over_time())
    assert back.severity == report.severity and back.verdict == report.verdict
    assert back.figures == report.figures
    assert back.to_html() == report.to_html()
    assert str(back) == str(report)


def test_over_time_has_a_row_per_window_problem():
    report = _report("corrupted_inputs", 5_000, 0, "frame")
    frame = report.over_time()
    assert len(frame) == sum(len(w.findings) for w in report.result.windows) > 0
    assert set(frame["severity"]) <= {"warning", "critical"}
    assert frame["window"].min() >= CHANGE_DAY
    assert not isinstance(frame.columns, pd.MultiIndex)


def test_the_html_shows_problems_and_escapes_the_data():
    ref, cur = _frames()
    cur["city"] = "<script>alert(1)</script>"
    report = mk.QualityReport(ref, cur)
    html = report.to_html()
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
    assert "categories.unseen" in html
