"""The report contract: one Severity, one codec, one registry of kinds, nothing-comparable is
never green, and a page of several reports has one verdict banner."""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import monitorkit as mk
from monitorkit.errors import InputError, OutputExistsError, ReportFormatError
from monitorkit.report import Report, decode, encode, report_kinds
from monitorkit.severity import Severity

# ---- Severity ---------------------------------------------------------------------------------

WORDS = ["ok", "warning", "critical"]


@given(st.lists(st.sampled_from(WORDS), max_size=8))
def test_worst_is_the_highest_in_the_documented_order(words):
    expected = max(words, key=WORDS.index) if words else "ok"
    assert Severity.worst(words) == expected
    assert Severity.worst(*words) == expected
    assert Severity.worst(Severity(w) for w in words) == expected


@given(st.sampled_from(WORDS), st.sampled_from(WORDS))
def test_severities_compare_in_order_and_equal_their_words(a, b):
    assert (Severity(a) < b) == (WORDS.index(a) < WORDS.index(b))
    assert (Severity(a) >= Severity(b)) == (WORDS.index(a) >= WORDS.index(b))
    assert Severity(a) == a and str(Severity(a)) == a and f"{Severity(a)}" == a
    assert json.dumps(Severity(a)) == json.dumps(a)


def test_an_unknown_severity_names_the_three_words():
    with pytest.raises(InputError, match="ok, warning, critical"):
        Severity.of("red")
    with pytest.raises(InputError):
        _ = Severity.OK < "fine"


# ---- the codec ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Leaf:
    value: float | None
    flag: bool = False


@dataclass(frozen=True)
class _Tree:
    name: str
    leaves: tuple[_Leaf, ...]
    severity: Severity
    mapping: dict[str, float]
    optional: _Leaf | None = None


def test_codec_round_trips_nested_dataclasses_with_nan_numpy_and_enums():
    tree = _Tree(
        name="t",
        leaves=(_Leaf(np.float64(1.5)), _Leaf(math.nan, True), _Leaf(None)),
        severity=Severity.WARNING,
        mapping={"a": np.int64(3)},
        optional=_Leaf(2.0),
    )
    plain = json.loads(json.dumps(encode(tree), allow_nan=True))
    assert plain["severity"] == "warning" and plain["mapping"] == {"a": 3}
    back = decode(_Tree, plain)
    assert back.severity is Severity.WARNING and isinstance(back.leaves, tuple)
    assert back.leaves[0] == _Leaf(1.5) and math.isnan(back.leaves[1].value)
    assert back.optional == _Leaf(2.0) and back.leaves[2].value is None
    assert encode(math.nan, nan_as_none=True) is None


def test_codec_refuses_fields_it_does_not_know():
    with pytest.raises(TypeError, match="no field"):
        decode(_Leaf, {"value": 1.0, "colour": "red"})


# ---- every registered kind round-trips --------------------------------------------------------


def _examples() -> dict[str, object]:
    ref, cur, _ = mk.datasets.load_scenario("seasonal_retail", n_rows=1_500, seed=3)
    return {
        "drift": mk.DriftReport(ref, cur, by=3),
        "data_overview": mk.DataOverview.from_frames(ref, cur),
        "quality": mk.QualityReport(ref, cur, by=3),
        "performance": mk.PerformanceReport(cur, baseline=ref, by=3, business={"ctr": "label"}),
        "baseline": mk.Baseline.from_frame(ref, model="retail"),
        "profile": mk.profile(ref),
        "alerts": mk.alerts.evaluate(
            {"performance.recall": 0.4, "performance.recall.baseline": 0.8},
            mk.alerts.rule("recall drop", "performance.recall", change_from_baseline=True),
            model="retail",
            now=dt.datetime(2026, 11, 30, tzinfo=dt.timezone.utc),
        ),
    }


def test_every_registered_kind_has_an_example_and_round_trips():
    examples = _examples()
    # A new kind without an example here fails this test: add one.
    assert set(report_kinds()) == set(examples)
    reports = {kind for kind, item in examples.items() if isinstance(item, Report)}
    assert {"drift", "data_overview", "quality", "performance"} <= reports
    for kind, item in examples.items():
        text = item.to_json()
        loaded = mk.load_report(text)
        assert type(loaded) is type(item), kind
        assert loaded.to_dict() == json.loads(text), kind
        assert loaded == item, kind
        assert json.loads(loaded.to_json()) == json.loads(text), kind
        if isinstance(item, Report):
            assert loaded == item
            assert loaded.severity == item.severity and loaded.verdict == item.verdict
            assert loaded.figures == item.figures
            pd.testing.assert_frame_equal(loaded.to_frame(), item.to_frame())
            assert loaded.to_html() == item.to_html()


def test_report_figures_are_flat_finite_numbers():
    reports = [item for item in _examples().values() if isinstance(item, Report)]
    assert len(reports) >= 4
    for item in _examples().values():
        if isinstance(item, Report):
            assert item.figures
            for name, value in item.figures.items():
                assert isinstance(name, str) and isinstance(value, (int, float)), name
                assert math.isfinite(value), name


def test_a_newer_or_foreign_report_is_refused_clearly():
    drift = _examples()["drift"]
    data = drift.to_dict()
    data["schema_version"] = drift.schema_version + 1
    with pytest.raises(ReportFormatError, match="schema_version"):
        mk.load_report(data)
    with pytest.raises(ReportFormatError, match="unknown report kind 'quantum'"):
        mk.load_report({"kind": "quantum"})


def test_a_report_kind_registers_by_being_defined():
    @dataclass(frozen=True)
    class Result:
        value: float

    class Thermometer(Report, kind="thermometer_test"):
        result_type = Result
        severity = Severity.WARNING
        verdict = "warm"
        figures = {"value": 1.0}

        def to_frame(self):
            return pd.DataFrame([{"value": self.result.value}])

    report = Thermometer.from_result(Result(21.5))
    assert "thermometer_test" in report_kinds()
    loaded = mk.load_report(report.to_json())
    assert isinstance(loaded, Thermometer) and loaded.result == Result(21.5)
    # A kind without a renderer of its own still shows itself: its table, escaped.
    assert "21.5" in loaded.to_html() and "WARNING" in loaded.to_html()


# ---- nothing comparable is never green --------------------------------------------------------


def test_a_semicolon_file_read_as_one_column_is_critical_and_says_why(tmp_path):
    ref, cur, _ = mk.datasets.load_scenario("no_change", n_rows=600, seed=1)
    path = tmp_path / "current.csv"
    cur.to_csv(path, sep=";", index=False)
    drift = mk.DriftReport(ref, path)
    assert drift.not_judged and "no column in common" in drift.not_judged
    assert drift.severity == "critical" and "could not be judged" in drift.verdict


def test_renamed_columns_are_not_green():
    ref, cur, _ = mk.datasets.load_scenario("no_change", n_rows=600, seed=1)
    renamed = cur.rename(columns={c: c.upper() for c in cur.columns})
    drift = mk.DriftReport(ref, renamed)
    assert drift.severity == "critical" and drift.not_judged


def test_only_untestable_columns_is_not_green():
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(50)], "const": [1.0] * 50})
    drift = mk.DriftReport(frame, frame, spec=mk.ColumnSpec(id="id"))
    assert drift.severity == "critical"
    assert "none of the 2 columns could be tested" in drift.not_judged


def test_a_comparable_report_is_judged():
    ref, cur, _ = mk.datasets.load_scenario("no_change", n_rows=600, seed=1)
    assert mk.DriftReport(ref, cur).not_judged is None


# ---- one page, one banner --------------------------------------------------------------------


def test_a_page_of_several_reports_has_one_banner_and_a_section_each():
    examples = _examples()
    drift, overview = examples["drift"], examples["data_overview"]
    page = mk.display.report_page(drift, overview)
    assert page.count('class="mk-banner"') == 1
    assert page.count('class="mk-section"') == 2
    banner_end = page.index("</div>", page.index('class="mk-banner"'))
    assert drift.severity.upper() in page[:banner_end]
    assert page.index("Drift") < page.index("Data overview")
    section = drift.section()._repr_mimebundle_()["text/html"]
    assert 'class="mk-banner"' not in section and 'class="mk-section"' in section


def test_save_html_keeps_an_existing_file_unless_asked(tmp_path):
    drift = _examples()["drift"]
    path = drift.save_html(tmp_path / "drift.html")
    before = path.read_text()
    with pytest.raises(OutputExistsError, match=str(path)):
        drift.save_html(path)
    assert path.read_text() == before
    drift.with_rule(min_effect=0.5).save_html(path, overwrite=True)
    assert path.read_text() != before


def test_asking_a_report_for_a_missing_column_suggests_the_close_one():
    drift = _examples()["drift"]
    with pytest.raises(KeyError) as caught:
        drift["temperatur_c"]
    assert isinstance(caught.value, mk.errors.ColumnSpecError)
    assert "'temperature_c'" in str(caught.value).split("it has:")[1].split(",")[0]
